//! One page in its two stages: [`ParsedPage`] (read from its file, front matter
//! checked and typed) and [`Page`] (Markdown rendered, ready for the templates).
//! This module makes the first; [`super::render`] turns it into the second.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use site_config::{Diagnostic, SiteConfig};

use super::cache::Origin;
use super::front_matter::{read_front, Extra, Front, GalleryItem, Sessions};
use super::page_rules::{check_common, Problems};
use super::paths::{kind_of, resolve_site_path, url_for};
use super::price::PriceField;
use super::{Duration, Price};
use crate::markdown::LinkRef;

/// What kind of page a file is, by where it sits in `content/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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

/// What a page is, known once its front matter is read: shared by both stages.
#[derive(Debug, Clone)]
pub struct PageMeta {
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
}

/// Stage one: a page read from its file, front matter checked, Markdown not yet
/// rendered. Made even when the front matter has problems (as long as its YAML can
/// be read), so one run also checks that page's text and links.
#[derive(Debug, Clone)]
pub struct ParsedPage {
    pub meta: PageMeta,
    /// A service's facts, when its front matter gave them.
    pub facts: Option<ParsedFacts>,
    /// A service's questions, answers still Markdown.
    pub faqs: Vec<ParsedFaq>,
    /// Markdown body and the line it starts on.
    pub body: String,
    pub body_line: usize,
    /// The file it was read from.
    pub origin: Origin,
}

/// A service's facts before its FAQ answers are rendered.
#[derive(Debug, Clone)]
pub struct ParsedFacts {
    pub duration: Duration,
    pub price: Price,
    pub sessions: Option<Sessions>,
}

/// A question with its answer still Markdown.
#[derive(Debug, Clone)]
pub struct ParsedFaq {
    pub question: String,
    pub answer_md: String,
    /// Line of the FAQ in the source file.
    pub line: usize,
}

/// Stage two: a page with its Markdown rendered and links resolved, ready for the
/// templates. Made from a [`ParsedPage`] by `content::render::render_page`.
#[derive(Debug, Clone)]
pub struct Page {
    pub meta: PageMeta,
    /// `None` for every page but a service whose front matter is sound.
    pub service: Option<ServiceFacts>,
    /// The body as HTML.
    pub content: String,
    pub links: Vec<LocatedLink>,
    /// Every id the page's Markdown and FAQs define.
    pub anchors: Vec<String>,
    /// The file it was read from, or the cache it was taken from.
    pub origin: Origin,
}

/// A rendered page is read mostly for what it is (`page.url`, `page.title`), so it
/// reads as its [`PageMeta`].
impl std::ops::Deref for Page {
    type Target = PageMeta;
    fn deref(&self) -> &PageMeta {
        &self.meta
    }
}

/// A link found in a page, with its line in the source file.
#[derive(Debug, Clone)]
pub struct LocatedLink {
    pub link: LinkRef,
    /// Where it was found, for messages ("body", "FAQ 2").
    pub place: &'static str,
}

/// Facts only a service has.
#[derive(Debug, Clone)]
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
    /// Anchor of this question on the page.
    pub id: String,
}

/// Reads one Markdown file's front matter. `rel` is the path under `content/`.
/// Returns the page whenever its front matter could be read at all, and every
/// problem found in it.
pub(super) fn parse_page(
    root_rel: &Path,
    rel: &Path,
    src: &str,
    config: &SiteConfig,
) -> (Option<ParsedPage>, Vec<Diagnostic>) {
    let Some(split) = site_config::split_front_matter(src) else {
        return (
            None,
            vec![
                Diagnostic::new(root_rel, "front matter opened with `---` is never closed")
                    .at(1, 1)
                    .with_hint("end the front matter with a line holding only `---`"),
            ],
        );
    };
    if split.yaml.trim().is_empty() {
        return (
            None,
            vec![Diagnostic::new(
                root_rel,
                "no front matter; every page needs at least a title",
            )
            .at(1, 1)
            .with_hint("start the file with `---`, a line `title: ...`, and `---`")],
        );
    }
    let kind = kind_of(rel);
    let (front, found) = read_front(
        split.yaml,
        root_rel,
        split.yaml_line,
        kind == PageKind::Service,
    );
    let Some(front) = front else {
        return (None, found);
    };
    let mut problems = Problems {
        path: root_rel,
        yaml: split.yaml,
        first_line: split.yaml_line,
        found,
    };
    let (facts, faqs) = if kind == PageKind::Service {
        service_facts(&front, config, &mut problems)
    } else {
        (None, Vec::new())
    };
    let slug = check_common(&front, kind, rel, config, &mut problems);
    if !front.draft {
        placeholders_left(&front, &faqs, &split, &mut problems);
    }

    let image = front.image.map(|i| resolve_site_path(rel, &i));
    let gallery = front
        .gallery
        .into_iter()
        .map(|g| GalleryItem {
            image: resolve_site_path(rel, &g.image),
            ..g
        })
        .collect();
    let url = url_for(kind, rel, &slug);
    let meta = PageMeta {
        kind,
        source: root_rel.to_path_buf(),
        url,
        slug,
        title: front.title.unwrap_or_default().trim().to_string(),
        summary: front.summary.unwrap_or_default().trim().to_string(),
        template: front
            .template
            .unwrap_or_else(|| kind.default_template().to_string()),
        form: front.form,
        order: front.order,
        draft: front.draft,
        aliases: front.aliases,
        image,
        image_alt: front.image_alt,
        gallery,
        extra: front.extra,
    };
    let page = ParsedPage {
        meta,
        facts,
        faqs,
        body: split.body.to_string(),
        body_line: split.body_line,
        origin: Origin::default(),
    };
    (Some(page), problems.found)
}

fn service_facts(
    f: &Front,
    config: &SiteConfig,
    problems: &mut Problems,
) -> (Option<ParsedFacts>, Vec<ParsedFaq>) {
    if f.summary.as_ref().is_some_and(|s| s.trim().is_empty()) {
        problems.at(
            "summary",
            "summary is empty; write one or two sentences for listings and search results".into(),
        );
    }
    let mut faqs = Vec::with_capacity(f.faqs.len());
    for (i, faq) in f.faqs.iter().enumerate() {
        if faq.question.trim().is_empty() || faq.answer.trim().is_empty() {
            problems.found.push(
                Diagnostic::new(
                    problems.path,
                    format!("FAQ {} needs both a question and an answer", i + 1),
                )
                .at_line(faq.line),
            );
        }
        faqs.push(ParsedFaq {
            question: faq.question.trim().to_string(),
            answer_md: faq.answer.clone(),
            line: faq.line,
        });
    }
    let currency = f.currency.as_ref().map_or_else(
        || config.currency.as_str().to_string(),
        |c| c.as_str().to_string(),
    );
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
    let facts = f.duration.map(|duration| ParsedFacts {
        duration,
        price,
        sessions: f.sessions.clone(),
    });
    (facts, faqs)
}

/// A problem for each text `generator new` wrote that is still there in a page that is
/// no longer a draft.
fn placeholders_left(
    front: &Front,
    faqs: &[ParsedFaq],
    split: &site_config::FrontMatterSplit<'_>,
    problems: &mut Problems,
) {
    use super::fields::placeholder;
    const MESSAGE: &str = "still the placeholder text `generator new` wrote";
    const HINT: &str = "write the page's own text, or keep `draft: true` until it is ready";
    if front.summary.as_deref().map(str::trim) == Some(placeholder::SUMMARY) {
        problems.at("summary", format!("summary: {MESSAGE}")).hint = Some(HINT.into());
    }
    for faq in faqs
        .iter()
        .filter(|f| placeholder::ANSWERS.contains(&f.answer_md.trim()))
    {
        problems.found.push(
            Diagnostic::new(problems.path, format!("FAQ answer: {MESSAGE}"))
                .at_line(faq.line)
                .with_hint(HINT),
        );
    }
    // Every page's text is searched: memchr's finder, not `lines()`.
    if let Some(at) = memchr::memmem::find(split.body.as_bytes(), placeholder::BODY.as_bytes()) {
        let line = memchr::memchr_iter(b'\n', &split.body.as_bytes()[..at]).count();
        problems.found.push(
            Diagnostic::new(problems.path, format!("the text is {MESSAGE}"))
                .at_line(split.body_line + line)
                .with_hint(HINT),
        );
    }
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

    fn parse(rel: &str, src: &str) -> Result<ParsedPage, Vec<Diagnostic>> {
        let root_rel = Path::new("content").join(rel);
        match parse_page(&root_rel, Path::new(rel), src, &config()) {
            (Some(page), problems) if problems.is_empty() => Ok(page),
            (_, problems) => Err(problems),
        }
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
        assert_eq!(p.meta.kind, PageKind::Service);
        assert_eq!(p.meta.url, "/services/scalp-micropigmentation/");
        let s = p.facts.unwrap();
        assert_eq!(s.duration.to_string(), "1 hr 30 min");
        assert!(s.price.is_free());
        assert_eq!(s.price.currency, "GBP");
        assert_eq!(s.sessions.unwrap().to_string(), "2–3");
        assert_eq!(p.faqs.len(), 2);
        assert_eq!(p.faqs[1].line, 10, "line of the second FAQ in the file");
        assert_eq!(p.body_line, 13);
    }

    #[test]
    fn urls_by_place() {
        let page = |rel: &str| parse(rel, "---\ntitle: T\n---\n").unwrap().meta.url;
        assert_eq!(page("_index.md"), "/");
        assert_eq!(page("about.md"), "/about/");
        assert_eq!(
            page("consultation/thank-you.md"),
            "/consultation/thank-you/"
        );
        assert_eq!(page("clinic/_index.md"), "/clinic/");
        assert_eq!(page("about/index.md"), "/about/");
        assert_eq!(page("Our Team.md"), "/our-team/");
        assert_eq!(
            parse("a.md", "---\ntitle: T\nslug: b\n---\n")
                .unwrap()
                .meta
                .url,
            "/b/"
        );
    }

    #[test]
    fn a_required_field_with_nothing_after_it_is_empty() {
        let e = errors(
            "services/x.md",
            &SERVICE.replace("Scalp Micropigmentation", ""),
        );
        assert!(e.contains("content/services/x.md:2: title is empty"), "{e}");
        let e = errors("services/x.md", &SERVICE.replace("1h 30m", ""));
        assert!(
            e.contains("content/services/x.md:4: duration is empty"),
            "{e}"
        );
        assert!(!e.contains("template"), "{e}");
        let e = errors("services/x.md", &SERVICE.replace("A little.", ""));
        assert!(e.contains("FAQ 1: no value, expected a string"), "{e}");
    }

    #[test]
    fn an_empty_slug_says_what_to_do() {
        let e = errors("about.md", "---\ntitle: T\nslug: \"\"\n---\n");
        assert!(e.contains("content/about.md:3:"), "{e}");
        assert!(e.contains("gives no address"), "{e}");
        assert!(!e.contains("try ``"), "{e}");
    }

    #[test]
    fn a_misspelt_currency_is_refused_at_its_line() {
        let src = SERVICE.replace("price: 0", "price: 85\ncurrency: GPB");
        let e = errors("services/x.md", &src);
        assert!(e.starts_with("content/services/x.md:6:"), "{e}");
        assert!(e.contains("`GPB` is not a currency ISO 4217 lists"), "{e}");
        let ok = parse("services/x.md", &src.replace("GPB", "EUR")).unwrap();
        assert_eq!(ok.facts.unwrap().price.currency, "EUR");
    }

    #[test]
    fn a_service_in_its_own_folder_is_a_service() {
        let p = parse("services/scalp-micropigmentation/index.md", SERVICE).unwrap();
        assert_eq!(p.meta.kind, PageKind::Service);
        assert_eq!(p.meta.url, "/services/scalp-micropigmentation/");
        assert_eq!(p.meta.slug, "scalp-micropigmentation");
        // As before folders: `index.md` on top is a page, `_index.md` in a service's
        // folder too, and `services/index.md` a service.
        let top = parse("index.md", "---\ntitle: T\n---\n").unwrap();
        assert_eq!(
            (top.meta.kind, top.meta.url.as_str()),
            (PageKind::Page, "/index/")
        );
        let section = parse("services/laser/_index.md", "---\ntitle: T\n---\n").unwrap();
        assert_eq!(
            (section.meta.kind, section.meta.url.as_str()),
            (PageKind::Page, "/services/laser/")
        );
        let named_index = parse("services/index.md", SERVICE).unwrap();
        assert_eq!(named_index.meta.url, "/services/index/");
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
            if let (Some(page), _) = parse_page(
                Path::new("content/services/x.md"),
                Path::new("services/x.md"),
                &src,
                &config(),
            ) {
                let _ = crate::markdown::render(&page.body, &|_| None, &mut Default::default());
            }
            let _ = Duration::parse(&src.chars().skip(next(40)).take(8).collect::<String>());
        }
    }
}
