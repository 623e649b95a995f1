//! The library's one error type. HTTP answers have their own (`http::error::AppError`),
//! which wraps this one when a request fails for an internal reason.

use std::path::PathBuf;

/// What can go wrong outside a single request.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// `site.yaml` or the content could not be read, or is wrong.
    #[error("{0}")]
    Config(#[from] site_config::Error),
    /// A setting has a value the service cannot use; [`Setting`] says which.
    #[error("{0}")]
    Setting(#[from] Setting),
    /// The command line asked for something that cannot be done; [`Usage`] says what.
    #[error("{0}")]
    Usage(#[from] Usage),
    /// The database refused.
    #[error("database: {0}")]
    Db(#[from] rusqlite::Error),
    /// The database is not as the service needs it, or a batch could not be
    /// committed; [`Storage`] says which.
    #[error("database: {0}")]
    Storage(#[from] Storage),
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
    /// The comments could not be published; [`Publish`] says why.
    #[error("publishing: {0}")]
    Publish(#[from] Publish),
    /// A backup is damaged, or of a layout this build cannot read; [`Backup`] says how.
    #[error("backup: {0}")]
    Backup(#[from] Backup),
    /// An email could not be built; [`Mail`] says why.
    #[error("email: {0}")]
    Mail(#[from] Mail),
}

/// A setting the service cannot use (from `site.yaml` or the environment).
#[derive(Debug, thiserror::Error)]
pub enum Setting {
    /// A list of proxies holds something that is not an IP address.
    #[error("form_service.trusted_proxies: `{0}` is not an IP address")]
    NotAnIp(String),
    /// The site's timezone is not in the timezone database.
    #[error("timezone `{name}` is not known: {source}")]
    UnknownTimezone {
        /// The name given.
        name: String,
        /// What the database said.
        source: jiff::Error,
    },
    /// A rate limit with no burst would refuse everything.
    #[error(
        "form_service.rate_limit: burst must be at least 1 (or per_minute 0 to turn the limit off)"
    )]
    ZeroBurst,
    /// `comments.publish_env` names something that is not a variable name.
    #[error("comments.publish_env: `{0}` is not an environment variable name")]
    NotAVariable(String),
    /// `comments.publish_env` names one of the service's mail secrets.
    #[error("comments.publish_env: `{0}` is the service's mail secret; the publish command must not get it")]
    SecretVariable(String),
    /// An address setting that is not an email address.
    #[error("{setting}: `{value}` is not an email address: {source}")]
    NotAnEmail {
        /// Which setting.
        setting: String,
        /// Its value.
        value: String,
        /// What the parser said.
        source: lettre::address::AddressError,
    },
    /// An address setting that is not an http(s) URL.
    #[error("`{0}` is not an http:// or https:// address")]
    NotAUrl(String),
    /// `check` found problems (each printed before).
    #[error("{0} problem(s) found")]
    Problems(usize),
    /// `SMTP_URL` has no scheme.
    #[error("SMTP_URL must start with smtp:// or smtps://")]
    SmtpScheme,
    /// `SMTP_URL` asks for plain or opportunistic SMTP without `SMTP_ALLOW_PLAIN=1`.
    #[error(
        "SMTP_URL: use smtps:// (implicit TLS) or smtp:// (STARTTLS); plain or opportunistic SMTP \
         needs SMTP_ALLOW_PLAIN=1 (got scheme `{scheme}`, tls={tls:?})"
    )]
    SmtpPlain {
        /// The scheme given.
        scheme: String,
        /// The `tls=` given, if any.
        tls: Option<String>,
    },
    /// The mail library refused `SMTP_URL`.
    #[error("SMTP_URL: {0}")]
    SmtpUrl(#[source] lettre::transport::smtp::Error),
}

/// Something the command line asked for that cannot be done.
#[derive(Debug, thiserror::Error)]
pub enum Usage {
    /// A members' command on a site with no loyalty programme.
    #[error("the site has no loyalty programme (no `loyalty:` in the config)")]
    NoLoyalty,
    /// No member has this address.
    #[error("no member has the address `{0}`")]
    NoMember(String),
    /// An adjustment of nothing.
    #[error("an adjustment of 0 points changes nothing")]
    ZeroAdjustment,
    /// A points change with no `--by`, and no login name to use instead.
    #[error(
        "say who is acting with --by NAME (the ledger names them; there is no login name to \
         use: USER and LOGNAME are unset)"
    )]
    NoActor,
    /// An adjustment without `--reason`.
    #[error("say why with --reason")]
    NoReason,
    /// `outbox retry` with an id that is not waiting or failed.
    #[error("no waiting or failed email has id {0} (see `form-service outbox list`)")]
    NoEmail(i64),
    /// `export` of a form the site does not have.
    #[error("there is no form `{form}` (forms: {})", known.join(", "))]
    NoForm {
        /// The form asked for.
        form: String,
        /// The site's forms.
        known: Vec<String>,
    },
    /// `export` of the registration form, whose people are members.
    #[error(
        "`{0}` is the loyalty programme's registration form: its people are members, not \
         submissions; see `form-service members list` (and `points export` for the ledger)"
    )]
    RegistrationForm(String),
    /// `export` of the comment form.
    #[error(
        "`{0}` is the comment form: comments are not submissions; see \
         `form-service comments list --all` (and `comments export`)"
    )]
    CommentForm(String),
    /// `--since` that is not a date.
    #[error("--since `{0}` is not a date like 2026-01-31")]
    NotADate(String),
    /// `--since` that has no start of day in the site's timezone.
    #[error("--since `{day}`: {source}")]
    DateOutOfRange {
        /// The date given.
        day: String,
        /// What the time library said.
        source: jiff::Error,
    },
    /// `purge` with no retention given or configured.
    #[error("give --older-than DAYS, or set form_service.retention_days in the config")]
    NoRetention,
    /// `purge --older-than` shorter than the outbox's retry window: a request could go
    /// before its staff email is delivered.
    #[error(
        "--older-than {days} is shorter than the outbox's retry window \
         (form_service.outbox_retry_hours: {hours} hours): a request could be deleted before \
         staff receive its email; give at least {min} days"
    )]
    PurgeWithinRetry {
        /// The days given.
        days: u32,
        /// `outbox_retry_hours`.
        hours: u32,
        /// The fewest days allowed.
        min: u32,
    },
    /// `forget` given something that is not an address.
    #[error("`{0}` is not an email address")]
    NotAnEmail(String),
    /// No comment has this id.
    #[error("there is no comment `{0}`")]
    NoComment(String),
    /// `comments reject` without a valid reason number; the reasons to choose from.
    #[error("give --reason with one of these numbers:{}", numbered(.0))]
    RejectReason(Vec<String>),
    /// `comments reply` without text, or with too much.
    #[error(
        "--text must hold the reply (up to {} characters)",
        grouped(crate::comments::REPLY_LIMIT)
    )]
    ReplyText,
    /// A path SQLite cannot be given (not UTF-8).
    #[error("{} is not a UTF-8 path", .0.display())]
    NotUtf8(PathBuf),
    /// `backup list` with no backup folder configured.
    #[error("no scheduled backups: set form_service.backup.dir in the config")]
    NoBackupDir,
    /// `backup` of a data folder with no database.
    #[error("{} holds no database to back up", .0.display())]
    NothingToBackUp(PathBuf),
    /// A management command pointed at a data folder without a database: only `serve`
    /// and `restore` create one (a command that did would act on an empty copy).
    #[error(
        "no database in {} (no forms.sqlite3 there): give the data folder the service uses \
         with --data-dir, and its site.yaml with --config, e.g. `sudo -u form-service \
         form-service --config /srv/clinic/site.yaml --data-dir /var/lib/form-service/data ...` \
         (only `serve` and `restore` create a database)",
        .0.display()
    )]
    NoDatabase(PathBuf),
    /// `backup` into a folder that holds something.
    #[error("{} already exists and is not empty; give a new folder", .0.display())]
    NotEmpty(PathBuf),
    /// `restore` (or a check of a backup) of a folder that is no backup.
    #[error(
        "there is no backup at {} (no backup.json there): give a folder made by \
         `form-service backup` or a scheduled backup (see `form-service backups`)",
        .0.display()
    )]
    NoBackupAt(PathBuf),
    /// `restore` into a data folder that holds something.
    #[error("{} is not empty; restore only into an empty data folder (move the old one aside first)", .0.display())]
    RestoreNotEmpty(PathBuf),
    /// A destination with no folder name (`/`, `..`).
    #[error("{} is not a folder name", .0.display())]
    NotAFolderName(PathBuf),
    /// `staff sessions --end` with an id that is not a live session.
    #[error("no live staff session has that id (see `form-service staff sessions`)")]
    NoStaffSession,
}

/// `n` with a comma between thousands, as people read it (`2,000`).
fn grouped(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    out
}

fn numbered(reasons: &[String]) -> String {
    reasons
        .iter()
        .enumerate()
        .map(|(i, r)| format!("\n  {}: {r}", i + 1))
        .collect()
}

/// Why the database cannot be used as it is.
#[derive(Debug, thiserror::Error)]
pub enum Storage {
    /// The batch this request was in could not be committed; every request in it is
    /// refused with the same cause.
    #[error("{0}")]
    BatchRefused(#[source] std::sync::Arc<rusqlite::Error>),
    /// A row the transaction just read or wrote is gone (a bug, or a concurrent delete).
    #[error("{0} vanished")]
    Vanished(&'static str),
    /// A stored submission's answers cannot be read back.
    #[error("submission {id}: answers unreadable: {source}")]
    Unreadable {
        /// The submission's public id.
        id: String,
        /// What the JSON parser said.
        source: serde_json::Error,
    },
    /// The writer answered a job with the wrong kind of reply (a bug).
    #[error("unexpected reply")]
    UnexpectedReply,
    /// A blocking task panicked or was cancelled.
    #[error("{0}")]
    Task(#[source] tokio::task::JoinError),
    /// The database could not switch to WAL.
    #[error("the database could not switch to WAL (it is in {0} mode)")]
    NotWal(String),
    /// The database was written by a newer build.
    #[error("the database has schema version {found}, newer than this build ({build}); use a newer form-service")]
    Newer {
        /// Its version.
        found: usize,
        /// This build's.
        build: usize,
    },
    /// A migration step left a reference dangling.
    #[error("migration {step} left a broken reference in `{table}`")]
    BrokenReference {
        /// The step (1-based).
        step: usize,
        /// The table.
        table: String,
    },
}

/// Why a backup cannot be taken or restored.
#[derive(Debug, thiserror::Error)]
pub enum Backup {
    /// The manifest cannot be written or read.
    #[error("{}: {source}", path.display())]
    Manifest {
        /// The manifest file.
        path: PathBuf,
        /// What the JSON library said.
        source: serde_json::Error,
    },
    /// The copied database fails SQLite's check.
    #[error("{}: the copied database fails its check: {check}", path.display())]
    FailsCheck {
        /// The database copy.
        path: PathBuf,
        /// What `PRAGMA quick_check` said.
        check: String,
    },
    /// A manifest of a format this build does not know.
    #[error("{}: backup format {format} is not known to this build", path.display())]
    UnknownFormat {
        /// The manifest file.
        path: PathBuf,
        /// Its format number.
        format: u32,
    },
    /// The backup's database is newer than this build.
    #[error("the backup's database has schema version {found}, newer than this build ({build}); restore it with a newer form-service")]
    Newer {
        /// Its version.
        found: usize,
        /// This build's.
        build: usize,
    },
    /// A file differs from the manifest.
    #[error("{}: the file differs from the backup's manifest (damaged or changed)", .0.display())]
    Differs(PathBuf),
    /// The backup holds no database.
    #[error("{}: no database", .0.display())]
    NoDatabase(PathBuf),
    /// The manifest names a path outside the backup.
    #[error("the manifest names `{0}`, outside the backup")]
    Outside(String),
}

/// Why the comments could not be published.
#[derive(Debug, thiserror::Error)]
pub enum Publish {
    /// The publish command ran and failed; what it printed.
    #[error("`{command}` failed ({status}):\n{output}")]
    Failed {
        /// The command.
        command: String,
        /// How it ended.
        status: std::process::ExitStatus,
        /// Its output and errors.
        output: String,
    },
    /// The publishing task panicked or was cancelled.
    #[error("{0}")]
    Task(#[source] tokio::task::JoinError),
}

/// Why an email could not be built.
#[derive(Debug, thiserror::Error)]
pub enum Mail {
    /// An address that is not one (`whose`: visitor, member).
    #[error("{whose} address: {source}")]
    Address {
        /// Whose address.
        whose: &'static str,
        /// What the parser said.
        source: lettre::address::AddressError,
    },
    /// The message itself could not be put together.
    #[error("{0}")]
    Build(#[source] lettre::error::Error),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_read_as_sentences_and_keep_their_exit_codes() {
        let e = Error::from(Usage::RejectReason(vec!["Spam".into(), "Rude".into()]));
        assert_eq!(
            e.to_string(),
            "give --reason with one of these numbers:\n  1: Spam\n  2: Rude"
        );
        assert_eq!(e.exit_code(), 2);
        let e = Error::from(Usage::NoForm {
            form: "x".into(),
            known: vec!["a".into(), "b".into()],
        });
        assert_eq!(e.to_string(), "there is no form `x` (forms: a, b)");
        let e = Error::from(Setting::SmtpScheme);
        assert!(matches!(e, Error::Setting(Setting::SmtpScheme)));
        assert_eq!(e.exit_code(), 1);
        let e = Error::from(Storage::Newer { found: 9, build: 8 });
        assert_eq!(
            e.to_string(),
            "database: the database has schema version 9, newer than this build (8); use a newer form-service"
        );
        assert_eq!(e.exit_code(), 1);
        assert_eq!(
            Error::from(Usage::ReplyText).to_string(),
            "--text must hold the reply (up to 2,000 characters)"
        );
    }

    #[test]
    fn thousands_are_grouped() {
        for (n, s) in [
            (0, "0"),
            (999, "999"),
            (2000, "2,000"),
            (1234567, "1,234,567"),
        ] {
            assert_eq!(grouped(n), s);
        }
    }
}
