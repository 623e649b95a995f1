//! Answers every area gives: a 303, a page in the site's look, the page for a link that
//! does nothing, and the page that asks staff to sign in first.

use axum::http::header::{CONTENT_TYPE, LOCATION};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::{pages, view};
use crate::links::LinkProblem;
use crate::Settings;

/// `303 See Other` to `to`.
pub(crate) fn see_other(to: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(LOCATION, v);
    }
    r
}

/// `body` in the site's look.
pub(crate) fn html(s: &Settings, status: StatusCode, title: &str, body: &str) -> Response {
    let mut r = (status, pages::page(s, title, body)).into_response();
    r.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    r
}

/// A page with a title and a lead.
pub(crate) fn message(s: &Settings, status: StatusCode, title: &str, lead: &str) -> Response {
    html(s, status, title, &view::message(title, lead))
}

/// The page for a link that does nothing: 404 for a link we never made, 410 for one
/// that was ours.
pub(crate) fn problem(s: &Settings, p: LinkProblem, offer_new_link: bool) -> Response {
    let status = match p {
        LinkProblem::Unknown => StatusCode::NOT_FOUND,
        LinkProblem::Expired | LinkProblem::Used => StatusCode::GONE,
    };
    let action = s.members_url("link");
    let body = view::link_problem(p, offer_new_link.then_some(action.as_str()));
    html(s, status, "This link does not work", &body)
}

/// A staff link reached a browser not signed in as staff: ask for the sign-in, then
/// come back to `next`. `403` for a button pressed (nothing was done), `200` for a
/// link opened.
pub(crate) fn staff_sign_in_first(s: &Settings, status: StatusCode, next: &str) -> Response {
    let body = view::staff_sign_in(&s.service_url("/staff/link"), next);
    html(s, status, "Sign in as staff first", &body)
}

/// A staff sign-in link reached another browser than the one that asked for it: it
/// signs no one in here; open it there, or ask for a new link from this browser (which
/// then comes back to `next`).
pub(crate) fn staff_other_browser(s: &Settings, status: StatusCode, next: &str) -> Response {
    let body = view::staff_other_browser(&s.service_url("/staff/link"), next);
    html(
        s,
        status,
        "Open this link in the browser where you asked for it",
        &body,
    )
}

/// Staff never act on their own comment or reward.
pub(crate) fn own_account(s: &Settings) -> Response {
    message(
        s,
        StatusCode::FORBIDDEN,
        "Another member of staff must do this",
        "This is your own comment or reward: someone else on the staff list has to decide on it.",
    )
}
