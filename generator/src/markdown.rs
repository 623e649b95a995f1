//! Markdown to HTML with pulldown-cmark: tables, footnotes, strikethrough, smart
//! punctuation and an `id` on every heading.
//!
//! While rendering it also records what `check` needs (every link and image with its
//! line, every anchor the page defines) and rewrites relative links through a
//! resolver, so `[Prices](../about.md)` becomes `/about/`.

pub mod comments;

use std::collections::HashSet;

use pulldown_cmark::{html, CowStr, Event, HeadingLevel, Options, Parser, Tag, TagEnd};
use serde::{Deserialize, Serialize};
use site_config::slugify;

/// A link or image found in Markdown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkRef {
    /// The address after resolving (what ends up in the HTML).
    pub url: String,
    /// The address as the editor wrote it, for messages.
    pub written: String,
    /// 1-based line within the Markdown text.
    pub line: usize,
    /// 1-based column within the Markdown text.
    pub column: usize,
    /// True for an image.
    pub is_image: bool,
    /// For images: the alt text is empty.
    pub missing_alt: bool,
}

/// Rendered Markdown and what was found in it.
#[derive(Debug, Default)]
pub struct Rendered {
    /// The HTML.
    pub html: String,
    /// Links and images, in order.
    pub links: Vec<LinkRef>,
    /// Every `id` the HTML defines (headings, footnotes).
    pub anchors: Vec<String>,
    /// 1-based lines of level-1 headings (the page title is the only `h1`).
    pub h1_lines: Vec<usize>,
}

fn options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_SMART_PUNCTUATION
        | Options::ENABLE_HEADING_ATTRIBUTES
}

/// Renders `src`. `resolve` turns a relative link target into a site path (or returns
/// `None` to keep it as written). `taken` holds ids already used on the page, so
/// heading ids stay unique when several pieces of Markdown share a page.
pub fn render(
    src: &str,
    resolve: &dyn Fn(&str) -> Option<String>,
    taken: &mut HashSet<String>,
) -> Rendered {
    let mut out = Rendered::default();
    let lines = LineIndex::new(src);
    let mut events: Vec<Event<'_>> = Vec::with_capacity(src.len() / 16);
    // Headings are rewritten once their text is known: (index of Start event, text).
    let mut heading: Option<(usize, String)> = None;
    let mut image_alt: Option<(usize, String)> = None;

    for (event, range) in Parser::new_ext(src, options()).into_offset_iter() {
        match event {
            Event::Start(Tag::Heading { level, .. }) => {
                if level == HeadingLevel::H1 {
                    out.h1_lines.push(lines.line_col(range.start).0);
                }
                heading = Some((events.len(), String::new()));
                events.push(event);
            }
            Event::End(TagEnd::Heading(_)) => {
                if let Some((start, text)) = heading.take() {
                    if let Event::Start(Tag::Heading { id, .. }) = &mut events[start] {
                        let wanted = match id.take() {
                            Some(explicit) => explicit.to_string(),
                            None => {
                                let s = slugify(&text);
                                if s.is_empty() {
                                    "section".to_string()
                                } else {
                                    s
                                }
                            }
                        };
                        let unique = unique_id(&wanted, taken);
                        out.anchors.push(unique.clone());
                        *id = Some(CowStr::from(unique));
                    }
                }
                events.push(event);
            }
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                id,
            }) => {
                let written = dest_url.to_string();
                let url = resolve(&dest_url).map_or(dest_url, CowStr::from);
                let (line, column) = lines.line_col(range.start);
                out.links.push(LinkRef {
                    url: url.to_string(),
                    written,
                    line,
                    column,
                    is_image: false,
                    missing_alt: false,
                });
                events.push(Event::Start(Tag::Link {
                    link_type,
                    dest_url: url,
                    title,
                    id,
                }));
            }
            Event::Start(Tag::Image {
                link_type,
                dest_url,
                title,
                id,
            }) => {
                let written = dest_url.to_string();
                let url = resolve(&dest_url).map_or(dest_url, CowStr::from);
                let (line, column) = lines.line_col(range.start);
                image_alt = Some((out.links.len(), String::new()));
                out.links.push(LinkRef {
                    url: url.to_string(),
                    written,
                    line,
                    column,
                    is_image: true,
                    missing_alt: false,
                });
                events.push(Event::Start(Tag::Image {
                    link_type,
                    dest_url: url,
                    title,
                    id,
                }));
            }
            Event::End(TagEnd::Image) => {
                if let Some((i, alt)) = image_alt.take() {
                    out.links[i].missing_alt = alt.trim().is_empty();
                }
                events.push(event);
            }
            // pulldown-cmark gives a footnote definition the id of its name.
            Event::Start(Tag::FootnoteDefinition(ref name)) => {
                out.anchors.push(name.to_string());
                events.push(event);
            }
            Event::Text(ref t) | Event::Code(ref t) => {
                if let Some((_, text)) = heading.as_mut() {
                    text.push_str(t);
                }
                if let Some((_, alt)) = image_alt.as_mut() {
                    alt.push_str(t);
                }
                events.push(event);
            }
            // pulldown-cmark writes column alignment as `style=` attributes, which the
            // site's Content-Security-Policy (no 'unsafe-inline') would block.
            Event::Start(Tag::Table(aligns)) => {
                let plain = aligns
                    .iter()
                    .map(|_| pulldown_cmark::Alignment::None)
                    .collect();
                events.push(Event::Start(Tag::Table(plain)));
            }
            other => events.push(other),
        }
    }
    out.html.reserve(src.len() * 3 / 2);
    html::push_html(&mut out.html, events.into_iter());
    out
}

fn unique_id(wanted: &str, taken: &mut HashSet<String>) -> String {
    if taken.insert(wanted.to_string()) {
        return wanted.to_string();
    }
    (1..)
        .map(|n| format!("{wanted}-{n}"))
        .find(|candidate| taken.insert(candidate.clone()))
        .expect("an unused id exists")
}

/// Byte offsets to 1-based line and column, with the line starts found once, when the
/// first position is asked for (most FAQ answers have no link or heading).
struct LineIndex<'a> {
    src: &'a str,
    starts: std::cell::OnceCell<Vec<usize>>,
}

impl<'a> LineIndex<'a> {
    fn new(src: &'a str) -> Self {
        LineIndex {
            src,
            starts: std::cell::OnceCell::new(),
        }
    }

    fn line_col(&self, offset: usize) -> (usize, usize) {
        let starts = self.starts.get_or_init(|| {
            let mut starts = vec![0];
            starts.extend(memchr::memchr_iter(b'\n', self.src.as_bytes()).map(|i| i + 1));
            starts
        });
        let line = starts.partition_point(|&s| s <= offset);
        let start = starts[line - 1];
        let (_, col) = site_config::line_col(&self.src[start..], offset - start);
        (line, col)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn md(src: &str) -> Rendered {
        render(src, &|_| None, &mut HashSet::new())
    }

    #[test]
    fn headings_get_unique_ids() {
        let r = md("## Aftercare\n\n## Aftercare\n\n### Custom {#mine}\n");
        assert!(
            r.html.contains("<h2 id=\"aftercare\">Aftercare</h2>"),
            "{}",
            r.html
        );
        assert!(r.html.contains("<h2 id=\"aftercare-1\">"));
        assert!(r.html.contains("<h3 id=\"mine\">Custom</h3>"));
        assert_eq!(r.anchors, ["aftercare", "aftercare-1", "mine"]);
    }

    #[test]
    fn extensions_are_on() {
        let r = md("| a | b |\n|---|---|\n| 1 | 2 |\n\n~~old~~ \"quoted\"[^1]\n\n[^1]: Note.\n");
        assert!(r.html.contains("<table>"));
        assert!(r.html.contains("<del>old</del>"));
        assert!(r.html.contains("“quoted”"));
        assert!(r.html.contains("footnote-definition"));
        assert_eq!(r.anchors, ["1"]);
    }

    #[test]
    fn table_alignment_writes_no_inline_style() {
        let r = md("| a | b |\n|:--|--:|\n| 1 | 2 |\n");
        assert!(r.html.contains("<td>1</td>"), "{}", r.html);
        assert!(!r.html.contains("style="));
    }

    #[test]
    fn links_and_images_are_recorded_with_positions() {
        let src = "Intro\n\nSee [about](about.md) and ![](pic.jpg)\n![A scalp](/img/a.jpg)\n";
        let resolve = |u: &str| (u == "about.md").then(|| "/about/".to_string());
        let r = render(src, &resolve, &mut HashSet::new());
        assert!(r.html.contains("href=\"/about/\""));
        assert_eq!(r.links.len(), 3);
        assert_eq!((r.links[0].line, r.links[0].column), (3, 5));
        assert_eq!(r.links[0].url, "/about/");
        assert!(r.links[1].is_image && r.links[1].missing_alt);
        assert_eq!((r.links[2].line, r.links[2].column), (4, 1));
        assert!(!r.links[2].missing_alt);
    }

    #[test]
    fn level_one_headings_are_reported() {
        let r = md("Text\n\n# Big\n");
        assert_eq!(r.h1_lines, [3]);
    }
}
