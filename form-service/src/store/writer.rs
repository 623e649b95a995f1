//! The writer thread: the only code that writes to the database while the service runs.
//!
//! It takes every job that has queued up (at most [`MAX_BATCH`]), applies them all in one
//! transaction, commits once, and only then answers each job. A job that fails sends the
//! batch round again with a savepoint per job, so it fails alone; a commit that fails
//! fails them all.

use crate::error::Storage;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;

use rusqlite::{params, Connection, TransactionBehavior};
use tokio::sync::Notify;

use super::{
    checkpoint, queries, Counters, Delivery, Job, MailKind, NewMail, NewSubmission, Op, Reply,
    StoreOptions, Stored, Tx,
};
use crate::{Clock, Error};

mod recent;

use recent::{Recent, Staged};

/// Most jobs in one transaction: enough to absorb a burst, small enough that a batch
/// commits in a few milliseconds.
const MAX_BATCH: usize = 1024;

pub(super) fn spawn(
    conn: Connection,
    rx: mpsc::Receiver<Job>,
    options: StoreOptions,
    clock: Clock,
    counters: Arc<Counters>,
    mail_queued: Arc<Notify>,
    rewind: Arc<AtomicBool>,
) -> std::io::Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name("db-writer".into())
        .spawn(move || {
            let recent = match Recent::load(&conn, clock.now(), options.dedupe_seconds) {
                Ok(r) => r,
                Err(e) => {
                    // `Alive` is not armed yet: say so here, and refuse every job.
                    counters.writable.store(false, Ordering::Relaxed);
                    tracing::error!(error = %e, "could not read recent submissions; not writing");
                    return;
                }
            };
            let mut w = Writer {
                conn,
                options,
                clock,
                counters,
                recent,
            };
            // Clears `writable` however this thread ends, a panic included.
            let _alive = Alive(w.counters.clone());
            while let Ok(first) = rx.recv() {
                let mut batch = vec![first];
                while batch.len() < MAX_BATCH
                    && !matches!(batch.last().map(|j| &j.op), Some(Op::Stop))
                {
                    match rx.try_recv() {
                        Ok(job) => batch.push(job),
                        Err(_) => break,
                    }
                }
                let stop = match batch.last() {
                    Some(Job { op: Op::Stop, .. }) => batch.pop(),
                    _ => None,
                };
                if !batch.is_empty() && w.commit_batch(batch) {
                    mail_queued.notify_one();
                }
                if rewind.load(Ordering::Relaxed) && checkpoint::rewind(&w.conn) {
                    rewind.store(false, Ordering::Relaxed);
                }
                if let Some(stop) = stop {
                    let _ = stop.reply.send(Ok(Reply::Done(0)));
                    break;
                }
            }
            tracing::debug!("database writer stopped");
        })
}

struct Alive(Arc<Counters>);

impl Drop for Alive {
    fn drop(&mut self) {
        self.0.writable.store(false, Ordering::Relaxed);
    }
}

struct Writer {
    conn: Connection,
    options: StoreOptions,
    clock: Clock,
    counters: Arc<Counters>,
    /// Submissions within the dedupe window, by fingerprint.
    recent: Recent,
}

/// What one job did, counted after the commit.
#[derive(Default)]
pub(super) struct Effect {
    stored: u64,
    duplicates: u64,
    pub(super) pending_delta: i64,
    failed_delta: i64,
    pub(super) queued_mail: bool,
    /// Submissions stored, for [`Recent`] once committed.
    stored_now: Vec<Staged>,
}

impl Writer {
    /// Commits a batch and answers its jobs; true if mail was queued.
    fn commit_batch(&mut self, batch: Vec<Job>) -> bool {
        let started = std::time::Instant::now();
        let now = self.clock.now();
        self.recent.expire(now);
        // Savepoints cost a statement journal (a copy of every page a job touches) and
        // about a third of the writer's time, so they are kept for the rare batch in
        // which a job fails: it is rolled back whole and run again with them.
        let mut outcome = self.run(&batch, now, false);
        if matches!(outcome, Ok(Ran::JobFailed)) {
            outcome = self.run(&batch, now, true);
        }
        match outcome {
            Ok(Ran::Committed {
                results,
                effect,
                applied,
            }) => {
                tracing::trace!(
                    jobs = batch.len(),
                    micros = started.elapsed().as_micros() as u64,
                    applying_micros = applied.as_micros() as u64,
                    "batch committed"
                );
                self.counters.writable.store(true, Ordering::Relaxed);
                let c = &self.counters;
                c.stored.fetch_add(effect.stored, Ordering::Relaxed);
                c.duplicates.fetch_add(effect.duplicates, Ordering::Relaxed);
                c.pending.fetch_add(effect.pending_delta, Ordering::Relaxed);
                c.failed.fetch_add(effect.failed_delta, Ordering::Relaxed);
                self.recent.commit(effect.stored_now);
                for (job, r) in batch.into_iter().zip(results) {
                    let _ = job.reply.send(r);
                }
                effect.queued_mail
            }
            Ok(Ran::JobFailed) => unreachable!("a batch run with savepoints never asks for them"),
            Err(e) => {
                self.counters.writable.store(false, Ordering::Relaxed);
                tracing::error!(error = %e, jobs = batch.len(), "commit failed; refusing the batch");
                let e = std::sync::Arc::new(e);
                for job in batch {
                    let _ = job.reply.send(Err(Storage::BatchRefused(e.clone()).into()));
                }
                false
            }
        }
    }

    /// Applies `batch` in one transaction and commits it. Without `isolate`, the first
    /// job that fails rolls everything back and the answer is [`Ran::JobFailed`]; with
    /// it, each job has a savepoint and a failure undoes that job alone.
    fn run(&mut self, batch: &[Job], now: i64, isolate: bool) -> Result<Ran, rusqlite::Error> {
        let started = std::time::Instant::now();
        let mut results = Vec::with_capacity(batch.len());
        let mut effect = Effect::default();
        let mut tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        for job in batch {
            if isolate {
                let sp = tx.savepoint()?;
                let r = apply(&sp, &job.op, now, &self.options, &self.recent, &mut effect);
                if r.is_ok() {
                    sp.commit()?;
                }
                results.push(r);
            } else {
                // A failed job may have written half its rows: returning drops `tx`,
                // which rolls the whole batch back (and `effect` with it).
                match apply(&tx, &job.op, now, &self.options, &self.recent, &mut effect) {
                    Ok(r) => results.push(Ok(r)),
                    Err(_) => return Ok(Ran::JobFailed),
                }
            }
        }
        let applied = started.elapsed();
        tx.commit()?;
        Ok(Ran::Committed {
            results,
            effect,
            applied,
        })
    }
}

/// How a run of a batch ended, short of a database error.
enum Ran {
    /// Committed; each job's answer, and what they did together.
    Committed {
        results: Vec<Result<Reply, Error>>,
        effect: Effect,
        applied: std::time::Duration,
    },
    /// A job failed and the transaction was rolled back; run again with savepoints.
    JobFailed,
}

fn apply(
    tx: &Connection,
    op: &Op,
    now: i64,
    o: &StoreOptions,
    recent: &Recent,
    effect: &mut Effect,
) -> Result<Reply, Error> {
    match op {
        Op::Submit(s) => submit(tx, s, now, o, recent, effect).map(Reply::Stored),
        Op::Run(job) => job(&mut Tx::new(tx, now, o, effect)).map(Reply::Ran),
        Op::Deliveries(ds) => {
            for d in ds {
                record(tx, d, now, effect)?;
            }
            Ok(Reply::Done(ds.len()))
        }
        Op::Stop => Ok(Reply::Done(0)),
        Op::Retry(which) => {
            let before: (i64, i64) = queries::outbox_counts(tx)?;
            let n = queries::retry(tx, which, now, o.retry_seconds)?;
            let after = queries::outbox_counts(tx)?;
            effect.pending_delta += after.0 - before.0;
            effect.failed_delta += after.1 - before.1;
            effect.queued_mail |= n > 0;
            Ok(Reply::Done(n))
        }
    }
}

fn submit(
    tx: &Connection,
    s: &NewSubmission,
    now: i64,
    o: &StoreOptions,
    recent: &Recent,
    effect: &mut Effect,
) -> Result<Stored, Error> {
    let since = now - o.dedupe_seconds;
    if let Some(id) = recent.find(tx, &effect.stored_now, &s.fingerprint, since)? {
        effect.duplicates += 1;
        return Ok(Stored {
            id,
            duplicate: true,
        });
    }
    tx.prepare_cached(
        "INSERT INTO submissions (public_id, form, received_at, email, fingerprint, answers)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        s.public_id,
        s.form,
        now,
        s.email,
        &s.fingerprint[..],
        s.answers_json
    ])?;
    let row = tx.last_insert_rowid();
    queue(tx, row, &s.staff_mail, now, o)?;
    effect.pending_delta += 1;
    if let Some(ack) = &s.acknowledgement {
        let recent: i64 = tx
            .prepare_cached(
                "SELECT count(*) FROM outbox
             WHERE envelope_to = ?1 AND kind = ?2 AND created_at >= ?3",
            )?
            .query_row(
                params![
                    ack.envelope_to,
                    MailKind::Acknowledgement.as_str(),
                    now - o.acknowledgement_seconds
                ],
                |r| r.get(0),
            )?;
        if recent == 0 {
            queue(tx, row, ack, now, o)?;
            effect.pending_delta += 1;
        }
    }
    effect.stored += 1;
    effect.queued_mail = true;
    effect
        .stored_now
        .push((recent::key(&s.fingerprint), row, now));
    Ok(Stored {
        id: s.public_id.clone(),
        duplicate: false,
    })
}

/// Queues `m`, about `submission` (an id, or `None::<i64>`).
pub(super) fn queue(
    tx: &Connection,
    submission: impl rusqlite::ToSql,
    m: &NewMail,
    now: i64,
    o: &StoreOptions,
) -> Result<(), Error> {
    // An email to a visitor or member is about its recipient; a staff email names
    // whom it is about.
    let about = m
        .about
        .clone()
        .or_else(|| (m.kind != MailKind::Staff).then(|| crate::address::key(&m.envelope_to)));
    tx.prepare_cached(
        "INSERT INTO outbox (submission_id, kind, envelope_from, envelope_to, subject,
                             created_at, next_attempt_at, give_up_at, about)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7, ?8)",
    )?
    .execute(params![
        submission,
        m.kind.as_str(),
        m.envelope_from,
        m.envelope_to,
        m.subject,
        now,
        now + o.retry_seconds,
        about
    ])?;
    let id = tx.last_insert_rowid();
    tx.prepare_cached("INSERT INTO outbox_messages (outbox_id, message) VALUES (?1, ?2)")?
        .execute(params![id, m.message])?;
    Ok(())
}

/// Writes what [`queue`] writes for `m`, but settles it at once as nothing to send:
/// the row keeps no recipient, subject or body (a zeroed message of the same size is
/// written and deleted, so the pages the commit writes are the same). Used where an
/// answer must not reveal that no email went out (a link asked for a stranger's
/// address); `purge` removes it with the others.
pub(super) fn settle_unsent(tx: &Connection, m: &NewMail, now: i64) -> Result<(), Error> {
    tx.prepare_cached(
        "INSERT INTO outbox (submission_id, kind, envelope_from, envelope_to, subject, status,
                             created_at, next_attempt_at, give_up_at, about)
         VALUES (NULL, ?1, ?2, '', '', 'sent', ?3, ?3, ?3, NULL)",
    )?
    .execute(params![m.kind.as_str(), m.envelope_from, now])?;
    let id = tx.last_insert_rowid();
    tx.prepare_cached(
        "INSERT INTO outbox_messages (outbox_id, message) VALUES (?1, zeroblob(?2))",
    )?
    .execute(params![id, m.message.len() as i64])?;
    tx.prepare_cached("DELETE FROM outbox_messages WHERE outbox_id = ?1")?
        .execute(params![id])?;
    Ok(())
}

fn record(tx: &Connection, d: &Delivery, now: i64, effect: &mut Effect) -> Result<(), Error> {
    // Only a pending row changes: a row that `forget` or `purge` removed meanwhile,
    // or that the command line already retried, is left as it is.
    let changed = match d {
        Delivery::Sent { id } => {
            let n = tx
                .prepare_cached(
                    "UPDATE outbox SET status = 'sent', sent_at = ?2, attempts = attempts + 1,
                            last_error = NULL
                     WHERE id = ?1 AND status = 'pending'",
                )?
                .execute(params![id, now])?;
            // A delivered message is the recipient's now: its body (with any live link)
            // leaves the database, so a copy of the data folder acts on nothing (issue
            // 13, item 5). The row stays, for `outbox` and `purge`. `secure_delete`
            // overwrites the freed pages.
            tx.prepare_cached("DELETE FROM outbox_messages WHERE outbox_id = ?1")?
                .execute(params![id])?;
            n
        }
        Delivery::Retry {
            id,
            next_attempt_at,
            error,
        } => {
            tx.execute(
                "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?2, last_error = ?3
                 WHERE id = ?1 AND status = 'pending'",
                params![id, next_attempt_at, error],
            )?;
            0
        }
        Delivery::Failed { id, error } => {
            let n = tx.execute(
                "UPDATE outbox SET status = 'failed', attempts = attempts + 1, last_error = ?2
                 WHERE id = ?1 AND status = 'pending'",
                params![id, error],
            )?;
            effect.failed_delta += n as i64;
            n
        }
    };
    effect.pending_delta -= changed as i64;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::{NewMail, NewSubmission, Store, StoreOptions};
    use super::*;

    fn submission(public_id: &str, fingerprint: u8) -> NewSubmission {
        let mail = NewMail {
            kind: MailKind::Staff,
            envelope_from: "from@clinic.example".into(),
            envelope_to: "staff@clinic.example".into(),
            subject: "Consultation request".into(),
            message: b"Subject: x\r\n\r\nbody\r\n".to_vec(),
            about: None,
        };
        NewSubmission {
            public_id: public_id.into(),
            form: "consultation".into(),
            email: "ann@example.com".into(),
            fingerprint: [fingerprint; 32],
            answers_json: "[]".into(),
            staff_mail: mail,
            acknowledgement: None,
        }
    }

    /// The fast path runs a batch without savepoints; a job that fails (here a reused
    /// id) must still fail alone, whether or not it shared its batch with the others.
    #[tokio::test]
    async fn a_failing_job_fails_alone() {
        let dir = tempfile::tempdir().unwrap();
        let options = StoreOptions {
            dedupe_seconds: 120,
            retry_seconds: 3600,
            acknowledgement_seconds: 3600,
        };
        let (store, writer) = Store::open(dir.path(), options, Clock::default()).unwrap();
        let (a, b, c) = tokio::join!(
            store.submit(submission("aaaaaaaaaaaaaaaa", 1)),
            store.submit(submission("aaaaaaaaaaaaaaaa", 2)),
            store.submit(submission("cccccccccccccccc", 3)),
        );
        assert!(!a.unwrap().duplicate);
        assert!(b.is_err(), "the reused id is refused");
        assert!(!c.unwrap().duplicate);
        let c = &store.counters;
        assert_eq!(c.stored.load(Ordering::Relaxed), 2);
        assert_eq!(c.pending.load(Ordering::Relaxed), 2, "one email each");
        store.stop_writer().await;
        drop(store);
        writer.join();
        let db = super::super::schema::open(dir.path()).unwrap();
        let rows: i64 = db
            .query_row("SELECT count(*) FROM outbox", [], |r| r.get(0))
            .unwrap();
        assert_eq!(rows, 2, "the refused job left no email behind");
    }

    /// The double-click filter lives in the writer's memory: it must know submissions
    /// from before a restart, ignore rows deleted meanwhile (`forget` runs in another
    /// process), and never take a different fingerprint that shares its key for a repeat.
    #[tokio::test]
    async fn repeats_are_found_across_restarts_and_deletions() {
        let dir = tempfile::tempdir().unwrap();
        let options = StoreOptions {
            dedupe_seconds: 120,
            retry_seconds: 3600,
            acknowledgement_seconds: 3600,
        };
        let open = || Store::open(dir.path(), options.clone(), Clock::default()).unwrap();
        let (store, writer) = open();
        let first = store
            .submit(submission("aaaaaaaaaaaaaaaa", 7))
            .await
            .unwrap();
        assert!(!first.duplicate);
        store.stop_writer().await;
        drop(store);
        writer.join();

        let (store, writer) = open();
        let again = store
            .submit(submission("bbbbbbbbbbbbbbbb", 7))
            .await
            .unwrap();
        assert_eq!(again.id, "aaaaaaaaaaaaaaaa", "known after a restart");
        assert!(again.duplicate);
        let mut same_key = submission("cccccccccccccccc", 7);
        same_key.fingerprint[31] = 8;
        let other = store.submit(same_key).await.unwrap();
        assert!(!other.duplicate, "same first bytes, other answers");
        let db = super::super::schema::open(dir.path()).unwrap();
        db.execute("DELETE FROM outbox", []).unwrap();
        db.execute("DELETE FROM submissions", []).unwrap();
        let after = store
            .submit(submission("dddddddddddddddd", 7))
            .await
            .unwrap();
        assert!(!after.duplicate, "the earlier request was erased");
        assert_eq!(after.id, "dddddddddddddddd");
        store.stop_writer().await;
        drop(store);
        writer.join();
    }
}
