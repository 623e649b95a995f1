//! The two session cookies, a member's and a staff browser's, and the short-lived one
//! that ties a staff sign-in link to the browser that asked for it: random, stored
//! hashed, `HttpOnly`, `SameSite=Lax`, expiring, and `Secure` with the `__Host-` prefix
//! (so no sibling host can set or shadow them) unless the service is addressed as a
//! loopback host during development. A request that carries a cookie's name twice is
//! signed out: one of the two was planted, and we cannot tell which.

use axum::http::header::{COOKIE, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;

use super::error::AppError;
use super::AppState;
use crate::members::accounts::{self, Member};
use crate::staff::{self, StaffSession};
use crate::Settings;

/// Which session a cookie holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A member's.
    Member,
    /// A staff browser's.
    Staff,
    /// The browser that asked for a staff sign-in link (as long as the link works).
    StaffLink,
}

impl Kind {
    /// The cookie's name for this service: `__Host-` prefixed whenever it is `Secure`.
    pub(crate) fn name(self, s: &Settings) -> &'static str {
        match (self, secure(s)) {
            (Kind::Member, true) => "__Host-member_session",
            (Kind::Member, false) => "member_session",
            (Kind::Staff, true) => "__Host-staff_session",
            (Kind::Staff, false) => "staff_session",
            (Kind::StaffLink, true) => "__Host-staff_link",
            (Kind::StaffLink, false) => "staff_link",
        }
    }
}

/// The cookie's value in a request: `None` when absent or sent more than once.
pub(crate) fn cookie(headers: &HeaderMap, s: &Settings, kind: Kind) -> Option<String> {
    let name = kind.name(s);
    let mut found = headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .filter(|(k, _)| k.trim() == name)
        .map(|(_, v)| v.trim().to_string());
    let first = found.next()?;
    found.next().is_none().then_some(first)
}

/// The signed-in member, if the request carries a live session.
pub(crate) async fn member(
    app: &AppState,
    headers: &HeaderMap,
) -> Result<Option<Member>, AppError> {
    let Some(value) = cookie(headers, &app.settings, Kind::Member) else {
        return Ok(None);
    };
    let now = app.store.clock().now();
    Ok(app
        .store
        .read(move |c| accounts::session_member(c, &value, now))
        .await?)
}

/// The staff session of a request to the staff link at `path` with `token`; without one, the
/// page that asks for the staff sign-in and then brings the browser back to the link
/// (`status`: 200 for a link opened, 403 for a button pressed: nothing was done).
pub(crate) async fn staff_for_link(
    app: &AppState,
    headers: &HeaderMap,
    path: &str,
    token: &str,
    status: StatusCode,
) -> Result<Result<StaffSession, Response>, AppError> {
    Ok(match staff(app, headers).await? {
        Some(staff) => Ok(staff),
        None => Err(super::reply::staff_sign_in_first(
            &app.settings,
            status,
            &crate::links::page(path, token),
        )),
    })
}

/// The staff session, if the request carries a live one for a configured address.
pub(crate) async fn staff(
    app: &AppState,
    headers: &HeaderMap,
) -> Result<Option<StaffSession>, AppError> {
    let Some(value) = cookie(headers, &app.settings, Kind::Staff) else {
        return Ok(None);
    };
    let now = app.store.clock().now();
    let addresses = app.settings.staff_addresses.clone();
    Ok(app
        .store
        .read(move |c| staff::session(c, &value, now, &addresses))
        .await?)
}

/// Development on 127.0.0.1 is plain HTTP, where a `Secure` cookie would never come
/// back; everywhere else the cookie is `Secure`.
fn secure(s: &Settings) -> bool {
    !is_loopback_http(&s.public_url)
}

/// True for `http://127.0.0.1[:port]`, `http://localhost[:port]` and `http://[::1][:port]`.
fn is_loopback_http(url: &str) -> bool {
    let Some(rest) = url.strip_prefix("http://") else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => authority.split(':').next().unwrap_or(""),
    };
    matches!(host, "127.0.0.1" | "localhost" | "::1")
}

fn set(mut r: Response, kind: Kind, value: &str, max_age: i64, s: &Settings) -> Response {
    let cookie = format!(
        "{}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{}",
        kind.name(s),
        if secure(s) { "; Secure" } else { "" }
    );
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers_mut().append(SET_COOKIE, v);
    }
    r
}

/// Adds a new session's cookie to `r`, lasting `days`.
pub(crate) fn signed_in(r: Response, kind: Kind, raw: &str, days: u32, s: &Settings) -> Response {
    set(r, kind, raw, i64::from(days) * 86_400, s)
}

/// Adds `kind`'s cookie holding `value` for `seconds`.
pub(crate) fn with_cookie(
    r: Response,
    kind: Kind,
    value: &str,
    seconds: i64,
    s: &Settings,
) -> Response {
    set(r, kind, value, seconds, s)
}

/// Adds a cookie that removes the session's.
pub(crate) fn signed_out(r: Response, kind: Kind, s: &Settings) -> Response {
    set(r, kind, "", 0, s)
}

#[cfg(test)]
mod tests {
    use super::is_loopback_http;

    #[test]
    fn only_plain_http_on_loopback_drops_secure() {
        for url in [
            "http://127.0.0.1:3000",
            "http://localhost",
            "http://[::1]:8080/x",
        ] {
            assert!(is_loopback_http(url), "{url}");
        }
        for url in [
            "https://127.0.0.1:3000",
            "http://forms.clinic.example",
            "http://127.0.0.1.evil.example",
            "http://localhost.evil.example:80",
            "http://[::2]",
        ] {
            assert!(!is_loopback_http(url), "{url}");
        }
    }
}
