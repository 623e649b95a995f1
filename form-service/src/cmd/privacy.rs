//! `purge` (retention) and `forget` (one person's erasure). Both delete from the
//! database, whose deleted pages are overwritten (`secure_delete`), and `forget` also
//! deletes the `.eml` files written for that person's submissions.

use std::path::Path;

use crate::settings::Overrides;
use crate::{comments, members, store};
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
    let now = Clock::default().now();
    let m = members::privacy::purge(&mut conn, now)?;
    let held_before = Settings::load(config, Overrides::default())
        .map(|s| now - i64::from(s.loyalty().confirm_link_hours) * 3600)
        .unwrap_or(now - 48 * 3600);
    let gone = comments::purge(&mut conn, before, held_before)?;
    super::print(&format!(
        "Purged {subs} submission(s) received before {} ({days} days ago) and {mails} email(s) about them.\n\
         Removed {} registration(s) never confirmed, {} spent or expired link(s), {} ended session(s), \
         and {gone} comment(s) rejected before then or never confirmed by their author.\n",
        super::utc(before),
        m.unconfirmed,
        m.links,
        m.sessions
    ))
}

pub(super) fn forget(config: &Path, data_dir: &Path, email: &str) -> Result<(), Error> {
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
            "their loyalty-programme account, with {} ledger row(s), {} link(s) or session(s) and {} comment(s),\n",
            member.ledger_rows, member.tokens, member.comments.0
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
    super::print(&report)?;
    if member.comments.1 > 0 {
        let settings = Settings::load(config, Overrides::default())?;
        let p = comments::publish::publish_blocking(&settings, data_dir)?;
        super::print(&format!(
            "Their {} published comment(s) are gone from {} ({} left){}.\n",
            member.comments.1,
            comments::publish::comments_file(data_dir).display(),
            p.comments,
            if p.output.is_some() {
                "; the publish command ran"
            } else {
                "; publish the site to take them off it"
            }
        ))?;
    }
    Ok(())
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
