//! The command line, as clap reads it. Doc comments here are the `--help` text.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// Receives the site's forms, keeps every submission in SQLite, and emails staff.
///
/// Exit status: 0 on success, 1 when something failed while running, 2 for a mistake
/// on the command line.
///
/// Mail: with SMTP_URL set (smtps://user:pass@host:465, or smtp://...:587 for STARTTLS)
/// email is sent over TLS; SMTP_ALLOW_PLAIN=1 permits an unencrypted server. Without
/// SMTP_URL, emails are written as .eml files to DATA_DIR/mail.
#[derive(Debug, Parser)]
#[command(name = "form-service", version)]
pub struct Cli {
    /// The site's configuration file (its folder is the site root).
    #[arg(long, global = true, default_value = "site.yaml")]
    pub config: PathBuf,
    /// Folder for the database and written emails. Only `serve` and `restore` create a
    /// database; every other command refuses a folder without one (give the service's,
    /// e.g. /var/lib/form-service/data).
    #[arg(long, global = true, default_value = "./data")]
    pub data_dir: PathBuf,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the service.
    Serve {
        /// Address and port to listen on.
        #[arg(long, default_value = "127.0.0.1:3000")]
        listen: SocketAddr,
        /// The generated site, whose pages frame error answers.
        #[arg(long, default_value = "dist")]
        site_dir: PathBuf,
        /// The site's public address, overriding base_url (as `generator build --base-url`).
        #[arg(long)]
        base_url: Option<String>,
        /// This service's own public address, which links in emails start with
        /// (default: form_service.url in the config).
        #[arg(long)]
        public_url: Option<String>,
        /// Another origin whose browser posts are accepted (repeatable), such as
        /// http://127.0.0.1:1111 for a local preview.
        #[arg(long = "allow-origin")]
        allow_origins: Vec<String>,
        /// A private address (loopback or an internal network) serving /metrics and the
        /// detailed /health to anyone who can reach it, e.g. 127.0.0.1:3001 (not 9100,
        /// node_exporter's port).
        #[arg(long)]
        metrics_listen: Option<SocketAddr>,
    },
    /// Print a form's submissions.
    Export {
        /// The form's name (`consultation`).
        form: String,
        /// Only submissions received on or after this day (YYYY-MM-DD, clinic time).
        #[arg(long)]
        since: Option<String>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = ExportFormat::Csv)]
        format: ExportFormat,
    },
    /// Delete what is older than a number of days: submissions received before then
    /// and the emails about them, every outbox email queued before then (about a
    /// submission or not), `.eml` files written before then, and comments rejected (or
    /// never confirmed by their author) before then. Also, whatever the days: registrations never confirmed
    /// whose link has expired, emailed links expired or used, and ended sessions.
    /// A submission whose staff email is still waiting or failed in the outbox is kept,
    /// with its emails, whatever its age.
    Purge {
        /// Age in days; defaults to form_service.retention_days in the config. No
        /// shorter than form_service.outbox_retry_hours.
        #[arg(long)]
        older_than: Option<u32>,
    },
    /// Erase everything from one person: their submissions (consultation requests), the
    /// outbox's emails about or to them (staff emails about their comment or reward
    /// too) and their `.eml` files (found by `To`, `Cc` or `Reply-To`, however encoded),
    /// and their membership: account, points ledger rows, emailed links, sessions and
    /// comments, held ones too (published ones are taken off the comments file, and the
    /// publish command runs). Prints what was erased. Copies
    /// already delivered to staff mailboxes are out of its reach.
    Forget {
        /// Their email address.
        email: String,
    },
    /// Show or retry emails that wait or failed.
    Outbox {
        /// What to do (default: list).
        #[command(subcommand)]
        action: Option<OutboxAction>,
    },
    /// The loyalty programme's members.
    Members {
        /// What to do.
        #[command(subcommand)]
        action: MembersAction,
    },
    /// The loyalty programme's points: what waits for staff, settling it, adjusting a
    /// balance, and the ledger.
    Points {
        /// What to do.
        #[command(subcommand)]
        action: PointsAction,
    },
    /// Copy the data folder into DEST (a new folder) while the service runs: the database
    /// as one consistent snapshot, the written emails and the comments file.
    Backup {
        /// The folder to create; it must not exist or be empty.
        dest: PathBuf,
    },
    /// Restore a backup into the data folder, which must be missing or empty.
    Restore {
        /// A folder written by `backup` (or a scheduled backup).
        src: PathBuf,
    },
    /// Report every setting `serve` would refuse (site.yaml with file:line:col, and
    /// SMTP_URL), all at once; exit 1 if there is any.
    Check {
        /// Also connect to the mail server: TLS and login are tried, nothing is sent.
        #[arg(long)]
        smtp: bool,
    },
    /// List the scheduled backups (form_service.backup.dir).
    Backups,
    /// Members' comments: moderate and publish them.
    Comments {
        /// What to do.
        #[command(subcommand)]
        action: CommentsAction,
    },
    /// Staff sign-ins: the browsers signed in as staff.
    Staff {
        /// What to do.
        #[command(subcommand)]
        action: StaffAction,
    },
}

/// `staff` subcommands.
#[derive(Debug, Clone, Subcommand)]
pub enum StaffAction {
    /// List the live staff sessions (one per signed-in browser), or end some.
    Sessions {
        /// End the session with this id (from the list).
        #[arg(long, conflicts_with_all = ["revoke_email", "revoke_all"])]
        revoke: Option<i64>,
        /// End every session of this staff address.
        #[arg(long, value_name = "EMAIL", conflicts_with = "revoke_all")]
        revoke_email: Option<String>,
        /// End every staff session.
        #[arg(long)]
        revoke_all: bool,
    },
}

/// `comments` subcommands. Ids are the comment ids that `list` and staff emails show.
#[derive(Debug, Clone, Subcommand)]
pub enum CommentsAction {
    /// Comments waiting for moderation (all comments with --all).
    List {
        /// Every comment, whatever its status.
        #[arg(long)]
        all: bool,
    },
    /// One comment in full.
    Show {
        /// Comment id.
        id: String,
    },
    /// Publish a comment.
    Approve {
        /// Comment id.
        id: String,
    },
    /// Reject a comment; the member is told the reason chosen.
    Reject {
        /// Comment id.
        id: String,
        /// The number of a reason from comments.reject_reasons (run without it to see them).
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// Reply as the clinic (publishes the comment too).
    Reply {
        /// Comment id.
        id: String,
        /// The reply.
        #[arg(long)]
        text: String,
    },
    /// Write the approved comments to the file the generator reads.
    Export {
        /// Where (default: DATA_DIR/comments.json).
        #[arg(long)]
        output: Option<std::path::PathBuf>,
    },
    /// Write the file and run comments.publish_command now.
    Publish,
}

/// `members` subcommands.
#[derive(Debug, Clone, Subcommand)]
pub enum MembersAction {
    /// Every account, with its balance.
    List,
    /// One member: details and every ledger row.
    Show {
        /// Their email address (any case).
        email: String,
    },
}

/// `points` subcommands. `--by` names who acts (default: the login name).
#[derive(Debug, Clone, Subcommand)]
pub enum PointsAction {
    /// Pending referral rewards and held rewards, waiting for staff.
    Pending,
    /// Confirm a pending referral (the friend had a paid treatment) or a held reward
    /// (it was used at the clinic).
    Confirm {
        /// The ledger id from `points pending`.
        id: i64,
        /// Why, shown to the member (a sensible default otherwise).
        #[arg(long)]
        reason: Option<String>,
        /// Who is acting.
        #[arg(long)]
        by: Option<String>,
    },
    /// Void a pending referral, or decline a held reward (its points go back).
    Void {
        /// The ledger id from `points pending`.
        id: i64,
        /// Why, shown to the member.
        #[arg(long)]
        reason: Option<String>,
        /// Who is acting.
        #[arg(long)]
        by: Option<String>,
    },
    /// Add or take points by hand; a balance never goes below zero.
    Adjust {
        /// The member's email address.
        email: String,
        /// Points to add (negative to take), e.g. 25 or -40.
        #[arg(allow_negative_numbers = true)]
        amount: i64,
        /// Why, shown to the member.
        #[arg(long)]
        reason: String,
        /// Who is acting.
        #[arg(long)]
        by: Option<String>,
    },
    /// Every ledger row, oldest first.
    Export {
        /// Output format.
        #[arg(long, value_enum, default_value_t = ExportFormat::Csv)]
        format: ExportFormat,
    },
}

/// `outbox` subcommands.
#[derive(Debug, Clone, Copy, Subcommand)]
pub enum OutboxAction {
    /// List emails waiting or failed.
    List,
    /// Send one email again (by its id from `list`).
    Retry {
        /// Outbox id.
        id: i64,
    },
    /// Send every failed email again.
    RetryFailed,
}

/// Formats `export` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// Comma-separated, safe to open in a spreadsheet.
    Csv,
    /// A JSON array.
    Json,
}

/// Logs to stderr; `RUST_LOG` chooses the level (default `info`), `LOG_FORMAT=json`
/// writes one JSON object a line for a log collector. Either way no event carries
/// personal data: fields are ids, counts, paths and errors, never answers or addresses.
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let json = std::env::var("LOG_FORMAT").is_ok_and(|v| v.trim().eq_ignore_ascii_case("json"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if json {
        builder.json().try_init()
    } else {
        builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .try_init()
    };
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn defaults_match_the_contract() {
        let cli = Cli::try_parse_from(["form-service", "serve"]).unwrap();
        assert_eq!(cli.config, PathBuf::from("site.yaml"));
        assert_eq!(cli.data_dir, PathBuf::from("./data"));
        let Command::Serve {
            listen, site_dir, ..
        } = cli.command
        else {
            panic!()
        };
        assert_eq!(listen.to_string(), "127.0.0.1:3000");
        assert_eq!(site_dir, PathBuf::from("dist"));
        let cli = Cli::try_parse_from(["form-service", "outbox", "retry", "7"]).unwrap();
        assert!(matches!(
            cli.command,
            Command::Outbox {
                action: Some(OutboxAction::Retry { id: 7 })
            }
        ));
        assert!(Cli::try_parse_from(["form-service", "export"]).is_err());
    }
}
