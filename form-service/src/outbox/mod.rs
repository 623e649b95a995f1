//! The outbox worker: sends queued email, retries with exponential backoff and jitter,
//! and gives up (loudly) after the configured time.
//!
//! It reads due rows, delivers them one by one, and records the results through the
//! store's writer. It wakes when a commit queues mail, when a retry falls due, and at
//! least every `IDLE_CHECK` (the `outbox retry` command runs in another process).

pub mod message;
mod transport;

use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use transport::{without_addresses, Failure, Mailer};

use crate::store::{Delivery, QueuedMail, Store};

/// Longest sleep between looks at the database.
const IDLE_CHECK: Duration = Duration::from_secs(15);
/// Emails taken per look.
const CHUNK: usize = 64;
/// First retry after about this long; each further failure doubles it.
const FIRST_BACKOFF: i64 = 60;
/// Retries are never further apart than this.
const MAX_BACKOFF: i64 = 3600;

/// Starts the worker; it stops when `shutdown` turns true.
pub fn spawn(store: Store, mailer: Arc<Mailer>, shutdown: watch::Receiver<bool>) -> JoinHandle<()> {
    tokio::spawn(run(store, mailer, shutdown))
}

async fn run(store: Store, mailer: Arc<Mailer>, mut shutdown: watch::Receiver<bool>) {
    loop {
        if *shutdown.borrow() {
            return;
        }
        match store.due(CHUNK).await {
            Ok(due) if !due.is_empty() => {
                let sent = mailer.send_all(due).await;
                let now = store.clock().now();
                let results: Vec<Delivery> = sent
                    .into_iter()
                    .map(|(m, outcome)| judge(&m, outcome, now))
                    .collect();
                if let Err(e) = store.record(results).await {
                    tracing::error!(error = %e, "could not record deliveries");
                    pause(&mut shutdown, Duration::from_secs(5)).await;
                }
                continue;
            }
            Ok(_) => {}
            Err(e) => {
                tracing::error!(error = %e, "could not read the outbox");
                pause(&mut shutdown, Duration::from_secs(5)).await;
                continue;
            }
        }
        if let Err(e) = store.recount().await {
            tracing::warn!(error = %e, "could not count the outbox");
        }
        let wait = match store.next_due().await {
            Ok(Some(at)) => {
                let secs = (at - store.clock().now()).clamp(0, IDLE_CHECK.as_secs() as i64);
                Duration::from_secs(secs as u64)
            }
            _ => IDLE_CHECK,
        };
        tokio::select! {
            _ = store.mail_queued().notified() => {}
            _ = tokio::time::sleep(wait) => {}
            _ = shutdown.changed() => {}
        }
    }
}

async fn pause(shutdown: &mut watch::Receiver<bool>, d: Duration) {
    tokio::select! {
        _ = tokio::time::sleep(d) => {}
        _ = shutdown.changed() => {}
    }
}

/// What to record for one attempt.
fn judge(m: &QueuedMail, outcome: Result<(), Failure>, now: i64) -> Delivery {
    match outcome {
        Ok(()) => {
            tracing::info!(outbox_id = m.id, kind = %m.kind, "email delivered");
            Delivery::Sent { id: m.id }
        }
        Err(Failure {
            error,
            permanent: true,
        }) => {
            // Retrying a 5xx only repeats the refusal (and looks like spam to the
            // server): stop now, and let staff see it (`outbox`, `/health`).
            tracing::error!(
                outbox_id = m.id,
                kind = %m.kind,
                attempts = m.attempts + 1,
                error = %error,
                "EMAIL REJECTED: the mail server refused it for good; see `form-service outbox`, \
                 fix the address or the mail settings, then run `form-service outbox retry {}`",
                m.id
            );
            Delivery::Failed { id: m.id, error }
        }
        Err(Failure { error, .. }) if now >= m.give_up_at => {
            tracing::error!(
                outbox_id = m.id,
                kind = %m.kind,
                attempts = m.attempts + 1,
                error = %error,
                "EMAIL GIVEN UP: not delivered before its retry time ran out; \
                 fix the mail settings, then run `form-service outbox retry {}`",
                m.id
            );
            Delivery::Failed { id: m.id, error }
        }
        Err(Failure { error, .. }) => {
            let delay = backoff(m.attempts, &mut rand::thread_rng());
            let next_attempt_at = (now + delay).min(m.give_up_at);
            tracing::warn!(
                outbox_id = m.id,
                attempts = m.attempts + 1,
                retry_in_seconds = next_attempt_at - now,
                error = %error,
                "email not delivered; will retry"
            );
            Delivery::Retry {
                id: m.id,
                next_attempt_at,
                error,
            }
        }
    }
}

/// Seconds to wait after the `attempts + 1`-th failure: doubling from a minute up to an
/// hour, then a random point in the upper half of that, so a crowd of queued emails
/// does not hit a recovering server all at once.
fn backoff(attempts: i64, rng: &mut impl Rng) -> i64 {
    let exp = attempts.clamp(0, 20) as u32;
    let full = FIRST_BACKOFF.saturating_mul(1i64 << exp).min(MAX_BACKOFF);
    rng.gen_range(full / 2..=full)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mail(attempts: i64, give_up_at: i64) -> QueuedMail {
        QueuedMail {
            id: 7,
            submission: None,
            kind: "staff".into(),
            envelope_from: "a@b.example".into(),
            envelope_to: "c@d.example".into(),
            message: Vec::new(),
            attempts,
            give_up_at,
        }
    }

    #[test]
    fn backoff_doubles_with_jitter_and_a_ceiling() {
        let mut rng = rand::thread_rng();
        for _ in 0..100 {
            let first = backoff(0, &mut rng);
            assert!((30..=60).contains(&first), "{first}");
            let third = backoff(2, &mut rng);
            assert!((120..=240).contains(&third), "{third}");
            let late = backoff(50, &mut rng);
            assert!((1800..=3600).contains(&late), "{late}");
        }
    }

    fn busy() -> Result<(), Failure> {
        Err(Failure {
            error: "421 busy".into(),
            permanent: false,
        })
    }

    #[test]
    fn a_permanent_refusal_fails_at_once() {
        let refused = Err(Failure {
            error: "550 no such user".into(),
            permanent: true,
        });
        assert!(matches!(
            judge(&mail(0, 1_000_000), refused, 1000),
            Delivery::Failed { id: 7, .. }
        ));
    }

    #[test]
    fn failures_retry_until_the_deadline_then_fail() {
        let d = judge(&mail(0, 1_000_000), busy(), 1000);
        assert!(
            matches!(d, Delivery::Retry { next_attempt_at, .. } if (1030..=1060).contains(&next_attempt_at))
        );
        // The last retry is never scheduled past the deadline...
        let d = judge(&mail(30, 1100), busy(), 1000);
        assert!(matches!(
            d,
            Delivery::Retry {
                next_attempt_at: 1100,
                ..
            }
        ));
        // ...and a failure at or after it is final.
        let d = judge(&mail(31, 1100), busy(), 1100);
        assert!(matches!(d, Delivery::Failed { .. }));
        assert!(matches!(
            judge(&mail(3, 0), Ok(()), 5),
            Delivery::Sent { id: 7 }
        ));
    }
}
