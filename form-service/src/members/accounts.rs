//! Accounts: registering, confirming, signing in by emailed link, and sessions. Each
//! function runs inside one transaction ([`Tx`]), so a check and the
//! change it allows can never be split by another request.

use rusqlite::{params, Connection, OptionalExtension};
use site_config::LoyaltyConfig;

use super::ledger::{self, Kind, NewEntry, Status};
use super::token::{self, normalise_code, referral_code, NewToken, Presented};
use crate::address;
use crate::error::Storage;
use crate::links::{self, LinkProblem, NewLink, Purpose};
use crate::store::{NewMail, Tx};
use crate::Error;

/// A member as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// Row id.
    pub id: i64,
    /// The address as they typed it.
    pub email: String,
    /// Their name.
    pub name: String,
    /// Confirmed their address.
    pub active: bool,
    /// Their code for friends, once confirmed.
    pub referral_code: Option<String>,
    /// Who referred them.
    pub referred_by: Option<i64>,
    /// When they first registered.
    pub registered_at: i64,
    /// When they confirmed.
    pub confirmed_at: Option<i64>,
}

const MEMBER: &str = "SELECT id, email, name, status = 'active', referral_code, referred_by,
                             registered_at, confirmed_at FROM members";

fn member(r: &rusqlite::Row<'_>) -> rusqlite::Result<Member> {
    Ok(Member {
        id: r.get(0)?,
        email: r.get(1)?,
        name: r.get(2)?,
        active: r.get(3)?,
        referral_code: r.get(4)?,
        referred_by: r.get(5)?,
        registered_at: r.get(6)?,
        confirmed_at: r.get(7)?,
    })
}

/// The member with this address (compared by the rules of [`address`]).
pub fn by_email(c: &Connection, email: &str) -> Result<Option<Member>, Error> {
    Ok(c.prepare_cached(&format!("{MEMBER} WHERE email_key = ?1"))?
        .query_row([address::key(email)], member)
        .optional()?)
}

/// The member with this id.
pub fn by_id(c: &Connection, id: i64) -> Result<Option<Member>, Error> {
    Ok(c.prepare_cached(&format!("{MEMBER} WHERE id = ?1"))?
        .query_row([id], member)
        .optional()?)
}

/// The friend whose joining earned this referral row (`points pending` shows them:
/// staff confirm once that friend has had a paid treatment). `None` for other rows,
/// or when the friend's account is gone (erased by `forget`).
pub fn friend_of(c: &Connection, ledger_id: i64) -> Result<Option<Member>, Error> {
    let friend: Option<i64> = c
        .prepare_cached("SELECT friend_id FROM ledger WHERE id = ?1 AND kind = 'referral'")?
        .query_row([ledger_id], |r| r.get(0))
        .optional()?
        .flatten();
    match friend {
        Some(id) => by_id(c, id),
        None => Ok(None),
    }
}

/// Every member, in the order they registered.
pub fn all(c: &Connection) -> Result<Vec<Member>, Error> {
    let mut stmt = c.prepare(&format!("{MEMBER} ORDER BY id"))?;
    let rows = stmt.query_map([], member)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn by_code(c: &Connection, code: &str) -> Result<Option<Member>, Error> {
    Ok(
        c.prepare_cached(&format!("{MEMBER} WHERE referral_code = ?1"))?
            .query_row([normalise_code(code)], member)
            .optional()?,
    )
}

/// A registration, or a request for a new link. The handler makes both tokens before
/// the transaction, and the transaction builds the one email it sends to the address
/// as stored, so the work (and the time) is the same whether or not the address is known.
#[derive(Debug, Clone)]
pub struct Registration {
    /// The name given (kept on the confirmation link; it counts only if that link is
    /// followed). A request for a new link gives none: its link carries the newest
    /// registration's details instead, and it ignores `referral` too.
    pub name: String,
    /// The address as typed (trimmed); used only to find the account.
    pub email: String,
    /// The referral code they gave, if any.
    pub referral: Option<String>,
    /// For a new (or still unconfirmed) address.
    pub confirm: NewToken,
    /// For an address that is already a member.
    pub sign_in: NewToken,
}

/// What a link email is: a confirmation (to an address that never confirmed, so it
/// carries nothing the requester typed) or a sign-in link for a member.
#[derive(Debug, Clone, Copy)]
pub enum LinkMailKind<'a> {
    /// Confirm a registration.
    Confirm,
    /// Sign in, greeting the member by the name they confirmed.
    SignIn(&'a str),
}

/// Builds a link email to `to` (the stored address) carrying `token`.
pub type LinkMailer<'a> = &'a dyn Fn(LinkMailKind<'_>, &str, &NewToken) -> Result<NewMail, Error>;

/// What registering did. Never shown to the visitor, whose answer is always the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Registered {
    /// A new account, waiting for confirmation.
    Created,
    /// Still unconfirmed: a fresh confirmation link.
    ConfirmationSent,
    /// Already a member: a sign-in link instead.
    SignInSent,
    /// Too many emails to this address lately: nothing sent.
    Throttled,
}

fn throttled(tx: &Tx<'_>, member: i64, cfg: &LoyaltyConfig) -> Result<bool, Error> {
    let sent: i64 = tx
        .conn
        .prepare_cached(
            "SELECT count(*) FROM links WHERE member_id = ?1
             AND purpose IN ('confirm', 'sign_in', 'comment_confirm') AND created_at > ?2",
        )?
        .query_row(params![member, tx.now - 3600], |r| r.get(0))?;
    Ok(sent >= i64::from(cfg.emails_per_address_per_hour))
}

/// True when `member` has had as many link emails this hour as the programme allows.
pub fn too_many_emails(tx: &Tx<'_>, member: i64, cfg: &LoyaltyConfig) -> Result<bool, Error> {
    throttled(tx, member, cfg)
}

/// Notes a request for an emailed link (a member's or staff's). Every request writes
/// this row, whatever the address, so that the commit, and with it the answer's timing,
/// is the same for all. The row says nothing of who asked: it holds random bytes of a
/// hash's size (a hash of the address would let a copy of the data folder confirm who
/// asked for a link, and nothing reads it).
pub(crate) fn note_request(tx: &Tx<'_>) -> Result<(), Error> {
    let filler: [u8; 32] = rand::random();
    tx.conn
        .prepare_cached("INSERT INTO link_requests (filler, at) VALUES (?1, ?2)")?
        .execute(params![&filler[..], tx.now])?;
    Ok(())
}

/// The account for an address that is not a member yet: the unconfirmed one there is,
/// or a new one. Its name and referrer are set only when a confirmation link is
/// followed, from that link (so whoever registers first decides nothing).
pub fn pending_account(tx: &Tx<'_>, email: &str) -> Result<Member, Error> {
    if let Some(m) = by_email(tx.conn, email)? {
        return Ok(m);
    }
    tx.conn
        .prepare_cached(
            "INSERT INTO members (email, email_key, name, status, registered_at)
             VALUES (?1, ?2, '', 'pending', ?3)",
        )?
        .execute(params![email.trim(), address::key(email), tx.now])?;
    by_id(tx.conn, tx.conn.last_insert_rowid())?
        .ok_or_else(|| Error::from(Storage::Vanished("member")))
}

/// The details a confirmation link carries, which count if that link is followed.
#[derive(Debug, Clone, Default)]
struct Details {
    /// The name given.
    name: Option<String>,
    /// The member whose referral code was given.
    referrer: Option<i64>,
}

/// The details of the newest registration that sent `member` a confirmation link (none
/// for an id that is no one's). A fresh link asked for by address alone carries these,
/// so asking again for a link changes nothing of what was registered.
fn registered_details(c: &Connection, member: i64) -> Result<Details, Error> {
    Ok(c.prepare_cached(
        "SELECT name, referrer_id FROM links WHERE member_id = ?1 AND purpose = 'confirm'
         ORDER BY id DESC LIMIT 1",
    )?
    .query_row([member], |r| {
        Ok(Details {
            name: r.get(0)?,
            referrer: r.get(1)?,
        })
    })
    .optional()?
    .unwrap_or_default())
}

/// Registers an address, or sends the right link to one already known. Mail goes to
/// the address as stored, never to the text typed.
pub fn register(
    tx: &mut Tx<'_>,
    r: &Registration,
    cfg: &LoyaltyConfig,
    mailer: LinkMailer<'_>,
) -> Result<Registered, Error> {
    let referrer = match &r.referral {
        Some(code) => by_code(tx.conn, code)?.filter(|m| m.active),
        None => None,
    };
    let details = Details {
        name: Some(r.name.clone()),
        referrer: referrer.map(|m| m.id),
    };
    send_link(tx, r, cfg, mailer, &details)
}

/// The end of [`register`] and [`send_new_link`]: a sign-in link for a member, or a
/// confirmation carrying `details` for an address not confirmed yet.
fn send_link(
    tx: &mut Tx<'_>,
    r: &Registration,
    cfg: &LoyaltyConfig,
    mailer: LinkMailer<'_>,
    details: &Details,
) -> Result<Registered, Error> {
    note_request(tx)?;
    let confirm_for = i64::from(cfg.confirm_link_hours) * 3600;
    let known = by_email(tx.conn, &r.email)?;
    if let Some(m) = &known {
        if throttled(tx, m.id, cfg)? {
            let (kind, token) = if m.active {
                (LinkMailKind::SignIn(&m.name), &r.sign_in)
            } else {
                (LinkMailKind::Confirm, &r.confirm)
            };
            nothing_to_send(tx, mailer(kind, &m.email, token)?, token)?;
            return Ok(Registered::Throttled);
        }
        if m.active {
            let lifetime = i64::from(cfg.sign_in_link_minutes) * 60;
            let mail = mailer(LinkMailKind::SignIn(&m.name), &m.email, &r.sign_in)?;
            links::issue(
                tx,
                &NewLink::new(&r.sign_in, Purpose::SignIn, Some(m.id), lifetime),
            )?;
            tx.queue_mail(&mail)?;
            return Ok(Registered::SignInSent);
        }
    }
    let m = pending_account(tx, &r.email)?;
    let mail = mailer(LinkMailKind::Confirm, &m.email, &r.confirm)?;
    let mut link = NewLink::new(&r.confirm, Purpose::Confirm, Some(m.id), confirm_for);
    link.name = details.name.as_deref();
    link.referrer = details.referrer;
    links::issue(tx, &link)?;
    tx.queue_mail(&mail)?;
    Ok(if known.is_some() {
        Registered::ConfirmationSent
    } else {
        Registered::Created
    })
}

/// What following a confirmation or sign-in link did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedIn {
    /// Who is now signed in.
    pub member: Member,
    /// True the first time an account is confirmed (and the bonus credited).
    pub newly_confirmed: bool,
}

/// Builds the "a friend joined" email for the referrer, given their account and
/// whether the reward waits for staff.
pub type FriendMail<'a> = &'a dyn Fn(&Member, i64, bool) -> Result<NewMail, Error>;

/// Uses a member's link for `purpose`; the link and the member it was sent to.
fn member_of_link(
    tx: &Tx<'_>,
    token: &str,
    purpose: Purpose,
) -> Result<Result<(links::Link, Member), LinkProblem>, Error> {
    let link = match links::spend(tx, token, &[purpose])? {
        Ok(l) => l,
        Err(p) => return Ok(Err(p)),
    };
    let m = link.member_row(tx.conn, by_id)?;
    Ok(m.map(|m| (link, m)).ok_or(LinkProblem::Unknown))
}

/// Uses a confirmation link: activates the account with the details of the
/// registration that sent this link, credits the bonus and the referrer's reward once,
/// and starts a session.
pub fn confirm(
    tx: &mut Tx<'_>,
    token: &str,
    session: &NewToken,
    cfg: &LoyaltyConfig,
    friend_mail: FriendMail<'_>,
) -> Result<Result<SignedIn, LinkProblem>, Error> {
    let (link, m) = match member_of_link(tx, token, Purpose::Confirm)? {
        Ok(found) => found,
        Err(p) => return Ok(Err(p)),
    };
    let signed = confirm_member(tx, &link, &m, session, cfg, friend_mail)?;
    Ok(Ok(signed))
}

/// The shared end of every link that confirms an address (a confirmation, or a held
/// comment's link for an address that never confirmed).
pub(crate) fn confirm_member(
    tx: &mut Tx<'_>,
    link: &links::Link,
    m: &Member,
    session: &NewToken,
    cfg: &LoyaltyConfig,
    friend_mail: FriendMail<'_>,
) -> Result<SignedIn, Error> {
    // Every other confirmation link for this address is spent too (a held comment's
    // own link stays: it still releases that comment, and only it).
    tx.conn.execute(
        "UPDATE links SET used_at = ?2
         WHERE member_id = ?1 AND purpose = 'confirm' AND used_at IS NULL",
        params![m.id, tx.now],
    )?;
    let newly_confirmed = !m.active;
    if newly_confirmed {
        let (name, referrer) = if link.purpose == Purpose::CommentConfirm {
            // A held comment's link carries the comment's display name and no referral
            // code: it is not a registration. What the address registered with stays (a
            // name or referrer already stored, else the newest registration's), and the
            // display name is the name only when there is none.
            let registered = registered_details(tx.conn, m.id)?;
            let name = [
                Some(m.name.as_str()),
                registered.name.as_deref(),
                link.name.as_deref(),
            ]
            .into_iter()
            .flatten()
            .find(|n| !n.is_empty())
            .unwrap_or_default()
            .to_string();
            (name, m.referred_by.or(registered.referrer))
        } else {
            // The details that count are this link's registration's, whoever registered
            // first.
            let name = link.name.as_deref().unwrap_or(&m.name).to_string();
            (name, link.referrer)
        };
        // A referrer forgotten since the registration is no one (their id cannot be
        // stored, and would earn nothing).
        let referrer = match referrer {
            Some(id) if by_id(tx.conn, id)?.is_some() => Some(id),
            _ => None,
        };
        tx.conn.execute(
            "UPDATE members SET name = ?2, referred_by = ?3 WHERE id = ?1",
            params![m.id, name, referrer],
        )?;
        let m = by_id(tx.conn, m.id)?.ok_or_else(|| Error::from(Storage::Vanished("member")))?;
        activate(tx, &m, cfg, friend_mail)?;
    }
    start_session(tx, m.id, session, cfg)?;
    let member = by_id(tx.conn, m.id)?.ok_or_else(|| Error::from(Storage::Vanished("member")))?;
    Ok(SignedIn {
        member,
        newly_confirmed,
    })
}

fn activate(
    tx: &mut Tx<'_>,
    m: &Member,
    cfg: &LoyaltyConfig,
    friend_mail: FriendMail<'_>,
) -> Result<(), Error> {
    let mut code = referral_code();
    while by_code(tx.conn, &code)?.is_some() {
        code = referral_code();
    }
    tx.conn.execute(
        "UPDATE members SET status = 'active', confirmed_at = ?2, referral_code = ?3
         WHERE id = ?1",
        params![m.id, tx.now, code],
    )?;
    if cfg.signup_bonus > 0 {
        ledger::add(
            tx.conn,
            &NewEntry {
                member: m.id,
                amount: i64::from(cfg.signup_bonus),
                kind: Kind::Signup,
                status: Status::Confirmed,
                settles: None,
                reward: None,
                friend: None,
                reason: "Welcome bonus for joining",
                actor: "system",
            },
            tx.now,
        )?;
    }
    let Some(referrer) = m
        .referred_by
        .map(|id| by_id(tx.conn, id))
        .transpose()?
        .flatten()
    else {
        return Ok(());
    };
    // One person under two addresses (`lou+1@`, dots at Gmail) earns nothing.
    if !referrer.active
        || referrer.id == m.id
        || address::person_key(&referrer.email) == address::person_key(&m.email)
    {
        return Ok(());
    }
    let amount = i64::from(cfg.referral_reward);
    let recent: i64 = tx.conn.query_row(
        "SELECT count(*) FROM ledger WHERE member_id = ?1 AND kind = 'referral'
         AND settles IS NULL AND status IN ('pending', 'confirmed') AND created_at > ?2",
        params![referrer.id, tx.now - 30 * 86_400],
        |r| r.get(0),
    )?;
    let over_cap = cfg.referral_monthly_cap > 0 && recent >= i64::from(cfg.referral_monthly_cap);
    let (amount, status, reason) = if over_cap {
        (
            0,
            Status::Void,
            "A friend joined, over the limit of referral rewards in 30 days",
        )
    } else if cfg.referral_auto_confirm {
        (amount, Status::Confirmed, "A friend you referred joined")
    } else {
        (
            amount,
            Status::Pending,
            "A friend you referred joined (confirmed after their first paid treatment)",
        )
    };
    ledger::add(
        tx.conn,
        &NewEntry {
            member: referrer.id,
            amount,
            kind: Kind::Referral,
            status,
            settles: None,
            reward: None,
            friend: Some(m.id),
            reason,
            actor: "system",
        },
        tx.now,
    )?;
    if !over_cap && amount > 0 {
        let mail = friend_mail(&referrer, amount, status == Status::Pending)?;
        tx.queue_mail(&mail)?;
    }
    Ok(())
}

/// Uses a sign-in link and starts a session.
pub fn sign_in(
    tx: &mut Tx<'_>,
    token: &str,
    session: &NewToken,
    cfg: &LoyaltyConfig,
) -> Result<Result<SignedIn, LinkProblem>, Error> {
    let (_, m) = match member_of_link(tx, token, Purpose::SignIn)? {
        Ok(found) => found,
        Err(p) => return Ok(Err(p)),
    };
    if !m.active {
        return Ok(Err(LinkProblem::Unknown));
    }
    start_session(tx, m.id, session, cfg)?;
    Ok(Ok(SignedIn {
        member: m,
        newly_confirmed: false,
    }))
}

/// Sends a fresh link to an address that asked for one (from an expired link's page
/// or the sign-in page): sign-in for members, confirmation for the unconfirmed,
/// nothing for addresses we do not know. Every case builds one email and writes a link
/// row, so the answer takes the same time whatever the address; the visitor sees the
/// same page for each. A fresh confirmation carries the details of the newest
/// registration (`links_` names no one and no referral code), so the name and the
/// referrer survive a link that ran out.
pub fn send_new_link(
    tx: &mut Tx<'_>,
    links_: &Registration,
    cfg: &LoyaltyConfig,
    mailer: LinkMailer<'_>,
) -> Result<Option<Registered>, Error> {
    let known = by_email(tx.conn, &links_.email)?;
    // Read for every address, so that the work is the same.
    let details = registered_details(tx.conn, known.as_ref().map_or(0, |m| m.id))?;
    if known.is_none() {
        note_request(tx)?;
        // The same reads and writes as for a known address; the stranger's address
        // is kept nowhere. Text that is no address at all (`ann@example,com`) gets the
        // same work, its never-sent email built for a stand-in address.
        let _ = throttled(tx, 0, cfg)?;
        let to = if crate::validate::is_email(&links_.email) {
            &links_.email
        } else {
            NOWHERE
        };
        let mail = mailer(LinkMailKind::Confirm, to, &links_.confirm)?;
        nothing_to_send(tx, mail, &links_.confirm)?;
        return Ok(None);
    }
    send_link(tx, links_, cfg, mailer, &details).map(Some)
}

/// Where the email for a request that sends nothing is addressed when the text typed is
/// not an address: it is never sent, and its outbox row keeps no recipient.
const NOWHERE: &str = "nobody@example.invalid";

/// The writes of a link email that is not sent: a link row that can never be used (it
/// names no one and has expired) and an outbox row settled at once with no recipient,
/// subject or body. So an answer that sends nothing commits what one that sends does.
fn nothing_to_send(tx: &mut Tx<'_>, mail: NewMail, token: &NewToken) -> Result<(), Error> {
    links::issue(tx, &NewLink::new(token, Purpose::Confirm, None, 0))?;
    tx.settle_unsent(&mail)
}

fn start_session(
    tx: &Tx<'_>,
    member: i64,
    token: &NewToken,
    cfg: &LoyaltyConfig,
) -> Result<(), Error> {
    let sessions = token::Sessions::Members;
    Ok(token::start_session(
        tx.conn,
        sessions,
        token,
        &member,
        tx.now,
        cfg.session_days,
    )?)
}

/// The signed-in member for a session cookie's value, if the session is live.
pub fn session_member(c: &Connection, cookie: &str, now: i64) -> Result<Option<Member>, Error> {
    let Some(p) = Presented::parse(cookie) else {
        return Ok(None);
    };
    let row: Option<(i64, Vec<u8>, i64)> = c
        .prepare_cached("SELECT member_id, verifier, expires_at FROM sessions WHERE selector = ?1")?
        .query_row([&p.selector], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    match row {
        Some((member, verifier, expires)) if p.matches(&verifier) && now < expires => {
            Ok(by_id(c, member)?.filter(|m| m.active))
        }
        _ => Ok(None),
    }
}

/// Ends the session a cookie names (if the cookie is genuine).
pub fn end_session(tx: &mut Tx<'_>, cookie: &str) -> Result<(), Error> {
    Ok(token::end_session(
        tx.conn,
        token::Sessions::Members,
        cookie,
    )?)
}
