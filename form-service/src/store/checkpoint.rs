//! Checkpoints: copying committed pages from the WAL back into the database file, on a
//! thread and connection of their own.
//!
//! SQLite otherwise runs a checkpoint inside the commit that crosses
//! `wal_autocheckpoint`, so every request in that batch waited while megabytes were
//! copied and synced (the tail of the benchmark's latency). WAL lets a checkpoint run
//! beside the writer, so the writer's connection has them turned off and this thread
//! does them instead. Durability does not depend on it: a commit is on disk in the WAL.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::Connection;

/// How often the WAL is looked at while the service is busy.
const INTERVAL: Duration = Duration::from_millis(100);

/// WAL size (4 KB pages) past which the writer is asked to rewind it: 64 MB.
const REWIND_FRAMES: i64 = 16_000;

/// Starts the thread; it stops when `stop`'s sender is dropped.
pub(super) fn spawn(
    conn: Connection,
    stop: Receiver<()>,
    rewind: Arc<AtomicBool>,
) -> std::io::Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name("db-checkpoint".into())
        .spawn(move || {
            // Anything but a timeout (a message, or the sender gone) means stop.
            while let Err(RecvTimeoutError::Timeout) = stop.recv_timeout(INTERVAL) {
                if round(&conn) {
                    rewind.store(true, Ordering::Relaxed);
                }
            }
        })
}

/// PASSIVE never waits for the writer: it copies what is committed and leaves the rest
/// for the next round. Under steady load it never quite catches up, and the WAL only
/// starts again from its beginning once everything in it is copied. So past
/// [`REWIND_FRAMES`] this returns true, and the writer copies the little that is left
/// between two batches ([`rewind`]), which lets its next commit start the WAL again.
/// (A RESTART checkpoint from here did the same, but the writer then waited for it in
/// SQLite's busy handler, which sleeps in steps of up to 100 ms: batches of 180 ms.)
fn round(conn: &Connection) -> bool {
    match run(conn, "PASSIVE") {
        Ok(frames) => frames > REWIND_FRAMES,
        Err(e) => {
            tracing::warn!(error = %e, "checkpoint failed; the WAL grows until one succeeds");
            false
        }
    }
}

/// Run by the writer, between batches, when asked: copies what the checkpoint thread
/// has not, so that the next transaction starts the WAL from its beginning. True once
/// done (false if the checkpoint thread was busy: try again after the next batch).
pub(super) fn rewind(conn: &Connection) -> bool {
    match run(conn, "PASSIVE") {
        Ok(_) => true,
        Err(rusqlite::Error::SqliteFailure(e, _))
            if e.code == rusqlite::ErrorCode::DatabaseBusy =>
        {
            false
        }
        Err(e) => {
            tracing::warn!(error = %e, "checkpoint (rewind) failed");
            true
        }
    }
}

/// Runs one checkpoint; returns the frames in the WAL.
fn run(conn: &Connection, mode: &str) -> rusqlite::Result<i64> {
    let (frames, copied): (i64, i64) =
        conn.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |r| {
            Ok((r.get(1)?, r.get(2)?))
        })?;
    tracing::trace!(mode, frames, copied, "checkpoint");
    Ok(frames)
}
