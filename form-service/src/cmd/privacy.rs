//! `purge` (retention) and `forget` (one person's erasure). Both delete from the
//! database, whose deleted pages are overwritten (`secure_delete`), and `forget` also
//! deletes the `.eml` files written for that person's submissions.

use std::path::Path;

use crate::settings::Overrides;
use crate::{members, store};
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
    let m = members::privacy::purge(&mut conn, Clock::default().now())?;
    super::print(&format!(
        "Purged {subs} submission(s) received before {} ({days} days ago) and {mails} email(s) about them.\n\
         Removed {} registration(s) never confirmed, {} spent or expired link(s) and {} ended session(s).\n",
        super::utc(before),
        m.unconfirmed,
        m.links,
        m.sessions
    ))
}

pub(super) fn forget(data_dir: &Path, email: &str) -> Result<(), Error> {
    if !email.contains('@') {
        return Err(Error::Usage(format!("`{email}` is not an email address")));
    }
    let mut conn = store::schema::open(data_dir)?;
    let gone = store::forget(&mut conn, email)?;
    let member = members::privacy::forget(&mut conn, email)?;
    let mut files = 0;
    let mail_dir = data_dir.join("mail");
    if let Ok(entries) = std::fs::read_dir(&mail_dir) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let about_them = gone
                .submissions
                .iter()
                .any(|(id, _, _)| name.starts_with(&format!("{id}-")));
            if about_them || (name.ends_with(".eml") && addressed_to(&entry.path(), email)) {
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
    if member.account {
        report.push_str(&format!(
            "their loyalty-programme account, with {} ledger row(s) and {} link(s) or session(s),\n",
            member.ledger_rows, member.tokens
        ));
    } else {
        report.push_str("no loyalty-programme account (there was none),\n");
    }
    report.push_str(&format!(
        "and {} email(s) about them or to them from the outbox, and {files} .eml file(s) from {}.\n\
         Copies already delivered to staff mailboxes are not reachable from here: delete those by hand.\n",
        gone.emails,
        mail_dir.display()
    ));
    super::print(&report)
}

/// True when the `.eml` file's `To:` header names `email` (any case): the programme's
/// emails to a member are not filed under a submission.
fn addressed_to(path: &Path, email: &str) -> bool {
    let Ok(bytes) = std::fs::read(path) else {
        return false;
    };
    let text = String::from_utf8_lossy(&bytes);
    let headers = text.split("\r\n\r\n").next().unwrap_or("");
    let wanted = email.trim().to_lowercase();
    headers
        .split("\r\n")
        .filter(|l| l.get(..3).is_some_and(|p| p.eq_ignore_ascii_case("to:")))
        .any(|l| l.to_lowercase().contains(&wanted))
}
