//! Rendering pages straight to disk: each page is written as soon as it is rendered,
//! so a build holds one page per thread in memory instead of the whole site (issue 17).
//!
//! What each page needs is decided first ([`Plan`]): linked from the previous output
//! when its inputs are unchanged, else rendered. Deciding needs no staging folder, so a
//! build that would wait for one (the spare output still being prepared right after the
//! first build, [`Stager::Later`]) renders its few pages in memory and checks the links
//! first, and waits only to write.
//!
//! Threads take pages in site order from one counter, and one more thread creates the
//! pages' folders ahead of them in the same order: only it creates entries in a folder
//! that holds thousands (`services/`), so the writers do not queue on that folder's lock.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

use rayon::prelude::*;
use site_config::Diagnostics;

use super::deps::is_listing;
use super::reuse::{Inputs, PageRecord, Record, RecordedPhoto, Stamp};
use super::site_files::NOT_FOUND;
use super::{output_path, PagePhotos, RenderedPage, Site};
use crate::check::Ids;
use crate::links::{check_links, Targets};
use crate::output::{OutputFile, Staging};
use crate::Error;

/// A page's output path and the ids its HTML defines.
pub(super) type PageIds = (String, Ids);

/// The staging folder a build writes into, or how to have it.
pub enum Stager<'a> {
    /// Had already.
    Open(Box<Staging>),
    /// Had when the build has to write: it waits for the spare output's lock.
    Later(Box<dyn FnOnce() -> Result<Staging, Error> + 'a>),
}

impl Stager<'_> {
    fn open(self) -> Result<Staging, Error> {
        match self {
            Stager::Open(staging) => Ok(*staging),
            Stager::Later(open) => open(),
        }
    }
}

/// The most pages a build waiting for its staging folder renders into memory; one with
/// more to render waits first and writes each page as it renders.
const HELD_PAGES: usize = 256;

/// What a build does with one page, decided before anything is written.
enum Plan<'r> {
    /// Its inputs are unchanged and the previous output holds the very file written for
    /// them: link that file.
    Link(&'r PageRecord),
    /// Render it. `key` fingerprints its inputs as if its forms offer other services
    /// when `offered_before` (as the last rendering found, when there was one).
    Render { key: String, offered_before: bool },
}

/// A rendered page ready to be written, with what its record needs.
struct Finished {
    path: String,
    html: Vec<u8>,
    key: String,
    ids: Ids,
    offers_services: bool,
    /// The photos it shows, for its record.
    photos: Vec<RecordedPhoto>,
    /// A page with a photo over the size limits is rendered every time, so that every
    /// build warns.
    recordable: bool,
}

/// What rendering the pages found: each page's ids, the photos of each page (by URL),
/// the record of the pages for the next build, and what is still to be written.
#[derive(Default)]
struct Written {
    rendered: usize,
    ids: Vec<PageIds>,
    photos: Vec<(String, PagePhotos)>,
    record: HashMap<String, PageRecord>,
    /// Pages to link once the staging folder is had (their record is in `record`).
    to_link: Vec<usize>,
    /// Rendered pages to write once the staging folder is had.
    held: Vec<Finished>,
}

impl Site {
    /// Renders the whole site into a staging folder, each page written as soon as it is
    /// rendered ([`write_pages`]) when the folder is had, so memory holds a page per
    /// thread rather than the site; then the site-wide files and the photos' files
    /// (encoded first when the cache lacks them). The files `self.output` holds
    /// afterwards are all but the pages. Every rendering problem is returned together.
    ///
    /// `previous` is the record of the build that wrote `output`, which the staging
    /// folder replaces: pages whose inputs it shows unchanged are linked, not rendered
    /// ([`super::reuse`]). A [`Stager::Later`] is opened only when the build has to
    /// write, after the links are checked when it renders no more than [`HELD_PAGES`].
    /// Returns the staging folder, the record of this build and how many pages rendered.
    pub fn write_into(
        &mut self,
        previous: &Record,
        output: &Path,
        stager: Stager<'_>,
    ) -> Result<(Staging, Record, usize), Error> {
        self.check_templates()?;
        let t = std::time::Instant::now();
        let inputs = self.inputs();
        crate::timing::phase("inputs", t);
        // The 404 page shows what listings show, and is keyed as they are.
        let not_found_key = inputs.not_found_key();
        let listings_render = previous
            .page(NOT_FOUND)
            .is_none_or(|r| r.key != not_found_key)
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
        let plan = plan_pages(self, &inputs, previous, output);
        let renders = plan
            .iter()
            .filter(|p| matches!(p, Plan::Render { .. }))
            .count();
        let stager = match stager {
            Stager::Later(open) if renders > HELD_PAGES => Stager::Open(Box::new(open()?)),
            stager => stager,
        };
        let staging_now = match &stager {
            Stager::Open(staging) => Some(&**staging),
            Stager::Later(_) => None,
        };
        let written = match write_pages(self, staging_now, &inputs, &plan) {
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
        let Written {
            mut rendered,
            ids: mut page_ids,
            photos,
            mut record,
            to_link,
            held,
        } = written;
        crate::timing::phase("pages", t);
        let t = std::time::Instant::now();
        self.page_photos.extend(photos);
        // The same precedence as the in-memory build: pages over static files, site-wide
        // files over both.
        let statics = std::mem::take(&mut self.output);
        // The 404 page shows what listings show: linked when that is unchanged.
        let mut kept_404 = previous
            .page(NOT_FOUND)
            .filter(|r| {
                r.key == not_found_key
                    && match &stager {
                        Stager::Open(staging) => link_recorded(staging, output, NOT_FOUND, r),
                        // Linked once the staging folder is had.
                        Stager::Later(_) => Stamp::of(&output.join(NOT_FOUND)) == Some(r.stamp),
                    }
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
        let mut site_files: HashSet<String> = self.output.keys().cloned().collect();
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
        let waited = matches!(stager, Stager::Later(_));
        let t = std::time::Instant::now();
        let staging = stager.open()?;
        if waited {
            crate::timing::phase("staging folder had", t);
            rendered += write_held(
                self,
                &staging,
                output,
                &inputs,
                &plan,
                to_link,
                held,
                &mut record,
            )?;
            let linked = kept_404
                .as_ref()
                .is_some_and(|r| link_recorded(&staging, output, NOT_FOUND, r));
            if kept_404.is_some() && !linked {
                // Rare (the file changed or could not be linked): rendered after all. The
                // services it shows were let go, and are made again for it.
                record.remove(NOT_FOUND);
                kept_404 = None;
                let html = self.not_found_page()?;
                self.output
                    .insert(NOT_FOUND.into(), OutputFile::Bytes(html));
                site_files.insert(NOT_FOUND.into());
            }
        }
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
                    photos: Vec::new(),
                },
            );
        }
        Ok((staging, Record::new(record), rendered))
    }
}

/// Decides, for every page, whether the previous output's file can be linked.
fn plan_pages<'r>(
    site: &Site,
    inputs: &Inputs,
    previous: &'r Record,
    output: &Path,
) -> Vec<Plan<'r>> {
    site.content
        .pages
        .par_iter()
        .enumerate()
        .map(|(i, page)| {
            let path = output_path(&page.url);
            let before = previous.page(&path);
            // Whether the page's forms offer other services depends on what the rest of
            // its key covers: the last rendering tells for an unchanged page.
            let offered_before = before.is_none_or(|r| r.offers_services);
            let key = site.page_key(inputs, i, offered_before);
            match before {
                // Unchanged inputs and the very file written last time.
                Some(r) if r.key == key && Stamp::of(&output.join(&path)) == Some(r.stamp) => {
                    Plan::Link(r)
                }
                _ => Plan::Render {
                    key,
                    offered_before,
                },
            }
        })
        .collect()
}

/// Page `i`, rendered as `plan` said, made ready to write: its ids found, and its key
/// made again when its forms turned out to offer other services, or not.
fn finish(
    site: &Site,
    inputs: &Inputs,
    i: usize,
    plan: &Plan<'_>,
    page: RenderedPage,
    written: &Mutex<Written>,
) -> Finished {
    let (key, offered_before) = match plan {
        Plan::Render {
            key,
            offered_before,
        } => (key.clone(), *offered_before),
        Plan::Link(r) => (r.key.clone(), r.offers_services),
    };
    let offers_services = page.offers_services;
    let key = if offers_services == offered_before {
        key
    } else {
        site.page_key(inputs, i, offers_services)
    };
    let ids = Ids::of(&page.html);
    let recordable = page.photos.warnings.is_empty();
    let photos = Site::record_photos(&page.photos);
    let mut w = written.lock().unwrap_or_else(|e| e.into_inner());
    w.ids.push((page.path.clone(), ids.clone()));
    w.photos.push((page.url, page.photos));
    drop(w);
    Finished {
        path: page.path,
        html: page.html.into_bytes(),
        key,
        ids,
        offers_services,
        photos,
        recordable,
    }
}

/// Writes a finished page; returns its record, when it has one.
fn put(staging: &Staging, page: Finished) -> Result<Option<(String, PageRecord)>, Error> {
    let meta = staging.put(&page.path, &OutputFile::Bytes(page.html))?;
    let stamp = if page.recordable {
        Stamp::of_meta(&meta)
    } else {
        None
    };
    Ok(stamp.map(|stamp| {
        (
            page.path,
            PageRecord {
                key: page.key,
                stamp,
                ids: page.ids,
                offers_services: page.offers_services,
                photos: page.photos,
            },
        )
    }))
}

/// Renders the pages `plan` says to and, with `staging`, writes each as it goes and
/// links the others; without, keeps both for [`write_held`]. Rendering problems are
/// collected from every page and returned together; the first write failure stops it.
fn write_pages(
    site: &Site,
    staging: Option<&Staging>,
    inputs: &Inputs,
    plan: &[Plan<'_>],
) -> Result<Written, Error> {
    let pages = &site.content.pages;
    let order = work_order(pages);
    let next = AtomicUsize::new(0);
    let rendered = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let broken = AtomicBool::new(false);
    let problems = Mutex::new(Diagnostics::default());
    let failure: Mutex<Option<Error>> = Mutex::new(None);
    let written = Mutex::new(Written {
        ids: Vec::with_capacity(pages.len()),
        record: HashMap::with_capacity(pages.len()),
        ..Written::default()
    });
    let fail = |e: Error| {
        stop.store(true, Ordering::Relaxed);
        let mut slot = failure.lock().unwrap_or_else(|e| e.into_inner());
        slot.get_or_insert(e);
    };
    std::thread::scope(|scope| {
        // A spare holds the folders of every page it held already.
        if let Some(staging) = staging {
            scope.spawn(|| {
                for &i in &order {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    if staging.is_spare() && matches!(plan[i], Plan::Link(_)) {
                        continue;
                    }
                    let path = output_path(&pages[i].url);
                    if let Some((folder, _)) = path.rsplit_once('/') {
                        // A folder it fails to create is created, or reported, by the writer.
                        let _ = staging.create_folder(folder);
                    }
                }
            });
        }
        rayon::broadcast(|_| loop {
            let n = next.fetch_add(1, Ordering::Relaxed);
            if n >= order.len() || stop.load(Ordering::Relaxed) {
                break;
            }
            let i = order[n];
            if let Plan::Link(before) = &plan[i] {
                // After a rendering problem nothing more is written; unchanged pages
                // have none to report.
                if broken.load(Ordering::Relaxed) {
                    continue;
                }
                // Its photos are published with it; one that cannot be read now is
                // reported by rendering the page.
                let photos = site.recorded_photos(i, &before.photos);
                let path = output_path(&pages[i].url);
                if let Some(photos) = photos.filter(|_| {
                    staging.is_none_or(|s| s.link_unchanged(&path, before.stamp.inode()))
                }) {
                    let mut w = written.lock().unwrap_or_else(|e| e.into_inner());
                    w.ids.push((path.clone(), before.ids.clone()));
                    w.record.insert(path, (*before).clone());
                    if !photos.uses.is_empty() {
                        w.photos.push((pages[i].url.clone(), photos));
                    }
                    if staging.is_none() {
                        w.to_link.push(i);
                    }
                    continue;
                }
            }
            rendered.fetch_add(1, Ordering::Relaxed);
            match site.render_page(i) {
                // After a rendering problem, keep rendering to report every one,
                // but write nothing more: the staging folder will be removed.
                Ok(page) if !broken.load(Ordering::Relaxed) => {
                    let page = finish(site, inputs, i, &plan[i], page, &written);
                    match staging {
                        Some(staging) => match put(staging, page) {
                            Ok(Some((path, r))) => {
                                let mut w = written.lock().unwrap_or_else(|e| e.into_inner());
                                w.record.insert(path, r);
                            }
                            Ok(None) => {}
                            Err(e) => fail(e),
                        },
                        None => written
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .held
                            .push(page),
                    }
                }
                Ok(_) => {}
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
        let mut written = written.into_inner().unwrap_or_else(|e| e.into_inner());
        written.rendered = rendered.into_inner();
        Ok(written)
    } else {
        problems.sort();
        Err(Error::Site(problems))
    }
}

/// What [`write_pages`] kept while the staging folder was not had: links the pages it
/// planned to, renders any that changed meanwhile or cannot be linked (another build of
/// the output may have finished during the wait), and writes the pages it rendered;
/// their records go into `record`. Returns how many pages it rendered.
///
/// A page rendered here has the inputs it was planned with, so the ids and photos its
/// record gave (links checked, photos published) are its own: its rendering's are not
/// kept again.
#[allow(clippy::too_many_arguments)]
fn write_held(
    site: &Site,
    staging: &Staging,
    output: &Path,
    inputs: &Inputs,
    plan: &[Plan<'_>],
    to_link: Vec<usize>,
    held: Vec<Finished>,
    record: &mut HashMap<String, PageRecord>,
) -> Result<usize, Error> {
    let unlinked: Vec<usize> = to_link
        .into_par_iter()
        .filter(|&i| match &plan[i] {
            Plan::Link(before) => {
                let path = output_path(&site.content.pages[i].url);
                !link_recorded(staging, output, &path, before)
            }
            Plan::Render { .. } => true,
        })
        .collect();
    let rendered = unlinked.len();
    let scratch = Mutex::new(Written::default());
    let mut finished = held;
    let mut problems = Diagnostics::default();
    for i in unlinked {
        match site.render_page(i) {
            Ok(page) => finished.push(finish(site, inputs, i, &plan[i], page, &scratch)),
            Err(ds) => ds.into_iter().for_each(|d| problems.push(d)),
        }
    }
    if !problems.is_empty() {
        problems.sort();
        return Err(Error::Site(problems));
    }
    for page in finished {
        let path = page.path.clone();
        match put(staging, page)? {
            Some((path, r)) => {
                record.insert(path, r);
            }
            None => {
                record.remove(&path);
            }
        }
    }
    Ok(rendered)
}

/// Links the file `r` records at `path` from the previous output `output` into
/// `staging`, if it is still the file recorded there.
fn link_recorded(staging: &Staging, output: &Path, path: &str, r: &PageRecord) -> bool {
    Stamp::of(&output.join(path)) == Some(r.stamp) && staging.link_unchanged(path, r.stamp.inode())
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
