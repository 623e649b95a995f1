//! Reading one changed page again, for `serve`, without reading the rest of the site.

use std::path::Path;

use site_config::{Diagnostic, SiteConfig};

use super::load::read_page;
use super::render::render_page;
use super::{Content, Page};

/// Reads the page at `rel` (under `content/`) again and renders its Markdown, resolving
/// links against the pages in `content`. The caller decides whether the new page can
/// replace the old one in place (same URL) or the whole site must be read again.
pub fn reload_page(
    root: &Path,
    config: &SiteConfig,
    rel: &Path,
    content: &Content,
) -> Result<Page, Vec<Diagnostic>> {
    let path = root.join("content").join(rel);
    let (parsed, mut problems) = read_page(root, &path, rel, config);
    let Some(parsed) = parsed else {
        return Err(problems);
    };
    let (page, found) = render_page(parsed, &content.md_urls);
    problems.extend(found);
    if problems.is_empty() {
        Ok(page)
    } else {
        Err(problems)
    }
}
