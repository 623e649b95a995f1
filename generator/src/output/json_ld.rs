//! schema.org JSON-LD: the business on the home page, each service with its offer
//! (and its duration as a property of the offer), a service's FAQs as an FAQPage, and
//! its breadcrumbs as a BreadcrumbList.
//!
//! Built as `serde_json` values, never by string templates, so the JSON is always
//! valid; only types and properties schema.org defines are used.

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

/// JSON-LD for a page: one self-contained node per `<script>` (each with its own
/// `@context`), because common validators do not read an `@graph` wrapper. `image` is
/// the absolute URL of the page's processed photo.
pub fn for_page(page: &Page, config: &SiteConfig, image: Option<&str>) -> Vec<Value> {
    let base = config.base_url.as_str();
    let permalink = format!("{base}{}", page.url);
    match page.kind {
        crate::content::PageKind::Home => vec![with_context(business(config))],
        crate::content::PageKind::Service => {
            let Some(s) = page.service.as_ref() else {
                return Vec::new();
            };
            let mut service = json!({
                "@type": "Service",
                "@id": format!("{permalink}#service"),
                "name": page.title,
                "description": page.summary,
                "url": permalink,
                // The full business is on the home page; repeating it here would cost
                // a service page about a kilobyte of its 30 KB budget.
                "provider": {
                    "@type": config.business.schema_type.as_str(),
                    "@id": format!("{base}/#business"),
                    "name": config.business.name,
                    "url": format!("{base}/"),
                },
                "offers": offer(s, &permalink),
            });
            let image = image
                .map(str::to_string)
                .or_else(|| page.image.as_ref().map(|i| format!("{base}{i}")));
            if let (Some(img), Some(obj)) = (image, service.as_object_mut()) {
                obj.insert("image".into(), img.into());
            }
            let mut nodes = vec![with_context(service)];
            if !s.faqs.is_empty() {
                nodes.push(with_context(json!({
                    "@type": "FAQPage",
                    "@id": format!("{permalink}#faqs"),
                    "url": permalink,
                    "mainEntity": s.faqs.iter().map(|f| json!({
                        "@type": "Question",
                        "name": f.question,
                        "acceptedAnswer": {"@type": "Answer", "text": f.answer.trim()},
                    })).collect::<Vec<_>>(),
                })));
            }
            // The trail the service page shows above its title.
            nodes.push(with_context(json!({
                "@type": "BreadcrumbList",
                "itemListElement": [
                    {"@type": "ListItem", "position": 1, "name": "Home", "item": format!("{base}/")},
                    {"@type": "ListItem", "position": 2, "name": "Services", "item": format!("{base}/services/")},
                    {"@type": "ListItem", "position": 3, "name": page.title, "item": permalink},
                ],
            })));
            nodes
        }
        _ => Vec::new(),
    }
}

/// The service's offer: a fixed price, a minimum price for "from", and no price at all
/// when it is quoted at the consultation (a price of 0 would claim the treatment is free).
fn offer(s: &crate::content::ServiceFacts, permalink: &str) -> Value {
    let mut offer = Map::new();
    offer.insert("@type".into(), "Offer".into());
    offer.insert("url".into(), permalink.into());
    match (s.price.amount, s.price.from) {
        (Some(a), false) => {
            offer.insert("price".into(), a.decimal().into());
            offer.insert("priceCurrency".into(), s.price.currency.clone().into());
        }
        (Some(a), true) => {
            offer.insert(
                "priceSpecification".into(),
                json!({
                    "@type": "PriceSpecification",
                    "minPrice": a.decimal(),
                    "priceCurrency": s.price.currency,
                }),
            );
        }
        (None, _) => {
            offer.insert("description".into(), s.price.text().into());
        }
    }
    offer.insert(
        "additionalProperty".into(),
        json!({
            "@type": "PropertyValue",
            "name": "Duration",
            "propertyID": "https://schema.org/duration",
            "value": s.duration.iso8601(),
        }),
    );
    Value::Object(offer)
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
pub fn to_script_text(v: &Value) -> String {
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
