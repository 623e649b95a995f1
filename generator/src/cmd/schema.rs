//! `generator schema`: the front matter's JSON Schema for editors' tools, written to
//! `.generator/` in the site root (see [`crate::schema`]).

use std::path::{Path, PathBuf};

use site_config::SiteConfig;

use crate::content::{load_content, PageKind};
use crate::Error;

/// Writes the schemas for the site at `root`; returns the folder they are in.
pub fn run(root: &Path) -> Result<PathBuf, Error> {
    let config = SiteConfig::load(root)?;
    crate::schema::write(root, &config, &service_titles(root, &config))
}

/// The titles of the site's services, as far as its content can be read (a page
/// with problems still gives its title).
pub(crate) fn service_titles(root: &Path, config: &SiteConfig) -> Vec<String> {
    let (content, _) = load_content(root, config, true);
    content
        .pages
        .iter()
        .filter(|p| p.kind == PageKind::Service && !p.title.is_empty())
        .map(|p| p.title.clone())
        .collect()
}
