//! schema.org JSON-LD: the business on the home page, each service with its offer
//! (and its duration as a property of the offer), a service's FAQs as an FAQPage, and
//! its breadcrumbs as a BreadcrumbList.
//!
//! Written by serde (typed structs, or `serde_json` values for the business), never by
//! string templates, so the JSON is always valid; only types and properties schema.org
//! defines are used.

use serde::Serialize;
use serde_json::{json, Map, Value};
use site_config::SiteConfig;

use crate::content::Page;

/// The clinic as a schema.org business, with a stable `@id` other nodes refer to.
pub fn business(config: &SiteConfig) -> Value {
    let b = &config.business;
    let base = config.base_url.as_str();
    let mut address = Map::new();
    address.insert("@type".into(), "PostalAddress".into());
    address.insert("streetAddress".into(), b.address.street.clone().into());
    address.insert("addressLocality".into(), b.address.locality.clone().into());
    if let Some(r) = &b.address.region {
        address.insert("addressRegion".into(), r.clone().into());
    }
    address.insert("postalCode".into(), b.address.postal_code.clone().into());
    address.insert("addressCountry".into(), b.address.country.clone().into());
    let hours: Vec<Value> = b
        .opening_hours
        .iter()
        .map(|h| {
            json!({
                "@type": "OpeningHoursSpecification",
                "dayOfWeek": h.days.iter().map(|d| d.as_str()).collect::<Vec<_>>(),
                "opens": h.opens.as_str(),
                "closes": h.closes.as_str(),
            })
        })
        .collect();
    let mut v = json!({
        "@type": b.schema_type.as_str(),
        "@id": format!("{base}/#business"),
        "name": b.name,
        "description": config.description,
        "url": format!("{base}/"),
        "email": b.email,
        "telephone": b.phone_international.as_deref().unwrap_or(&b.phone),
        "address": Value::Object(address),
        "openingHoursSpecification": hours,
    });
    if let (Some(logo), Some(obj)) = (&config.logo, v.as_object_mut()) {
        obj.insert("logo".into(), format!("{base}{logo}").into());
    }
    v
}

/// JSON-LD for a page, as the text of each `<script>` ([`to_script_text`]): one
/// self-contained node per script (each with its own `@context`), because common
/// validators do not read an `@graph` wrapper. `image` is the absolute URL of the
/// page's processed photo.
///
/// A service's nodes are typed structs written straight to text (every service page
/// has three; building them as values first cost ~3% of a build of 10,000 pages),
/// their fields declared in the order of their names, the order values are written in.
pub fn for_page(page: &Page, config: &SiteConfig, image: Option<&str>) -> Vec<String> {
    let base = config.base_url.as_str();
    let permalink = format!("{base}{}", page.url);
    match page.kind {
        crate::content::PageKind::Home => {
            vec![to_script_text(&with_context(business(config)))]
        }
        crate::content::PageKind::Service => {
            let Some(s) = page.service.as_ref() else {
                return Vec::new();
            };
            let business_id = format!("{base}/#business");
            let home = format!("{base}/");
            let service = ServiceNode {
                context: SCHEMA_ORG,
                id: format!("{permalink}#service"),
                kind: "Service",
                description: &page.summary,
                image: image
                    .map(str::to_string)
                    .or_else(|| page.image.as_ref().map(|i| format!("{base}{i}"))),
                name: &page.title,
                offers: offer(s, &permalink),
                // The full business is on the home page; repeating it here would cost
                // a service page about a kilobyte of its 30 KB budget.
                provider: Provider {
                    id: &business_id,
                    kind: config.business.schema_type.as_str(),
                    name: &config.business.name,
                    url: &home,
                },
                url: &permalink,
            };
            let mut scripts = vec![to_script_text(&service)];
            if !s.faqs.is_empty() {
                scripts.push(to_script_text(&FaqPage {
                    context: SCHEMA_ORG,
                    id: format!("{permalink}#faqs"),
                    kind: "FAQPage",
                    main_entity: s
                        .faqs
                        .iter()
                        .map(|f| Question {
                            kind: "Question",
                            accepted_answer: Answer {
                                kind: "Answer",
                                text: f.answer.trim(),
                            },
                            name: &f.question,
                        })
                        .collect(),
                    url: &permalink,
                }));
            }
            // The trail the service page shows above its title.
            let services = format!("{base}/services/");
            let item = |position, name, item| ListItem {
                kind: "ListItem",
                item,
                name,
                position,
            };
            scripts.push(to_script_text(&BreadcrumbList {
                context: SCHEMA_ORG,
                kind: "BreadcrumbList",
                items: [
                    item(1, "Home", &home),
                    item(2, "Services", &services),
                    item(3, &page.title, &permalink),
                ],
            }));
            scripts
        }
        _ => Vec::new(),
    }
}

const SCHEMA_ORG: &str = "https://schema.org";

#[derive(Serialize)]
struct ServiceNode<'a> {
    #[serde(rename = "@context")]
    context: &'static str,
    #[serde(rename = "@id")]
    id: String,
    #[serde(rename = "@type")]
    kind: &'static str,
    description: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    image: Option<String>,
    name: &'a str,
    offers: Offer<'a>,
    provider: Provider<'a>,
    url: &'a str,
}

#[derive(Serialize)]
struct Provider<'a> {
    #[serde(rename = "@id")]
    id: &'a str,
    #[serde(rename = "@type")]
    kind: &'a str,
    name: &'a str,
    url: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Offer<'a> {
    #[serde(rename = "@type")]
    kind: &'static str,
    additional_property: PropertyValue,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    price: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    price_currency: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    price_specification: Option<PriceSpecification<'a>>,
    url: &'a str,
}

#[derive(Serialize)]
struct PropertyValue {
    #[serde(rename = "@type")]
    kind: &'static str,
    name: &'static str,
    #[serde(rename = "propertyID")]
    property_id: &'static str,
    value: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PriceSpecification<'a> {
    #[serde(rename = "@type")]
    kind: &'static str,
    min_price: String,
    price_currency: &'a str,
}

#[derive(Serialize)]
struct FaqPage<'a> {
    #[serde(rename = "@context")]
    context: &'static str,
    #[serde(rename = "@id")]
    id: String,
    #[serde(rename = "@type")]
    kind: &'static str,
    #[serde(rename = "mainEntity")]
    main_entity: Vec<Question<'a>>,
    url: &'a str,
}

#[derive(Serialize)]
struct Question<'a> {
    #[serde(rename = "@type")]
    kind: &'static str,
    #[serde(rename = "acceptedAnswer")]
    accepted_answer: Answer<'a>,
    name: &'a str,
}

#[derive(Serialize)]
struct Answer<'a> {
    #[serde(rename = "@type")]
    kind: &'static str,
    text: &'a str,
}

#[derive(Serialize)]
struct BreadcrumbList<'a> {
    #[serde(rename = "@context")]
    context: &'static str,
    #[serde(rename = "@type")]
    kind: &'static str,
    #[serde(rename = "itemListElement")]
    items: [ListItem<'a>; 3],
}

#[derive(Serialize)]
struct ListItem<'a> {
    #[serde(rename = "@type")]
    kind: &'static str,
    item: &'a str,
    name: &'a str,
    position: u32,
}

/// The service's offer: a fixed price, a minimum price for "from", and no price at all
/// when it is quoted at the consultation (a price of 0 would claim the treatment is free).
fn offer<'a>(s: &'a crate::content::ServiceFacts, permalink: &'a str) -> Offer<'a> {
    let mut offer = Offer {
        kind: "Offer",
        additional_property: PropertyValue {
            kind: "PropertyValue",
            name: "Duration",
            property_id: "https://schema.org/duration",
            value: s.duration.iso8601(),
        },
        description: None,
        price: None,
        price_currency: None,
        price_specification: None,
        url: permalink,
    };
    match (s.price.amount, s.price.from) {
        (Some(a), false) => {
            offer.price = Some(a.decimal());
            offer.price_currency = Some(&s.price.currency);
        }
        (Some(a), true) => {
            offer.price_specification = Some(PriceSpecification {
                kind: "PriceSpecification",
                min_price: a.decimal(),
                price_currency: &s.price.currency,
            });
        }
        (None, _) => offer.description = Some(s.price.text()),
    }
    offer
}

fn with_context(mut v: Value) -> Value {
    if let Some(obj) = v.as_object_mut() {
        let mut out = Map::new();
        out.insert("@context".into(), "https://schema.org".into());
        out.extend(std::mem::take(obj));
        return Value::Object(out);
    }
    v
}

/// JSON text safe inside `<script type="application/ld+json">`: a `</script>` in any
/// string must not end the element, so `<` is written as its JSON escape.
pub fn to_script_text(v: &impl Serialize) -> String {
    let mut out = ScriptText(Vec::with_capacity(2048));
    // Writing into memory cannot fail, and a JSON value always serializes.
    let _ = serde_json::to_writer(&mut out, v);
    String::from_utf8(out.0).unwrap_or_default()
}

/// JSON as written, each `<` as its escape on the way: a `<` only occurs inside
/// strings, and escaping it while writing spares a second pass over every page's
/// JSON-LD (its FAQ answers are HTML).
struct ScriptText(Vec<u8>);

impl std::io::Write for ScriptText {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut rest = buf;
        while let Some(i) = memchr::memchr(b'<', rest) {
            self.0.extend_from_slice(&rest[..i]);
            self.0.extend_from_slice(b"\\u003c");
            rest = &rest[i + 1..];
        }
        self.0.extend_from_slice(rest);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_text_cannot_close_the_element() {
        let v = json!({"text": "</script><script>alert(1)</script>", "<key>": ["a<b", "<"]});
        let s = to_script_text(&v);
        assert!(!s.contains('<'), "{s}");
        assert!(s.contains(r"\u003c/script>"), "{s}");
        let back: Value = serde_json::from_str(&s).unwrap();
        assert_eq!(back, v);
    }
}
