//! Static files from the theme and the site, with CSS and JS renamed by a hash of
//! their contents (`assets/style.3f2a9c1b.css`) so hosts can cache them forever, and
//! CSS minified ([`super::minify`]).

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use site_config::{Diagnostic, Diagnostics};
use walkdir::WalkDir;

use super::minify::minify_css;
use super::{Output, OutputFile};
use crate::content::is_ignored;

/// Static path (`assets/style.css`) to the URL it is published at (`/assets/style.3f2a9c1b.css`).
pub type AssetMap = HashMap<String, String>;

/// Collects `themes/<theme>/static` and the site's `static/`, the site's file winning
/// when both have the same path. Adds every file to `out` and returns the asset map.
pub fn collect_static(root: &Path, theme: &str, out: &mut Output) -> Result<AssetMap, Diagnostics> {
    let mut files: HashMap<String, PathBuf> = HashMap::new();
    let mut problems = Diagnostics::default();
    for dir in [
        root.join("themes").join(theme).join("static"),
        root.join("static"),
    ] {
        if !dir.is_dir() {
            continue;
        }
        for entry in WalkDir::new(&dir)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|e| !is_ignored(e.file_name().to_str().unwrap_or("")))
        {
            match entry {
                Ok(e) if e.file_type().is_file() => {
                    let rel = e.path().strip_prefix(&dir).unwrap_or(e.path());
                    let key = rel
                        .iter()
                        .filter_map(|p| p.to_str())
                        .collect::<Vec<_>>()
                        .join("/");
                    files.insert(key, e.into_path());
                }
                Ok(_) => {}
                Err(e) => problems.push(Diagnostic::new(dir.clone(), format!("cannot read: {e}"))),
            }
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let mut map = AssetMap::new();
    let mut keys: Vec<_> = files.into_iter().collect();
    keys.sort();
    for (key, path) in keys {
        if is_fingerprinted(&key) {
            let mut bytes = fs::read(&path).map_err(|e| {
                Diagnostics::from(Diagnostic::new(path.clone(), format!("cannot read: {e}")))
            })?;
            if key.ends_with(".css") {
                if let Ok(css) = std::str::from_utf8(&bytes) {
                    bytes = minify_css(css).into_bytes();
                }
            }
            let name = fingerprinted_name(&key, &bytes);
            map.insert(key, format!("/{name}"));
            out.insert(name, OutputFile::Bytes(bytes));
        } else {
            map.insert(key.clone(), format!("/{key}"));
            out.insert(key, OutputFile::Copy(path));
        }
    }
    Ok(map)
}

fn is_fingerprinted(key: &str) -> bool {
    key.ends_with(".css") || key.ends_with(".js")
}

/// `assets/style.css` + contents -> `assets/style.<8 hex>.css`.
pub(super) fn fingerprinted_name(key: &str, bytes: &[u8]) -> String {
    let hash = blake3::hash(bytes).to_hex();
    let short = &hash.as_str()[..10];
    match key.rsplit_once('.') {
        Some((stem, ext)) => format!("{stem}.{short}.{ext}"),
        None => format!("{key}.{short}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_change_with_contents() {
        let a = fingerprinted_name("assets/style.css", b"body{}");
        let b = fingerprinted_name("assets/style.css", b"body{color:red}");
        assert!(a.starts_with("assets/style.") && a.ends_with(".css"));
        assert_ne!(a, b);
        assert_eq!(a, fingerprinted_name("assets/style.css", b"body{}"));
    }
}
