//! Moderation from staff emails (`/comments/moderate?token=...`): for a browser signed
//! in as staff, `GET` shows the comment and one control, and its `POST` approves,
//! rejects or replies, recording which staff address did; anyone else is asked to sign
//! in as staff first, and a member never decides on their own comment.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::view;
use crate::comments::{self, Choice, Status};
use crate::http::error::AppError;
use crate::http::extract::{field, Posted};
use crate::http::reply::{html, message, own_account, problem};
use crate::http::session;
use crate::http::AppState;
use crate::links::{self, LinkProblem, Purpose};
use crate::Error;

/// The page all three of a comment's staff links open.
pub(super) const PAGE: &str = Purpose::CommentApprove.path();

const STAFF_PURPOSES: [Purpose; 3] = [
    Purpose::CommentApprove,
    Purpose::CommentReject,
    Purpose::CommentReply,
];

pub(super) async fn moderate_page(
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
            Ok(match links::check(c, &t, &STAFF_PURPOSES, now)? {
                Ok(link) => match link.subject_row(c, comments::get)? {
                    Some(comment) => {
                        let m = comments::author(c, &comment)?;
                        Ok((link.purpose, comment, m))
                    }
                    None => Err(LinkProblem::Unknown),
                },
                Err(p) => Err(p),
            })
        })
        .await?;
    let (purpose, c, m) = match found {
        Ok(f) => f,
        Err(p) => return Ok(problem(s, p, false)),
    };
    if m.as_ref()
        .is_some_and(|m| crate::staff::is_own(&staff.email, &m.email))
    {
        return Ok(own_account(s));
    }
    let control = match purpose {
        Purpose::CommentApprove => view::Control::Approve,
        Purpose::CommentReject => view::Control::Reject(&s.site.comments.reject_reasons),
        _ => view::Control::Reply {
            reply_limit: comments::REPLY_LIMIT,
        },
    };
    let shown = view::for_staff(&s.site_url(&c.page), &c, m.as_ref());
    let body = view::moderate(&control, &shown, &s.service_url(PAGE), &token);
    let title = control.title();
    Ok(html(s, StatusCode::OK, title, &body))
}

pub(super) async fn moderate(
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
    let (reason, reply) = (field(&raw, "reason"), field(&raw, "reply"));
    if comments::reply_too_long(&reply) {
        return Err(AppError::TooLarge);
    }
    let state = app.clone();
    // A refusal (no reason chosen, already decided) fails the job, so the link is not
    // spent and nothing changes.
    let result = app
        .store
        .transact(move |tx| {
            let choice = Choice {
                reason: &reason,
                reply: &reply,
            };
            comments::moderate(tx, &state.settings, &token, &staff.email, choice)
        })
        .await;
    let (title, lead, status) = match result {
        Ok(Ok(c)) => {
            app.publisher.request();
            tracing::info!(comment = %c.public_id, status = c.status.as_str(), "comment moderated from an email link");
            if c.status == Status::Rejected {
                (
                    "Comment rejected",
                    "The member has been told, with the reason you chose.".to_string(),
                    StatusCode::OK,
                )
            } else {
                (
                    "Comment approved",
                    "It goes on the site with the next publish, which starts in a moment."
                        .to_string(),
                    StatusCode::OK,
                )
            }
        }
        Ok(Err(p)) => return Ok(problem(s, p, false)),
        Err(Error::OwnAccount) => return Ok(own_account(s)),
        Err(Error::Refused(why)) => ("Nothing was changed", why.to_string(), StatusCode::CONFLICT),
        Err(e) => return Err(e.into()),
    };
    Ok(message(s, status, title, &lead))
}
