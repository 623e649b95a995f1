//! Files and folders readable by the service's own user only (0600 and 0700), whatever
//! the umask: the data folder holds health notes, addresses and waiting emails.
//!
//! The binary also sets its umask to 077 (`main`); these helpers make the modes hold for
//! callers of the library too, and tighten a folder or database an older version left
//! open.

use std::path::Path;

use crate::Error;

/// Creates `dir` (and its parents) if needed, and makes it 0700.
pub fn create_dir(dir: &Path) -> Result<(), Error> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
    b.create(dir).map_err(|e| Error::io(dir, e))?;
    restrict(dir, 0o700)
}

/// Creates `path` empty if it does not exist, and makes it 0600.
///
/// An existing file is never opened here: for a database, closing any descriptor of
/// the file drops every POSIX lock this process holds on it, and with them the locks of
/// its other SQLite connections.
pub fn create_file(path: &Path) -> Result<(), Error> {
    if !path.exists() {
        let mut o = std::fs::OpenOptions::new();
        o.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
        match o.open(path) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(Error::io(path, e)),
        }
    }
    restrict(path, 0o600)
}

/// Opens a new file for writing, 0600 from its first byte.
pub fn new_file(path: &Path) -> std::io::Result<std::fs::File> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    o.open(path)
}

#[cfg(unix)]
fn restrict(path: &Path, mode: u32) -> Result<(), Error> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    if meta.permissions().mode() & 0o777 != mode {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
            .map_err(|e| Error::io(path, e))?;
    }
    Ok(())
}

#[cfg(not(unix))]
fn restrict(_: &Path, _: u32) -> Result<(), Error> {
    Ok(())
}

/// Creates a new, empty file 0600 from the start; fails if it exists.
pub fn create_new(path: &Path) -> std::io::Result<std::fs::File> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    o.open(path)
}

/// Copies `from` into a new private file `to`, and syncs it.
pub fn copy_file(from: &Path, to: &Path) -> std::io::Result<u64> {
    let mut src = std::fs::File::open(from)?;
    let mut dst = create_new(to)?;
    let n = std::io::copy(&mut src, &mut dst)?;
    dst.sync_all()?;
    Ok(n)
}

/// Makes a folder's entries durable (a rename or a new file in it).
pub fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

/// The mode bits of a file (0 where the platform has none).
pub fn mode(path: &Path) -> std::io::Result<u32> {
    let meta = std::fs::metadata(path)?;
    #[cfg(unix)]
    return Ok(std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o777);
    #[cfg(not(unix))]
    {
        let _ = meta;
        Ok(0)
    }
}
