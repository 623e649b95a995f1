//! Published comments on service pages, from the file the form service exports
//! (`data/comments.json` in the site root, or `--comments PATH`).
//!
//! Each comment is rendered once, when the site loads, into what the theme's comments
//! partial shows (`page.comments`). A comment whose page is not a service page of this
//! build is left out and reported: `build` warns and goes on, because a removed page
//! must not stop the clinic publishing; `check` counts it as a problem.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use site_config::{CommentsFile, Diagnostic, Diagnostics, FormKind, SiteConfig};

use super::BuildOptions;
use crate::content::{normalise_alias, Content, PageKind};
use crate::markdown::comments::{clean_text, render_comment};
use crate::Error;

/// Where the comments file is, relative to the site root, when `--comments` is not given:
/// the form service's default data folder, as seen from the site root.
pub const DEFAULT_COMMENTS_FILE: &str = "data/comments.json";

/// The comments of each service page, ready for templates.
#[derive(Debug, Default)]
pub(crate) struct PageComments {
    /// Service pages show a comments section: the site has a comments file or a
    /// `kind: comment` form.
    enabled: bool,
    /// Each service page's comments (a JSON array), by page URL.
    by_url: HashMap<String, Value>,
    /// Comments left out because their page is not a service page.
    pub(crate) orphans: Diagnostics,
}

impl PageComments {
    /// Reads the comments file (if there is one) and sorts its comments onto the
    /// service pages in `content`.
    pub(crate) fn load(
        opts: &BuildOptions,
        config: &SiteConfig,
        content: &Content,
    ) -> Result<PageComments, Error> {
        let (path, shown) = match &opts.comments {
            Some(p) => (p.clone(), p.clone()),
            None => (
                opts.root.join(DEFAULT_COMMENTS_FILE),
                PathBuf::from(DEFAULT_COMMENTS_FILE),
            ),
        };
        let src = match std::fs::read_to_string(&path) {
            Ok(src) => Some(src),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if opts.comments.is_some() {
                    return Err(Error::Usage(format!(
                        "--comments {}: there is no such file",
                        path.display()
                    )));
                }
                None
            }
            Err(e) => return Err(Error::io(&path, e)),
        };
        let has_form = config.forms.values().any(|f| f.kind == FormKind::Comment);
        let mut out = PageComments {
            enabled: has_form || src.is_some(),
            ..PageComments::default()
        };
        let Some(src) = src else {
            return Ok(out);
        };
        let file = CommentsFile::parse(&src, &shown)?;

        // A service page's own address, and the old addresses it redirects from: a page
        // that was renamed with an alias keeps its comments.
        let mut pages: HashMap<String, &str> = HashMap::new();
        for p in content.pages.iter().filter(|p| p.kind == PageKind::Service) {
            for alias in &p.aliases {
                pages.insert(normalise_alias(alias), &p.url);
            }
        }
        for p in content.pages.iter().filter(|p| p.kind == PageKind::Service) {
            pages.insert(p.url.clone(), &p.url);
        }
        let mut lists: HashMap<&str, Vec<Value>> = HashMap::new();
        for c in &file.comments {
            let Some(&url) = pages.get(&c.page) else {
                let mut d = Diagnostic::new(
                    &shown,
                    format!(
                        "comment `{}` is on {}, which is not a service page of this site, so it is not shown",
                        c.id, c.page
                    ),
                )
                .with_hint(
                    "a renamed page keeps its comments when its old address is in its `aliases`; \
                     otherwise restore the page or withdraw the comment in the form service",
                );
                if let Some(line) = site_config::line_of_comment_id(&src, &c.id, 0) {
                    d = d.at_line(line);
                }
                out.orphans.push(d);
                continue;
            };
            let reply = c.reply.as_ref().map(|r| {
                json!({
                    "posted": r.posted,
                    "posted_text": human_date(&r.posted),
                    "html": render_comment(&r.text),
                })
            });
            lists.entry(url).or_default().push(json!({
                "id": c.id,
                "anchor": format!("comment-{}", c.id),
                "author": clean_text(&c.author).trim(),
                "posted": c.posted,
                "posted_text": human_date(&c.posted),
                "html": render_comment(&c.text),
                "reply": reply,
            }));
        }
        out.by_url = lists
            .into_iter()
            .map(|(url, list)| (url.to_string(), Value::Array(list)))
            .collect();
        Ok(out)
    }

    /// What `page.comments` is for the page at `url` of this kind: its comments (oldest
    /// first, possibly none) on a service page of a site that takes comments; `None`
    /// otherwise, and templates then show no comments section.
    pub(crate) fn for_page(&self, kind: PageKind, url: &str) -> Option<Value> {
        (self.enabled && kind == PageKind::Service).then(|| {
            self.by_url
                .get(url)
                .cloned()
                .unwrap_or_else(|| Value::Array(Vec::new()))
        })
    }
}

/// `2026-03-07` → `7 March 2026`. Dates were checked when the file was read.
fn human_date(ymd: &str) -> String {
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    let mut parts = ymd.split('-');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(y), Some(m), Some(d)) => {
            let month = m
                .parse::<usize>()
                .ok()
                .and_then(|m| MONTHS.get(m.wrapping_sub(1)));
            match (month, d.parse::<u32>()) {
                (Some(month), Ok(day)) => format!("{day} {month} {y}"),
                _ => ymd.to_string(),
            }
        }
        _ => ymd.to_string(),
    }
}

/// Where the comments file is for these options, as a path the program can open.
pub fn comments_file(opts: &BuildOptions) -> PathBuf {
    opts.comments
        .clone()
        .unwrap_or_else(|| Path::new(&opts.root).join(DEFAULT_COMMENTS_FILE))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_read_as_words() {
        assert_eq!(human_date("2026-03-07"), "7 March 2026");
        assert_eq!(human_date("2025-12-31"), "31 December 2025");
        assert_eq!(human_date("2025-13-01"), "2025-13-01");
    }
}
