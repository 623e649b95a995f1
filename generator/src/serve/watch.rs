//! From file-system events to the few kinds of change a rebuild cares about.
//!
//! Editors save in many ways (write in place, write a temp file and rename it over
//! the original, delete and recreate), so events are reduced to paths and each path
//! is classified by where it lies. Temp and backup files are ignored.

use std::path::{Component, Path, PathBuf};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use crate::content::is_ignored;

/// What changed, as far as a rebuild is concerned.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Change {
    /// `site.yaml` (or a file it names): everything is rebuilt.
    Config,
    /// A file or folder under `content/`, relative to it.
    Content(PathBuf),
    /// A template of the theme or the site, by template name.
    Template(String),
    /// A static file of the theme or the site.
    Static(PathBuf),
    /// The published comments file (or the folder it is in, created or replaced):
    /// every service page may show different comments.
    Comments,
}

/// The change a path under `root` makes, or `None` when it does not affect the site
/// (build output, editor temp files, version control).
pub fn classify(root: &Path, theme: &str, path: &Path) -> Option<Change> {
    let rel = path.strip_prefix(root).ok()?;
    if rel
        .components()
        .any(|c| matches!(c, Component::Normal(n) if n.to_str().is_none_or(is_ignored)))
    {
        return None;
    }
    let parts: Vec<&str> = rel.iter().filter_map(|p| p.to_str()).collect();
    match parts.as_slice() {
        ["site.yaml"] => Some(Change::Config),
        ["content", rest @ ..] => Some(Change::Content(rest.iter().collect())),
        ["templates", rest @ ..] if !rest.is_empty() => Some(Change::Template(rest.join("/"))),
        ["templates"] | ["static"] => Some(Change::Config),
        ["static", rest @ ..] => Some(Change::Static(rest.iter().collect())),
        ["themes", t, "templates", rest @ ..] if *t == theme && !rest.is_empty() => {
            Some(Change::Template(rest.join("/")))
        }
        ["themes", t, "static", rest @ ..] if *t == theme && !rest.is_empty() => {
            Some(Change::Static(rest.iter().collect()))
        }
        [file] if file.ends_with(".yaml") || file.ends_with(".yml") => Some(Change::Config),
        _ => None,
    }
}

/// [`Change::Comments`] when `path` is the comments file or its folder (which may be
/// created after the preview started); `None` for anything else, such as the form
/// service's database beside it.
pub fn comments_change(comments_file: &Path, path: &Path) -> Option<Change> {
    (path == comments_file || Some(path) == comments_file.parent()).then_some(Change::Comments)
}

/// Waits for the first path (unless it is given: one already received), then collects
/// more until `quiet` passes with none (or `max` in all), so one save that touches
/// several files gives one rebuild. Returns `None` when the sender is gone.
pub fn collect_batch(
    rx: &Receiver<PathBuf>,
    first: Option<PathBuf>,
    quiet: Duration,
    max: Duration,
) -> Option<Vec<PathBuf>> {
    let first = match first {
        Some(p) => p,
        None => rx.recv().ok()?,
    };
    let started = Instant::now();
    let mut batch = vec![first];
    loop {
        let left = max.saturating_sub(started.elapsed());
        if left.is_zero() {
            break;
        }
        match rx.recv_timeout(quiet.min(left)) {
            Ok(p) => batch.push(p),
            Err(RecvTimeoutError::Timeout) => break,
            Err(RecvTimeoutError::Disconnected) => break,
        }
    }
    Some(batch)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_become_changes() {
        let root = Path::new("/site");
        let c = |p: &str| classify(root, "default", &root.join(p));
        for (path, want) in [
            ("site.yaml", Some(Change::Config)),
            (
                "content/services/smp.md",
                Some(Change::Content("services/smp.md".into())),
            ),
            ("content/services", Some(Change::Content("services".into()))),
            (
                "content/img/a.jpg",
                Some(Change::Content("img/a.jpg".into())),
            ),
            (
                "templates/page.html",
                Some(Change::Template("page.html".into())),
            ),
            (
                "themes/default/templates/partials/x.html",
                Some(Change::Template("partials/x.html".into())),
            ),
            (
                "themes/default/static/assets/style.css",
                Some(Change::Static("assets/style.css".into())),
            ),
            (
                "static/favicon.svg",
                Some(Change::Static("favicon.svg".into())),
            ),
            ("templates", Some(Change::Config)),
            ("themes/other/templates/page.html", None),
            ("dist/index.html", None),
            ("target/debug/generator", None),
            (".git/index", None),
            ("content/services/.smp.md.swp", None),
            ("content/services/smp.md~", None),
            ("content/services/#smp.md#", None),
            ("content/services/.#smp.md", None),
            ("content/4913", None),
            ("content/.hidden/a.md", None),
            ("README.md", None),
        ] {
            assert_eq!(c(path), want, "{path}");
        }
        assert_eq!(classify(root, "default", Path::new("/elsewhere/x")), None);
    }

    #[test]
    fn the_comments_file_and_its_folder_are_comment_changes() {
        let file = Path::new("/site/data/comments.json");
        for (path, want) in [
            ("/site/data/comments.json", Some(Change::Comments)),
            ("/site/data", Some(Change::Comments)),
            ("/site/data/forms.sqlite3-wal", None),
            ("/site/data/.comments.json.123.tmp", None),
            ("/site/content/comments.json", None),
        ] {
            assert_eq!(comments_change(file, Path::new(path)), want, "{path}");
        }
    }

    #[test]
    fn batches_close_after_a_quiet_spell() {
        let (tx, rx) = std::sync::mpsc::channel();
        tx.send(PathBuf::from("a")).unwrap();
        tx.send(PathBuf::from("b")).unwrap();
        drop(tx);
        let (quiet, max) = (Duration::from_millis(20), Duration::from_millis(200));
        let batch = collect_batch(&rx, Some(PathBuf::from("0")), quiet, max).unwrap();
        assert_eq!(
            batch,
            [PathBuf::from("0"), PathBuf::from("a"), PathBuf::from("b")]
        );
        assert!(collect_batch(&rx, None, quiet, max).is_none());
    }
}
