//! Rendering pages straight to disk: each page is written as soon as it is rendered,
//! so a build holds one page per thread in memory instead of the whole site (issue 17).
//!
//! Threads take pages in site order from one counter, and one more thread creates the
//! pages' folders ahead of them in the same order: only it creates entries in a folder
//! that holds thousands (`services/`), so the writers do not queue on that folder's lock.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

use site_config::Diagnostics;

use super::deps::is_listing;
use super::reuse::{Inputs, PageRecord, Record, Stamp};
use super::site_files::NOT_FOUND;
use super::{output_path, PagePhotos, Site};
use crate::check::Ids;
use crate::links::{check_links, Targets};
use crate::output::{OutputFile, Staging};
use crate::Error;

/// A page's output path and the ids its HTML defines.
pub(super) type PageIds = (String, Ids);

/// What writing the pages found: each page's ids, the photos of each page (by URL), and
/// the record of the pages for the next build.
struct Written {
    rendered: usize,
    ids: Vec<PageIds>,
    photos: Vec<(String, PagePhotos)>,
    record: HashMap<String, PageRecord>,
}

impl Site {
    /// Renders the whole site into `staging`, each page written as soon as it is
    /// rendered ([`write_pages`]), so memory holds a page per thread rather than the
    /// site; then the site-wide files and the photos' files (encoded first when the
    /// cache lacks them). The files `self.output` holds afterwards are all but the
    /// pages. Every rendering problem is returned together.
    ///
    /// `previous` is the record of the build that wrote the output `staging` replaces:
    /// pages whose inputs it shows unchanged are linked, not rendered ([`super::reuse`]).
    /// Returns the record of this build and how many pages were rendered.
    pub fn write_into(
        &mut self,
        staging: &Staging,
        previous: &Record,
    ) -> Result<(Record, usize), Error> {
        self.check_templates()?;
        let t = std::time::Instant::now();
        let inputs = self.inputs();
        crate::timing::phase("inputs", t);
        // The 404 page shows what listings show, and is keyed as they are.
        let listings_render = previous
            .page(NOT_FOUND)
            .is_none_or(|r| r.key != inputs.not_found_key())
            || self.content.pages.iter().enumerate().any(|(i, p)| {
                is_listing(p.kind)
                    && previous
                        .page(&output_path(&p.url))
                        .is_none_or(|r| r.key != self.page_key(&inputs, i, true))
            });
        if listings_render {
            let t = std::time::Instant::now();
            self.make_services();
            crate::timing::phase("services for the listings", t);
        }
        let t = std::time::Instant::now();
        let Written {
            rendered,
            ids: mut page_ids,
            photos,
            mut record,
        } = match write_pages(self, staging, &inputs, previous) {
            Ok(done) => done,
            // As `build` in memory: one run says everything, links checked against the
            // content when the pages did not render.
            Err(Error::Site(mut problems)) => {
                problems.0.extend(self.broken_links(false).0);
                problems.sort();
                problems.0.dedup();
                return Err(Error::Site(problems));
            }
            Err(e) => return Err(e),
        };
        crate::timing::phase("pages", t);
        let t = std::time::Instant::now();
        self.page_photos.extend(photos);
        // The same precedence as the in-memory build: pages over static files, site-wide
        // files over both.
        let statics = std::mem::take(&mut self.output);
        // The 404 page shows what listings show: linked when that is unchanged.
        let not_found_key = inputs.not_found_key();
        let kept_404 = previous
            .page(NOT_FOUND)
            .filter(|r| {
                r.key == not_found_key
                    && staging
                        .previous()
                        .is_some_and(|p| Stamp::of(&p.join(NOT_FOUND)) == Some(r.stamp))
                    && staging.link_unchanged(NOT_FOUND, r.stamp.inode())
            })
            .cloned();
        match &kept_404 {
            Some(r) => {
                self.site_files_but_404();
                page_ids.push((NOT_FOUND.into(), r.ids.clone()));
                record.insert(NOT_FOUND.into(), r.clone());
            }
            None => self.site_files()?,
        }
        // Every listing has rendered: the services they show (about 80 MB at 10,000
        // services) are let go before the build's last steps, which peak in memory, on
        // a thread of their own (freeing them one by one takes ~50 ms).
        let services = self.services_slot().take();
        // Without a thread to be had, the closure and the services go here and now.
        let _ = std::thread::Builder::new().spawn(move || drop(services));
        let site_files: HashSet<String> = self.output.keys().cloned().collect();
        for (path, file) in statics {
            if !(kept_404.is_some() && path == NOT_FOUND) {
                self.output.entry(path).or_insert(file);
            }
        }
        self.publish_photos()?;
        crate::timing::phase("site files", t);
        let t = std::time::Instant::now();
        // Links are checked against what the pages' HTML defines, kept as ids only.
        let mut targets = Targets::from_content(&self.content, self.output.keys().cloned());
        targets.add_output(&self.output);
        for (path, ids) in page_ids {
            targets.add_ids(path, ids);
        }
        let links = check_links(&self.content, &targets, self.config.base_url.as_str());
        if !links.is_empty() {
            return Err(Error::Site(links));
        }
        crate::timing::phase("links", t);
        self.encode_photos()?;
        for (path, file) in &self.output {
            if site_files.contains(path) || self.page_at(path).is_none() {
                staging.put(path, file)?;
            }
        }
        if let (None, Some(OutputFile::Bytes(html)), Some(stamp)) = (
            &kept_404,
            self.output.get(NOT_FOUND),
            Stamp::of(&staging.dir().join(NOT_FOUND)),
        ) {
            let ids = Ids::of(&String::from_utf8_lossy(html));
            record.insert(
                NOT_FOUND.into(),
                PageRecord {
                    key: not_found_key,
                    stamp,
                    ids,
                    // Its key is the listings', which covers the services.
                    offers_services: true,
                },
            );
        }
        Ok((Record::new(record), rendered))
    }
}

/// Renders every page of `site` and puts it into `staging`; returns each page's output
/// path with the ids its HTML defines, for checking links. Rendering problems are
/// collected from every page and returned together; the first write failure stops it.
fn write_pages(
    site: &Site,
    staging: &Staging,
    inputs: &Inputs,
    previous: &Record,
) -> Result<Written, Error> {
    let pages = &site.content.pages;
    let order = work_order(pages);
    let next = AtomicUsize::new(0);
    let rendered = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let broken = AtomicBool::new(false);
    let problems = Mutex::new(Diagnostics::default());
    let failure: Mutex<Option<Error>> = Mutex::new(None);
    let ids: Mutex<Vec<PageIds>> = Mutex::new(Vec::with_capacity(pages.len()));
    let photos: Mutex<Vec<(String, PagePhotos)>> = Mutex::new(Vec::new());
    let record: Mutex<HashMap<String, PageRecord>> =
        Mutex::new(HashMap::with_capacity(pages.len()));

    let fail = |e: Error| {
        stop.store(true, Ordering::Relaxed);
        let mut slot = failure.lock().unwrap_or_else(|e| e.into_inner());
        slot.get_or_insert(e);
    };
    std::thread::scope(|scope| {
        scope.spawn(|| {
            for page in order.iter().map(|&i| &pages[i]) {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let path = output_path(&page.url);
                if let Some((folder, _)) = path.rsplit_once('/') {
                    // A folder it fails to create is created, or reported, by the writer.
                    let _ = staging.create_folder(folder);
                }
            }
        });
        rayon::broadcast(|_| loop {
            let n = next.fetch_add(1, Ordering::Relaxed);
            if n >= order.len() || stop.load(Ordering::Relaxed) {
                break;
            }
            let i = order[n];
            let path = output_path(&pages[i].url);
            let before = previous.page(&path);
            // Whether the page's forms offer other services depends on what the rest of
            // its key covers: the last rendering tells for an unchanged page.
            let offered_before = before.is_none_or(|r| r.offers_services);
            let key = site.page_key(inputs, i, offered_before);
            // Unchanged inputs and the very file written last time: link it.
            if let Some(before) = before.filter(|r| {
                r.key == key
                    && staging
                        .previous()
                        .is_some_and(|p| Stamp::of(&p.join(&path)) == Some(r.stamp))
            }) {
                if !broken.load(Ordering::Relaxed)
                    && staging.link_unchanged(&path, before.stamp.inode())
                {
                    ids.lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push((path.clone(), before.ids.clone()));
                    record
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .insert(path, before.clone());
                    continue;
                }
            }
            rendered.fetch_add(1, Ordering::Relaxed);
            match site.render_page(i) {
                Ok(page) => {
                    // After a rendering problem, keep rendering to report every one,
                    // but write nothing more: the staging folder will be removed.
                    if !broken.load(Ordering::Relaxed) {
                        let found = Ids::of(&page.html);
                        let html = OutputFile::Bytes(page.html.into_bytes());
                        let written = staging.put(&page.path, &html).map_err(&fail).ok();
                        // A page's photos are known by rendering it: always rendered.
                        let stamp = written
                            .filter(|_| {
                                page.photos.uses.is_empty() && page.photos.warnings.is_empty()
                            })
                            .and_then(|meta| Stamp::of_meta(&meta));
                        if let Some(stamp) = stamp {
                            let offers_services = page.offers_services;
                            let key = if offers_services == offered_before {
                                key
                            } else {
                                site.page_key(inputs, i, offers_services)
                            };
                            record.lock().unwrap_or_else(|e| e.into_inner()).insert(
                                page.path.clone(),
                                PageRecord {
                                    key,
                                    stamp,
                                    ids: found.clone(),
                                    offers_services,
                                },
                            );
                        }
                        ids.lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .push((page.path, found));
                        photos
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .push((page.url, page.photos));
                    }
                }
                Err(ds) => {
                    broken.store(true, Ordering::Relaxed);
                    let mut all = problems.lock().unwrap_or_else(|e| e.into_inner());
                    ds.into_iter().for_each(|d| all.push(d));
                }
            }
        });
    });
    if let Some(e) = failure.into_inner().unwrap_or_else(|e| e.into_inner()) {
        return Err(e);
    }
    let mut problems = problems.into_inner().unwrap_or_else(|e| e.into_inner());
    if problems.is_empty() {
        Ok(Written {
            rendered: rendered.into_inner(),
            ids: ids.into_inner().unwrap_or_else(|e| e.into_inner()),
            photos: photos.into_inner().unwrap_or_else(|e| e.into_inner()),
            record: record.into_inner().unwrap_or_else(|e| e.into_inner()),
        })
    } else {
        problems.sort();
        Err(Error::Site(problems))
    }
}

/// The order pages are rendered in: site order, with the listings spread out. A listing
/// is the slowest page to render and renders alone ([`Site::render_page`]), so two
/// listings side by side would leave a thread waiting.
fn work_order(pages: &[crate::content::Page]) -> Vec<usize> {
    let (listings, mut order): (Vec<usize>, Vec<usize>) =
        (0..pages.len()).partition(|&i| is_listing(pages[i].kind));
    let gap = order.len() / listings.len().max(1);
    for (k, &i) in listings.iter().enumerate() {
        order.insert((k * (gap + 1)).min(order.len()), i);
    }
    order
}
