//! Data at rest (items 5 and 6), one-line fields (item 13), the service's own origin
//! behind a proxy (item 19), and every email's `Message-ID` and `Date` (issue 15, item 17).

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use axum::http::StatusCode;

use crate::members::{link, Club, SERVICE};
use crate::support::bin::Running;
use crate::support::http::{browser_post, json_post, raw, raw_post, send, text};
use crate::support::{eml_files, encode, good_form, peer, settings, wait_for, TestService};

/// Every file under `dir`, read whole.
fn all_bytes(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(all_bytes(&p));
        } else {
            out.push((p.display().to_string(), std::fs::read(&p).unwrap()));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivered_link_is_stored_nowhere() {
    let mut c = Club::start();
    let res = c.register("Ann", "ann@example.com", "").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let mail = c.next_mail().await;
    // Issue 15, item 17: membership emails carry a Message-ID and a Date.
    assert!(
        mail.header("message-id")
            .ends_with("@themedicalspa.example>"),
        "{:?}",
        mail.headers
    );
    assert!(!mail.header("date").is_empty());
    let url = link(&mail, "/members/confirm?token=");
    let token = url.split("token=").nth(1).unwrap().to_string();
    let secret = &token[12..];
    // Wait until the delivery is recorded.
    let db = c.t.db();
    wait_for("the delivery recorded", Duration::from_secs(20), || {
        let n: i64 = db
            .query_row(
                "SELECT count(*) FROM outbox WHERE status = 'sent'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        (n == 1).then_some(())
    });
    let bodies: i64 = db
        .query_row("SELECT count(*) FROM outbox_messages", [], |r| r.get(0))
        .unwrap();
    assert_eq!(bodies, 0, "the sent message's body is gone");
    drop(db);
    let Club { t, app, .. } = c;
    drop(app);
    let TestService { service, data, .. } = t;
    service.stop().await;
    for (name, bytes) in all_bytes(data.path()) {
        for piece in [&secret[..10], &secret[10..20], &secret[20..]] {
            assert!(
                !bytes.windows(piece.len()).any(|w| w == piece.as_bytes()),
                "{name} holds part of a delivered link's secret"
            );
        }
    }
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn files_are_private_whatever_the_umask() {
    let data = tempfile::tempdir().unwrap();
    let data_dir = data.path().join("data");
    let fixture = crate::support::fixture();
    let port = crate::support::free_port();
    let addr: std::net::SocketAddr = ([127, 0, 0, 1], port).into();
    let log = tempfile::NamedTempFile::new().unwrap();
    let child = Command::new("sh")
        .arg("-c")
        .arg("umask 000; exec \"$0\" \"$@\"")
        .arg(crate::support::binary())
        .arg("serve")
        .arg("--config")
        .arg(fixture.join("site.yaml"))
        .arg("--site-dir")
        .arg(fixture.join("dist"))
        .arg("--data-dir")
        .arg(&data_dir)
        .arg("--listen")
        .arg(addr.to_string())
        .env_remove("SMTP_URL")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::from(log.reopen().unwrap()))
        .spawn()
        .unwrap();
    let running = Running { child, addr, log };
    wait_for("the service to answer", Duration::from_secs(20), || {
        raw(
            addr,
            b"GET /health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
        )
        .ok()
        .filter(|r| r.status == 200)
    });
    let res = raw(
        addr,
        &raw_post(
            "application/x-www-form-urlencoded",
            "text/html",
            &good_form("Private"),
        ),
    )
    .unwrap();
    assert_eq!(res.status, 303);
    let eml = wait_for("the .eml file", Duration::from_secs(20), || {
        eml_files(&data_dir).into_iter().next()
    });
    assert_eq!(mode(&data_dir), 0o700);
    assert_eq!(mode(&data_dir.join("mail")), 0o700);
    assert_eq!(mode(&eml), 0o600);
    for f in ["forms.sqlite3", "forms.sqlite3-wal", "forms.sqlite3-shm"] {
        assert_eq!(mode(&data_dir.join(f)), 0o600, "{f}");
    }
    let out = Command::new("sh")
        .arg("-c")
        .arg("umask 000; exec \"$0\" \"$@\"")
        .arg(crate::support::binary())
        .arg("--config")
        .arg(fixture.join("site.yaml"))
        .arg("--data-dir")
        .arg(&data_dir)
        .args(["comments", "export"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(mode(&data_dir.join("comments.json")), 0o600);
    running.kill();
}

#[tokio::test]
async fn one_line_fields_refuse_direction_overrides_and_encoded_words() {
    let t = TestService::start(settings());
    let app = t.service.router();
    for (name, says) in [
        ("Ann\u{202E}moc.live", "direction"),
        ("Ann\u{2066}x\u{2069}", "direction"),
        ("=?utf-8?b?U3RhZmY=?=", "encoded"),
    ] {
        let body = good_form("x").replace("name=x", &format!("name={}", encode(name)));
        let res = send(&app, peer(50), browser_post("/forms/consultation", body)).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{name:?}");
        let page = text(res).await;
        assert!(page.contains("Your name cannot contain"), "{page}");
        assert!(page.contains(says), "{name:?}: {page}");
        let res = send(
            &app,
            peer(50),
            json_post(
                "/forms/consultation",
                serde_json::json!({"name": name, "email": "a@example.com", "contact_method": "video",
                    "service": "scalp-micropigmentation", "message": "Hi", "consent": "yes", "website": ""}),
            ),
        )
        .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let v: serde_json::Value = serde_json::from_str(&text(res).await).unwrap();
        assert!(
            v["errors"]["name"][0].as_str().unwrap().contains(says),
            "{v}"
        );
    }
    assert_eq!(t.stored(), 0);
}

#[tokio::test]
async fn the_services_own_address_is_an_allowed_origin_behind_a_proxy_that_rewrites_host() {
    let t = TestService::start(settings());
    let app = t.service.router();
    // nginx's default: `Host` becomes the upstream's address; the browser's Origin is
    // the service's public address (the form on its own 422 page).
    let mut req = browser_post("/forms/consultation", good_form("Behind nginx"));
    req.headers_mut().insert("origin", SERVICE.parse().unwrap());
    req.headers_mut()
        .insert("host", "127.0.0.1:3000".parse().unwrap());
    let res = send(&app, peer(51), req).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    // Another origin is still refused.
    let mut req = browser_post("/forms/consultation", good_form("Elsewhere"));
    req.headers_mut()
        .insert("origin", "https://forms.evil.example".parse().unwrap());
    req.headers_mut()
        .insert("host", "127.0.0.1:3000".parse().unwrap());
    let res = send(&app, peer(51), req).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

/// Item 3 of the review: the row every request for an emailed link writes (members',
/// staff's, a held comment's) keeps nothing that names who asked: no hash of the
/// address, which a copy of the data folder could test guesses against.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_for_a_link_leaves_no_trace_of_the_address() {
    let mut c = Club::start();
    c.join("Ann", "ann@example.com", "").await;
    let staff = crate::support::staff::STAFF;
    for _ in 0..2 {
        c.send(browser_post("/members/link", "email=ann%40example.com"))
            .await;
        c.send(browser_post(
            "/staff/link",
            format!("email={}&next=%2Fstaff%2F", encode(staff)),
        ))
        .await;
    }
    c.post_as(
        None,
        "/forms/comment",
        crate::comments::comment_body("Ann", "Kind staff", "ann@example.com", true),
    )
    .await;
    let db = c.t.db();
    let stored: Vec<Vec<u8>> = db
        .prepare("SELECT filler FROM link_requests ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(stored.len(), 6, "one row per request");
    for address in ["ann@example.com", staff, ""] {
        let hash = blake3::hash(address.as_bytes());
        assert!(
            stored.iter().all(|s| s[..] != hash.as_bytes()[..]),
            "a hash of {address:?} is stored"
        );
    }
    let mut distinct = stored.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(
        distinct.len(),
        stored.len(),
        "the same address, the same bytes"
    );
}
