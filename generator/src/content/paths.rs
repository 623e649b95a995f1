//! Where pages and the files beside them are published: pretty URLs from file
//! names, and paths written in a page resolved against its folder under `content/`.
//! (Addresses resolved against a page's URL are [`crate::urls`]'.)

use std::path::Path;

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
            if super::page::is_folder_page(rel) {
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
