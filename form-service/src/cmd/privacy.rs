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
    // With --older-than the config is only read for the outbox's window and the held
    // comments' wait, which have defaults; without, its retention_days is needed.
    let settings = match older_than {
        Some(_) => Settings::load(config, Overrides::default()).ok(),
        None => Some(Settings::load(config, Overrides::default())?),
    };
    let days = match older_than {
        Some(d) => d,
        None => settings
            .as_ref()
            .and_then(|s| s.site.form_service.retention_days)
            .ok_or_else(|| Error::from(Usage::NoRetention))?,
    };
    let hours = settings.as_ref().map_or_else(
        || site_config::FormServiceConfig::default().outbox_retry_hours,
        |s| s.site.form_service.outbox_retry_hours,
    );
    check_window(days, hours)?;
    let confirm_link_hours = settings
        .as_ref()
        .map_or(48, |s| s.loyalty().confirm_link_hours);
    let mut conn = super::open_db(data_dir)?;
    let p = retention::purge(
        &mut conn,
        data_dir,
        Clock::default().now(),
        days,
        confirm_link_hours,
    )?;
    let mut report = format!(
        "Purged {} submission(s) received before {} ({days} day{} ago), {} email(s) from the outbox \
         (about them, or queued before then) and {} .eml file(s) written before then.\n\
         Removed {} registration(s) never confirmed, {} spent or expired link(s), {} ended session(s), \
         and {} comment(s) rejected before then or never confirmed by their author.\n",
        p.submissions,
        super::utc(p.before),
        if days == 1 { "" } else { "s" },
        p.emails,
        p.files,
        p.unconfirmed,
        p.links,
        p.sessions,
        p.comments
    );
    if p.undelivered > 0 {
        report.push_str(&format!(
            "Kept {} older submission(s) whose staff email is still waiting to be sent: \
             staff have not received them yet (see `form-service outbox list`).\n",
            p.undelivered
        ));
    }
    super::print(&report)
}

/// Refuses a purge that could delete a request before the outbox stops retrying its
/// staff email (`check` refuses such a `retention_days` for the same reason).
fn check_window(days: u32, retry_hours: u32) -> Result<(), Usage> {
    if u64::from(days) * 24 < u64::from(retry_hours) {
        return Err(Usage::PurgeWithinRetry {
            days,
            hours: retry_hours,
            min: retry_hours.div_ceil(24),
        });
    }
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_purge_shorter_than_the_retry_window_is_refused() {
        let e = check_window(0, 48).unwrap_err();
        assert!(matches!(
            e,
            Usage::PurgeWithinRetry {
                days: 0,
                hours: 48,
                min: 2
            }
        ));
        assert!(
            e.to_string().contains("outbox_retry_hours: 48 hours"),
            "{e}"
        );
        assert!(check_window(1, 48).is_err());
        assert!(check_window(2, 48).is_ok());
        assert!(check_window(1, 24).is_ok());
        assert!(check_window(2, 49).is_err());
    }
}
