//! `/members/staff/reward?token=...`, the links in a reward's staff email: for a browser
//! signed in as staff, the reward and one button that confirms it was used or declines
//! it, recording the staff address in the ledger; anyone else is asked to sign in as
//! staff first, and a member never settles their own reward.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use crate::http::error::AppError;
use crate::http::extract::{field, Posted};
use crate::http::reply::{html, message, own_account, problem};
use crate::http::{session, view, AppState};
use crate::links::{self, LinkProblem, Purpose};
use crate::members::{accounts, ledger};
use crate::Error;

/// The page both of a reward's staff links open.
pub(super) const PAGE: &str = Purpose::RewardUsed.path();

/// What a reward's staff link opens: for staff, the reward and one button; for anyone
/// else, the staff sign-in (which brings them back here).
pub(super) async fn page(
    State(app): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, AppError> {
    let s = &app.settings;
    let token = q.get("token").cloned().unwrap_or_default();
    let staff = match session::staff_for_link(&app, &headers, PAGE, &token, StatusCode::OK).await? {
        Ok(staff) => staff,
        Err(sign_in) => return Ok(sign_in),
    };
    let now = app.store.clock().now();
    let t = token.clone();
    let found = app
        .store
        .read(move |c| {
            let link =
                match links::check(c, &t, &[Purpose::RewardUsed, Purpose::RewardDeclined], now)? {
                    Ok(l) => l,
                    Err(p) => return Ok(Err(p)),
                };
            let entry = link.subject_row(c, ledger::get)?;
            let member = link.member_row(c, accounts::by_id)?;
            Ok(match (entry, member) {
                (Some(e), Some(m)) if e.open => Ok((link.purpose, e, m)),
                (Some(_), Some(_)) => Err(LinkProblem::Used),
                _ => Err(LinkProblem::Unknown),
            })
        })
        .await?;
    let (purpose, entry, member) = match found {
        Ok(f) => f,
        Err(p) => return refused(&app, token, p, StatusCode::OK).await,
    };
    if crate::staff::is_own(&staff.email, &member.email) {
        return Ok(own_account(s));
    }
    let reward = entry
        .reward
        .as_deref()
        .and_then(|id| s.loyalty().reward(id))
        .map_or_else(|| "a reward".to_string(), |r| r.title.clone());
    let (title, button) = match purpose {
        Purpose::RewardUsed => ("Confirm the reward was used", "Confirm: reward used"),
        _ => ("Decline the reward", "Decline: give the points back"),
    };
    let lead = format!(
        "{} ({}) asked for {reward}, {} points.",
        member.name, member.email, -entry.amount
    );
    let body = view::button_page(
        title,
        &lead,
        "",
        &s.service_url(PAGE),
        &[("token", &token)],
        button,
    );
    Ok(html(s, StatusCode::OK, title, &body))
}

pub(super) async fn act(
    State(app): State<AppState>,
    headers: HeaderMap,
    Posted(raw): Posted,
) -> Result<Response, AppError> {
    let s = &app.settings;
    let token = field(&raw, "token");
    let staff =
        match session::staff_for_link(&app, &headers, PAGE, &token, StatusCode::FORBIDDEN).await? {
            Ok(staff) => staff,
            Err(sign_in) => return Ok(sign_in),
        };
    let who = staff.email.clone();
    let result = app
        .store
        .transact(move |tx| crate::members::rewards::settle_by_link(tx, &token, &who))
        .await;
    let result = match result {
        Err(Error::OwnAccount) => return Ok(own_account(s)),
        other => other?,
    };
    Ok(match result {
        Ok((purpose, entry)) => {
            tracing::info!(
                entry = entry.id,
                ?purpose,
                "reward settled from an email link"
            );
            let (title, lead) = match purpose {
                Purpose::RewardUsed => (
                    "Reward confirmed",
                    format!(
                        "The {} points are taken from the member's balance.",
                        -entry.amount
                    ),
                ),
                _ => (
                    "Reward declined",
                    format!(
                        "The {} points are back in the member's balance.",
                        -entry.amount
                    ),
                ),
            };
            message(s, StatusCode::OK, title, &lead)
        }
        Err(p) => return refused(&app, field(&raw, "token"), p, StatusCode::CONFLICT).await,
    })
}

/// A reward link that no longer acts: when the reward was settled, say how (`status`:
/// 200 for a link opened, 409 for a button pressed); else why the link does nothing.
async fn refused(
    app: &AppState,
    token: String,
    p: LinkProblem,
    status: StatusCode,
) -> Result<Response, AppError> {
    let s = &app.settings;
    if p == LinkProblem::Used {
        let how = app
            .store
            .read(move |c| crate::members::rewards::settled_by(c, &token))
            .await?;
        if let Some((title, lead)) = how.and_then(view::reward_settled) {
            return Ok(message(s, status, title, lead));
        }
    }
    Ok(problem(s, p, false))
}
