//! Erasing members: `forget` takes one person with their links, sessions and ledger
//! rows; `purge` takes spent links, ended sessions, and registrations never confirmed.

use rusqlite::{params, Connection};

use crate::Error;

/// What forgetting a member erased.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemberForgotten {
    /// Whether there was an account.
    pub account: bool,
    /// Ledger rows erased with it.
    pub ledger_rows: usize,
    /// Links and sessions erased with it.
    pub tokens: usize,
    /// Their comments erased with it, and how many of those were published.
    pub comments: (usize, usize),
}

/// Erases the member with this address (any case), with everything that is theirs.
/// Friends they referred stay members, without a referrer.
pub fn forget(c: &mut Connection, email: &str) -> Result<MemberForgotten, Error> {
    let tx = c.transaction()?;
    let id: Option<i64> = tx
        .query_row(
            "SELECT id FROM members WHERE email_key = ?1",
            [crate::address::key(email)],
            |r| r.get(0),
        )
        .ok();
    let Some(id) = id else {
        return Ok(MemberForgotten::default());
    };
    let count = |sql: &str| -> Result<usize, Error> {
        Ok(tx.query_row(sql, [id], |r| r.get::<_, i64>(0))? as usize)
    };
    let ledger_rows = count("SELECT count(*) FROM ledger WHERE member_id = ?1")?;
    let tokens = count(
        "SELECT (SELECT count(*) FROM links WHERE member_id = ?1)
              + (SELECT count(*) FROM sessions WHERE member_id = ?1)",
    )?;
    let comments = (
        count("SELECT count(*) FROM comments WHERE member_id = ?1")?,
        count("SELECT count(*) FROM comments WHERE member_id = ?1 AND status = 'approved'")?,
    );
    // Registrations that named them as referrer, not confirmed yet, name no one now.
    tx.execute(
        "UPDATE links SET referrer_id = NULL WHERE referrer_id = ?1",
        [id],
    )?;
    // The cascade takes links, sessions, comments and ledger rows; the ledger's triggers allow
    // that only because the member goes in the same statement.
    tx.execute("DELETE FROM members WHERE id = ?1", [id])?;
    tx.commit()?;
    Ok(MemberForgotten {
        account: true,
        ledger_rows,
        tokens,
        comments,
    })
}

/// What `purge` removed from the programme.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MembersPurged {
    /// Links past their time or used.
    pub links: usize,
    /// Sessions past their time.
    pub sessions: usize,
    /// Registrations never confirmed, whose links have all run out.
    pub unconfirmed: usize,
}

/// Removes what no longer works. A used link is kept for a day, so that following it
/// again still says "already used" rather than "not ours".
pub fn purge(c: &mut Connection, now: i64) -> Result<MembersPurged, Error> {
    let tx = c.transaction()?;
    let unconfirmed = tx.execute(
        "DELETE FROM members WHERE status = 'pending' AND NOT EXISTS
           (SELECT 1 FROM links WHERE member_id = members.id AND expires_at > ?1)",
        params![now],
    )?;
    let links = tx.execute(
        "DELETE FROM links WHERE expires_at <= ?1 OR used_at <= ?1 - 86400",
        params![now],
    )?;
    let sessions = tx.execute("DELETE FROM sessions WHERE expires_at <= ?1", params![now])?;
    tx.execute(
        "DELETE FROM link_requests WHERE at <= ?1 - 86400",
        params![now],
    )?;
    tx.commit()?;
    Ok(MembersPurged {
        links,
        sessions,
        unconfirmed,
    })
}
