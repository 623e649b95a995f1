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
use std::path::Path;

use rayon::prelude::*;
use site_config::{suggest, Diagnostic, Diagnostics, SiteConfig};

use crate::check::Ids;
use crate::content::{normalise_alias, Content, Page, Why, RESERVED_IDS};
use crate::output::{Output, OutputFile};
use crate::urls::{output_path, resolve, Resolved, Target};

/// Where links may lead: every file the site will have (by output path) and the ids
/// each HTML page defines. Pages borrow their anchors and source path from the
/// content: a rebuild of 10,000 pages makes this every time.
#[derive(Debug, Default)]
pub struct Targets<'a> {
    /// Files other than pages (aliases, assets, static and site-wide files).
    files: HashSet<String>,
    /// Each page by output path.
    pages: HashMap<String, PageTargets<'a>>,
    /// Whether the pages' ids hold what the templates wrote (the site was rendered).
    rendered: bool,
}

/// The ids one page defines, and the Markdown file it comes from.
#[derive(Debug, Default)]
struct PageTargets<'a> {
    /// The file under `content/` (`services/x.md`); none for a page only rendered.
    source: Option<&'a Path>,
    /// The ids its Markdown defines.
    anchors: &'a [String],
    /// The ids its rendered HTML defines.
    written: Vec<Ids>,
    /// Why it is not published, when it is not.
    unpublished: Option<(&'a Path, Why)>,
}

impl PageTargets<'_> {
    fn ids(&self) -> impl Iterator<Item = &str> {
        self.anchors
            .iter()
            .map(String::as_str)
            .chain(self.written.iter().flat_map(Ids::iter))
            // Ids the templates give every page made from content/.
            .chain(self.source.into_iter().flat_map(|_| RESERVED_IDS))
    }
}

impl<'a> Targets<'a> {
    /// The pages, aliases and files of `content`, and `static_files` (output paths).
    pub fn from_content(
        content: &'a Content,
        static_files: impl IntoIterator<Item = String>,
    ) -> Self {
        let mut t = Targets::default();
        t.pages.reserve(content.pages.len());
        for page in &content.pages {
            for alias in &page.aliases {
                t.files.insert(output_path(&normalise_alias(alias)));
            }
            let source = page.source.strip_prefix("content").unwrap_or(&page.source);
            t.pages.insert(
                output_path(&page.url),
                PageTargets {
                    source: Some(source),
                    anchors: &page.anchors,
                    ..PageTargets::default()
                },
            );
        }
        for u in &content.unpublished {
            t.pages
                .entry(output_path(&u.url))
                .or_insert_with(|| PageTargets {
                    unpublished: Some((&u.source, u.why)),
                    ..PageTargets::default()
                });
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
            match (path.ends_with(".html"), file) {
                (true, OutputFile::Bytes(b)) => {
                    let ids = Ids::of(&String::from_utf8_lossy(b));
                    self.add_ids(path.clone(), ids);
                }
                _ => {
                    self.files.insert(path.clone());
                }
            }
        }
        self.rendered = true;
    }

    /// Adds one rendered page and the ids its HTML defines (a build that streams its
    /// pages to disk keeps only these).
    pub(crate) fn add_ids(&mut self, path: String, ids: Ids) {
        self.pages.entry(path).or_default().written.push(ids);
        self.rendered = true;
    }

    fn page(&self, path: &str) -> Option<&PageTargets<'a>> {
        self.pages
            .get(path)
            .or_else(|| self.pages.get(&format!("{path}/index.html")))
    }

    /// Whether a file other than a page is at `path` (or `path/index.html`).
    fn has_other_file(&self, path: &str) -> bool {
        self.files.contains(path) || self.files.contains(&format!("{path}/index.html"))
    }

    /// Output path and source file of each page that comes from `content/`.
    fn sources(&self) -> impl Iterator<Item = (&str, &'a Path)> {
        self.pages
            .iter()
            .filter_map(|(path, p)| Some((path.as_str(), p.source?)))
    }
}

/// Every internal link or image in the editors' Markdown and `image:` fields that
/// leads nowhere, and every Markdown image without alt text, at its file and line,
/// with a did-you-mean where one is close.
pub fn check_links(
    root: &Path,
    content: &Content,
    targets: &Targets<'_>,
    config: &SiteConfig,
) -> Diagnostics {
    let base_url = config.base_url.as_str();
    // The pages on the pool's threads: on one, a rebuild of 10,000 pages spent ~50 ms here.
    let found: Vec<Vec<Diagnostic>> = content
        .pages
        .par_iter()
        .map(|page| page_problems(root, page, targets, base_url))
        .collect();
    let mut problems = Diagnostics::default();
    found.into_iter().flatten().for_each(|d| problems.push(d));
    menu_problems(root, config, targets).for_each(|d| problems.push(d));
    problems.sort();
    problems
}

/// Each menu link whose page is not there (a typo in `site.yaml` is a dead link on
/// every page), once, at its line. Its `#part` is left to `check`, which sees the ids
/// the templates write.
fn menu_problems<'m>(
    root: &Path,
    config: &'m SiteConfig,
    targets: &'m Targets<'_>,
) -> impl Iterator<Item = Diagnostic> + 'm {
    let mut yaml: Option<String> = None;
    let root = root.to_path_buf();
    config.menu.iter().filter_map(move |item| {
        let path = item.url.split('#').next().unwrap_or("");
        if config.served_by_form_service(path) {
            return None;
        }
        let (why, hint) = broken(path, "/", config.base_url.as_str(), targets)?;
        let src = yaml.get_or_insert_with(|| {
            std::fs::read_to_string(root.join("site.yaml")).unwrap_or_default()
        });
        let d = menu_diagnostic(src, &item.url, &why);
        Some(match hint {
            Some(h) => d.with_hint(h),
            None => d,
        })
    })
}

/// A menu link that leads nowhere (`why`), at its line in `site_yaml`: the build's
/// check of the page it names and `check`'s of its `#part` say it alike.
pub(crate) fn menu_diagnostic(site_yaml: &str, url: &str, why: &str) -> Diagnostic {
    let line = site_config::locate_value(site_yaml, &["menu"], url).map_or(1, |(l, _)| l);
    Diagnostic::new("site.yaml", format!("the menu links to {url}: {why}")).at_line(line)
}

/// [`check_links`] for one page.
fn page_problems(
    root: &Path,
    page: &Page,
    targets: &Targets<'_>,
    base_url: &str,
) -> Vec<Diagnostic> {
    let mut problems = Vec::new();
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
            let mut d = Diagnostic::new(&page.source, format!("image: {img} does not exist"))
                .with_hint("put the image next to the page or in static/, and give its path");
            if let Some(line) = crate::content::key_line_in_file(root, &page.source, "image") {
                d = d.at_line(line);
            }
            problems.push(d);
        }
    }
    problems
}

/// Why `url`, found on the page at `from`, leads nowhere, and a hint; `None` when it
/// is fine or external.
fn broken(
    url: &str,
    from: &str,
    base: &str,
    targets: &Targets<'_>,
) -> Option<(String, Option<String>)> {
    let Resolved::Target(Target {
        path,
        site_path,
        output: target,
        fragment,
    }) = resolve(url, from, base)
    else {
        return None;
    };
    // Most links lead to pages: looked up first, and once.
    let page = targets.page(&target);
    match page.and_then(|p| p.unpublished) {
        // Its own problem says what to fix.
        Some((_, Why::Unreadable)) => return None,
        Some((source, Why::Draft)) => {
            return Some((
                format!(
                    "{site_path} is a draft (`draft: true` in {}), so it is not published",
                    source.display()
                ),
                Some("publish that page first, or take the link out for now".into()),
            ))
        }
        None => {}
    }
    if page.is_none() && !targets.has_other_file(&target) {
        return Some(missing_file(&site_path, targets));
    }
    let fragment = fragment.filter(|f| !f.is_empty())?;
    let page = page?;
    // Before rendering, only the ids Markdown defines are known; comment anchors come
    // from the comments file through the templates.
    if page.ids().any(|id| id == fragment)
        || (!targets.rendered && fragment.starts_with("comment-"))
    {
        return None;
    }
    let hint = suggest(fragment, page.ids()).map(|s| format!("did you mean `#{s}`?"));
    let page = if path.is_empty() {
        "this page".to_string()
    } else {
        site_path.into_owned()
    };
    Some((format!("{page} has no #{fragment}"), hint))
}

fn missing_file<'a>(site_path: &str, targets: &'a Targets<'_>) -> (String, Option<String>) {
    if let Some(md) = site_path.strip_suffix(".md") {
        let file = format!("{}.md", md.trim_start_matches('/'));
        // Compare file names, not paths: pages in one folder share a long prefix.
        let name = |p: &str| p.rsplit('/').next().unwrap_or(p).to_string();
        let names: Vec<(String, String)> = targets
            .sources()
            .map(|(_, s)| s.display().to_string())
            .map(|s| (name(&s), s))
            .collect();
        let hint = suggest(&name(&file), names.iter().map(|(n, _)| n.as_str()))
            .and_then(|n| names.iter().find(|(m, _)| m == n))
            .map(|(_, s)| format!("did you mean `{}`?", relative_like(&file, s)));
        return (format!("no page comes from content/{file}"), hint);
    }
    let wanted = site_path.trim_start_matches('/');
    let wanted_name = wanted.rsplit('/').next().unwrap_or(wanted);
    if wanted_name.contains('.') {
        // A file (a photo, a PDF): another file's name, not a page, is the likely one.
        // Names compared, not paths, which share long prefixes.
        let name = |p: &'a str| p.rsplit('/').next().unwrap_or(p);
        let best = suggest(wanted_name, targets.files.iter().map(|f| name(f)))
            .and_then(|n| targets.files.iter().find(|f| name(f) == n));
        let hint = best.map(|s| format!("did you mean `/{s}`?"));
        return (format!("there is no page or file at {site_path}"), hint);
    }
    let pages = targets
        .sources()
        .map(|(p, _)| p.strip_suffix("index.html").unwrap_or(p));
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

    fn targets() -> Targets<'static> {
        let mut t = Targets::default();
        for (path, source, ids) in [
            ("about/index.html", "about.md", vec!["team"]),
            (
                "services/laser-hair-removal/index.html",
                "services/laser-hair-removal.md",
                vec!["aftercare", "faq-does-it-hurt"],
            ),
        ] {
            t.pages.insert(
                path.into(),
                PageTargets {
                    source: Some(Path::new(source)),
                    anchors: &[],
                    written: vec![Ids::of(
                        &ids.iter()
                            .map(|i| format!("<p id=\"{i}\">"))
                            .collect::<String>(),
                    )],
                    unpublished: None,
                },
            );
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

    /// The ids templates give every content page count on those pages only: a page that
    /// is only rendered (a redirect, 404.html) has the ids its HTML writes.
    #[test]
    fn reserved_ids_belong_to_content_pages() {
        let mut t = targets();
        t.add_ids("old/index.html".into(), Ids::of("<p id=\"x\">"));
        let why = |url| broken(url, "/services/smp/", "https://c.example", &t);
        assert_eq!(why("/about/#book"), None);
        assert_eq!(why("/old/#x"), None);
        let (msg, _) = why("/old/#book").unwrap();
        assert_eq!(msg, "/old/ has no #book");
    }

    /// A missing photo is offered a file whose name is close, never a page.
    #[test]
    fn a_missing_file_is_offered_a_file_not_a_page() {
        let (_, hint) = why("/img/b.jpg").unwrap();
        assert_eq!(hint.as_deref(), Some("did you mean `/img/a.jpg`?"));
        let (_, hint) = why("/about.png").unwrap();
        assert_eq!(hint, None, "a page is no photo");
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
