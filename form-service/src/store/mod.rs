//! The database: one SQLite file in the data folder, written by a single thread.
//!
//! Requests hand their submission to the writer ([`Store::submit`]) and wait for the
//! commit that contains it. The writer commits whatever has queued up in one
//! transaction (group commit), so under load one fsync covers many requests, and no
//! request is answered before the commit that holds it. Reads use their own connection,
//! and so do checkpoints, so that no batch waits while the WAL is copied back.

mod checkpoint;
mod queries;
pub mod schema;
mod tx;
mod writer;

use crate::error::Storage;
use std::any::Any;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;

use rusqlite::Connection;
use tokio::sync::{oneshot, Notify};

pub use queries::{
    export, forget, list_outbox, purge, retry, Forgotten, MailRow, Purged, RetryWhich,
    StoredSubmission,
};

pub use tx::{run_alone, Tx};

use crate::{Clock, Error};

/// An email to queue with a submission.
#[derive(Debug, Clone)]
pub struct NewMail {
    /// `staff` or `acknowledgement`.
    pub kind: MailKind,
    /// SMTP envelope sender.
    pub envelope_from: String,
    /// SMTP envelope recipient.
    pub envelope_to: String,
    /// The subject, for `outbox list`.
    pub subject: String,
    /// The whole message, headers and body, as sent.
    pub message: Vec<u8>,
    /// Whose email this is about, when not (only) its recipient's: the member a staff
    /// email about a comment or reward concerns. `forget` erases it with them.
    pub about: Option<String>,
}

impl NewMail {
    /// The same email, recorded as being about the person at `email`.
    pub fn about(mut self, email: &str) -> NewMail {
        self.about = Some(crate::address::key(email));
        self
    }
}

/// Who an email is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailKind {
    /// The request, to staff.
    Staff,
    /// The fixed "we have your request" note, to the visitor.
    Acknowledgement,
    /// A loyalty-programme email to a member (links, a friend joined).
    Member,
}

impl MailKind {
    fn as_str(self) -> &'static str {
        match self {
            MailKind::Staff => "staff",
            MailKind::Acknowledgement => "acknowledgement",
            MailKind::Member => "member",
        }
    }
}

/// A validated submission ready to store.
#[derive(Debug, Clone)]
pub struct NewSubmission {
    /// The id given to the visitor and staff.
    pub public_id: String,
    /// Form name.
    pub form: String,
    /// The visitor's address, lowercased (for `forget`).
    pub email: String,
    /// Hash of the normalised answers (for double clicks).
    pub fingerprint: [u8; 32],
    /// `[[name, value], ...]` as JSON.
    pub answers_json: String,
    /// The staff email.
    pub staff_mail: NewMail,
    /// The acknowledgement, queued unless this address had one recently.
    pub acknowledgement: Option<NewMail>,
}

/// What storing a submission did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    /// The submission's id (the earlier one's, for a duplicate).
    pub id: String,
    /// True when the same answers were stored moments ago, and this post was not.
    pub duplicate: bool,
}

/// An email waiting in the outbox.
#[derive(Debug, Clone)]
pub struct QueuedMail {
    /// Outbox row id.
    pub id: i64,
    /// The submission's public id, when the mail is about one.
    pub submission: Option<String>,
    /// Who it is for.
    pub kind: String,
    /// Envelope sender.
    pub envelope_from: String,
    /// Envelope recipient.
    pub envelope_to: String,
    /// The message.
    pub message: Vec<u8>,
    /// Tries so far.
    pub attempts: i64,
    /// When it stops being retried.
    pub give_up_at: i64,
}

/// What happened when the outbox tried an email.
#[derive(Debug, Clone)]
pub enum Delivery {
    /// Accepted by the mail server (or written to a file).
    Sent {
        /// Outbox row id.
        id: i64,
    },
    /// Failed; try again at `next_attempt_at`.
    Retry {
        /// Outbox row id.
        id: i64,
        /// When to try next.
        next_attempt_at: i64,
        /// What went wrong (the mail server's words, never the message).
        error: String,
    },
    /// Failed for the last time.
    Failed {
        /// Outbox row id.
        id: i64,
        /// What went wrong.
        error: String,
    },
}

/// Counts shown by `/health`.
#[derive(Debug, Default)]
pub struct Counters {
    /// Whether the last commit succeeded.
    pub writable: AtomicBool,
    /// Emails waiting to be sent.
    pub pending: AtomicI64,
    /// Emails that were given up on.
    pub failed: AtomicI64,
    /// Submissions stored since start.
    pub stored: AtomicU64,
    /// Posts recognised as a repeat of one stored moments before.
    pub duplicates: AtomicU64,
    /// Posts dropped because the honeypot was filled or missing.
    pub honeypot: AtomicU64,
    /// When the newest scheduled backup was taken (0: none known).
    pub last_backup_at: AtomicI64,
    /// When the service last purged what is past retention (0: not since start).
    pub last_purge_at: AtomicI64,
    /// Scheduled retention purges that failed since start.
    pub purge_failures: AtomicU64,
    /// Answers and latencies, for `/metrics`.
    pub http: crate::metrics::HttpStats,
}

/// Settings the writer applies inside its transactions.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Seconds within which identical answers are stored once.
    pub dedupe_seconds: i64,
    /// Seconds an email is retried before it is marked failed.
    pub retry_seconds: i64,
    /// Seconds during which one address gets at most one acknowledgement.
    pub acknowledgement_seconds: i64,
}

/// Work for the writer's transaction that is not a submission (the loyalty programme,
/// comments). It may run twice: when another job in its batch fails, the batch is
/// rolled back and run again, so it must not act outside the transaction.
pub(crate) type TxJob = dyn Fn(&mut Tx<'_>) -> Result<Box<dyn Any + Send>, Error> + Send;

pub(crate) enum Op {
    Submit(Box<NewSubmission>),
    Run(Box<TxJob>),
    Deliveries(Vec<Delivery>),
    Retry(RetryWhich),
    /// Commit what came before, then stop.
    Stop,
}

pub(crate) enum Reply {
    Stored(Stored),
    Done(usize),
    Ran(Box<dyn Any + Send>),
}

pub(crate) struct Job {
    op: Op,
    reply: oneshot::Sender<Result<Reply, Error>>,
}

/// A handle to the database, cheap to clone.
#[derive(Clone)]
pub struct Store {
    jobs: mpsc::Sender<Job>,
    reader: Arc<Mutex<Connection>>,
    counters: Arc<Counters>,
    mail_queued: Arc<Notify>,
    clock: Clock,
}

/// The writer thread (and the checkpoint thread beside it); join it after every
/// [`Store`] clone is dropped.
pub struct WriterThread {
    writer: JoinHandle<()>,
    checkpoints: JoinHandle<()>,
    stop_checkpoints: mpsc::Sender<()>,
}

impl WriterThread {
    /// Waits until the writer has committed what it had and stopped.
    pub fn join(self) {
        let _ = self.writer.join();
        let _ = self.stop_checkpoints.send(());
        let _ = self.checkpoints.join();
    }
}

impl Store {
    /// Opens the database in `data_dir` and starts its writer thread.
    pub fn open(
        data_dir: &Path,
        options: StoreOptions,
        clock: Clock,
    ) -> Result<(Store, WriterThread), Error> {
        let conn = schema::open(data_dir)?;
        // Checkpoints are `checkpoint`'s job, off the path of requests.
        conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        let (stop_checkpoints, stopped) = mpsc::channel();
        let rewind = Arc::new(AtomicBool::new(false));
        let checkpoints = checkpoint::spawn(schema::open(data_dir)?, stopped, rewind.clone())
            .map_err(|e| Error::io(data_dir, e))?;
        let reader = schema::open(data_dir)?;
        let counters = Arc::new(Counters::default());
        counters.writable.store(true, Ordering::Relaxed);
        let mail_queued = Arc::new(Notify::new());
        let (jobs, rx) = mpsc::channel();
        let thread = writer::spawn(
            conn,
            rx,
            options,
            clock.clone(),
            counters.clone(),
            mail_queued.clone(),
            rewind,
        )
        .map_err(|e| Error::io(data_dir, e))?;
        let store = Store {
            jobs,
            reader: Arc::new(Mutex::new(reader)),
            counters,
            mail_queued,
            clock,
        };
        store.recount_blocking()?;
        Ok((
            store,
            WriterThread {
                writer: thread,
                checkpoints,
                stop_checkpoints,
            },
        ))
    }

    async fn send(&self, op: Op) -> Result<Reply, Error> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Job { op, reply })
            .map_err(|_| Error::WriterGone)?;
        answer.await.map_err(|_| Error::WriterGone)?
    }

    /// Stores a submission and queues its mail; returns once that is committed.
    pub async fn submit(&self, s: NewSubmission) -> Result<Stored, Error> {
        match self.send(Op::Submit(Box::new(s))).await? {
            Reply::Stored(s) => Ok(s),
            _ => Err(Error::from(Storage::UnexpectedReply)),
        }
    }

    /// Runs `f` in the writer's next transaction and returns its result once that is
    /// committed. `f` may run twice (see `TxJob`); its effects count only once.
    pub async fn transact<T: Send + 'static>(
        &self,
        f: impl Fn(&mut Tx<'_>) -> Result<T, Error> + Send + 'static,
    ) -> Result<T, Error> {
        let job: Box<TxJob> = Box::new(move |tx| f(tx).map(|v| Box::new(v) as Box<dyn Any + Send>));
        match self.send(Op::Run(job)).await? {
            Reply::Ran(v) => v
                .downcast::<T>()
                .map(|v| *v)
                .map_err(|_| Error::from(Storage::UnexpectedReply)),
            _ => Err(Error::from(Storage::UnexpectedReply)),
        }
    }

    /// Records what the outbox did.
    pub async fn record(&self, deliveries: Vec<Delivery>) -> Result<(), Error> {
        self.send(Op::Deliveries(deliveries)).await.map(|_| ())
    }

    /// Asks the writer to commit what it has and stop; later writes fail with
    /// [`Error::WriterGone`]. Returns once it has stopped taking jobs.
    pub async fn stop_writer(&self) {
        let _ = self.send(Op::Stop).await;
    }

    /// Makes waiting (and, if asked, failed) emails due now; returns how many.
    pub async fn retry_now(&self, which: RetryWhich) -> Result<usize, Error> {
        match self.send(Op::Retry(which)).await? {
            Reply::Done(n) => Ok(n),
            _ => Err(Error::from(Storage::UnexpectedReply)),
        }
    }

    /// Up to `limit` emails due at `now`, oldest first.
    pub async fn due(&self, limit: usize) -> Result<Vec<QueuedMail>, Error> {
        let now = self.clock.now();
        self.read(move |c| queries::due(c, now, limit)).await
    }

    /// When the next waiting email falls due, if any waits.
    pub async fn next_due(&self) -> Result<Option<i64>, Error> {
        self.read(queries::next_due).await
    }

    /// Recounts waiting and failed emails from the database.
    pub async fn recount(&self) -> Result<(), Error> {
        let this = self.clone();
        tokio::task::spawn_blocking(move || this.recount_blocking())
            .await
            .map_err(Storage::Task)?
    }

    /// [`Store::recount`] on the calling thread.
    pub(crate) fn recount_blocking(&self) -> Result<(), Error> {
        let conn = self.reader.lock().unwrap_or_else(|p| p.into_inner());
        let (pending, failed) = queries::outbox_counts(&conn)?;
        self.counters.pending.store(pending, Ordering::Relaxed);
        self.counters.failed.store(failed, Ordering::Relaxed);
        Ok(())
    }

    /// Runs `f` on the read connection, off the async threads.
    pub async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, Error> + Send + 'static,
    ) -> Result<T, Error> {
        let reader = self.reader.clone();
        tokio::task::spawn_blocking(move || {
            let conn = reader.lock().unwrap_or_else(|p| p.into_inner());
            f(&conn)
        })
        .await
        .map_err(Storage::Task)?
    }

    /// The counts behind `/health`.
    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// The counters, shared (for tasks that outlive a borrow).
    pub fn counters_arc(&self) -> Arc<Counters> {
        self.counters.clone()
    }

    /// Signalled after a commit that queued mail.
    pub fn mail_queued(&self) -> &Notify {
        &self.mail_queued
    }

    /// The clock the store stamps rows with.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }
}
