//! The mail server down: posts are still accepted and kept; when it comes back, every
//! email is delivered. Retries are driven by the "retry now" hook and by moving the
//! service's clock, never by sleeping.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use form_service::outbox::Mailer;
use form_service::store::{self, RetryWhich};
use form_service::Clock;

use crate::support::http::{browser_post, send, text};
use crate::support::mime::parse;
use crate::support::smtp::SmtpServer;
use crate::support::{free_port, good_form, peer, settings, wait_for_async, TestService};

const PATH: &str = "/forms/consultation";

fn down_service() -> (TestService, u16) {
    let port = free_port();
    let data = tempfile::tempdir().unwrap();
    let mailer = Mailer::smtp(&format!("smtp://127.0.0.1:{port}"), true).unwrap();
    (
        TestService::start_in(settings(), data, mailer, Clock::default()),
        port,
    )
}

/// `/health` as seen from this machine, with its counters.
async fn health(t: &TestService) -> serde_json::Value {
    let res = send(
        &t.service.router(),
        std::net::SocketAddr::from(([127, 0, 0, 1], 40000)),
        Request::get("/health").body(Body::empty()).unwrap(),
    )
    .await;
    serde_json::from_str(&text(res).await).unwrap()
}

/// Waits until every queued email has been tried at least `n` times.
async fn tried(t: &TestService, count: usize, n: i64) {
    let conn = t.db();
    let conn = std::sync::Mutex::new(conn);
    wait_for_async(
        "failed attempts to be recorded",
        Duration::from_secs(30),
        || {
            let rows = store::list_outbox(&conn.lock().unwrap()).unwrap();
            let ok = rows.len() == count && rows.iter().all(|r| r.attempts >= n);
            async move { ok.then_some(()) }
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn posts_are_accepted_while_mail_is_down_and_all_delivered_when_it_returns() {
    let (t, port) = down_service();
    let app = t.service.router();
    for i in 0..5 {
        let res = send(
            &app,
            peer(1),
            browser_post(PATH, good_form(&format!("Person {i}"))),
        )
        .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
    }
    tried(&t, 5, 1).await;
    let h = health(&t).await;
    assert_eq!(h["outbox_waiting"], 5);
    assert_eq!(h["database_writable"], true);
    let row = &store::list_outbox(&t.db()).unwrap()[0];
    assert!(!row.last_error.as_deref().unwrap_or("").is_empty());
    assert!(
        row.next_attempt_at > t.clock.now(),
        "backed off, not retried in a loop"
    );

    let smtp = SmtpServer::start_on(port);
    assert_eq!(t.service.retry_now().await.unwrap(), 5);
    let got =
        tokio::task::spawn_blocking(move || smtp.wait_for_messages(5, Duration::from_secs(30)))
            .await
            .unwrap();
    let mut names: Vec<String> = got
        .iter()
        .map(|m| {
            parse(m)
                .header("subject")
                .rsplit("— ")
                .next()
                .unwrap()
                .to_string()
        })
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["Person 0", "Person 1", "Person 2", "Person 3", "Person 4"]
    );
    wait_for_async("the outbox to empty", Duration::from_secs(10), || {
        let t = &t;
        async move { (health(t).await["outbox_waiting"] == 0).then_some(()) }
    })
    .await;
    t.service.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_email_is_retried_on_its_schedule_then_given_up_then_retried_by_staff() {
    let (t, port) = down_service();
    let res = send(
        &t.service.router(),
        peer(2),
        browser_post(PATH, good_form("Late")),
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    tried(&t, 1, 1).await;

    // An hour later (past any first backoff), the worker tries again on its own.
    t.clock.advance(Duration::from_secs(3600));
    t.service.store().mail_queued().notify_one();
    tried(&t, 1, 2).await;

    // Two days later it gives up, says so, and counts it as failed.
    t.clock.advance(Duration::from_secs(49 * 3600));
    t.service.store().mail_queued().notify_one();
    let conn = std::sync::Mutex::new(t.db());
    wait_for_async(
        "the email to be marked failed",
        Duration::from_secs(30),
        || {
            let rows = store::list_outbox(&conn.lock().unwrap()).unwrap();
            async move { (rows.first().is_some_and(|r| r.status == "failed")).then_some(()) }
        },
    )
    .await;
    wait_for_async("health to count it", Duration::from_secs(10), || {
        let t = &t;
        async move { (health(t).await["outbox_failed"] == 1).then_some(()) }
    })
    .await;

    // Staff fix the mail server and retry the failed ones.
    let smtp = SmtpServer::start_on(port);
    assert_eq!(
        t.service
            .store()
            .retry_now(RetryWhich::Failed)
            .await
            .unwrap(),
        1
    );
    let got =
        tokio::task::spawn_blocking(move || smtp.wait_for_messages(1, Duration::from_secs(30)))
            .await
            .unwrap();
    assert!(parse(&got[0]).header("subject").ends_with("— Late"));
    t.service.stop().await;
}
