//! Checkpoints: copying committed pages from the WAL back into the database file, on a
//! thread and connection of their own.
//!
//! SQLite otherwise runs a checkpoint inside the commit that crosses
//! `wal_autocheckpoint`, so every request in that batch waited while megabytes were
//! copied and synced (the tail of the benchmark's latency). WAL lets a checkpoint run
//! beside the writer, so the writer's connection has them turned off and this thread
//! does them instead. Durability does not depend on it: a commit is on disk in the WAL.

use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::Connection;

/// How often the WAL is looked at while the service is busy.
const INTERVAL: Duration = Duration::from_millis(100);

/// WAL size (4 KB pages) past which the WAL is made to start again: 64 MB.
const RESTART_FRAMES: i64 = 16_000;

/// Starts the thread; it stops when `stop`'s sender is dropped.
pub(super) fn spawn(conn: Connection, stop: Receiver<()>) -> std::io::Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name("db-checkpoint".into())
        .spawn(move || {
            // Anything but a timeout (a message, or the sender gone) means stop.
            while let Err(RecvTimeoutError::Timeout) = stop.recv_timeout(INTERVAL) {
                round(&conn);
            }
        })
}

/// PASSIVE never waits for the writer: it copies what is committed and leaves the rest
/// for the next round. Under steady load it never quite catches up, and the WAL only
/// starts again from its beginning once everything in it is copied; so past
/// [`RESTART_FRAMES`] a RESTART copies the little that is left (holding the writer back
/// for that long) and lets the next commit rewind.
fn round(conn: &Connection) {
    match run(conn, "PASSIVE") {
        Ok(frames) if frames > RESTART_FRAMES => {
            if let Err(e) = run(conn, "RESTART") {
                tracing::warn!(error = %e, frames, "checkpoint (restart) failed");
            }
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "checkpoint failed; the WAL grows until one succeeds"),
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
