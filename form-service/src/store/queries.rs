//! Reads and maintenance on a connection: what the outbox worker reads, and what the
//! staff commands (`export`, `purge`, `forget`, `outbox`) do.
//!
//! The commands run in their own process beside a running service; WAL and the busy
//! timeout let them share the file.

use rusqlite::{params, Connection};

use super::QueuedMail;
use crate::error::Storage;
use crate::Error;

/// `(pending, failed)` email counts.
pub(super) fn outbox_counts(c: &Connection) -> Result<(i64, i64), Error> {
    Ok(c.query_row(
        "SELECT coalesce(sum(status = 'pending'), 0), coalesce(sum(status = 'failed'), 0)
         FROM outbox WHERE status != 'sent'",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?)
}

pub(super) fn due(c: &Connection, now: i64, limit: usize) -> Result<Vec<QueuedMail>, Error> {
    let mut stmt = c.prepare_cached(
        "SELECT o.id, s.public_id, o.kind, o.envelope_from, o.envelope_to, m.message,
                o.attempts, o.give_up_at
         FROM outbox o JOIN outbox_messages m ON m.outbox_id = o.id
         LEFT JOIN submissions s ON s.id = o.submission_id
         WHERE o.status = 'pending' AND o.next_attempt_at <= ?1
         ORDER BY o.next_attempt_at, o.id LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![now, limit as i64], |r| {
        Ok(QueuedMail {
            id: r.get(0)?,
            submission: r.get(1)?,
            kind: r.get(2)?,
            envelope_from: r.get(3)?,
            envelope_to: r.get(4)?,
            message: r.get(5)?,
            attempts: r.get(6)?,
            give_up_at: r.get(7)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub(super) fn next_due(c: &Connection) -> Result<Option<i64>, Error> {
    Ok(c.query_row(
        "SELECT min(next_attempt_at) FROM outbox WHERE status = 'pending'",
        [],
        |r| r.get(0),
    )?)
}

/// A stored submission as `export` writes it.
#[derive(Debug, Clone)]
pub struct StoredSubmission {
    /// Public id.
    pub id: String,
    /// Seconds since the epoch.
    pub received_at: i64,
    /// `(field, value)` in the order stored.
    pub answers: Vec<(String, String)>,
}

/// Submissions of `form` received at or after `since`, oldest first.
pub fn export(c: &Connection, form: &str, since: i64) -> Result<Vec<StoredSubmission>, Error> {
    let mut stmt = c.prepare(
        "SELECT public_id, received_at, answers FROM submissions
         WHERE form = ?1 AND received_at >= ?2 ORDER BY received_at, id",
    )?;
    let rows = stmt.query_map(params![form, since], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, String>(2)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, received_at, json) = row?;
        let answers: Vec<(String, String)> =
            serde_json::from_str(&json).map_err(|source| Storage::Unreadable {
                id: id.clone(),
                source,
            })?;
        out.push(StoredSubmission {
            id,
            received_at,
            answers,
        });
    }
    Ok(out)
}

/// What `purge` removed from the submissions and the outbox.
#[derive(Debug, Clone, Default)]
pub struct Purged {
    /// Submissions received before the cut-off.
    pub submissions: usize,
    /// Outbox rows erased: those about the submissions, and every email (about a
    /// submission or not) queued before the cut-off.
    pub emails: Vec<i64>,
    /// Submissions past the cut-off kept because their staff email is still waiting
    /// or failed: staff never received them, so deleting them would lose the request.
    pub undelivered: usize,
}

/// Submissions received before `?1` whose staff email is still being tried (waiting in
/// the outbox). `purge` keeps them, and their emails, until it is sent or given up on:
/// one given up on (failed) goes at its age like any other, or health data would stay
/// past retention for as long as nobody retried it.
const UNDELIVERED: &str = "SELECT submission_id FROM outbox
     WHERE kind = 'staff' AND status = 'pending' AND submission_id IN
       (SELECT id FROM submissions WHERE received_at < ?1)";

/// Deletes submissions received before `before`, with their emails, and every email
/// queued before then, whatever it was about; except a submission whose staff email
/// is still waiting to be sent, which stays with its emails (counted in `undelivered`).
pub fn purge(c: &mut Connection, before: i64) -> Result<Purged, Error> {
    let tx = c.transaction()?;
    let undelivered: usize = tx.query_row(
        &format!("SELECT count(DISTINCT submission_id) FROM ({UNDELIVERED})"),
        [before],
        |r| r.get::<_, i64>(0),
    )? as usize;
    let emails = ids(
        &tx,
        &format!(
            "DELETE FROM outbox WHERE (created_at < ?1 OR submission_id IN
               (SELECT id FROM submissions WHERE received_at < ?1))
             AND (submission_id IS NULL OR submission_id NOT IN ({UNDELIVERED}))
             RETURNING id"
        ),
        &before,
    )?;
    let submissions = tx.execute(
        &format!("DELETE FROM submissions WHERE received_at < ?1 AND id NOT IN ({UNDELIVERED})"),
        [before],
    )?;
    tx.commit()?;
    Ok(Purged {
        submissions,
        emails,
        undelivered,
    })
}

/// Runs a `DELETE ... RETURNING id` and collects the ids.
fn ids(c: &Connection, sql: &str, param: &dyn rusqlite::ToSql) -> Result<Vec<i64>, Error> {
    let mut stmt = c.prepare(sql)?;
    let rows = stmt.query_map([param], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// What `forget` erased.
#[derive(Debug, Clone, Default)]
pub struct Forgotten {
    /// `(public id, form, received_at)` of each submission erased.
    pub submissions: Vec<(String, String, i64)>,
    /// Ids of the emails erased from the outbox (sent, waiting or failed); their
    /// `.eml` files end in `-<id>.eml`.
    pub emails: Vec<i64>,
}

/// Erases every submission from `email` (compared without case) and every email about
/// them, about that person, or to that address.
pub fn forget(c: &mut Connection, email: &str) -> Result<Forgotten, Error> {
    let email = crate::address::key(email);
    let tx = c.transaction()?;
    let submissions = {
        let mut stmt = tx.prepare(
            "SELECT public_id, form, received_at FROM submissions WHERE email = ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map([&email], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        rows.collect::<Result<Vec<_>, _>>()?
    };
    let emails = ids(
        &tx,
        "DELETE FROM outbox WHERE lower(envelope_to) = ?1 OR about = ?1 OR submission_id IN
           (SELECT id FROM submissions WHERE email = ?1) RETURNING id",
        &email,
    )?;
    tx.execute("DELETE FROM submissions WHERE email = ?1", [&email])?;
    tx.commit()?;
    Ok(Forgotten {
        submissions,
        emails,
    })
}

/// An outbox row as `outbox list` shows it.
#[derive(Debug, Clone)]
pub struct MailRow {
    /// Outbox id.
    pub id: i64,
    /// `pending` or `failed`.
    pub status: String,
    /// `staff` or `acknowledgement`.
    pub kind: String,
    /// Recipient.
    pub to: String,
    /// Subject.
    pub subject: String,
    /// Tries so far.
    pub attempts: i64,
    /// Queued at.
    pub created_at: i64,
    /// Next try (pending) or when it was given up on.
    pub next_attempt_at: i64,
    /// The last failure.
    pub last_error: Option<String>,
}

/// Every email not yet sent.
pub fn list_outbox(c: &Connection) -> Result<Vec<MailRow>, Error> {
    let mut stmt = c.prepare(
        "SELECT id, status, kind, envelope_to, subject, attempts, created_at, next_attempt_at,
                last_error
         FROM outbox WHERE status != 'sent' ORDER BY status DESC, id",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(MailRow {
            id: r.get(0)?,
            status: r.get(1)?,
            kind: r.get(2)?,
            to: r.get(3)?,
            subject: r.get(4)?,
            attempts: r.get(5)?,
            created_at: r.get(6)?,
            next_attempt_at: r.get(7)?,
            last_error: r.get(8)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Which emails `retry` makes due now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryWhich {
    /// One email, waiting or failed.
    One(i64),
    /// Every failed email.
    Failed,
    /// Every waiting email (the "retry now" hook).
    Pending,
}

/// Makes emails due at `now`; a failed one gets a fresh `retry_seconds` of retries.
/// Returns how many changed (0 for an unknown or already sent id).
pub fn retry(
    c: &Connection,
    which: &RetryWhich,
    now: i64,
    retry_seconds: i64,
) -> Result<usize, Error> {
    let sql = "UPDATE outbox SET status = 'pending', next_attempt_at = ?1,
                      give_up_at = max(give_up_at, ?1 + ?2)
               WHERE status != 'sent'";
    let n = match which {
        RetryWhich::One(id) => c.execute(&format!("{sql} AND id = ?3"), params![now, retry_seconds, id])?,
        RetryWhich::Failed => c.execute(&format!("{sql} AND status = 'failed'"), params![now, retry_seconds])?,
        RetryWhich::Pending => c.execute(
            "UPDATE outbox SET next_attempt_at = ?1 WHERE status = 'pending' AND next_attempt_at > ?1",
            params![now],
        )?,
    };
    Ok(n)
}
