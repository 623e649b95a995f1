//! One build of the whole site, in memory: config, content and templates in, an
//! [`Output`] map out. Writing it to disk or serving it is someone else's job.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;
use serde::Serialize;
use serde_json::{json, Value};
use site_config::{Diagnostic, Diagnostics, ServiceRef, SiteConfig};
use tera::Context;

use crate::content::{load_content, Content, Page, PageKind};
use crate::output::{self, json_ld, Output, OutputFile};
use crate::templates::Templates;
use crate::Error;

/// What a build needs to know beyond the site itself.
#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    /// The site root (holds `site.yaml`).
    pub root: PathBuf,
    /// Include pages marked `draft: true`.
    pub drafts: bool,
    /// Replaces `base_url` from `site.yaml` (for previews and staging).
    pub base_url: Option<String>,
}

/// A finished build.
pub struct Site {
    /// The configuration it was built with.
    pub config: Arc<SiteConfig>,
    /// The pages and assets it was built from.
    pub content: Content,
    /// Every output file.
    pub output: Output,
}

/// Builds the site in memory. Every problem found in config, content and templates
/// is returned together.
pub fn build(opts: &BuildOptions) -> Result<Site, Error> {
    let root = &opts.root;
    let mut config = SiteConfig::load(root)?;
    if let Some(url) = &opts.base_url {
        config.base_url = url.clone().try_into().map_err(Error::Usage)?;
    }
    let config = Arc::new(config);
    let templates = Templates::load(root, &config.theme);
    let content = load_content(root, &config, opts.drafts);
    let (mut templates, content) = match (templates, content) {
        (Ok(t), Ok(c)) => (t, c),
        (t, c) => {
            let mut all = Diagnostics::default();
            for d in t.err().into_iter().chain(c.err()).flatten() {
                all.push(d);
            }
            return Err(Error::Site(all));
        }
    };

    let mut out = Output::new();
    let assets = output::collect_static(root, &config.theme, &mut out)?;
    let services: Vec<ServiceRef> = content
        .services()
        .map(|p| ServiceRef {
            slug: p.slug.clone(),
            title: p.title.clone(),
            order: p.order,
        })
        .collect();
    templates.register_functions(config.clone(), assets, Arc::new(services));

    let mut problems = Diagnostics::default();
    for p in &content.pages {
        if !templates.has(&p.template) {
            problems.push(Diagnostic::new(
                &p.source,
                format!(
                    "template `{}` does not exist in the theme or the site's templates/",
                    p.template
                ),
            ));
        }
    }
    if !templates.has("404.html") {
        problems.push(Diagnostic::new(
            format!("themes/{}/templates/404.html", config.theme),
            "the theme has no 404.html template",
        ));
    }
    if !problems.is_empty() {
        return Err(Error::Site(problems));
    }

    let site_value = site_value(&config);
    let services_value = Value::Array(
        content
            .services()
            .map(|p| page_value(p, &config, false))
            .collect(),
    );
    let rendered: Vec<Result<(String, Vec<u8>), Diagnostic>> = content
        .pages
        .par_iter()
        .map(|page| {
            let listing = matches!(page.kind, PageKind::Home | PageKind::Services);
            let ctx = page_context(
                &site_value,
                page_value(page, &config, true),
                &page.url,
                json_ld::for_page(page, &config),
                listing.then_some(&services_value),
            );
            let html = templates.render(&page.template, &ctx, &page.source)?;
            Ok((output_path(&page.url), html.into_bytes()))
        })
        .collect();
    for r in rendered {
        match r {
            Ok((path, bytes)) => {
                out.insert(path, OutputFile::Bytes(bytes));
            }
            Err(d) => problems.push(d),
        }
    }
    let not_found = json!({
        "kind": "404", "title": "Page not found", "summary": "", "url": "/404.html",
        "permalink": format!("{}/404.html", config.base_url), "content": "", "slug": "404",
        "template": "404.html", "form": null, "image": null, "image_alt": null, "extra": {},
    });
    let ctx = page_context(
        &site_value,
        not_found,
        "/404.html",
        None,
        Some(&services_value),
    );
    match templates.render("404.html", &ctx, Path::new("404.html")) {
        Ok(html) => {
            out.insert("404.html".into(), OutputFile::Bytes(html.into_bytes()));
        }
        Err(d) => problems.push(d),
    }
    if !problems.is_empty() {
        problems.sort();
        return Err(Error::Site(problems));
    }

    for (src, url) in &content.assets {
        out.insert(
            url.trim_start_matches('/').to_string(),
            OutputFile::Copy(src.clone()),
        );
    }
    let mut aliases = Vec::new();
    for page in &content.pages {
        for alias in &page.aliases {
            let key = crate::content::normalise_alias(alias);
            out.insert(
                output_path(&key),
                OutputFile::Bytes(output::alias_page(&config, &page.url).into_bytes()),
            );
            aliases.push((alias.clone(), page.url.clone()));
        }
    }
    let urls: Vec<&str> = content.pages.iter().map(|p| p.url.as_str()).collect();
    out.insert(
        "_redirects".into(),
        OutputFile::Bytes(output::redirects_file(&aliases).into_bytes()),
    );
    out.insert(
        "_headers".into(),
        OutputFile::Bytes(output::headers_file(&config, &urls).into_bytes()),
    );
    out.insert(
        "sitemap.xml".into(),
        OutputFile::Bytes(output::sitemap_xml(&config, &urls).into_bytes()),
    );
    out.insert(
        "robots.txt".into(),
        OutputFile::Bytes(output::robots_txt(&config).into_bytes()),
    );
    Ok(Site {
        config,
        content,
        output: out,
    })
}

/// `/services/smp/` -> `services/smp/index.html`; a path with a file name stays as it is.
pub fn output_path(url: &str) -> String {
    let trimmed = url.trim_start_matches('/');
    if trimmed.is_empty() {
        "index.html".into()
    } else if trimmed.ends_with('/') {
        format!("{trimmed}index.html")
    } else {
        trimmed.to_string()
    }
}

fn page_context(
    site: &Value,
    mut page: Value,
    url: &str,
    json_ld: Option<Value>,
    services: Option<&Value>,
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
    let mut ctx = Context::new();
    ctx.insert("site", &site);
    ctx.insert("page", &page);
    ctx.insert(
        "json_ld",
        &json_ld
            .map(|v| json_ld::to_script_text(&v))
            .unwrap_or_default(),
    );
    if let Some(s) = services {
        ctx.insert("services", s);
    }
    ctx
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
fn page_value(p: &Page, config: &SiteConfig, with_content: bool) -> Value {
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

fn site_value(config: &SiteConfig) -> Value {
    let b = &config.business;
    json!({
        "title": config.title,
        "description": config.description,
        "base_url": config.base_url.as_str(),
        "language": config.language,
        "currency": config.currency.as_str(),
        "timezone": config.timezone,
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
        "extra": config.extra,
    })
}

const WEEK: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// `[Monday..Friday]` -> "Monday to Friday"; scattered days are listed.
fn days_label(days: &[&str]) -> String {
    let idx: Vec<usize> = days
        .iter()
        .filter_map(|d| WEEK.iter().position(|w| w == d))
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

    #[test]
    fn output_paths() {
        assert_eq!(output_path("/"), "index.html");
        assert_eq!(output_path("/services/smp/"), "services/smp/index.html");
        assert_eq!(output_path("/404.html"), "404.html");
    }
}
