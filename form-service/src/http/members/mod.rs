//! The members' area on the form service, and the pages every emailed link opens.
//!
//! Following a link (`GET`) only shows a page with one button; the button's `POST` is
//! what confirms, signs in, or settles a reward, so a mail scanner that opens every
//! link uses nothing up. Sessions are a random cookie whose hash is stored.
//!
//! Routes, all under `/members/`: the member's page (`/`), `link` (email me a link),
//! `confirm`, `sign-in`, `rewards`, `sign-out`, and `staff/reward` for staff links.

pub(super) mod session;
mod view;

use std::collections::HashMap;

use axum::extract::{ConnectInfo, Query, Request, State};
use axum::http::header::LOCATION;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use std::net::SocketAddr;

use super::error::AppError;
use super::extract::{Format, Posted};
use super::guard::check_post;
use super::{pages, AppState};
use crate::members::accounts::{self, LinkProblem, Purpose, Registration, RewardLinks};
use crate::members::token::NewToken;
use crate::members::{ledger, mail};
use crate::validate::{RawValue, Submission};
use crate::{Error, Settings};

/// The members' routes, behind their guard.
pub(super) fn routes(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/members", get(|| async { see_other("/members/") }))
        .route("/members/", get(account))
        .route("/members/link", post(send_link))
        .route("/members/confirm", get(confirm_page).post(confirm))
        .route("/members/sign-in", get(sign_in_page).post(sign_in))
        .route("/members/rewards", post(ask_for_reward))
        .route("/members/sign-out", post(sign_out))
        .route("/members/staff/reward", get(staff_page).post(staff_act))
        .route_layer(middleware::from_fn_with_state(state, guard))
}

/// No programme, no pages; posts must come from the site or these pages, and count
/// against the client's rate limit.
pub(super) async fn guard(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    req: Request,
    next: Next,
) -> Result<Response, AppError> {
    if app.settings.loyalty.is_none() {
        return Err(AppError::NotFound);
    }
    if req.method() == Method::POST {
        check_post(&app, peer, req.headers(), req.uri().path())?;
    }
    Ok(next.run(req).await)
}

pub(super) fn see_other(to: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(LOCATION, v);
    }
    r
}

pub(super) fn html(s: &Settings, status: StatusCode, title: &str, body: &str) -> Response {
    let mut r = (status, pages::page(s, title, body)).into_response();
    r.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    r
}

/// The page for a link that does nothing: 404 for a link we never made, 410 for one
/// that was ours.
pub(super) fn problem(s: &Settings, p: LinkProblem, offer_new_link: bool) -> Response {
    let status = match p {
        LinkProblem::Unknown => StatusCode::NOT_FOUND,
        LinkProblem::Expired | LinkProblem::Used => StatusCode::GONE,
    };
    let action = s.members_url("link");
    let body = view::link_problem(p, offer_new_link.then_some(action.as_str()));
    html(s, status, "This link does not work", &body)
}

pub(super) fn text(raw: &crate::validate::RawAnswers, name: &str) -> String {
    raw.0
        .iter()
        .find_map(|(k, v)| match v {
            RawValue::Text(t) if k == name => Some(t.trim().to_string()),
            _ => None,
        })
        .unwrap_or_default()
}

fn token_of(q: &HashMap<String, String>) -> String {
    q.get("token").cloned().unwrap_or_default()
}

/// Both links a registration may send, made before the database decides which.
/// `note` is a sentence added to both emails (a comment waiting for the link).
pub(super) fn prepare_links(
    s: &Settings,
    name: Option<&str>,
    email: &str,
    note: Option<&str>,
) -> Result<Registration, Error> {
    let confirm = NewToken::generate();
    let sign_in = NewToken::generate();
    let confirm_url = s.members_url(&format!("confirm?token={}", confirm.raw));
    let sign_in_url = s.members_url(&format!("sign-in?token={}", sign_in.raw));
    Ok(Registration {
        name: name.unwrap_or_default().to_string(),
        email: email.trim().to_string(),
        referral: None,
        confirm: accounts::PreparedLink {
            mail: mail::confirmation(
                s,
                &mail::LinkMail {
                    name,
                    email,
                    url: &confirm_url,
                    note,
                },
            )?,
            token: confirm,
        },
        sign_in: accounts::PreparedLink {
            mail: mail::sign_in(
                s,
                &mail::LinkMail {
                    name,
                    email,
                    url: &sign_in_url,
                    note,
                },
            )?,
            token: sign_in,
        },
    })
}

/// `POST /forms/{registration form}` once the answers are valid. The answer is the same
/// whether the address is new, unconfirmed, a member, or has had too many emails.
pub(super) async fn register(
    app: &AppState,
    thank_you: &str,
    sub: &Submission,
    format: Format,
) -> Result<Response, AppError> {
    let value = |f: &str| sub.answer(f).map(|a| a.value.clone()).unwrap_or_default();
    let name = value("name");
    let email = value("email");
    let mut reg = prepare_links(&app.settings, Some(&name), &email, None)?;
    reg.referral = Some(value("referral")).filter(|c| !c.is_empty());
    let cfg = app.settings.loyalty().clone();
    let outcome = app
        .store
        .transact(move |tx| accounts::register(tx, &reg, &cfg))
        .await?;
    // The outcome tells staff reading logs nothing about who registered.
    tracing::info!(outcome = ?outcome, "registration handled");
    Ok(match format {
        Format::Html => see_other(&app.settings.site_url(thank_you)),
        Format::Json => (
            StatusCode::ACCEPTED,
            axum::Json(serde_json::json!({ "status": "check_your_email" })),
        )
            .into_response(),
    })
}

/// `POST /members/link`: a new link for an address, if it is ours; the same page
/// whatever happened.
async fn send_link(State(app): State<AppState>, Posted(raw): Posted) -> Result<Response, AppError> {
    let s = &app.settings;
    let email = text(&raw, "email");
    let plausible = email.len() <= 254
        && email.contains('@')
        && !email.chars().any(|c| c.is_control() || c.is_whitespace());
    if plausible {
        if let Ok(links) = prepare_links(s, None, &email, None) {
            let cfg = s.loyalty().clone();
            let outcome = app
                .store
                .transact(move |tx| accounts::send_new_link(tx, &links.email, &links, &cfg))
                .await?;
            tracing::info!(outcome = ?outcome, "new link asked for");
        }
    }
    Ok(html(
        s,
        StatusCode::OK,
        "Check your email",
        &view::link_sent(),
    ))
}

/// What a member's emailed link opens: one button that posts the token, or why the
/// link does nothing. Changes nothing.
struct ButtonPage {
    purpose: Purpose,
    title: &'static str,
    lead: String,
    action: &'static str,
    button: &'static str,
}

async fn link_page(
    app: &AppState,
    q: &HashMap<String, String>,
    page: ButtonPage,
) -> Result<Response, AppError> {
    let s = &app.settings;
    let token = token_of(q);
    let now = app.store.clock().now();
    let (t, purpose) = (token.clone(), page.purpose);
    let check = app
        .store
        .read(move |c| accounts::check_link(c, &t, &[purpose], now))
        .await?;
    Ok(match check {
        Ok(_) => html(
            s,
            StatusCode::OK,
            page.title,
            &view::button_page(
                page.title,
                &page.lead,
                &s.members_url(page.action),
                &token,
                page.button,
            ),
        ),
        Err(p) => problem(s, p, true),
    })
}

async fn confirm_page(
    State(app): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, AppError> {
    let lead = format!(
        "Press the button to confirm your email address and collect your {} bonus points.",
        app.settings.loyalty().signup_bonus
    );
    let page = ButtonPage {
        purpose: Purpose::Confirm,
        title: "Confirm your membership",
        lead,
        action: "confirm",
        button: "Confirm my membership",
    };
    link_page(&app, &q, page).await
}

async fn confirm(State(app): State<AppState>, Posted(raw): Posted) -> Result<Response, AppError> {
    let token = text(&raw, "token");
    let session = NewToken::generate();
    let raw_session = session.raw.clone();
    let cfg = app.settings.loyalty().clone();
    let state = app.clone();
    let after = super::comments::release_held(&app);
    let result = app
        .store
        .transact(move |tx| {
            let friend = |r: &accounts::Member, amount: i64, pending: bool| {
                mail::friend_joined(&state.settings, r, amount, pending)
            };
            accounts::confirm(tx, &token, &session, &cfg, &friend, &after)
        })
        .await?;
    Ok(match result {
        Ok(signed) => {
            tracing::info!(
                newly_confirmed = signed.newly_confirmed,
                "membership confirmed"
            );
            let notice = if signed.newly_confirmed {
                "welcome"
            } else {
                "confirmed-before"
            };
            session::signed_in(
                see_other(&app.settings.members_url(&format!("?notice={notice}"))),
                &raw_session,
                &app.settings,
            )
        }
        Err(p) => problem(&app.settings, p, true),
    })
}

async fn sign_in_page(
    State(app): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, AppError> {
    let page = ButtonPage {
        purpose: Purpose::SignIn,
        title: "Sign in",
        lead: "Press the button to sign in and see your points.".into(),
        action: "sign-in",
        button: "Sign in",
    };
    link_page(&app, &q, page).await
}

async fn sign_in(State(app): State<AppState>, Posted(raw): Posted) -> Result<Response, AppError> {
    let token = text(&raw, "token");
    let session = NewToken::generate();
    let raw_session = session.raw.clone();
    let cfg = app.settings.loyalty().clone();
    let after = super::comments::release_held(&app);
    let result = app
        .store
        .transact(move |tx| accounts::sign_in(tx, &token, &session, &cfg, &after))
        .await?;
    Ok(match result {
        Ok(_) => session::signed_in(
            see_other(&app.settings.members_url("")),
            &raw_session,
            &app.settings,
        ),
        Err(p) => problem(&app.settings, p, true),
    })
}

/// Messages shown at the top of the member's page after an action.
fn notice(s: &Settings, key: &str) -> Option<String> {
    let l = s.loyalty();
    Some(match key {
        "welcome" => format!(
            "Welcome! Your membership is confirmed and your {} bonus points are in your balance.",
            l.signup_bonus
        ),
        "confirmed-before" => {
            "Your membership was already confirmed, so nothing was added twice. You are signed in."
                .into()
        }
        "reward" => "Done: we have set the points aside and told our staff. They take the points when you use the reward at the clinic.".into(),
        "short" => "You do not have enough points for that reward yet.".into(),
        _ => return None,
    })
}

async fn account(
    State(app): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, AppError> {
    let s = &app.settings;
    let Some(member) = session::member(&app, &headers).await? else {
        let body = view::sign_in_page(&s.members_url("link"), &s.site_url(&s.membership_page()));
        return Ok(html(s, StatusCode::OK, "Sign in", &body));
    };
    let id = member.id;
    let (balance, history) = app
        .store
        .read(move |c| Ok((ledger::balance(c, id)?, ledger::history(c, id)?)))
        .await?;
    let notice = q.get("notice").and_then(|k| notice(s, k));
    let referral_link = member
        .referral_code
        .as_ref()
        .map(|code| format!("{}?ref={code}", s.site_url(&s.membership_page())));
    let when = |at: i64| {
        jiff::Timestamp::from_second(at).map_or_else(
            |_| at.to_string(),
            |t| {
                t.to_zoned_datetime(s.tz.clone())
                    .strftime("%-d %B %Y")
                    .to_string()
            },
        )
    };
    let body = view::account(&view::Account {
        member: &member,
        balance,
        history: &history,
        loyalty: s.loyalty(),
        clinic: &s.site.business.name,
        referral_link,
        notice: notice.as_deref(),
        actions: (s.members_url("rewards"), s.members_url("sign-out")),
        when: &when,
    });
    Ok(html(s, StatusCode::OK, "Your points", &body))
}

async fn ask_for_reward(
    State(app): State<AppState>,
    headers: HeaderMap,
    Posted(raw): Posted,
) -> Result<Response, AppError> {
    let s = &app.settings;
    let Some(member) = session::member(&app, &headers).await? else {
        return Ok(see_other(&s.members_url("")));
    };
    let Some(reward) = s.loyalty().reward(&text(&raw, "reward")).cloned() else {
        return Ok(see_other(&s.members_url("")));
    };
    let used = NewToken::generate();
    let declined = NewToken::generate();
    let links = RewardLinks {
        mail: mail::reward_requested(
            s,
            &member,
            &reward,
            &s.members_url(&format!("staff/reward?token={}", used.raw)),
            &s.members_url(&format!("staff/reward?token={}", declined.raw)),
        )?,
        used,
        declined,
    };
    let cfg = s.loyalty().clone();
    let id = member.id;
    let r = reward.clone();
    let held = app
        .store
        .transact(move |tx| accounts::ask_for_reward(tx, id, &r, &links, &cfg))
        .await;
    Ok(match held {
        Ok(_) => {
            tracing::info!(reward = %reward.id, "reward asked for");
            see_other(&s.members_url("?notice=reward"))
        }
        Err(Error::Refused(_)) => see_other(&s.members_url("?notice=short")),
        Err(e) => return Err(e.into()),
    })
}

async fn sign_out(State(app): State<AppState>, headers: HeaderMap) -> Result<Response, AppError> {
    if let Some(cookie) = session::cookie(&headers) {
        app.store
            .transact(move |tx| accounts::end_session(tx, &cookie))
            .await?;
    }
    Ok(session::signed_out(
        see_other(&app.settings.members_url("")),
        &app.settings,
    ))
}

async fn staff_page(
    State(app): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, AppError> {
    let s = &app.settings;
    let token = token_of(&q);
    let now = app.store.clock().now();
    let t = token.clone();
    let found = app
        .store
        .read(move |c| {
            let link = match accounts::check_link(
                c,
                &t,
                &[Purpose::RewardUsed, Purpose::RewardDeclined],
                now,
            )? {
                Ok(l) => l,
                Err(p) => return Ok(Err(p)),
            };
            let entry = link
                .subject
                .map(|id| ledger::get(c, id))
                .transpose()?
                .flatten();
            let member = link
                .member
                .map(|id| accounts::by_id(c, id))
                .transpose()?
                .flatten();
            Ok(match (entry, member) {
                (Some(e), Some(m)) if e.open => Ok((link.purpose, e, m)),
                (Some(_), Some(_)) => Err(LinkProblem::Used),
                _ => Err(LinkProblem::Unknown),
            })
        })
        .await?;
    let (purpose, entry, member) = match found {
        Ok(f) => f,
        Err(p) => return Ok(problem(s, p, false)),
    };
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
    let body = view::button_page(title, &lead, &s.members_url("staff/reward"), &token, button);
    Ok(html(s, StatusCode::OK, title, &body))
}

async fn staff_act(State(app): State<AppState>, Posted(raw): Posted) -> Result<Response, AppError> {
    let s = &app.settings;
    let token = text(&raw, "token");
    let result = app
        .store
        .transact(move |tx| accounts::settle_by_link(tx, &token))
        .await?;
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
            html(
                s,
                StatusCode::OK,
                title,
                &format!(
                    "<div class=\"wrap\">\n<div class=\"page-header\">\n<h1>{}</h1>\n<p class=\"lead\">{}</p>\n</div>\n</div>\n",
                    site_config::escape_html(title),
                    site_config::escape_html(&lead)
                ),
            )
        }
        Err(p) => problem(s, p, false),
    })
}
