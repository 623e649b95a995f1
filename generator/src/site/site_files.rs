//! The files of the site that belong to no one page: `404.html`, alias pages,
//! `_redirects`, `_headers`, `sitemap.xml`, `robots.txt`, the files kept beside pages,
//! and the photos' files.

use std::collections::HashMap;
use std::path::Path;

use serde_json::json;
use site_config::{Diagnostic, Diagnostics, SiteConfig};

use super::Site;
use crate::content::{line_mentioning, normalise_alias, Content};
use crate::output::{self, OutputFile};
use crate::urls::output_path;
use crate::Error;

impl Site {
    /// `404.html`, alias pages, `_redirects`, `_headers`, `sitemap.xml`, `robots.txt`,
    /// the files beside pages, and the photos' files.
    pub fn render_site_files(&mut self) -> Result<(), Error> {
        self.site_files()?;
        self.publish_photos()
    }

    /// [`Site::render_site_files`] but the photos. Changes nothing when the 404 page
    /// fails to render.
    pub fn site_files(&mut self) -> Result<(), Error> {
        let html = self.not_found_page()?;
        self.output
            .insert(NOT_FOUND.into(), OutputFile::Bytes(html));
        self.site_files_but_404();
        Ok(())
    }

    /// The `404.html` page: like a listing, it is given the services.
    pub(super) fn not_found_page(&self) -> Result<Vec<u8>, Error> {
        let config = &self.config;
        let not_found = json!({
            "kind": "404", "title": "Page not found", "summary": "", "url": "/404.html",
            "permalink": format!("{}/404.html", config.base_url), "content": "", "slug": "404",
            "template": "404.html", "form": null, "image": null, "image_alt": null, "extra": {},
        });
        let html = self
            .render_listing(
                "404.html",
                Path::new("404.html"),
                "/404.html",
                not_found,
                Vec::new(),
            )
            .map_err(|d| Error::Site(d.into()))?;
        Ok(html.into_bytes())
    }

    /// [`Site::site_files`] but the `404.html` page.
    pub(super) fn site_files_but_404(&mut self) {
        let config = &self.config;
        let out = &mut self.output;
        for (src, url) in &self.content.assets {
            out.insert(
                url.trim_start_matches('/').to_string(),
                OutputFile::Copy(src.clone()),
            );
        }
        let mut aliases = Vec::new();
        for page in &self.content.pages {
            for alias in &page.aliases {
                let key = normalise_alias(alias);
                out.insert(
                    output_path(&key),
                    OutputFile::Bytes(output::alias_page(config, &page.url).into_bytes()),
                );
                aliases.push((alias.clone(), page.url.clone()));
            }
        }
        let urls: Vec<&str> = self.content.pages.iter().map(|p| p.url.as_str()).collect();
        // A thank-you page is only ever reached by sending a form: not for search engines.
        let indexed: Vec<&str> = urls
            .iter()
            .copied()
            .filter(|u| !is_thank_you(config, u))
            .collect();
        out.insert(
            "_redirects".into(),
            OutputFile::Bytes(output::redirects_file(&aliases).into_bytes()),
        );
        out.insert(
            "_headers".into(),
            OutputFile::Bytes(output::headers_file(config).into_bytes()),
        );
        out.insert(
            "sitemap.xml".into(),
            OutputFile::Bytes(output::sitemap_xml(config, &indexed).into_bytes()),
        );
        out.insert(
            "robots.txt".into(),
            OutputFile::Bytes(output::robots_txt(config).into_bytes()),
        );
    }
}

/// Where the page for addresses that lead nowhere goes.
pub(super) const NOT_FOUND: &str = "404.html";

/// The files the build writes beside the pages, which no alias may take.
const SITE_FILES: [&str; 5] = [
    NOT_FOUND,
    "_redirects",
    "_headers",
    "sitemap.xml",
    "robots.txt",
];

/// Aliases whose redirect page would replace a file: one kept beside a page, a static
/// file (`is_static`, by output path), or one the build writes. (Aliases on a page's
/// address are [`crate::content`]'s to refuse.)
pub(super) fn alias_clashes(
    root: &Path,
    content: &Content,
    is_static: impl Fn(&str) -> bool,
) -> Diagnostics {
    let beside: HashMap<&str, &Path> = content
        .assets
        .iter()
        .map(|(src, url)| (url.trim_start_matches('/'), src.as_path()))
        .collect();
    let mut problems = Diagnostics::default();
    for page in &content.pages {
        for alias in &page.aliases {
            let path = output_path(&normalise_alias(alias));
            let taken = if SITE_FILES.contains(&path.as_str()) {
                format!("{path}, a file the build writes")
            } else if let Some(src) = beside.get(path.as_str()) {
                format!(
                    "the file {}",
                    src.strip_prefix(root).unwrap_or(src).display()
                )
            } else if is_static(&path) {
                format!("the static file {path}")
            } else {
                continue;
            };
            problems.push(
                Diagnostic::new(
                    &page.source,
                    format!("alias {alias} would replace {taken} with a redirect"),
                )
                .at_line(line_mentioning(root, &page.source, alias))
                .with_hint("remove the alias, or give it an address no page or file has"),
            );
        }
    }
    problems
}

/// True for a page a form sends people to once it is sent (`thank_you` in site.yaml).
pub(super) fn is_thank_you(config: &SiteConfig, url: &str) -> bool {
    config.forms.values().any(|f| f.thank_you == url)
}
