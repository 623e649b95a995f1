//! The library's one error type. HTTP answers have their own (`http::error::AppError`),
//! which wraps this one when a request fails for an internal reason.

use std::path::PathBuf;

/// What can go wrong outside a single request.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// `site.yaml` or the content could not be read, or is wrong.
    #[error("{0}")]
    Config(#[from] site_config::Error),
    /// A setting has a value the service cannot use.
    #[error("{0}")]
    Setting(String),
    /// The command line asked for something that cannot be done (unknown form, bad date).
    #[error("{0}")]
    Usage(String),
    /// The database refused.
    #[error("database: {0}")]
    Db(#[from] rusqlite::Error),
    /// A batch could not be committed; every request in it is refused.
    #[error("database: {0}")]
    Storage(String),
    /// The database writer has stopped, so nothing can be stored.
    #[error("the database writer has stopped")]
    WriterGone,
    /// A file or socket failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// What was being read or written.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// A rule of the loyalty programme stops the change (not enough points, a reward
    /// already settled, no such member); the message says which.
    #[error("{0}")]
    Refused(String),
    /// The comments could not be published (the publish command failed).
    #[error("publishing: {0}")]
    Publish(String),
    /// A backup is damaged, or of a layout this build cannot read.
    #[error("backup: {0}")]
    Backup(String),
    /// An email could not be built.
    #[error("email: {0}")]
    Mail(String),
}

impl Error {
    /// The process exit code for this error: 2 for usage mistakes, 1 for the rest.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage(_) => 2,
            _ => 1,
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}
