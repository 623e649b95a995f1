//! Item 8 (the `/health` part): from outside, `/health` says only whether the service
//! is up; its counters, which told whether `/members/link` had mailed a registered
//! address, are for callers on this machine that no proxy relayed.

use std::net::SocketAddr;

use axum::body::Body;
use axum::http::{Request, StatusCode};

use crate::support::http::{browser_post, send, text};
use crate::support::{peer, settings, TestService};

async fn health(app: &axum::Router, from: SocketAddr, forwarded: bool) -> serde_json::Value {
    let mut req = Request::get("/health");
    if forwarded {
        req = req.header("x-forwarded-for", "203.0.113.9");
    }
    let res = send(app, from, req.body(Body::empty()).unwrap()).await;
    assert_eq!(res.status(), StatusCode::OK);
    serde_json::from_str(&text(res).await).unwrap()
}

#[tokio::test]
async fn the_public_health_answer_holds_no_counters() {
    let t = TestService::start(settings());
    let app = t.service.router();
    let res = send(
        &app,
        peer(3),
        browser_post(
            "/members/link",
            "email=someone%40example.com&website=".to_string(),
        ),
    )
    .await;
    assert!(res.status().as_u16() < 500);
    let loopback = SocketAddr::from(([127, 0, 0, 1], 5000));
    let public = serde_json::json!({"status": "ok"});
    assert_eq!(health(&app, peer(3), false).await, public);
    assert_eq!(
        health(&app, loopback, true).await,
        public,
        "a proxy on this machine relays the public answer"
    );
    let local = health(&app, loopback, false).await;
    assert!(local["outbox_waiting"].is_i64(), "{local}");
    assert_eq!(local["mail"], "ok");
}
