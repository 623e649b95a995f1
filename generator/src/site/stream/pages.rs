//! The pages of a build: what each needs ([`Plan`]: linked from the previous output, or
//! rendered), rendering them and writing each as it renders ([`write_pages`]), or
//! holding them while the staging folder is not had and writing them once it is
//! ([`write_held`]).
//!
//! Threads take pages in site order from one counter, and one more thread creates the
//! pages' folders ahead of them in the same order: only it creates entries in a folder
//! that holds thousands (`services/`), so the writers do not queue on that folder's lock.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

use rayon::prelude::*;
use site_config::Diagnostics;

use super::super::deps::is_listing;
use super::super::reuse::{Inputs, PageRecord, Record, RecordedPhoto, Stamp};
use super::super::{PagePhotos, RenderedPage, Site};
use super::PageIds;
use crate::check::Ids;
use crate::output::{OutputFile, Staging};
use crate::urls::output_path;
use crate::Error;

/// What a build does with one page, decided before anything is written.
pub(super) enum Plan<'r> {
    /// Its inputs are unchanged and the previous output holds the very file written for
    /// them: link that file.
    Link(&'r PageRecord),
    /// Render it. `key` fingerprints its inputs as if its forms offer other services
    /// when `offered_before` (as the last rendering found, when there was one).
    Render { key: String, offered_before: bool },
}

/// A rendered page ready to be written, with what its record needs.
pub(super) struct Finished {
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
pub(super) struct Written {
    pub(super) rendered: usize,
    pub(super) ids: Vec<PageIds>,
    pub(super) photos: Vec<(String, PagePhotos)>,
    pub(super) record: HashMap<String, PageRecord>,
    /// Pages to link once the staging folder is had (their record is in `record`).
    pub(super) to_link: Vec<usize>,
    /// Rendered pages to write once the staging folder is had.
    pub(super) held: Vec<Finished>,
}

/// Decides, for every page, whether the previous output's file can be linked.
pub(super) fn plan_pages<'r>(
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
/// links the others (checking first that `recheck`, the output, still holds each file
/// as planned, when it may have changed since); without, keeps both for
/// [`write_held`]. Rendering problems are collected from every page and returned
/// together; the first write failure stops it.
pub(super) fn write_pages(
    site: &Site,
    staging: Option<&Staging>,
    recheck: Option<&Path>,
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
                if let Some(photos) = photos
                    .filter(|_| staging.is_none_or(|s| link_planned(s, recheck, &path, before)))
                {
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
/// planned to, renders any that cannot be linked or that changed meanwhile (checked
/// against `recheck`, the output, when another build of it finished during the wait),
/// and writes the pages it rendered; their records go into `record`. Returns how many
/// pages it rendered.
///
/// A page rendered here has the inputs it was planned with, so the ids and photos its
/// record gave (links checked, photos published) are its own: its rendering's are not
/// kept again.
#[allow(clippy::too_many_arguments)]
pub(super) fn write_held(
    site: &Site,
    staging: &Staging,
    recheck: Option<&Path>,
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
                !link_planned(staging, recheck, &path, before)
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
/// `staging`, if it is still the file recorded there (checked now).
pub(super) fn link_recorded(staging: &Staging, output: &Path, path: &str, r: &PageRecord) -> bool {
    link_planned(staging, Some(output), path, r)
}

/// Links the file `r` records at `path` from the previous output into `staging`, as
/// planned; with `recheck` (the output, which may have changed since the plan), only
/// if it is still the file recorded there.
fn link_planned(staging: &Staging, recheck: Option<&Path>, path: &str, r: &PageRecord) -> bool {
    recheck.is_none_or(|output| Stamp::of(&output.join(path)) == Some(r.stamp))
        && staging.link_unchanged(path, r.stamp.inode())
}

/// The order pages are rendered in: site order, with the listings spread out. A listing
/// is the slowest page to render and, among many pages, renders alone (no copy of the
/// services is made for a second: [`Site::make_services`]), so two listings side by side
/// would leave a thread waiting.
fn work_order(pages: &[crate::content::Page]) -> Vec<usize> {
    let (listings, mut order): (Vec<usize>, Vec<usize>) =
        (0..pages.len()).partition(|&i| is_listing(pages[i].kind));
    let gap = order.len() / listings.len().max(1);
    for (k, &i) in listings.iter().enumerate() {
        order.insert((k * (gap + 1)).min(order.len()), i);
    }
    order
}
