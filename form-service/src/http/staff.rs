//! Staff sign-in on the form service, under `/staff/`: ask for a link (`link`), the
//! scanner-safe page the link opens and its button (`sign-in`), where one stands (`/staff/`)
//! and `sign-out`. A staff link opened in a browser not signed in as staff sends the
//! visitor here first, with the page to come back to (`next`), which the sign-in link
//! carries through the email and back. Asking sets a short-lived cookie on the browser
//! (`Kind::StaffLink`); the link signs in only a browser that carries it.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use super::error::AppError;
use super::extract::{field, Posted};
use super::guard;
use super::reply::{html, message, problem, see_other};
use super::session::{self, Kind};
use super::{view, AppState};
use crate::links::{self, Purpose};
use crate::members::mail;
use crate::members::token::NewToken;
use crate::staff::{self, SignInRefused, SignInRequest};

/// The staff routes, behind `guard::posts`.
pub(super) fn routes(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/staff", get(|| async { see_other("/staff/") }))
        .route("/staff/", get(home))
        .route("/staff/link", post(ask_for_link))
        .route(Purpose::StaffSignIn.path(), get(sign_in_page).post(sign_in))
        .route("/staff/sign-out", post(sign_out))
        .route_layer(middleware::from_fn_with_state(state, guard::posts))
}

/// Where a sign-in may send the browser afterwards: a staff link's page on this
/// service, or the staff home. Anything else (another host, another path) is the home.
fn safe_next(next: &str) -> &str {
    let is_token =
        |t: &str| !t.is_empty() && t.len() <= 64 && t.bytes().all(|b| b.is_ascii_alphanumeric());
    let ok = Purpose::ALL
        .iter()
        .filter(|p| p.is_staff_action())
        .any(|p| links::token_at(p.path(), next).is_some_and(is_token));
    if ok {
        next
    } else {
        "/staff/"
    }
}

/// What a query value keeps as it is: RFC 3986's unreserved characters.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Percent-encodes a path for a query value.
fn encode(s: &str) -> String {
    utf8_percent_encode(s, QUERY_VALUE).to_string()
}

async fn home(State(app): State<AppState>, headers: HeaderMap) -> Result<Response, AppError> {
    let s = &app.settings;
    Ok(match session::staff(&app, &headers).await? {
        Some(who) => html(
            s,
            StatusCode::OK,
            "Signed in as staff",
            &view::button_page(
                "Signed in as staff",
                &format!(
                    "This browser is signed in as {}. Links in staff emails act here.",
                    who.email
                ),
                "",
                &s.service_url("/staff/sign-out"),
                &[],
                "Sign out",
            ),
        ),
        None => super::reply::staff_sign_in_first(s, StatusCode::OK, "/staff/"),
    })
}

/// `POST /staff/link`: emails a sign-in link to the configured staff address the typed
/// one is, for this browser only (its cookie, kept if it has one); the same answer, after
/// the same work, for any address.
async fn ask_for_link(
    State(app): State<AppState>,
    headers: HeaderMap,
    Posted(raw): Posted,
) -> Result<Response, AppError> {
    let s = &app.settings;
    let (browser, browser_hash) =
        staff::browser_key(session::cookie(&headers, s, Kind::StaffLink).as_deref());
    let typed = field(&raw, "email");
    let next = safe_next(&field(&raw, "next")).to_string();
    let to = staff::configured(&s.staff_addresses, &typed).map(str::to_string);
    let token = NewToken::generate();
    let url = format!(
        "{}&next={}",
        links::url(s, Purpose::StaffSignIn, &token),
        encode(&next)
    );
    // Built for every request, staff or not, so the work is the same.
    let mail = mail::staff_sign_in(s, to.as_deref().unwrap_or(&s.staff_default), &url)?;
    let lifetime = i64::from(s.site.form_service.staff.sign_in_link_minutes) * 60;
    let request = SignInRequest {
        to,
        token,
        mail,
        lifetime,
        browser: browser_hash,
    };
    let sent = app
        .store
        .transact(move |tx| staff::request_sign_in(tx, &request))
        .await?;
    tracing::info!(sent, "staff sign-in link asked for");
    let page = message(
        s,
        StatusCode::OK,
        "Check your email",
        &format!(
            "If that address is on the clinic's staff list, it has been sent a link that signs \
             this browser in as staff. Open it in this browser: it works only here, for {} \
             minutes.",
            s.site.form_service.staff.sign_in_link_minutes
        ),
    );
    Ok(session::with_cookie(
        page,
        Kind::StaffLink,
        &browser,
        lifetime,
        s,
    ))
}

async fn sign_in_page(
    State(app): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, AppError> {
    let s = &app.settings;
    let browser = session::cookie(&headers, s, Kind::StaffLink);
    let token = q.get("token").cloned().unwrap_or_default();
    let next = safe_next(q.get("next").map_or("", String::as_str)).to_string();
    let now = app.store.clock().now();
    let t = token.clone();
    let check = app
        .store
        .read(move |c| links::check(c, &t, &[Purpose::StaffSignIn], now))
        .await?;
    Ok(match check {
        Ok(link) if !staff::asked_here(&link, browser.as_deref()) => {
            super::reply::staff_other_browser(s, StatusCode::OK, &next)
        }
        Ok(link) => html(
            s,
            StatusCode::OK,
            "Sign in as staff",
            &view::button_page(
                "Sign in as staff",
                &format!(
                    "Press the button to sign this browser in as {} for {} days.",
                    link.staff.as_deref().unwrap_or("staff"),
                    s.site.form_service.staff.session_days
                ),
                "",
                &s.service_url(Purpose::StaffSignIn.path()),
                &[("token", &token), ("next", &next)],
                "Sign in as staff",
            ),
        ),
        Err(p) => problem(s, p, false),
    })
}

async fn sign_in(
    State(app): State<AppState>,
    headers: HeaderMap,
    Posted(raw): Posted,
) -> Result<Response, AppError> {
    let s = &app.settings;
    let browser = session::cookie(&headers, s, Kind::StaffLink);
    let previous = session::cookie(&headers, s, Kind::Staff);
    let token = field(&raw, "token");
    let next = safe_next(&field(&raw, "next")).to_string();
    let session = NewToken::generate();
    let raw_session = session.raw.clone();
    let days = s.site.form_service.staff.session_days;
    let addresses = s.staff_addresses.clone();
    let result = app
        .store
        .transact(move |tx| {
            staff::sign_in(
                tx,
                &token,
                browser.as_deref(),
                previous.as_deref(),
                &session,
                days,
                &addresses,
            )
        })
        .await?;
    Ok(match result {
        Ok(_) => {
            tracing::info!("staff signed in");
            let r = session::signed_in(
                see_other(&s.service_url(&next)),
                Kind::Staff,
                &raw_session,
                days,
                s,
            );
            session::signed_out(r, Kind::StaffLink, s)
        }
        Err(SignInRefused::OtherBrowser) => {
            tracing::info!("staff sign-in link pressed in another browser");
            super::reply::staff_other_browser(s, StatusCode::FORBIDDEN, &next)
        }
        Err(SignInRefused::Link(p)) => problem(s, p, false),
    })
}

async fn sign_out(State(app): State<AppState>, headers: HeaderMap) -> Result<Response, AppError> {
    let s = &app.settings;
    if let Some(cookie) = session::cookie(&headers, s, Kind::Staff) {
        app.store
            .transact(move |tx| staff::end_session(tx, &cookie))
            .await?;
    }
    Ok(session::signed_out(see_other(&s.service_url("/staff/")), Kind::Staff, s).into_response())
}

#[cfg(test)]
mod tests {
    use super::{encode, safe_next};

    #[test]
    fn next_is_encoded_whole_into_a_query_value() {
        assert_eq!(
            encode("/comments/moderate?token=ab2&x=é ~-_."),
            "%2Fcomments%2Fmoderate%3Ftoken%3Dab2%26x%3D%C3%A9%20~-_."
        );
    }

    #[test]
    fn only_staff_link_pages_are_carried_on_to() {
        assert_eq!(
            safe_next("/comments/moderate?token=abc234"),
            "/comments/moderate?token=abc234"
        );
        assert_eq!(
            safe_next("/members/staff/reward?token=abc"),
            "/members/staff/reward?token=abc"
        );
        for bad in [
            "//evil.example/",
            "https://evil.example/",
            "/comments/moderate?token=",
            "/comments/moderate?token=a&next=//x",
            "/members/",
            "",
        ] {
            assert_eq!(safe_next(bad), "/staff/", "{bad}");
        }
    }
}
