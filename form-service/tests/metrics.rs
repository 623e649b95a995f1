//! `/metrics` and `/health` for whoever is on call, and only for them: outsiders get a
//! 404 and a bare up/down; the private listener and local clients get the figures.

use std::sync::atomic::Ordering;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use site_config::{BackupConfig, RateLimit};

use crate::support::bin::Running;
use crate::support::http::{browser_post, raw, send, text};
use crate::support::{free_port, good_form, local, peer, settings, TestService};

fn get(path: &str) -> Request<Body> {
    Request::get(path).body(Body::empty()).unwrap()
}

#[tokio::test]
async fn figures_for_insiders_a_404_for_everyone_else() {
    let mut s = settings();
    s.rate_limit = RateLimit {
        per_minute: 1,
        burst: 2,
    };
    let t = TestService::start(s);
    let app = t.service.router();
    for name in ["Ann", "Bo", "Cy"] {
        send(
            &app,
            peer(7),
            browser_post("/forms/consultation", good_form(name)),
        )
        .await;
    }
    let res = send(&app, peer(7), get("/metrics")).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    // Behind a proxy on this machine every visitor comes from loopback, with the header.
    let mut proxied = get("/metrics");
    proxied
        .headers_mut()
        .insert("x-forwarded-for", "203.0.113.9".parse().unwrap());
    assert_eq!(
        send(&app, local(), proxied).await.status(),
        StatusCode::NOT_FOUND
    );

    let res = send(&app, local(), get("/metrics")).await;
    assert_eq!(res.status(), StatusCode::OK);
    let body = text(res).await;
    for line in [
        "form_service_submissions{form=\"consultation\"} 2",
        "form_service_http_responses_total{status=\"303\",reason=\"ok\"} 2",
        "form_service_http_responses_total{status=\"429\",reason=\"rate_limited\"} 1",
        "form_service_rate_limited_total 1",
        // Three posts and the two refused looks at /metrics.
        "form_service_http_request_duration_seconds_count 5",
        "form_service_http_responses_total{status=\"404\",reason=\"not_found\"} 2",
    ] {
        assert!(body.lines().any(|l| l == line), "no {line:?} in\n{body}");
    }
    assert!(body.contains("form_service_outbox_waiting "), "{body}");
    assert!(
        !body.contains("example.com"),
        "an address in the metrics:\n{body}"
    );
}

#[tokio::test]
async fn health_is_degraded_for_insiders_when_the_backup_is_old() {
    let mut s = settings();
    s.site.form_service.backup = Some(BackupConfig {
        dir: "unused".into(),
        every_hours: 24,
        keep_days: 7,
    });
    let t = TestService::start(s);
    let app = t.service.router();
    let now = t.clock.now();
    let c = t.service.store().counters();
    c.last_backup_at.store(now - 3600, Ordering::Relaxed);
    let v: serde_json::Value =
        serde_json::from_str(&text(send(&app, local(), get("/health")).await).await).unwrap();
    assert_eq!(v["status"], "ok", "{v}");
    c.last_backup_at.store(now - 49 * 3600, Ordering::Relaxed);
    let v: serde_json::Value =
        serde_json::from_str(&text(send(&app, local(), get("/health")).await).await).unwrap();
    assert_eq!(v["status"], "degraded", "{v}");
    assert_eq!(
        v["problems"][0],
        "the last backup is older than two intervals"
    );
    // An outsider still learns only that it is up.
    let res = send(&app, peer(3), get("/health")).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(text(res).await, r#"{"status":"ok"}"#);
    let body = text(send(&app, local(), get("/metrics")).await).await;
    // The age is counted from the service's clock (wall time) when `/metrics` answers,
    // which may be a second or more after `now` above on a loaded machine: bounded, not
    // exact (it once failed under load on the exact value).
    let age: i64 = body
        .lines()
        .find_map(|l| l.strip_prefix("form_service_last_backup_age_seconds "))
        .unwrap_or_else(|| panic!("no backup age:\n{body}"))
        .trim()
        .parse()
        .unwrap();
    let elapsed = t.clock.now() - now;
    assert!(
        (49 * 3600..=49 * 3600 + elapsed).contains(&age),
        "age {age}, {elapsed}s after the backup time was set"
    );
}

#[test]
fn the_private_listener_serves_metrics_to_anyone_who_reaches_it() {
    let data = tempfile::tempdir().unwrap();
    let fixture = crate::support::fixture();
    let private = format!("127.0.0.1:{}", free_port());
    let server = Running::start_with(
        &fixture.join("site.yaml"),
        &fixture.join("dist"),
        data.path(),
        free_port(),
        &["--metrics-listen", &private],
        &[("LOG_FORMAT", "json")],
    );
    let r = raw(
        private.parse().unwrap(),
        b"GET /metrics HTTP/1.1\r\nHost: t\r\nX-Forwarded-For: 203.0.113.9\r\nConnection: close\r\n\r\n",
    )
    .unwrap();
    assert_eq!(r.status, 200, "{}", r.head);
    assert!(r
        .body
        .contains("# TYPE form_service_http_request_duration_seconds histogram"));
    // The public listener, through a proxy: nothing.
    let r = raw(
        server.addr,
        b"GET /metrics HTTP/1.1\r\nHost: t\r\nX-Forwarded-For: 203.0.113.9\r\nConnection: close\r\n\r\n",
    )
    .unwrap();
    assert_eq!(r.status, 404);
    let (status, log) = server.terminate();
    assert!(status.success());
    // LOG_FORMAT=json: one JSON object a line.
    for line in log.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        assert!(v["level"].is_string(), "{line}");
    }
    assert!(log.contains("metrics listening"), "{log}");
}
