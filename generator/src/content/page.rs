//! One page: its front matter checked and turned into the values templates use.

use std::path::{Path, PathBuf};

use serde::Serialize;
use site_config::{from_yaml_located, slugify, Diagnostic, SiteConfig};

use super::front_matter::{Extra, GalleryItem, PageFront, ServiceFront, Sessions};
use super::paths::{resolve_site_path, url_for};
use super::price::PriceField;
use super::{Duration, Price};
use crate::markdown::LinkRef;

/// What kind of page a file is, by where it sits in `content/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PageKind {
    /// `content/_index.md`.
    Home,
    /// `content/services/_index.md`.
    Services,
    /// `content/services/*.md`.
    Service,
    /// Any other Markdown file.
    Page,
}

impl PageKind {
    /// The template used unless the page names another.
    pub fn default_template(self) -> &'static str {
        match self {
            PageKind::Home => "home.html",
            PageKind::Services => "services.html",
            PageKind::Service => "service.html",
            PageKind::Page => "page.html",
        }
    }
}

/// A checked page, ready to render.
#[derive(Debug, Clone)]
pub struct Page {
    pub kind: PageKind,
    /// Source file relative to the site root (`content/services/smp.md`).
    pub source: PathBuf,
    /// Site path (`/services/smp/`).
    pub url: String,
    pub slug: String,
    pub title: String,
    pub summary: String,
    pub template: String,
    pub form: Option<String>,
    pub order: i64,
    pub draft: bool,
    pub aliases: Vec<String>,
    /// Site path of the page's image.
    pub image: Option<String>,
    pub image_alt: Option<String>,
    /// Photos shown together after the text (`gallery:`), with site paths.
    pub gallery: Vec<GalleryItem>,
    pub extra: Extra,
    pub service: Option<ServiceFacts>,
    /// Markdown body and the line it starts on.
    pub body: String,
    pub body_line: usize,
    /// Filled in by rendering the Markdown.
    pub content: String,
    pub links: Vec<LocatedLink>,
    pub anchors: Vec<String>,
}

/// A link found in a page, with its line in the source file.
#[derive(Debug, Clone)]
pub struct LocatedLink {
    pub link: LinkRef,
    /// Where it was found, for messages ("body", "FAQ 2").
    pub place: &'static str,
}

/// Facts only a service has.
#[derive(Debug, Clone, Serialize)]
pub struct ServiceFacts {
    pub duration: Duration,
    pub price: Price,
    pub sessions: Option<Sessions>,
    pub faqs: Vec<Faq>,
}

/// A question with its answer rendered to HTML.
#[derive(Debug, Clone, Serialize)]
pub struct Faq {
    pub question: String,
    /// HTML.
    pub answer: String,
    #[serde(skip)]
    pub answer_md: String,
    /// Line of the answer in the source file.
    #[serde(skip)]
    pub line: usize,
    /// Anchor of this question on the page.
    pub id: String,
}

/// Reads one Markdown file's front matter. `rel` is the path under `content/`.
/// Returns every problem found in the file.
pub(super) fn parse_page(
    root_rel: &Path,
    rel: &Path,
    src: &str,
    config: &SiteConfig,
) -> Result<Page, Vec<Diagnostic>> {
    let Some(split) = site_config::split_front_matter(src) else {
        return Err(vec![Diagnostic::new(
            root_rel,
            "front matter opened with `---` is never closed",
        )
        .at(1, 1)
        .with_hint("end the front matter with a line holding only `---`")]);
    };
    if split.yaml.trim().is_empty() {
        return Err(vec![Diagnostic::new(
            root_rel,
            "no front matter; every page needs at least a title",
        )
        .at(1, 1)
        .with_hint(
            "start the file with `---`, a line `title: ...`, and `---`",
        )]);
    }
    let kind = kind_of(rel);
    let mut problems = Problems {
        path: root_rel,
        yaml: split.yaml,
        first_line: split.yaml_line,
        found: Vec::new(),
    };
    let (common, service) = if kind == PageKind::Service {
        let f: ServiceFront =
            from_yaml_located(split.yaml, root_rel, split.yaml_line).map_err(|d| vec![d])?;
        let facts = service_facts(&f, config, &mut problems);
        (Common::from(f), Some(facts))
    } else {
        let f: PageFront =
            from_yaml_located(split.yaml, root_rel, split.yaml_line).map_err(|d| vec![d])?;
        (Common::from(f), None)
    };
    let slug = check_common(&common, kind, rel, config, &mut problems);
    if !problems.found.is_empty() {
        return Err(problems.found);
    }

    let image = common.image.map(|i| resolve_site_path(rel, &i));
    let gallery = common
        .gallery
        .into_iter()
        .map(|g| GalleryItem {
            image: resolve_site_path(rel, &g.image),
            ..g
        })
        .collect();
    let url = url_for(kind, rel, &slug);
    Ok(Page {
        kind,
        source: root_rel.to_path_buf(),
        url,
        slug,
        title: common.title.trim().to_string(),
        summary: common.summary.trim().to_string(),
        template: common
            .template
            .unwrap_or_else(|| kind.default_template().to_string()),
        form: common.form,
        order: common.order,
        draft: common.draft,
        aliases: common.aliases,
        image,
        image_alt: common.image_alt,
        gallery,
        extra: common.extra,
        service,
        body: split.body.to_string(),
        body_line: split.body_line,
        content: String::new(),
        links: Vec::new(),
        anchors: Vec::new(),
    })
}

/// Problems found in one file's front matter, each placed on the line of its key.
struct Problems<'a> {
    path: &'a Path,
    yaml: &'a str,
    first_line: usize,
    found: Vec<Diagnostic>,
}

impl Problems<'_> {
    fn key_line(&self, key: &str) -> usize {
        self.yaml
            .lines()
            .position(|l| {
                l.strip_prefix(key)
                    .is_some_and(|r| r.trim_start().starts_with(':'))
            })
            .map_or(self.first_line, |i| i + self.first_line)
    }

    fn at(&mut self, key: &str, message: String) -> &mut Diagnostic {
        let d = Diagnostic::new(self.path, message).at_line(self.key_line(key));
        self.found.push(d);
        self.found.last_mut().expect("just pushed")
    }
}

/// The fields every kind of page has, once read.
struct Common {
    title: String,
    summary: String,
    template: Option<String>,
    form: Option<String>,
    order: i64,
    draft: bool,
    slug: Option<String>,
    aliases: Vec<String>,
    image: Option<String>,
    image_alt: Option<String>,
    gallery: Vec<GalleryItem>,
    extra: Extra,
}

impl From<PageFront> for Common {
    fn from(f: PageFront) -> Self {
        Common {
            title: f.title,
            summary: f.summary.unwrap_or_default(),
            template: f.template,
            form: f.form,
            order: f.order,
            draft: f.draft,
            slug: f.slug,
            aliases: f.aliases,
            image: f.image,
            image_alt: f.image_alt,
            gallery: f.gallery,
            extra: f.extra,
        }
    }
}

impl From<ServiceFront> for Common {
    fn from(f: ServiceFront) -> Self {
        Common {
            title: f.title,
            summary: f.summary,
            template: None,
            form: None,
            order: f.order,
            draft: f.draft,
            slug: f.slug,
            aliases: f.aliases,
            image: f.image,
            image_alt: f.image_alt,
            gallery: f.gallery,
            extra: f.extra,
        }
    }
}

fn service_facts(f: &ServiceFront, config: &SiteConfig, problems: &mut Problems) -> ServiceFacts {
    if f.summary.trim().is_empty() {
        problems.at(
            "summary",
            "summary is empty; write one or two sentences for listings and search results".into(),
        );
    }
    let mut faqs = Vec::with_capacity(f.faqs.len());
    for (i, faq) in f.faqs.iter().enumerate() {
        let line =
            faq_line(problems.yaml, i).map_or(problems.first_line, |l| l + problems.first_line);
        if faq.question.trim().is_empty() || faq.answer.trim().is_empty() {
            problems.found.push(
                Diagnostic::new(
                    problems.path,
                    format!("FAQ {} needs both a question and an answer", i + 1),
                )
                .at_line(line),
            );
        }
        faqs.push(Faq {
            question: faq.question.trim().to_string(),
            answer: String::new(),
            answer_md: faq.answer.clone(),
            line,
            id: String::new(),
        });
    }
    let currency = f
        .currency
        .as_ref()
        .map_or_else(|| config.currency.as_str().to_string(), |c| c.0.clone());
    if f.price.is_some() && f.price_from.is_some() {
        problems.at(
            "price_from",
            "`price` and `price_from` are both set; keep `price` for a fixed price or `price_from` for \"from\"".into(),
        );
    }
    let price = match (f.price, f.price_from) {
        (_, Some(from)) => Price {
            amount: Some(from),
            currency,
            from: true,
            quoted: false,
        },
        (Some(PriceField::Amount(a)), None) => Price {
            amount: Some(a),
            currency,
            ..Price::default()
        },
        (Some(PriceField::Quoted), None) => Price {
            currency,
            quoted: true,
            ..Price::default()
        },
        (None, None) => Price {
            currency,
            ..Price::default()
        },
    };
    ServiceFacts {
        duration: f.duration,
        price,
        sessions: f.sessions.clone(),
        faqs,
    }
}

/// Checks what every page has; returns the page's slug.
fn check_common(
    c: &Common,
    kind: PageKind,
    rel: &Path,
    config: &SiteConfig,
    problems: &mut Problems,
) -> String {
    if c.title.trim().is_empty() {
        problems.at("title", "title is empty".into());
    }
    let slug = match &c.slug {
        Some(s) if slugify(s) == *s && !s.is_empty() => s.clone(),
        Some(s) => {
            problems
                .at(
                    "slug",
                    format!("slug `{s}` may use only lowercase letters, digits and single hyphens"),
                )
                .hint = Some(format!("try `{}`", slugify(s)));
            slugify(s)
        }
        None => {
            let s = slug_from_file_name(rel);
            if s.is_empty() && kind != PageKind::Home {
                problems.found.push(
                    Diagnostic::new(problems.path, "the file name gives no usable URL")
                        .at(1, 1)
                        .with_hint("rename the file, or set `slug:`"),
                );
            }
            s
        }
    };
    for alias in &c.aliases {
        if !alias.starts_with('/')
            || alias.contains("..")
            || alias.contains(char::is_whitespace)
            || alias.contains(['"', '<', '>', '#', '?'])
        {
            problems.at(
                "aliases",
                format!("alias `{alias}` must be a site path such as `/old-page/` (starting with /, no spaces, `..`, `?` or `#`)"),
            );
        }
    }
    match (&c.image, &c.image_alt) {
        (Some(_), None) => {
            problems.at(
                "image",
                "`image` needs `image_alt`: a short description for people who cannot see it"
                    .into(),
            );
        }
        (Some(_), Some(alt)) if alt.trim().is_empty() => {
            problems.at(
                "image_alt",
                "image_alt is empty; describe the image in a few words".into(),
            );
        }
        (None, Some(_)) => {
            problems.at(
                "image_alt",
                "image_alt is set but there is no `image`".into(),
            );
        }
        _ => {}
    }
    for (i, g) in c.gallery.iter().enumerate() {
        if g.alt.trim().is_empty() {
            problems.at(
                "gallery",
                format!("gallery photo {} ({}) needs `alt`: a short description for people who cannot see it", i + 1, g.image),
            );
        }
    }
    if let Some(f) = c.form.as_ref().filter(|f| !config.forms.contains_key(*f)) {
        let names: Vec<&str> = config.forms.keys().map(String::as_str).collect();
        let hint = match site_config::suggest(f, names.iter().copied()) {
            Some(s) => Some(format!("did you mean `{s}`?")),
            None if !names.is_empty() => Some(format!("declared forms: {}", names.join(", "))),
            None => None,
        };
        problems
            .at("form", format!("form `{f}` is not declared in site.yaml"))
            .hint = hint;
    }
    if let Some(t) = c
        .template
        .as_ref()
        .filter(|t| !t.ends_with(".html") || t.contains(".."))
    {
        problems.at(
            "template",
            format!("template `{t}` must be a `.html` file in the theme's templates"),
        );
    }
    slug
}

/// `about.md` -> `about`; `clinic/_index.md` -> `clinic`.
fn slug_from_file_name(rel: &Path) -> String {
    let stem = rel.file_stem().and_then(|s| s.to_str()).unwrap_or("");
    if stem == "_index" {
        rel.parent()
            .and_then(|p| p.file_name())
            .and_then(|s| s.to_str())
            .map(slugify)
            .unwrap_or_default()
    } else {
        slugify(stem)
    }
}

fn kind_of(rel: &Path) -> PageKind {
    let parts: Vec<&str> = rel.iter().filter_map(|p| p.to_str()).collect();
    match parts.as_slice() {
        ["_index.md"] => PageKind::Home,
        ["services", "_index.md"] => PageKind::Services,
        ["services", _] => PageKind::Service,
        _ => PageKind::Page,
    }
}

/// 0-based line (within the YAML) of the `i`-th item under `faqs:`.
fn faq_line(yaml: &str, i: usize) -> Option<usize> {
    let start = yaml.lines().position(|l| l.starts_with("faqs:"))?;
    yaml.lines()
        .enumerate()
        .skip(start + 1)
        .filter(|(_, l)| l.trim_start().starts_with("- "))
        .filter(|(_, l)| {
            let indent = l.len() - l.trim_start().len();
            indent <= 2
        })
        .nth(i)
        .map(|(n, _)| n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> SiteConfig {
        SiteConfig::parse(
            "title: C\nbase_url: https://c.example\ndescription: d\ncurrency: GBP\n\
             business:\n  name: C\n  email: a@c.example\n  phone: '1'\n  address:\n    \
             street: s\n    locality: l\n    postal_code: p\n    country: GB\n",
            Path::new("site.yaml"),
        )
        .unwrap()
    }

    fn parse(rel: &str, src: &str) -> Result<Page, Vec<Diagnostic>> {
        let root_rel = Path::new("content").join(rel);
        parse_page(&root_rel, Path::new(rel), src, &config())
    }

    fn errors(rel: &str, src: &str) -> String {
        parse(rel, src)
            .unwrap_err()
            .iter()
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    }

    const SERVICE: &str = "---\ntitle: Scalp Micropigmentation\nsummary: Pigment that looks like hair.\nduration: 1h 30m\nprice: 0\nsessions: 2-3\nfaqs:\n  - question: Does it hurt?\n    answer: A little.\n  - question: How long?\n    answer: Years.\n---\nBody\n";

    #[test]
    fn a_service_page_is_read_and_typed() {
        let p = parse("services/scalp-micropigmentation.md", SERVICE).unwrap();
        assert_eq!(p.kind, PageKind::Service);
        assert_eq!(p.url, "/services/scalp-micropigmentation/");
        let s = p.service.unwrap();
        assert_eq!(s.duration.to_string(), "1 hr 30 min");
        assert!(s.price.is_free());
        assert_eq!(s.price.currency, "GBP");
        assert_eq!(s.sessions.unwrap().to_string(), "2–3");
        assert_eq!(s.faqs.len(), 2);
        assert_eq!(s.faqs[1].line, 10, "line of the second FAQ in the file");
        assert_eq!(p.body_line, 13);
    }

    #[test]
    fn urls_by_place() {
        let page = |rel: &str| parse(rel, "---\ntitle: T\n---\n").unwrap().url;
        assert_eq!(page("_index.md"), "/");
        assert_eq!(page("about.md"), "/about/");
        assert_eq!(
            page("consultation/thank-you.md"),
            "/consultation/thank-you/"
        );
        assert_eq!(page("clinic/_index.md"), "/clinic/");
        assert_eq!(page("Our Team.md"), "/our-team/");
        assert_eq!(
            parse("a.md", "---\ntitle: T\nslug: b\n---\n").unwrap().url,
            "/b/"
        );
    }

    #[test]
    fn each_mistake_names_its_line() {
        let e = errors(
            "services/x.md",
            &SERVICE.replace("duration: 1h 30m", "duration: soon"),
        );
        assert!(e.starts_with("content/services/x.md:4:"), "{e}");
        assert!(e.contains("`soon`"), "{e}");

        let e = errors("services/x.md", &SERVICE.replace("price: 0", "price: -20"));
        assert!(e.starts_with("content/services/x.md:5:"), "{e}");

        let e = errors(
            "services/x.md",
            &SERVICE.replace("sessions: 2-3", "sesions: 2-3"),
        );
        assert!(e.starts_with("content/services/x.md:6:"), "{e}");
        assert!(e.contains("did you mean `sessions`?"), "{e}");

        let e = errors(
            "services/x.md",
            &SERVICE.replace("summary: Pigment that looks like hair.\n", ""),
        );
        assert!(e.contains("missing field `summary`"), "{e}");
    }

    #[test]
    fn cross_field_rules_are_all_reported() {
        let e = errors(
            "about.md",
            "---\ntitle: ''\nslug: Our Team\nimage: a.jpg\naliases: [old]\nform: contcat\n---\n",
        );
        assert!(e.contains("about.md:2: title is empty"), "{e}");
        assert!(e.contains("about.md:3: slug `Our Team`"), "{e}");
        assert!(e.contains("help: try `our-team`"), "{e}");
        assert!(e.contains("about.md:4: `image` needs `image_alt`"), "{e}");
        assert!(e.contains("about.md:5: alias `old`"), "{e}");
        assert!(
            e.contains("about.md:6: form `contcat` is not declared"),
            "{e}"
        );
    }

    #[test]
    fn unclosed_or_missing_front_matter() {
        assert!(errors("a.md", "---\ntitle: A\n").contains("a.md:1:1: front matter opened"));
        assert!(errors("a.md", "Just text").contains("no front matter"));
        assert!(errors("a.md", "---\n: : :\n---\n").starts_with("content/a.md:"));
    }

    /// Mangled pages (characters dropped, doubled or replaced, seeded so failures
    /// repeat) are refused or read, never a panic.
    #[test]
    fn mangled_input_never_panics() {
        let pool: Vec<char> = "-:\n \"'[]{}#|>*&!%@`é\u{0}\u{202e}1h0".chars().collect();
        let mut seed: u64 = 0x5eed;
        let mut next = |n: usize| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as usize % n.max(1)
        };
        let original: Vec<char> = SERVICE.chars().collect();
        for _ in 0..3000 {
            let mut text = original.clone();
            for _ in 0..1 + next(6) {
                let i = next(text.len());
                match next(3) {
                    0 => {
                        text.remove(i);
                    }
                    1 => text.insert(i, pool[next(pool.len())]),
                    _ => text[i] = pool[next(pool.len())],
                }
            }
            let src: String = text.into_iter().collect();
            if let Ok(page) = parse("services/x.md", &src) {
                let _ = crate::markdown::render(&page.body, &|_| None, &mut Default::default());
            }
            let _ = Duration::parse(&src.chars().skip(next(40)).take(8).collect::<String>());
        }
    }
}
