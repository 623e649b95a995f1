//! What templates see: `site`, `page`, `services` and `json_ld`, built as JSON values
//! in the shape `themes/README.md` documents.

use std::sync::Mutex;

use serde::Serialize;
use serde_json::{json, Value};
use site_config::{FormKind, SiteConfig, WEEKDAYS};
use tera::Context;

use crate::content::cache::Listed;
use crate::content::{Duration, Faq, Page, PageKind, Price, Sessions};

/// Tera contexts holding `site` as pages see it, kept from one page to the next: `site`
/// differs between pages only in which menu item is active, and copying it into each
/// page's context cost a build of 10,000 pages about 3% of its time (issue 17).
pub(super) struct Contexts {
    site: Value,
    /// Contexts not in use, each with the menu items it shows active.
    idle: Mutex<Vec<(Vec<bool>, Context)>>,
}

impl Contexts {
    pub(super) fn new(site: Value) -> Contexts {
        Contexts {
            site,
            idle: Mutex::new(Vec::new()),
        }
    }

    /// Calls `render` with a context of `site` as the page at `url` sees it, with
    /// `page`, `json_ld` and, for a listing, `services`; gives `services` back. Nothing
    /// of the page stays in the context afterwards.
    pub(super) fn render<R>(
        &self,
        url: &str,
        mut page: Value,
        json_ld: Vec<String>,
        services: Option<Value>,
        render: impl FnOnce(&Context) -> R,
    ) -> (R, Option<Value>) {
        let active = self.active_items(url);
        let mut ctx = self.take(&active);
        if let Some(obj) = page.as_object_mut() {
            obj.entry("permalink").or_insert(Value::Null);
        }
        // One `<script>` per node: validators do not all read an `@graph` wrapper.
        let scripts: Vec<Value> = json_ld.into_iter().map(Value::String).collect();
        // The values move in: `Context::insert` would serialize each into a copy.
        let mut vars = serde_json::Map::new();
        vars.insert("page".into(), page);
        vars.insert("json_ld".into(), Value::Array(scripts));
        if let Some(s) = services {
            vars.insert("services".into(), s);
        }
        ctx.extend(Context::from_value(Value::Object(vars)).unwrap_or_default());
        let rendered = render(&ctx);
        ctx.remove("page");
        ctx.remove("json_ld");
        let services = ctx.remove("services");
        self.give_back(active, ctx);
        (rendered, services)
    }

    /// An idle context with these menu items active, or a new one.
    fn take(&self, active: &[bool]) -> Context {
        let idle = {
            let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
            let at = idle.iter().position(|(a, _)| a == active);
            at.map(|i| idle.swap_remove(i).1)
        };
        idle.unwrap_or_else(|| self.context(active))
    }

    /// Keeps `ctx`, emptied of the page it rendered, for the next page.
    fn give_back(&self, active: Vec<bool>, ctx: Context) {
        self.idle
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((active, ctx));
    }

    /// Which of the menu's items the page at `url` is in.
    fn active_items(&self, url: &str) -> Vec<bool> {
        let menu = self.site.get("menu").and_then(Value::as_array);
        menu.into_iter()
            .flatten()
            .map(|item| match item.get("url").and_then(Value::as_str) {
                Some("/") => url == "/",
                Some(u) => url.starts_with(u),
                None => false,
            })
            .collect()
    }

    /// A context holding only `site`, with these menu items active.
    fn context(&self, active: &[bool]) -> Context {
        let mut site = self.site.clone();
        if let Some(menu) = site.get_mut("menu").and_then(Value::as_array_mut) {
            for (item, &on) in menu.iter_mut().zip(active) {
                item["active"] = Value::Bool(on);
            }
        }
        let mut vars = serde_json::Map::new();
        vars.insert("site".into(), site);
        Context::from_value(Value::Object(vars)).unwrap_or_default()
    }
}

#[derive(Serialize)]
struct PageCtx<'a> {
    kind: PageKind,
    title: &'a str,
    summary: &'a str,
    url: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    permalink: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    content: Option<&'a str>,
    slug: &'a str,
    template: &'a str,
    form: Option<&'a str>,
    image: Option<&'a str>,
    image_alt: Option<&'a str>,
    extra: &'a crate::content::Extra,
    #[serde(flatten)]
    service: Option<FactsCtx<'a>>,
}

/// A service's facts as templates see them; `faqs` only on the service's own page.
#[derive(Serialize)]
struct FactsCtx<'a> {
    duration: &'a Duration,
    price: &'a Price,
    sessions: Option<&'a Sessions>,
    #[serde(skip_serializing_if = "Option::is_none")]
    faqs: Option<&'a [Faq]>,
}

/// Which value of a page: the one its own template sees, or the one listings show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Shape {
    /// With its `content` and a service's `faqs`.
    Own,
    /// Without them: they are the bulk of a service's text, a card shows neither, and
    /// an edit to them then renders that page alone instead of every listing of all the
    /// services (issue 17).
    Listed,
}

impl<'a> PageCtx<'a> {
    fn of(p: &'a Page, permalink: Option<String>, shape: Shape) -> PageCtx<'a> {
        let own = shape == Shape::Own;
        PageCtx {
            kind: p.kind,
            title: &p.title,
            summary: &p.summary,
            url: &p.url,
            permalink,
            content: own.then_some(p.content.as_str()),
            slug: &p.slug,
            template: &p.template,
            form: p.form.as_deref(),
            image: p.image.as_deref(),
            image_alt: p.image_alt.as_deref(),
            extra: &p.extra,
            service: p.service.as_ref().map(|s| FactsCtx {
                duration: &s.duration,
                price: &s.price,
                sessions: s.sessions.as_ref(),
                faqs: own.then_some(s.faqs.as_slice()),
            }),
        }
    }
}

/// A page as templates see it, in `shape`.
pub(super) fn page_value(p: &Page, config: &SiteConfig, shape: Shape) -> Value {
    let permalink = format!("{}{}", config.base_url, p.url);
    serde_json::to_value(PageCtx::of(p, Some(permalink), shape)).unwrap_or(Value::Null)
}

/// How listings show a service, as JSON text: [`page_value`] in [`Shape::Listed`], without
/// `permalink` (which depends on the address the site is published at, not on the
/// page). What the content cache keeps and what decides whether listings render again.
/// Written straight from the page, with no value in between (it is made for every
/// service in every build); read back, it is that value less its permalink.
pub(super) fn listed(p: &Page) -> Listed {
    Listed::new(
        serde_json::to_string(&PageCtx::of(p, None, Shape::Listed))
            .unwrap_or_else(|_| "null".into()),
    )
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
        "members_url": config.members_url(),
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
    fn a_reused_context_shows_each_pages_menu_and_nothing_of_the_page_before() {
        let site = json!({"title": "C", "menu": [
            {"title": "Services", "url": "/services/", "active": false},
            {"title": "About", "url": "/about/", "active": false},
        ]});
        let contexts = Contexts::new(site);
        let seen = |ctx: &Context| ctx.clone().into_json();
        let (first, back) = contexts.render(
            "/services/a/",
            json!({"title": "A"}),
            Vec::new(),
            Some(json!(["a service"])),
            seen,
        );
        assert_eq!(back, Some(json!(["a service"])), "the services come back");
        assert_eq!(first["site"]["menu"][0]["active"], true);
        assert_eq!(first["site"]["menu"][1]["active"], false);
        assert_eq!(first["page"]["permalink"], Value::Null);
        assert_eq!(first["services"], json!(["a service"]));
        let (second, back) = contexts.render(
            "/services/b/",
            json!({"title": "B"}),
            Vec::new(),
            None,
            seen,
        );
        assert_eq!(back, None);
        assert_eq!(second["page"]["title"], "B");
        assert!(second.get("services").is_none(), "{second}");
        let (third, _) =
            contexts.render("/about/", json!({"title": "About"}), Vec::new(), None, seen);
        assert_eq!(third["site"]["menu"][0]["active"], false);
        assert_eq!(third["site"]["menu"][1]["active"], true);
        assert_eq!(third["site"]["title"], "C");
        let idle = contexts.idle.lock().unwrap();
        assert_eq!(idle.len(), 2, "one context for each menu state");
        assert!(idle.iter().all(|(_, c)| !c.contains_key("page")));
    }

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
