//! From changes to a new preview: re-render only what a change affects, keep the last
//! good site when something is broken, and remember each problem until it is fixed.
//!
//! An edited page re-renders that page (and, for a service, the listings that show
//! it); a template re-renders the pages that use it; a static file is swapped in
//! place. Anything that moves URLs (a new, deleted or renamed page, `site.yaml`)
//! rebuilds everything, and so does a change to the published comments file, which
//! happens when staff publish, not while editors type.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use site_config::{Diagnostic, Diagnostics};

use super::watch::Change;
use crate::content::{reload_page, PageKind};
use crate::site::{build, BuildOptions, Site};
use crate::Error;

/// What open tabs should do after a rebuild.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Update {
    /// Nothing visible changed.
    Nothing,
    /// These pages (site paths) changed; `*` means every page.
    Pages(Vec<String>),
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
}

/// What a batch of changes needs.
enum Plan {
    Full,
    Incremental(BTreeSet<Change>),
}

impl Preview {
    /// Builds the site for the first time. A broken site still gives a preview,
    /// which shows its problems.
    pub fn start(opts: BuildOptions) -> Preview {
        let mut p = Preview {
            site: None,
            problems: BTreeMap::new(),
            opts,
        };
        p.full();
        p
    }

    /// Every current problem, in file order.
    pub fn problems(&self) -> Diagnostics {
        let mut all = Diagnostics(self.problems.values().flatten().cloned().collect());
        all.sort();
        all
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
            (true, true) => Update::Pages(vec!["*".into()]),
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

    fn full(&mut self) -> Update {
        match build(&self.opts) {
            Ok(site) => {
                self.site = Some(site);
                self.problems.clear();
                Update::Pages(vec!["*".into()])
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
                        Ok(renamed) if renamed.is_empty() => {
                            pages.insert("*".into());
                        }
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
    /// moves URLs or the list of services, so everything must be rebuilt.
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
        let old = &site.content.pages[idx];
        let moved = page.url != old.url
            || page.aliases != old.aliases
            || (page.draft && !self.opts.drafts)
            || page.kind != old.kind;
        let listed_differently =
            page.kind == PageKind::Service && (page.title != old.title || page.order != old.order);
        if moved || listed_differently {
            return Ok(None);
        }
        let (old_page, listing_changed) = site.replace_page(idx, page);
        let mut targets = vec![idx];
        // Most saves change only the text; listings show title, summary and facts.
        if listing_changed {
            targets.extend(
                site.content
                    .pages
                    .iter()
                    .enumerate()
                    .filter(|(_, p)| matches!(p.kind, PageKind::Home | PageKind::Services))
                    .map(|(i, _)| i),
            );
        }
        match site.render_pages(&targets) {
            Ok(_) => {
                self.problems.remove(&key);
                self.problems.remove("templates");
                Ok(Some(
                    targets
                        .iter()
                        .map(|&i| site.content.pages[i].url.clone())
                        .collect(),
                ))
            }
            Err(e) => {
                // Keep the page that rendered, so the next edit compares against it.
                site.replace_page(idx, old_page);
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
        let targets: Vec<usize> = site
            .content
            .pages
            .iter()
            .enumerate()
            .filter(|(_, p)| users.contains(&p.template))
            .map(|(i, _)| i)
            .collect();
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
