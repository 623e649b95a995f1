//! The list of the site's services, read from `content/services/*.md`.
//!
//! The form service needs it to check the `service` field and the generator to fill
//! the drop-down, so both read it here, from the same files. This read is lenient:
//! the generator validates front matter in full and reports mistakes.

use std::fs;
use std::path::Path;

use serde::Deserialize;

use crate::{slugify, split_front_matter, Error};

/// A service as a form needs it: its slug (the value posted) and title (what is shown).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceRef {
    /// URL slug, `/services/<slug>/`.
    pub slug: String,
    /// Name of the service.
    pub title: String,
    /// Position in listings (lower first).
    pub order: i64,
}

#[derive(Deserialize)]
struct Lenient {
    title: Option<String>,
    slug: Option<String>,
    #[serde(default)]
    draft: bool,
    #[serde(default)]
    order: i64,
}

/// The published services under `root/content/services`, ordered as the site lists
/// them (by `order`, then title). Drafts and unreadable files are left out.
pub fn discover_services(root: &Path) -> Result<Vec<ServiceRef>, Error> {
    let dir = root.join("content").join("services");
    let entries = fs::read_dir(&dir).map_err(|source| Error::Io {
        path: dir.clone(),
        source,
    })?;
    let mut out = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        let stem = match path.file_stem().and_then(|s| s.to_str()) {
            Some(s) if path.extension().is_some_and(|e| e == "md") && s != "_index" => s,
            _ => continue,
        };
        let Ok(src) = fs::read_to_string(&path) else {
            continue;
        };
        let Some(split) = split_front_matter(&src) else {
            continue;
        };
        let Ok(fm) = serde_yaml::from_str::<Lenient>(split.yaml) else {
            continue;
        };
        if fm.draft {
            continue;
        }
        let Some(title) = fm.title else { continue };
        let slug = fm.slug.unwrap_or_else(|| slugify(stem));
        out.push(ServiceRef {
            slug,
            title,
            order: fm.order,
        });
    }
    out.sort_by(|a, b| (a.order, &a.title).cmp(&(b.order, &b.title)));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discovers_published_services_in_order() {
        let dir = std::env::temp_dir().join(format!("svc-{}", std::process::id()));
        let services = dir.join("content/services");
        fs::create_dir_all(&services).unwrap();
        fs::write(services.join("_index.md"), "---\ntitle: Services\n---\n").unwrap();
        fs::write(
            services.join("b-peel.md"),
            "---\ntitle: Peel\norder: 2\n---\n",
        )
        .unwrap();
        fs::write(
            services.join("smp.md"),
            "---\ntitle: SMP\norder: 1\nslug: scalp\n---\n",
        )
        .unwrap();
        fs::write(
            services.join("wip.md"),
            "---\ntitle: WIP\ndraft: true\n---\n",
        )
        .unwrap();
        let found = discover_services(&dir).unwrap();
        fs::remove_dir_all(&dir).unwrap();
        let slugs: Vec<_> = found.iter().map(|s| s.slug.as_str()).collect();
        assert_eq!(slugs, ["scalp", "b-peel"]);
    }
}
