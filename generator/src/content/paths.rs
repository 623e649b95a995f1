//! Where pages and the files beside them are published: each page's kind, slug and
//! pretty URL from its file name, and paths written in a page resolved against its
//! folder under `content/`.
//! (Addresses resolved against a page's URL are [`crate::urls`]'.)

use std::path::Path;

use site_config::slugify;

use super::PageKind;

/// The pretty URL of a page: `about.md` -> `/about/`, `a/_index.md` and `a/index.md` -> `/a/`.
pub(super) fn url_for(kind: PageKind, rel: &Path, slug: &str) -> String {
    match kind {
        PageKind::Home => "/".into(),
        PageKind::Services => "/services/".into(),
        _ => {
            let mut dirs: Vec<String> = rel
                .parent()
                .into_iter()
                .flat_map(|p| p.iter())
                .filter_map(|p| p.to_str())
                .map(str::to_string)
                .collect();
            if is_folder_page(rel) {
                dirs.pop();
            }
            let mut url = String::from("/");
            for d in dirs {
                url.push_str(&d);
                url.push('/');
            }
            url.push_str(slug);
            url.push('/');
            url
        }
    }
}

/// A path written in a page (`before.jpg`, `../img/a.jpg`, `/img/a.jpg`) as a site path,
/// resolved against the page's folder under `content/`.
pub(super) fn resolve_site_path(rel: &Path, target: &str) -> String {
    if target.starts_with('/') || target.contains("://") {
        return target.to_string();
    }
    let mut parts: Vec<String> = rel
        .parent()
        .into_iter()
        .flat_map(|p| p.iter())
        .filter_map(|p| p.to_str())
        .map(str::to_string)
        .collect();
    for seg in target.split('/') {
        match seg {
            "." | "" => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s.to_string()),
        }
    }
    format!("/{}", parts.join("/"))
}

/// `about.md` -> `about`; `clinic/_index.md` and `clinic/index.md` -> `clinic`.
pub(super) fn slug_from_file_name(rel: &Path) -> String {
    let stem = rel.file_stem().and_then(|s| s.to_str()).unwrap_or("");
    if is_folder_page(rel) {
        rel.parent()
            .and_then(|p| p.file_name())
            .and_then(|s| s.to_str())
            .map(slugify)
            .unwrap_or_default()
    } else {
        slugify(stem)
    }
}

/// The address a page's file name gives it, as if it has no `slug:`.
pub(super) fn url_from_file_name(rel: &Path) -> String {
    url_for(kind_of(rel), rel, &slug_from_file_name(rel))
}

/// Whether the file is its folder's page, published at the folder's address:
/// `_index.md` (a section's page), or `index.md` in a folder of its own beside the
/// page's files (`about/index.md`). `index.md` on top of `content/` or of `services/`
/// is a page named "index", as it always was (those folders' pages are `_index.md`).
pub(super) fn is_folder_page(rel: &Path) -> bool {
    let stem = rel.file_stem();
    if stem.is_some_and(|s| s == "_index") {
        return true;
    }
    let in_own_folder = rel
        .parent()
        .is_some_and(|p| p != Path::new("") && p != Path::new("services"));
    stem.is_some_and(|s| s == "index") && in_own_folder
}

pub(super) fn kind_of(rel: &Path) -> PageKind {
    let parts: Vec<&str> = rel.iter().filter_map(|p| p.to_str()).collect();
    match parts.as_slice() {
        ["_index.md"] => PageKind::Home,
        ["services", "_index.md"] => PageKind::Services,
        ["services", _] => PageKind::Service,
        // A service in a folder with its photos; `_index.md` there is a plain page.
        ["services", _, "index.md"] => PageKind::Service,
        _ => PageKind::Page,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_resolve_against_the_page_folder() {
        let rel = Path::new("services/smp.md");
        assert_eq!(resolve_site_path(rel, "before.jpg"), "/services/before.jpg");
        assert_eq!(resolve_site_path(rel, "../img/a.jpg"), "/img/a.jpg");
        assert_eq!(resolve_site_path(rel, "/x.jpg"), "/x.jpg");
    }
}
