//! Staff identity and sessions: who counts as staff (the configured addresses), the
//! emailed sign-in link that starts a session on one browser, looking a session up, and
//! listing and revoking sessions for `form-service staff sessions`.
//!
//! A sign-in link works only in the browser that asked for it: asking sets a random
//! cookie there ([`browser_key`]), the link keeps its hash, and pressing the link's
//! button anywhere else (a forwarded copy of the shared inbox's email) signs no one in.
//!
//! A session is a random cookie whose selector and secret hash are stored, like a
//! member's. It names the staff address that signed in, which the ledger and the
//! moderation history record as the one who acted. An address removed from the
//! configuration stops being staff at once, whatever sessions it had.

use rusqlite::{params, Connection, OptionalExtension};

use crate::address;
use crate::links::{self, Link, LinkProblem, NewLink, Purpose};
use crate::members::token::{self, NewToken, Presented};
use crate::store::{NewMail, Tx};
use crate::Error;

/// A staff sign-in link emailed per address per hour, at most.
const LINKS_PER_HOUR: i64 = 5;

/// A live staff session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffSession {
    /// Row id (what `staff sessions revoke` takes).
    pub id: i64,
    /// The configured staff address that signed in.
    pub email: String,
    /// When it started.
    pub created_at: i64,
    /// When it ends.
    pub expires_at: i64,
}

/// The configured staff address that `typed` is, by the rules of [`address`]; the
/// stored spelling, never the typed one, is what mail goes to.
pub fn configured<'a>(addresses: &'a [String], typed: &str) -> Option<&'a str> {
    let key = address::key(typed);
    addresses
        .iter()
        .find(|a| address::key(a) == key)
        .map(String::as_str)
}

/// The cookie that ties a sign-in link to the browser that asked for it, and what the
/// link keeps of it (the hash of its secret): the browser's own when it has a good one
/// (a browser that asks again keeps its cookie, so each link it asked for works there),
/// else a fresh token, made and kept like a session's.
pub fn browser_key(cookie: Option<&str>) -> (String, [u8; 32]) {
    match cookie.and_then(Presented::parse) {
        Some(p) => (cookie.unwrap_or_default().trim().to_string(), p.verifier()),
        None => {
            let t = NewToken::generate();
            (t.raw, t.verifier)
        }
    }
}

/// True when `cookie` (the request's browser cookie, if any) is the one set on the
/// browser that asked for `link`; compared as a session's token is.
pub fn asked_here(link: &Link, cookie: Option<&str>) -> bool {
    match (link.browser.as_deref(), cookie.and_then(Presented::parse)) {
        (Some(stored), Some(presented)) => presented.matches(stored),
        _ => false,
    }
}

/// A sign-in link made before the transaction, with its email.
#[derive(Debug, Clone)]
pub struct SignInRequest {
    /// The configured address it is for, if the typed one was staff.
    pub to: Option<String>,
    /// The token.
    pub token: NewToken,
    /// The email (built whatever the address, so every request does the same work).
    pub mail: NewMail,
    /// Seconds the link works.
    pub lifetime: i64,
    /// The hash of the secret in the asking browser's cookie (as `members::token` keeps one).
    pub browser: [u8; 32],
}

/// Why pressing a sign-in link's button signed no one in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInRefused {
    /// The link does nothing (unknown, expired, used, or for an address no longer staff).
    Link(LinkProblem),
    /// A good link, pressed in another browser than the one that asked for it; it is
    /// not used up.
    OtherBrowser,
}

/// Stores and mails a staff sign-in link when the request names a staff address and it
/// has not had too many lately; otherwise only notes the request. Returns whether mail
/// was queued (for the log; the visitor's answer is the same).
pub fn request_sign_in(tx: &mut Tx<'_>, r: &SignInRequest) -> Result<bool, Error> {
    crate::members::accounts::note_request(tx)?;
    let recent: i64 = tx
        .conn
        .prepare_cached(
            "SELECT count(*) FROM links WHERE purpose = 'staff_sign_in' AND staff_email = ?1
             AND created_at > ?2",
        )?
        .query_row(
            params![r.to.as_deref().unwrap_or(""), tx.now - 3600],
            |row| row.get(0),
        )?;
    match &r.to {
        Some(to) if recent < LINKS_PER_HOUR => {
            let mut link = NewLink::new(&r.token, Purpose::StaffSignIn, None, r.lifetime);
            link.staff = Some(to);
            link.browser = Some(&r.browser);
            links::issue(tx, &link)?;
            tx.queue_mail(&r.mail)?;
            Ok(true)
        }
        // Not a staff address, or one that has had enough links: the same writes, so
        // the answer's timing does not tell which addresses are staff. The link names
        // no one and has expired; the outbox row keeps no recipient and is never sent.
        _ => {
            let mut link = NewLink::new(&r.token, Purpose::StaffSignIn, None, 0);
            link.browser = Some(&r.browser);
            links::issue(tx, &link)?;
            tx.settle_unsent(&r.mail)?;
            Ok(false)
        }
    }
}

/// Spends a staff sign-in link pressed in the browser that asked for it (`browser`, the
/// request's cookie) and starts a session of `days` for `session`; the staff address
/// signed in. The session that browser's old staff cookie named (`previous`) ends: the
/// new cookie replaces it, and a session no browser carries should not stay live. A
/// link for an address no longer configured signs no one in; one pressed in another
/// browser neither, and stays usable where it was asked for.
pub fn sign_in(
    tx: &mut Tx<'_>,
    token: &str,
    browser: Option<&str>,
    previous: Option<&str>,
    session: &NewToken,
    days: u32,
    addresses: &[String],
) -> Result<Result<String, SignInRefused>, Error> {
    match links::check(tx.conn, token, &[Purpose::StaffSignIn], tx.now)? {
        Err(p) => return Ok(Err(SignInRefused::Link(p))),
        Ok(l) if !asked_here(&l, browser) => return Ok(Err(SignInRefused::OtherBrowser)),
        Ok(_) => {}
    }
    let link = match links::spend(tx, token, &[Purpose::StaffSignIn])? {
        Ok(l) => l,
        Err(p) => return Ok(Err(SignInRefused::Link(p))),
    };
    let Some(email) = link.staff.as_deref().and_then(|s| configured(addresses, s)) else {
        return Ok(Err(SignInRefused::Link(LinkProblem::Unknown)));
    };
    token::start_session(
        tx.conn,
        token::Sessions::Staff,
        session,
        &email,
        tx.now,
        days,
    )?;
    if let Some(previous) = previous {
        token::end_session(tx.conn, token::Sessions::Staff, previous)?;
    }
    Ok(Ok(email.to_string()))
}

/// The live staff session a cookie's value names, if its address is still staff.
pub fn session(
    c: &Connection,
    cookie: &str,
    now: i64,
    addresses: &[String],
) -> Result<Option<StaffSession>, Error> {
    let Some(p) = Presented::parse(cookie) else {
        return Ok(None);
    };
    let row = c
        .prepare_cached(
            "SELECT id, email, created_at, expires_at, verifier FROM staff_sessions
             WHERE selector = ?1",
        )?
        .query_row([&p.selector], |r| {
            Ok((
                StaffSession {
                    id: r.get(0)?,
                    email: r.get(1)?,
                    created_at: r.get(2)?,
                    expires_at: r.get(3)?,
                },
                r.get::<_, Vec<u8>>(4)?,
            ))
        })
        .optional()?;
    Ok(row.and_then(|(s, verifier)| {
        (p.matches(&verifier) && now < s.expires_at && configured(addresses, &s.email).is_some())
            .then_some(s)
    }))
}

/// Ends the session a cookie names (if the cookie is genuine).
pub fn end_session(tx: &mut Tx<'_>, cookie: &str) -> Result<(), Error> {
    Ok(token::end_session(tx.conn, token::Sessions::Staff, cookie)?)
}

/// Every session not yet expired, oldest first.
pub fn list(c: &Connection, now: i64) -> Result<Vec<StaffSession>, Error> {
    let mut stmt = c.prepare(
        "SELECT id, email, created_at, expires_at FROM staff_sessions
         WHERE expires_at > ?1 ORDER BY id",
    )?;
    let rows = stmt.query_map([now], |r| {
        Ok(StaffSession {
            id: r.get(0)?,
            email: r.get(1)?,
            created_at: r.get(2)?,
            expires_at: r.get(3)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Which sessions to end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Revoke {
    /// The session with this id.
    Id(i64),
    /// Every session of this address.
    Email(String),
    /// Every session.
    All,
}

/// Ends sessions (expired ones go too); returns how many live ones ended.
pub fn revoke(c: &Connection, which: &Revoke, now: i64) -> Result<usize, Error> {
    let live = list(c, now)?;
    let ended = live
        .iter()
        .filter(|s| match which {
            Revoke::Id(id) => s.id == *id,
            Revoke::Email(e) => address::same(&s.email, e),
            Revoke::All => true,
        })
        .map(|s| c.execute("DELETE FROM staff_sessions WHERE id = ?1", [s.id]))
        .collect::<Result<Vec<_>, _>>()?
        .len();
    c.execute("DELETE FROM staff_sessions WHERE expires_at <= ?1", [now])?;
    Ok(ended)
}

/// True when the staff address and the member's address plausibly reach one person:
/// staff never act on their own comment or reward.
pub fn is_own(staff_email: &str, member_email: &str) -> bool {
    address::person_key(staff_email) == address::person_key(member_email)
}
