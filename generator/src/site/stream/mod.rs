//! Rendering pages straight to disk: each page is written as soon as it is rendered,
//! so a build holds one page per thread in memory instead of the whole site (issue 17).
//!
//! What each page needs is decided first ([`Plan`]): linked from the previous output
//! when its inputs are unchanged, else rendered. Deciding needs no staging folder, so a
//! build that would wait for one (the spare output still being prepared right after the
//! first build, [`Stager::Later`]) renders its few pages in memory and checks the links
//! first, and waits only to write. The pages themselves are [`pages`]' work.

mod pages;

use std::collections::HashSet;
use std::path::Path;

use super::deps::is_listing;
use super::reuse::{PageRecord, Record, Stamp};
use super::site_files::NOT_FOUND;
use super::Site;
use crate::check::Ids;
use crate::links::{check_links, Targets};
use crate::output::{OutputFile, Staging};
use crate::Error;
use pages::{link_recorded, plan_pages, write_held, write_pages, Plan, Written};

/// A page's output path and the ids its HTML defines.
pub(super) type PageIds = (String, Ids);

/// The staging folder a build writes into, or how to have it.
pub enum Stager<'a> {
    /// Had already.
    Open(Box<Staging>),
    /// Had when the build has to write: it waits for the spare output's lock.
    Later(Box<dyn FnOnce() -> Result<Opened, Error> + 'a>),
}

/// A staging folder, had.
pub struct Opened {
    pub staging: Staging,
    /// Another build of the output may have replaced it while this one waited for the
    /// staging folder (the output's record changed, or the lock was not had): the
    /// files the pages were planned to link are checked again.
    pub output_changed: bool,
}

impl Stager<'_> {
    fn open(self) -> Result<Opened, Error> {
        match self {
            Stager::Open(staging) => Ok(Opened {
                staging: *staging,
                output_changed: false,
            }),
            Stager::Later(open) => open(),
        }
    }
}

/// The most pages a build waiting for its staging folder renders into memory; one with
/// more to render waits first and writes each page as it renders.
const HELD_PAGES: usize = 256;

/// A listing takes about as long to render as one page for every this many services it
/// shows (at 10,000 services, about 0.2 s against 0.2 ms a page).
const SERVICES_PER_PAGE: usize = 10;

impl Site {
    /// Renders the whole site into a staging folder, each page written as soon as it is
    /// rendered (`write_pages`) when the folder is had, so memory holds a page per
    /// thread rather than the site; then the site-wide files and the photos' files
    /// (encoded first when the cache lacks them). The files `self.output` holds
    /// afterwards are all but the pages. Every rendering problem is returned together.
    ///
    /// `previous` is the record of the build that wrote `output`, which the staging
    /// folder replaces: pages whose inputs it shows unchanged are linked, not rendered
    /// (`site::reuse`). A [`Stager::Later`] is opened only when the build has to
    /// write, after the links are checked when it renders no more than `HELD_PAGES`.
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
        let t = std::time::Instant::now();
        let plan = plan_pages(self, &inputs, previous, output);
        crate::timing::phase("plan", t);
        let renders = plan
            .iter()
            .filter(|p| matches!(p, Plan::Render { .. }))
            .count();
        let listings = (self.content.pages.iter().zip(&plan))
            .filter(|(p, plan)| is_listing(p.kind) && matches!(plan, Plan::Render { .. }))
            .count();
        let not_found_renders = previous
            .page(NOT_FOUND)
            .is_none_or(|r| r.key != not_found_key);
        if listings > 0 || not_found_renders {
            let t = std::time::Instant::now();
            // Two listings and little else to render (a service's title edited): the
            // second renders alongside the first, with a copy of the services, rather
            // than after it. Among many pages, the other cores are busy anyway.
            let services = self.content.services().count();
            let copy = listings >= 2
                && (renders - listings) * SERVICES_PER_PAGE < services
                && rayon::current_num_threads() > 1;
            self.make_services(copy);
            let what = if copy {
                "services for the listings, and a copy"
            } else {
                "services for the listings"
            };
            crate::timing::phase(what, t);
        }
        let mut output_changed = false;
        let stager = match stager {
            Stager::Later(open) if renders > HELD_PAGES => {
                let waited = open()?;
                output_changed = waited.output_changed;
                Stager::Open(Box::new(waited.staging))
            }
            stager => stager,
        };
        let staging_now = match &stager {
            Stager::Open(staging) => Some(&**staging),
            Stager::Later(_) => None,
        };
        let recheck = output_changed.then_some(output);
        let written = match write_pages(self, staging_now, recheck, &inputs, &plan) {
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
        // Every listing has rendered: the services they show (about 40 MB at 10,000
        // services) are let go before the build's last steps, which peak in memory, on
        // a thread of their own (freeing them one by one takes ~50 ms).
        let services = self.take_services();
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
        let links = check_links(&self.opts.root, &self.content, &targets, &self.config);
        if !links.is_empty() {
            return Err(Error::Site(links));
        }
        crate::timing::phase("links", t);
        self.encode_photos()?;
        let waited = matches!(stager, Stager::Later(_));
        let mut t = std::time::Instant::now();
        let Opened {
            staging,
            output_changed,
        } = stager.open()?;
        if waited {
            crate::timing::phase("staging folder had", t);
            t = std::time::Instant::now();
            rendered += write_held(
                self,
                &staging,
                output_changed.then_some(output),
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
        if waited {
            crate::timing::phase("held pages written", t);
        }
        let t = std::time::Instant::now();
        for (path, file) in &self.output {
            if site_files.contains(path) || self.page_at(path).is_none() {
                staging.put(path, file)?;
            }
        }
        crate::timing::phase("site files written", t);
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
