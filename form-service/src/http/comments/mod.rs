//! Comments on the form service: `POST /forms/{comment form}` once the answers are
//! valid, the page a held comment's emailed link opens (`/comments/confirm`), and
//! moderation from staff emails (`moderate`).
//!
//! A signed-in member's comment goes straight to moderation. Anyone else gives their
//! email: the comment is held, and we email that address a link for that comment
//! alone. Its page shows the comment again, and its button sends it (and only it) to
//! staff, confirming the membership too for an address that never confirmed. No other
//! sign-in releases anything. As with every emailed link, `GET` only shows a page.

mod moderate;
mod view;

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{middleware, Router};
use site_config::FormDecl;

use super::error::AppError;
use super::extract::{field, Format, Posted};
use super::guard;
use super::reply::{html, message, problem, see_other};
use super::session::{self, Kind};
use super::AppState;
use crate::comments::{self, NewComment, Posted as Outcome, Status};
use crate::error::Refusal;
use crate::links::{self, LinkProblem, Purpose};
use crate::members::accounts;
use crate::members::token::NewToken;
use crate::validate::kinds::CommentPost;
use crate::validate::Problems;
use crate::{Error, Settings};

/// The comments' routes, behind `guard::loyalty` (no programme, no comments).
pub(super) fn routes(state: AppState) -> Router<AppState> {
    Router::new()
        .route(
            moderate::PAGE,
            get(moderate::moderate_page).post(moderate::moderate),
        )
        .route(
            Purpose::CommentConfirm.path(),
            get(confirm_page).post(confirm),
        )
        .route_layer(middleware::from_fn_with_state(state, guard::loyalty))
}

/// A valid post of the comment form.
pub(super) async fn post(
    app: &AppState,
    form: &str,
    decl: &FormDecl,
    post: CommentPost,
    headers: &HeaderMap,
    format: Format,
) -> Result<Response, AppError> {
    let s = &app.settings;
    if s.loyalty.is_none() {
        return Err(AppError::NotFound);
    }
    let new = NewComment {
        public_id: crate::id::new_id(),
        page: format!("/services/{}/", post.service),
        service: post.service.clone(),
        author: post.display_name.clone(),
        body: post.text.clone(),
    };
    if let Some(member) = session::member(app, headers).await? {
        let state = app.clone();
        let outcome = app
            .store
            .transact(move |tx| comments::post_signed_in(tx, &state.settings, &member, &new))
            .await?;
        return Ok(match outcome {
            Outcome::Stored(c) | Outcome::Duplicate(c) => {
                tracing::info!(comment = %c.public_id, "comment sent to moderation");
                received(s, decl, format, &c.public_id, "pending")
            }
            Outcome::OverLimit => over_limit(s),
        });
    }

    // Not signed in: the address and (for someone new) the programme's terms.
    let errors = comments::signed_out_problems(post.email.as_deref(), post.consent);
    let Some(email) = post.email.clone().filter(|_| errors.is_empty()) else {
        return Err(AppError::Invalid {
            form: form.to_string(),
            problems: Problems {
                kept: post.answers.into_iter().collect(),
                errors,
            },
            from: None,
        });
    };
    let token = NewToken::generate();
    let state = app.clone();
    let outcome = app
        .store
        .transact(move |tx| comments::hold_signed_out(tx, &state.settings, &email, &new, &token))
        .await?;
    tracing::info!(?outcome, "comment held until its author confirms it");
    Ok(match format {
        Format::Json => (
            StatusCode::ACCEPTED,
            axum::Json(serde_json::json!({ "status": "check_your_email" })),
        )
            .into_response(),
        Format::Html => html(
            s,
            StatusCode::OK,
            "Check your email",
            &view::held(post.email.as_deref().unwrap_or_default()),
        ),
    })
}

fn received(s: &Settings, decl: &FormDecl, format: Format, id: &str, status: &str) -> Response {
    match format {
        Format::Html => see_other(&s.site_url(&decl.thank_you)),
        Format::Json => (
            StatusCode::CREATED,
            axum::Json(serde_json::json!({ "id": id, "status": status })),
        )
            .into_response(),
    }
}

fn over_limit(s: &Settings) -> Response {
    let limit = s.site.comments.daily_limit;
    message(
        s,
        StatusCode::TOO_MANY_REQUESTS,
        "That is all for today",
        &format!(
            "Each member can post {limit} comments a day. Please come back tomorrow, or call \
             us with your question on {}.",
            s.site.business.phone
        ),
    )
}

/// `GET /comments/confirm?token=...`: the held comment, its page, and one button.
async fn confirm_page(
    State(app): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, AppError> {
    let s = &app.settings;
    let token = q.get("token").cloned().unwrap_or_default();
    let now = app.store.clock().now();
    let t = token.clone();
    let found = app
        .store
        .read(move |c| {
            let link = match links::check(c, &t, &[Purpose::CommentConfirm], now)? {
                Ok(l) => l,
                Err(p) => return Ok(Err(p)),
            };
            let comment = link.subject_row(c, comments::get)?;
            let member = link.member_row(c, accounts::by_id)?;
            Ok(match (comment, member) {
                (Some(cm), Some(m)) if cm.status == Status::Held => Ok((cm, m)),
                (Some(_), Some(_)) => Err(LinkProblem::Used),
                _ => Err(LinkProblem::Unknown),
            })
        })
        .await?;
    let (c, m) = match found {
        Ok(f) => f,
        Err(p) => return Ok(problem(s, p, false)),
    };
    let shown = view::held_comment(&s.site_url(&c.page), &c);
    let (lead, button) = if m.active {
        (
            "If you wrote this comment, press the button: it goes to our staff, who read every comment before it appears.",
            "Send my comment",
        )
    } else {
        (
            "If you wrote this comment, press the button: it confirms your membership and sends this comment to our staff, who read every comment before it appears.",
            "Confirm and send my comment",
        )
    };
    let body = super::view::button_page(
        "Your comment",
        lead,
        &shown,
        &s.service_url(Purpose::CommentConfirm.path()),
        &[("token", &token)],
        button,
    );
    Ok(html(s, StatusCode::OK, "Your comment", &body))
}

/// `POST /comments/confirm`: that comment (only) goes to staff.
async fn confirm(State(app): State<AppState>, Posted(raw): Posted) -> Result<Response, AppError> {
    let s = &app.settings;
    let token = field(&raw, "token");
    let state = app.clone();
    let result = app
        .store
        .transact(move |tx| comments::send_held(tx, &state.settings, &token))
        .await;
    Ok(match result {
        Ok(Ok(sent)) => {
            tracing::info!("held comment sent to moderation by its author");
            let r = message(
                s,
                StatusCode::OK,
                "Thank you: your comment is with our staff",
                "They read every comment before it appears on the site; we email you when it is published.",
            );
            match sent.session {
                Some(t) => session::signed_in(r, Kind::Member, &t.raw, s.loyalty().session_days, s),
                None => r,
            }
        }
        Err(Error::Refused(Refusal::OverDailyLimit)) => over_limit(s),
        Err(e) => return Err(e.into()),
        Ok(Err(p)) => problem(s, p, false),
    })
}
