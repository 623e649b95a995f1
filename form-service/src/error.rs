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
    /// A rule stops the change (not enough points, a reward already settled, a comment
    /// already decided); [`Refusal`] says which.
    #[error("{0}")]
    Refused(#[from] Refusal),
    /// Staff tried to act on their own comment or reward through a staff link.
    #[error("staff cannot act on their own comment or reward")]
    OwnAccount,
    /// The comments could not be published (the publish command failed).
    #[error("publishing: {0}")]
    Publish(String),
    /// An email could not be built.
    #[error("email: {0}")]
    Mail(String),
}

/// Why a rule of the loyalty programme or of moderation refuses a change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// No ledger row has this id.
    #[error("there is no ledger entry {0}")]
    NoLedgerEntry(i64),
    /// Only pending referrals and held rewards are settled.
    #[error(
        "entry {id} is a {status} {kind} row: only pending referrals and held rewards are settled"
    )]
    NotSettleable {
        /// The row.
        id: i64,
        /// Its status.
        status: &'static str,
        /// Its kind.
        kind: &'static str,
    },
    /// The row was settled before.
    #[error("entry {0} was already settled")]
    AlreadySettled(i64),
    /// A balance would go below zero.
    #[error("not enough points: the balance is {have}, and this needs {need}")]
    NotEnoughPoints {
        /// Points available.
        have: i64,
        /// Points the change takes.
        need: i64,
    },
    /// The member has not confirmed their address.
    #[error("{0} has not confirmed their address yet")]
    NotConfirmed(String),
    /// No comment has this id.
    #[error("there is no comment {0}")]
    NoComment(String),
    /// The comment waits for its author.
    #[error("comment {0} waits for its author to confirm their address")]
    CommentHeld(String),
    /// The comment was rejected before.
    #[error("comment {0} was already rejected")]
    AlreadyRejected(String),
    /// The comment was approved before.
    #[error("comment {0} was already approved")]
    AlreadyApproved(String),
    /// The member has sent their day's comments.
    #[error("the day's comments are used up")]
    OverDailyLimit,
    /// A rejection needs a reason.
    #[error("Choose a reason for rejecting it.")]
    NoReason,
    /// A reply needs text.
    #[error("Write a reply first.")]
    NoReply,
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
