//! The points ledger: every change of points is a row, and balances are sums of rows.
//!
//! Rows are only ever added (the schema's triggers refuse updates and deletes; `forget`
//! removes a member with their rows). A referral reward starts `pending` and a reward a
//! member asks for starts `held`; a later row settles it (`settles` names the row, once).
//! The points a member can spend are the confirmed rows plus the holds still open, so a
//! held reward is already off the balance.

use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

use crate::error::Refusal;
use crate::Error;

/// What a row is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// The bonus for confirming.
    Signup,
    /// A friend joined with the member's code.
    Referral,
    /// A reward asked for.
    Reward,
    /// Staff changed the balance by hand.
    Adjustment,
}

/// Where a row stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Counts towards the balance.
    Confirmed,
    /// A referral reward waiting for staff.
    Pending,
    /// Points set aside for a reward until it is used or declined.
    Held,
    /// A pending reward that staff voided (or that a rule stopped).
    Void,
    /// A held reward declined: the points are free again.
    Released,
}

macro_rules! text_enum {
    ($t:ty { $($v:ident => $s:literal),* $(,)? }) => {
        impl $t {
            /// The word stored in the database.
            pub fn as_str(self) -> &'static str {
                match self { $(<$t>::$v => $s),* }
            }
            fn parse(s: &str) -> Option<Self> {
                match s { $($s => Some(<$t>::$v),)* _ => None }
            }
        }
    };
}
text_enum!(Kind { Signup => "signup", Referral => "referral", Reward => "reward", Adjustment => "adjustment" });
text_enum!(Status { Confirmed => "confirmed", Pending => "pending", Held => "held", Void => "void", Released => "released" });

/// A row to add.
#[derive(Debug, Clone)]
pub struct NewEntry<'a> {
    /// Whose points.
    pub member: i64,
    /// Points, positive or negative.
    pub amount: i64,
    /// What for.
    pub kind: Kind,
    /// Where it stands.
    pub status: Status,
    /// The pending or held row this one settles.
    pub settles: Option<i64>,
    /// The reward's id, for reward rows.
    pub reward: Option<&'a str>,
    /// The friend who joined, for referral rows.
    pub friend: Option<i64>,
    /// Why, in words the member reads on their page.
    pub reason: &'a str,
    /// Who made the change: `system`, `member`, or `staff:<name>`.
    pub actor: &'a str,
}

/// One row, as read back.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    /// Row id (`points confirm ID`).
    pub id: i64,
    /// Whose.
    pub member: i64,
    /// Points.
    pub amount: i64,
    /// What for.
    pub kind: Kind,
    /// Where it stands.
    pub status: Status,
    /// The row it settles.
    pub settles: Option<i64>,
    /// The reward's id.
    pub reward: Option<String>,
    /// Why.
    pub reason: String,
    /// Who.
    pub actor: String,
    /// When (seconds since the epoch).
    pub created_at: i64,
    /// For a pending or held row: true while nothing has settled it.
    pub open: bool,
}

/// A member's points.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Balance {
    /// Points they can spend now.
    pub available: i64,
    /// Referral rewards waiting for staff.
    pub pending: i64,
    /// Points set aside for rewards asked for.
    pub held: i64,
}

/// Adds a row; returns its id.
pub fn add(c: &Connection, e: &NewEntry<'_>, now: i64) -> Result<i64, Error> {
    c.prepare_cached(
        "INSERT INTO ledger (member_id, amount, kind, status, settles, reward, friend_id,
                             reason, actor, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?
    .execute(params![
        e.member,
        e.amount,
        e.kind.as_str(),
        e.status.as_str(),
        e.settles,
        e.reward,
        e.friend,
        e.reason,
        e.actor,
        now
    ])?;
    Ok(c.last_insert_rowid())
}

const OPEN: &str = "NOT EXISTS (SELECT 1 FROM ledger s WHERE s.settles = l.id)";

/// The member's balance, from their rows.
pub fn balance(c: &Connection, member: i64) -> Result<Balance, Error> {
    let sql = format!(
        "SELECT
           coalesce(sum(CASE WHEN l.status = 'confirmed' THEN l.amount
                             WHEN l.status = 'held' AND {OPEN} THEN l.amount ELSE 0 END), 0),
           coalesce(sum(CASE WHEN l.status = 'pending' AND {OPEN} THEN l.amount ELSE 0 END), 0),
           coalesce(sum(CASE WHEN l.status = 'held' AND {OPEN} THEN -l.amount ELSE 0 END), 0)
         FROM ledger l WHERE l.member_id = ?1"
    );
    Ok(c.prepare_cached(&sql)?.query_row([member], |r| {
        Ok(Balance {
            available: r.get(0)?,
            pending: r.get(1)?,
            held: r.get(2)?,
        })
    })?)
}

fn entry(r: &rusqlite::Row<'_>) -> rusqlite::Result<Entry> {
    let kind: String = r.get(3)?;
    let status: String = r.get(4)?;
    let bad = |i, s: String| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, s.into())
    };
    Ok(Entry {
        id: r.get(0)?,
        member: r.get(1)?,
        amount: r.get(2)?,
        kind: Kind::parse(&kind).ok_or_else(|| bad(3, kind.clone()))?,
        status: Status::parse(&status).ok_or_else(|| bad(4, status.clone()))?,
        settles: r.get(5)?,
        reward: r.get(6)?,
        reason: r.get(7)?,
        actor: r.get(8)?,
        created_at: r.get(9)?,
        open: r.get(10)?,
    })
}

fn select(filter: &str) -> String {
    format!(
        "SELECT l.id, l.member_id, l.amount, l.kind, l.status, l.settles, l.reward, l.reason,
                l.actor, l.created_at, (l.status IN ('pending', 'held') AND {OPEN})
         FROM ledger l {filter}"
    )
}

/// A member's rows, newest first.
pub fn history(c: &Connection, member: i64) -> Result<Vec<Entry>, Error> {
    let mut stmt = c.prepare_cached(&select("WHERE l.member_id = ?1 ORDER BY l.id DESC"))?;
    let rows = stmt.query_map([member], entry)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// One row.
pub fn get(c: &Connection, id: i64) -> Result<Option<Entry>, Error> {
    Ok(c.prepare_cached(&select("WHERE l.id = ?1"))?
        .query_row([id], entry)
        .optional()?)
}

/// How row `id` was settled (the status of the row that settles it), if it was.
pub fn settled_as(c: &Connection, id: i64) -> Result<Option<Status>, Error> {
    let status: Option<String> = c
        .prepare_cached("SELECT status FROM ledger WHERE settles = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?;
    Ok(status.as_deref().and_then(Status::parse))
}

/// Every pending referral and held reward, oldest first: staff's to-do list.
pub fn open_entries(c: &Connection) -> Result<Vec<Entry>, Error> {
    let mut stmt = c.prepare(&select(&format!(
        "WHERE l.status IN ('pending', 'held') AND {OPEN} ORDER BY l.id"
    )))?;
    let rows = stmt.query_map([], entry)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Every row, oldest first (`points export`).
pub fn all(c: &Connection) -> Result<Vec<Entry>, Error> {
    let mut stmt = c.prepare(&select("ORDER BY l.id"))?;
    let rows = stmt.query_map([], entry)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// How staff settle an open row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// A referral earned (the friend had a paid treatment), or a reward used.
    Confirm,
    /// A referral that does not count, or a reward declined (points released).
    Void,
}

/// Settles a pending referral or a held reward; returns the new row's id. Refused if
/// the row is not open, so two staff acting at once settle it once.
pub fn settle(
    c: &Connection,
    id: i64,
    decision: Decision,
    reason: &str,
    actor: &str,
    now: i64,
) -> Result<(Entry, i64), Error> {
    let e = get(c, id)?.ok_or(Refusal::NoLedgerEntry(id))?;
    if !matches!(e.status, Status::Pending | Status::Held) {
        return Err(Refusal::NotSettleable {
            id,
            status: e.status.as_str(),
            kind: e.kind.as_str(),
        }
        .into());
    }
    if !e.open {
        return Err(Refusal::AlreadySettled(id).into());
    }
    let (amount, status) = match (e.status, decision) {
        (_, Decision::Confirm) => (e.amount, Status::Confirmed),
        (Status::Held, Decision::Void) => (0, Status::Released),
        (_, Decision::Void) => (0, Status::Void),
    };
    let row = add(
        c,
        &NewEntry {
            member: e.member,
            amount,
            kind: e.kind,
            status,
            settles: Some(id),
            reward: e.reward.as_deref(),
            friend: None,
            reason,
            actor,
        },
        now,
    )?;
    Ok((e, row))
}

/// Adds a confirmed change of `amount` points, refused if the balance would go below
/// zero. Staff adjustments and reward holds both come through here.
pub fn spend_or_credit(c: &Connection, e: &NewEntry<'_>, now: i64) -> Result<i64, Error> {
    if e.amount < 0 {
        let have = balance(c, e.member)?.available;
        if have + e.amount < 0 {
            return Err(Refusal::NotEnoughPoints {
                have,
                need: -e.amount,
            }
            .into());
        }
    }
    add(c, e, now)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> (tempfile::TempDir, Connection) {
        let dir = tempfile::tempdir().unwrap();
        let c = crate::store::schema::open(dir.path()).unwrap();
        c.execute(
            "INSERT INTO members (id, email, email_key, name, status, registered_at)
             VALUES (1, 'a@b.example', 'a@b.example', 'Ann', 'active', 0)",
            [],
        )
        .unwrap();
        (dir, c)
    }

    fn entry(amount: i64, kind: Kind, status: Status) -> NewEntry<'static> {
        NewEntry {
            member: 1,
            amount,
            kind,
            status,
            settles: None,
            reward: None,
            friend: None,
            reason: "test",
            actor: "system",
        }
    }

    #[test]
    fn holds_count_against_the_balance_until_settled() {
        let (_d, c) = db();
        add(&c, &entry(50, Kind::Signup, Status::Confirmed), 1).unwrap();
        let p = add(&c, &entry(100, Kind::Referral, Status::Pending), 2).unwrap();
        assert_eq!(
            balance(&c, 1).unwrap(),
            Balance {
                available: 50,
                pending: 100,
                held: 0
            }
        );
        settle(&c, p, Decision::Confirm, "friend treated", "staff:jo", 3).unwrap();
        let h = spend_or_credit(&c, &entry(-100, Kind::Reward, Status::Held), 4).unwrap();
        assert_eq!(
            balance(&c, 1).unwrap(),
            Balance {
                available: 50,
                pending: 0,
                held: 100
            }
        );
        let err = spend_or_credit(&c, &entry(-100, Kind::Reward, Status::Held), 5).unwrap_err();
        assert!(err.to_string().contains("not enough points"), "{err}");
        settle(&c, h, Decision::Void, "declined", "staff:jo", 6).unwrap();
        assert_eq!(balance(&c, 1).unwrap().available, 150);
        let err = settle(&c, h, Decision::Confirm, "again", "staff:jo", 7).unwrap_err();
        assert!(err.to_string().contains("already settled"), "{err}");
    }

    #[test]
    fn the_ledger_refuses_updates_and_deletes() {
        let (_d, c) = db();
        add(&c, &entry(50, Kind::Signup, Status::Confirmed), 1).unwrap();
        let upd = c
            .execute("UPDATE ledger SET amount = 5000", [])
            .unwrap_err();
        assert!(upd.to_string().contains("append-only"), "{upd}");
        let del = c.execute("DELETE FROM ledger", []).unwrap_err();
        assert!(del.to_string().contains("append-only"), "{del}");
        // Only forgetting the member takes the rows with them.
        c.execute("DELETE FROM members WHERE id = 1", []).unwrap();
        let left: i64 = c
            .query_row("SELECT count(*) FROM ledger", [], |r| r.get(0))
            .unwrap();
        assert_eq!(left, 0);
    }
}
