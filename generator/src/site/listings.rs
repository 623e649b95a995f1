//! The services as listings (the home page, `/services/`, the 404 page) show them, and
//! as forms offer them: made from the pages once per build or preview, on every thread,
//! kept in step with edits, and moved into a listing's context while it renders.

use std::path::Path;
use std::sync::{Arc, TryLockError};

use rayon::prelude::*;
use serde_json::Value;
use site_config::{Diagnostic, ServiceRef};
use tera::Context;

use super::context::{listed, page_value, Shape};
use super::Site;
use crate::content::{Page, PageKind};

impl Site {
    /// Call after the list of services (titles, slugs, order) may have changed.
    pub fn services_changed(&mut self) {
        // How listings show each service, as text: its fingerprint decides whether
        // listings render again, and the content cache keeps it.
        self.content.pages.par_iter_mut().for_each(|p| {
            if p.kind == PageKind::Service && !p.origin.cached {
                p.origin.listed = Some(listed(p));
            }
        });
        *self.services_slot() = None;
        self.forget_services_copy();
        self.register_functions();
    }

    /// Renders the listing `template` for the page at `url` (`page` as templates see
    /// it), given the services as listings show them: moved into its context and taken
    /// back after. One listing renders at a time, or two when a copy of the services
    /// was made for the second.
    ///
    /// The services are made on this thread, under the lock: they are first asked for
    /// while pages render in parallel, and a thread waiting for parallel work inside
    /// could be handed a listing that waits for this lock.
    pub(super) fn render_listing(
        &self,
        template: &str,
        source: &Path,
        url: &str,
        page: Value,
        json_ld: Vec<String>,
    ) -> Result<String, Diagnostic> {
        let render = |ctx: &Context| self.templates.render(template, ctx, source);
        let mut slot = match self.services_value.try_lock() {
            Ok(slot) => slot,
            Err(TryLockError::Poisoned(e)) => e.into_inner(),
            Err(TryLockError::WouldBlock) => {
                if let Ok(mut copy) = self.services_copy.try_lock() {
                    if let Some(services) = copy.take() {
                        let (html, services) =
                            self.contexts
                                .render(url, page, json_ld, Some(services), render);
                        *copy = services;
                        return html;
                    }
                }
                self.services_value
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
            }
        };
        let services = slot.take().unwrap_or_else(|| {
            Value::Array(
                self.content
                    .services()
                    .map(|p| self.listing_value(p))
                    .collect(),
            )
        });
        let (html, services) = self
            .contexts
            .render(url, page, json_ld, Some(services), render);
        *slot = services;
        html
    }

    /// Makes the services as listings show them, on every thread of the pool, unless
    /// made already: for a build about to render a listing, which would otherwise make
    /// them on one thread while holding the listings' lock. With `copy`, also a copy
    /// for a second listing to render alongside the first.
    pub(super) fn make_services(&mut self, copy: bool) {
        if self.services_slot().is_none() {
            let services: Vec<&Page> = self.content.services().collect();
            let values: Vec<Value> = services.par_iter().map(|p| self.listing_value(p)).collect();
            *self.services_slot() = Some(Value::Array(values));
        }
        // Copied on every thread, as made.
        let copy = copy
            .then(|| match self.services_slot() {
                Some(Value::Array(all)) => Some(Value::Array(all.par_iter().cloned().collect())),
                _ => None,
            })
            .flatten();
        *self
            .services_copy
            .get_mut()
            .unwrap_or_else(|e| e.into_inner()) = copy;
    }

    /// Lets go of the copy of the services, which only a build makes: an edit that
    /// changes the services (`serve`'s, [`Site::replace_page`]) changes them alone.
    pub(super) fn forget_services_copy(&mut self) {
        *self
            .services_copy
            .get_mut()
            .unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// Lets go of the services as listings show them, and of their copy.
    pub(super) fn take_services(&mut self) -> (Option<Value>, Option<Value>) {
        let copy = self
            .services_copy
            .get_mut()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        (self.services_slot().take(), copy)
    }

    /// The services as listings show them, once made.
    pub(super) fn services_slot(&mut self) -> &mut Option<Value> {
        self.services_value
            .get_mut()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// How listings show service `p`.
    pub(super) fn listing_value(&self, p: &Page) -> Value {
        match &p.origin.listed {
            // Only a page from the content cache lacks what the value is made from;
            // making it is faster than reading the text back.
            Some(listed) if p.origin.cached => {
                let mut v: Value = serde_json::from_str(&listed.text).unwrap_or(Value::Null);
                if let Some(o) = v.as_object_mut() {
                    let permalink = format!("{}{}", self.config.base_url, p.url);
                    o.insert("permalink".into(), permalink.into());
                }
                v
            }
            _ => page_value(p, &self.config, Shape::Listed),
        }
    }

    pub(super) fn register_functions(&mut self) {
        let services: Vec<ServiceRef> = self
            .content
            .services()
            .map(|p| ServiceRef {
                slug: p.slug.clone(),
                title: p.title.clone(),
                order: p.order,
            })
            .collect();
        self.templates.register_functions(
            self.config.clone(),
            self.assets.clone(),
            Arc::new(services),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::site::BuildOptions;

    /// The tests' basic fixture with the default theme, in `dir`, loaded.
    fn basic_site(dir: &Path) -> Site {
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
        for (from, to) in [
            (manifest.join("tests/fixtures/basic"), dir.to_path_buf()),
            (
                manifest.join("../themes/default"),
                dir.join("themes/default"),
            ),
        ] {
            for entry in walkdir::WalkDir::new(&from) {
                let entry = entry.unwrap();
                let target = to.join(entry.path().strip_prefix(&from).unwrap());
                if entry.file_type().is_dir() {
                    std::fs::create_dir_all(&target).unwrap();
                } else {
                    std::fs::copy(entry.path(), &target).unwrap();
                }
            }
        }
        Site::load(&BuildOptions {
            root: dir.to_path_buf(),
            drafts: false,
            base_url: None,
            form_service_url: None,
            comments: None,
            content_cache: false,
        })
        .unwrap()
    }

    #[test]
    fn a_listing_renders_with_the_copy_while_another_holds_the_services() {
        let dir = tempfile::tempdir().unwrap();
        let mut site = basic_site(dir.path());
        let home = site
            .content
            .pages
            .iter()
            .position(|p| p.kind == PageKind::Home);
        let home = home.unwrap();
        let render = |site: &Site| {
            let p = &site.content.pages[home];
            let value = page_value(p, &site.config, Shape::Own);
            site.render_listing(&p.template, &p.source, &p.url, value, Vec::new())
                .unwrap()
        };
        site.make_services(true);
        let alone = render(&site);
        // Another listing holds the services, as while it renders: this one takes the
        // copy, and puts it back.
        let held = site.services_value.lock().unwrap();
        assert!(held.is_some());
        let alongside = render(&site);
        assert!(site.services_copy.lock().unwrap().is_some(), "put back");
        drop(held);
        assert_eq!(alongside, alone);
        assert!(alone.contains("Chemical Peel"), "the services are listed");
        // Once they are let go, neither is left behind.
        let (services, copy) = site.take_services();
        assert!(services.is_some() && copy.is_some());
        assert!(site.services_copy.lock().unwrap().is_none());
    }

    #[test]
    fn a_listed_service_has_its_facts_but_not_its_text_or_faqs() {
        let dir = tempfile::tempdir().unwrap();
        let site = basic_site(dir.path());
        let scalp = site.content.pages.iter().find(|p| p.slug == "scalp");
        let scalp = scalp.unwrap();
        let own = page_value(scalp, &site.config, Shape::Own);
        let listed_value = page_value(scalp, &site.config, Shape::Listed);
        assert_eq!(own["faqs"].as_array().map(Vec::len), Some(2));
        assert!(own["content"]
            .as_str()
            .is_some_and(|c| c.contains("upper dermis")));
        assert_eq!(listed_value.get("faqs"), None);
        assert_eq!(listed_value.get("content"), None);
        for field in [
            "title",
            "summary",
            "url",
            "permalink",
            "duration",
            "price",
            "sessions",
        ] {
            assert_eq!(listed_value[field], own[field], "{field}");
        }
        // What the content cache keeps reads back as that value, less its permalink.
        let mut kept: Value = serde_json::from_str(&listed(scalp).text).unwrap();
        assert_eq!(kept.get("permalink"), None);
        kept["permalink"] = listed_value["permalink"].clone();
        assert_eq!(kept, listed_value);
    }
}
