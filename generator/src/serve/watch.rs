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

/// A path a file-system event named, and whether the event was a file closed after
/// writing: the end of most saves, which the rest of a save (a rename over the
/// original) follows at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Touched {
    pub path: PathBuf,
    pub saved: bool,
}

impl Touched {
    /// The paths `event` names; none for reads (ours included), which change nothing.
    pub fn of(event: &notify::Event) -> impl Iterator<Item = Touched> + '_ {
        use notify::event::{AccessKind, AccessMode, EventKind};
        let saved = matches!(
            event.kind,
            EventKind::Access(AccessKind::Close(AccessMode::Write))
        );
        let wanted = saved || !event.kind.is_access();
        event
            .paths
            .iter()
            .filter(move |_| wanted)
            .map(move |p| Touched {
                path: p.clone(),
                saved,
            })
    }
}

/// How long a batch of events stays open.
#[derive(Debug, Clone, Copy)]
pub struct Pace {
    /// With no event for this long, the batch is done.
    pub quiet: Duration,
    /// The same after a file was closed after writing: shorter, as the save is done.
    pub settled: Duration,
    /// The batch is done this long after its first event, whatever follows.
    pub max: Duration,
}

/// Waits for the first path (unless it is given: one already received), then collects
/// more until a quiet spell ([`Pace`]) passes with none (or `max` in all), so one save
/// that touches several files gives one rebuild. Returns `None` when the sender is gone.
pub fn collect_batch(
    rx: &Receiver<Touched>,
    first: Option<Touched>,
    pace: Pace,
) -> Option<Vec<PathBuf>> {
    let first = match first {
        Some(t) => t,
        None => rx.recv().ok()?,
    };
    let started = Instant::now();
    let mut wait = if first.saved {
        pace.settled
    } else {
        pace.quiet
    };
    let mut batch = vec![first.path];
    loop {
        let left = pace.max.saturating_sub(started.elapsed());
        if left.is_zero() {
            break;
        }
        match rx.recv_timeout(wait.min(left)) {
            Ok(t) => {
                wait = if t.saved { pace.settled } else { pace.quiet };
                batch.push(t.path);
            }
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

    fn touched(path: &str, saved: bool) -> Touched {
        Touched {
            path: PathBuf::from(path),
            saved,
        }
    }

    #[test]
    fn batches_close_after_a_quiet_spell() {
        let (tx, rx) = std::sync::mpsc::channel();
        tx.send(touched("a", false)).unwrap();
        tx.send(touched("b", true)).unwrap();
        drop(tx);
        let pace = Pace {
            quiet: Duration::from_millis(20),
            settled: Duration::from_millis(2),
            max: Duration::from_millis(200),
        };
        let batch = collect_batch(&rx, Some(touched("0", false)), pace).unwrap();
        assert_eq!(
            batch,
            [PathBuf::from("0"), PathBuf::from("a"), PathBuf::from("b")]
        );
        assert!(collect_batch(&rx, None, pace).is_none());
    }

    /// A save that ends with the file closed after writing is rebuilt without waiting
    /// out the whole quiet spell; one that does not waits for it.
    #[test]
    fn a_closed_file_ends_the_batch_sooner() {
        let pace = Pace {
            quiet: Duration::from_secs(5),
            settled: Duration::from_millis(1),
            max: Duration::from_secs(10),
        };
        let (tx, rx) = std::sync::mpsc::channel();
        let started = Instant::now();
        let batch = collect_batch(&rx, Some(touched("a.md", true)), pace).unwrap();
        assert_eq!(batch, [PathBuf::from("a.md")]);
        assert!(started.elapsed() < pace.quiet, "{:?}", started.elapsed());
        // The sender stays: without a close, only the quiet spell (or max) ends it.
        let pace = Pace {
            quiet: Duration::from_millis(50),
            ..pace
        };
        let started = Instant::now();
        collect_batch(&rx, Some(touched("a.md", false)), pace).unwrap();
        assert!(started.elapsed() >= pace.quiet);
        drop(tx);
    }

    #[test]
    fn reads_are_not_changes_but_a_closed_write_is() {
        use notify::event::{AccessKind, AccessMode, EventKind, ModifyKind};
        let event = |kind| notify::Event::new(kind).add_path(PathBuf::from("/s/a.md"));
        let of = |kind| Touched::of(&event(kind)).collect::<Vec<_>>();
        assert!(of(EventKind::Access(AccessKind::Read)).is_empty());
        assert!(of(EventKind::Access(AccessKind::Close(AccessMode::Read))).is_empty());
        assert_eq!(
            of(EventKind::Access(AccessKind::Close(AccessMode::Write))),
            [touched("/s/a.md", true)]
        );
        assert_eq!(
            of(EventKind::Modify(ModifyKind::Any)),
            [touched("/s/a.md", false)]
        );
    }
}
