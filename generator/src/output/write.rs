//! Writing the site to disk so that a failed build changes nothing: everything goes
//! into a hidden sibling folder first, and only a complete build replaces the output.
//!
//! It only ever deletes the output folder being replaced and its own sibling
//! folders, and refuses output folders that would hold or replace the site's sources.

use std::collections::BTreeSet;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::{Output, OutputFile};
use crate::Error;

/// Refuses an output folder that is the site root, lies above it, or lies inside
/// the folders the site is built from.
pub fn check_output_dir(root: &Path, output: &Path) -> Result<(), Error> {
    let root = absolute(root)?;
    let out = absolute(output)?;
    let refuse = |why: &str| {
        Err(Error::Usage(format!(
            "refusing to write the site to {}: {why}",
            output.display()
        )))
    };
    if out == root {
        return refuse("it is the site root");
    }
    if root.starts_with(&out) {
        return refuse("it contains the site root and its content");
    }
    for src in ["content", "themes", "templates", "static"] {
        if out.starts_with(root.join(src)) {
            return refuse(&format!("it is inside the site's {src}/ folder"));
        }
    }
    if out.exists() && !out.is_dir() {
        return refuse("it exists and is not a folder");
    }
    Ok(())
}

fn absolute(p: &Path) -> Result<PathBuf, Error> {
    let abs = std::path::absolute(p).map_err(|e| Error::io(p, e))?;
    // Resolve what exists so symlinks and `..` cannot hide a match.
    let mut existing = abs.clone();
    let mut rest = Vec::new();
    while !existing.exists() {
        match (existing.file_name(), existing.parent()) {
            (Some(name), Some(parent)) => {
                rest.push(name.to_os_string());
                existing = parent.to_path_buf();
            }
            _ => break,
        }
    }
    let mut real = existing.canonicalize().unwrap_or(existing);
    for part in rest.into_iter().rev() {
        real.push(part);
    }
    Ok(real)
}

/// Writes `site` into `output`, replacing what was there only once every file is written.
pub fn write_atomically(site: &Output, output: &Path) -> Result<(), Error> {
    let name = output
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| Error::Usage(format!("{} is not a folder name", output.display())))?;
    let parent = match output.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&parent).map_err(|e| Error::io(&parent, e))?;
    let staging = parent.join(format!(".{name}.building"));
    let old = parent.join(format!(".{name}.old"));
    for leftover in [&staging, &old] {
        if leftover.exists() {
            fs::remove_dir_all(leftover).map_err(|e| Error::io(leftover, e))?;
        }
    }
    if let Err(e) = write_all(site, &staging) {
        let _ = fs::remove_dir_all(&staging);
        return Err(e);
    }
    if output.exists() {
        fs::rename(output, &old).map_err(|e| Error::io(output, e))?;
    }
    if let Err(e) = fs::rename(&staging, output) {
        // Put the previous site back rather than leave none.
        let _ = fs::rename(&old, output);
        return Err(Error::io(output, e));
    }
    if old.exists() {
        fs::remove_dir_all(&old).map_err(|e| Error::io(&old, e))?;
    }
    Ok(())
}

/// Writes every file under `dir`. Folders first, each once, then the files, both on
/// all cores: at 10,000 pages most of the time is the kernel creating inodes, and one
/// thread doing that in turn was a quarter of the build (bench/run, issue 5).
fn write_all(site: &Output, dir: &Path) -> Result<(), Error> {
    fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let folders: BTreeSet<&Path> = site
        .keys()
        .filter_map(|rel| Path::new(rel).parent())
        .filter(|p| !p.as_os_str().is_empty())
        .collect();
    // `create_dir_all` tolerates another thread creating the same parent meanwhile.
    folders.par_iter().try_for_each(|rel| {
        let path = dir.join(rel);
        fs::create_dir_all(&path).map_err(|e| Error::io(&path, e))
    })?;
    site.par_iter().try_for_each(|(rel, file)| {
        let path = dir.join(rel);
        let result: io::Result<()> = match file {
            OutputFile::Bytes(b) => fs::write(&path, b),
            OutputFile::Copy(src) => fs::copy(src, &path).map(|_| ()),
        };
        result.map_err(|e| Error::io(&path, e))
    })
}
