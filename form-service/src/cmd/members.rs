//! `form-service members ...` and `form-service points ...`: staff's view of the loyalty
//! programme. Every change is a new ledger row naming who made it; checks and the
//! change share one transaction, so a running service cannot slip between them.

use crate::error::Usage;
use std::fmt::Write;
use std::path::Path;

use crate::cli::{ExportFormat, MembersAction, PointsAction};
use crate::error::Refusal;
use crate::members::accounts::{self, Member};
use crate::members::ledger::{self, Decision, Entry, Kind, NewEntry, Status};
use crate::settings::Overrides;
use crate::store::run_alone;
use crate::{Clock, Error, Settings};

fn settings(config: &Path) -> Result<Settings, Error> {
    let s = Settings::load(config, Overrides::default())?;
    if s.loyalty.is_none() {
        return Err(Usage::NoLoyalty.into());
    }
    Ok(s)
}

fn member(c: &rusqlite::Connection, email: &str) -> Result<Member, Error> {
    accounts::by_email(c, email)?.ok_or_else(|| Usage::NoMember(email.trim().to_string()).into())
}

/// Who staff are, for the ledger: `--by`, else the login name (`USER`, then
/// `LOGNAME`). Without either (under systemd or some `sudo`s) the change is refused:
/// a ledger row naming `staff:unknown` answers no one's question.
pub(super) fn actor(by: Option<String>) -> Result<String, Usage> {
    named(
        by,
        std::env::var("USER").ok(),
        std::env::var("LOGNAME").ok(),
    )
}

/// [`actor`] without the environment, so it can be tested.
fn named(
    by: Option<String>,
    user: Option<String>,
    logname: Option<String>,
) -> Result<String, Usage> {
    let given = |w: &Option<String>| w.as_deref().is_some_and(|w| !w.trim().is_empty());
    if by.is_some() && !given(&by) {
        return Err(Usage::NoActor);
    }
    [by, user, logname]
        .into_iter()
        .find(given)
        .flatten()
        .map(|w| format!("staff:{}", w.trim()))
        .ok_or(Usage::NoActor)
}

/// Who decided, for a command with no `--by` (comments): the login name if there is
/// one.
pub(super) fn login_actor() -> String {
    actor(None).unwrap_or_else(|_| "staff:unknown".into())
}

pub(super) fn members(config: &Path, data_dir: &Path, action: MembersAction) -> Result<(), Error> {
    let s = settings(config)?;
    let conn = super::open_db(data_dir)?;
    match action {
        MembersAction::List => {
            let mut out = String::from("email\tname\tstatus\tpoints\tpending\tcode\tjoined\n");
            let all = accounts::all(&conn)?;
            for m in &all {
                let b = ledger::balance(&conn, m.id)?;
                let _ = writeln!(
                    out,
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    m.email,
                    m.name,
                    if m.active { "member" } else { "unconfirmed" },
                    b.available,
                    b.pending,
                    m.referral_code.as_deref().unwrap_or("-"),
                    super::local_day(&s, m.registered_at)
                );
            }
            super::print(&out)?;
            eprintln!("{} account(s)", all.len());
            Ok(())
        }
        MembersAction::Show { email } => {
            let m = member(&conn, &email)?;
            let b = ledger::balance(&conn, m.id)?;
            let referrer = match m.referred_by {
                Some(id) => accounts::by_id(&conn, id)?.map(|r| r.email),
                None => None,
            };
            let mut out = format!(
                "{} <{}>\nstatus: {}\nregistered: {}\nreferral code: {}\nreferred by: {}\n\
                 points: {} to spend, {} pending, {} held\n\nid\twhen\tpoints\tkind\tstatus\tby\treason\n",
                m.name,
                m.email,
                if m.active { "member" } else { "unconfirmed" },
                super::local_day(&s, m.registered_at),
                m.referral_code.as_deref().unwrap_or("-"),
                referrer.as_deref().unwrap_or("-"),
                b.available,
                b.pending,
                b.held
            );
            for e in ledger::history(&conn, m.id)?.iter().rev() {
                out.push_str(&entry_line(&s, e));
            }
            super::print(&out)
        }
    }
}

fn entry_line(s: &Settings, e: &Entry) -> String {
    let status = if e.open {
        format!("{} (open)", e.status.as_str())
    } else {
        e.status.as_str().to_string()
    };
    format!(
        "{}\t{}\t{:+}\t{}\t{}\t{}\t{}{}\n",
        e.id,
        super::local_day(s, e.created_at),
        e.amount,
        e.kind.as_str(),
        status,
        e.actor,
        e.reason,
        e.settles
            .map(|id| format!(" (settles {id})"))
            .unwrap_or_default()
    )
}

pub(super) fn points(config: &Path, data_dir: &Path, action: PointsAction) -> Result<(), Error> {
    let s = settings(config)?;
    let mut conn = super::open_db(data_dir)?;
    let now = Clock::default().now();
    let retry = s.retry_for.as_secs() as i64;
    match action {
        PointsAction::Pending => {
            let open = ledger::open_entries(&conn)?;
            if open.is_empty() {
                return super::print("Nothing waits: no pending referrals or held rewards.\n");
            }
            let mut out = String::from("id\twhen\tpoints\tkind\tstatus\tmember\tfriend\treason\n");
            for e in &open {
                let who = accounts::by_id(&conn, e.member)?.map_or_else(String::new, |m| m.email);
                // A referral waits on the friend's first paid treatment: name the friend.
                let friend = match e.kind {
                    Kind::Referral => accounts::friend_of(&conn, e.id)?
                        .map_or_else(|| "(erased)".to_string(), |m| m.email),
                    _ => "-".to_string(),
                };
                let _ = writeln!(
                    out,
                    "{}\t{}\t{:+}\t{}\t{}\t{}\t{}\t{}",
                    e.id,
                    super::local_day(&s, e.created_at),
                    e.amount,
                    e.kind.as_str(),
                    e.status.as_str(),
                    who,
                    friend,
                    e.reason
                );
            }
            out.push_str(
                "\nConfirm a referral once the friend named has had a paid treatment, or a reward once it is used:\n  form-service points confirm ID\nVoid a referral, or decline a reward (its points go back):\n  form-service points void ID --reason \"...\"\n",
            );
            super::print(&out)
        }
        PointsAction::Confirm { id, reason, by } => {
            settle(&mut conn, (now, retry), id, Decision::Confirm, reason, by)
        }
        PointsAction::Void { id, reason, by } => {
            settle(&mut conn, (now, retry), id, Decision::Void, reason, by)
        }
        PointsAction::Adjust {
            email,
            amount,
            reason,
            by,
        } => {
            if amount == 0 {
                return Err(Usage::ZeroAdjustment.into());
            }
            if reason.trim().is_empty() {
                return Err(Usage::NoReason.into());
            }
            let actor = actor(by)?;
            let balance = run_alone(&mut conn, now, retry, |tx| {
                let m = member(tx.conn, &email)?;
                if !m.active {
                    return Err(Refusal::NotConfirmed(m.email).into());
                }
                ledger::spend_or_credit(
                    tx.conn,
                    &NewEntry {
                        member: m.id,
                        amount,
                        kind: Kind::Adjustment,
                        status: Status::Confirmed,
                        settles: None,
                        reward: None,
                        friend: None,
                        reason: reason.trim(),
                        actor: &actor,
                    },
                    tx.now,
                )?;
                ledger::balance(tx.conn, m.id)
            })?;
            super::print(&format!(
                "Adjusted {} by {amount:+} points. Balance now: {} to spend.\n",
                email.trim(),
                balance.available
            ))
        }
        PointsAction::Export { format } => {
            let rows = ledger::all(&conn)?;
            let emails: std::collections::HashMap<i64, String> = accounts::all(&conn)?
                .into_iter()
                .map(|m| (m.id, m.email))
                .collect();
            let text = match format {
                ExportFormat::Csv => {
                    let mut out = String::from(
                        "id,when,member,points,kind,status,settles,reward,by,reason\n",
                    );
                    for e in &rows {
                        let cells = [
                            e.id.to_string(),
                            super::csv_field(&super::utc(e.created_at)),
                            super::csv_field(emails.get(&e.member).map_or("", String::as_str)),
                            e.amount.to_string(),
                            e.kind.as_str().to_string(),
                            e.status.as_str().to_string(),
                            e.settles.map(|i| i.to_string()).unwrap_or_default(),
                            super::csv_field(e.reward.as_deref().unwrap_or("")),
                            super::csv_field(&e.actor),
                            super::csv_field(&e.reason),
                        ];
                        let _ = writeln!(out, "{}", cells.join(","));
                    }
                    out
                }
                ExportFormat::Json => {
                    let list: Vec<serde_json::Value> = rows
                        .iter()
                        .map(|e| {
                            serde_json::json!({
                                "id": e.id,
                                "at": super::utc(e.created_at),
                                "member": emails.get(&e.member),
                                "points": e.amount,
                                "kind": e.kind,
                                "status": e.status,
                                "settles": e.settles,
                                "reward": e.reward,
                                "by": e.actor,
                                "reason": e.reason,
                            })
                        })
                        .collect();
                    serde_json::to_string_pretty(&list).unwrap_or_default() + "\n"
                }
            };
            super::print(&text)?;
            eprintln!("{} ledger row(s) exported", rows.len());
            Ok(())
        }
    }
}

/// Settles one open row and says what that did.
fn settle(
    conn: &mut rusqlite::Connection,
    (now, retry): (i64, i64),
    id: i64,
    decision: Decision,
    reason: Option<String>,
    by: Option<String>,
) -> Result<(), Error> {
    let actor = actor(by)?;
    let (entry, row) = run_alone(conn, now, retry, |tx| {
        let e = ledger::get(tx.conn, id)?.ok_or(Refusal::NoLedgerEntry(id))?;
        let default = match (e.kind, decision) {
            (Kind::Reward, Decision::Confirm) => "Reward used at the clinic",
            (Kind::Reward, Decision::Void) => "Reward declined: points given back",
            (_, Decision::Confirm) => "Your friend's first paid treatment: referral confirmed",
            (_, Decision::Void) => "Referral not counted",
        };
        let reason = reason.as_deref().map(str::trim).filter(|r| !r.is_empty());
        ledger::settle(
            tx.conn,
            id,
            decision,
            reason.unwrap_or(default),
            &actor,
            tx.now,
        )
    })?;
    let who = accounts::by_id(conn, entry.member)?.map_or_else(String::new, |m| m.email);
    let balance = ledger::balance(conn, entry.member)?;
    let what = match (entry.kind, decision) {
        (Kind::Reward, Decision::Confirm) => "reward marked used",
        (Kind::Reward, Decision::Void) => "reward declined, points given back",
        (_, Decision::Confirm) => "referral reward confirmed",
        (_, Decision::Void) => "referral reward voided",
    };
    super::print(&format!(
        "Entry {id}: {what} (new row {row}). {who} now has {} points to spend.\n",
        balance.available
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn some(s: &str) -> Option<String> {
        Some(s.to_string())
    }

    #[test]
    fn the_actor_is_by_else_the_login_name_else_refused() {
        assert_eq!(named(some("ann"), some("root"), None).unwrap(), "staff:ann");
        assert_eq!(named(None, some("bo"), some("x")).unwrap(), "staff:bo");
        assert_eq!(named(None, None, some("cy")).unwrap(), "staff:cy");
        assert_eq!(named(None, some(" "), some("cy")).unwrap(), "staff:cy");
        assert!(matches!(named(None, None, None), Err(Usage::NoActor)));
        assert!(matches!(
            named(some(" "), some("bo"), None),
            Err(Usage::NoActor)
        ));
    }
}
