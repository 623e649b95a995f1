//! What the last build read from each Markdown file, kept in `.cache/build/content/`
//! so that a rebuild reads again only the files that changed (issue 17). It is kept in
//! [`SHARDS`] files by source path, and a build writes again only those holding a page
//! it read.
//!
//! Reading and parsing ten thousand files, and rendering their Markdown, is most of a
//! rebuild's time; a page whose file has the same size, times and inode as when it was
//! read is taken from here instead, as a *cached page* ([`Origin::cached`]): its address,
//! kind, title and order, its links and anchors (for the link check), and, for a service,
//! how listings show it. Its text is read again only when the page is rendered.
//!
//! The cache holds only pages that had no problems, and is used only by a generator of
//! the same build with the same settings (`site.yaml` and the build options, see
//! [`ContentCache::context`]); when the set of pages' addresses changed, every page is
//! read again, because links between Markdown files resolve against them.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::{GalleryItem, LocatedLink, PageKind, PageMeta};
use crate::file_stamp;
use crate::markdown::LinkRef;

/// Bumped when what the cache means changes; an older one is ignored.
const VERSION: u32 = 6;

/// How many files the cache is kept in.
pub const SHARDS: usize = 16;

/// The file of the cache that keeps the page read from `source`.
pub fn shard_of(source: &Path) -> usize {
    usize::from(blake3::hash(source.as_os_str().as_encoded_bytes()).as_bytes()[0]) % SHARDS
}

/// Which file a page was read from: size, modification and change times, inode. Any
/// write to the file changes its change time, which no tool can set back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceStamp {
    len: u64,
    modified_ns: u128,
    changed_ns: i128,
    inode: u64,
}

impl SourceStamp {
    /// The stamp of the file at `path`, when it can be read.
    pub fn of(path: &Path) -> Option<SourceStamp> {
        SourceStamp::of_meta(&fs::metadata(path).ok()?)
    }

    /// The stamp of the file `meta` describes.
    pub fn of_meta(meta: &fs::Metadata) -> Option<SourceStamp> {
        #[cfg(unix)]
        let changed_ns = {
            use std::os::unix::fs::MetadataExt;
            i128::from(meta.ctime()) * 1_000_000_000 + i128::from(meta.ctime_nsec())
        };
        #[cfg(not(unix))]
        let changed_ns = 0;
        Some(SourceStamp {
            len: meta.len(),
            modified_ns: file_stamp::modified_ns(meta)?,
            changed_ns,
            inode: file_stamp::inode(meta),
        })
    }
}

/// Where a page's data came from in this run.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    /// The source file's stamp taken before it was read (`None`: not to be cached).
    pub stamp: Option<SourceStamp>,
    /// The fingerprint of the source file's bytes.
    pub hash: String,
    /// True for a page taken from the cache without reading its file: only its
    /// address, kind, slug, title, order, aliases, template, photos, links and anchors
    /// are known. Render it from [`super::reload_page`].
    pub cached: bool,
    /// For a service, how listings show it (made when the site is loaded; kept by the
    /// cache, for a cached page lacks what it is made from).
    pub listed: Option<Listed>,
}

/// How listings show a service, as JSON text (see `site::context`), and the text's
/// fingerprint: what decides whether listings render again. Fingerprinted once, when
/// made, and kept with it: hashing 10,000 services' texts (~6 MB) on every build took
/// ~30 ms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Listed {
    /// Empty for a page read from its file once `build` has written the cache
    /// (`Site::content_cache_saver`): only a page from the cache needs it.
    pub text: String,
    pub hash: [u8; 32],
}

impl Listed {
    pub fn new(text: String) -> Listed {
        let hash = *blake3::hash(text.as_bytes()).as_bytes();
        Listed { text, hash }
    }
}

/// One page as the cache keeps it.
#[derive(Debug, Clone, Deserialize)]
pub(super) struct Entry {
    stamp: SourceStamp,
    hash: String,
    kind: PageKind,
    url: String,
    slug: String,
    title: String,
    template: String,
    order: i64,
    draft: bool,
    aliases: Vec<String>,
    image: Option<String>,
    image_alt: Option<String>,
    gallery: Vec<GalleryItem>,
    links: Vec<(LinkRef, bool)>,
    anchors: Vec<String>,
    listed: Option<Listed>,
}

impl Entry {
    /// The page read from `source` (the file at `path`) last time, if the file is still
    /// the one read then.
    pub(super) fn fresh(self, source: PathBuf, path: &Path) -> Option<CachedPage> {
        if self.kind == PageKind::Service && self.listed.is_none() {
            return None;
        }
        (SourceStamp::of(path)? == self.stamp).then(|| CachedPage {
            meta: PageMeta {
                kind: self.kind,
                source,
                url: self.url,
                slug: self.slug,
                title: self.title,
                summary: String::new(),
                template: self.template,
                form: None,
                order: self.order,
                draft: self.draft,
                aliases: self.aliases,
                image: self.image,
                image_alt: self.image_alt,
                gallery: self.gallery,
                extra: Default::default(),
            },
            links: self
                .links
                .into_iter()
                .map(|(link, faq)| LocatedLink {
                    link,
                    place: if faq { "FAQ answer" } else { "body" },
                })
                .collect(),
            anchors: self.anchors,
            origin: Origin {
                stamp: Some(self.stamp),
                hash: self.hash,
                cached: true,
                listed: self.listed,
            },
        })
    }
}

/// The pages of the last build, by source file (`content/services/smp.md`).
#[derive(Debug, Default, Deserialize)]
pub struct ContentCache {
    version: u32,
    context: String,
    /// Every page's source and URL, as the pages' links were resolved against them.
    addresses: String,
    pages: HashMap<PathBuf, Entry>,
}

/// A page read from the cache: what [`super::Page`] needs of it.
pub(super) struct CachedPage {
    pub meta: PageMeta,
    pub links: Vec<LocatedLink>,
    pub anchors: Vec<String>,
    pub origin: Origin,
}

impl ContentCache {
    fn dir(root: &Path) -> PathBuf {
        root.join(".cache").join("build").join("content")
    }

    /// The fingerprint of what reading a page depends on beyond its file: this
    /// generator and the site's settings (given as their `Debug` text).
    pub fn context(settings: &str) -> String {
        let mut h = blake3::Hasher::new();
        h.update(env!("CARGO_PKG_VERSION").as_bytes());
        if let Some(m) = std::env::current_exe()
            .ok()
            .and_then(|p| fs::metadata(p).ok())
        {
            h.update(format!("{:?}", (m.len(), m.modified().ok())).as_bytes());
        }
        h.update(settings.as_bytes());
        h.finalize().to_hex().to_string()
    }

    /// The cache of the site at `root`, as far as it was made in `context`; pages in a
    /// file that cannot be read, or was made otherwise, are read from their files.
    pub fn load(root: &Path, context: &str) -> ContentCache {
        use rayon::prelude::*;
        let dir = ContentCache::dir(root);
        let shards: Vec<ContentCache> = (0..SHARDS)
            .into_par_iter()
            .filter_map(|n| {
                fs::read(dir.join(format!("{n:02}.bin")))
                    .ok()
                    .and_then(|b| postcard::from_bytes::<ContentCache>(&b).ok())
                    .filter(|c| c.version == VERSION && c.context == context)
            })
            .collect();
        let mut all = ContentCache::default();
        for shard in shards {
            // Shards made against other addresses: their pages' links are stale.
            if !all.pages.is_empty() && all.addresses != shard.addresses {
                return ContentCache::default();
            }
            all.addresses = shard.addresses;
            all.pages.extend(shard.pages);
        }
        all
    }

    /// Takes the entry of each of `sources` out of the cache, with its source, in their
    /// order: an entry is used once, moved rather than copied (a rebuild of 10,000 pages
    /// takes them all).
    pub(super) fn take(
        &mut self,
        sources: impl Iterator<Item = PathBuf>,
    ) -> Vec<Option<(PathBuf, Entry)>> {
        sources
            .map(|s| self.pages.remove(&s).map(|e| (s, e)))
            .collect()
    }

    /// True when the pages' links were resolved against these `addresses`.
    pub(super) fn resolved_against(&self, addresses: &str) -> bool {
        self.addresses == addresses
    }

    /// The files of the cache of these pages, made in `context` with links resolved
    /// against `addresses`: for each file `dirty` names, its number and its bytes. Each
    /// page is written as it is held, nothing copied (copying 10,000 pages' entries
    /// first took ~70 MB at the build's peak); a page without a stamp (not to be
    /// cached) is left out. Fails as a whole when a page cannot be written (a source
    /// path that is not UTF-8), so that `build` says the cache was not saved.
    pub fn files(
        context: &str,
        addresses: &str,
        pages: &[super::Page],
        dirty: impl Fn(usize) -> bool + Sync,
    ) -> std::io::Result<Vec<(usize, Vec<u8>)>> {
        let mut shards: Vec<Vec<(&Path, EntryRef<'_>)>> = (0..SHARDS).map(|_| Vec::new()).collect();
        for p in pages {
            let n = shard_of(&p.source);
            let Some(stamp) = p.origin.stamp.filter(|_| dirty(n)) else {
                continue;
            };
            // Every service has it once the site is loaded ([`Entry::fresh`] would
            // refuse one without it).
            debug_assert!(p.kind != PageKind::Service || p.origin.listed.is_some());
            shards[n].push((p.source.as_path(), EntryRef::of(p, stamp)));
        }
        shards
            .into_par_iter()
            .enumerate()
            .filter(|(n, _)| dirty(*n))
            .map(|(n, pages)| {
                let shard = ShardRef {
                    version: VERSION,
                    context,
                    addresses,
                    pages: Pages(pages),
                };
                // Sized first: a vector grown by doubling leaves its smaller copies
                // behind, which the allocator keeps for the rest of the build.
                let size =
                    postcard::serialize_with_flavor(&shard, postcard::ser_flavors::Size::default())
                        .map_err(std::io::Error::other)?;
                let bytes = postcard::to_extend(&shard, Vec::with_capacity(size))
                    .map_err(std::io::Error::other)?;
                Ok((n, bytes))
            })
            .collect()
    }

    /// Saves `files` ([`ContentCache::files`]) into the cache of the site at `root`, each
    /// whole, by a rename.
    pub fn save(root: &Path, files: Vec<(usize, Vec<u8>)>) -> std::io::Result<()> {
        let dir = ContentCache::dir(root);
        fs::create_dir_all(&dir)?;
        for (n, bytes) in files {
            let tmp = dir.join(format!(".{n:02}.{}.tmp", std::process::id()));
            fs::write(&tmp, bytes)?;
            fs::rename(&tmp, dir.join(format!("{n:02}.bin")))?;
        }
        Ok(())
    }
}

/// A file of the cache as written: [`ContentCache`]'s bytes, from borrowed pages.
#[derive(Serialize)]
struct ShardRef<'a> {
    version: u32,
    context: &'a str,
    addresses: &'a str,
    pages: Pages<'a>,
}

/// The pages of one file, written as the map [`ContentCache::pages`] is read as.
struct Pages<'a>(Vec<(&'a Path, EntryRef<'a>)>);

impl Serialize for Pages<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(k, v)| (k, v)))
    }
}

/// An [`Entry`] borrowed from its page: the same fields, in the same order, so the same
/// bytes.
#[derive(Serialize)]
struct EntryRef<'a> {
    stamp: SourceStamp,
    hash: &'a str,
    kind: PageKind,
    url: &'a str,
    slug: &'a str,
    title: &'a str,
    template: &'a str,
    order: i64,
    draft: bool,
    aliases: &'a [String],
    image: Option<&'a str>,
    image_alt: Option<&'a str>,
    gallery: &'a [GalleryItem],
    #[serde(serialize_with = "links_as_kept")]
    links: &'a [LocatedLink],
    anchors: &'a [String],
    listed: Option<&'a Listed>,
}

impl<'a> EntryRef<'a> {
    fn of(p: &'a super::Page, stamp: SourceStamp) -> EntryRef<'a> {
        EntryRef {
            stamp,
            hash: &p.origin.hash,
            kind: p.kind,
            url: &p.url,
            slug: &p.slug,
            title: &p.title,
            template: &p.template,
            order: p.order,
            draft: p.draft,
            aliases: &p.aliases,
            image: p.image.as_deref(),
            image_alt: p.image_alt.as_deref(),
            gallery: &p.gallery,
            links: &p.links,
            anchors: &p.anchors,
            listed: p.origin.listed.as_ref(),
        }
    }
}

/// A page's links as [`Entry::links`] keeps them: each with whether it is in an FAQ.
fn links_as_kept<S: serde::Serializer>(links: &&[LocatedLink], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(links.iter().map(|l| (&l.link, l.place != "body")))
}

/// The fingerprint of every page's source and address (`md_urls`), sorted.
pub(super) fn addresses(md_urls: &HashMap<String, String>) -> String {
    let mut all: Vec<(&String, &String)> = md_urls.iter().collect();
    all.sort_unstable();
    let mut h = blake3::Hasher::new();
    for (source, url) in all {
        h.update(source.as_bytes());
        h.update(b"\0");
        h.update(url.as_bytes());
        h.update(b"\0");
    }
    h.finalize().to_hex().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::Page;

    /// [`EntryRef`] writes what [`Entry`] reads: every field, each in its place.
    #[test]
    fn a_page_written_to_the_cache_reads_back_as_it_was() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("smp.md");
        fs::write(&file, "---\ntitle: Scalp\n---\n").unwrap();
        let stamp = SourceStamp::of(&file).unwrap();
        let link = |url: &str, line| LinkRef {
            url: url.into(),
            written: format!("{url}x.md"),
            line,
            column: 2,
            is_image: line > 5,
            missing_alt: line > 8,
        };
        let page = Page {
            meta: PageMeta {
                kind: PageKind::Service,
                source: PathBuf::from("content/services/smp.md"),
                url: "/services/smp/".into(),
                slug: "smp".into(),
                title: "Scalp micropigmentation".into(),
                summary: "Dots.".into(),
                template: "service.html".into(),
                form: None,
                order: 7,
                draft: true,
                aliases: vec!["/smp/".into(), "/scalp/".into()],
                image: Some("/img/a.jpg".into()),
                image_alt: Some("A treatment room".into()),
                gallery: vec![GalleryItem {
                    image: "/img/b.jpg".into(),
                    alt: "The chair".into(),
                    caption: Some("Our Marylebone room".into()),
                }],
                extra: Default::default(),
            },
            service: None,
            content: String::new(),
            links: vec![
                LocatedLink {
                    link: link("/a/", 3),
                    place: "body",
                },
                LocatedLink {
                    link: link("/b/", 9),
                    place: "FAQ answer",
                },
            ],
            anchors: vec!["aftercare".into(), "faq-does-it-hurt".into()],
            origin: Origin {
                stamp: Some(stamp),
                hash: "0123abcd".into(),
                cached: false,
                listed: Some(Listed::new("{\"title\":\"Scalp\"}".into())),
            },
        };
        let files =
            ContentCache::files("context", "addresses", std::slice::from_ref(&page), |_| {
                true
            })
            .unwrap();
        assert_eq!(files.len(), SHARDS, "every file named dirty is written");
        let (_, bytes) = files
            .iter()
            .find(|(n, _)| *n == shard_of(&page.source))
            .unwrap();
        let mut cache: ContentCache = postcard::from_bytes(bytes).unwrap();
        assert_eq!(
            (cache.version, cache.context.as_str()),
            (VERSION, "context")
        );
        assert!(cache.resolved_against("addresses"));
        let (source, entry) = cache
            .take(std::iter::once(page.source.clone()))
            .pop()
            .flatten()
            .unwrap();
        let back = entry.fresh(source, &file).unwrap();
        let (m, p) = (&back.meta, &page.meta);
        assert_eq!(m.source, p.source);
        assert_eq!(m.kind, p.kind);
        assert_eq!(
            [&m.url, &m.slug, &m.title, &m.template],
            [&p.url, &p.slug, &p.title, &p.template]
        );
        assert_eq!((m.order, m.draft), (p.order, p.draft));
        assert_eq!(m.aliases, p.aliases);
        assert_eq!((&m.image, &m.image_alt), (&p.image, &p.image_alt));
        assert_eq!(m.gallery, p.gallery);
        let links: Vec<_> = back.links.iter().map(|l| (&l.link, l.place)).collect();
        assert_eq!(
            links,
            page.links
                .iter()
                .map(|l| (&l.link, l.place))
                .collect::<Vec<_>>()
        );
        assert_eq!(back.anchors, page.anchors);
        assert_eq!(back.origin.hash, page.origin.hash);
        assert_eq!(back.origin.listed, page.origin.listed);
        assert!(back.origin.cached);
    }
}
