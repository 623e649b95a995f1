//! From a post to staff: a signed-in member's comment goes straight to moderation; one
//! from anyone else is held, and its own emailed link sends it on (confirming the
//! membership too for an address that never confirmed). Plain functions over a
//! transaction; `http::comments` maps what they return to pages.

use std::collections::BTreeMap;

use super::{mail, moderation_links, post, release, service_title};
use super::{Comment, NewComment, Posted, Released, Status};
use crate::error::Refusal;
use crate::links::{self, LinkProblem, Purpose};
use crate::members::accounts::{self, Member};
use crate::members::mail as member_mail;
use crate::members::token::NewToken;
use crate::store::Tx;
use crate::{Error, Settings};

/// Stores a comment's three moderation links and queues the staff email.
pub fn queue_for_staff(
    tx: &mut Tx<'_>,
    s: &Settings,
    c: &Comment,
    m: &Member,
) -> Result<(), Error> {
    let days = i64::from(s.site.comments.moderation_link_days);
    let links = moderation_links(tx, c, days * 86_400)?;
    tx.queue_mail(&mail::to_moderate(s, c, m, &links)?)
}

/// A signed-in member's comment: stored pending, and staff emailed when it is new.
pub fn post_signed_in(
    tx: &mut Tx<'_>,
    s: &Settings,
    m: &Member,
    new: &NewComment,
) -> Result<Posted, Error> {
    let out = post(tx, m.id, new, Status::Pending, s.site.comments.daily_limit)?;
    if let Posted::Stored(c) = &out {
        queue_for_staff(tx, s, c, m)?;
    }
    Ok(out)
}

/// What a post from someone not signed in lacks, by field: their address, and (for
/// someone new) agreement to the programme's terms. Empty when nothing is missing.
pub fn signed_out_problems(email: Option<&str>, consent: bool) -> BTreeMap<String, String> {
    let mut errors = BTreeMap::new();
    if email.is_none() {
        errors.insert(
            "email".to_string(),
            "Give your email address so we can confirm it is you, or sign in first.".to_string(),
        );
    }
    if !consent {
        errors.insert(
            "consent".to_string(),
            "Tick this to join the loyalty programme, or sign in first if you are a member."
                .to_string(),
        );
    }
    errors
}

/// What a post from someone not signed in did; the visitor's answer is the same for each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Held {
    /// Held, and its link emailed.
    Sent,
    /// Already sent to staff (the same text again).
    Already,
    /// Too many emails to this address lately: nothing kept, nothing sent.
    Throttled,
}

/// A comment from someone not signed in, giving `email`: held, with a link for it alone
/// (`token`) emailed to that address. An address that never confirmed is sent nothing
/// the poster typed. Every call does the same work whatever the address.
pub fn hold_signed_out(
    tx: &mut Tx<'_>,
    s: &Settings,
    email: &str,
    new: &NewComment,
    token: &NewToken,
) -> Result<Held, Error> {
    let cfg = s.loyalty();
    accounts::note_request(tx)?;
    let known = accounts::by_email(tx.conn, email)?;
    if let Some(m) = &known {
        if accounts::too_many_emails(tx, m.id, cfg)? {
            return Ok(Held::Throttled);
        }
    }
    let m = match known {
        Some(m) => m,
        None => accounts::pending_account(tx, email)?,
    };
    let c = match post(tx, m.id, new, Status::Held, s.site.comments.daily_limit)? {
        Posted::Stored(c) | Posted::Duplicate(c) => c,
        Posted::OverLimit => return Ok(Held::Throttled),
    };
    if c.status != Status::Held {
        return Ok(Held::Already);
    }
    let lifetime = i64::from(cfg.confirm_link_hours) * 3600;
    super::confirm_link(tx, &c, token, &new.author, lifetime)?;
    let url = links::url(s, Purpose::CommentConfirm, token);
    let title = service_title(s, &c.service).unwrap_or("our treatment");
    let mail = if m.active {
        // A member confirmed this address: they are told where, not what (the text is
        // whatever the poster typed; the link's page shows it).
        member_mail::comment_to_confirm(s, &m, title, &s.site_url(&c.page), &url)?
    } else {
        // Never confirmed: nothing the poster typed goes to this address.
        let note = format!(
            "A comment on {title} was posted with this address. The page the link \
             opens shows it; pressing its button confirms your membership and sends \
             that comment to our staff."
        );
        member_mail::confirmation(s, &m.email, &url, Some(&note))?
    };
    tx.queue_mail(&mail)?;
    Ok(Held::Sent)
}

/// A held comment sent on by its link.
#[derive(Debug, Clone)]
pub struct SentOn {
    /// A new session, when the link also confirmed the membership.
    pub session: Option<NewToken>,
}

/// Pressing a held comment's button: that comment (only) goes to staff, and an
/// address that never confirmed is confirmed. Over the day's limit it fails with
/// [`Refusal::OverDailyLimit`], so the transaction rolls back and the link stays unspent
/// for another day.
pub fn send_held(
    tx: &mut Tx<'_>,
    s: &Settings,
    token: &str,
) -> Result<Result<SentOn, LinkProblem>, Error> {
    let (link, released) = match release(tx, token, s.site.comments.daily_limit)? {
        Ok(r) => r,
        Err(p) => return Ok(Err(p)),
    };
    let Some(m) = link.member_row(tx.conn, accounts::by_id)? else {
        return Ok(Err(LinkProblem::Unknown));
    };
    let c = match released {
        Released::Sent(c) => c,
        Released::OverLimit => return Err(Refusal::OverDailyLimit.into()),
    };
    let mut session = None;
    let m = if m.active {
        m
    } else {
        let t = NewToken::generate();
        let friend = |r: &Member, amount: i64, pending: bool| {
            member_mail::friend_joined(s, r, amount, pending)
        };
        let signed = accounts::confirm_member(tx, &link, &m, &t, s.loyalty(), &friend)?;
        session = Some(t);
        signed.member
    };
    queue_for_staff(tx, s, &c, &m)?;
    Ok(Ok(SentOn { session }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::comments::testing::{comment, count, db, run, settings};

    const NOW: i64 = 1_700_000_000;

    fn outbox_to(conn: &rusqlite::Connection, to: &str) -> Vec<String> {
        let mut stmt = conn
            .prepare(
                "SELECT m.message FROM outbox o JOIN outbox_messages m ON m.outbox_id = o.id
                 WHERE o.envelope_to = ?1 ORDER BY o.id",
            )
            .unwrap();
        stmt.query_map([to], |r| r.get::<_, Vec<u8>>(0))
            .unwrap()
            .map(|m| String::from_utf8_lossy(&m.unwrap()).into_owned())
            .collect()
    }

    #[test]
    fn someone_signed_out_gives_an_address_and_agrees_to_the_terms() {
        assert!(signed_out_problems(Some("a@example.com"), true).is_empty());
        let both = signed_out_problems(None, false);
        assert_eq!(
            both.keys().collect::<Vec<_>>(),
            ["consent", "email"],
            "{both:?}"
        );
        assert_eq!(
            signed_out_problems(Some("a@example.com"), false)
                .keys()
                .collect::<Vec<_>>(),
            ["consent"]
        );
    }

    #[test]
    fn a_new_address_is_held_and_sent_nothing_the_poster_typed() {
        let s = settings();
        let (_dir, mut conn) = db();
        let token = NewToken::generate();
        let new = comment("Secret words from a stranger");
        let held = run(&mut conn, NOW, |tx| {
            hold_signed_out(tx, &s, "new@example.com", &new, &token)
        })
        .unwrap();
        assert_eq!(held, Held::Sent);
        assert_eq!(
            count(&conn, "SELECT count(*) FROM comments WHERE status = 'held'"),
            1
        );
        assert_eq!(
            count(
                &conn,
                "SELECT count(*) FROM members WHERE status = 'pending'"
            ),
            1
        );
        let mails = outbox_to(&conn, "new@example.com");
        assert_eq!(mails.len(), 1);
        assert!(!mails[0].contains("Secret words"), "{}", mails[0]);
    }

    #[test]
    fn a_held_comment_goes_to_staff_once_its_link_is_pressed() {
        let s = settings();
        let (_dir, mut conn) = db();
        let token = NewToken::generate();
        let new = comment("Lovely clinic");
        run(&mut conn, NOW, |tx| {
            hold_signed_out(tx, &s, "new@example.com", &new, &token)
        })
        .unwrap();
        let sent = run(&mut conn, NOW + 60, |tx| send_held(tx, &s, &token.raw))
            .unwrap()
            .unwrap();
        assert!(sent.session.is_some(), "the address is confirmed too");
        assert_eq!(
            count(
                &conn,
                "SELECT count(*) FROM comments WHERE status = 'pending'"
            ),
            1
        );
        assert_eq!(
            count(
                &conn,
                "SELECT count(*) FROM members WHERE status = 'active'"
            ),
            1
        );
        let staff = s.staff.email.to_string();
        assert!(outbox_to(&conn, &staff)
            .iter()
            .any(|m| m.contains("Comment to moderate")));
        let again = run(&mut conn, NOW + 120, |tx| send_held(tx, &s, &token.raw)).unwrap();
        assert_eq!(again.unwrap_err(), LinkProblem::Used);
    }

    #[test]
    fn a_comment_already_with_staff_is_not_held_again() {
        let s = settings();
        let (_dir, mut conn) = db();
        let new = comment("Same words");
        run(&mut conn, NOW, |tx| {
            let m = accounts::pending_account(tx, "ann@example.com")?;
            post_signed_in(tx, &s, &m, &new)
        })
        .unwrap();
        let token = NewToken::generate();
        let held = run(&mut conn, NOW + 60, |tx| {
            hold_signed_out(tx, &s, "ann@example.com", &new, &token)
        })
        .unwrap();
        assert_eq!(held, Held::Already);
    }

    #[test]
    fn too_many_emails_to_one_address_keep_nothing() {
        let s = settings();
        let (_dir, mut conn) = db();
        let allowed = s.loyalty().emails_per_address_per_hour;
        for i in 0..allowed {
            let new = comment(&format!("Comment number {i}"));
            let held = run(&mut conn, NOW + i64::from(i), |tx| {
                hold_signed_out(tx, &s, "busy@example.com", &new, &NewToken::generate())
            })
            .unwrap();
            assert_eq!(held, Held::Sent);
        }
        let new = comment("One too many");
        let held = run(&mut conn, NOW + 100, |tx| {
            hold_signed_out(tx, &s, "busy@example.com", &new, &NewToken::generate())
        })
        .unwrap();
        assert_eq!(held, Held::Throttled);
        assert_eq!(
            count(&conn, "SELECT count(*) FROM comments"),
            i64::from(allowed)
        );
    }
}
