//! What depends on what: the one model of which pages a change reaches, used by `serve`
//! to re-render after a save and by `build` (through [`super::Site::pages_for`]) to say which
//! pages a site holds.
//!
//! A page's HTML depends on its own source, on the services list when it is a listing
//! (the home page and `/services/`), on every service's title and order when a form on
//! it offers services other than its own, and on everything site-wide (config,
//! templates, static files' fingerprints, the set of URLs). A change is turned into typed targets
//! here, never into strings.

use std::collections::BTreeSet;

use crate::content::{Page, PageKind};

/// Pages that must be rendered again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Target {
    /// One page, by its index in the site's pages.
    Page(usize),
    /// The pages whose forms offered a service other than their own when last
    /// rendered: they show every service's title, in the services' order (the build
    /// record keeps the same fact per page, `site::reuse`).
    OfferingServices,
    /// The pages that list services: the home page and the services listing.
    Listings,
    /// Every page.
    AllPages,
}

/// What a new version of one page reaches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    /// URLs, aliases or kinds move: the site must be loaded again.
    Moved,
    /// Only these pages show what changed.
    Pages(BTreeSet<Target>),
}

/// [`Reach::Moved`] when replacing `old` with `new` moves URLs; `None` when the new
/// version can be put in place (at its place in the site's order, which a new title or
/// order may change: [`super::Site::reorder`]) and its targets rendered ([`edited`]).
pub fn page_edit(old: &Page, new: &Page, drafts: bool) -> Option<Reach> {
    let moved = new.url != old.url
        || new.aliases != old.aliases
        || (new.draft && !drafts)
        || new.kind != old.kind;
    moved.then_some(Reach::Moved)
}

/// Whether the edit changes a service's title or order, which every form offering it
/// shows.
pub fn renamed(old: &Page, new: &Page) -> bool {
    new.kind == PageKind::Service && (new.title != old.title || new.order != old.order)
}

/// The targets an edit of page `idx` reaches once it is in place; `listing_changed`
/// says whether listings show it differently (summary, duration, price, sessions), which only the site can
/// tell ([`super::Site::replace_page`]); `renamed`, as [`renamed`] says.
pub fn edited(idx: usize, listing_changed: bool, renamed: bool) -> Reach {
    let mut targets = BTreeSet::from([Target::Page(idx)]);
    // Most saves change only the text; listings show its title, summary, duration,
    // price and sessions, not its text or FAQs.
    if listing_changed {
        targets.insert(Target::Listings);
    }
    if renamed {
        targets.insert(Target::OfferingServices);
    }
    Reach::Pages(targets)
}

/// Whether a page of this kind lists services.
pub fn is_listing(kind: PageKind) -> bool {
    matches!(kind, PageKind::Home | PageKind::Services)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_order_pages_before_listings_before_everything() {
        let set = BTreeSet::from([Target::AllPages, Target::Listings, Target::Page(3)]);
        assert_eq!(
            set.into_iter().collect::<Vec<_>>(),
            [Target::Page(3), Target::Listings, Target::AllPages]
        );
        assert_eq!(
            edited(2, true, false),
            Reach::Pages(BTreeSet::from([Target::Page(2), Target::Listings]))
        );
        assert_eq!(
            edited(2, false, false),
            Reach::Pages(BTreeSet::from([Target::Page(2)]))
        );
        assert_eq!(
            edited(2, true, true),
            Reach::Pages(BTreeSet::from([
                Target::Page(2),
                Target::OfferingServices,
                Target::Listings
            ]))
        );
    }
}
