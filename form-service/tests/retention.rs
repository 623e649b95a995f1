//! Retention is enforced by the running service, not only by a typed `purge`: the built
//! binary purges what is past `retention_days` when it starts (and the schedule it then
//! runs does so daily), logs counts only, and shows the last purge in `/metrics`.

use std::path::Path;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use form_service::outbox::Mailer;
use form_service::retention::{self, Schedule};
use form_service::Clock;

use crate::support::bin::Running;
use crate::support::http::{browser_post, raw, send, text};
use crate::support::{
    eml_files, encode, free_port, local, peer, settings, wait_for, wait_for_async, TestService,
};

fn body(name: &str, email: &str) -> String {
    format!(
        "name={}&email={}&phone=&contact_method=video&availability=&service=laser-hair-removal&message=Hi&consent=yes&website=",
        encode(name),
        encode(email)
    )
}

/// Stores one request from `name` in `data` with a service whose clock is `days_ago`
/// in the past, and waits for its emails to be written.
async fn store_one(
    data: tempfile::TempDir,
    days_ago: i64,
    name: &str,
    email: &str,
) -> tempfile::TempDir {
    let path = data.path().to_path_buf();
    let before = eml_files(&path).len();
    let t = TestService::start_in(
        settings(),
        data,
        Mailer::files(&path),
        Clock::shifted(-days_ago * 86_400),
    );
    let app = t.service.router();
    let res = send(
        &app,
        peer(1),
        browser_post("/forms/consultation", body(name, email)),
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    wait_for_async("its email written", Duration::from_secs(20), || {
        let n = t.eml_files().len();
        async move { (n > before).then_some(()) }
    })
    .await;
    drop(app);
    let TestService { service, data, .. } = t;
    service.stop().await;
    data
}

fn count(data: &Path, sql: &str) -> i64 {
    form_service::store::schema::open(data)
        .unwrap()
        .query_row(sql, [], |r| r.get(0))
        .unwrap()
}

fn get(addr: std::net::SocketAddr, path: &str) -> String {
    let r = raw(
        addr,
        format!("GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .unwrap();
    assert_eq!(r.status, 200, "{}", r.head);
    r.body
}

/// A metric's value in a `/metrics` text.
fn metric(text: &str, name: &str) -> i64 {
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .unwrap_or_else(|| panic!("no {name} in\n{text}"))
        .trim()
        .parse()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_deletes_requests_past_retention_without_the_purge_command() {
    // A request 10 days old, then one 400 days old (site.yaml keeps 365 days).
    let data = store_one(
        tempfile::tempdir().unwrap(),
        10,
        "Recent Bo",
        "bo@example.com",
    )
    .await;
    let data = store_one(data, 400, "Old Ann", "ann@example.com").await;
    assert_eq!(count(data.path(), "SELECT count(*) FROM submissions"), 2);
    let old_files: Vec<_> = eml_files(data.path())
        .into_iter()
        .filter(|f| std::fs::read_to_string(f).unwrap().contains("Old Ann"))
        .collect();
    assert!(!old_files.is_empty());

    // The real binary, started as systemd starts it: no `purge` is ever typed.
    let fixture = crate::support::fixture();
    let private = format!("127.0.0.1:{}", free_port());
    let server = Running::start_with(
        &fixture.join("site.yaml"),
        &fixture.join("dist"),
        data.path(),
        free_port(),
        &["--metrics-listen", &private],
        &[("LOG_FORMAT", "json"), ("RUST_LOG", "info")],
    );
    // The purge at start runs before the service listens: by the first answer it is done.
    assert_eq!(count(data.path(), "SELECT count(*) FROM submissions"), 1);
    assert_eq!(
        count(
            data.path(),
            "SELECT count(*) FROM submissions WHERE email = 'bo@example.com'"
        ),
        1
    );
    for f in &old_files {
        assert!(!f.exists(), "{} is still there", f.display());
    }
    assert!(
        !eml_files(data.path()).is_empty(),
        "the recent request's emails stay"
    );

    let metrics = get(private.parse().unwrap(), "/metrics");
    let age = metric(&metrics, "form_service_last_purge_age_seconds");
    assert!((0..60).contains(&age), "{metrics}");
    assert_eq!(metric(&metrics, "form_service_purge_failures_total"), 0);
    let health: serde_json::Value =
        serde_json::from_str(&get(private.parse().unwrap(), "/health")).unwrap();
    assert_eq!(health["status"], "ok", "{health}");
    assert!(health["last_purge_age_seconds"].is_i64(), "{health}");

    let (status, log) = server.terminate();
    assert!(status.success(), "{log}");
    let done = log
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["fields"]["message"] == "retention purge done")
        .unwrap_or_else(|| panic!("no purge logged:\n{log}"));
    assert_eq!(done["fields"]["submissions"], 1, "{done}");
    assert_eq!(done["fields"]["retention_days"], 365, "{done}");
    // Counts only: nothing of the person.
    for personal in ["Old Ann", "ann@example.com", "Recent Bo", "bo@example.com"] {
        assert!(!log.contains(personal), "{personal} in the log:\n{log}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daily_schedule_deletes_what_ages_past_retention_while_serving() {
    let data = tempfile::tempdir().unwrap();
    let path = data.path().to_path_buf();
    let t = TestService::start_in(settings(), data, Mailer::files(&path), Clock::default());
    let app = t.service.router();
    let res = send(
        &app,
        peer(1),
        browser_post("/forms/consultation", body("Ann", "ann@example.com")),
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    wait_for("its email written", Duration::from_secs(20), || {
        (!t.eml_files().is_empty()).then_some(())
    });

    // A year and a day go by; the schedule's next run (due now rather than in a day)
    // finds the request past retention.
    t.clock.advance(Duration::from_secs(366 * 86_400));
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let schedule = Schedule {
        data_dir: path.clone(),
        days: 365,
        confirm_link_hours: 48,
    };
    let task = retention::spawn(schedule, t.service.store().clone(), 0, stopped);
    // Gone from the database and the mail folder, and `/metrics` says when.
    let metrics = wait_for_async("the request purged", Duration::from_secs(20), || {
        let app = app.clone();
        let gone = t.stored() == 0;
        async move {
            let req = Request::get("/metrics").body(Body::empty()).unwrap();
            let m = text(send(&app, local(), req).await).await;
            let age = metric(&m, "form_service_last_purge_age_seconds");
            (gone && (0..60).contains(&age)).then_some(m)
        }
    })
    .await;
    assert!(t.eml_files().is_empty(), "{:?}", t.eml_files());
    assert_eq!(metric(&metrics, "form_service_purge_failures_total"), 0);
    let _ = stop.send(true);
    task.await.unwrap();
    drop(app);
    t.service.stop().await;
}
