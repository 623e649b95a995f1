//! `form-service outbox [list | retry ID | retry-failed]`: what waits or failed, and
//! sending it again. A running service picks retried emails up within seconds.

use crate::error::Usage;
use std::path::Path;

use crate::cli::OutboxAction;
use crate::settings::Overrides;
use crate::store::{self, RetryWhich};
use crate::{Clock, Error, Settings};

pub(super) fn run(
    config: &Path,
    data_dir: &Path,
    action: Option<OutboxAction>,
) -> Result<(), Error> {
    let conn = super::open_db(data_dir)?;
    match action.unwrap_or(OutboxAction::List) {
        OutboxAction::List => {
            let rows = store::list_outbox(&conn)?;
            if rows.is_empty() {
                return super::print("No emails are waiting or failed.\n");
            }
            let mut out = String::from(
                "id\tstatus\tkind\tattempts\tqueued\tnext try\tto\tsubject\tlast error\n",
            );
            for r in rows {
                out.push_str(&format!(
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\n",
                    r.id,
                    r.status,
                    r.kind,
                    r.attempts,
                    super::utc(r.created_at),
                    if r.status == "pending" {
                        super::utc(r.next_attempt_at)
                    } else {
                        "-".into()
                    },
                    r.to,
                    r.subject,
                    r.last_error
                        .as_deref()
                        .unwrap_or("-")
                        .replace(['\n', '\r', '\t'], " ")
                ));
            }
            super::print(&out)
        }
        OutboxAction::Retry { id } => {
            let n = store::retry(
                &conn,
                &RetryWhich::One(id),
                Clock::default().now(),
                retry_seconds(config),
            )?;
            if n == 0 {
                return Err(Usage::NoEmail(id).into());
            }
            super::print(&format!(
                "Email {id} will be sent again by the running service.\n"
            ))
        }
        OutboxAction::RetryFailed => {
            let n = store::retry(
                &conn,
                &RetryWhich::Failed,
                Clock::default().now(),
                retry_seconds(config),
            )?;
            super::print(&format!(
                "{n} failed email(s) will be sent again by the running service.\n"
            ))
        }
    }
}

/// How long a retried email gets: the config's, or the default when it cannot be read.
fn retry_seconds(config: &Path) -> i64 {
    Settings::load(config, Overrides::default())
        .map(|s| s.retry_for.as_secs() as i64)
        .unwrap_or(48 * 3600)
}
