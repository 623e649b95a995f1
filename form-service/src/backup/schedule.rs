//! Scheduled backups: one every `every_hours` into `backup.dir`, then the ones older
//! than `keep_days` are deleted. The first is taken at start when none is recent.
//!
//! The time of the newest backup is kept in the store's counters for `/health` and
//! `/metrics`; a failure is logged (without personal data) and tried again soon.

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::store::Counters;
use crate::Clock;

/// Wait before trying again after a failed backup.
const RETRY_AFTER: i64 = 600;

/// What the schedule needs, resolved from `site.yaml`.
#[derive(Debug, Clone)]
pub struct Schedule {
    /// The data folder to copy.
    pub data_dir: PathBuf,
    /// The folder receiving backups.
    pub dir: PathBuf,
    /// Seconds between backups.
    pub every: i64,
    /// Seconds a backup is kept.
    pub keep: i64,
}

/// Starts the schedule; it stops when `stop` turns true.
pub fn spawn(
    schedule: Schedule,
    clock: Clock,
    counters: Arc<Counters>,
    mut stop: watch::Receiver<bool>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let newest = super::list(&schedule.dir)
            .last()
            .map_or(0, |(_, m)| m.created_at);
        counters.last_backup_at.store(newest, Ordering::Relaxed);
        let mut next = newest + schedule.every;
        loop {
            let wait = (next - clock.now()).max(0) as u64;
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(wait)) => {}
                _ = stop.changed() => return,
            }
            if *stop.borrow() {
                return;
            }
            let s = schedule.clone();
            let now = clock.now();
            let result = tokio::task::spawn_blocking(
                move || -> Result<(PathBuf, usize, usize), crate::Error> {
                    let dest = s.dir.join(super::scheduled_name(now));
                    let m = super::take(&s.data_dir, &dest, now)?;
                    let pruned = super::prune(&s.dir, now - s.keep)?
                        + super::prune_migration_copies(&s.data_dir, now - s.keep);
                    Ok((dest, m.files.len(), pruned))
                },
            )
            .await;
            match result {
                Ok(Ok((dest, files, pruned))) => {
                    counters.last_backup_at.store(now, Ordering::Relaxed);
                    tracing::info!(path = %dest.display(), files, deleted_old = pruned, "backup taken");
                    next = now + schedule.every;
                }
                Ok(Err(e)) => {
                    tracing::error!(error = %e, dir = %schedule.dir.display(), "BACKUP FAILED; trying again in 10 minutes");
                    next = now + RETRY_AFTER.min(schedule.every);
                }
                Err(e) => {
                    tracing::error!(error = %e, "BACKUP FAILED (task)");
                    next = now + RETRY_AFTER.min(schedule.every);
                }
            }
        }
    })
}
