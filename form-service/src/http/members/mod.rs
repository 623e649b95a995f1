//! The members' area on the form service, and the pages members' emailed links open.
//!
//! Following a link (`GET`) only shows a page with one button; the button's `POST` is
//! what confirms, signs in, or settles a reward, so a mail scanner that opens every
//! link uses nothing up. Sessions are a random cookie whose hash is stored.
//!
//! Routes, all under `/members/`: the member's page (`/`), `link` (email me a link),
//! `confirm`, `sign-in`, `rewards`, `sign-out`, and `staff/reward` for staff links,
//! which act only in a browser signed in as staff (`http::staff`).

mod staff_reward;
mod view;

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use site_config::{FormDecl, LoyaltyConfig};

use super::error::AppError;
use super::extract::{field, Format, Posted};
use super::guard;
use super::reply::{html, problem, see_other};
use super::session::{self, Kind};
use super::AppState;
use crate::error::Refusal;
use crate::links::{self, Purpose};
use crate::members::accounts::{self, LinkMailKind, LinkMailer, Registration};
use crate::members::rewards::{self, RewardLinks};
use crate::members::token::NewToken;
use crate::members::{ledger, mail};
use crate::store::{NewMail, Tx};
use crate::validate::kinds::RegistrationPost;
use crate::{Error, Settings};

/// The members' routes, behind `guard::loyalty` (no programme, no pages).
pub(super) fn routes(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/members", get(|| async { see_other("/members/") }))
        .route("/members/", get(account))
        .route("/members/link", post(send_link))
        .route(Purpose::Confirm.path(), get(confirm_page).post(confirm))
        .route(Purpose::SignIn.path(), get(sign_in_page).post(sign_in))
        .route("/members/rewards", post(ask_for_reward))
        .route("/members/sign-out", post(sign_out))
        .route(
            staff_reward::PAGE,
            get(staff_reward::page).post(staff_reward::act),
        )
        .route_layer(middleware::from_fn_with_state(state, guard::loyalty))
}

fn token_of(q: &HashMap<String, String>) -> String {
    q.get("token").cloned().unwrap_or_default()
}

/// The confirmation or sign-in email for `to` (the address as stored) and `token`.
fn link_mail(
    s: &Settings,
    kind: LinkMailKind<'_>,
    to: &str,
    token: &NewToken,
) -> Result<NewMail, Error> {
    match kind {
        LinkMailKind::Confirm => {
            mail::confirmation(s, to, &links::url(s, Purpose::Confirm, token), None)
        }
        LinkMailKind::SignIn(name) => mail::sign_in(
            s,
            &mail::LinkMail {
                name: Some(name),
                email: to,
                url: &links::url(s, Purpose::SignIn, token),
                note: None,
            },
        ),
    }
}

fn registration(name: &str, email: &str, referral: Option<String>) -> Registration {
    Registration {
        name: name.to_string(),
        email: email.trim().to_string(),
        referral,
        confirm: NewToken::generate(),
        sign_in: NewToken::generate(),
    }
}

/// `POST /forms/{registration form}` once the answers are valid. The answer is the same
/// whether the address is new, unconfirmed, a member, or has had too many emails.
pub(super) async fn register(
    app: &AppState,
    decl: &FormDecl,
    post: RegistrationPost,
    format: Format,
) -> Result<Response, AppError> {
    let reg = registration(&post.name, &post.email, post.referral);
    let outcome = with_link_mail(app, move |tx, cfg, mailer| {
        accounts::register(tx, &reg, cfg, mailer)
    })
    .await?;
    // The outcome tells staff reading logs nothing about who registered.
    tracing::info!(outcome = ?outcome, "registration handled");
    Ok(match format {
        Format::Html => see_other(&app.settings.site_url(&decl.thank_you)),
        Format::Json => (
            StatusCode::ACCEPTED,
            axum::Json(serde_json::json!({ "status": "check_your_email" })),
        )
            .into_response(),
    })
}

/// Runs `f` in one write transaction with the loyalty settings and a mailer for
/// members' link emails: what registering and asking for a new link share.
async fn with_link_mail<T: Send + 'static>(
    app: &AppState,
    f: impl Fn(&mut Tx<'_>, &LoyaltyConfig, LinkMailer<'_>) -> Result<T, Error> + Send + 'static,
) -> Result<T, AppError> {
    let cfg = app.settings.loyalty().clone();
    let state = app.clone();
    let done = app
        .store
        .transact(move |tx| {
            let mailer =
                |k: LinkMailKind<'_>, to: &str, t: &NewToken| link_mail(&state.settings, k, to, t);
            f(tx, &cfg, &mailer)
        })
        .await?;
    Ok(done)
}

/// `POST /members/link`: a new link for an address, if it is ours; the same page
/// whatever happened (a mistyped address too), after the same work.
async fn send_link(State(app): State<AppState>, Posted(raw): Posted) -> Result<Response, AppError> {
    let s = &app.settings;
    let links = registration("", &field(&raw, "email"), None);
    let outcome = with_link_mail(&app, move |tx, cfg, mailer| {
        accounts::send_new_link(tx, &links, cfg, mailer)
    })
    .await?;
    tracing::info!(outcome = ?outcome, "new link asked for");
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
        .read(move |c| links::check(c, &t, &[purpose], now))
        .await?;
    Ok(match check {
        Ok(_) => html(
            s,
            StatusCode::OK,
            page.title,
            &super::view::button_page(
                page.title,
                &page.lead,
                "",
                &s.service_url(page.purpose.path()),
                &[("token", &token)],
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
        button: "Confirm my membership",
    };
    link_page(&app, &q, page).await
}

async fn confirm(State(app): State<AppState>, Posted(raw): Posted) -> Result<Response, AppError> {
    let token = field(&raw, "token");
    let session = NewToken::generate();
    let raw_session = session.raw.clone();
    let cfg = app.settings.loyalty().clone();
    let state = app.clone();
    let result = app
        .store
        .transact(move |tx| {
            let friend = |r: &accounts::Member, amount: i64, pending: bool| {
                mail::friend_joined(&state.settings, r, amount, pending)
            };
            accounts::confirm(tx, &token, &session, &cfg, &friend)
        })
        .await?;
    let s = &app.settings;
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
                see_other(&s.members_url(&format!("?notice={notice}"))),
                Kind::Member,
                &raw_session,
                s.loyalty().session_days,
                s,
            )
        }
        Err(p) => problem(s, p, true),
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
        button: "Sign in",
    };
    link_page(&app, &q, page).await
}

async fn sign_in(State(app): State<AppState>, Posted(raw): Posted) -> Result<Response, AppError> {
    let token = field(&raw, "token");
    let session = NewToken::generate();
    let raw_session = session.raw.clone();
    let cfg = app.settings.loyalty().clone();
    let result = app
        .store
        .transact(move |tx| accounts::sign_in(tx, &token, &session, &cfg))
        .await?;
    let s = &app.settings;
    Ok(match result {
        Ok(_) => session::signed_in(
            see_other(&s.members_url("")),
            Kind::Member,
            &raw_session,
            s.loyalty().session_days,
            s,
        ),
        Err(p) => problem(s, p, true),
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
                    .strftime("%-d %b %Y")
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
        script: site_script(s, "referral."),
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
    let Some(reward) = s.loyalty().reward(&field(&raw, "reward")).cloned() else {
        return Ok(see_other(&s.members_url("")));
    };
    let used = NewToken::generate();
    let declined = NewToken::generate();
    let links = RewardLinks {
        mail: mail::reward_requested(
            s,
            &member,
            &reward,
            &links::url(s, Purpose::RewardUsed, &used),
            &links::url(s, Purpose::RewardDeclined, &declined),
        )?,
        used,
        declined,
    };
    let cfg = s.loyalty().clone();
    let id = member.id;
    let r = reward.clone();
    let held = app
        .store
        .transact(move |tx| rewards::ask_for_reward(tx, id, &r, &links, &cfg))
        .await;
    Ok(match held {
        Ok(_) => {
            tracing::info!(reward = %reward.id, "reward asked for");
            see_other(&s.members_url("?notice=reward"))
        }
        Err(Error::Refused(Refusal::NotEnoughPoints { .. })) => {
            see_other(&s.members_url("?notice=short"))
        }
        Err(e) => return Err(e.into()),
    })
}

async fn sign_out(State(app): State<AppState>, headers: HeaderMap) -> Result<Response, AppError> {
    if let Some(cookie) = session::cookie(&headers, &app.settings, Kind::Member) {
        app.store
            .transact(move |tx| accounts::end_session(tx, &cookie))
            .await?;
    }
    Ok(session::signed_out(
        see_other(&app.settings.members_url("")),
        Kind::Member,
        &app.settings,
    ))
}

/// The address of the site's fingerprinted script whose name starts `prefix`
/// (`referral.` for `/assets/referral.3f2a.js`), read from the membership page that
/// loads it; `None` without the generated site.
fn site_script(s: &crate::Settings, prefix: &str) -> Option<String> {
    let page = s
        .site_dir
        .join(s.membership_page().trim_matches('/'))
        .join("index.html");
    let html = std::fs::read_to_string(page).ok()?;
    let at = html.find(&format!("<script src=\"/assets/{prefix}"))? + "<script src=\"".len();
    let end = at + html[at..].find('"')?;
    Some(s.site_url(&html[at..end]))
}
