//! Retention: what `form-service purge` deletes, and the running service doing the same
//! by itself, once at start and then every day, with `form_service.retention_days`.
//!
//! [`purge`] is the one piece of code both use: submissions received before the cutoff
//! and the outbox rows about them, every outbox row queued before then, `.eml` files
//! written before then (but never a submission whose staff email is still waiting to
//! be sent, nor its emails: staff have not received it yet), comments rejected (or never confirmed) before then, and, whatever
//! the days, registrations never confirmed, spent links and ended sessions.
//!
//! The schedule logs what went as counts only and keeps the time of the last successful
//! purge and the failures since start in the store's counters, for `/health` and
//! `/metrics`, as the backup schedule does. A failure is tried again ten minutes later.

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::Duration;

use rusqlite::Connection;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::store::{self, Store};
use crate::{comments, members, Error};

/// Seconds between two scheduled purges.
pub const EVERY: i64 = 86_400;
/// Wait before trying again after a failed purge.
pub const RETRY_AFTER: i64 = 600;

/// What one purge removed: counts only, for the log and the command's report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Purged {
    /// Received before this (seconds since the epoch) counted as past retention.
    pub before: i64,
    /// Submissions deleted.
    pub submissions: usize,
    /// Outbox rows deleted (about those submissions, or queued before the cutoff).
    pub emails: usize,
    /// `.eml` files deleted.
    pub files: usize,
    /// Registrations never confirmed whose links ran out.
    pub unconfirmed: usize,
    /// Links expired or used.
    pub links: usize,
    /// Ended sessions.
    pub sessions: usize,
    /// Comments rejected before the cutoff, or held and never confirmed.
    pub comments: usize,
    /// Submissions past the cutoff kept because their staff email is still waiting to
    /// be sent (staff have not received them yet).
    pub undelivered: usize,
}

/// Deletes what is older than `days` at `now` from the database on `conn` and the
/// data folder's mail folder. `confirm_link_hours` is how long a held comment waits for
/// its author's confirmation (`loyalty.confirm_link_hours`).
pub fn purge(
    conn: &mut Connection,
    data_dir: &Path,
    now: i64,
    days: u32,
    confirm_link_hours: u32,
) -> Result<Purged, Error> {
    let before = now - i64::from(days) * 86_400;
    let purged = store::purge(conn, before)?;
    let m = members::privacy::purge(conn, now)?;
    let held_before = now - i64::from(confirm_link_hours) * 3600;
    let gone = comments::purge(conn, before, held_before)?;
    let cutoff = std::time::UNIX_EPOCH + Duration::from_secs(before.max(0) as u64);
    let files = remove_mail_files(data_dir, |path, name| {
        of_rows(name, &purged.emails)
            || std::fs::metadata(path)
                .and_then(|m| m.modified())
                .is_ok_and(|t| t < cutoff)
    })?;
    Ok(Purged {
        before,
        submissions: purged.submissions,
        emails: purged.emails.len(),
        files,
        unconfirmed: m.unconfirmed,
        links: m.links,
        sessions: m.sessions,
        comments: gone,
        undelivered: purged.undelivered,
    })
}

/// Whether a `.eml` file was written for one of these outbox rows
/// (`<submission>-<kind>-<id>.eml`).
pub(crate) fn of_rows(name: &str, ids: &[i64]) -> bool {
    name.strip_suffix(".eml")
        .and_then(|n| n.rsplit_once('-'))
        .and_then(|(_, id)| id.parse::<i64>().ok())
        .is_some_and(|id| ids.contains(&id))
}

/// Deletes the `.eml` files in the data folder's mail folder for which `doomed` says
/// so; returns how many.
pub(crate) fn remove_mail_files(
    data_dir: &Path,
    doomed: impl Fn(&Path, &str) -> bool,
) -> Result<usize, Error> {
    let mut files = 0;
    let Ok(entries) = std::fs::read_dir(data_dir.join("mail")) else {
        return Ok(0);
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".eml") && doomed(&entry.path(), &name) {
            std::fs::remove_file(entry.path()).map_err(|e| Error::io(entry.path(), e))?;
            files += 1;
        }
    }
    Ok(files)
}

/// What the schedule needs, resolved from `site.yaml`.
#[derive(Debug, Clone)]
pub struct Schedule {
    /// The data folder.
    pub data_dir: PathBuf,
    /// `form_service.retention_days`.
    pub days: u32,
    /// `loyalty.confirm_link_hours`.
    pub confirm_link_hours: u32,
}

impl Schedule {
    /// One purge now, on a connection of its own (as the `purge` command does), with
    /// the outcome logged and counted. Blocks: call it at start, or off the async threads.
    pub fn run_once(&self, store: &Store) -> bool {
        let now = store.clock().now();
        let result = store::schema::open(&self.data_dir).and_then(|mut conn| {
            // Checkpoints stay the checkpoint thread's job, as for the service's writer.
            conn.pragma_update(None, "wal_autocheckpoint", 0)?;
            purge(
                &mut conn,
                &self.data_dir,
                now,
                self.days,
                self.confirm_link_hours,
            )
        });
        let counters = store.counters();
        match result {
            Ok(p) => {
                counters.last_purge_at.store(now, Ordering::Relaxed);
                tracing::info!(
                    retention_days = self.days,
                    received_before = %crate::cmd::utc(p.before),
                    submissions = p.submissions,
                    emails = p.emails,
                    eml_files = p.files,
                    unconfirmed_registrations = p.unconfirmed,
                    links = p.links,
                    sessions = p.sessions,
                    comments = p.comments,
                    kept_undelivered = p.undelivered,
                    "retention purge done"
                );
                true
            }
            Err(e) => {
                counters.purge_failures.fetch_add(1, Ordering::Relaxed);
                tracing::error!(
                    error = %e,
                    data_dir = %self.data_dir.display(),
                    "RETENTION PURGE FAILED; trying again in 10 minutes"
                );
                false
            }
        }
    }
}

/// Starts the daily schedule, the first purge `first` seconds from now (the service
/// runs one itself at start). It stops when `stop` turns true.
pub fn spawn(
    schedule: Schedule,
    store: Store,
    first: i64,
    mut stop: watch::Receiver<bool>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut next = store.clock().now() + first;
        loop {
            let wait = (next - store.clock().now()).max(0) as u64;
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(wait)) => {}
                _ = stop.changed() => return,
            }
            if *stop.borrow() {
                return;
            }
            let (s, st) = (schedule.clone(), store.clone());
            let ok = tokio::task::spawn_blocking(move || s.run_once(&st))
                .await
                .unwrap_or_else(|e| {
                    store
                        .counters()
                        .purge_failures
                        .fetch_add(1, Ordering::Relaxed);
                    tracing::error!(error = %e, "RETENTION PURGE FAILED (task)");
                    false
                });
            if ok {
                // The outbox rows it deleted leave the counts behind `/health`.
                if let Err(e) = store.recount().await {
                    tracing::warn!(error = %e, "recounting the outbox after the purge failed");
                }
            }
            next = store.clock().now() + if ok { EVERY } else { RETRY_AFTER };
        }
    })
}
