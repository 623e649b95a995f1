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
    if is_loopback_http(&s.public_url) {
        ""
    } else {
        "; Secure"
    }
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
