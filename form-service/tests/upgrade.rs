//! Issue 14, item 6: an upgrade. The data folder the previous release left behind
//! (`fixtures/previous-release/data`, made by its `make.sh` from that release's own
//! binary: two consultation requests, a confirmed member, a registration whose email
//! is still waiting, and the mail server down throughout) is served by this build. The
//! schema is upgraded after a private copy of the old database is taken and logged;
//! nothing is lost; the waiting emails go out; and the link in one of them, made by the
//! old release, still confirms the member who was waiting.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

use rusqlite::Connection;

use crate::support::bin::Running;
use crate::support::http::raw;
use crate::support::mime::parse;
use crate::support::smtp::SmtpServer;

/// Copies a folder tree (the fixture is a few small files).
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Moves every time in the old database (the columns named `*_at`) forward by the same
/// amount (the ledger's aside), so that the folder looks left a minute ago whenever the test runs: retention
/// and link lifetimes then treat it the same in a year as today.
fn as_if_left_just_now(db: &Connection) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let newest = count(db, "SELECT max(created_at) FROM outbox");
    let shift = now - 60 - newest;
    let tables: Vec<String> = db
        // The ledger is append-only (a trigger says so), and its times decide nothing.
        .prepare(
            "SELECT name FROM sqlite_master
             WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name != 'ledger'",
        )
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for table in tables {
        let columns: Vec<String> = db
            .prepare(&format!("SELECT name FROM pragma_table_info('{table}')"))
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .filter(|c: &String| c.ends_with("_at"))
            .collect();
        for c in columns {
            db.execute(&format!("UPDATE {table} SET {c} = {c} + ?1"), [shift])
                .unwrap();
        }
    }
}

fn count(db: &Connection, sql: &str) -> i64 {
    db.query_row(sql, [], |r| r.get(0)).unwrap()
}

#[test]
fn the_previous_releases_data_is_upgraded_after_a_copy_and_nothing_is_lost() {
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/previous-release/data");
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("data");
    copy_tree(&fixture, &data);
    let old_version: i64 = {
        let db = Connection::open(data.join("forms.sqlite3")).unwrap();
        as_if_left_just_now(&db);
        let waiting = count(&db, "SELECT count(*) FROM outbox WHERE status = 'pending'");
        assert!(waiting >= 3, "the fixture has emails waiting: {waiting}");
        count(&db, "PRAGMA user_version")
    };

    let smtp = SmtpServer::start();
    let smtp_url = format!("smtp://127.0.0.1:{}", smtp.port);
    let service = Running::start(&data, &[("SMTP_URL", &smtp_url), ("SMTP_ALLOW_PLAIN", "1")]);

    // The old database, copied privately before anything changed, and said so.
    let copies: Vec<_> = std::fs::read_dir(data.join("backups"))
        .expect("a backups folder")
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(&format!("forms-schema{old_version}-")))
        })
        .collect();
    assert_eq!(copies.len(), 1, "one copy of the old database: {copies:?}");
    let mode = std::fs::metadata(&copies[0]).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "the copy is private");
    let copy = Connection::open(&copies[0]).unwrap();
    assert_eq!(count(&copy, "PRAGMA user_version"), old_version);
    assert_eq!(count(&copy, "SELECT count(*) FROM submissions"), 2);
    drop(copy);

    // Every email that waited goes out, once.
    let db = Connection::open(data.join("forms.sqlite3")).unwrap();
    let waiting = count(&db, "SELECT count(*) FROM outbox WHERE status = 'pending'") as usize;
    let sent = received(&smtp, waiting);
    assert_eq!(sent.len(), waiting);
    assert!(
        count(&db, "PRAGMA user_version") > old_version,
        "schema upgraded"
    );

    // Nothing lost: the requests, the confirmed member and her points.
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM submissions WHERE form = 'consultation'"
        ),
        2
    );
    assert_eq!(
        count(
            &db,
            "SELECT coalesce(sum(l.amount), 0) FROM ledger l JOIN members m ON m.id = l.member_id
             WHERE m.email = 'mia@example.com' AND m.status = 'active'"
        ),
        50,
        "Mia is still a member with her 50 points"
    );

    // Pat's confirmation, written by the old release and sent only now, still works.
    let pat = sent
        .iter()
        .map(|m| parse(m))
        .find(|m| m.header("to").contains("pat@example.com"))
        .expect("Pat's confirmation email went out");
    let token = pat
        .text
        .split_whitespace()
        .find_map(|w| w.split("/members/confirm?token=").nth(1))
        .expect("a confirmation link")
        .to_string();
    let body = format!("token={token}");
    let answer = raw(
        service.addr,
        format!(
            "POST /members/confirm HTTP/1.1\r\nHost: t\r\nContent-Type: application/x-www-form-urlencoded\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
    )
    .unwrap();
    assert_eq!(answer.status, 303, "{}", answer.head);
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM members WHERE email = 'pat@example.com' AND status = 'active'"
        ),
        1,
        "Pat is a member now"
    );
    let (status, log) = service.terminate();
    assert!(status.success(), "{log}");
    assert!(
        log.contains("database copied before its schema is upgraded"),
        "the upgrade says it copied the database first: {log}"
    );
}

/// The first `n` messages the SMTP server receives (bounded wait).
fn received(smtp: &SmtpServer, n: usize) -> Vec<String> {
    smtp.wait_for_messages(n, Duration::from_secs(30))
}
