//! [`Tx`]: one transaction as the loyalty programme and comments see it, whether the
//! service's writer thread runs it inside a batch or a staff command runs it alone.

use rusqlite::{Connection, TransactionBehavior};

use super::writer::{queue, settle_unsent, Effect};
use super::{NewMail, StoreOptions};
use crate::Error;

/// An open transaction, the time it runs at, and the mail it queues.
pub struct Tx<'a> {
    /// The connection, inside the transaction.
    pub conn: &'a Connection,
    /// Seconds since the epoch; every row it writes carries this time.
    pub now: i64,
    options: &'a StoreOptions,
    effect: &'a mut Effect,
}

impl<'a> Tx<'a> {
    pub(super) fn new(
        conn: &'a Connection,
        now: i64,
        options: &'a StoreOptions,
        effect: &'a mut Effect,
    ) -> Self {
        Tx {
            conn,
            now,
            options,
            effect,
        }
    }

    /// Queues an email in the outbox; it goes out after the commit.
    pub fn queue_mail(&mut self, m: &NewMail) -> Result<(), Error> {
        queue(self.conn, None::<i64>, m, self.now, self.options)?;
        self.effect.pending_delta += 1;
        self.effect.queued_mail = true;
        Ok(())
    }

    /// Does the work of [`Tx::queue_mail`] for `m` without keeping or sending it: the
    /// outbox row is settled at once, with no recipient, subject or body. An answer
    /// that must not tell whether an email went out writes this instead.
    pub fn settle_unsent(&mut self, m: &NewMail) -> Result<(), Error> {
        settle_unsent(self.conn, m, self.now)?;
        // The sender wakes as it would for a real email, and finds nothing to do.
        self.effect.queued_mail = true;
        Ok(())
    }
}

/// Runs `f` in one immediate transaction on `conn` (a staff command's own connection)
/// and commits it if `f` succeeds. Queued mail is sent by the running service.
pub fn run_alone<T>(
    conn: &mut Connection,
    now: i64,
    retry_seconds: i64,
    f: impl FnOnce(&mut Tx<'_>) -> Result<T, Error>,
) -> Result<T, Error> {
    let options = StoreOptions {
        dedupe_seconds: 0,
        retry_seconds,
        acknowledgement_seconds: 0,
    };
    let mut effect = Effect::default();
    let t = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let out = f(&mut Tx::new(&t, now, &options, &mut effect))?;
    t.commit()?;
    Ok(out)
}
