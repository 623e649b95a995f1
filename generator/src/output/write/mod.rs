//! Writing the site to disk so that a failed build changes nothing: files go into a
//! hidden sibling folder ([`Staging`]) as they are rendered, and only a complete build
//! replaces the output, by two renames.
//!
//! A file whose bytes equal the previous output's is hard-linked from it instead of
//! written, so it keeps its inode and modification time (rsync and CDN uploads then send
//! only what changed). The output replaced becomes the spare ([`super::spare`]) that the
//! next build writes into. It only ever deletes in the output folder's own hidden
//! siblings, and refuses output folders that would hold or replace the site's sources.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use super::spare::{self, Contents};
use super::{Output, OutputFile};
use crate::file_stamp;
use crate::Error;

mod link;

/// A build's output while it is written: a hidden sibling of the output folder, the
/// spare (`.dist.spare`) when its record says what it holds, else a new, empty one
/// (`.dist.building`); swapped in by [`Staging::commit`]. Dropped without a commit, a
/// new one removes itself and a spare is left without a record (the next build sets it
/// aside); the output is left as it was.
///
/// [`Staging::put`] may be called from many threads at once.
#[derive(Debug)]
pub struct Staging {
    output: PathBuf,
    dir: PathBuf,
    parent: PathBuf,
    name: String,
    /// The output being replaced, when there is one: unchanged files are linked from it.
    previous: Option<PathBuf>,
    /// What the folder held before this build, when it is the spare.
    held: Option<Contents>,
    /// Whether this build may use and make the spare (see [`Staging::begin`]).
    keep_spare: bool,
    /// Every file put, in order, with its inode where this build knows it (0 where it
    /// linked a file by name), to know what the spare held that is no longer made and
    /// for the record of the new output.
    put: Mutex<Vec<(String, u64)>>,
    /// The spare's folders whose entries this build changed (or found changed): the
    /// others keep the times `held` records, so the commit need not read them again.
    touched: Mutex<HashSet<String>>,
    written: AtomicUsize,
    reused: AtomicUsize,
    committed: bool,
}

/// A finished swap: what was written, and what the new output holds.
#[derive(Debug)]
pub struct Committed {
    /// What was written and what reused.
    pub stats: WriteStats,
    /// The files and folders of the new output, for its record.
    pub contents: Contents,
    /// The replaced output is now the spare, for the next build.
    pub spare_kept: bool,
}

/// What a build wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteStats {
    /// Files written because they are new or their bytes changed.
    pub written: usize,
    /// Files whose bytes equal the previous output's, linked from it.
    pub reused: usize,
}

impl Staging {
    /// The spare folder of `output`: the output the last build replaced.
    pub fn spare_of(output: &Path) -> PathBuf {
        let name = output.file_name().map_or_else(
            || std::ffi::OsString::from(".spare"),
            |n| {
                let mut s = std::ffi::OsString::from(".");
                s.push(n);
                s.push(".spare");
                s
            },
        );
        output.with_file_name(name)
    }

    /// Whether outputs keep spares here: where two folders can swap in one step
    /// (Linux), and inodes tell files apart.
    pub const KEEPS_SPARES: bool = cfg!(any(target_os = "linux", target_os = "android"));

    /// Prepares the staging folder beside `output`: the spare, when `spare` says what it
    /// holds (its build's record), else a new, empty folder; what a crashed build left
    /// there, and a spare no record describes, are removed in the background. Without
    /// `spare_locked` (the spare's lock, [`crate::site::SpareLock`]) the spare is left
    /// alone, neither used nor replaced.
    pub fn begin(
        output: &Path,
        spare: Option<Contents>,
        spare_locked: bool,
    ) -> Result<Staging, Error> {
        let keep_spare = Staging::KEEPS_SPARES && spare_locked;
        let name = output
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| Error::OutputDir {
                path: output.to_path_buf(),
                why: crate::OutputRefusal::NoName,
            })?
            .to_string();
        let parent = match output.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        fs::create_dir_all(&parent).map_err(|e| Error::io(&parent, e))?;
        // What earlier builds left: a replaced output still being removed, or one
        // whose removal a crash stopped.
        if let Ok(entries) = fs::read_dir(&parent) {
            let old = format!(".{name}.old");
            // A spare whose making was stopped: its maker holds the lock this build
            // holds, so one found now is not being made.
            let making = format!(".{name}.spare.making-");
            for entry in entries.flatten() {
                if entry
                    .file_name()
                    .to_str()
                    .is_some_and(|n| n.starts_with(&old) || keep_spare && n.starts_with(&making))
                {
                    remove_in_background(&entry.path());
                }
            }
        }
        let previous = output.is_dir().then(|| output.to_path_buf());
        let spare_dir = Staging::spare_of(output);
        let mut held = None;
        let mut touched = HashSet::new();
        if keep_spare && spare_dir.is_dir() {
            match spare {
                // Without a previous output there is nothing to link from: a new folder
                // and the spare's contents would cost the same.
                Some(contents) if previous.is_some() => {
                    let changed =
                        spare::take(&spare_dir, &contents).map_err(|e| Error::io(&spare_dir, e))?;
                    touched.extend(changed.into_iter().map(String::from));
                    held = Some(contents);
                }
                _ => set_aside(&parent, &name, &spare_dir),
            }
        }
        let dir = if held.is_some() {
            spare_dir
        } else {
            let dir = parent.join(format!(".{name}.building"));
            if dir.exists() {
                fs::remove_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
            }
            fs::create_dir(&dir).map_err(|e| Error::io(&dir, e))?;
            dir
        };
        Ok(Staging {
            previous,
            output: output.to_path_buf(),
            dir,
            parent,
            name,
            held,
            keep_spare,
            put: Mutex::new(Vec::new()),
            touched: Mutex::new(touched),
            written: AtomicUsize::new(0),
            reused: AtomicUsize::new(0),
            committed: false,
        })
    }

    fn note_put(&self, rel: &str, inode: u64) {
        self.put
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((rel.to_string(), inode));
    }

    /// Notes that the entries of the spare's folder `folder` changed, and perhaps those
    /// of every folder above it (one was created): all their times are read at commit.
    fn touch(&self, folder: &str) {
        if self.held.is_none() {
            return;
        }
        let mut touched = self.touched.lock().unwrap_or_else(|e| e.into_inner());
        let up = std::iter::once(folder).chain(spare::folders_above(folder));
        for f in up.chain([""]) {
            if !touched.contains(f) {
                touched.insert(f.to_string());
            }
        }
    }

    /// [`Staging::touch`] for the folder of the file `rel`.
    fn touch_file(&self, rel: &str) {
        self.touch(spare::folder_of(rel));
    }

    /// Creates the folder `rel` (relative to the output) and its parents. Creating
    /// folders in the order pages are written, from one thread, keeps the threads that
    /// write files from queueing on the lock of the one folder that holds them all
    /// (`services/`); [`Staging::put`] creates any folder still missing itself.
    pub fn create_folder(&self, rel: &str) -> Result<(), Error> {
        let path = self.dir.join(rel);
        match fs::create_dir(&path) {
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
            made => {
                self.touch(rel);
                match made {
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {
                        fs::create_dir_all(&path).map_err(|e| Error::io(&path, e))
                    }
                    made => made.map_err(|e| Error::io(&path, e)),
                }
            }
        }
    }

    /// Writes one file at `rel` (`services/smp/index.html`), or links it from the
    /// previous output when its bytes are the same. A file put twice at one path keeps
    /// the last (a page over a static file of the same name). Returns the file's
    /// metadata, as a `stat` of it would now.
    pub fn put(&self, rel: &str, file: &OutputFile) -> Result<fs::Metadata, Error> {
        let path = self.dir.join(rel);
        if let Some((meta, known)) = self.reuse(rel, file, &path) {
            self.note_put(rel, if known { file_stamp::inode(&meta) } else { 0 });
            self.reused.fetch_add(1, Ordering::Relaxed);
            return Ok(meta);
        }
        self.touch_file(rel);
        let result = match create_new(&path, file) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                let folder = path.parent().unwrap_or(&self.dir);
                fs::create_dir_all(folder).map_err(|e| Error::io(folder, e))?;
                create_new(&path, file)
            }
            // Never write through an existing name: it may be linked to the previous
            // output, which must stay as it was until the swap.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                fs::remove_file(&path).and_then(|()| create_new(&path, file))
            }
            other => other,
        };
        let meta = result.map_err(|e| Error::io(&path, e))?;
        self.note_put(rel, file_stamp::inode(&meta));
        self.written.fetch_add(1, Ordering::Relaxed);
        Ok(meta)
    }

    /// Whether the folder is the spare, which holds the folders of the files it held.
    pub fn is_spare(&self) -> bool {
        self.held.is_some()
    }

    /// The staging folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Puts every file of `files` (small, site-wide files and static files).
    pub fn put_all(&self, files: &Output) -> Result<(), Error> {
        for (rel, file) in files {
            self.put(rel, file)?;
        }
        Ok(())
    }

    /// Removes what the spare held that this build did not make, then swaps the staging
    /// folder in for the output: in one step where the system can (`spare::exchange`),
    /// else by two renames. The replaced output becomes the spare.
    pub fn commit(mut self) -> Result<Committed, Error> {
        let stats = WriteStats {
            written: self.written.load(Ordering::Relaxed),
            reused: self.reused.load(Ordering::Relaxed),
        };
        let put = std::mem::take(self.put.get_mut().unwrap_or_else(|e| e.into_inner()));
        let touched = std::mem::take(self.touched.get_mut().unwrap_or_else(|e| e.into_inner()));
        let mut known = HashMap::new();
        if let Some(held) = &self.held {
            let put: HashSet<&str> = put.iter().map(|(f, _)| f.as_str()).collect();
            let pruned =
                spare::prune(&self.dir, held, &put).map_err(|e| Error::io(&self.dir, e))?;
            known = held
                .folders
                .iter()
                .map(|(f, t)| (f.as_str(), *t))
                .filter(|(f, _)| !touched.contains(*f) && !pruned.contains(f))
                .collect();
        }
        let t = std::time::Instant::now();
        let contents = Contents::of_known(&self.dir, put, &known);
        crate::timing::phase("commit: folder times", t);
        let spare_dir = Staging::spare_of(&self.output);
        let had_output = self.output.exists();
        // Where the replaced output is once the new one is in place.
        let replaced = if !had_output {
            fs::rename(&self.dir, &self.output).map_err(|e| Error::io(&self.output, e))?;
            None
        } else if spare::exchange(&self.dir, &self.output).is_ok() {
            Some(self.dir.clone())
        } else {
            let old = old_name(&self.parent, &self.name);
            fs::rename(&self.output, &old).map_err(|e| Error::io(&self.output, e))?;
            if let Err(e) = fs::rename(&self.dir, &self.output) {
                // Put the previous site back rather than leave none.
                let _ = fs::rename(&old, &self.output);
                return Err(Error::io(&self.output, e));
            }
            Some(old)
        };
        self.committed = true;
        let spare_kept = match replaced {
            Some(old) if old == spare_dir => true,
            Some(old) if !self.keep_spare => {
                remove_in_background(&old);
                false
            }
            Some(old) => {
                // A fresh staging folder: the spare's place is free unless a spare no
                // record described is still there.
                if spare_dir.exists() {
                    set_aside(&self.parent, &self.name, &spare_dir);
                }
                let kept = fs::rename(&old, &spare_dir).is_ok();
                if !kept {
                    remove_in_background(&old);
                }
                kept
            }
            None => false,
        };
        Ok(Committed {
            stats,
            contents,
            spare_kept,
        })
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        // A spare left half-written has no record, so the next build sets it aside.
        if !self.committed && self.held.is_none() {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

/// A name for a replaced folder on its way out (`.dist.old-<pid>-<ns>`).
fn old_name(parent: &Path, name: &str) -> PathBuf {
    parent.join(format!(
        ".{name}.old-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    ))
}

/// Renames `dir` out of the way and removes it in the background.
fn set_aside(parent: &Path, name: &str, dir: &Path) {
    let old = old_name(parent, name);
    if fs::rename(dir, &old).is_ok() {
        remove_in_background(&old);
    } else {
        let _ = fs::remove_dir_all(dir);
    }
}

/// Removes a replaced output folder without making the build wait: `rm -rf` in a process
/// of its own outlives ours, so `build && rsync` starts at once. Where there is no `rm`
/// (Windows), it is removed here.
fn remove_in_background(dir: &Path) {
    let spawned = std::process::Command::new("rm")
        .arg("-rf")
        .arg("--")
        .arg(dir)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
    if spawned.is_err() {
        let _ = fs::remove_dir_all(dir);
    }
}

/// Creates `path`, which must not exist, with the file's bytes; returns its metadata
/// once written, from the open file (no second lookup of the path).
fn create_new(path: &Path, file: &OutputFile) -> io::Result<fs::Metadata> {
    let mut out = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)?;
    match file {
        OutputFile::Bytes(b) => out.write_all(b)?,
        OutputFile::Copy(src) => {
            io::copy(&mut fs::File::open(src)?, &mut out)?;
        }
    }
    out.metadata()
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;
    use std::time::{Duration, SystemTime};

    fn write(dir: &Path, rel: &str, text: &str) {
        let path = dir.join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }

    /// Replaces `rel` with a new file (a new inode), as a build or an editor would.
    fn replace(dir: &Path, rel: &str, text: &str) {
        let new = dir.join(format!("{rel}.new"));
        fs::write(&new, text).unwrap();
        fs::rename(new, dir.join(rel)).unwrap();
    }

    fn ino(p: &Path) -> u64 {
        fs::metadata(p).unwrap().ino()
    }

    /// Sets every folder's time long ago, so that any change to one shows.
    fn age_folders(dir: &Path) {
        for entry in walkdir::WalkDir::new(dir) {
            let entry = entry.unwrap();
            if entry.file_type().is_dir() {
                let old = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
                fs::File::open(entry.path())
                    .unwrap()
                    .set_modified(old)
                    .unwrap();
            }
        }
    }

    /// An output holding `files` (each file's text is its path), its spare made from
    /// it with its folders aged, and the spare's contents as its record has them.
    fn output_and_spare(files: &[&str]) -> (tempfile::TempDir, PathBuf, PathBuf, Contents) {
        let tmp = tempfile::tempdir().unwrap();
        let output = tmp.path().join("dist");
        let files: Vec<String> = files.iter().map(|f| f.to_string()).collect();
        for f in &files {
            write(&output, f, f);
        }
        let spare = Staging::spare_of(&output);
        spare::make_spare(&output, &spare, &files).unwrap();
        age_folders(&spare);
        let held = Contents::of_known(
            &spare,
            files
                .iter()
                .map(|f| (f.clone(), ino(&spare.join(f))))
                .collect(),
            &HashMap::new(),
        );
        (tmp, output, spare, held)
    }

    fn time(contents: &Contents, folder: &str) -> u128 {
        contents
            .folders
            .iter()
            .find(|(name, _)| name == folder)
            .unwrap()
            .1
    }

    #[test]
    fn a_rebuild_into_the_spare_records_the_folder_times_a_stat_would_read() {
        let (_tmp, output, spare, held) = output_and_spare(&[
            "a/index.html",
            "b/index.html",
            "gone/deep/index.html",
            "index.html",
            "kept/index.html",
            "moved/index.html",
            "quiet/index.html",
            "same/index.html",
        ]);
        // Someone else's file, which taking the spare removes.
        write(&spare, "kept/stray.txt", "stray");
        // Output files replaced since the spare was made: the spare holds the old ones.
        replace(&output, "moved/index.html", "moved/index.html");
        replace(&output, "same/index.html", "same/index.html");

        let staging = Staging::begin(&output, Some(held), true).unwrap();
        assert!(staging.is_spare());
        let put = |rel: &str, text: &str| {
            staging
                .put(rel, &OutputFile::Bytes(text.as_bytes().to_vec()))
                .unwrap();
        };
        // Changed bytes; the same bytes, the spare holding them or not; files linked
        // unchanged, the spare holding them or not; a new folder. `gone/` is not made.
        put("a/index.html", "new");
        put("index.html", "index.html");
        put("same/index.html", "same/index.html");
        for f in ["b/index.html", "moved/index.html"] {
            assert!(staging.link_unchanged(f, ino(&output.join(f))));
        }
        staging.create_folder("c/d").unwrap();
        put("c/d/index.html", "c");
        put("kept/index.html", "kept/index.html");
        put("quiet/index.html", "quiet/index.html");
        let committed = staging.commit().unwrap();

        let contents = &committed.contents;
        let stat: Vec<(String, u128)> = contents
            .folders
            .iter()
            .map(|(f, _)| (f.clone(), spare_time(&output.join(f))))
            .collect();
        assert_eq!(
            contents.folders, stat,
            "each folder's time as a stat reads it"
        );
        assert!(!output.join("gone").exists() && !output.join("kept/stray.txt").exists());
        for changed in ["a", "kept", "moved", "same", "c", ""] {
            assert_ne!(time(contents, changed), time(contents, "b"), "{changed}");
        }
        assert_eq!(time(contents, "quiet"), time(contents, "b"));
    }

    fn spare_time(path: &Path) -> u128 {
        crate::file_stamp::modified_ns(&fs::metadata(path).unwrap()).unwrap()
    }

    #[test]
    fn the_record_knows_the_inodes_of_files_a_build_put_or_found_not_those_linked_by_name() {
        let (_tmp, output, _spare, held) =
            output_and_spare(&["held/index.html", "linked/index.html", "written/index.html"]);
        replace(&output, "linked/index.html", "linked/index.html");
        let staging = Staging::begin(&output, Some(held), true).unwrap();
        for f in ["held/index.html", "linked/index.html"] {
            assert!(staging.link_unchanged(f, ino(&output.join(f))));
        }
        staging
            .put("written/index.html", &OutputFile::Bytes(b"new".to_vec()))
            .unwrap();
        let committed = staging.commit().unwrap();
        let recorded = |f: &str| committed.contents.recorded_inode(f);
        assert_eq!(
            recorded("held/index.html"),
            Some(ino(&output.join("held/index.html")))
        );
        assert_eq!(
            recorded("written/index.html"),
            Some(ino(&output.join("written/index.html")))
        );
        // The output's file could have been replaced between the plan and the link.
        assert_eq!(recorded("linked/index.html"), None);
    }

    #[test]
    fn a_file_replaced_in_the_spare_is_not_taken_for_the_one_its_record_names() {
        let (tmp, output, spare, held) = output_and_spare(&["a/index.html", "b/index.html"]);
        // Someone replaces one of the spare's files.
        write(tmp.path(), "other", "not the page");
        fs::rename(tmp.path().join("other"), spare.join("a/index.html")).unwrap();

        let staging = Staging::begin(&output, Some(held), true).unwrap();
        for f in ["a/index.html", "b/index.html"] {
            assert!(staging.link_unchanged(f, ino(&output.join(f))));
        }
        let before = ino(&output.join("a/index.html"));
        staging.commit().unwrap();
        assert_eq!(
            fs::read_to_string(output.join("a/index.html")).unwrap(),
            "a/index.html"
        );
        assert_eq!(ino(&output.join("a/index.html")), before);
        assert_eq!(
            fs::read_to_string(output.join("b/index.html")).unwrap(),
            "b/index.html"
        );
    }

    #[test]
    fn a_file_this_build_put_is_not_taken_for_the_one_the_spare_held() {
        let (_tmp, output, _spare, held) = output_and_spare(&["x/index.html"]);
        let staging = Staging::begin(&output, Some(held), true).unwrap();
        // A static file, then a page at the same path: the page's file is the one kept.
        staging
            .put(
                "x/index.html",
                &OutputFile::Bytes(b"a static file".to_vec()),
            )
            .unwrap();
        let page = ino(&output.join("x/index.html"));
        assert!(staging.link_unchanged("x/index.html", page));
        staging.commit().unwrap();
        assert_eq!(
            fs::read_to_string(output.join("x/index.html")).unwrap(),
            "x/index.html"
        );
        assert_eq!(ino(&output.join("x/index.html")), page);
    }
}
