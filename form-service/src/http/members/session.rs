//! The session cookie: random, stored hashed, `HttpOnly`, `SameSite=Lax`, expiring, and
//! `Secure` unless the service is addressed as a loopback host during development.

use axum::http::header::{COOKIE, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::Response;

use super::AppState;
use crate::http::error::AppError;
use crate::members::accounts::{self, Member};
use crate::Settings;

/// The cookie's name.
pub(crate) const SESSION_COOKIE: &str = "member_session";

/// The session cookie's value in a request, if any.
pub(crate) fn cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == SESSION_COOKIE)
        .map(|(_, v)| v.to_string())
}

/// The signed-in member, if the request carries a live session.
pub(crate) async fn member(
    app: &AppState,
    headers: &HeaderMap,
) -> Result<Option<Member>, AppError> {
    let Some(value) = cookie(headers) else {
        return Ok(None);
    };
    let now = app.store.clock().now();
    Ok(app
        .store
        .read(move |c| accounts::session_member(c, &value, now))
        .await?)
}

/// Development on 127.0.0.1 is plain HTTP, where a `Secure` cookie would never come
/// back; everywhere else the cookie is `Secure`.
fn secure(s: &Settings) -> &'static str {
    let host = s
        .public_url
        .split_once("://")
        .map_or("", |(_, rest)| rest)
        .split(['/', ':'])
        .next()
        .unwrap_or("");
    let loopback =
        s.public_url.starts_with("http://") && matches!(host, "127.0.0.1" | "localhost" | "[");
    if loopback {
        ""
    } else {
        "; Secure"
    }
}

fn set(mut r: Response, value: &str, max_age: i64, s: &Settings) -> Response {
    let cookie = format!(
        "{SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{}",
        secure(s)
    );
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers_mut().append(SET_COOKIE, v);
    }
    r
}

/// Adds the new session's cookie to `r`.
pub(crate) fn signed_in(r: Response, raw: &str, s: &Settings) -> Response {
    set(r, raw, i64::from(s.loyalty().session_days) * 86_400, s)
}

/// Adds a cookie that removes the session's.
pub(crate) fn signed_out(r: Response, s: &Settings) -> Response {
    set(r, "", 0, s)
}
