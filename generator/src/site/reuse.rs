//! What a build remembers about the output it wrote, so that the next build renders
//! only the pages whose inputs changed (issue 17).
//!
//! Each page's inputs get a fingerprint ([`Site::page_key`]): its source file's bytes
//! and path, its comments, and everything site-wide that every page shows
//! (configuration, templates, the static files' names and fingerprints, every page's
//! source and address, the build options, this generator), plus how listings show the
//! services for the pages that list them ([`super::deps::is_listing`], the same model
//! `serve` uses; the `404.html` page too), and every service's slug, title and order
//! for the pages whose last rendering had a form offering any service but the page's
//! own ([`crate::templates::noting_services`]): editing a service's title renders those
//! pages and the listings again, not every page.
//! The record keeps, for every page, that fingerprint, the size, modification time and
//! inode of the file written, and the ids its HTML defines (for checking links without
//! reading the file), and every file and folder of the output (for using it as the spare
//! later, [`crate::output::Contents`]). A page whose fingerprint is unchanged and whose
//! file in the previous output is still the one written is linked, not rendered;
//! anything else (no record, a file changed by hand, a page whose photos are over the
//! size limits, so that the warning is given again) is rendered and compared.
//!
//! The records live in `.cache/build/` under the site root, one per output folder and
//! one per spare, beside the lock of each spare ([`super::SpareLock`]), never in the
//! published output.

use std::collections::HashMap;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::deps::is_listing;
use super::Site;
use crate::check::Ids;
use crate::content::Page;
use crate::file_stamp;
use crate::output::{Contents, OutputFile};

/// Bumped when what a record means changes; an older record is ignored.
const VERSION: u32 = 7;

/// The record of one build's output.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Record {
    version: u32,
    /// The output folder it describes.
    output: PathBuf,
    /// Pages by output path (`services/smp/index.html`); on disk with their ids
    /// written once each ([`interned`]).
    #[serde(with = "interned")]
    pages: HashMap<String, PageRecord>,
    /// Every file and folder of the output, for using it as the spare later.
    contents: Contents,
}

/// One page of a [`Record`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct PageRecord {
    /// The fingerprint of the page's inputs ([`Site::page_key`]).
    pub key: String,
    /// The file written: it must still be this one to be reused.
    pub stamp: Stamp,
    /// The ids its HTML defines.
    pub ids: Ids,
    /// A form in it offered a service other than the page's own: `key` covers every
    /// service's title and order.
    pub offers_services: bool,
    /// The photos it shows, published with it when it is linked.
    pub photos: Vec<RecordedPhoto>,
}

/// The pages of a record as written: every id once, in a table, and each page's ids as
/// places in it. Most of a page's ids are every page's (the forms' fields, the
/// template's landmarks), so written out with each page they were three quarters of a
/// 10,000-page record (9.5 MB), which every rebuild reads and writes.
mod interned {
    use std::collections::HashMap;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::{PageRecord, RecordedPhoto, Stamp};
    use crate::check::Ids;

    /// [`PageRecord`] as written.
    #[derive(Serialize)]
    struct Out<'a> {
        key: &'a str,
        stamp: Stamp,
        ids: Vec<u32>,
        offers_services: bool,
        photos: &'a [RecordedPhoto],
    }

    /// [`PageRecord`] as read ([`Out`]'s fields, owned).
    #[derive(Deserialize)]
    struct In {
        key: String,
        stamp: Stamp,
        ids: Vec<u32>,
        offers_services: bool,
        photos: Vec<RecordedPhoto>,
    }

    pub(super) fn serialize<S: Serializer>(
        pages: &HashMap<String, PageRecord>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        let mut table: Vec<&str> = Vec::new();
        let mut index: HashMap<&str, u32> = HashMap::new();
        let mut place = |id| {
            *index.entry(id).or_insert_with(|| {
                table.push(id);
                (table.len() - 1) as u32
            })
        };
        let pages: Vec<(&String, Out<'_>)> = pages
            .iter()
            .map(|(path, p)| {
                let out = Out {
                    key: &p.key,
                    stamp: p.stamp,
                    ids: p.ids.iter().map(&mut place).collect(),
                    offers_services: p.offers_services,
                    photos: &p.photos,
                };
                (path, out)
            })
            .collect();
        (table, pages).serialize(s)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<HashMap<String, PageRecord>, D::Error> {
        let (table, pages) = <(Vec<String>, Vec<(String, In)>)>::deserialize(d)?;
        pages
            .into_iter()
            .map(|(path, p)| {
                let ids = p
                    .ids
                    .iter()
                    .map(|&i| table.get(i as usize).map(String::as_str))
                    .collect::<Option<Vec<&str>>>()
                    .ok_or_else(|| serde::de::Error::custom("an id out of the table"))?;
                let page = PageRecord {
                    key: p.key,
                    stamp: p.stamp,
                    ids: Ids::from_ids(ids),
                    offers_services: p.offers_services,
                    photos: p.photos,
                };
                Ok((path, page))
            })
            .collect()
    }
}

/// A photo a page showed when it was rendered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct RecordedPhoto {
    /// The file, relative to the site root (as the page's source is).
    pub source: String,
    /// The line of the page that shows it, when known.
    pub line: Option<usize>,
    /// The stem of its processed files, which the page's HTML names (`name.<hash>`): a
    /// file replaced keeping its size and time (a restored backup) still has another.
    pub stem: String,
}

/// Which file is at a path: size, modification time and inode. A file edited or
/// replaced since has another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Stamp {
    len: u64,
    modified_ns: u128,
    inode: u64,
}

impl Stamp {
    /// The file's inode.
    pub(crate) fn inode(&self) -> u64 {
        self.inode
    }

    /// The stamp of the file at `path` (symlinks not followed).
    pub(crate) fn of(path: &Path) -> Option<Stamp> {
        Stamp::of_meta(&fs::symlink_metadata(path).ok()?)
    }

    /// The stamp of the file `meta` describes (`None` for anything but a file).
    pub(crate) fn of_meta(meta: &fs::Metadata) -> Option<Stamp> {
        if !meta.is_file() {
            return None;
        }
        Some(Stamp {
            len: meta.len(),
            modified_ns: file_stamp::modified_ns(meta)?,
            inode: file_stamp::inode(meta),
        })
    }
}

impl Record {
    /// Where the record of builds into `output` is kept (and, beside it, the lock of a
    /// spare, [`super::SpareLock`]).
    pub(super) fn path(root: &Path, output: &Path) -> PathBuf {
        let name = blake3::hash(output.as_os_str().as_encoded_bytes()).to_hex();
        root.join(".cache")
            .join("build")
            .join(format!("{}.bin", &name[..16]))
    }

    /// Which file holds the record of `output` now: each build saves a new one, so
    /// another build's record has another stamp.
    pub(crate) fn stamp(root: &Path, output: &Path) -> Option<Stamp> {
        Stamp::of(&Record::path(root, &std::path::absolute(output).ok()?))
    }

    /// The record of the build that wrote `output`; empty when there is none, it cannot
    /// be read, or it describes another folder.
    pub fn load(root: &Path, output: &Path) -> Record {
        let Ok(output) = std::path::absolute(output) else {
            return Record::default();
        };
        fs::read(Record::path(root, &output))
            .ok()
            .and_then(|b| postcard::from_bytes::<Record>(&b).ok())
            .filter(|r| r.version == VERSION && r.output == output)
            .unwrap_or_default()
    }

    /// A record of `pages`, for the output named by [`Record::save`].
    pub(crate) fn new(pages: HashMap<String, PageRecord>) -> Record {
        Record {
            version: VERSION,
            output: PathBuf::new(),
            pages,
            contents: Contents::default(),
        }
    }

    /// The record of a spare folder: what it holds, nothing about its pages.
    pub fn of_spare(contents: Contents) -> Record {
        Record {
            contents,
            ..Record::new(HashMap::new())
        }
    }

    /// Sets what the output holds ([`crate::output::Committed::contents`]).
    pub fn set_contents(&mut self, contents: Contents) {
        self.contents = contents;
    }

    /// What the output holds, when this record describes one.
    pub fn into_contents(self) -> Option<Contents> {
        (self.version == VERSION && !self.contents.folders.is_empty()).then_some(self.contents)
    }

    /// The page at `path`, as recorded.
    pub(crate) fn page(&self, path: &str) -> Option<&PageRecord> {
        self.pages.get(path)
    }

    /// Saves the record (to a new file renamed over the old one, so a record is
    /// always whole). Without one the next build renders everything, so a failure
    /// only costs time.
    pub fn save(&mut self, root: &Path, output: &Path) -> std::io::Result<()> {
        self.output = std::path::absolute(output)?;
        let path = Record::path(root, &self.output);
        let dir = path.parent().unwrap_or(root);
        fs::create_dir_all(dir)?;
        let tmp = dir.join(format!(".{}.tmp", std::process::id()));
        fs::write(
            &tmp,
            postcard::to_stdvec(self).map_err(std::io::Error::other)?,
        )?;
        fs::rename(&tmp, &path)
    }

    /// Removes the records (and spare locks) of output folders that no longer exist,
    /// and records in an older format: otherwise every folder ever built into would
    /// leave its record behind. Records are read only as far as the folder they name.
    pub fn sweep(root: &Path) {
        let dir = root.join(".cache").join("build");
        let Ok(entries) = fs::read_dir(&dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let stale = match path.extension().and_then(|e| e.to_str()) {
                Some("json") => true,
                Some("bin") => {
                    let mut head = Vec::with_capacity(4096);
                    let read =
                        fs::File::open(&path).and_then(|f| f.take(4096).read_to_end(&mut head));
                    read.is_ok()
                        && postcard::take_from_bytes::<(u32, PathBuf)>(&head)
                            .map_or(true, |((v, out), _)| v != VERSION || !out.exists())
                }
                _ => false,
            };
            if !stale {
                continue;
            }
            let _ = fs::remove_file(&path);
            // A lock no one holds, of a folder that is gone.
            let lock = path.with_extension("lock");
            if let Ok(file) = fs::OpenOptions::new().write(true).open(&lock) {
                if file.try_lock().is_ok() {
                    let _ = fs::remove_file(&lock);
                }
            }
        }
    }

    /// Forgets the record of `output` (before a build replaces it, so that a build
    /// stopped half-way never leaves a record of files it did not write).
    pub fn forget(root: &Path, output: &Path) {
        if let Ok(output) = std::path::absolute(output) {
            let _ = fs::remove_file(Record::path(root, &output));
        }
    }
}

/// Fingerprints of what every page, and every listing, depends on beyond itself.
pub(crate) struct Inputs {
    site: blake3::Hash,
    /// Every service's slug, title and order, as forms offering them show them.
    services: blake3::Hash,
    listings: blake3::Hash,
}

impl Inputs {
    /// The fingerprint of what the `404.html` page is made from: what listings are.
    pub(crate) fn not_found_key(&self) -> String {
        self.listings.to_hex().to_string()
    }
}

impl Site {
    /// Fingerprints what pages depend on beyond themselves (see the module's doc).
    pub(crate) fn inputs(&self) -> Inputs {
        let mut h = blake3::Hasher::new();
        let put = |h: &mut blake3::Hasher, s: &[u8]| {
            h.update(&(s.len() as u64).to_le_bytes());
            h.update(s);
        };
        put(&mut h, env!("CARGO_PKG_VERSION").as_bytes());
        // A generator built again (with other templates' code, say) renders anew.
        if let Some(stamp) = std::env::current_exe()
            .ok()
            .and_then(|p| fs::metadata(p).ok())
        {
            put(
                &mut h,
                format!("{:?}", (stamp.len(), stamp.modified().ok())).as_bytes(),
            );
        }
        let o = &self.opts;
        put(
            &mut h,
            format!("{:?}", (o.drafts, &o.base_url, &o.form_service_url)).as_bytes(),
        );
        put(&mut h, format!("{:?}", self.config).as_bytes());
        for (name, src) in self.templates.sources() {
            put(&mut h, name.as_bytes());
            put(&mut h, src.as_bytes());
        }
        let mut assets: Vec<_> = self.assets.iter().collect();
        assets.sort();
        put(&mut h, format!("{assets:?}").as_bytes());
        // Which files exist (and which are photos) changes what images become.
        let mut files: Vec<(String, String)> = self
            .output
            .iter()
            .filter_map(|(k, f)| match f {
                OutputFile::Copy(p) => Some((k.clone(), p)),
                OutputFile::Bytes(_) => None,
            })
            .chain(self.content.assets.iter().map(|(p, u)| (u.clone(), p)))
            .map(|(k, p)| {
                let m = fs::metadata(p).ok().map(|m| (m.len(), m.modified().ok()));
                (k, format!("{m:?}"))
            })
            .collect();
        files.sort();
        put(&mut h, format!("{files:?}").as_bytes());
        // Field by field, each with its length: formatting 10,000 pages as text first
        // took tens of milliseconds.
        let mut s = blake3::Hasher::new();
        for p in self.content.services() {
            put(&mut s, b"service");
            put(&mut s, p.slug.as_bytes());
            put(&mut s, p.title.as_bytes());
            put(&mut s, &p.order.to_le_bytes());
            put(&mut s, p.url.as_bytes());
        }
        let services = s.finalize();
        // In the order of their files, not the site's: that follows titles, and only
        // listings and forms offering every service show it (fingerprinted above).
        let mut pages: Vec<&Page> = self.content.pages.iter().collect();
        // By the bytes of their paths: comparing paths part by part took 15 ms.
        pages.sort_unstable_by(|a, b| a.source.as_os_str().cmp(b.source.as_os_str()));
        for p in pages {
            put(&mut h, b"page");
            put(&mut h, p.source.as_os_str().as_encoded_bytes());
            put(&mut h, p.url.as_bytes());
            put(&mut h, &p.aliases.len().to_le_bytes());
            for alias in &p.aliases {
                put(&mut h, alias.as_bytes());
            }
        }
        let site = h.finalize();
        let mut l = blake3::Hasher::new();
        l.update(site.as_bytes());
        l.update(services.as_bytes());
        for p in self.content.services() {
            match &p.origin.listed {
                Some(listed) => l.update(&listed.hash),
                None => l.update(&super::context::listed(p).hash),
            };
        }
        Inputs {
            site,
            services,
            listings: l.finalize(),
        }
    }

    /// The fingerprint of everything page `i`'s HTML is made from, for a page whose
    /// forms offer services other than its own or not ([`PageRecord::offers_services`]).
    pub(crate) fn page_key(&self, inputs: &Inputs, i: usize, offers_services: bool) -> String {
        let page: &Page = &self.content.pages[i];
        let mut h = blake3::Hasher::new();
        if is_listing(page.kind) {
            h.update(inputs.listings.as_bytes());
        } else {
            h.update(inputs.site.as_bytes());
            if offers_services {
                h.update(inputs.services.as_bytes());
            }
        }
        // The page is made from its file alone, given what `inputs` covers (settings,
        // every page's source and address).
        h.update(page.source.as_os_str().as_encoded_bytes());
        h.update(b"\0");
        h.update(page.origin.hash.as_bytes());
        if let Some(c) = self.comments.for_page(page.kind, &page.url) {
            h.update(c.to_string().as_bytes());
        }
        h.finalize().to_hex().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(key: &str, html: &str) -> PageRecord {
        PageRecord {
            key: key.into(),
            stamp: Stamp {
                len: 1,
                modified_ns: 2,
                inode: 3,
            },
            ids: Ids::of(html),
            offers_services: false,
            photos: Vec::new(),
        }
    }

    #[test]
    fn a_record_reads_back_as_written_with_each_id_written_once() {
        let form = r#"<input id="consultation-name"><input id="consultation-email">"#;
        let pages: HashMap<String, PageRecord> = (0..50)
            .map(|i| {
                let html = format!(r#"<main id="main"><h2 id="step-{i}">{form}</main>"#);
                (
                    format!("services/s{i}/index.html"),
                    page(&format!("k{i}"), &html),
                )
            })
            .chain([("empty/index.html".to_string(), page("e", "<p>no ids</p>"))])
            .collect();
        let dir = tempfile::tempdir().unwrap();
        let output = dir.path().join("dist");
        Record::new(pages.clone())
            .save(dir.path(), &output)
            .unwrap();
        let read = Record::load(dir.path(), &output);
        assert_eq!(read.pages, pages);
        assert_eq!(
            read.page("services/s7/index.html")
                .unwrap()
                .ids
                .iter()
                .collect::<Vec<_>>(),
            ["main", "step-7", "consultation-name", "consultation-email"]
        );
        // An id every page has is written once, not once a page.
        let written = fs::read(Record::path(dir.path(), &output)).unwrap();
        let times = written
            .windows(b"consultation-email".len())
            .filter(|w| w == b"consultation-email")
            .count();
        assert_eq!(times, 1);
    }
}
