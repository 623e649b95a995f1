//! Stage two of a page: its Markdown (body and FAQ answers) rendered to HTML, with
//! links between Markdown files resolved to the pages' addresses, turning a
//! [`ParsedPage`] into a [`Page`].

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use site_config::{slugify, Diagnostic};

use super::page::{Faq, LocatedLink, ParsedPage, ServiceFacts};
use super::paths::resolve_site_path;
use super::Page;
use crate::markdown;
use crate::urls::has_scheme;

/// Ids the theme's templates use around page content; headings must not take them.
pub(crate) const RESERVED_IDS: [&str; 7] = [
    "main",
    "top",
    "content",
    "faqs",
    "book",
    "comments",
    "comments-title",
];

/// Renders `parsed`; `md_urls` maps each page's file under `content/` to its URL.
/// Returns the page and the problems found in its Markdown.
pub(crate) fn render_page(
    parsed: ParsedPage,
    md_urls: &HashMap<String, String>,
) -> (Page, Vec<Diagnostic>) {
    let ParsedPage {
        meta,
        facts,
        faqs,
        body,
        body_line,
        origin,
    } = parsed;
    let rel: PathBuf = meta
        .source
        .strip_prefix("content")
        .unwrap_or(&meta.source)
        .to_path_buf();
    let resolve = |dest: &str| resolve_link(&rel, dest, md_urls);
    let mut taken: HashSet<String> = RESERVED_IDS.iter().map(|s| s.to_string()).collect();
    let mut problems = Vec::new();
    let rendered = markdown::render(&body, &resolve, &mut taken);
    for line in &rendered.h1_lines {
        problems.push(
            Diagnostic::new(
                &meta.source,
                "a level-1 heading in the text; the page title is the page's only top heading",
            )
            .at_line(line + body_line - 1)
            .with_hint("use `##` for sections"),
        );
    }
    let mut anchors = rendered.anchors;
    let offset = body_line - 1;
    let mut links: Vec<LocatedLink> = rendered
        .links
        .into_iter()
        .map(|mut l| {
            l.line += offset;
            LocatedLink {
                link: l,
                place: "body",
            }
        })
        .collect();
    let mut rendered_faqs = Vec::with_capacity(faqs.len());
    for faq in faqs {
        let id = unique(&format!("faq-{}", slugify(&faq.question)), &mut taken);
        anchors.push(id.clone());
        let answer = markdown::render(&faq.answer_md, &resolve, &mut taken);
        if !answer.h1_lines.is_empty() {
            problems.push(
                Diagnostic::new(
                    &meta.source,
                    "a level-1 heading in an FAQ answer; the page title is the page's only top heading",
                )
                .at_line(faq.line)
                .with_hint("use `###` for a heading inside an answer, or bold text"),
            );
        }
        anchors.extend(answer.anchors);
        // Answers are YAML strings: their lines are not the file's, so point at the FAQ.
        links.extend(answer.links.into_iter().map(|mut l| {
            l.line = faq.line;
            l.column = 1;
            LocatedLink {
                link: l,
                place: "FAQ answer",
            }
        }));
        let mut answer_html = answer.html;
        answer_html.shrink_to_fit();
        rendered_faqs.push(Faq {
            question: faq.question,
            answer: answer_html,
            id,
        });
    }
    let service = facts.map(|f| ServiceFacts {
        duration: f.duration,
        price: f.price,
        sessions: f.sessions,
        faqs: rendered_faqs,
    });
    // Every page stays in memory for the whole build: no spare capacity (issue 17).
    let mut content = rendered.html;
    content.shrink_to_fit();
    links.shrink_to_fit();
    anchors.shrink_to_fit();
    let page = Page {
        meta,
        service,
        content,
        links,
        anchors,
        origin,
    };
    (page, problems)
}

fn unique(wanted: &str, taken: &mut HashSet<String>) -> String {
    let mut candidate = wanted.to_string();
    let mut n = 1;
    while !taken.insert(candidate.clone()) {
        candidate = format!("{wanted}-{n}");
        n += 1;
    }
    candidate
}

/// A link target as written in Markdown, resolved: `other.md#x` -> `/other/#x`,
/// `/about.md` -> `/about/` (from `content/`), `pic.jpg` -> `/services/pic.jpg`.
/// Absolute URLs, other site paths and `#anchors` stay.
fn resolve_link(rel: &Path, dest: &str, md_urls: &HashMap<String, String>) -> Option<String> {
    if dest.is_empty() || dest.starts_with('#') || has_scheme(dest) {
        return None;
    }
    let (path, fragment) = match dest.split_once('#') {
        Some((p, f)) => (p, Some(f)),
        None => (dest, None),
    };
    if dest.starts_with('/') && !path.ends_with(".md") {
        return None;
    }
    let site_path = resolve_site_path(rel, path);
    let mut url = match md_urls.get(site_path.trim_start_matches('/')) {
        Some(u) if path.ends_with(".md") => u.clone(),
        // A file that is no page is left as written, anchor and all; the link check
        // reports it with what the editor typed.
        _ => site_path,
    };
    if let Some(f) = fragment {
        url.push('#');
        url.push_str(f);
    }
    Some(url)
}
