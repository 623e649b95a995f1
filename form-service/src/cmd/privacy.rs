//! `purge` (retention) and `forget` (one person's erasure). Both delete from the
//! database, whose deleted pages are overwritten (`secure_delete`), and `forget` also
//! deletes the `.eml` files written for that person's submissions.
//! `purge` runs `crate::retention::purge`, which the service also runs by itself daily.

use crate::error::Usage;
use std::path::Path;

use crate::retention::{of_rows, remove_mail_files};
use crate::settings::Overrides;
use crate::{comments, members, retention, store};
use crate::{Clock, Error, Settings};

pub(super) fn purge(config: &Path, data_dir: &Path, older_than: Option<u32>) -> Result<(), Error> {
    let days = match older_than {
        Some(d) => d,
        None => Settings::load(config, Overrides::default())?
            .site
            .form_service
            .retention_days
            .ok_or_else(|| Error::from(Usage::NoRetention))?,
    };
    let confirm_link_hours = Settings::load(config, Overrides::default())
        .map(|s| s.loyalty().confirm_link_hours)
        .unwrap_or(48);
    let mut conn = super::open_db(data_dir)?;
    let p = retention::purge(
        &mut conn,
        data_dir,
        Clock::default().now(),
        days,
        confirm_link_hours,
    )?;
    super::print(&format!(
        "Purged {} submission(s) received before {} ({days} days ago), {} email(s) from the outbox \
         (about them, or queued before then) and {} .eml file(s) written before then.\n\
         Removed {} registration(s) never confirmed, {} spent or expired link(s), {} ended session(s), \
         and {} comment(s) rejected before then or never confirmed by their author.\n",
        p.submissions,
        super::utc(p.before),
        p.emails,
        p.files,
        p.unconfirmed,
        p.links,
        p.sessions,
        p.comments
    ))
}

pub(super) fn forget(config: &Path, data_dir: &Path, email: &str) -> Result<(), Error> {
    if !email.contains('@') {
        return Err(Usage::NotAnEmail(email.to_string()).into());
    }
    let mut conn = super::open_db(data_dir)?;
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
    let Some(message) = mail_parser::MessageParser::default().parse_headers(&bytes) else {
        return false;
    };
    let found = [message.to(), message.cc(), message.reply_to()]
        .into_iter()
        .flatten()
        .flat_map(|a| a.iter())
        .filter_map(|a| a.address())
        .any(|a| crate::address::same(a, email));
    found
}
