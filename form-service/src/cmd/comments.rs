//! `form-service comments ...`: staff moderate from the command line, as from their
//! inbox, and publish. Each decision writes the comments file and runs the publish
//! command at once; the member's email goes out through the running service's outbox.

use crate::error::Usage;
use std::fmt::Write;
use std::path::Path;

use crate::cli::CommentsAction;
use crate::comments::publish::{comments_file, publish_blocking};
use crate::comments::{self, Comment, Decision, Status};
use crate::settings::Overrides;
use crate::store::run_alone;
use crate::{Clock, Error, Settings};

fn find(c: &rusqlite::Connection, id: &str) -> Result<Comment, Error> {
    comments::by_public_id(c, id)?.ok_or_else(|| Usage::NoComment(id.trim().to_string()).into())
}

pub(super) fn run(config: &Path, data_dir: &Path, action: CommentsAction) -> Result<(), Error> {
    let s = Settings::load(config, Overrides::default())?;
    let mut conn = super::open_db(data_dir)?;
    match action {
        CommentsAction::List { all } => {
            let rows = comments::list(&conn, (!all).then_some(Status::Pending))?;
            if rows.is_empty() {
                return super::print(if all {
                    "There are no comments.\n"
                } else {
                    "No comments wait for moderation.\n"
                });
            }
            let mut out = String::from("id\tstatus\tposted\tpage\tauthor\tflags\tstart of text\n");
            for c in &rows {
                let start: String = c.body.chars().take(60).collect();
                let _ = writeln!(
                    out,
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    c.public_id,
                    c.status.as_str(),
                    super::local_day(&s, c.created_at),
                    c.page,
                    c.author,
                    if c.flags.is_empty() { "-" } else { &c.flags },
                    start.replace(['\n', '\r', '\t'], " ")
                );
            }
            super::print(&out)
        }
        CommentsAction::Show { id } => {
            let c = find(&conn, &id)?;
            let m = comments::author(&conn, &c)?;
            let mut out = format!(
                "comment {}\nstatus: {}\npage: {}\nauthor: {}{}\nposted: {}\n",
                c.public_id,
                c.status.as_str(),
                s.site_url(&c.page),
                c.author,
                m.map(|m| format!(" ({}, {})", m.name, m.email))
                    .unwrap_or_default(),
                super::local_day(&s, c.created_at)
            );
            if !c.flags.is_empty() {
                let _ = writeln!(out, "check: it {}", c.flags.replace(", ", " and "));
            }
            if let Some(r) = &c.reason {
                let _ = writeln!(out, "rejected: {r}");
            }
            if let Some(by) = &c.decided_by {
                let _ = writeln!(out, "decided by: {by}");
            }
            let _ = write!(out, "\n{}\n", c.body);
            if let Some(r) = &c.reply {
                let _ = write!(out, "\nreply from the clinic:\n{r}\n");
            }
            super::print(&out)
        }
        CommentsAction::Approve { id } => decide(&s, &mut conn, data_dir, &id, Decision::Approve),
        CommentsAction::Reject { id, reason } => {
            let reasons = &s.site.comments.reject_reasons;
            let chosen = match reason.trim().parse::<usize>() {
                Ok(n) if (1..=reasons.len()).contains(&n) => reasons[n - 1].clone(),
                _ => return Err(Usage::RejectReason(reasons.clone()).into()),
            };
            decide(&s, &mut conn, data_dir, &id, Decision::Reject(chosen))
        }
        CommentsAction::Reply { id, text } => {
            if text.trim().is_empty() || crate::comments::reply_too_long(&text) {
                return Err(Usage::ReplyText.into());
            }
            decide(&s, &mut conn, data_dir, &id, Decision::Reply(text))
        }
        CommentsAction::Export { output } => {
            let day = |at: i64| {
                jiff::Timestamp::from_second(at).map_or_else(
                    |_| at.to_string(),
                    |t| t.to_zoned_datetime(s.tz.clone()).date().to_string(),
                )
            };
            let file = comments::export(&conn, &day)?;
            let path = output.unwrap_or_else(|| comments_file(data_dir));
            file.save(&path).map_err(|e| Error::io(&path, e))?;
            super::print(&format!(
                "Wrote {} approved comment(s) to {}.\n",
                file.comments.len(),
                path.display()
            ))
        }
        CommentsAction::Publish => publish(&s, data_dir),
    }
}

fn decide(
    s: &Settings,
    conn: &mut rusqlite::Connection,
    data_dir: &Path,
    id: &str,
    d: Decision,
) -> Result<(), Error> {
    let c = find(conn, id)?;
    let retry = s.retry_for.as_secs() as i64;
    let decided = run_alone(conn, Clock::default().now(), retry, |tx| {
        let was = c.status;
        let decided = comments::decide(tx, c.id, &d, &super::members::login_actor())?;
        if was == Status::Pending {
            if let Some(m) = comments::author(tx.conn, &decided)? {
                tx.queue_mail(&comments::mail::decided(s, &decided, &m)?)?;
            }
        }
        Ok(decided)
    })?;
    super::print(&format!(
        "Comment {} is now {}.\n",
        decided.public_id,
        decided.status.as_str()
    ))?;
    publish(s, data_dir)
}

fn publish(s: &Settings, data_dir: &Path) -> Result<(), Error> {
    let p = publish_blocking(s, data_dir)?;
    let mut out = format!(
        "Wrote {} approved comment(s) to {}.\n",
        p.comments,
        comments_file(data_dir).display()
    );
    match p.output {
        Some(o) => {
            out.push_str("The publish command ran:\n");
            out.push_str(&o);
        }
        None => out.push_str(
            "No comments.publish_command is set: build and upload the site to publish them \
             (see the README).\n",
        ),
    }
    super::print(&out)
}
