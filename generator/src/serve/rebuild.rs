//! From changes to a new preview: re-render only what a change affects, keep the last
//! good site when something is broken, and remember each problem until it is fixed.
//!
//! An edited page re-renders that page (and, for a service, the listings that show
//! it when what they show changed), as [`crate::site::deps`] says, moved to its place in the site's order when a
//! new title or order moves it (then with the sitemap, `_headers` and the 404 page); a
//! template re-renders the pages that use it; a static file is swapped in place. Anything that moves URLs (a new, deleted or renamed
//! page, `site.yaml`) loads the site again, and so does a change to the published
//! comments file, which happens when staff publish, not while editors type.
//!
//! A site loaded again is served at once: its pages are rendered when asked for and,
//! batch by batch, by [`Preview::fill`] (which `serve` runs between changes), so at
//! 10,000 pages the preview answers within a second of starting (issue 17).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use site_config::{Diagnostic, Diagnostics};

use super::watch::Change;
use crate::content::{reload_page, PageKind};
use crate::site::deps::{self, Reach, Target};
use crate::site::{BuildOptions, Rendered, Site};
use crate::Error;

/// What open tabs should do after a rebuild.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Update {
    /// Nothing visible changed.
    Nothing,
    /// These pages (site paths) changed.
    Pages(Vec<String>),
    /// Every page may have changed.
    Everything,
    /// A stylesheet was renamed: swap `old` for `new` without reloading.
    Css(Vec<(String, String)>),
    /// The site is broken: show the problems.
    Broken,
}

/// The served site and the problems it currently has.
pub struct Preview {
    /// The last site that built; `None` until one has.
    pub site: Option<Site>,
    /// Problems by where they came from (a content file, `templates`, `build`).
    problems: BTreeMap<String, Vec<Diagnostic>>,
    opts: BuildOptions,
    /// Pages the fill could not render; not tried again until the site is loaded again.
    unrenderable: BTreeSet<usize>,
}

/// Pages rendered by [`Preview::render_batch`], waiting to be kept by [`Preview::keep`].
pub struct Batch(Vec<(usize, Rendered)>);

/// What a batch of changes needs.
enum Plan {
    Full,
    Incremental(BTreeSet<Change>),
}

impl Preview {
    /// Loads the site for the first time; its pages are rendered when asked for, or by
    /// [`Preview::fill`]. A broken site still gives a preview, which shows its problems.
    pub fn start(opts: BuildOptions) -> Preview {
        let mut p = Preview {
            site: None,
            problems: BTreeMap::new(),
            opts,
            unrenderable: BTreeSet::new(),
        };
        p.full();
        p
    }

    /// Every current problem, in file order.
    pub fn problems(&self) -> Diagnostics {
        crate::templates::merge_repeats(&Diagnostics(
            self.problems.values().flatten().cloned().collect(),
        ))
    }

    /// Applies a batch of changes.
    pub fn apply(&mut self, changes: &[Change]) -> Update {
        let before = !self.problems.is_empty();
        let update = match self.plan(changes) {
            Plan::Full => self.full(),
            Plan::Incremental(changes) => self.incremental(&changes),
        };
        match (before, self.problems.is_empty()) {
            (_, false) => Update::Broken,
            // Fixed: every tab may be showing the overlay.
            (true, true) => Update::Everything,
            (false, true) => update,
        }
    }

    fn plan(&self, changes: &[Change]) -> Plan {
        let Some(site) = &self.site else {
            return Plan::Full;
        };
        // Problems found by a whole build are only known to be fixed by another.
        if self.problems.contains_key("build") {
            return Plan::Full;
        }
        let root = &self.opts.root;
        let mut set = BTreeSet::new();
        for c in changes {
            match c {
                Change::Config | Change::Comments => return Plan::Full,
                Change::Content(rel) => {
                    let path = root.join("content").join(rel);
                    let is_md = rel.extension().is_some_and(|e| e == "md");
                    let known = if is_md {
                        site.content
                            .pages
                            .iter()
                            .any(|p| p.source == Path::new("content").join(rel))
                    } else {
                        site.content.assets.iter().any(|(src, _)| *src == path)
                    };
                    // New, deleted or renamed files, and folders, move URLs; a changed
                    // photo changes the names of its processed files in every page.
                    if !known || !path.is_file() || crate::images::Photos::is_photo(&path) {
                        return Plan::Full;
                    }
                    set.insert(c.clone());
                }
                Change::Template(_) | Change::Static(_) => {
                    set.insert(c.clone());
                }
            }
        }
        Plan::Incremental(set)
    }

    /// Renders up to `max` pages that are not rendered yet, changing nothing (so it
    /// can run under a read lock while requests are served); `None` when every page is.
    pub fn render_batch(&self, max: usize, budget: std::time::Duration) -> Option<Batch> {
        let site = self.site.as_ref()?;
        let todo: Vec<usize> = site
            .unrendered()
            .filter(|i| !self.unrenderable.contains(i))
            .take(max)
            .collect();
        if todo.is_empty() {
            return None;
        }
        // On one thread: the background fill leaves the other cores to the pages
        // visitors ask for, so the first one is served while the rest renders.
        // At least one page, then as many as fit in the budget.
        let started = std::time::Instant::now();
        let mut done = Vec::with_capacity(todo.len());
        for i in todo {
            done.push((i, site.render_page(i)));
            if started.elapsed() >= budget {
                break;
            }
        }
        Some(Batch(done))
    }

    /// Keeps a batch of rendered pages. A page that failed to render is a problem of the
    /// whole site, fixed by the next change (which loads the site again); returns
    /// [`Update::Broken`] when this batch found the first one.
    pub fn keep(&mut self, batch: Batch) -> Update {
        let Some(site) = self.site.as_mut() else {
            return Update::Nothing;
        };
        let was_broken = !self.problems.is_empty();
        let mut found = Vec::new();
        for (i, result) in batch.0 {
            match result {
                // A page re-rendered by a change since the batch was rendered is newer.
                Ok(page) => {
                    if site.output.contains_key(&page.path) {
                        continue;
                    }
                    site.keep_rendered(page)
                }
                Err(ds) => {
                    self.unrenderable.insert(i);
                    found.extend(ds);
                }
            }
        }
        // The photos these pages show join the output (their files are encoded in the
        // background by `serve`).
        if let Err(Error::Site(ds)) = site.publish_photos() {
            found.extend(ds.0);
        }
        if found.is_empty() {
            return Update::Nothing;
        }
        self.problems
            .entry("build".into())
            .or_default()
            .extend(found);
        if was_broken {
            Update::Nothing
        } else {
            Update::Broken
        }
    }

    /// Renders every page not rendered yet (what `serve` does in batches between
    /// changes).
    pub fn fill(&mut self) -> Update {
        let mut update = Update::Nothing;
        while let Some(batch) = self.render_batch(usize::MAX, std::time::Duration::MAX) {
            if self.keep(batch) == Update::Broken {
                update = Update::Broken;
            }
        }
        update
    }

    fn full(&mut self) -> Update {
        let loaded = Site::load(&self.opts).and_then(|mut site| site.prepare().map(|()| site));
        match loaded {
            Ok(site) => {
                self.site = Some(site);
                self.problems.clear();
                self.unrenderable.clear();
                Update::Everything
            }
            Err(e) => {
                self.problems.clear();
                self.problems.insert("build".into(), diagnostics(e).0);
                Update::Broken
            }
        }
    }

    fn incremental(&mut self, changes: &BTreeSet<Change>) -> Update {
        let mut pages = BTreeSet::new();
        let mut everything = false;
        let mut css = Vec::new();
        let mut templates_changed = Vec::new();
        for change in changes {
            match change {
                Change::Content(rel) if rel.extension().is_some_and(|e| e == "md") => {
                    match self.reload_content(rel) {
                        Ok(Some(urls)) => pages.extend(urls),
                        Ok(None) => return self.full(),
                        Err(()) => {}
                    }
                }
                // Files beside pages are served from disk as they are.
                Change::Content(rel) => {
                    pages.insert(format!("/{}", rel.display()));
                }
                Change::Template(name) => templates_changed.push(name.clone()),
                // Planned as a full rebuild; never reaches here.
                Change::Config | Change::Comments => return self.full(),
                Change::Static(_) => {
                    let site = self.site.as_mut().expect("planned with a site");
                    match site.load_static() {
                        Ok(renamed) if renamed.is_empty() => everything = true,
                        Ok(renamed) => css.extend(renamed),
                        Err(e) => {
                            self.problems.insert("static".into(), diagnostics(e).0);
                        }
                    }
                }
            }
        }
        if !templates_changed.is_empty() {
            match self.rerender_templates(&templates_changed) {
                Ok(urls) => pages.extend(urls),
                Err(e) => {
                    self.problems.insert("templates".into(), diagnostics(e).0);
                }
            }
        }
        if everything {
            return Update::Everything;
        }
        if !css.is_empty() && pages.is_empty() {
            return Update::Css(css);
        }
        if pages.is_empty() && css.is_empty() {
            Update::Nothing
        } else {
            Update::Pages(pages.into_iter().collect())
        }
    }

    /// Reads one page again and re-renders what shows it. `Ok(None)` means the change
    /// moves URLs, so everything must be rebuilt.
    fn reload_content(&mut self, rel: &Path) -> Result<Option<Vec<String>>, ()> {
        let key = format!("content/{}", rel.display());
        let site = self.site.as_mut().expect("planned with a site");
        let source = Path::new("content").join(rel);
        let Some(idx) = site.content.pages.iter().position(|p| p.source == source) else {
            return Ok(None);
        };
        let page = match reload_page(&self.opts.root, &site.config, rel, &site.content) {
            Ok(p) => p,
            Err(problems) => {
                self.problems.insert(key, problems);
                return Err(());
            }
        };
        // A save that leaves the file as it was (the second event of one save arriving
        // late, an editor saving an unchanged buffer) changes nothing: no page renders,
        // no tab reloads. After a problem, the same bytes may be the fix: rebuilt.
        if page.origin.hash == site.content.pages[idx].origin.hash
            && !self.problems.contains_key(&key)
        {
            return Ok(Some(Vec::new()));
        }
        if deps::page_edit(&site.content.pages[idx], &page, self.opts.drafts) == Some(Reach::Moved)
        {
            return Ok(None);
        }
        let renamed = deps::renamed(&site.content.pages[idx], &page);
        let (old_page, listing_changed) = site.replace_page(idx, page);
        let at = site.reorder(idx);
        if renamed {
            site.services_renamed();
        }
        // Listings show services in the site's order.
        let moved = at != idx;
        let moved_service = moved && site.content.pages[at].kind == PageKind::Service;
        let Reach::Pages(reached) = deps::edited(at, listing_changed || moved_service, renamed)
        else {
            return Ok(None);
        };
        let targets = site.pages_for(&reached);
        // The 404 page shows the services as listings do, and the sitemap and
        // `_headers` list the pages in the site's order. Made first: it fails without
        // changing the output, so a failure leaves nothing of the edit behind.
        let site_files = moved || listing_changed || renamed;
        let rendered = if site_files {
            site.site_files()
        } else {
            Ok(())
        }
        .and_then(|()| site.render_pages(&targets));
        match rendered {
            Ok(_) => {
                self.problems.remove(&key);
                self.problems.remove("templates");
                let mut urls: Vec<String> = targets
                    .iter()
                    .map(|&i| site.content.pages[i].url.clone())
                    .collect();
                if site_files {
                    urls.push("/404.html".into());
                }
                Ok(Some(urls))
            }
            Err(e) => {
                // Keep the page that rendered, so the next edit compares against it.
                site.replace_page(at, old_page);
                site.reorder(at);
                if renamed {
                    site.services_renamed();
                }
                if site_files {
                    // As they were before the edit (which rendered them once already).
                    let _ = site.site_files();
                }
                self.problems.insert(key, diagnostics(e).0);
                Err(())
            }
        }
    }

    fn rerender_templates(&mut self, names: &[String]) -> Result<Vec<String>, Error> {
        let site = self.site.as_mut().expect("planned with a site");
        site.load_templates()?;
        let mut users = BTreeSet::new();
        for name in names {
            users.extend(site.templates_using(name));
        }
        let reached: BTreeSet<Target> = site
            .content
            .pages
            .iter()
            .enumerate()
            .filter(|(_, p)| users.contains(&p.template))
            .map(|(i, _)| Target::Page(i))
            .collect();
        let targets = site.pages_for(&reached);
        site.render_pages(&targets)?;
        if users.contains("404.html") {
            site.render_site_files()?;
        }
        self.problems.remove("templates");
        let mut urls: Vec<String> = targets
            .iter()
            .map(|&i| site.content.pages[i].url.clone())
            .collect();
        if users.contains("404.html") {
            urls.push("/404.html".into());
        }
        Ok(urls)
    }
}

fn diagnostics(e: Error) -> Diagnostics {
    match e {
        Error::Site(d) => d,
        other => Diagnostic::new("site", other.to_string()).into(),
    }
}
