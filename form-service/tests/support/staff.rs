//! Signing a test's browser in as staff, the way staff do: ask for a link at
//! `/staff/link`, read it from the email the test's SMTP server received, open it, and
//! press the page's button, carrying the cookie the request set (the link works only in
//! the browser that asked). Returns the `Cookie` header value of the staff session.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;

use super::http::{browser_post, header, send, text};
use super::mime::parse;
use super::smtp::SmtpServer;
use super::{encode, peer};

/// The fixture's staff address (its `form_service.staff_email`).
pub const STAFF: &str = "consultations@themedicalspa.example";
/// The fixture's public address of the service.
const SERVICE: &str = "https://forms.themedicalspa.example";

/// Signs in as `email` (a configured staff address); `seen` is how many messages the
/// test has already read from `smtp`, and is advanced past the sign-in email.
pub async fn sign_in(app: &Router, smtp: &SmtpServer, seen: &mut usize, email: &str) -> String {
    sign_in_carrying(app, smtp, seen, email, None).await
}

/// As [`sign_in`], in a browser that already carries `staff` (a staff session's
/// `Cookie` value) when it presses the button.
pub async fn sign_in_carrying(
    app: &Router,
    smtp: &SmtpServer,
    seen: &mut usize,
    email: &str,
    staff: Option<&str>,
) -> String {
    let res = send(
        app,
        peer(9),
        browser_post(
            "/staff/link",
            format!("email={}&next=%2Fstaff%2F", encode(email)),
        ),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let browser = cookie_of(header(&res, "set-cookie"), "staff_link");
    *seen += 1;
    let n = *seen;
    let all = tokio::task::block_in_place(|| smtp.wait_for_messages(n, Duration::from_secs(20)));
    let mail = parse(&all[n - 1]);
    assert!(
        mail.header("subject").starts_with("Staff sign-in"),
        "{}",
        mail.header("subject")
    );
    let url = mail
        .text
        .split_whitespace()
        .find(|w| w.contains("/staff/sign-in?token="))
        .expect("a staff sign-in link")
        .to_string();
    let path = url.strip_prefix(SERVICE).expect("a link to the service");
    let res = send(
        app,
        peer(9),
        Request::get(path)
            .header("cookie", &browser)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let page = text(res).await;
    let token = between(&page, "name=\"token\" value=\"", "\"");
    let next = between(&page, "name=\"next\" value=\"", "\"");
    let mut press = browser_post(
        "/staff/sign-in",
        format!("token={}&next={}", encode(&token), encode(&next)),
    );
    let cookies = match staff {
        Some(staff) => format!("{browser}; {staff}"),
        None => browser,
    };
    press
        .headers_mut()
        .insert("cookie", cookies.parse().unwrap());
    let res = send(app, peer(9), press).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "{page}");
    let session = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .find(|v| v.contains("staff_session="))
        .expect("a staff session cookie");
    cookie_of(session, "staff_session")
}

/// `name=value` of the cookie a `Set-Cookie` sets, checking its name ends with `name`
/// (it is `__Host-` prefixed when `Secure`).
pub fn cookie_of(set_cookie: &str, name: &str) -> String {
    let pair = set_cookie.split(';').next().unwrap_or("");
    let (k, _) = pair.split_once('=').unwrap_or(("", ""));
    assert!(
        k == name || k == format!("__Host-{name}"),
        "not a {name} cookie: {set_cookie}"
    );
    pair.to_string()
}

fn between(html: &str, start: &str, end: &str) -> String {
    let from = html
        .find(start)
        .unwrap_or_else(|| panic!("no {start} in:\n{html}"))
        + start.len();
    let len = html[from..].find(end).unwrap();
    html[from..from + len].replace("&amp;", "&")
}
