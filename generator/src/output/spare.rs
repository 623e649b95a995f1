//! The spare output folder: the output a build replaced, kept beside the new one
//! (`.dist.spare`) so that the next build can write into it instead of creating every
//! page's folder again (issue 17).
//!
//! Creating ten thousand folders costs a file system far more than linking ten thousand
//! files into folders that exist, so a rebuild takes the spare as its staging folder:
//! files that did not change are already there (the same inode as in the output, because
//! unchanged files are hard links), changed ones are replaced by new files (never
//! written through, so the output keeps its own), files no longer made are removed, and
//! the two folders are exchanged in one atomic `rename`. A failed build leaves the output
//! as it was, as with a fresh staging folder.
//!
//! The spare is trusted only as far as its build's record ([`Contents`]) says: the files
//! that build wrote (with their inodes), and each folder's modification time. A folder
//! whose time changed has had entries added, removed or replaced by someone else; those
//! unknown entries are removed before the spare is used, and its files' inodes are read
//! rather than taken from the record.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::file_stamp;

/// What a finished output folder holds: every file written, with its inode where known,
/// and every folder with its modification time (nanoseconds since the epoch), the root
/// as `""`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contents {
    /// Files, relative to the folder (`services/smp/index.html`), sorted.
    pub files: Vec<String>,
    /// Folders, relative to the folder, with their modification times.
    pub folders: Vec<(String, u128)>,
    /// The inode of each of `files` where the build that put it there knows it (0 where
    /// not: a file linked by name from another folder): a rebuild into this folder as
    /// the spare need not `stat` a file to know whether it holds the output's, while the
    /// file's folder has the time recorded. Empty when none is known.
    pub inodes: Vec<u64>,
}

impl Contents {
    /// The contents of `dir`, which holds exactly `files` (as written by a build).
    #[cfg(test)]
    pub(super) fn of(dir: &Path, files: Vec<String>) -> Contents {
        let files = files.into_iter().map(|f| (f, 0)).collect();
        Contents::of_known(dir, files, &HashMap::new())
    }

    /// [`Contents::of`] for `files` given in the order they were put, each with its
    /// inode (0 where unknown; the last put at a path counts), taking each folder's time
    /// from `known` where it is there (folders a build found as recorded and changed
    /// nothing in) instead of a `stat`: a rebuild of 10,000 pages changes a few.
    pub(super) fn of_known(
        dir: &Path,
        mut put: Vec<(String, u64)>,
        known: &HashMap<&str, u128>,
    ) -> Contents {
        // Stable: of two puts at one path, the later stays later.
        put.sort_by(|a, b| a.0.cmp(&b.0));
        let mut files: Vec<String> = Vec::with_capacity(put.len());
        let mut inodes: Vec<u64> = Vec::with_capacity(put.len());
        for (file, inode) in put {
            match (files.last(), inodes.last_mut()) {
                (Some(last), Some(i)) if *last == file => *i = inode,
                _ => {
                    files.push(file);
                    inodes.push(inode);
                }
            }
        }
        if inodes.iter().all(|&i| i == 0) {
            inodes = Vec::new();
        }
        let mut names: HashSet<&str> = HashSet::from([""]);
        for file in &files {
            for folder in folders_above(file) {
                if !names.insert(folder) {
                    break;
                }
            }
        }
        let mut folders: Vec<&str> = names.into_iter().collect();
        folders.sort_unstable();
        let folders = folders
            .par_iter()
            .filter_map(|f| {
                let t = known
                    .get(f)
                    .copied()
                    .or_else(|| modified_ns(&dir.join(f)))?;
                Some((f.to_string(), t))
            })
            .collect();
        Contents {
            files,
            folders,
            inodes,
        }
    }

    /// The inode recorded for `file`, when there is one.
    pub(super) fn recorded_inode(&self, file: &str) -> Option<u64> {
        let at = self.files.binary_search_by(|f| f.as_str().cmp(file)).ok()?;
        self.inodes.get(at).copied().filter(|&i| i != 0)
    }
}

/// Makes the spare at `dir` hold only what `held` lists: entries added to a folder since
/// (its modification time changed) are removed. Returns the folders whose time changed:
/// the others are as `held` records them.
pub(super) fn take<'a>(dir: &Path, held: &'a Contents) -> io::Result<Vec<&'a str>> {
    let changed: Vec<&str> = held
        .folders
        .par_iter()
        .filter(|(f, t)| modified_ns(&dir.join(f)) != Some(*t))
        .map(|(f, _)| f.as_str())
        .collect();
    if changed.is_empty() {
        return Ok(changed);
    }
    let files: HashSet<&str> = held.files.iter().map(String::as_str).collect();
    let folders: HashSet<&str> = held.folders.iter().map(|(f, _)| f.as_str()).collect();
    for &folder in &changed {
        let Ok(entries) = fs::read_dir(dir.join(folder)) else {
            continue;
        };
        for entry in entries {
            let entry = entry?;
            let Some(name) = entry.file_name().to_str().map(str::to_string) else {
                remove_any(&entry.path())?;
                continue;
            };
            let rel = if folder.is_empty() {
                name
            } else {
                format!("{folder}/{name}")
            };
            let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
            let known = if is_dir {
                folders.contains(rel.as_str())
            } else {
                files.contains(rel.as_str())
            };
            if !known {
                remove_any(&entry.path())?;
            }
        }
    }
    Ok(changed)
}

/// Removes from the spare at `dir` what it `held` that this build did not `put`, and
/// the folders left empty by that. Returns the folders it may have changed: those of
/// the files removed, up to the root (`""`).
pub(super) fn prune<'a>(
    dir: &Path,
    held: &'a Contents,
    put: &HashSet<&str>,
) -> io::Result<HashSet<&'a str>> {
    let mut emptied: HashSet<&str> = HashSet::new();
    let mut removed = false;
    for file in held.files.iter().filter(|f| !put.contains(f.as_str())) {
        removed = true;
        match fs::remove_file(dir.join(file)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        emptied.extend(folders_above(file));
    }
    // Deepest first, so a folder's subfolders are gone before it is tried.
    let mut folders: Vec<&str> = emptied.iter().copied().collect();
    folders.sort_unstable_by_key(|f| std::cmp::Reverse(f.matches('/').count()));
    for folder in folders {
        // Only an empty folder goes; one that still holds files is kept.
        let _ = fs::remove_dir(dir.join(folder));
    }
    if removed {
        emptied.insert("");
    }
    Ok(emptied)
}

/// Makes `spare` a copy of `output` (which holds `files`) from hard links: its own
/// folders, the output's files. Made under another name and renamed into place, so a
/// spare is always whole; nothing is renamed over an existing spare.
///
/// One thread creates the folders, in order, and this one links the files into them
/// behind it: creating 10,000 folders in one folder (`services/`) is mostly waiting on
/// that folder, and the links go into others. (A build run right after the first one
/// waits for its spare.)
pub fn make_spare(output: &Path, spare: &Path, files: &[String]) -> io::Result<Contents> {
    let making = spare.with_file_name(format!(
        "{}.making-{}",
        spare
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or(".spare"),
        std::process::id()
    ));
    let made = (|| {
        fs::create_dir(&making)?;
        // Each file's folder, where one has not come up before it.
        let mut seen: HashSet<&str> = HashSet::new();
        let folders: Vec<(usize, &str)> = files
            .iter()
            .enumerate()
            .filter_map(|(i, f)| f.rsplit_once('/').map(|(folder, _)| (i, folder)))
            .filter(|(_, folder)| seen.insert(folder))
            .collect();
        // How many files have their folder made, as the creator moves on.
        let (ready_tx, ready_rx) = mpsc::channel::<usize>();
        let stop = AtomicBool::new(false);
        std::thread::scope(|scope| {
            let creator = scope.spawn(|| {
                // Dropped when the creator ends, which tells the linker every folder is made.
                let ready_tx = ready_tx;
                for (n, (_, folder)) in folders.iter().enumerate() {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    fs::create_dir_all(making.join(folder))?;
                    // In batches: a wake-up per folder cost more than the links.
                    if n % 32 == 31 {
                        let up_to = folders.get(n + 1).map_or(files.len(), |(i, _)| *i);
                        let _ = ready_tx.send(up_to);
                    }
                }
                Ok::<(), io::Error>(())
            });
            let linked = (|| {
                let mut ready = 0;
                for (i, file) in files.iter().enumerate() {
                    while ready <= i {
                        // Once the creator is done (or failed), every folder there is.
                        ready = ready_rx.recv().unwrap_or(usize::MAX);
                    }
                    fs::hard_link(output.join(file), making.join(file))?;
                }
                Ok(())
            })();
            if linked.is_err() {
                stop.store(true, Ordering::Relaxed);
            }
            let created = creator
                .join()
                .unwrap_or_else(|_| Err(io::Error::other("the folder thread panicked")));
            created.and(linked)
        })?;
        // Each file as linked: its inode read from the spare, not assumed from the
        // output's record (a file there may have been replaced since).
        let linked: Vec<(String, u64)> = files
            .par_iter()
            .map(|f| (f.clone(), inode(&making.join(f)).unwrap_or(0)))
            .collect();
        let contents = Contents::of_known(&making, linked, &HashMap::new());
        if spare.exists() {
            return Err(io::ErrorKind::AlreadyExists.into());
        }
        fs::rename(&making, spare)?;
        Ok(contents)
    })();
    if made.is_err() {
        let _ = fs::remove_dir_all(&making);
    }
    made
}

/// Exchanges two folders in one step, so the output is always one whole build or the
/// other. `Unsupported` where the system cannot (then rename in two steps).
pub(super) fn exchange(a: &Path, b: &Path) -> io::Result<()> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        use rustix::fs::{renameat_with, RenameFlags, CWD};
        renameat_with(CWD, a, CWD, b, RenameFlags::EXCHANGE).map_err(io::Error::from)
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    {
        let _ = (a, b);
        Err(io::ErrorKind::Unsupported.into())
    }
}

/// The folder holding `path` (`a/b` for `a/b/c.html`), the root being `""`.
pub(super) fn folder_of(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(folder, _)| folder)
}

/// The folders above `path`, nearest first, the root (`""`) left out: `a/b` then `a`
/// for `a/b/c.html`.
pub(super) fn folders_above(path: &str) -> impl Iterator<Item = &str> {
    std::iter::successors(Some(path), |p| p.rsplit_once('/').map(|(up, _)| up)).skip(1)
}

/// The inode of the file at `path` (symlinks not followed); `None` when there is none.
pub(super) fn inode(path: &Path) -> Option<u64> {
    let meta = fs::symlink_metadata(path).ok()?;
    meta.is_file().then(|| file_stamp::inode(&meta))
}

/// The modification time of the folder at `path`.
fn modified_ns(path: &Path) -> Option<u128> {
    let meta = fs::symlink_metadata(path).ok()?;
    meta.is_dir().then_some(())?;
    file_stamp::modified_ns(&meta)
}

fn remove_any(path: &Path) -> io::Result<()> {
    match fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => fs::remove_dir_all(path),
        Ok(_) => fs::remove_file(path),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, rel: &str) {
        let path = dir.join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, rel).unwrap();
    }

    fn listing(dir: &Path) -> Vec<String> {
        let mut all: Vec<String> = walkdir::WalkDir::new(dir)
            .min_depth(1)
            .into_iter()
            .map(|e| {
                let e = e.unwrap();
                e.path()
                    .strip_prefix(dir)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        all.sort();
        all
    }

    #[test]
    #[cfg(unix)]
    fn a_spare_links_every_file_into_folders_of_its_own() {
        use std::os::unix::fs::MetadataExt;
        let tmp = tempfile::tempdir().unwrap();
        let output = tmp.path().join("dist");
        // More folders than one batch of the folder thread, files at every depth.
        let mut files: Vec<String> = (0..70)
            .map(|i| format!("services/s{i:02}/index.html"))
            .chain(["404.html", "a/b/c.html", "a/index.html", "z.txt"].map(String::from))
            .collect();
        files.sort();
        files.iter().for_each(|f| write(&output, f));
        let spare = tmp.path().join(".dist.spare");
        let contents = make_spare(&output, &spare, &files).unwrap();
        assert_eq!(listing(&spare), listing(&output));
        for f in &files {
            let (a, b) = (fs::metadata(output.join(f)), fs::metadata(spare.join(f)));
            assert_eq!(a.unwrap().ino(), b.unwrap().ino(), "{f} is a link");
        }
        let ino = |p: &Path| fs::metadata(p).unwrap().ino();
        assert_ne!(ino(&spare.join("services")), ino(&output.join("services")));
        assert_eq!(contents.files, files);
        for f in &files {
            assert_eq!(contents.recorded_inode(f), Some(ino(&spare.join(f))), "{f}");
        }

        // A file that cannot be linked: no spare, nothing half-made left behind.
        fs::remove_dir_all(&spare).unwrap();
        files.push("services/s99/index.html".into());
        assert!(make_spare(&output, &spare, &files).is_err());
        assert_eq!(
            listing(tmp.path())
                .iter()
                .filter(|e| !e.starts_with("dist"))
                .count(),
            0
        );
    }

    #[test]
    fn folder_times_known_are_taken_as_known_and_the_last_put_of_a_file_counts() {
        let tmp = tempfile::tempdir().unwrap();
        write(tmp.path(), "a/index.html");
        write(tmp.path(), "b/index.html");
        let known = HashMap::from([("a", 7)]);
        let put = vec![
            ("b/index.html".to_string(), 1),
            ("a/index.html".to_string(), 2),
            ("b/index.html".to_string(), 3),
        ];
        let c = Contents::of_known(tmp.path(), put, &known);
        assert_eq!(c.files, ["a/index.html", "b/index.html"]);
        assert_eq!(c.inodes, [2, 3]);
        let time = |f: &str| c.folders.iter().find(|(n, _)| n == f).unwrap().1;
        assert_eq!(time("a"), 7);
        assert_eq!(Some(time("b")), modified_ns(&tmp.path().join("b")));
    }

    #[test]
    fn a_path_has_its_folder_and_the_folders_above_it() {
        assert_eq!(folder_of("a/b/c.html"), "a/b");
        assert_eq!(folder_of("index.html"), "");
        assert_eq!(
            folders_above("a/b/c.html").collect::<Vec<_>>(),
            ["a/b", "a"]
        );
        assert_eq!(folders_above("index.html").count(), 0);
    }

    #[test]
    fn contents_name_every_folder_up_to_the_root() {
        let tmp = tempfile::tempdir().unwrap();
        let files = vec!["a/b/index.html".to_string(), "index.html".into()];
        files.iter().for_each(|f| write(tmp.path(), f));
        let c = Contents::of(tmp.path(), files);
        let names: Vec<&str> = c.folders.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(names, ["", "a", "a/b"]);
    }

    #[test]
    fn entries_added_since_the_record_are_removed_and_known_ones_kept() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let files = vec!["s/x/index.html".to_string(), "index.html".into()];
        files.iter().for_each(|f| write(dir, f));
        let held = Contents::of(dir, files);
        write(dir, "s/x/extra.html");
        write(dir, "s/new/index.html");
        write(dir, "stray.txt");
        take(dir, &held).unwrap();
        assert_eq!(listing(dir), ["index.html", "s", "s/x", "s/x/index.html"]);
    }

    #[test]
    fn files_not_put_again_go_with_the_folders_they_leave_empty() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let files = vec![
            "a/one/index.html".to_string(),
            "a/two/index.html".into(),
            "index.html".into(),
        ];
        files.iter().for_each(|f| write(dir, f));
        let held = Contents::of(dir, files);
        prune(
            dir,
            &held,
            &HashSet::from(["a/one/index.html", "index.html"]),
        )
        .unwrap();
        assert_eq!(
            listing(dir),
            ["a", "a/one", "a/one/index.html", "index.html"]
        );
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn exchanged_folders_keep_their_times() {
        let tmp = tempfile::tempdir().unwrap();
        let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
        write(&a, "x/one");
        write(&b, "y/two");
        let held = Contents::of(&a, vec!["x/one".into()]);
        exchange(&a, &b).unwrap();
        assert!(b.join("x/one").is_file() && a.join("y/two").is_file());
        assert_eq!(Contents::of(&b, vec!["x/one".into()]), held);
    }
}
