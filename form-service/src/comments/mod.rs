//! Members' comments on service pages: posted (straight to moderation when signed in,
//! held until the emailed link is followed otherwise), moderated by staff from their
//! inbox or the command line, and published with the site through the comments file.
//!
//! Plain functions over a transaction, like `members`; `http::comments` and
//! `cmd::comments` are the thin layers in front. Comment text never reaches the log.
//! `posting` takes a comment from its post to staff, `moderation` applies what staff
//! chose on an emailed link's page, `mail` writes the emails, `publish` the site's file.

pub mod mail;
mod moderation;
mod posting;
pub mod publish;

pub use moderation::{moderate, reason_at, reply_too_long, Choice, REPLY_LIMIT};
pub use posting::{
    hold_signed_out, post_signed_in, queue_for_staff, send_held, signed_out_problems, Held, SentOn,
};

use rusqlite::{params, Connection, OptionalExtension};
use site_config::{ClinicReply, CommentsFile, PublishedComment};

use crate::error::Refusal;
use crate::error::Storage;
use crate::links::{self, LinkProblem, NewLink, Purpose};
use crate::members::accounts::Member;
use crate::members::token::NewToken;
use crate::store::Tx;
use crate::{Error, Settings};

/// Where a comment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Waiting for its author to follow an emailed link.
    Held,
    /// Waiting for staff.
    Pending,
    /// Published.
    Approved,
    /// Not published.
    Rejected,
}

impl Status {
    /// The word stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Held => "held",
            Status::Pending => "pending",
            Status::Approved => "approved",
            Status::Rejected => "rejected",
        }
    }

    fn parse(s: &str) -> Status {
        match s {
            "held" => Status::Held,
            "pending" => Status::Pending,
            "approved" => Status::Approved,
            _ => Status::Rejected,
        }
    }
}

/// A comment as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    /// Row id.
    pub id: i64,
    /// Public id (anchor and CLI).
    pub public_id: String,
    /// Its author's account.
    pub member: i64,
    /// The service's slug.
    pub service: String,
    /// The service page's path.
    pub page: String,
    /// Display name.
    pub author: String,
    /// What they wrote.
    pub body: String,
    /// Where it stands.
    pub status: Status,
    /// Warnings for staff (`email address`, `phone number`).
    pub flags: String,
    /// Why it was rejected.
    pub reason: Option<String>,
    /// The clinic's reply.
    pub reply: Option<String>,
    /// When replied.
    pub replied_at: Option<i64>,
    /// When posted.
    pub created_at: i64,
    /// When it reached moderation.
    pub submitted_at: Option<i64>,
    /// Who decided it: the staff address signed in, or `staff:<login>` from the command line.
    pub decided_by: Option<String>,
}

const SELECT: &str = "SELECT id, public_id, member_id, service, page, author, body, status,
    flags, reason, reply, replied_at, created_at, submitted_at, decided_by FROM comments";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Comment> {
    Ok(Comment {
        id: r.get(0)?,
        public_id: r.get(1)?,
        member: r.get(2)?,
        service: r.get(3)?,
        page: r.get(4)?,
        author: r.get(5)?,
        body: r.get(6)?,
        status: Status::parse(&r.get::<_, String>(7)?),
        flags: r.get(8)?,
        reason: r.get(9)?,
        reply: r.get(10)?,
        replied_at: r.get(11)?,
        created_at: r.get(12)?,
        submitted_at: r.get(13)?,
        decided_by: r.get(14)?,
    })
}

/// The comment with this row id.
pub fn get(c: &Connection, id: i64) -> Result<Option<Comment>, Error> {
    Ok(c.prepare_cached(&format!("{SELECT} WHERE id = ?1"))?
        .query_row([id], row)
        .optional()?)
}

/// The comment with this public id.
pub fn by_public_id(c: &Connection, id: &str) -> Result<Option<Comment>, Error> {
    Ok(c.prepare_cached(&format!("{SELECT} WHERE public_id = ?1"))?
        .query_row([id.trim()], row)
        .optional()?)
}

/// Comments with `status` (all when `None`), oldest first.
pub fn list(c: &Connection, status: Option<Status>) -> Result<Vec<Comment>, Error> {
    let mut stmt = c.prepare(&format!(
        "{SELECT} WHERE ?1 IS NULL OR status = ?1 ORDER BY created_at, id"
    ))?;
    let rows = stmt.query_map([status.map(Status::as_str)], row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// A comment to store.
#[derive(Debug, Clone)]
pub struct NewComment {
    /// Public id.
    pub public_id: String,
    /// Service slug.
    pub service: String,
    /// Service page path.
    pub page: String,
    /// Display name.
    pub author: String,
    /// The text.
    pub body: String,
}

/// What posting did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Posted {
    /// Stored (held or pending); posted signed in, the same text held before (posted
    /// signed out, its link not followed) is sent on to moderation and counts as stored.
    /// Either way a pending one is new to staff.
    Stored(Comment),
    /// The same text on the same page from the same member was stored before.
    Duplicate(Comment),
    /// The member has reached the daily limit.
    OverLimit,
}

/// Hash that makes a repeated post (a double click, a resend) the same comment.
fn fingerprint(member: i64, page: &str, body: &str) -> [u8; 32] {
    let normal: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut h = blake3::Hasher::new();
    h.update(&member.to_le_bytes());
    h.update(page.as_bytes());
    h.update(&[0]);
    h.update(normal.to_lowercase().as_bytes());
    *h.finalize().as_bytes()
}

/// Stores a comment for `member`: `Pending` when they are signed in, `Held` until they
/// follow their link otherwise. The same text posted signed in after it was held sends
/// the held one to moderation (within the daily limit) and spends its link.
pub fn post(
    tx: &mut Tx<'_>,
    member: i64,
    new: &NewComment,
    status: Status,
    daily_limit: u32,
) -> Result<Posted, Error> {
    let fp = fingerprint(member, &new.page, &new.body);
    let earlier = tx
        .conn
        .prepare_cached(&format!(
            "{SELECT} WHERE fingerprint = ?1 AND status != 'rejected' ORDER BY id LIMIT 1"
        ))?
        .query_row([&fp[..]], row)
        .optional()?;
    if let Some(c) = earlier {
        if status == Status::Pending && c.status == Status::Held {
            return send_held_on(tx, &c, daily_limit);
        }
        return Ok(Posted::Duplicate(c));
    }
    if status != Status::Held && over_limit(tx, member, daily_limit)? {
        return Ok(Posted::OverLimit);
    }
    let submitted = (status == Status::Pending).then_some(tx.now);
    tx.conn.execute(
        "INSERT INTO comments (public_id, member_id, service, page, author, body, fingerprint,
                               status, flags, created_at, submitted_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        params![
            new.public_id,
            member,
            new.service,
            new.page,
            new.author,
            new.body,
            &fp[..],
            status.as_str(),
            flags(&new.body).join(", "),
            tx.now,
            submitted
        ],
    )?;
    let id = tx.conn.last_insert_rowid();
    let c = get(tx.conn, id)?.ok_or_else(|| Error::from(Storage::Vanished("comment")))?;
    Ok(Posted::Stored(c))
}

/// A held comment its author posted again signed in: it goes to moderation as a new
/// post would (within the daily limit), and its emailed link is spent.
fn send_held_on(tx: &mut Tx<'_>, c: &Comment, daily_limit: u32) -> Result<Posted, Error> {
    if over_limit(tx, c.member, daily_limit)? {
        return Ok(Posted::OverLimit);
    }
    tx.conn.execute(
        "UPDATE comments SET status = 'pending', submitted_at = ?2 WHERE id = ?1",
        params![c.id, tx.now],
    )?;
    links::spend_all_for(tx, c.id, &[Purpose::CommentConfirm])?;
    let c = get(tx.conn, c.id)?.ok_or_else(|| Error::from(Storage::Vanished("comment")))?;
    Ok(Posted::Stored(c))
}

/// True when `member` has sent `daily_limit` comments to moderation in the last 24
/// hours. Held comments, which their author never confirmed, do not count.
fn over_limit(tx: &Tx<'_>, member: i64, daily_limit: u32) -> Result<bool, Error> {
    let today: i64 = tx.conn.query_row(
        "SELECT count(*) FROM comments WHERE member_id = ?1 AND submitted_at > ?2",
        params![member, tx.now - 86_400],
        |r| r.get(0),
    )?;
    Ok(today >= i64::from(daily_limit))
}

/// A held comment's emailed link, stored: pressing its button releases that comment,
/// and only it.
pub fn confirm_link(
    tx: &Tx<'_>,
    c: &Comment,
    token: &NewToken,
    name: &str,
    lifetime: i64,
) -> Result<(), Error> {
    let mut l = NewLink::new(token, Purpose::CommentConfirm, Some(c.member), lifetime);
    l.subject = Some(c.id);
    l.name = Some(name);
    links::issue(tx, &l)
}

/// What pressing a held comment's button did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Released {
    /// The comment now waits for staff.
    Sent(Box<Comment>),
    /// The member has sent their day's comments already; it stays held.
    OverLimit,
}

/// Spends a held comment's link and moves that comment (only) to moderation; returns
/// the link (for the account it may confirm) and what happened.
pub fn release(
    tx: &mut Tx<'_>,
    token: &str,
    daily_limit: u32,
) -> Result<Result<(links::Link, Released), LinkProblem>, Error> {
    let link = match links::spend(tx, token, &[Purpose::CommentConfirm])? {
        Ok(l) => l,
        Err(p) => return Ok(Err(p)),
    };
    let Some(c) = link
        .subject
        .map(|id| get(tx.conn, id))
        .transpose()?
        .flatten()
    else {
        return Ok(Err(LinkProblem::Unknown));
    };
    if c.status != Status::Held || Some(c.member) != link.member {
        return Ok(Err(LinkProblem::Used));
    }
    if over_limit(tx, c.member, daily_limit)? {
        return Ok(Ok((link, Released::OverLimit)));
    }
    tx.conn.execute(
        "UPDATE comments SET status = 'pending', submitted_at = ?2 WHERE id = ?1",
        params![c.id, tx.now],
    )?;
    let c = get(tx.conn, c.id)?.ok_or_else(|| Error::from(Storage::Vanished("comment")))?;
    Ok(Ok((link, Released::Sent(Box::new(c)))))
}

/// A comment's three staff links, stored: their tokens, for the staff email.
#[derive(Debug, Clone)]
pub struct ModerationLinks {
    /// Publishes the comment.
    pub approve: NewToken,
    /// Rejects it, with a reason.
    pub reject: NewToken,
    /// Publishes it with the clinic's reply.
    pub reply: NewToken,
}

/// Stores the three staff links for a comment (approve, reject, reply).
pub fn moderation_links(
    tx: &mut Tx<'_>,
    c: &Comment,
    lifetime: i64,
) -> Result<ModerationLinks, Error> {
    let issue = |purpose: Purpose| -> Result<NewToken, Error> {
        let t = NewToken::generate();
        let mut l = NewLink::new(&t, purpose, Some(c.member), lifetime);
        l.subject = Some(c.id);
        links::issue(tx, &l)?;
        Ok(t)
    };
    Ok(ModerationLinks {
        approve: issue(Purpose::CommentApprove)?,
        reject: issue(Purpose::CommentReject)?,
        reply: issue(Purpose::CommentReply)?,
    })
}

/// The title of the service with `slug`, if the site has it.
pub fn service_title<'a>(s: &'a Settings, slug: &str) -> Option<&'a str> {
    s.services
        .iter()
        .find(|r| r.slug == slug)
        .map(|r| r.title.as_str())
}

/// Warnings for staff: text that looks like it holds an email address or a phone number.
pub fn flags(body: &str) -> Vec<&'static str> {
    let mut out = Vec::new();
    let email = body.split_whitespace().any(|w| {
        w.split_once('@')
            .is_some_and(|(a, b)| !a.is_empty() && b.contains('.') && !b.starts_with('.'))
    });
    if email {
        out.push("looks like it contains an email address");
    }
    // Seven or more digits in a run, allowing the separators people type.
    let mut digits = 0;
    let mut phone = false;
    for ch in body.chars() {
        if ch.is_ascii_digit() {
            digits += 1;
            phone |= digits >= 7;
        } else if !matches!(ch, ' ' | '-' | '.' | '(' | ')' | '+') {
            digits = 0;
        }
    }
    if phone {
        out.push("looks like it contains a phone number");
    }
    out
}

/// A staff decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Publish.
    Approve,
    /// Do not publish, for this reason (told to the member).
    Reject(String),
    /// Publish with the clinic's reply under it.
    Reply(String),
}

/// Applies a staff decision to a comment; returns it as it now stands. A rejected
/// comment cannot be approved or replied to, an approved one cannot be rejected, and
/// nothing held (not yet confirmed by its author) is decided.
/// `by` is who decided (a staff address, or `staff:<login>` from the command line).
pub fn decide(tx: &mut Tx<'_>, id: i64, d: &Decision, by: &str) -> Result<Comment, Error> {
    let c = get(tx.conn, id)?.ok_or_else(|| Refusal::NoComment(id.to_string()))?;
    match (c.status, d) {
        (Status::Held, _) => return Err(Refusal::CommentHeld(c.public_id).into()),
        (Status::Rejected, _) => return Err(Refusal::AlreadyRejected(c.public_id).into()),
        (Status::Approved, Decision::Approve | Decision::Reject(_)) => {
            return Err(Refusal::AlreadyApproved(c.public_id).into())
        }
        _ => {}
    }
    match d {
        Decision::Approve => tx.conn.execute(
            "UPDATE comments SET status = 'approved', decided_at = ?2, decided_by = ?3
             WHERE id = ?1",
            params![id, tx.now, by],
        )?,
        Decision::Reject(reason) => tx.conn.execute(
            "UPDATE comments SET status = 'rejected', reason = ?2, decided_at = ?3,
                    decided_by = ?4
             WHERE id = ?1",
            params![id, reason, tx.now, by],
        )?,
        Decision::Reply(text) => tx.conn.execute(
            "UPDATE comments SET status = 'approved', reply = ?2, replied_at = ?3,
                    decided_at = coalesce(decided_at, ?3), decided_by = ?4
             WHERE id = ?1",
            params![id, text.trim(), tx.now, by],
        )?,
    };
    // Approving or rejecting spends both of the pair's links.
    if !matches!(d, Decision::Reply(_)) {
        tx.conn.execute(
            "UPDATE links SET used_at = ?2 WHERE subject_id = ?1 AND used_at IS NULL
             AND purpose IN ('comment_approve', 'comment_reject')",
            params![id, tx.now],
        )?;
    }
    get(tx.conn, id)?.ok_or_else(|| Error::from(Storage::Vanished("comment")))
}

/// Uses a moderation link: the comment it acts on and what it does.
pub fn use_moderation_link(
    tx: &mut Tx<'_>,
    token: &str,
) -> Result<Result<(Purpose, Comment), LinkProblem>, Error> {
    let link = match links::spend(
        tx,
        token,
        &[
            Purpose::CommentApprove,
            Purpose::CommentReject,
            Purpose::CommentReply,
        ],
    )? {
        Ok(l) => l,
        Err(p) => return Ok(Err(p)),
    };
    match link
        .subject
        .map(|id| get(tx.conn, id))
        .transpose()?
        .flatten()
    {
        Some(c) => Ok(Ok((link.purpose, c))),
        None => Ok(Err(LinkProblem::Unknown)),
    }
}

/// The published comments file: approved comments by page, oldest first.
pub fn export(c: &Connection, day: &dyn Fn(i64) -> String) -> Result<CommentsFile, Error> {
    let mut stmt = c.prepare(&format!(
        "{SELECT} WHERE status = 'approved' ORDER BY page, coalesce(submitted_at, created_at), public_id"
    ))?;
    let rows = stmt.query_map([], row)?;
    let mut comments = Vec::new();
    for r in rows {
        let r = r?;
        comments.push(PublishedComment {
            id: r.public_id,
            page: r.page,
            author: r.author,
            posted: day(r.created_at),
            text: r.body,
            reply: r.reply.map(|text| ClinicReply {
                posted: day(r.replied_at.unwrap_or(r.created_at)),
                text,
            }),
        });
    }
    Ok(CommentsFile { comments })
}

/// Removes rejected comments decided before `before`, and held comments never
/// confirmed that were posted before `held_before`.
pub fn purge(c: &mut Connection, before: i64, held_before: i64) -> Result<usize, Error> {
    Ok(c.execute(
        "DELETE FROM comments WHERE (status = 'rejected' AND decided_at < ?1)
                                 OR (status = 'held' AND created_at < ?2)",
        params![before, held_before],
    )?)
}

/// Who wrote a comment.
pub fn author(c: &Connection, comment: &Comment) -> Result<Option<Member>, Error> {
    crate::members::accounts::by_id(c, comment.member)
}

/// A database in a temporary folder and the fixture site's settings, for tests of the
/// comments' rules without a server.
#[cfg(test)]
pub(crate) mod testing {
    use std::path::Path;

    use rusqlite::Connection;

    use super::NewComment;
    use crate::settings::Overrides;
    use crate::store::{run_alone, schema, Tx};
    use crate::{Error, Settings};

    /// The fixture site's settings (tests/fixtures/site).
    pub(crate) fn settings() -> Settings {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/site");
        Settings::load(&root.join("site.yaml"), Overrides::default()).unwrap()
    }

    /// A fresh, migrated database; keep the folder while it is used.
    pub(crate) fn db() -> (tempfile::TempDir, Connection) {
        let dir = tempfile::tempdir().unwrap();
        let conn = schema::open(dir.path()).unwrap();
        (dir, conn)
    }

    /// Runs `f` in one transaction at `now`, committed only if it succeeds.
    pub(crate) fn run<T>(
        conn: &mut Connection,
        now: i64,
        f: impl FnOnce(&mut Tx<'_>) -> Result<T, Error>,
    ) -> Result<T, Error> {
        run_alone(conn, now, 3600, f)
    }

    /// The one number `sql` selects.
    pub(crate) fn count(conn: &Connection, sql: &str) -> i64 {
        conn.query_row(sql, [], |r| r.get(0)).unwrap()
    }

    /// A comment on the fixture's laser page.
    pub(crate) fn comment(body: &str) -> NewComment {
        NewComment {
            public_id: crate::id::new_id(),
            page: "/services/laser-hair-removal/".into(),
            service: "laser-hair-removal".into(),
            author: "Ann".into(),
            body: body.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_what_looks_like_contact_details() {
        assert_eq!(flags("Mail me at ann@example.com please").len(), 1);
        assert_eq!(flags("Call 020 7946 0321").len(), 1);
        assert_eq!(
            flags("+44 (0)7700-900123")[0],
            "looks like it contains a phone number"
        );
        assert!(flags("Three sessions, 2-3 weeks apart, £250 each @ the clinic").is_empty());
        assert!(flags("I was 12345 steps in").is_empty());
    }

    #[test]
    fn repeats_are_the_same_comment_whatever_the_spacing_or_case() {
        let a = fingerprint(1, "/p/", "Great  result!\n");
        assert_eq!(a, fingerprint(1, "/p/", "great result!"));
        assert_ne!(a, fingerprint(2, "/p/", "great result!"));
        assert_ne!(a, fingerprint(1, "/q/", "great result!"));
    }
}
