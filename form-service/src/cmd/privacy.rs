//! `purge` (retention) and `forget` (one person's erasure). Both delete from the
//! database, whose deleted pages are overwritten (`secure_delete`), and `forget` also
//! deletes the `.eml` files written for that person's submissions.

use std::path::Path;

use crate::settings::Overrides;
use crate::store;
use crate::{Clock, Error, Settings};

pub(super) fn purge(config: &Path, data_dir: &Path, older_than: Option<u32>) -> Result<(), Error> {
    let days = match older_than {
        Some(d) => d,
        None => Settings::load(config, Overrides::default())?
            .site
            .form_service
            .retention_days
            .ok_or_else(|| {
                Error::Usage(
                    "give --older-than DAYS, or set form_service.retention_days in the config"
                        .into(),
                )
            })?,
    };
    let before = Clock::default().now() - i64::from(days) * 86_400;
    let mut conn = store::schema::open(data_dir)?;
    let (subs, mails) = store::purge(&mut conn, before)?;
    super::print(&format!(
        "Purged {subs} submission(s) received before {} ({days} days ago) and {mails} email(s) about them.\n",
        super::utc(before)
    ))
}

pub(super) fn forget(data_dir: &Path, email: &str) -> Result<(), Error> {
    if !email.contains('@') {
        return Err(Error::Usage(format!("`{email}` is not an email address")));
    }
    let mut conn = store::schema::open(data_dir)?;
    let gone = store::forget(&mut conn, email)?;
    let mut files = 0;
    let mail_dir = data_dir.join("mail");
    if let Ok(entries) = std::fs::read_dir(&mail_dir) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if gone
                .submissions
                .iter()
                .any(|(id, _, _)| name.starts_with(&format!("{id}-")))
            {
                std::fs::remove_file(entry.path()).map_err(|e| Error::io(entry.path(), e))?;
                files += 1;
            }
        }
    }
    let mut report = format!(
        "Erased {} submission(s) from {}",
        gone.submissions.len(),
        email.trim()
    );
    if gone.submissions.is_empty() {
        report.push_str(" (none were stored)");
    }
    report.push_str(":\n");
    for (id, form, at) in &gone.submissions {
        report.push_str(&format!("  {form} {id}, received {}\n", super::utc(*at)));
    }
    report.push_str(&format!(
        "and {} email(s) about them or to them from the outbox, and {files} .eml file(s) from {}.\n\
         Copies already delivered to staff mailboxes are not reachable from here: delete those by hand.\n",
        gone.emails,
        mail_dir.display()
    ));
    super::print(&report)
}
