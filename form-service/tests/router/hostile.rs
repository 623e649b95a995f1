//! Each hostile case from issue 3 point 8, with the database checked to see that the
//! refusal changed nothing.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::routing::get;
use axum::Router;
use form_service::http::{app, app_with, AppState, Timeouts};
use site_config::RateLimit;

use super::{started, PATH};
use crate::support::http::{browser_post, header, json_post, send, text, SITE};
use crate::support::{good_form, peer, settings, TestService};

#[tokio::test]
async fn other_origins_are_refused_with_403_and_nothing_stored() {
    let (t, app) = started();
    for (h, v) in [
        ("origin", "https://evil.example"),
        ("origin", "null"),
        ("origin", "https://www.themedicalspa.example.evil.example"),
        ("referer", "https://evil.example/page"),
    ] {
        let mut req = browser_post(PATH, good_form("Ann"));
        req.headers_mut().remove("origin");
        req.headers_mut().insert(h, v.parse().unwrap());
        let res = send(&app, peer(6), req).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{h}: {v}");
        let html = text(res).await;
        assert!(
            html.contains("Please use the form on our website"),
            "{html}"
        );
        assert!(
            html.contains("27 Wimpole Street"),
            "refusals are in the site's look"
        );
    }
    assert_eq!(t.stored(), 0);
    // Configured extra origins (a local preview) are accepted.
    let mut s = settings();
    s.allowed_origins.push("http://127.0.0.1:1111".into());
    let t = TestService::start(s);
    let mut req = browser_post(PATH, good_form("Ann"));
    req.headers_mut()
        .insert("origin", "http://127.0.0.1:1111".parse().unwrap());
    assert_eq!(
        send(&t.service.router(), peer(6), req).await.status(),
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn bodies_over_32_kb_get_413_with_or_without_a_length() {
    let (t, app) = started();
    let big = format!("{}&message={}", good_form("Ann"), "a".repeat(33 * 1024));
    let res = send(&app, peer(7), browser_post(PATH, big.clone())).await;
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(text(res).await.contains("Your answers are too long"));
    // Chunked: no Content-Length, so the limit must apply while reading.
    let chunks = big.as_bytes().chunks(4096).map(|c| c.to_vec()).collect();
    let mut req = browser_post(PATH, "");
    *req.body_mut() = Body::new(Chunked(chunks));
    req.headers_mut().remove("content-length");
    let res = send(&app, peer(7), req).await;
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(t.stored(), 0);
}

/// A body that arrives in pieces and does not say its length.
struct Chunked(std::collections::VecDeque<Vec<u8>>);

impl axum::body::HttpBody for Chunked {
    type Data = hyper::body::Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
        std::task::Poll::Ready(
            self.get_mut()
                .0
                .pop_front()
                .map(|c| Ok(hyper::body::Frame::data(c.into()))),
        )
    }
}

#[tokio::test]
async fn other_content_types_get_415() {
    let (t, app) = started();
    for ct in [
        "text/plain",
        "multipart/form-data; boundary=x",
        "application/x-www-form-urlencoded; charset=iso-8859-1",
        "application/xml",
    ] {
        let mut req = browser_post(PATH, good_form("Ann"));
        req.headers_mut()
            .insert("content-type", ct.parse().unwrap());
        let res = send(&app, peer(8), req).await;
        assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE, "{ct}");
    }
    let mut req = browser_post(PATH, good_form("Ann"));
    req.headers_mut().remove("content-type");
    assert_eq!(
        send(&app, peer(8), req).await.status(),
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
    assert_eq!(t.stored(), 0);
}

#[tokio::test]
async fn malformed_json_gets_400_in_json() {
    let (_t, app) = started();
    let mut req = json_post(PATH, serde_json::json!(null));
    *req.body_mut() = Body::from("{\"name\": ");
    let res = send(&app, peer(9), req).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let v: serde_json::Value = serde_json::from_str(&text(res).await).unwrap();
    assert!(v["message"].as_str().unwrap().contains("JSON object"));
}

#[tokio::test]
async fn posts_beyond_the_rate_limit_get_429_per_address() {
    let mut s = settings();
    s.rate_limit = RateLimit {
        per_minute: 6,
        burst: 3,
    };
    s.trusted_proxies = vec!["10.0.0.1".parse().unwrap()];
    let t = TestService::start(s);
    let app = t.service.router();
    for i in 0..3 {
        let res = send(
            &app,
            peer(10),
            browser_post(PATH, good_form(&format!("N{i}"))),
        )
        .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
    }
    // A forged X-Forwarded-For from an untrusted peer changes nothing.
    let mut req = browser_post(PATH, good_form("N3"));
    req.headers_mut()
        .insert("x-forwarded-for", "203.0.113.50".parse().unwrap());
    let res = send(&app, peer(10), req).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(header(&res, "retry-after"), "10");
    let page = text(res).await;
    assert!(page.contains("Too many forms sent"));
    // What the page asks matches the header (it said "a minute" beside 10 seconds).
    assert!(page.contains("Please wait 10 seconds"), "{page}");
    // Another address is not affected.
    let res = send(&app, peer(11), browser_post(PATH, good_form("Other"))).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    // Through the trusted proxy, each forwarded client has its own bucket.
    let proxy = std::net::SocketAddr::from(([10, 0, 0, 1], 1));
    for client in ["203.0.113.1", "203.0.113.2"] {
        for i in 0..3 {
            let mut req = browser_post(PATH, good_form(&format!("{client}{i}")));
            req.headers_mut()
                .insert("x-forwarded-for", client.parse().unwrap());
            assert_eq!(send(&app, proxy, req).await.status(), StatusCode::SEE_OTHER);
        }
        let mut req = browser_post(PATH, good_form("again"));
        req.headers_mut()
            .insert("x-forwarded-for", client.parse().unwrap());
        assert_eq!(
            send(&app, proxy, req).await.status(),
            StatusCode::TOO_MANY_REQUESTS
        );
    }
    assert_eq!(t.stored(), 3 + 1 + 6);
}

#[tokio::test]
async fn honeypot_filled_or_missing_looks_like_success_but_is_dropped_and_counted() {
    let (t, app) = started();
    let filled = good_form("Bot").replace("website=", "website=http%3A%2F%2Fspam.example");
    let res = send(&app, peer(12), browser_post(PATH, filled)).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        header(&res, "location"),
        format!("{SITE}/consultation/thank-you/")
    );
    let missing = good_form("Bot2").replace("&website=", "");
    let res = send(&app, peer(12), browser_post(PATH, missing)).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = send(
        &app,
        peer(12),
        json_post(PATH, serde_json::json!({"name": "Bot3", "website": "x"})),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(t.stored(), 0);
    let res = send(
        &app,
        std::net::SocketAddr::from(([127, 0, 0, 1], 40000)),
        Request::get("/health").body(Body::empty()).unwrap(),
    )
    .await;
    let v: serde_json::Value = serde_json::from_str(&text(res).await).unwrap();
    assert_eq!(v["honeypot_since_start"], 3);
    assert_eq!(v["outbox_waiting"], 0);
}

#[tokio::test]
async fn a_double_click_stores_one_request() {
    let (t, app) = started();
    let a = send(&app, peer(13), browser_post(PATH, good_form("Ann Smith"))).await;
    // The same answers again, with different spacing and case, as a second click sends.
    let b = send(&app, peer(13), browser_post(PATH, good_form("ann  SMITH"))).await;
    assert_eq!(a.status(), StatusCode::SEE_OTHER);
    assert_eq!(b.status(), StatusCode::SEE_OTHER);
    assert_eq!(t.stored(), 1);
    let outbox: i64 = t
        .db()
        .query_row("SELECT count(*) FROM outbox", [], |r| r.get(0))
        .unwrap();
    assert_eq!(outbox, 1, "one email for one request");
    // Both clicks at once, racing through the same batch, still store one.
    let (c, d) = tokio::join!(
        send(
            &app,
            peer(13),
            json_post(
                PATH,
                serde_json::json!({"name": "Cy", "email": "cy@example.com", "contact_method": "email", "service": "laser-hair-removal", "consent": "yes", "website": ""})
            )
        ),
        send(
            &app,
            peer(13),
            json_post(
                PATH,
                serde_json::json!({"name": "Cy", "email": "cy@example.com", "contact_method": "email", "service": "laser-hair-removal", "consent": "yes", "website": ""})
            )
        ),
    );
    let id = |s: String| serde_json::from_str::<serde_json::Value>(&s).unwrap()["id"].clone();
    assert_eq!(
        id(text(c).await),
        id(text(d).await),
        "the second answer names the first request"
    );
    assert_eq!(t.stored(), 2);
    // A different answer is a different request.
    send(&app, peer(13), browser_post(PATH, good_form("Ann Smyth"))).await;
    assert_eq!(t.stored(), 3);
}

#[tokio::test]
async fn line_breaks_and_control_characters_in_names_are_refused_before_any_mail() {
    let (t, app) = started();
    for name in [
        "Ann\r\nBcc: victim@example.com",
        "Ann\nSmith",
        "Ann\u{0}",
        "Ann\u{1b}[31m",
    ] {
        let res = send(&app, peer(14), browser_post(PATH, good_form(name))).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{name:?}");
        let page = text(res).await;
        assert!(page.contains("must be on one line"));
        // The name is filled back in without what it was refused for (a NUL was sent
        // back raw).
        assert!(
            !page.contains('\u{0}') && !page.contains('\u{1b}'),
            "{name:?}"
        );
    }
    assert_eq!(t.stored(), 0);
    let outbox: i64 = t
        .db()
        .query_row("SELECT count(*) FROM outbox", [], |r| r.get(0))
        .unwrap();
    assert_eq!(outbox, 0);
}

/// A JSON client sending a checkbox as a browser does (`"on"`) was refused.
#[tokio::test]
async fn a_json_post_with_consent_on_is_accepted() {
    let (t, app) = started();
    let res = send(&app, peer(16), json_post(PATH, serde_json::json!({"name": "Ann", "email": "ann@example.com", "contact_method": "video", "service": "scalp-micropigmentation", "consent": "on", "website": ""}))).await;
    assert_eq!(res.status(), StatusCode::CREATED, "{}", text(res).await);
    assert_eq!(t.stored(), 1);
}

#[tokio::test]
async fn unknown_fields_and_bad_utf8_are_422() {
    let (t, app) = started();
    let res = send(
        &app,
        peer(15),
        browser_post(PATH, format!("{}&is_admin=1", good_form("Ann"))),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = send(&app, peer(15), json_post(PATH, serde_json::json!({"name": "Ann", "email": "ann@example.com", "contact_method": "video", "service": "scalp-micropigmentation", "consent": "yes", "website": "", "role": "admin"}))).await;
    let v: serde_json::Value = serde_json::from_str(&text(res).await).unwrap();
    assert!(v["errors"]["role"][0]
        .as_str()
        .unwrap()
        .contains("no field called"));
    let bad = good_form("Ann").replace("name=Ann", "name=%C3%28%FF");
    let res = send(&app, peer(15), browser_post(PATH, bad)).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(text(res).await.contains("characters we could not read"));
    assert_eq!(t.stored(), 0);
}

#[tokio::test]
async fn unknown_forms_paths_and_methods_get_short_answers() {
    let (_t, app) = started();
    let res = send(
        &app,
        peer(16),
        browser_post("/forms/nope", good_form("Ann")),
    )
    .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert!(text(res).await.contains("There is no form at this address"));
    let res = send(
        &app,
        peer(16),
        Request::get(PATH).body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert!(header(&res, "content-type").starts_with("text/html"));
    let req = Request::get("/wp-login.php")
        .header("accept", "application/json")
        .body(Body::empty())
        .unwrap();
    let res = send(&app, peer(16), req).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let v: serde_json::Value = serde_json::from_str(&text(res).await).unwrap();
    assert_eq!(v["error"], "Page not found");
}

#[tokio::test]
async fn a_panic_is_answered_with_500_in_the_site_look() {
    let t = TestService::start(settings());
    let app = app_with(
        t.service.state.clone(),
        Router::new().route(
            "/boom",
            get(|| async {
                if true {
                    panic!("deliberate");
                }
                "unreachable"
            }),
        ),
    );
    let res = send(
        &app,
        peer(17),
        Request::get("/boom").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let html = text(res).await;
    assert!(html.contains("Something went wrong on our side"));
    assert!(!html.contains("deliberate"), "the cause stays in the log");
    // And the service goes on working.
    let res = send(&app, peer(17), browser_post(PATH, good_form("After"))).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_body_that_stops_arriving_gets_408() {
    let t = TestService::start(settings());
    let state = AppState::with_timeouts(
        t.service.state.settings.clone(),
        t.service.store().clone(),
        Timeouts {
            request: Duration::from_secs(5),
            body: Duration::from_millis(200),
        },
    );
    let app = app(state);
    let mut req = browser_post(PATH, "");
    *req.body_mut() = Body::new(Stalled);
    let res = send(&app, peer(18), req).await;
    assert_eq!(res.status(), StatusCode::REQUEST_TIMEOUT);
    assert!(text(res).await.contains("took too long"));
    assert_eq!(t.stored(), 0);
}

/// A body that sends nothing, ever.
struct Stalled;

impl axum::body::HttpBody for Stalled {
    type Data = hyper::body::Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
        std::task::Poll::Pending
    }
}
