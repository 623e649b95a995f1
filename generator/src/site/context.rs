//! What templates see: `site`, `page`, `services` and `json_ld`, built as JSON values
//! in the shape `themes/README.md` documents.

use serde::Serialize;
use serde_json::{json, Value};
use site_config::{FormKind, SiteConfig, WEEKDAYS};
use tera::Context;

use crate::content::{Page, PageKind};
use crate::output::json_ld;

pub(super) fn page_context(
    site: &Value,
    mut page: Value,
    url: &str,
    json_ld: Vec<Value>,
    services: Option<Value>,
) -> Context {
    let mut site = site.clone();
    if let Some(menu) = site.get_mut("menu").and_then(Value::as_array_mut) {
        for item in menu {
            let active = match item.get("url").and_then(Value::as_str) {
                Some("/") => url == "/",
                Some(u) => url.starts_with(u),
                None => false,
            };
            item["active"] = Value::Bool(active);
        }
    }
    if let Some(obj) = page.as_object_mut() {
        obj.entry("permalink").or_insert(Value::Null);
    }
    // One `<script>` per node: validators do not all read an `@graph` wrapper.
    let scripts: Vec<Value> = json_ld
        .iter()
        .map(|node| Value::String(json_ld::to_script_text(node)))
        .collect();
    // The values move in: `Context::insert` would serialize each into a copy, which
    // cost a build of 10,000 pages a sixth of its time (issue 17).
    let mut vars = serde_json::Map::new();
    vars.insert("site".into(), site);
    vars.insert("page".into(), page);
    vars.insert("json_ld".into(), Value::Array(scripts));
    if let Some(s) = services {
        vars.insert("services".into(), s);
    }
    Context::from_value(Value::Object(vars)).unwrap_or_default()
}

#[derive(Serialize)]
struct PageCtx<'a> {
    kind: PageKind,
    title: &'a str,
    summary: &'a str,
    url: &'a str,
    permalink: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    content: Option<&'a str>,
    slug: &'a str,
    template: &'a str,
    form: Option<&'a str>,
    image: Option<&'a str>,
    image_alt: Option<&'a str>,
    extra: &'a crate::content::Extra,
    #[serde(flatten)]
    service: Option<&'a crate::content::ServiceFacts>,
}

/// A page as templates see it; services without `content` when listed.
pub(super) fn page_value(p: &Page, config: &SiteConfig, with_content: bool) -> Value {
    serde_json::to_value(PageCtx {
        kind: p.kind,
        title: &p.title,
        summary: &p.summary,
        url: &p.url,
        permalink: format!("{}{}", config.base_url, p.url),
        content: with_content.then_some(p.content.as_str()),
        slug: &p.slug,
        template: &p.template,
        form: p.form.as_deref(),
        image: p.image.as_deref(),
        image_alt: p.image_alt.as_deref(),
        extra: &p.extra,
        service: p.service.as_ref(),
    })
    .unwrap_or(Value::Null)
}

pub(super) fn site_value(config: &SiteConfig) -> Value {
    let b = &config.business;
    json!({
        "title": config.title,
        "description": config.description,
        "base_url": config.base_url.as_str(),
        "language": config.language,
        "currency": config.currency.as_str(),
        "timezone": config.timezone,
        "logo": config.logo,
        "menu": config.menu.iter().map(|m| json!({"title": m.title, "url": m.url, "active": false})).collect::<Vec<_>>(),
        "business": {
            "name": b.name,
            "schema_type": b.schema_type.as_str(),
            "email": b.email,
            "phone": b.phone,
            "phone_international": b.phone_international,
            "address": {
                "street": b.address.street,
                "locality": b.address.locality,
                "region": b.address.region,
                "postal_code": b.address.postal_code,
                "country": b.address.country,
            },
            "opening_hours": b.opening_hours.iter().map(|h| {
                let days: Vec<&str> = h.days.iter().map(|d| d.as_str()).collect();
                json!({"days": days, "days_label": days_label(&days), "opens": h.opens.as_str(), "closes": h.closes.as_str()})
            }).collect::<Vec<_>>(),
            "privacy_url": b.privacy_url,
        },
        "forms": config.forms.keys().collect::<Vec<_>>(),
        "form_titles": config.forms.iter().map(|(name, f)| (name.as_str(), f.title.as_str())).collect::<std::collections::BTreeMap<_, _>>(),
        "comment_form": config.forms.iter().find(|(_, f)| f.kind == FormKind::Comment).map(|(name, _)| name),
        "loyalty": config.loyalty,
        // Members sign in on the form service, which serves their page.
        "members_url": config.form_action("x").trim_end_matches("/forms/x").to_string() + "/members/",
        "extra": config.extra,
    })
}

/// `[Monday..Friday]` -> "Monday to Friday"; scattered days are listed.
fn days_label(days: &[&str]) -> String {
    let idx: Vec<usize> = days
        .iter()
        .filter_map(|d| WEEKDAYS.iter().position(|w| w == d))
        .collect();
    let consecutive = idx.windows(2).all(|w| w[1] == w[0] + 1);
    match days {
        [] => String::new(),
        [one] => one.to_string(),
        [first, .., last] if consecutive && days.len() > 2 => format!("{first} to {last}"),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_labels() {
        assert_eq!(
            days_label(&["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]),
            "Monday to Friday"
        );
        assert_eq!(days_label(&["Saturday"]), "Saturday");
        assert_eq!(days_label(&["Saturday", "Sunday"]), "Saturday and Sunday");
        assert_eq!(
            days_label(&["Monday", "Wednesday", "Friday"]),
            "Monday, Wednesday and Friday"
        );
    }
}
