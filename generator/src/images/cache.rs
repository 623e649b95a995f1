//! The cache folder: processed files named by a hash of their source's bytes and the
//! encoding settings, so a name that exists is a file that is right. Files are written
//! under a temporary name and renamed, so an interrupted build leaves no half file.

use std::io;
use std::path::Path;

/// Writes `bytes` to `path` through a temporary file beside it.
pub(super) fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let tmp = path.with_extension(format!(
        "tmp{}.{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leaves_only_the_finished_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.480.avif");
        write_atomically(&p, b"x").unwrap();
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["a.480.avif"]);
    }
}
