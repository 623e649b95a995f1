//! Staff decisions from a comment's emailed links: what the posted choice means, who
//! may make it, and the note the member gets. Plain functions over a transaction;
//! `http::comments` maps what they return to pages, `cmd::comments` shares the limits.

use super::{author, decide, mail, use_moderation_link, Comment, Decision, Status};
use crate::error::Refusal;
use crate::links::{LinkProblem, Purpose};
use crate::store::Tx;
use crate::{Error, Settings};

/// The longest reply, in characters, from the moderation page or the command line.
pub const REPLY_LIMIT: usize = 2000;

/// True when `reply` is longer than [`REPLY_LIMIT`].
pub fn reply_too_long(reply: &str) -> bool {
    reply.chars().count() > REPLY_LIMIT
}

/// What staff chose on a moderation page, as posted.
#[derive(Debug, Clone, Copy)]
pub struct Choice<'a> {
    /// The rejection reason's index among the site's `reject_reasons` (rejecting).
    pub reason: &'a str,
    /// The reply's text (replying).
    pub reply: &'a str,
}

/// The reason at the posted index (from 0), if the site has one there.
pub fn reason_at(reasons: &[String], posted: &str) -> Option<String> {
    posted
        .parse::<usize>()
        .ok()
        .and_then(|i| reasons.get(i).cloned())
}

/// Uses a moderation link (`token`) for `staff`: decides the comment as its link says
/// and `choice` details, and emails the member when it was new to staff. Returns the
/// comment as it now stands. Staff never decide on their own comment
/// ([`Error::OwnAccount`]); a choice that is missing, or a decision the comment's state
/// forbids, is a [`Refusal`]. Both fail the transaction, so the link is not spent.
pub fn moderate(
    tx: &mut Tx<'_>,
    s: &Settings,
    token: &str,
    staff: &str,
    choice: Choice<'_>,
) -> Result<Result<Comment, LinkProblem>, Error> {
    let (purpose, c) = match use_moderation_link(tx, token)? {
        Ok(found) => found,
        Err(p) => return Ok(Err(p)),
    };
    if let Some(m) = author(tx.conn, &c)? {
        if crate::staff::is_own(staff, &m.email) {
            return Err(Error::OwnAccount);
        }
    }
    let decision = match purpose {
        Purpose::CommentApprove => Decision::Approve,
        Purpose::CommentReject => match reason_at(&s.site.comments.reject_reasons, choice.reason) {
            Some(r) => Decision::Reject(r),
            None => return Err(Refusal::NoReason.into()),
        },
        _ if choice.reply.is_empty() => return Err(Refusal::NoReply.into()),
        _ => Decision::Reply(choice.reply.to_string()),
    };
    let was = c.status;
    let decided = decide(tx, c.id, &decision, staff)?;
    if was == Status::Pending {
        if let Some(m) = author(tx.conn, &decided)? {
            tx.queue_mail(&mail::decided(s, &decided, &m)?)?;
        }
    }
    Ok(Ok(decided))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::comments::testing::{comment, count, db, run, settings};
    use crate::comments::{moderation_links, post, ModerationLinks, Posted};
    use crate::members::accounts;

    const NOW: i64 = 1_700_000_000;

    /// A pending comment by `author` and its three staff links.
    fn pending(conn: &mut rusqlite::Connection, author: &str) -> ModerationLinks {
        run(conn, NOW, |tx| {
            let m = accounts::pending_account(tx, author)?;
            let Posted::Stored(c) = post(tx, m.id, &comment("Nice"), Status::Pending, 5)? else {
                panic!("stored");
            };
            moderation_links(tx, &c, 86_400)
        })
        .unwrap()
    }

    fn none<'a>() -> Choice<'a> {
        Choice {
            reason: "",
            reply: "",
        }
    }

    #[test]
    fn reasons_are_chosen_by_index_and_replies_are_limited() {
        let reasons = vec!["Off topic".to_string(), "Personal".to_string()];
        assert_eq!(reason_at(&reasons, "1").as_deref(), Some("Personal"));
        for bad in ["", "2", "-1", "x"] {
            assert_eq!(reason_at(&reasons, bad), None, "{bad}");
        }
        assert!(!reply_too_long(&"é".repeat(REPLY_LIMIT)));
        assert!(reply_too_long(&"a".repeat(REPLY_LIMIT + 1)));
    }

    #[test]
    fn a_rejection_needs_a_reason_and_tells_the_member_why() {
        let s = settings();
        let (_dir, mut conn) = db();
        let links = pending(&mut conn, "ann@example.com");
        let err = run(&mut conn, NOW + 1, |tx| {
            moderate(tx, &s, &links.reject.raw, "staff@clinic.example", none())
        })
        .unwrap_err();
        assert!(matches!(err, Error::Refused(Refusal::NoReason)), "{err}");
        let choice = Choice {
            reason: "0",
            reply: "",
        };
        let c = run(&mut conn, NOW + 2, |tx| {
            moderate(tx, &s, &links.reject.raw, "staff@clinic.example", choice)
        })
        .unwrap()
        .unwrap();
        assert_eq!(c.status, Status::Rejected);
        assert_eq!(c.reason.as_ref(), s.site.comments.reject_reasons.first());
        assert_eq!(c.decided_by.as_deref(), Some("staff@clinic.example"));
        assert_eq!(
            count(
                &conn,
                "SELECT count(*) FROM outbox WHERE envelope_to = 'ann@example.com'"
            ),
            1
        );
        // The pair's other link is spent with it.
        let used = run(&mut conn, NOW + 3, |tx| {
            moderate(tx, &s, &links.approve.raw, "staff@clinic.example", none())
        })
        .unwrap();
        assert_eq!(used.unwrap_err(), LinkProblem::Used);
    }

    #[test]
    fn staff_never_decide_their_own_comment_and_the_link_survives() {
        let s = settings();
        let (_dir, mut conn) = db();
        let links = pending(&mut conn, "Staff@Clinic.example");
        let err = run(&mut conn, NOW + 1, |tx| {
            moderate(tx, &s, &links.approve.raw, "staff@clinic.example", none())
        })
        .unwrap_err();
        assert!(matches!(err, Error::OwnAccount), "{err}");
        let c = run(&mut conn, NOW + 2, |tx| {
            moderate(tx, &s, &links.approve.raw, "other@clinic.example", none())
        })
        .unwrap()
        .unwrap();
        assert_eq!(c.status, Status::Approved);
    }

    #[test]
    fn a_reply_needs_text_and_publishes() {
        let s = settings();
        let (_dir, mut conn) = db();
        let links = pending(&mut conn, "ann@example.com");
        let err = run(&mut conn, NOW + 1, |tx| {
            moderate(tx, &s, &links.reply.raw, "staff@clinic.example", none())
        })
        .unwrap_err();
        assert!(matches!(err, Error::Refused(Refusal::NoReply)), "{err}");
        let choice = Choice {
            reason: "",
            reply: "Thank you!",
        };
        let c = run(&mut conn, NOW + 2, |tx| {
            moderate(tx, &s, &links.reply.raw, "staff@clinic.example", choice)
        })
        .unwrap()
        .unwrap();
        assert_eq!(c.status, Status::Approved);
        assert_eq!(c.reply.as_deref(), Some("Thank you!"));
    }

    #[test]
    fn an_unknown_link_does_nothing() {
        let s = settings();
        let (_dir, mut conn) = db();
        let r = run(&mut conn, NOW, |tx| {
            moderate(tx, &s, "not-a-token", "staff@clinic.example", none())
        })
        .unwrap();
        assert_eq!(r.unwrap_err(), LinkProblem::Unknown);
    }
}
