//! Walks `content/`, reads every page (in parallel; stage one, [`ParsedPage`]),
//! refuses two pages on one URL, and renders each page's Markdown with links resolved
//! against the other pages (stage two, [`Page`]), gathering every problem on the way.
//! Given the last build's [`ContentCache`], it reads only the files that changed.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use site_config::{Diagnostic, Diagnostics, SiteConfig};
use walkdir::WalkDir;

use super::cache::{self, CachedPage, ContentCache, Origin, SourceStamp};
use super::page::{parse_page, PageMeta, ParsedPage};
use super::render::render_page;
use super::{Page, PageKind};

/// Everything under `content/`.
#[derive(Debug, Default)]
pub struct Content {
    /// Published pages (drafts only when asked for), services ordered by `order`, then
    /// title. When loading found problems, the pages that could be read, for checking
    /// their links; such content is never rendered.
    pub pages: Vec<Page>,
    /// Files that are not Markdown, with the site path they are copied to.
    pub assets: Vec<(PathBuf, String)>,
    /// Pages marked `draft: true` that were left out (not checked either).
    pub drafts_left_out: usize,
    /// Pages that are not published (drafts left out, files that could not be read),
    /// so that a link to one says why rather than that nothing is there.
    pub unpublished: Vec<Unpublished>,
    /// Each page's file under `content/` to its URL; kept so one page can be read again
    /// without walking every page.
    pub(crate) md_urls: HashMap<String, String>,
}

impl Content {
    /// The services, in listing order.
    pub fn services(&self) -> impl Iterator<Item = &Page> {
        self.pages.iter().filter(|p| p.kind == PageKind::Service)
    }

    /// The fingerprint of every page's source and address, which links between
    /// Markdown files were resolved against.
    pub fn addresses(&self) -> String {
        cache::addresses(&self.md_urls)
    }
}

/// A page of `content/` that is not published, at the address it would have.
#[derive(Debug, Clone)]
pub struct Unpublished {
    /// Its file (`content/services/x.md`).
    pub source: PathBuf,
    /// Its address; for a file that could not be read, the one its name gives.
    pub url: String,
    /// Why it is not published.
    pub why: Why,
}

/// Why a page is not published.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Why {
    /// `draft: true`.
    Draft,
    /// Its file could not be read; its own problem says why.
    Unreadable,
}

/// A page read from its file, or taken from the cache.
enum Loaded {
    Read(Option<ParsedPage>, Vec<Diagnostic>),
    Cached(CachedPage),
}

impl Loaded {
    fn meta(&self) -> Option<&PageMeta> {
        match self {
            Loaded::Read(p, _) => p.as_ref().map(|p| &p.meta),
            Loaded::Cached(c) => Some(&c.meta),
        }
    }
}

/// Reads the content of the site at `root`. Returns every problem found, across all files.
/// The content comes back even when there are problems (see [`Content::pages`]), so
/// the caller can check its links too and report everything in one run.
pub fn load_content(root: &Path, config: &SiteConfig, drafts: bool) -> (Content, Diagnostics) {
    load_content_cached(root, config, drafts, None)
}

/// [`load_content`], taking the pages whose files did not change since `cache` was
/// made from it instead of reading them.
pub fn load_content_cached(
    root: &Path,
    config: &SiteConfig,
    drafts: bool,
    mut cache: Option<ContentCache>,
) -> (Content, Diagnostics) {
    let content_dir = root.join("content");
    let mut problems = Diagnostics::default();
    if !content_dir.is_dir() {
        problems.push(Diagnostic::new(
            "content",
            "there is no content/ folder in the site root",
        ));
        return (Content::default(), problems);
    }
    let mut sources = Vec::new();
    let mut assets = Vec::new();
    for entry in WalkDir::new(&content_dir)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| !is_ignored(e.file_name().to_str().unwrap_or("")))
    {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                let path = e
                    .path()
                    .map(Path::to_path_buf)
                    .unwrap_or_else(|| content_dir.clone());
                problems.push(Diagnostic::new(
                    shown(root, &path),
                    format!("cannot read: {e}"),
                ));
                continue;
            }
        };
        if !entry.file_type().is_file() {
            continue;
        }
        let path = entry.into_path();
        let rel = path
            .strip_prefix(&content_dir)
            .unwrap_or(&path)
            .to_path_buf();
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        if ext == "md" {
            sources.push((path, rel));
        } else if ext.eq_ignore_ascii_case("md") || ext.eq_ignore_ascii_case("markdown") {
            // Published as it is, its source and front matter would be a file on the site.
            let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("page");
            problems.push(
                Diagnostic::new(
                    shown(root, &path),
                    format!("`.{ext}` is not a page: only files ending in `.md` are"),
                )
                .with_hint(format!("rename it to {stem}.md")),
            );
        } else {
            let url = format!(
                "/{}",
                rel.iter()
                    .filter_map(|p| p.to_str())
                    .collect::<Vec<_>>()
                    .join("/")
            );
            assets.push((path, url));
        }
    }

    let t = std::time::Instant::now();
    let entries = match cache.as_mut() {
        Some(c) => c.take(sources.iter().map(|(p, _)| shown(root, p))),
        None => vec![None; sources.len()],
    };
    let mut loaded: Vec<Loaded> = sources
        .par_iter()
        .zip(entries.into_par_iter())
        .map(
            |((path, rel), entry)| match entry.and_then(|(source, e)| e.fresh(source, path)) {
                Some(page) => Loaded::Cached(page),
                None => {
                    let (page, found) = read_page(root, path, rel, config);
                    Loaded::Read(page, found)
                }
            },
        )
        .collect();
    crate::timing::phase("content: read and parse", t);
    let mut unpublished: Vec<Unpublished> = sources
        .iter()
        .zip(&loaded)
        .filter(|(_, l)| matches!(l, Loaded::Read(None, _)))
        .map(|((path, rel), _)| Unpublished {
            source: shown(root, path),
            url: super::paths::url_from_file_name(rel),
            why: Why::Unreadable,
        })
        .collect();
    // A draft is left out with its problems: it is not published, so it does not
    // stop the build; `--drafts` checks it.
    let before = loaded.len();
    loaded.retain(|l| match l.meta() {
        Some(m) if m.draft && !drafts => {
            unpublished.push(Unpublished {
                source: m.source.clone(),
                url: m.url.clone(),
                why: Why::Draft,
            });
            false
        }
        _ => true,
    });
    let drafts_left_out = before - loaded.len();

    let metas: Vec<&PageMeta> = loaded.iter().filter_map(Loaded::meta).collect();
    check_urls(root, &metas, &mut problems);
    let mut md_urls = md_urls(metas.iter().copied());
    // Links to them resolve, so that the link check can say why they lead nowhere.
    for u in &unpublished {
        let rel = u.source.strip_prefix("content").unwrap_or(&u.source);
        md_urls
            .entry(content_key(rel))
            .or_insert_with(|| u.url.clone());
    }
    // Links between Markdown files resolve against every page's address: when those
    // changed, the cached pages' links may resolve otherwise, so read them again.
    if cache
        .as_ref()
        .is_some_and(|c| !c.resolved_against(&cache::addresses(&md_urls)))
    {
        loaded.par_iter_mut().for_each(|l| {
            if let Loaded::Cached(c) = l {
                let path = root.join(&c.meta.source);
                let rel = c
                    .meta
                    .source
                    .strip_prefix("content")
                    .unwrap_or(&c.meta.source);
                let (page, found) = read_page(root, &path, rel, config);
                *l = Loaded::Read(page, found);
            }
        });
    }
    let metas: Vec<&PageMeta> = loaded.iter().filter_map(Loaded::meta).collect();
    if !metas.iter().any(|m| m.kind == PageKind::Home) {
        problems.push(
            Diagnostic::new("content/_index.md", "the home page is missing")
                .with_hint("create content/_index.md with a title and the home page's text"),
        );
    }
    let has_services = metas.iter().any(|m| m.kind == PageKind::Service);
    if has_services && !metas.iter().any(|m| m.kind == PageKind::Services) {
        problems.push(
            Diagnostic::new(
                "content/services/_index.md",
                "the services listing page is missing",
            )
            .with_hint("create content/services/_index.md with a title and an introduction"),
        );
    }

    let t = std::time::Instant::now();
    let rendered: Vec<(Option<Page>, Vec<Diagnostic>)> = loaded
        .into_par_iter()
        .map(|l| match l {
            Loaded::Read(Some(page), mut found) => {
                let (page, more) = render_page(page, &md_urls);
                found.extend(more);
                (Some(page), found)
            }
            Loaded::Read(None, found) => (None, found),
            Loaded::Cached(c) => (
                Some(Page {
                    meta: c.meta,
                    service: None,
                    content: String::new(),
                    links: c.links,
                    anchors: c.anchors,
                    origin: c.origin,
                }),
                Vec::new(),
            ),
        })
        .collect();
    let mut pages = Vec::with_capacity(rendered.len());
    for (page, found) in rendered {
        found.into_iter().for_each(|d| problems.push(d));
        pages.extend(page);
    }
    crate::timing::phase("content: markdown", t);
    problems.sort();
    pages.sort_by(|a, b| site_order(a).cmp(&site_order(b)));
    let content = Content {
        pages,
        assets,
        drafts_left_out,
        unpublished,
        md_urls,
    };
    (content, problems)
}

/// Reads and parses one Markdown file (`path`, which is `rel` under `content/`).
pub(crate) fn read_page(
    root: &Path,
    path: &Path,
    rel: &Path,
    config: &SiteConfig,
) -> (Option<ParsedPage>, Vec<Diagnostic>) {
    let shown = shown(root, path);
    let (bytes, stamp) = match read_stamped(path) {
        Ok(read) => read,
        Err(e) => {
            return (
                None,
                vec![Diagnostic::new(&shown, format!("cannot read: {e}"))],
            )
        }
    };
    let hash = blake3::hash(&bytes).to_hex().to_string();
    match String::from_utf8(bytes) {
        Ok(src) => {
            let (page, found) = parse_page(&shown, rel, &src, config);
            let page = page.map(|p| ParsedPage {
                origin: Origin {
                    stamp,
                    hash,
                    ..Origin::default()
                },
                ..p
            });
            (page, found)
        }
        Err(e) => {
            // The bytes before the first one that is not UTF-8 are text.
            let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
            let before = std::str::from_utf8(valid).unwrap_or_default();
            let (line, col) = site_config::line_col(before, before.len());
            (
                None,
                vec![Diagnostic::new(&shown, "the file is not valid UTF-8 text")
                    .at(line, col)
                    .with_hint("save it as UTF-8 in your editor")],
            )
        }
    }
}

/// Where a page stands in the site's order: services first, by `order`, then title,
/// then address; the rest after them the same way.
pub(crate) fn site_order(p: &Page) -> (bool, i64, &str, &str) {
    (p.kind != PageKind::Service, p.order, &p.title, &p.url)
}

/// The bytes of the file at `path` and its stamp, taken from the open file before
/// reading it: a file written meanwhile has another stamp next time, and a file
/// replaced between the two cannot lend the new one its stamp.
fn read_stamped(path: &Path) -> std::io::Result<(Vec<u8>, Option<SourceStamp>)> {
    use std::io::Read;
    let mut file = fs::File::open(path)?;
    let meta = file.metadata()?;
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    // Through `Take`: `File::read_to_end` would ask for the size again (a `statx` and an
    // `lseek` per file, 20,000 system calls at 10,000 pages) to size a buffer that
    // already has it.
    (&mut file).take(u64::MAX).read_to_end(&mut bytes)?;
    Ok((bytes, SourceStamp::of_meta(&meta)))
}

/// Each page's source under `content/` (`services/smp.md`) to its URL, for resolving
/// links between Markdown files.
pub(crate) fn md_urls<'a>(pages: impl Iterator<Item = &'a PageMeta>) -> HashMap<String, String> {
    pages
        .map(|p| {
            (
                content_key(p.source.strip_prefix("content").unwrap_or(&p.source)),
                p.url.clone(),
            )
        })
        .collect()
}

/// Editors' temp and backup files, and hidden files, are not content.
pub fn is_ignored(name: &str) -> bool {
    name.starts_with('.')
        || name.ends_with('~')
        || name.starts_with(".#")
        || (name.starts_with('#') && name.ends_with('#'))
        || name.ends_with(".swp")
        || name.ends_with(".swx")
        || name.ends_with(".tmp")
        || name == "4913" // vim's write test file
        || name.eq_ignore_ascii_case("thumbs.db")
        || name.eq_ignore_ascii_case("desktop.ini")
}

fn shown(root: &Path, path: &Path) -> PathBuf {
    path.strip_prefix(root).unwrap_or(path).to_path_buf()
}

fn content_key(rel: &Path) -> String {
    rel.iter()
        .filter_map(|p| p.to_str())
        .collect::<Vec<_>>()
        .join("/")
}

fn check_urls(root: &Path, pages: &[&PageMeta], problems: &mut Diagnostics) {
    // Cheap when nothing clashes, as in nearly every build.
    let mut seen: HashSet<String> = HashSet::with_capacity(pages.len());
    let clash = pages.iter().any(|p| {
        !seen.insert(p.url.clone()) || p.aliases.iter().any(|a| !seen.insert(normalise_alias(a)))
    });
    if !clash {
        return;
    }
    // The mistake is most likely the one just made: a page whose `slug` is written
    // out rather than its file name's, then the file saved last, is blamed; the other
    // keeps its address.
    let mut pages = pages.to_vec();
    let keyed: HashMap<&Path, (bool, Option<std::time::SystemTime>)> = pages
        .iter()
        .map(|p| {
            let rel = p.source.strip_prefix("content").unwrap_or(&p.source);
            let written_out = p.url != super::paths::url_from_file_name(rel);
            let saved = std::fs::metadata(root.join(&p.source))
                .and_then(|m| m.modified())
                .ok();
            (p.source.as_path(), (written_out, saved))
        })
        .collect();
    pages.sort_by_key(|p| keyed.get(p.source.as_path()).copied());
    // The first page to claim an address keeps it; later claims are the mistakes.
    // Each address to the page that has it, and whether as an alias.
    let mut owners: HashMap<String, (&Path, bool)> = HashMap::new();
    let mut claim = |url: String, source, alias| match owners.entry(url) {
        std::collections::hash_map::Entry::Occupied(e) => Some(*e.get()),
        std::collections::hash_map::Entry::Vacant(e) => {
            e.insert((source, alias));
            None
        }
    };
    for p in &pages {
        if let Some((other, _)) = claim(p.url.clone(), &p.source, false) {
            problems.push(
                Diagnostic::new(
                    &p.source,
                    format!(
                        "this page and {} would both be published at {}",
                        other.display(),
                        p.url
                    ),
                )
                .at_line(super::front_matter::line_mentioning(
                    root, &p.source, "slug:",
                ))
                .with_hint("give one of them a different `slug`"),
            );
        }
    }
    for p in &pages {
        for alias in &p.aliases {
            if let Some((other, as_alias)) = claim(normalise_alias(alias), &p.source, true) {
                let what = if as_alias {
                    "an alias of"
                } else {
                    "the address of"
                };
                problems.push(
                    Diagnostic::new(
                        &p.source,
                        format!("alias {alias} is already {what} {}", other.display()),
                    )
                    .at_line(super::front_matter::line_mentioning(root, &p.source, alias))
                    .with_hint("remove the alias, or give it an address no page has"),
                );
            }
        }
    }
}

/// `/old`, `/old/` and `/old/index.html` are the same address on static hosts.
pub fn normalise_alias(alias: &str) -> String {
    let alias = alias
        .strip_suffix("index.html")
        .filter(|a| a.ends_with('/'))
        .unwrap_or(alias);
    let trimmed = alias.trim_end_matches('/');
    let has_ext = trimmed
        .rsplit('/')
        .next()
        .is_some_and(|last| last.contains('.'));
    if has_ext {
        trimmed.to_string()
    } else {
        format!("{trimmed}/")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(rel: &str, front: &str) -> ParsedPage {
        let config = SiteConfig::parse(
            "title: C\nbase_url: https://c.example\ndescription: d\ncurrency: GBP\n\
             business:\n  name: C\n  email: a@c.example\n  phone: '1'\n  address:\n    \
             street: s\n    locality: l\n    postal_code: p\n    country: GB\n",
            Path::new("site.yaml"),
        )
        .unwrap();
        let src = format!("---\n{front}\n---\n");
        parse_page(
            &Path::new("content").join(rel),
            Path::new(rel),
            &src,
            &config,
        )
        .0
        .unwrap()
    }

    #[test]
    fn pages_and_aliases_on_one_url_collide() {
        let pages = [
            page("about.md", "title: About"),
            page("team.md", "title: Team\nslug: about"),
            page("a.md", "title: A\naliases: [/about]"),
            page("b.md", "title: B\naliases: [/old/]"),
            page("c.md", "title: C\naliases: [/old]"),
            page(
                "d.md",
                "title: D\naliases: [/about/index.html, /index.html]",
            ),
            page("_index.md", "title: Home"),
        ];
        let mut problems = Diagnostics::default();
        let metas: Vec<&PageMeta> = pages.iter().map(|p| &p.meta).collect();
        check_urls(Path::new("/nonexistent"), &metas, &mut problems);
        let text = problems.to_string();
        assert_eq!(problems.len(), 5, "{text}");
        assert!(
            text.contains(
                "content/d.md:1: alias /about/index.html is already the address of content/about.md"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "content/d.md:1: alias /index.html is already the address of content/_index.md"
            ),
            "{text}"
        );
        assert!(text.contains("content/team.md:1: this page and content/about.md would both be published at /about/"), "{text}");
        assert!(
            text.contains(
                "content/a.md:1: alias /about is already the address of content/about.md"
            ),
            "{text}"
        );
        assert!(
            text.contains("content/c.md:1: alias /old is already an alias of content/b.md"),
            "{text}"
        );
    }

    #[test]
    fn alias_forms_normalise() {
        assert_eq!(normalise_alias("/old"), "/old/");
        assert_eq!(normalise_alias("/old/"), "/old/");
        assert_eq!(normalise_alias("/old.html"), "/old.html");
        assert_eq!(normalise_alias("/old/index.html"), "/old/");
        assert_eq!(normalise_alias("/index.html"), "/");
        assert_eq!(normalise_alias("/oldindex.html"), "/oldindex.html");
    }

    #[test]
    fn editor_files_are_ignored() {
        for name in [
            ".about.md.swp",
            "about.md~",
            "#about.md#",
            ".#about.md",
            "4913",
            "x.tmp",
        ] {
            assert!(is_ignored(name), "{name}");
        }
        assert!(!is_ignored("about.md"));
    }
}
