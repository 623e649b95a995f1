//! One function per subcommand; each sets things up, calls the library and reports.

mod backup;
mod check;
mod comments;
mod export;
mod members;
mod outbox;
mod privacy;
mod serve;
mod staff;

use std::io::Write;
use std::path::Path;

use crate::cli::{Cli, Command};
use crate::error::Usage;
use crate::Error;

pub use export::{csv_field, write_csv, write_json};

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<(), Error> {
    match cli.command {
        Command::Serve {
            listen,
            site_dir,
            base_url,
            public_url,
            allow_origins,
            metrics_listen,
        } => serve::run(
            &cli.config,
            &cli.data_dir,
            listen,
            metrics_listen,
            crate::settings::Overrides {
                base_url,
                public_url,
                extra_origins: allow_origins,
                site_dir: Some(site_dir),
            },
        ),
        Command::Export {
            form,
            since,
            format,
        } => export::run(&cli.config, &cli.data_dir, &form, since.as_deref(), format),
        Command::Purge { older_than } => privacy::purge(&cli.config, &cli.data_dir, older_than),
        Command::Forget { email } => privacy::forget(&cli.config, &cli.data_dir, &email),
        Command::Outbox { action } => outbox::run(&cli.config, &cli.data_dir, action),
        Command::Comments { action } => comments::run(&cli.config, &cli.data_dir, action),
        Command::Members { action } => members::members(&cli.config, &cli.data_dir, action),
        Command::Points { action } => members::points(&cli.config, &cli.data_dir, action),
        Command::Backup { dest } => backup::take(&cli.data_dir, &dest),
        Command::Restore { src } => backup::restore(&cli.data_dir, &src),
        Command::Backups => backup::list(&cli.config),
        Command::Check { smtp } => check::run(&cli.config, &cli.data_dir, smtp),
        Command::Staff { action } => staff::run(&cli.data_dir, action),
    }
}

/// Opens the database `serve` (or `restore`) created in `data_dir`. A data folder
/// without one is refused, naming the path as the command sees it: a command run from
/// the wrong folder, or without `--data-dir`, would otherwise create an empty database
/// there and report that it found no one.
fn open_db(data_dir: &Path) -> Result<rusqlite::Connection, Error> {
    let db = crate::store::schema::db_path(data_dir);
    if !db.is_file() {
        let shown = std::path::absolute(data_dir).unwrap_or_else(|_| data_dir.to_path_buf());
        return Err(Usage::NoDatabase(shown).into());
    }
    crate::store::schema::open(data_dir)
}

/// Writes to stdout; a closed pipe (`| head`) is not an error.
fn print(text: &str) -> Result<(), Error> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Error::io("stdout", e)),
        _ => Ok(()),
    }
}

/// `2026-03-03T14:05:00Z` for seconds since the epoch.
pub(crate) fn utc(at: i64) -> String {
    jiff::Timestamp::from_second(at).map_or_else(|_| at.to_string(), |t| t.to_string())
}

/// `2026-03-03` in the clinic's time zone.
fn local_day(s: &crate::Settings, at: i64) -> String {
    jiff::Timestamp::from_second(at).map_or_else(
        |_| at.to_string(),
        |t| t.to_zoned_datetime(s.tz.clone()).date().to_string(),
    )
}
