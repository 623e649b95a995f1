//! Emailed links, for every area: what a link is for ([`Purpose`]), making one
//! ([`issue`]), looking at one without using it ([`check`], what a `GET` may do), and
//! spending one ([`spend`], what the button's `POST` does).
//!
//! Where a link points is decided here too: [`Purpose::path`] is the page it opens (and
//! the route that serves it), [`url`] the address that goes in the email.
//!
//! A link's token is a selector and a secret (`members::token`); the `links` table keeps
//! the selector and the secret's hash. Members' links name a member; staff sign-in links
//! name a staff address; links staff act with name the thing they act on (`subject`).

use rusqlite::{params, Connection, OptionalExtension};

use crate::members::token::{NewToken, Presented};
use crate::store::Tx;
use crate::{Error, Settings};

/// What an emailed link is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Confirms a new member's address.
    Confirm,
    /// Signs a member in.
    SignIn,
    /// Releases one comment posted signed out to moderation (and, for an address that
    /// never confirmed, confirms the membership too).
    CommentConfirm,
    /// Signs a staff address in on one browser.
    StaffSignIn,
    /// Staff: the held reward was used at the clinic.
    RewardUsed,
    /// Staff: the held reward is declined and its points released.
    RewardDeclined,
    /// Staff: publish a comment.
    CommentApprove,
    /// Staff: reject a comment.
    CommentReject,
    /// Staff: reply to a comment (and publish it).
    CommentReply,
}

impl Purpose {
    /// Every purpose.
    pub const ALL: [Purpose; 9] = [
        Purpose::Confirm,
        Purpose::SignIn,
        Purpose::CommentConfirm,
        Purpose::StaffSignIn,
        Purpose::RewardUsed,
        Purpose::RewardDeclined,
        Purpose::CommentApprove,
        Purpose::CommentReject,
        Purpose::CommentReply,
    ];

    /// The word stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Confirm => "confirm",
            Purpose::SignIn => "sign_in",
            Purpose::CommentConfirm => "comment_confirm",
            Purpose::StaffSignIn => "staff_sign_in",
            Purpose::RewardUsed => "reward_used",
            Purpose::RewardDeclined => "reward_declined",
            Purpose::CommentApprove => "comment_approve",
            Purpose::CommentReject => "comment_reject",
            Purpose::CommentReply => "comment_reply",
        }
    }

    fn parse(s: &str) -> Option<Purpose> {
        Purpose::ALL.into_iter().find(|p| p.as_str() == s)
    }

    /// The page on this service the link opens; its button posts back to the same path.
    /// Links that act on one thing in different ways share a page.
    pub const fn path(self) -> &'static str {
        match self {
            Purpose::Confirm => "/members/confirm",
            Purpose::SignIn => "/members/sign-in",
            Purpose::CommentConfirm => "/comments/confirm",
            Purpose::StaffSignIn => "/staff/sign-in",
            Purpose::RewardUsed | Purpose::RewardDeclined => "/members/staff/reward",
            Purpose::CommentApprove | Purpose::CommentReject | Purpose::CommentReply => {
                "/comments/moderate"
            }
        }
    }

    /// True for the links staff act with (which need a staff sign-in).
    pub fn is_staff_action(self) -> bool {
        matches!(
            self,
            Purpose::RewardUsed
                | Purpose::RewardDeclined
                | Purpose::CommentApprove
                | Purpose::CommentReject
                | Purpose::CommentReply
        )
    }
}

/// A link's page (a [`Purpose::path`]) with its token, relative to the service
/// (`/comments/moderate?token=...`): what a staff sign-in carries back to.
pub fn page(path: &str, token: &str) -> String {
    format!("{path}?token={token}")
}

/// The token in `page` when it is `path` with a token ([`page`] undone), else `None`.
pub fn token_at<'a>(path: &str, page: &'a str) -> Option<&'a str> {
    page.strip_prefix(path)?.strip_prefix("?token=")
}

/// The address an emailed link for `purpose` with `token` opens.
pub fn url(s: &Settings, purpose: Purpose, token: &NewToken) -> String {
    s.service_url(&page(purpose.path(), &token.raw))
}

/// Why a link does nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkProblem {
    /// Not one of ours: mistyped, cut short, or forged.
    Unknown,
    /// Past its time.
    Expired,
    /// Already used (or the thing it acts on was settled another way).
    Used,
}

/// A link that may be used.
#[derive(Debug, Clone)]
pub struct Link {
    /// Row id.
    pub id: i64,
    /// What it does.
    pub purpose: Purpose,
    /// The member it is about.
    pub member: Option<i64>,
    /// The ledger row or comment a link acts on.
    pub subject: Option<i64>,
    /// The staff address a staff sign-in link signs in.
    pub staff: Option<String>,
    /// The name given with the registration this link confirms.
    pub name: Option<String>,
    /// The referrer named by the registration this link confirms.
    pub referrer: Option<i64>,
    /// For a staff sign-in link, the hash of the cookie set on the browser that asked.
    pub browser: Option<Vec<u8>>,
    /// When it stops working.
    pub expires_at: i64,
}

/// A row read by its id (`comments::get`, `ledger::get`, `accounts::by_id`).
pub type ReadById<T> = fn(&Connection, i64) -> Result<Option<T>, Error>;

impl Link {
    /// The ledger row or comment the link acts on, if it names one that still exists.
    pub fn subject_row<T>(&self, c: &Connection, get: ReadById<T>) -> Result<Option<T>, Error> {
        Ok(self.subject.map(|id| get(c, id)).transpose()?.flatten())
    }

    /// The member the link is about, if it names one that still exists.
    pub fn member_row<T>(&self, c: &Connection, get: ReadById<T>) -> Result<Option<T>, Error> {
        Ok(self.member.map(|id| get(c, id)).transpose()?.flatten())
    }
}

/// A link to store.
#[derive(Debug, Clone, Copy)]
pub struct NewLink<'a> {
    /// Its token.
    pub token: &'a NewToken,
    /// What it does.
    pub purpose: Purpose,
    /// The member it is about.
    pub member: Option<i64>,
    /// What it acts on.
    pub subject: Option<i64>,
    /// The staff address it signs in.
    pub staff: Option<&'a str>,
    /// Registration details it carries (name, referrer).
    pub name: Option<&'a str>,
    /// The referrer it carries.
    pub referrer: Option<i64>,
    /// The hash of the cookie of the browser it works in (staff sign-in links).
    pub browser: Option<&'a [u8; 32]>,
    /// Seconds it works.
    pub lifetime: i64,
}

impl<'a> NewLink<'a> {
    /// A link about `member` (or nobody) with no other details.
    pub fn new(token: &'a NewToken, purpose: Purpose, member: Option<i64>, lifetime: i64) -> Self {
        NewLink {
            token,
            purpose,
            member,
            subject: None,
            staff: None,
            name: None,
            referrer: None,
            browser: None,
            lifetime,
        }
    }
}

/// Stores a link.
pub fn issue(tx: &Tx<'_>, l: &NewLink<'_>) -> Result<(), Error> {
    tx.conn
        .prepare_cached(
            "INSERT INTO links (selector, verifier, purpose, member_id, subject_id, staff_email,
                                name, referrer_id, created_at, expires_at, browser)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        )?
        .execute(params![
            l.token.selector,
            &l.token.verifier[..],
            l.purpose.as_str(),
            l.member,
            l.subject,
            l.staff,
            l.name,
            l.referrer,
            tx.now,
            tx.now + l.lifetime,
            l.browser.map(|b| &b[..])
        ])?;
    Ok(())
}

/// Looks a presented token up, changing nothing: what a `GET` of the link may do.
pub fn check(
    c: &Connection,
    token: &str,
    allowed: &[Purpose],
    now: i64,
) -> Result<Result<Link, LinkProblem>, Error> {
    let Some(p) = Presented::parse(token) else {
        return Ok(Err(LinkProblem::Unknown));
    };
    type Row = (
        i64,
        String,
        Option<i64>,
        Option<i64>,
        i64,
        Option<i64>,
        Vec<u8>,
        Option<String>,
        Option<String>,
        Option<i64>,
        Option<Vec<u8>>,
    );
    let row: Option<Row> = c
        .prepare_cached(
            "SELECT id, purpose, member_id, subject_id, expires_at, used_at, verifier,
                    staff_email, name, referrer_id, browser
             FROM links WHERE selector = ?1",
        )?
        .query_row([&p.selector], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
                r.get(8)?,
                r.get(9)?,
                r.get(10)?,
            ))
        })
        .optional()?;
    let Some((
        id,
        purpose,
        member,
        subject,
        expires_at,
        used_at,
        verifier,
        staff,
        name,
        referrer,
        browser,
    )) = row
    else {
        return Ok(Err(LinkProblem::Unknown));
    };
    let purpose = Purpose::parse(&purpose).filter(|p| allowed.contains(p));
    // A wrong secret is "unknown", never "expired" or "used": guessing reveals nothing.
    let Some(purpose) = purpose.filter(|_| p.matches(&verifier)) else {
        return Ok(Err(LinkProblem::Unknown));
    };
    if used_at.is_some() {
        return Ok(Err(LinkProblem::Used));
    }
    if now >= expires_at {
        return Ok(Err(LinkProblem::Expired));
    }
    Ok(Ok(Link {
        id,
        purpose,
        member,
        subject,
        staff,
        name,
        referrer,
        browser,
        expires_at,
    }))
}

/// What a genuine link of one of `allowed` acts on (its subject), used or expired or
/// not: to say what became of that thing when the link itself no longer works. `None`
/// for a link we never made, or a wrong secret (which reveals nothing).
pub fn subject_of(c: &Connection, token: &str, allowed: &[Purpose]) -> Result<Option<i64>, Error> {
    let Some(p) = Presented::parse(token) else {
        return Ok(None);
    };
    let row: Option<(String, Option<i64>, Vec<u8>)> = c
        .prepare_cached("SELECT purpose, subject_id, verifier FROM links WHERE selector = ?1")?
        .query_row([&p.selector], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    Ok(row.and_then(|(purpose, subject, verifier)| {
        Purpose::parse(&purpose)
            .filter(|purpose| allowed.contains(purpose) && p.matches(&verifier))
            .and(subject)
    }))
}

/// Checks a link and marks it used, in the caller's transaction.
pub fn spend(
    tx: &Tx<'_>,
    token: &str,
    allowed: &[Purpose],
) -> Result<Result<Link, LinkProblem>, Error> {
    let link = check(tx.conn, token, allowed, tx.now)?;
    if let Ok(l) = &link {
        tx.conn
            .prepare_cached("UPDATE links SET used_at = ?2 WHERE id = ?1 AND used_at IS NULL")?
            .execute(params![l.id, tx.now])?;
    }
    Ok(link)
}

/// Spends every unused link for `subject` with one of `purposes` (the other links of a
/// pair or trio, once one of them has acted).
pub fn spend_all_for(tx: &Tx<'_>, subject: i64, purposes: &[Purpose]) -> Result<(), Error> {
    for p in purposes {
        tx.conn
            .prepare_cached(
                "UPDATE links SET used_at = ?2
                 WHERE subject_id = ?1 AND purpose = ?3 AND used_at IS NULL",
            )?
            .execute(params![subject, tx.now, p.as_str()])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purposes_round_trip_their_stored_word() {
        for p in Purpose::ALL {
            assert_eq!(Purpose::parse(p.as_str()), Some(p));
        }
        assert_eq!(Purpose::parse("nonsense"), None);
    }

    #[test]
    fn pages_carry_the_token() {
        let at = |p: Purpose| page(p.path(), "abc");
        assert_eq!(at(Purpose::CommentReject), "/comments/moderate?token=abc");
        assert_eq!(at(Purpose::CommentReply), at(Purpose::CommentApprove));
        assert_eq!(
            at(Purpose::RewardDeclined),
            "/members/staff/reward?token=abc"
        );
        assert_eq!(at(Purpose::RewardUsed), at(Purpose::RewardDeclined));
        assert_eq!(at(Purpose::Confirm), "/members/confirm?token=abc");
        assert_eq!(at(Purpose::SignIn), "/members/sign-in?token=abc");
        assert_eq!(at(Purpose::CommentConfirm), "/comments/confirm?token=abc");
        assert_eq!(at(Purpose::StaffSignIn), "/staff/sign-in?token=abc");
    }

    #[test]
    fn the_token_is_read_back_from_its_page_only() {
        let path = Purpose::CommentApprove.path();
        assert_eq!(token_at(path, &page(path, "abc")), Some("abc"));
        assert_eq!(token_at(path, "/comments/moderate?token="), Some(""));
        assert_eq!(token_at(path, "/comments/moderate"), None);
        assert_eq!(token_at(path, "/comments/moderatex?token=a"), None);
        assert_eq!(token_at(path, "/members/staff/reward?token=a"), None);
    }

    #[test]
    fn every_page_is_on_this_service() {
        for p in Purpose::ALL {
            assert!(
                p.path().starts_with('/') && !p.path().contains('?'),
                "{p:?}"
            );
        }
    }
}
