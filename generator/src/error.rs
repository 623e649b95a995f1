//! The generator's one error type, and the exit status each kind maps to.

use std::path::{Path, PathBuf};

use site_config::Diagnostics;

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Problems in the site's content, config or templates (exit status 1).
    #[error("{0}")]
    Site(Diagnostics),
    /// A file could not be read or written (exit status 1).
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// The command was used wrongly (exit status 2).
    #[error("{0}")]
    Usage(String),
}

impl Error {
    /// An I/O failure on `path`.
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        Error::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    /// The process exit status for this error: 2 for usage, 1 for everything else.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage(_) => 2,
            _ => 1,
        }
    }
}

impl From<Diagnostics> for Error {
    fn from(d: Diagnostics) -> Self {
        Error::Site(d)
    }
}

impl From<site_config::Error> for Error {
    fn from(e: site_config::Error) -> Self {
        Error::Site(e.into_diagnostics())
    }
}
