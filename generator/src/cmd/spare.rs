//! `generator prepare-spare` (hidden): run in the background by a `build` that left no
//! spare output (the first build into a folder), it makes one, so that the next build
//! writes into existing folders instead of creating every page's folder (issue 17).
//!
//! It waits for the build that started it to finish (the spare's lock, which every
//! build holds), makes the spare under a name of its own from hard links to the output,
//! and renames it into place only if no spare appeared meanwhile.

use std::path::Path;

use crate::output::{make_spare, Staging};
use crate::site::{Record, SpareLock};
use crate::Error;

/// Makes the spare of `output`, the site at `root`'s output, as its record describes.
/// Nothing to do (no record, a spare already there) is not an error.
pub fn run(root: &Path, output: &Path) -> Result<(), Error> {
    let spare = Staging::spare_of(output);
    let Some(_lock) = SpareLock::acquire(root, &spare) else {
        return Ok(());
    };
    if spare.exists() {
        return Ok(());
    }
    let Some(held) = Record::load(root, output).into_contents() else {
        return Ok(());
    };
    let contents = make_spare(output, &spare, &held.files).map_err(|e| Error::io(&spare, e))?;
    Record::of_spare(contents)
        .save(root, &spare)
        .map_err(|e| Error::io(&spare, e))
}

/// Starts [`run`] in a process of its own, which outlives this one.
pub fn start(root: &Path, output: &Path) {
    let (Ok(exe), Ok(root), Ok(output)) = (
        std::env::current_exe(),
        std::path::absolute(root),
        std::path::absolute(output),
    ) else {
        return;
    };
    let _ = std::process::Command::new(exe)
        .arg("prepare-spare")
        .arg("--root")
        .arg(root)
        .arg("--output")
        .arg(output)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
}
