//! Rewards: a member asks for one (its points are held and staff are emailed two links),
//! and staff settle it from those links, used at the clinic or declined. The ledger row
//! that settles it names the staff address that acted.

use site_config::{LoyaltyConfig, Reward};

use super::accounts::by_id;
use super::ledger::{self, Decision, Entry, Kind, NewEntry, Status};
use super::token::NewToken;
use crate::error::Refusal;
use crate::error::Storage;
use crate::links::{self, LinkProblem, NewLink, Purpose};
use crate::store::{NewMail, Tx};
use crate::Error;

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
    for (token, purpose) in [
        (&links.used, Purpose::RewardUsed),
        (&links.declined, Purpose::RewardDeclined),
    ] {
        let mut l = NewLink::new(token, purpose, Some(member), lifetime);
        l.subject = Some(held);
        links::issue(tx, &l)?;
    }
    tx.queue_mail(&links.mail)?;
    Ok(held)
}

/// How the reward a staff link from a reward email is about was settled, if it was:
/// `Confirmed` (used at the clinic) or `Released` (declined). The links of a settled
/// reward no longer work, even the one never pressed; this says why.
pub fn settled_by(c: &rusqlite::Connection, token: &str) -> Result<Option<Status>, Error> {
    match links::subject_of(c, token, &[Purpose::RewardUsed, Purpose::RewardDeclined])? {
        Some(entry) => ledger::settled_as(c, entry),
        None => Ok(None),
    }
}

/// Uses a staff link from a reward email: the reward was used, or is declined. The
/// ledger names `staff`, the staff address signed in; a member's own reward is refused.
pub fn settle_by_link(
    tx: &mut Tx<'_>,
    token: &str,
    staff: &str,
) -> Result<Result<(Purpose, Entry), LinkProblem>, Error> {
    let link = match links::spend(tx, token, &[Purpose::RewardUsed, Purpose::RewardDeclined])? {
        Ok(l) => l,
        Err(p) => return Ok(Err(p)),
    };
    let (Some(entry), Some(member)) = (link.subject, link.member) else {
        return Ok(Err(LinkProblem::Unknown));
    };
    let owner = by_id(tx.conn, member)?.ok_or_else(|| Error::from(Storage::Vanished("member")))?;
    if crate::staff::is_own(staff, &owner.email) {
        return Err(Error::OwnAccount);
    }
    // The other link of the pair is spent with this one.
    links::spend_all_for(tx, entry, &[Purpose::RewardUsed, Purpose::RewardDeclined])?;
    let (decision, reason) = match link.purpose {
        Purpose::RewardUsed => (Decision::Confirm, "Reward used at the clinic"),
        _ => (Decision::Void, "Reward declined: points given back"),
    };
    match ledger::settle(tx.conn, entry, decision, reason, staff, tx.now) {
        Ok((e, _)) => Ok(Ok((link.purpose, e))),
        // Settled meanwhile from the command line.
        Err(Error::Refused(Refusal::AlreadySettled(_) | Refusal::NotSettleable { .. })) => {
            Ok(Err(LinkProblem::Used))
        }
        Err(e) => Err(e),
    }
}
