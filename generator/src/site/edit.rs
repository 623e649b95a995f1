//! Changing a loaded site one page at a time, as `serve` does after a save: a page put
//! in place of its last version, moved to its place in the site's order when its title
//! or order moved it, with the services listings show and forms offer kept in step.

use serde_json::Value;

use super::context::listed;
use super::Site;
use crate::content::{site_order, Page, PageKind};
use crate::urls::output_path;

impl Site {
    /// Puts `page` in place of the page at `idx` (same URL) and returns the page it
    /// replaced, and whether listings show it differently (then they need rendering).
    pub fn replace_page(&mut self, idx: usize, mut page: Page) -> (Page, bool) {
        let is_service = page.kind == PageKind::Service;
        // A page from the content cache (one put back after a failed edit) keeps how
        // listings showed it: it lacks what that is made from.
        if is_service && !page.origin.cached {
            page.origin.listed = Some(listed(&page));
        }
        let position = services_before(&self.content.pages, idx);
        self.forget_services_copy();
        let made = self.services_slot().is_some();
        let entry = (is_service && made).then(|| self.listing_value(&page));
        let old = std::mem::replace(&mut self.content.pages[idx], page);
        let listed_hash = |p: &Page| p.origin.listed.as_ref().map(|l| l.hash);
        let listing_changed =
            is_service && listed_hash(&old) != listed_hash(&self.content.pages[idx]);
        // Listings not made yet are made from the pages as they are then.
        if let (Some(entry), Some(slot)) = (
            entry,
            self.services_slot()
                .as_mut()
                .and_then(Value::as_array_mut)
                .and_then(|a| a.get_mut(position)),
        ) {
            *slot = entry;
        }
        (old, listing_changed)
    }

    /// Moves the page at `idx` to its place in the site's order, which an edit of its
    /// title or order may have changed, and returns where it is now. The services as
    /// listings show them, and the pages by output path, follow.
    pub fn reorder(&mut self, idx: usize) -> usize {
        self.forget_services_copy();
        let pages = &mut self.content.pages;
        let at = site_order(&pages[idx]);
        // Most edits leave the page between the same neighbours.
        let after_previous = idx == 0 || site_order(&pages[idx - 1]) <= at;
        let before_next = pages.get(idx + 1).is_none_or(|p| at <= site_order(p));
        if after_previous && before_next {
            return idx;
        }
        let from = services_before(pages, idx);
        let is_service = pages[idx].kind == PageKind::Service;
        // Where it goes among the others (`to` counts them without it).
        let to = if after_previous {
            idx + pages[idx + 1..].partition_point(|p| site_order(p) < at)
        } else {
            pages[..idx].partition_point(|p| site_order(p) < at)
        };
        // Only the pages between the two places shift.
        if to > idx {
            pages[idx..=to].rotate_left(1);
        } else {
            pages[to..=idx].rotate_right(1);
        }
        let to_service = services_before(pages, to);
        for i in idx.min(to)..=idx.max(to) {
            self.by_path
                .insert(output_path(&self.content.pages[i].url), i);
        }
        if let Some(list) = self
            .services_slot()
            .as_mut()
            .and_then(Value::as_array_mut)
            .filter(|l| is_service && from < l.len() && to_service < l.len())
        {
            let entry = list.remove(from);
            list.insert(to_service, entry);
        }
        to
    }

    /// After a service's title or order changed (and it was put in its place): forms
    /// offer the services as they are now. (Listings' services follow
    /// [`Site::replace_page`] and [`Site::reorder`].)
    pub fn services_renamed(&mut self) {
        self.register_functions();
    }
}

/// Where the page at `i` stands among the services (the services as listings show them
/// are in the site's order).
fn services_before(pages: &[Page], i: usize) -> usize {
    pages[..i]
        .iter()
        .filter(|p| p.kind == PageKind::Service)
        .count()
}
