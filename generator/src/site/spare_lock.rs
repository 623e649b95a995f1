//! The spare output's lock: a build of an output and the process preparing its spare
//! use the spare one at a time.

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use super::reuse::Record;

/// The lock that a build of an output, and the process that prepares its spare
/// ([`crate::cmd::spare`]), hold while they use the spare: one at a time. Released when
/// dropped, or when the process ends.
#[derive(Debug)]
pub struct SpareLock(#[allow(dead_code)] fs::File);

impl SpareLock {
    /// Waits for the lock of `spare`; `None` when it cannot be taken.
    pub fn acquire(root: &Path, spare: &Path) -> Option<SpareLock> {
        let file = SpareLock::file(root, spare)?;
        file.lock().ok()?;
        Some(SpareLock(file))
    }

    /// [`SpareLock::acquire`], waiting at most `wait` (a build does not wait for ever
    /// on a spare being made; it builds without one).
    pub fn acquire_within(root: &Path, spare: &Path, wait: Duration) -> Option<SpareLock> {
        let file = SpareLock::file(root, spare)?;
        let deadline = Instant::now() + wait;
        loop {
            match file.try_lock() {
                Ok(()) => return Some(SpareLock(file)),
                Err(fs::TryLockError::WouldBlock) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(_) => return None,
            }
        }
    }

    fn file(root: &Path, spare: &Path) -> Option<fs::File> {
        let path = Record::path(root, &std::path::absolute(spare).ok()?).with_extension("lock");
        fs::create_dir_all(path.parent()?).ok()?;
        fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .ok()
    }
}
