//! Accounts: registering, confirming, signing in by emailed link, sessions, and asking
//! for rewards. Each function runs inside one transaction ([`Tx`]), so a check and the
//! change it allows can never be split by another request.

use rusqlite::{params, Connection, OptionalExtension};
use site_config::{LoyaltyConfig, Reward};

use super::ledger::{self, Decision, Entry, Kind, NewEntry, Status};
use super::token::{email_key, normalise_code, referral_code, NewToken, Presented};
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

/// The member with this address (any case, surrounding space ignored).
pub fn by_email(c: &Connection, email: &str) -> Result<Option<Member>, Error> {
    Ok(c.prepare_cached(&format!("{MEMBER} WHERE email_key = ?1"))?
        .query_row([email_key(email)], member)
        .optional()?)
}

/// The member with this id.
pub fn by_id(c: &Connection, id: i64) -> Result<Option<Member>, Error> {
    Ok(c.prepare_cached(&format!("{MEMBER} WHERE id = ?1"))?
        .query_row([id], member)
        .optional()?)
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

/// What an emailed link is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Confirms a new member's address.
    Confirm,
    /// Signs a member in.
    SignIn,
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
    fn as_str(self) -> &'static str {
        match self {
            Purpose::Confirm => "confirm",
            Purpose::SignIn => "sign_in",
            Purpose::RewardUsed => "reward_used",
            Purpose::RewardDeclined => "reward_declined",
            Purpose::CommentApprove => "comment_approve",
            Purpose::CommentReject => "comment_reject",
            Purpose::CommentReply => "comment_reply",
        }
    }

    fn parse(s: &str) -> Option<Purpose> {
        [
            Purpose::Confirm,
            Purpose::SignIn,
            Purpose::RewardUsed,
            Purpose::RewardDeclined,
            Purpose::CommentApprove,
            Purpose::CommentReject,
            Purpose::CommentReply,
        ]
        .into_iter()
        .find(|p| p.as_str() == s)
    }
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
    /// The ledger row a staff link settles.
    pub subject: Option<i64>,
    /// When it stops working.
    pub expires_at: i64,
}

/// Looks a presented token up, changing nothing: what a `GET` of the link may do.
pub fn check_link(
    c: &Connection,
    token: &str,
    allowed: &[Purpose],
    now: i64,
) -> Result<Result<Link, LinkProblem>, Error> {
    let Some(p) = Presented::parse(token) else {
        return Ok(Err(LinkProblem::Unknown));
    };
    let row = c
        .prepare_cached(
            "SELECT id, purpose, member_id, subject_id, expires_at, used_at, verifier
             FROM links WHERE selector = ?1",
        )?
        .query_row([&p.selector], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<i64>>(2)?,
                r.get::<_, Option<i64>>(3)?,
                r.get::<_, i64>(4)?,
                r.get::<_, Option<i64>>(5)?,
                r.get::<_, Vec<u8>>(6)?,
            ))
        })
        .optional()?;
    let Some((id, purpose, member, subject, expires_at, used_at, verifier)) = row else {
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
        expires_at,
    }))
}

/// Checks a link and marks it used, in the caller's transaction.
pub(crate) fn use_link(
    tx: &Tx<'_>,
    token: &str,
    allowed: &[Purpose],
) -> Result<Result<Link, LinkProblem>, Error> {
    let link = check_link(tx.conn, token, allowed, tx.now)?;
    if let Ok(l) = &link {
        tx.conn
            .prepare_cached("UPDATE links SET used_at = ?2 WHERE id = ?1 AND used_at IS NULL")?
            .execute(params![l.id, tx.now])?;
    }
    Ok(link)
}

/// Stores a link's token for `purpose`, working for `lifetime` seconds.
pub(crate) fn insert_link(
    tx: &Tx<'_>,
    token: &NewToken,
    purpose: Purpose,
    member: i64,
    subject: Option<i64>,
    lifetime: i64,
) -> Result<(), Error> {
    tx.conn
        .prepare_cached(
            "INSERT INTO links (selector, verifier, purpose, member_id, subject_id, created_at,
                                expires_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?
        .execute(params![
            token.selector,
            &token.verifier[..],
            purpose.as_str(),
            member,
            subject,
            tx.now,
            tx.now + lifetime
        ])?;
    Ok(())
}

/// A link made before the transaction, with the email that carries it.
#[derive(Debug, Clone)]
pub struct PreparedLink {
    /// The token in the link.
    pub token: NewToken,
    /// The email, ready to queue.
    pub mail: NewMail,
}

/// A registration, with both emails it might send: the handler prepares both, so the
/// work (and the time) is the same whether or not the address is known.
#[derive(Debug, Clone)]
pub struct Registration {
    /// Their name.
    pub name: String,
    /// The address as typed (trimmed).
    pub email: String,
    /// The referral code they gave, if any.
    pub referral: Option<String>,
    /// For a new (or still unconfirmed) address.
    pub confirm: PreparedLink,
    /// For an address that is already a member.
    pub sign_in: PreparedLink,
}

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
             AND purpose IN ('confirm', 'sign_in') AND created_at > ?2",
        )?
        .query_row(params![member, tx.now - 3600], |r| r.get(0))?;
    Ok(sent >= i64::from(cfg.emails_per_address_per_hour))
}

/// Notes a request for an emailed link. Every request writes this row, whatever the
/// address, so that the commit, and with it the answer's timing, is the same for all.
fn note_request(tx: &Tx<'_>, email: &str) -> Result<(), Error> {
    tx.conn
        .prepare_cached("INSERT INTO link_requests (email_hash, at) VALUES (?1, ?2)")?
        .execute(params![
            &blake3::hash(email_key(email).as_bytes()).as_bytes()[..],
            tx.now
        ])?;
    Ok(())
}

/// Registers an address, or sends the right link to one already known.
pub fn register(
    tx: &mut Tx<'_>,
    r: &Registration,
    cfg: &LoyaltyConfig,
) -> Result<Registered, Error> {
    note_request(tx, &r.email)?;
    let confirm_for = i64::from(cfg.confirm_link_hours) * 3600;
    let referrer = match &r.referral {
        Some(code) => by_code(tx.conn, code)?.filter(|m| m.active),
        None => None,
    };
    match by_email(tx.conn, &r.email)? {
        Some(m) if throttled(tx, m.id, cfg)? => Ok(Registered::Throttled),
        Some(m) if m.active => {
            let lifetime = i64::from(cfg.sign_in_link_minutes) * 60;
            insert_link(tx, &r.sign_in.token, Purpose::SignIn, m.id, None, lifetime)?;
            tx.queue_mail(&r.sign_in.mail)?;
            Ok(Registered::SignInSent)
        }
        Some(m) => {
            // A member has one referrer: the first code given keeps it.
            if m.referred_by.is_none() {
                if let Some(by) = referrer {
                    tx.conn.execute(
                        "UPDATE members SET referred_by = ?2 WHERE id = ?1",
                        params![m.id, by.id],
                    )?;
                }
            }
            insert_link(
                tx,
                &r.confirm.token,
                Purpose::Confirm,
                m.id,
                None,
                confirm_for,
            )?;
            tx.queue_mail(&r.confirm.mail)?;
            Ok(Registered::ConfirmationSent)
        }
        None => {
            tx.conn
                .prepare_cached(
                    "INSERT INTO members (email, email_key, name, status, referred_by,
                                          registered_at)
                     VALUES (?1, ?2, ?3, 'pending', ?4, ?5)",
                )?
                .execute(params![
                    r.email.trim(),
                    email_key(&r.email),
                    r.name,
                    referrer.map(|m| m.id),
                    tx.now
                ])?;
            let id = tx.conn.last_insert_rowid();
            insert_link(
                tx,
                &r.confirm.token,
                Purpose::Confirm,
                id,
                None,
                confirm_for,
            )?;
            tx.queue_mail(&r.confirm.mail)?;
            Ok(Registered::Created)
        }
    }
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

/// Work done in the same transaction once someone follows their link (comments they
/// left while signed out go to moderation), given the member and the link's lifetime.
pub type AfterLink<'a> = &'a dyn Fn(&mut Tx<'_>, &Member, i64) -> Result<(), Error>;

/// Uses a member's link for `purpose`; the member it was sent to.
fn member_of_link(
    tx: &Tx<'_>,
    token: &str,
    purpose: Purpose,
) -> Result<Result<Member, LinkProblem>, Error> {
    let link = match use_link(tx, token, &[purpose])? {
        Ok(l) => l,
        Err(p) => return Ok(Err(p)),
    };
    Ok(link
        .member
        .map(|id| by_id(tx.conn, id))
        .transpose()?
        .flatten()
        .ok_or(LinkProblem::Unknown))
}

/// Uses a confirmation link: activates the account, credits the bonus and the
/// referrer's reward once, and starts a session.
pub fn confirm(
    tx: &mut Tx<'_>,
    token: &str,
    session: &NewToken,
    cfg: &LoyaltyConfig,
    friend_mail: FriendMail<'_>,
    after: AfterLink<'_>,
) -> Result<Result<SignedIn, LinkProblem>, Error> {
    let m = match member_of_link(tx, token, Purpose::Confirm)? {
        Ok(m) => m,
        Err(p) => return Ok(Err(p)),
    };
    // Every other confirmation link for this address is spent too.
    tx.conn.execute(
        "UPDATE links SET used_at = ?2
         WHERE member_id = ?1 AND purpose = 'confirm' AND used_at IS NULL",
        params![m.id, tx.now],
    )?;
    let newly_confirmed = !m.active;
    if newly_confirmed {
        activate(tx, &m, cfg, friend_mail)?;
    }
    start_session(tx, m.id, session, cfg)?;
    let member = by_id(tx.conn, m.id)?.ok_or_else(|| Error::Storage("member vanished".into()))?;
    after(tx, &member, i64::from(cfg.confirm_link_hours) * 3600)?;
    Ok(Ok(SignedIn {
        member,
        newly_confirmed,
    }))
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
    if !referrer.active || referrer.id == m.id || email_key(&referrer.email) == email_key(&m.email)
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
    after: AfterLink<'_>,
) -> Result<Result<SignedIn, LinkProblem>, Error> {
    let m = match member_of_link(tx, token, Purpose::SignIn)? {
        Ok(m) => m,
        Err(p) => return Ok(Err(p)),
    };
    if !m.active {
        return Ok(Err(LinkProblem::Unknown));
    }
    start_session(tx, m.id, session, cfg)?;
    after(tx, &m, i64::from(cfg.sign_in_link_minutes) * 60)?;
    Ok(Ok(SignedIn {
        member: m,
        newly_confirmed: false,
    }))
}

/// Sends a fresh link to an address that asked for one (from an expired link's page
/// or the sign-in page): sign-in for members, confirmation for the unconfirmed,
/// nothing for addresses we do not know. The visitor sees the same answer for each.
pub fn send_new_link(
    tx: &mut Tx<'_>,
    email: &str,
    links: &Registration,
    cfg: &LoyaltyConfig,
) -> Result<Option<Registered>, Error> {
    if by_email(tx.conn, email)?.is_none() {
        note_request(tx, email)?;
        return Ok(None);
    }
    register(tx, links, cfg).map(Some)
}

fn start_session(
    tx: &Tx<'_>,
    member: i64,
    token: &NewToken,
    cfg: &LoyaltyConfig,
) -> Result<(), Error> {
    tx.conn
        .prepare_cached(
            "INSERT INTO sessions (selector, verifier, member_id, created_at, expires_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?
        .execute(params![
            token.selector,
            &token.verifier[..],
            member,
            tx.now,
            tx.now + i64::from(cfg.session_days) * 86_400
        ])?;
    Ok(())
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
    let Some(p) = Presented::parse(cookie) else {
        return Ok(());
    };
    let verifier: Option<Vec<u8>> = tx
        .conn
        .query_row(
            "SELECT verifier FROM sessions WHERE selector = ?1",
            [&p.selector],
            |r| r.get(0),
        )
        .optional()?;
    if verifier.is_some_and(|v| p.matches(&v)) {
        tx.conn
            .execute("DELETE FROM sessions WHERE selector = ?1", [&p.selector])?;
    }
    Ok(())
}

/// The two staff links for a reward request, and the staff email carrying them.
#[derive(Debug, Clone)]
pub struct RewardLinks {
    /// "Used at the clinic".
    pub used: NewToken,
    /// "Declined".
    pub declined: NewToken,
    /// The email to staff.
    pub mail: NewMail,
}

/// Holds a reward's points for a signed-in member and emails staff; refused when the
/// balance is short. Run in the writer, so two requests at once cannot both pass.
pub fn ask_for_reward(
    tx: &mut Tx<'_>,
    member: i64,
    reward: &Reward,
    links: &RewardLinks,
    cfg: &LoyaltyConfig,
) -> Result<i64, Error> {
    let reason = format!("Set aside for: {}", reward.title);
    let held = ledger::spend_or_credit(
        tx.conn,
        &NewEntry {
            member,
            amount: -i64::from(reward.points),
            kind: Kind::Reward,
            status: Status::Held,
            settles: None,
            reward: Some(&reward.id),
            friend: None,
            reason: &reason,
            actor: "member",
        },
        tx.now,
    )?;
    let lifetime = i64::from(cfg.staff_link_days) * 86_400;
    insert_link(
        tx,
        &links.used,
        Purpose::RewardUsed,
        member,
        Some(held),
        lifetime,
    )?;
    insert_link(
        tx,
        &links.declined,
        Purpose::RewardDeclined,
        member,
        Some(held),
        lifetime,
    )?;
    tx.queue_mail(&links.mail)?;
    Ok(held)
}

/// Uses a staff link from a reward email: the reward was used, or is declined.
pub fn settle_by_link(
    tx: &mut Tx<'_>,
    token: &str,
) -> Result<Result<(Purpose, Entry), LinkProblem>, Error> {
    let link = match use_link(tx, token, &[Purpose::RewardUsed, Purpose::RewardDeclined])? {
        Ok(l) => l,
        Err(p) => return Ok(Err(p)),
    };
    let Some(entry) = link.subject else {
        return Ok(Err(LinkProblem::Unknown));
    };
    // The other link of the pair is spent with this one.
    tx.conn.execute(
        "UPDATE links SET used_at = ?2 WHERE subject_id = ?1 AND used_at IS NULL
         AND purpose IN ('reward_used', 'reward_declined')",
        params![entry, tx.now],
    )?;
    let (decision, reason) = match link.purpose {
        Purpose::RewardUsed => (Decision::Confirm, "Reward used at the clinic"),
        _ => (Decision::Void, "Reward declined: points given back"),
    };
    match ledger::settle(
        tx.conn,
        entry,
        decision,
        reason,
        "staff (email link)",
        tx.now,
    ) {
        Ok((e, _)) => Ok(Ok((link.purpose, e))),
        // Settled meanwhile from the command line.
        Err(Error::Refused(_)) => Ok(Err(LinkProblem::Used)),
        Err(e) => Err(e),
    }
}
