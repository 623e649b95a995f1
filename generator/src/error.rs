//! The generator's one error type, and the exit status each kind maps to.

use std::fmt;
use std::net::SocketAddr;
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
    /// The preview server could not start, or stopped (exit status 1).
    #[error("{step}: {source}")]
    Serve {
        /// What it was doing.
        step: ServeStep,
        /// What the OS (or the file watcher) said.
        source: std::io::Error,
    },
    /// The output folder cannot take the site (exit status 2: the command named it).
    #[error("refusing to write the site to {}: {why}", path.display())]
    OutputDir {
        /// The folder, as given.
        path: PathBuf,
        /// Why not.
        why: OutputRefusal,
    },
    /// The command was used wrongly (exit status 2).
    #[error("{0}")]
    Usage(String),
}

/// What the preview server was doing when it failed ([`Error::Serve`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServeStep {
    /// Starting its runtime.
    Start,
    /// Listening on this address.
    Listen(SocketAddr),
    /// Watching the site's folder for changes.
    Watch(PathBuf),
    /// Serving: it stopped.
    Serving,
}

impl fmt::Display for ServeStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServeStep::Start => f.write_str("cannot start the server"),
            ServeStep::Listen(addr) => write!(f, "cannot listen on {addr}"),
            ServeStep::Watch(dir) => write!(f, "cannot watch {}", dir.display()),
            ServeStep::Serving => f.write_str("server stopped"),
        }
    }
}

/// Why an output folder is refused ([`Error::OutputDir`]): it would hold or replace
/// what the site is built from, or is no folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputRefusal {
    /// It is the site root.
    IsRoot,
    /// It holds the site root.
    HoldsRoot,
    /// It is inside one of the folders the site is built from (`content`).
    InSources(&'static str),
    /// Something other than a folder is there.
    NotAFolder,
    /// Its path ends in no folder name (`/`, `..`).
    NoName,
}

impl fmt::Display for OutputRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OutputRefusal::IsRoot => f.write_str("it is the site root"),
            OutputRefusal::HoldsRoot => f.write_str("it contains the site root and its content"),
            OutputRefusal::InSources(src) => write!(f, "it is inside the site's {src}/ folder"),
            OutputRefusal::NotAFolder => f.write_str("it exists and is not a folder"),
            OutputRefusal::NoName => f.write_str("it does not end in a folder name"),
        }
    }
}

impl Error {
    /// An I/O failure on `path`.
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        Error::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    /// The process exit status for this error: 2 when the command was used wrongly, 1
    /// for everything else.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage(_) | Error::OutputDir { .. } => 2,
            Error::Site(_) | Error::Io { .. } | Error::Serve { .. } => 1,
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
