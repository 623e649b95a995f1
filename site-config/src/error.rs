//! The crate's error type: reading a file failed, or its contents are wrong.

use std::path::PathBuf;

use crate::Diagnostics;

/// Why the site configuration or content index could not be read.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file could not be read at all.
    #[error("{}: cannot read: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// The file was read, and these problems were found in it.
    #[error("{0}")]
    Invalid(Diagnostics),
}

impl Error {
    /// The problems to report, one per mistake (an I/O failure becomes one).
    pub fn into_diagnostics(self) -> Diagnostics {
        match self {
            Error::Io { path, source } => {
                crate::Diagnostic::new(path, format!("cannot read: {source}")).into()
            }
            Error::Invalid(d) => d,
        }
    }
}
