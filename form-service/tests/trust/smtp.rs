//! Item 14: a mail server's permanent refusal (5xx) ends the retries at once, staff see
//! it (`outbox`, `/health` from this machine), and the address it quotes stays out of
//! the log.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::support::bin::{command, Running};
use crate::support::http::{raw, raw_post};
use crate::support::{good_form, wait_for};

/// A mail server that refuses every recipient for good, quoting the address, as
/// Postfix does; counts the refusals.
fn refusing_server() -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let refused = Arc::new(AtomicUsize::new(0));
    let count = refused.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let count = count.clone();
            std::thread::spawn(move || {
                let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
                let mut out = stream.try_clone().unwrap();
                let mut lines = BufReader::new(stream);
                let _ = out.write_all(b"220 refuse.test ESMTP\r\n");
                let mut line = String::new();
                while lines.read_line(&mut line).unwrap_or(0) > 0 {
                    let upper = line.to_ascii_uppercase();
                    let reply = if upper.starts_with("EHLO") {
                        "250-refuse.test\r\n250 8BITMIME\r\n".to_string()
                    } else if upper.starts_with("RCPT") {
                        count.fetch_add(1, Ordering::SeqCst);
                        let to = line.trim_end().split(':').nth(1).unwrap_or("").trim();
                        format!("550 5.1.1 {to}: Recipient address rejected: User unknown\r\n")
                    } else if upper.starts_with("QUIT") {
                        let _ = out.write_all(b"221 bye\r\n");
                        return;
                    } else {
                        "250 ok\r\n".to_string()
                    };
                    if out.write_all(reply.as_bytes()).is_err() {
                        return;
                    }
                    line.clear();
                }
            });
        }
    });
    (port, refused)
}

#[test]
fn a_permanent_refusal_stops_retrying_is_reported_and_keeps_addresses_out_of_the_log() {
    let (port, refused) = refusing_server();
    let data = tempfile::tempdir().unwrap();
    let url = format!("smtp://127.0.0.1:{port}");
    let s = Running::start(
        data.path(),
        &[
            ("SMTP_URL", &url),
            ("SMTP_ALLOW_PLAIN", "1"),
            ("RUST_LOG", "info"),
        ],
    );
    let res = raw(
        s.addr,
        &raw_post(
            "application/x-www-form-urlencoded",
            "text/html",
            &good_form("Refused"),
        ),
    )
    .unwrap();
    assert_eq!(res.status, 303, "{}", res.head);

    let listed = wait_for("the email marked failed", Duration::from_secs(20), || {
        let out = command(data.path(), &["outbox"]);
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.contains("failed").then_some(text)
    });
    // The server's words, without the address it quoted.
    assert!(
        listed.contains("550") && listed.contains("<[address]>: Recipient address rejected"),
        "{listed}"
    );
    let db = form_service::store::schema::open(data.path()).unwrap();
    let (status, attempts): (String, i64) = db
        .query_row("SELECT status, attempts FROM outbox", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!((status.as_str(), attempts), ("failed", 1), "no retry");
    assert_eq!(refused.load(Ordering::SeqCst), 1);

    // Staff on the machine see it on /health; the public does not.
    let local = raw(
        s.addr,
        b"GET /health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
    )
    .unwrap();
    assert!(local.body.contains("\"mail\":\"failed\""), "{}", local.body);
    assert!(local.body.contains("\"outbox_failed\":1"), "{}", local.body);

    let (_, log) = s.terminate();
    assert!(log.contains("EMAIL REJECTED"), "{log}");
    assert!(
        !log.contains("consultations@themedicalspa.example"),
        "an address reached the log:\n{log}"
    );
}
