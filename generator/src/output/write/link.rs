//! Reusing the previous output's files: a file known to be unchanged (from the
//! build's record), or found to hold the same bytes, is hard-linked into the staging
//! folder instead of written, so it keeps its inode and modification time.

use std::fs;
use std::io;
use std::path::Path;
use std::sync::atomic::Ordering;

use super::Staging;
use crate::output::spare;
use crate::output::OutputFile;

impl Staging {
    /// Hard-links `rel` from the previous output without reading it: for a file the
    /// caller knows is unchanged and whose inode there is `inode`. Nothing is done when
    /// the spare holds it already. False when it cannot (then write it).
    pub fn link_unchanged(&self, rel: &str, inode: u64) -> bool {
        let Some(previous) = &self.previous else {
            return false;
        };
        let before = previous.join(rel);
        let path = self.dir.join(rel);
        if let Some(held) = &self.held {
            // The inode recorded for the spare's file holds while its folder is as
            // recorded: entries are neither added, removed nor replaced there without
            // changing the folder's time.
            let recorded = held.recorded_inode(rel).filter(|_| {
                !self
                    .touched
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .contains(spare::folder_of(rel))
            });
            match recorded.or_else(|| spare::inode(&path)) {
                Some(i) if i == inode => {
                    self.note_put(rel, inode);
                    self.reused.fetch_add(1, Ordering::Relaxed);
                    return true;
                }
                // Another file (or, against its record, none): the page is rendered
                // instead when it cannot be removed.
                Some(_) if fs::remove_file(&path).is_err() => return false,
                _ => {}
            }
        }
        self.touch_file(rel);
        let linked = match fs::hard_link(&before, &path) {
            Ok(()) => true,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                path.parent().is_some_and(|f| fs::create_dir_all(f).is_ok())
                    && fs::hard_link(&before, &path).is_ok()
            }
            Err(_) => false,
        };
        if linked {
            // Linked by name: the output's file may have been replaced since it was
            // recorded, so its inode is not taken as known.
            self.note_put(rel, 0);
            self.reused.fetch_add(1, Ordering::Relaxed);
        }
        linked
    }

    /// Links `rel` from the previous output if it holds exactly these bytes: the linked
    /// file's metadata (the same inode, size and modification time), and whether the
    /// spare held that very file (else it was linked by name). Any failure (no such
    /// file, another file system) means `None`: "write it".
    pub(super) fn reuse(
        &self,
        rel: &str,
        file: &OutputFile,
        path: &Path,
    ) -> Option<(fs::Metadata, bool)> {
        let previous = self.previous.as_ref()?;
        let before = previous.join(rel);
        let meta = fs::symlink_metadata(&before).ok()?;
        if !meta.is_file() {
            return None;
        }
        let same = match file {
            OutputFile::Bytes(b) => meta.len() == b.len() as u64 && same_bytes(&before, b),
            OutputFile::Copy(src) => {
                fs::metadata(src).is_ok_and(|m| m.len() == meta.len() && same_files(src, &before))
            }
        };
        if !same {
            return None;
        }
        // The spare holds this very file already (inodes are only told apart on Unix).
        #[cfg(unix)]
        if spare::inode(path) == Some(crate::file_stamp::inode(&meta)) {
            return Some((meta, true));
        }
        self.touch_file(rel);
        let linked = match fs::hard_link(&before, path) {
            Ok(()) => true,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                path.parent().is_some_and(|f| fs::create_dir_all(f).is_ok())
                    && fs::hard_link(&before, path).is_ok()
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                fs::remove_file(path).is_ok() && fs::hard_link(&before, path).is_ok()
            }
            Err(_) => false,
        };
        linked.then_some((meta, false))
    }
}

fn same_bytes(path: &Path, bytes: &[u8]) -> bool {
    fs::read(path).is_ok_and(|before| before == bytes)
}

fn same_files(a: &Path, b: &Path) -> bool {
    match (fs::read(a), fs::read(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}
