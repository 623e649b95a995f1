//! Internal links and `#anchors` written by editors (in page text, FAQ answers and
//! `image:`), checked against the site's own pages and files, and their images' alt
//! text. `build` and `check`
//! both run it, so a broken internal link is never published; external links are
//! `check`'s business and not looked at here.
//!
//! It works from the content alone, so it also runs when other problems stop the
//! build (one run reports everything); once the site is rendered, the ids and files
//! the templates write count too.

use std::collections::{HashMap, HashSet};

use site_config::{suggest, Diagnostic, Diagnostics};

use crate::content::{normalise_alias, resolve_from_url, Content, RESERVED_IDS};
use crate::output::{Output, OutputFile};
use crate::site::output_path;

/// Where links may lead: every file the site will have (by output path) and the ids
/// each HTML page defines.
#[derive(Debug, Default)]
pub struct Targets {
    files: HashSet<String>,
    ids: HashMap<String, HashSet<String>>,
    /// Output path of each page to the Markdown file it comes from (`services/x.md`).
    sources: HashMap<String, String>,
    /// Whether `ids` holds what the templates wrote (the site was rendered).
    rendered: bool,
}

impl Targets {
    /// The pages, aliases and files of `content`, and `static_files` (output paths).
    pub fn from_content(content: &Content, static_files: impl IntoIterator<Item = String>) -> Self {
        let mut t = Targets::default();
        for page in &content.pages {
            let path = output_path(&page.url);
            let mut ids: HashSet<String> = page.anchors.iter().cloned().collect();
            ids.extend(RESERVED_IDS.iter().map(|s| s.to_string()));
            t.ids.insert(path.clone(), ids);
            t.files.insert(path.clone());
            for alias in &page.aliases {
                t.files.insert(output_path(&normalise_alias(alias)));
            }
            let source = page.source.strip_prefix("content").unwrap_or(&page.source);
            t.sources.insert(path, source.display().to_string());
        }
        for (_, url) in &content.assets {
            t.files.insert(url.trim_start_matches('/').to_string());
        }
        t.files.extend(static_files);
        t
    }

    /// Adds every file of the rendered site and the ids its pages define.
    pub fn add_output(&mut self, out: &Output) {
        for (path, file) in out {
            self.files.insert(path.clone());
            if let (true, OutputFile::Bytes(b)) = (path.ends_with(".html"), file) {
                let html = String::from_utf8_lossy(b);
                self.ids
                    .entry(path.clone())
                    .or_default()
                    .extend(crate::check::ids_in(&html));
            }
        }
        self.rendered = true;
    }

    /// Adds one rendered page and the ids its HTML defines (a build that streams its
    /// pages to disk keeps only these).
    pub fn add_ids(&mut self, path: String, ids: impl IntoIterator<Item = String>) {
        self.files.insert(path.clone());
        self.ids.entry(path).or_default().extend(ids);
        self.rendered = true;
    }

    fn has_file(&self, path: &str) -> bool {
        self.files.contains(path) || self.files.contains(&format!("{path}/index.html"))
    }

    fn ids_of(&self, path: &str) -> Option<&HashSet<String>> {
        self.ids
            .get(path)
            .or_else(|| self.ids.get(&format!("{path}/index.html")))
    }
}

/// Every internal link or image in the editors' Markdown and `image:` fields that
/// leads nowhere, and every Markdown image without alt text, at its file and line,
/// with a did-you-mean where one is close.
pub fn check_links(content: &Content, targets: &Targets, base_url: &str) -> Diagnostics {
    let mut problems = Diagnostics::default();
    for page in &content.pages {
        for l in &page.links {
            let link = &l.link;
            if link.is_image && link.missing_alt {
                problems.push(
                    Diagnostic::new(
                        &page.source,
                        format!("image `{}` has no alt text", link.written),
                    )
                    .at(link.line, link.column)
                    .with_hint(
                        "describe the image between the brackets: ![A treatment room](room.jpg)",
                    ),
                );
            }
            if let Some((why, hint)) = broken(&link.url, &page.url, base_url, targets) {
                let what = if link.is_image { "image" } else { "link" };
                let place = if l.place == "body" {
                    String::new()
                } else {
                    format!(" in the {}", l.place)
                };
                let mut d = Diagnostic::new(
                    &page.source,
                    format!("{what} `{}`{place}: {why}", link.written),
                )
                .at(link.line, link.column);
                if let Some(h) = hint {
                    d = d.with_hint(h);
                }
                problems.push(d);
            }
        }
        if let Some(img) = &page.image {
            if broken(img, &page.url, base_url, targets).is_some() {
                problems.push(
                    Diagnostic::new(&page.source, format!("image: {img} does not exist"))
                        .with_hint(
                            "put the image next to the page or in static/, and give its path",
                        ),
                );
            }
        }
    }
    problems.sort();
    problems
}

/// Why `url`, found on the page at `from`, leads nowhere, and a hint; `None` when it
/// is fine or external.
fn broken(
    url: &str,
    from: &str,
    base: &str,
    targets: &Targets,
) -> Option<(String, Option<String>)> {
    let url = url
        .strip_prefix(base)
        .filter(|r| r.starts_with('/'))
        .unwrap_or(url);
    if crate::content::has_scheme(url) || url.starts_with("//") {
        return None;
    }
    let (path, fragment) = match url.split_once('#') {
        Some((p, f)) => (p, Some(f)),
        None => (url, None),
    };
    let path = path.split('?').next().unwrap_or("");
    let site_path = if path.is_empty() {
        from.to_string()
    } else if path.starts_with('/') {
        path.to_string()
    } else {
        resolve_from_url(from, path)
    };
    let target = output_path(&site_path);
    if !targets.has_file(&target) {
        return Some(missing_file(&site_path, targets));
    }
    let fragment = fragment.filter(|f| !f.is_empty())?;
    let ids = targets.ids_of(&target)?;
    // Before rendering, only the ids Markdown defines are known; comment anchors come
    // from the comments file through the templates.
    if ids.contains(fragment) || (!targets.rendered && fragment.starts_with("comment-")) {
        return None;
    }
    let page = if path.is_empty() {
        "this page".to_string()
    } else {
        site_path.clone()
    };
    let hint =
        suggest(fragment, ids.iter().map(String::as_str)).map(|s| format!("did you mean `#{s}`?"));
    Some((format!("{page} has no #{fragment}"), hint))
}

fn missing_file(site_path: &str, targets: &Targets) -> (String, Option<String>) {
    if let Some(md) = site_path.strip_suffix(".md") {
        let file = format!("{}.md", md.trim_start_matches('/'));
        // Compare file names, not paths: pages in one folder share a long prefix.
        let name = |p: &str| p.rsplit('/').next().unwrap_or(p).to_string();
        let names: Vec<(String, &String)> =
            targets.sources.values().map(|s| (name(s), s)).collect();
        let hint = suggest(&name(&file), names.iter().map(|(n, _)| n.as_str()))
            .and_then(|n| names.iter().find(|(m, _)| m == n))
            .map(|(_, s)| format!("did you mean `{}`?", relative_like(&file, s)));
        return (format!("no page comes from content/{file}"), hint);
    }
    let pages = targets
        .sources
        .keys()
        .map(|p| p.strip_suffix("index.html").unwrap_or(p));
    let wanted = site_path.trim_start_matches('/');
    let hint = suggest(wanted, pages).map(|s| format!("did you mean `/{s}`?"));
    (format!("there is no page or file at {site_path}"), hint)
}

/// `services/laser-hair-removal.md` said as the editor would write it from beside
/// `wanted`: just the file name when both are in one folder.
fn relative_like(wanted: &str, found: &str) -> String {
    match (wanted.rsplit_once('/'), found.rsplit_once('/')) {
        (Some((a, _)), Some((b, name))) if a == b => name.to_string(),
        (None, None) => found.to_string(),
        _ => format!("/{found}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn targets() -> Targets {
        let mut t = Targets::default();
        for (path, source, ids) in [
            ("about/index.html", "about.md", vec!["team"]),
            (
                "services/laser-hair-removal/index.html",
                "services/laser-hair-removal.md",
                vec!["aftercare", "faq-does-it-hurt"],
            ),
        ] {
            t.files.insert(path.into());
            t.sources.insert(path.into(), source.into());
            t.ids
                .insert(path.into(), ids.into_iter().map(String::from).collect());
        }
        t.files.insert("img/a.jpg".into());
        t
    }

    fn why(url: &str) -> Option<(String, Option<String>)> {
        broken(url, "/services/smp/", "https://c.example", &targets())
    }

    #[test]
    fn sound_and_external_links_pass() {
        for ok in [
            "/about/",
            "/about/#team",
            "https://c.example/about/",
            "/img/a.jpg",
            "https://elsewhere.example/x",
            "mailto:a@b.example",
            "tel:+441",
            "/about",
        ] {
            assert_eq!(why(ok), None, "{ok}");
        }
    }

    /// Issue 16, item 2: a misspelt page or anchor gets a did-you-mean.
    #[test]
    fn misspelt_pages_and_anchors_are_suggested() {
        let (msg, hint) = why("/services/laser-hair-remval.md#aftercare").unwrap();
        assert_eq!(
            msg,
            "no page comes from content/services/laser-hair-remval.md"
        );
        assert_eq!(
            hint.as_deref(),
            Some("did you mean `laser-hair-removal.md`?")
        );
        let (msg, hint) = why("/services/laser-hair-removal/#afercare").unwrap();
        assert_eq!(msg, "/services/laser-hair-removal/ has no #afercare");
        assert_eq!(hint.as_deref(), Some("did you mean `#aftercare`?"));
        let (msg, hint) = why("/abuot/").unwrap();
        assert_eq!(msg, "there is no page or file at /abuot/");
        assert_eq!(hint.as_deref(), Some("did you mean `/about/`?"));
    }
}
