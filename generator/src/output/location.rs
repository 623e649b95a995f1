//! Where the site may be written: never over the sources it is built from.

use std::path::{Path, PathBuf};

use crate::{Error, OutputRefusal};

/// Refuses an output folder that is the site root, lies above it, or lies inside
/// the folders the site is built from.
pub fn check_output_dir(root: &Path, output: &Path) -> Result<(), Error> {
    let root = absolute(root)?;
    let out = absolute(output)?;
    let refuse = |why| {
        Err(Error::OutputDir {
            path: output.to_path_buf(),
            why,
        })
    };
    if out == root {
        return refuse(OutputRefusal::IsRoot);
    }
    if root.starts_with(&out) {
        return refuse(OutputRefusal::HoldsRoot);
    }
    for src in ["content", "themes", "templates", "static"] {
        if out.starts_with(root.join(src)) {
            return refuse(OutputRefusal::InSources(src));
        }
    }
    if out.exists() && !out.is_dir() {
        return refuse(OutputRefusal::NotAFolder);
    }
    Ok(())
}

fn absolute(p: &Path) -> Result<PathBuf, Error> {
    use std::path::Component;
    let abs = std::path::absolute(p).map_err(|e| Error::io(p, e))?;
    // Part by part, resolving what exists (symlinks, and `..` after them) and the rest
    // by its words, so that neither a symlink nor `..` after a missing folder can hide
    // a match: `dist/../content/x` is `content/x` whether or not `dist` exists.
    let mut real = PathBuf::new();
    for part in abs.components() {
        match part {
            Component::ParentDir => {
                real.pop();
            }
            Component::CurDir => {}
            other => {
                real.push(other);
                if let Ok(resolved) = real.canonicalize() {
                    real = resolved;
                }
            }
        }
    }
    Ok(real)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn a_path_through_dot_dot_or_a_symlink_into_the_sources_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("site");
        std::fs::create_dir_all(root.join("content")).unwrap();
        std::os::unix::fs::symlink(root.join("content"), dir.path().join("elsewhere")).unwrap();

        let via_dots = root.join("dist/../content/out");
        let via_link = dir.path().join("elsewhere/out");
        for out in [&via_dots, &via_link] {
            let err = check_output_dir(&root, out).unwrap_err();
            assert!(
                matches!(
                    err,
                    Error::OutputDir {
                        why: OutputRefusal::InSources("content"),
                        ..
                    }
                ),
                "{err}"
            );
        }
        assert!(check_output_dir(&root, &root.join("dist")).is_ok());
        assert!(check_output_dir(&root, &dir.path().join("site/..")).is_err());
    }
}
