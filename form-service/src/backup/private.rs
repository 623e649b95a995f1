//! Files only the service's own user can read: backups hold health data, so every
//! folder is created 0700 and every file 0600 from the start, never loosened later.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::Path;

#[cfg(unix)]
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};

/// Creates `dir` (and missing parents) readable by the owner only.
pub fn create_dir(dir: &Path) -> io::Result<()> {
    let mut b = fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    b.mode(0o700);
    b.create(dir)?;
    // A folder that existed already (or a parent made by `recursive`) keeps its mode
    // otherwise; the leaf is ours to tighten.
    #[cfg(unix)]
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
    Ok(())
}

/// Creates a new, empty file readable by the owner only; fails if it exists.
pub fn create_file(path: &Path) -> io::Result<File> {
    let mut o = OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    o.mode(0o600);
    o.open(path)
}

/// Copies `from` into a new private file `to`, and syncs it.
pub fn copy_file(from: &Path, to: &Path) -> io::Result<u64> {
    let mut src = File::open(from)?;
    let mut dst = create_file(to)?;
    let n = io::copy(&mut src, &mut dst)?;
    dst.sync_all()?;
    Ok(n)
}

/// Makes a folder's entries durable (a rename or a new file in it).
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// The mode bits of a file (0 where the platform has none).
pub fn mode(path: &Path) -> io::Result<u32> {
    let meta = fs::metadata(path)?;
    #[cfg(unix)]
    return Ok(meta.permissions().mode() & 0o777);
    #[cfg(not(unix))]
    {
        let _ = meta;
        Ok(0)
    }
}
