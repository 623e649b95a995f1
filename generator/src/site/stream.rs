//! Rendering pages straight to disk: each page is written as soon as it is rendered,
//! so a build holds one page per thread in memory instead of the whole site (issue 17).
//!
//! Threads take pages in site order from one counter, and one more thread creates the
//! pages' folders ahead of them in the same order: only it creates entries in a folder
//! that holds thousands (`services/`), so the writers do not queue on that folder's lock.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

use site_config::Diagnostics;

use super::{output_path, Site};
use crate::check::ids_in;
use crate::output::{OutputFile, Staging};
use crate::Error;

/// A page's output path and the ids its HTML defines.
pub(super) type PageIds = (String, Vec<String>);

/// Renders every page of `site` and puts it into `staging`; returns each page's output
/// path with the ids its HTML defines, for checking links. Rendering problems are
/// collected from every page and returned together; the first write failure stops it.
pub(super) fn write_pages(site: &Site, staging: &Staging) -> Result<Vec<PageIds>, Error> {
    let pages = &site.content.pages;
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let broken = AtomicBool::new(false);
    let problems = Mutex::new(Diagnostics::default());
    let failure: Mutex<Option<Error>> = Mutex::new(None);
    let ids: Mutex<Vec<PageIds>> = Mutex::new(Vec::with_capacity(pages.len()));
    let fail = |e: Error| {
        stop.store(true, Ordering::Relaxed);
        let mut slot = failure.lock().unwrap_or_else(|e| e.into_inner());
        slot.get_or_insert(e);
    };
    std::thread::scope(|scope| {
        scope.spawn(|| {
            for page in pages {
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
            let i = next.fetch_add(1, Ordering::Relaxed);
            if i >= pages.len() || stop.load(Ordering::Relaxed) {
                break;
            }
            match site.render_page(i) {
                Ok((path, html)) => {
                    // After a rendering problem, keep rendering to report every one,
                    // but write nothing more: the staging folder will be removed.
                    if !broken.load(Ordering::Relaxed) {
                        let found: Vec<String> = ids_in(&String::from_utf8_lossy(&html)).collect();
                        if let Err(e) = staging.put(&path, &OutputFile::Bytes(html)) {
                            fail(e);
                        }
                        ids.lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .push((path, found));
                    }
                }
                Err(d) => {
                    broken.store(true, Ordering::Relaxed);
                    problems.lock().unwrap_or_else(|e| e.into_inner()).push(d);
                }
            }
        });
    });
    if let Some(e) = failure.into_inner().unwrap_or_else(|e| e.into_inner()) {
        return Err(e);
    }
    let mut problems = problems.into_inner().unwrap_or_else(|e| e.into_inner());
    if problems.is_empty() {
        Ok(ids.into_inner().unwrap_or_else(|e| e.into_inner()))
    } else {
        problems.sort();
        Err(Error::Site(problems))
    }
}
