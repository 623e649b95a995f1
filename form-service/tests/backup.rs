//! Backups against the built binary: `backup` while a burst of posts goes on, `restore`
//! into a fresh folder, and the service started on it with a real SMTP server.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use form_service::private::mode;
use form_service::store;

use crate::support::bin::{command, Running};
use crate::support::http::{raw, raw_post};
use crate::support::smtp::SmtpServer;
use crate::support::{free_port, wait_for};

fn json_body(i: usize) -> String {
    serde_json::json!({
        "name": format!("Burst {i}"), "email": format!("burst{i}@example.com"),
        "contact_method": "email", "service": "laser-hair-removal", "consent": "yes", "website": ""
    })
    .to_string()
}

/// Every post acknowledged, with when the answer arrived.
type Acks = Arc<Mutex<Vec<(String, Instant)>>>;

fn burst(
    addr: std::net::SocketAddr,
    acked: Acks,
    stop: Arc<AtomicBool>,
) -> Vec<std::thread::JoinHandle<()>> {
    (0..6)
        .map(|w| {
            let (acked, stop) = (acked.clone(), stop.clone());
            std::thread::spawn(move || {
                for i in 0..100_000 {
                    if stop.load(Ordering::Relaxed) {
                        return;
                    }
                    let req = raw_post(
                        "application/json",
                        "application/json",
                        &json_body(w * 1_000_000 + i),
                    );
                    let r = raw(addr, &req).expect("the service answers during the backup");
                    assert_eq!(r.status, 201, "{} {}", r.head, r.body);
                    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
                    let id = v["id"].as_str().unwrap().to_string();
                    acked.lock().unwrap().push((id, Instant::now()));
                }
            })
        })
        .collect()
}

#[test]
fn a_backup_taken_under_load_restores_every_acknowledged_request_and_its_waiting_mail() {
    let data = tempfile::tempdir().unwrap();
    // The mail server is down while the clinic takes posts: their emails wait.
    let dead = format!("smtp://127.0.0.1:{}", free_port());
    let down = [("SMTP_URL", dead.as_str()), ("SMTP_ALLOW_PLAIN", "1")];
    let server = Running::start(data.path(), &down);
    let acked: Acks = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let workers = burst(server.addr, acked.clone(), stop.clone());
    wait_for("200 acknowledged posts", Duration::from_secs(60), || {
        (acked.lock().unwrap().len() >= 200).then_some(())
    });

    let out = tempfile::tempdir().unwrap();
    let dest = out.path().join("nightly");
    let began = Instant::now();
    let backup = command(data.path(), &["backup", dest.to_str().unwrap()]);
    let ended = Instant::now();
    // Keep posting a little after the backup, then stop.
    let after = acked.lock().unwrap().len() + 50;
    wait_for("posts after the backup", Duration::from_secs(60), || {
        (acked.lock().unwrap().len() >= after).then_some(())
    });
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.join().unwrap();
    }
    server.kill();
    assert!(
        backup.status.success(),
        "backup failed: {}",
        String::from_utf8_lossy(&backup.stderr)
    );
    let acked = acked.lock().unwrap().clone();
    let before: Vec<&String> = acked
        .iter()
        .filter(|(_, t)| *t < began)
        .map(|(id, _)| id)
        .collect();
    let during = acked
        .iter()
        .filter(|(_, t)| *t >= began && *t <= ended)
        .count();
    assert!(before.len() >= 200);
    assert!(during > 0, "no post was acknowledged while the backup ran");

    // The backup is private.
    assert_eq!(mode(&dest).unwrap(), 0o700);
    assert_eq!(mode(&dest.join("forms.sqlite3")).unwrap(), 0o600);

    // Restore refuses the old (non-empty) folder, then fills a fresh one.
    let refused = command(data.path(), &["restore", dest.to_str().unwrap()]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("not empty"));
    let fresh = tempfile::tempdir().unwrap();
    let restored_dir = fresh.path().join("data");
    let restored = command(&restored_dir, &["restore", dest.to_str().unwrap()]);
    assert!(
        restored.status.success(),
        "{}",
        String::from_utf8_lossy(&restored.stderr)
    );
    assert_eq!(mode(&restored_dir).unwrap(), 0o700);

    let conn = store::schema::open(&restored_dir).unwrap();
    let count = |id: &str| -> i64 {
        conn.query_row(
            "SELECT count(*) FROM submissions WHERE public_id = ?1",
            [id],
            |r| r.get(0),
        )
        .unwrap()
    };
    let missing: Vec<_> = before.iter().filter(|id| count(id) != 1).collect();
    assert!(
        missing.is_empty(),
        "{} acknowledged request(s) not restored exactly once: {missing:?}",
        missing.len()
    );
    let repeated: i64 = conn
        .query_row(
            "SELECT count(*) FROM (SELECT answers FROM submissions GROUP BY answers HAVING count(*) > 1)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(repeated, 0, "a request was stored twice");
    let waiting: Vec<String> = {
        let mut stmt = conn
            .prepare(
                "SELECT s.public_id FROM outbox o JOIN submissions s ON s.id = o.submission_id
                 WHERE o.status = 'pending'",
            )
            .unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    let waiting_ids: HashSet<&str> = waiting.iter().map(String::as_str).collect();
    for id in &before {
        assert!(
            waiting_ids.contains(id.as_str()),
            "the email about {id} was not waiting in the backup"
        );
    }

    // The service on the restored folder sends every email that was waiting.
    let smtp = SmtpServer::start();
    let up = format!("smtp://127.0.0.1:{}", smtp.port);
    let _service = Running::start(
        &restored_dir,
        &[("SMTP_URL", up.as_str()), ("SMTP_ALLOW_PLAIN", "1")],
    );
    let got = smtp.wait_for_messages(waiting.len(), Duration::from_secs(120));
    for id in &before {
        let needle = format!("<{id}.staff@");
        assert!(
            got.iter().any(|m| m.contains(&needle)),
            "no email about {id} arrived"
        );
    }
    wait_for(
        "the restored outbox to empty",
        Duration::from_secs(30),
        || store::list_outbox(&conn).unwrap().is_empty().then_some(()),
    );
}

#[test]
fn a_damaged_backup_is_refused_and_nothing_is_written() {
    let data = tempfile::tempdir().unwrap();
    Running::start(data.path(), &[]).kill();
    let out = tempfile::tempdir().unwrap();
    let dest = out.path().join("b");
    assert!(command(data.path(), &["backup", dest.to_str().unwrap()])
        .status
        .success());
    std::fs::write(dest.join("forms.sqlite3"), b"not a database").unwrap();
    let target = out.path().join("data");
    let r = command(&target, &["restore", dest.to_str().unwrap()]);
    assert_eq!(r.status.code(), Some(1));
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(err.contains("differs from the backup"), "{err}");
    assert!(!target.exists());
}

#[test]
fn the_service_takes_scheduled_backups_and_deletes_the_old_ones() {
    let backups = tempfile::tempdir().unwrap();
    let dir = backups.path().join("scheduled");
    let site = crate::support::site_with(&format!(
        "  backup:\n    dir: {}\n    every_hours: 24\n    keep_days: 7\n",
        dir.display()
    ));
    // An old backup, from ten days ago, is waiting to age out.
    let data = tempfile::tempdir().unwrap();
    Running::start(data.path(), &[]).kill();
    let old = dir.join("form-service-20200101T000000Z");
    assert!(command(data.path(), &["backup", old.to_str().unwrap()])
        .status
        .success());
    let manifest = old.join("backup.json");
    let mut m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&manifest).unwrap()).unwrap();
    let ten_days_ago = m["created_at"].as_i64().unwrap() - 10 * 86_400;
    m["created_at"] = ten_days_ago.into();
    std::fs::write(&manifest, m.to_string()).unwrap();

    let fixture = crate::support::fixture();
    let server = Running::start_with(
        &site.path().join("site.yaml"),
        &fixture.join("dist"),
        data.path(),
        free_port(),
        &[],
        &[],
    );
    let taken = wait_for("a scheduled backup", Duration::from_secs(30), || {
        let names: Vec<String> = std::fs::read_dir(&dir)
            .ok()?
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        (!old.exists() && names.len() == 1).then(|| dir.join(&names[0]))
    });
    assert!(taken.join("backup.json").is_file());
    assert_eq!(mode(&taken).unwrap(), 0o700);
    let (status, log) = server.terminate();
    assert!(status.success());
    assert!(log.contains("backup taken"), "{log}");
    // `backups` lists what is kept.
    let listed = std::process::Command::new(crate::support::binary())
        .args(["backups", "--config"])
        .arg(site.path().join("site.yaml"))
        .output()
        .unwrap();
    let listed = String::from_utf8_lossy(&listed.stdout);
    assert!(listed.contains(taken.to_str().unwrap()), "{listed}");
}
