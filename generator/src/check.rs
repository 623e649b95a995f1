//! What `check` adds to a build: links and images written by templates lead
//! somewhere, and their images have alt text. (Links and images editors write are
//! checked by the build itself, in [`crate::links`].) It reads the built output. A published comment
//! whose page is not a service page is a problem here (`build` only warns).

use std::collections::{HashMap, HashSet};

use site_config::{Diagnostic, Diagnostics};

use crate::output::{Output, OutputFile};
use crate::site::Site;
use crate::urls::{output_path, page_url_of, resolve, Resolved, Target};

/// Every broken link or missing image in template output, and image without alt text.
pub fn check_site(site: &Site) -> Diagnostics {
    let mut problems = Diagnostics::default();
    let ids = collect_ids(&site.output);
    let base = site.config.base_url.as_str();

    // Links and images written in Markdown were checked by the build (`crate::links`).
    let mut reported: HashSet<(String, String)> = HashSet::new();
    for page in &site.content.pages {
        for l in &page.links {
            reported.insert((output_path(&page.url), l.link.url.clone()));
        }
    }

    // A broken menu link is on every page: said once, at its line in site.yaml.
    let menu: HashSet<&str> = site.config.menu.iter().map(|m| m.url.as_str()).collect();
    let mut menu_reported: HashSet<String> = HashSet::new();

    // Everything else in the output: links and images from templates.
    let by_output: HashMap<String, &std::path::Path> = site
        .content
        .pages
        .iter()
        .map(|p| (output_path(&p.url), p.source.as_path()))
        .collect();
    for (path, file) in &site.output {
        let OutputFile::Bytes(bytes) = file else {
            continue;
        };
        if !path.ends_with(".html") {
            continue;
        }
        let html = String::from_utf8_lossy(bytes);
        let page_url = page_url_of(path);
        let source = by_output
            .get(path)
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| path.clone());
        for (attr, url) in attributes(&html, &["href", "src"]) {
            if reported.contains(&(path.clone(), url.clone()))
                || attr == "src" && url.starts_with("data:")
            {
                continue;
            }
            if let Some(why) = broken(&url, &page_url, base, &site.output, &ids) {
                if menu.contains(url.as_str()) {
                    if menu_reported.insert(url.clone()) {
                        let yaml = std::fs::read_to_string(site.opts.root.join("site.yaml"))
                            .unwrap_or_default();
                        problems.push(crate::links::menu_diagnostic(&yaml, &url, &why));
                    }
                    continue;
                }
                // HTML written in the page's text: said so, at its line.
                let line = by_output
                    .get(path)
                    .and_then(|src| line_writing(&site.opts.root.join(src), &url));
                problems.push(match line {
                    Some(line) => Diagnostic::new(
                        source.as_str(),
                        format!("HTML in the page's text links to {url}: {why}"),
                    )
                    .at_line(line),
                    None => Diagnostic::new(
                        source.as_str(),
                        format!("the page's template links to {url}: {why}"),
                    ),
                });
                reported.insert((path.clone(), url));
            }
        }
        for tag in img_tags(&html) {
            if !tag.contains(" alt=") {
                // HTML written in the page's text: said so, at its line.
                let line = attributes(tag, &["src"])
                    .into_iter()
                    .next()
                    .zip(by_output.get(path))
                    .and_then(|((_, url), src)| line_writing(&site.opts.root.join(src), &url));
                let d = match line {
                    Some(line) => Diagnostic::new(
                        source.as_str(),
                        format!("an image in the page's text has no alt text: {tag}"),
                    )
                    .at_line(line)
                    .with_hint(
                        "add alt=\"...\" describing it, or write it as ![A description](file.jpg)",
                    ),
                    None => Diagnostic::new(
                        source.as_str(),
                        format!("an image in the page's template has no alt text: {tag}"),
                    ),
                };
                problems.push(d);
            }
        }
    }
    problems.0.extend(site.comment_orphans().0.iter().cloned());
    problems.sort();
    problems.0.dedup();
    problems
}

/// The line of the page's source file whose HTML has an attribute with the value `url`
/// (`src="door.svg"`), if its text has one.
fn line_writing(source: &std::path::Path, url: &str) -> Option<usize> {
    let text = std::fs::read_to_string(source).ok()?;
    let quoted = format!("=\"{url}\"");
    text.lines()
        .position(|l| l.contains(&quoted))
        .map(|i| i + 1)
}

/// Why `url`, found on the page at `from`, leads nowhere; `None` when it is fine or external.
fn broken(
    url: &str,
    from: &str,
    base: &str,
    out: &Output,
    ids: &HashMap<String, HashSet<String>>,
) -> Option<String> {
    let Resolved::Target(Target {
        path,
        output: target,
        fragment,
        ..
    }) = resolve(url, from, base)
    else {
        return None;
    };
    let exists = out.contains_key(&target) || out.contains_key(&format!("{target}/index.html"));
    if !exists {
        let hint = if path.ends_with(".md") {
            " (no page comes from that file)"
        } else {
            ""
        };
        return Some(format!(
            "there is no page or file at {}{hint}",
            if path.is_empty() { from } else { path }
        ));
    }
    match fragment {
        Some(f) if !f.is_empty() => {
            let page_ids = ids
                .get(&target)
                .or_else(|| ids.get(&format!("{target}/index.html")));
            match page_ids {
                Some(set) if set.contains(f) => None,
                Some(_) => Some(format!("there is no #{f} on that page")),
                None => None,
            }
        }
        _ => None,
    }
}

/// The ids an HTML page defines.
pub(crate) fn ids_in(html: &str) -> impl Iterator<Item = String> {
    attributes(html, &["id"]).into_iter().map(|(_, v)| v)
}

/// The ids an HTML page defines, kept as one text, one id per line: a build keeps them
/// for every page, and a rebuild of 10,000 pages copies each page's from the record
/// (about 30 ids a page, 300,000 strings otherwise). An id holding a line break is left
/// out: HTML ids hold no white space, and no link could name it.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub(crate) struct Ids(String);

impl Ids {
    /// The ids `html` defines.
    pub(crate) fn of(html: &str) -> Ids {
        let mut all = String::new();
        for id in ids_in(html).filter(|id| !id.is_empty() && !id.contains('\n')) {
            all.push_str(&id);
            all.push('\n');
        }
        Ids(all)
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.split_terminator('\n')
    }

    /// The ids given one by one (as [`Ids::iter`] gives them back).
    pub(crate) fn from_ids<'a>(ids: impl IntoIterator<Item = &'a str>) -> Ids {
        let mut all = String::new();
        for id in ids {
            all.push_str(id);
            all.push('\n');
        }
        Ids(all)
    }
}

fn collect_ids(out: &Output) -> HashMap<String, HashSet<String>> {
    out.iter()
        .filter(|(p, _)| p.ends_with(".html"))
        .filter_map(|(p, f)| match f {
            OutputFile::Bytes(b) => {
                Some((p.clone(), ids_in(&String::from_utf8_lossy(b)).collect()))
            }
            OutputFile::Copy(_) => None,
        })
        .collect()
}

/// Values of the named attributes, entity-decoded. A scan, not a parser: good for
/// the well-formed HTML our own templates produce.
fn attributes(html: &str, names: &[&str]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let bytes = html.as_bytes();
    for name in names {
        let needle = format!(" {name}=\"");
        // Every page is scanned once per build: memchr's search is several times faster
        // than `str::find` on pages of tens of kilobytes.
        let finder = memchr::memmem::Finder::new(needle.as_bytes());
        let mut at = 0;
        while let Some(i) = finder.find(&bytes[at..]) {
            let start = at + i + needle.len();
            let Some(len) = memchr::memchr(b'"', &bytes[start..]) else {
                break;
            };
            out.push((
                name.to_string(),
                site_config::unescape_html(&html[start..start + len]),
            ));
            at = start + len;
        }
    }
    // Not links: JSON-LD and meta tags are plain text; skip what is inside scripts.
    out
}

fn img_tags(html: &str) -> Vec<&str> {
    let mut tags = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find("<img") {
        rest = &rest[i..];
        let end = rest.find('>').map_or(rest.len(), |e| e + 1);
        tags.push(&rest[..end]);
        rest = &rest[end..];
    }
    tags
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribute_scan_decodes() {
        let html = r#"<a href="/a/?x=1&amp;y=2">x</a><h2 id="faq">"#;
        assert_eq!(
            attributes(html, &["href"]),
            vec![("href".into(), "/a/?x=1&y=2".into())]
        );
        assert_eq!(attributes(html, &["id"]), vec![("id".into(), "faq".into())]);
        let many = "<h2 id=\"é-1\">É</h2><p id=\"b\"></p><div data-id=\"no\"> id=\"open";
        assert_eq!(ids_in(many).collect::<Vec<_>>(), ["é-1", "b"]);
        assert_eq!(Ids::of(many).iter().collect::<Vec<_>>(), ["é-1", "b"]);
        assert_eq!(Ids::of("<p id=\"\"></p>").iter().count(), 0);
        assert_eq!(
            Ids::of("<p id=\"a\r\"></p><p id=\"b\nc\"></p>")
                .iter()
                .collect::<Vec<_>>(),
            ["a\r"]
        );
    }

    #[test]
    fn broken_links_are_explained() {
        let mut out = Output::new();
        out.insert(
            "about/index.html".into(),
            OutputFile::Bytes(b"<h2 id=\"team\">".to_vec()),
        );
        out.insert("img/a.jpg".into(), OutputFile::Bytes(vec![]));
        let ids = collect_ids(&out);
        let b = |u: &str| broken(u, "/", "https://c.example", &out, &ids);
        assert_eq!(b("/about/"), None);
        assert_eq!(b("/about/#team"), None);
        assert_eq!(b("https://c.example/about/"), None);
        assert_eq!(b("/img/a.jpg"), None);
        assert_eq!(b("https://elsewhere.example/x"), None);
        assert!(b("/about/#nope").unwrap().contains("no #nope"));
        assert!(b("/prices/")
            .unwrap()
            .contains("no page or file at /prices/"));
        assert!(
            b("/about").is_none(),
            "a folder without slash is served by hosts"
        );
        // What leaves the site is decided as the build's link check decides it
        // (`crate::urls::resolve`): any scheme, not only mailto: and tel:, and a `://`
        // in a query does not hide a missing page.
        assert_eq!(b("sms:+441234567890"), None);
        assert_eq!(b("javascript:void(0)"), None);
        assert!(b("/prices/?from=https://c.example/")
            .unwrap()
            .contains("no page or file at /prices/"));
    }
}
