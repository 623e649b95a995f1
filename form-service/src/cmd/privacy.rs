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
    let purged = store::purge(&mut conn, before)?;
    let now = Clock::default().now();
    let m = members::privacy::purge(&mut conn, now)?;
    let held_before = Settings::load(config, Overrides::default())
        .map(|s| now - i64::from(s.loyalty().confirm_link_hours) * 3600)
        .unwrap_or(now - 48 * 3600);
    let gone = comments::purge(&mut conn, before, held_before)?;
    let cutoff = std::time::UNIX_EPOCH + std::time::Duration::from_secs(before.max(0) as u64);
    let files = remove_mail_files(data_dir, |path, name| {
        of_rows(name, &purged.emails)
            || std::fs::metadata(path)
                .and_then(|m| m.modified())
                .is_ok_and(|t| t < cutoff)
    })?;
    super::print(&format!(
        "Purged {} submission(s) received before {} ({days} days ago), {} email(s) from the outbox \
         (about them, or queued before then) and {files} .eml file(s) written before then.\n\
         Removed {} registration(s) never confirmed, {} spent or expired link(s), {} ended session(s), \
         and {gone} comment(s) rejected before then or never confirmed by their author.\n",
        purged.submissions,
        super::utc(before),
        purged.emails.len(),
        m.unconfirmed,
        m.links,
        m.sessions
    ))
}

/// Whether a `.eml` file was written for one of these outbox rows
/// (`<submission>-<kind>-<id>.eml`).
fn of_rows(name: &str, ids: &[i64]) -> bool {
    name.strip_suffix(".eml")
        .and_then(|n| n.rsplit_once('-'))
        .and_then(|(_, id)| id.parse::<i64>().ok())
        .is_some_and(|id| ids.contains(&id))
}

/// Deletes the `.eml` files in the data folder's mail folder for which `doomed` says
/// so; returns how many.
fn remove_mail_files(
    data_dir: &Path,
    doomed: impl Fn(&Path, &str) -> bool,
) -> Result<usize, Error> {
    let mut files = 0;
    let Ok(entries) = std::fs::read_dir(data_dir.join("mail")) else {
        return Ok(0);
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".eml") && doomed(&entry.path(), &name) {
            std::fs::remove_file(entry.path()).map_err(|e| Error::io(entry.path(), e))?;
            files += 1;
        }
    }
    Ok(files)
}

pub(super) fn forget(config: &Path, data_dir: &Path, email: &str) -> Result<(), Error> {
    if !email.contains('@') {
        return Err(Error::Usage(format!("`{email}` is not an email address")));
    }
    let mut conn = store::schema::open(data_dir)?;
    let gone = store::forget(&mut conn, email)?;
    let member = members::privacy::forget(&mut conn, email)?;
    let mail_dir = data_dir.join("mail");
    let files = remove_mail_files(data_dir, |path, name| {
        gone.submissions
            .iter()
            .any(|(id, _, _)| name.starts_with(&format!("{id}-")))
            || of_rows(name, &gone.emails)
            || names(path, email)
    })?;
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
        gone.emails.len(),
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

/// True when the `.eml` file's `To`, `Cc` or `Reply-To` names `email` (any case). The
/// headers are read by a MIME parser, so a folded or RFC 2047-encoded header is read as
/// a mail program shows it.
fn names(path: &Path, email: &str) -> bool {
    let Ok(bytes) = std::fs::read(path) else {
        return false;
    };
    let wanted = email.trim().to_lowercase();
    let Some(message) = mail_parser::MessageParser::default().parse_headers(&bytes) else {
        return false;
    };
    let found = [message.to(), message.cc(), message.reply_to()]
        .into_iter()
        .flatten()
        .flat_map(|a| a.iter())
        .filter_map(|a| a.address())
        .any(|a| a.trim().to_lowercase() == wanted);
    found
}
