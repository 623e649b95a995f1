//! The built binary as staff run it: killed under load, killed with mail queued and
//! started again, stopped with SIGTERM; and the server's header timeout.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use form_service::store;

use crate::support::bin::{command, Running};
use crate::support::http::{raw, raw_post, SITE};
use crate::support::smtp::SmtpServer;
use crate::support::{eml_files, free_port, good_form, wait_for};

fn json_body(i: usize) -> String {
    serde_json::json!({
        "name": format!("Load {i}"), "email": format!("load{i}@example.com"),
        "contact_method": "email", "service": "laser-hair-removal", "consent": "yes", "website": ""
    })
    .to_string()
}

#[test]
fn kill_during_load_loses_no_acknowledged_request() {
    let data = tempfile::tempdir().unwrap();
    let server = Running::start(data.path(), &[]);
    let addr = server.addr;
    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..8)
        .map(|w| {
            let (acked, stop) = (acked.clone(), stop.clone());
            std::thread::spawn(move || {
                for i in 0..10_000 {
                    if stop.load(Ordering::Relaxed) {
                        return;
                    }
                    let req = raw_post(
                        "application/json",
                        "application/json",
                        &json_body(w * 100_000 + i),
                    );
                    match raw(addr, &req) {
                        Ok(r) if r.status == 201 => {
                            let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
                            acked
                                .lock()
                                .unwrap()
                                .push(v["id"].as_str().unwrap().to_string());
                        }
                        Ok(r) if r.status == 0 => return, // cut off mid-answer: not acknowledged
                        Ok(r) => panic!("unexpected answer under load: {} {}", r.status, r.body),
                        Err(_) => return,
                    }
                }
            })
        })
        .collect();
    wait_for("300 acknowledged posts", Duration::from_secs(60), || {
        (acked.lock().unwrap().len() >= 300).then_some(())
    });
    server.kill();
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.join().unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    let conn = store::schema::open(data.path()).unwrap();
    let mut stmt = conn.prepare("SELECT public_id FROM submissions").unwrap();
    let stored: HashSet<String> = stmt
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let lost: Vec<_> = acked.iter().filter(|id| !stored.contains(*id)).collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged request(s) lost: {lost:?}",
        lost.len()
    );
    // Every stored request has its email queued in the same transaction.
    let orphans: i64 = conn
        .query_row(
            "SELECT count(*) FROM submissions s WHERE NOT EXISTS
               (SELECT 1 FROM outbox o WHERE o.submission_id = s.id)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(orphans, 0);
    // And the service starts again on the same data.
    Running::start(data.path(), &[]).kill();
}

#[test]
fn mail_queued_before_a_kill_is_delivered_after_a_restart() {
    let data = tempfile::tempdir().unwrap();
    let smtp_port = free_port(); // nothing listens here yet: the mail server is down
    let url = format!("smtp://127.0.0.1:{smtp_port}");
    let env = [("SMTP_URL", url.as_str()), ("SMTP_ALLOW_PLAIN", "1")];
    let server = Running::start(data.path(), &env);
    for name in ["Ann", "Bo", "Cy"] {
        let req = raw_post(
            "application/x-www-form-urlencoded",
            "text/html",
            &good_form(name),
        );
        let r = raw(server.addr, &req).unwrap();
        assert_eq!(r.status, 303, "{}", r.head);
    }
    // Wait until the outbox has tried (and failed) each one, then kill.
    let conn = store::schema::open(data.path()).unwrap();
    wait_for("three failed attempts", Duration::from_secs(30), || {
        let rows = store::list_outbox(&conn).unwrap();
        (rows.len() == 3 && rows.iter().all(|r| r.attempts >= 1)).then_some(())
    });
    server.kill();

    let smtp = SmtpServer::start_on(smtp_port);
    // Staff's own command makes them due now instead of after the backoff.
    for row in store::list_outbox(&conn).unwrap() {
        let out = command(data.path(), &["outbox", "retry", &row.id.to_string()]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let _server = Running::start(data.path(), &env);
    let got = smtp.wait_for_messages(3, Duration::from_secs(30));
    assert_eq!(got.len(), 3);
    wait_for("the outbox to empty", Duration::from_secs(10), || {
        store::list_outbox(&conn).unwrap().is_empty().then_some(())
    });
}

#[test]
fn sigterm_stops_cleanly_and_the_log_holds_no_answers() {
    let data = tempfile::tempdir().unwrap();
    let server = Running::start(data.path(), &[("RUST_LOG", "trace")]);
    let secret = "Zyxwvu-private-note";
    let body = good_form(secret).replace("message=Hello", &format!("message={secret}"));
    let post = |b: &str| {
        raw(
            server.addr,
            &raw_post("application/x-www-form-urlencoded", "text/html", b),
        )
        .unwrap()
    };
    assert_eq!(post(&body).status, 303);
    assert_eq!(post(&body.replace("email=ann", "email=bad%40")).status, 422);
    assert_eq!(post(&body.replace("website=", "website=spam")).status, 303);
    wait_for("the email file", Duration::from_secs(10), || {
        (eml_files(data.path()).len() == 1).then_some(())
    });
    let (status, log) = server.terminate();
    assert!(status.success(), "exit status {status}; log:\n{log}");
    assert!(log.contains("submission stored"), "{log}");
    assert!(log.contains("honeypot post dropped"), "{log}");
    assert!(
        log.contains(".eml files"),
        "the log says where mail goes: {log}"
    );
    assert!(!log.contains("Zyxwvu"), "an answer reached the log:\n{log}");
    assert!(
        !log.contains("ann@example.com"),
        "an address reached the log:\n{log}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_never_finishes_its_headers_is_cut_off() {
    let t = crate::support::TestService::start(crate::support::settings());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(form_service::server::serve_with(
        listener,
        t.service.router(),
        async {
            let _ = rx.await;
        },
        form_service::server::Limits {
            header_timeout: Duration::from_millis(500),
            ..Default::default()
        },
    ));
    let started = std::time::Instant::now();
    let answer = tokio::task::spawn_blocking(move || {
        raw(
            addr,
            b"POST /forms/consultation HTTP/1.1\r\nHost: t\r\nContent-Ty",
        )
    })
    .await
    .unwrap()
    .expect("the server closes the connection (a read timeout here means it did not)");
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_ne!(answer.status, 303);
    // A well-behaved client on the same server is still served.
    let ok = tokio::task::spawn_blocking(move || {
        raw(
            addr,
            &raw_post(
                "application/x-www-form-urlencoded",
                "text/html",
                &good_form("Ok"),
            ),
        )
    })
    .await
    .unwrap()
    .unwrap();
    assert_eq!(ok.status, 303, "{}", ok.head);
    assert!(ok.head.contains(&format!("{SITE}/consultation/thank-you/")));
    let _ = tx.send(());
    server.await.unwrap();
}
