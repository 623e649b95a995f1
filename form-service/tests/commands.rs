//! The staff commands, run as the built binary over a database filled through the app:
//! export (CSV safe for spreadsheets, JSON, --since), purge, forget, outbox, and the
//! exit codes.

use std::time::Duration;

use axum::http::StatusCode;
use form_service::outbox::Mailer;
use form_service::Clock;

use crate::support::bin::command;
use crate::support::http::{browser_post, send};
use crate::support::{encode, peer, settings, wait_for_async, TestService};

const PATH: &str = "/forms/consultation";

fn body(name: &str, email: &str) -> String {
    format!(
        "name={}&email={}&phone=%2B44+20+7946+0321&contact_method=phone&availability=&service=laser-hair-removal&message=Hi&consent=yes&website=",
        encode(name),
        encode(email)
    )
}

/// A service whose clock is `days` in the past, with these (name, email) posts stored
/// and their emails written.
async fn filled(days_ago: i64, people: &[(&str, &str)]) -> tempfile::TempDir {
    let data = tempfile::tempdir().unwrap();
    let path = data.path().to_path_buf();
    let t = TestService::start_in(
        settings(),
        data,
        Mailer::files(&path),
        Clock::shifted(-days_ago * 86_400),
    );
    let app = t.service.router();
    for (name, email) in people {
        let res = send(&app, peer(1), browser_post(PATH, body(name, email))).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
    }
    let n = people.len();
    wait_for_async("emails written", Duration::from_secs(20), || {
        let ok = t.eml_files().len() == n;
        async move { ok.then_some(()) }
    })
    .await;
    drop(app);
    let TestService { service, data, .. } = t;
    service.stop().await;
    data
}

fn stdout(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_writes_csv_safe_for_spreadsheets_and_json() {
    let data = filled(
        0,
        &[
            ("=HYPERLINK(\"http://evil.example\",\"x\")", "a@example.com"),
            ("Bo, Jr.", "b@example.com"),
        ],
    )
    .await;
    let csv = stdout(&command(data.path(), &["export", "consultation"]));
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "id,received,name,email,phone,contact_method,availability,service,message,consent"
    );
    assert_eq!(lines.len(), 3);
    assert!(lines[1].contains(",\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"x\"\")\",a@example.com,'+44 20 7946 0321,phone,,laser-hair-removal,Hi,yes"), "{}", lines[1]);
    assert!(lines[2].contains(",\"Bo, Jr.\",b@example.com,"));
    assert!(
        lines[1].contains(" GMT,") || lines[1].contains(" BST,"),
        "clinic time: {}",
        lines[1]
    );

    let json: serde_json::Value = serde_json::from_str(&stdout(&command(
        data.path(),
        &["export", "consultation", "--format", "json"],
    )))
    .unwrap();
    assert_eq!(json.as_array().unwrap().len(), 2);
    assert_eq!(json[1]["answers"]["name"], "Bo, Jr.");
    assert!(json[0]["received_at"].as_str().unwrap().ends_with('Z'));

    let later = stdout(&command(
        data.path(),
        &["export", "consultation", "--since", "2999-01-01"],
    ));
    assert_eq!(later.lines().count(), 1, "only the header: {later}");
    let london = jiff::tz::db().get("Europe/London").unwrap();
    let today = jiff::Timestamp::now()
        .to_zoned_datetime(london)
        .date()
        .to_string();
    assert_eq!(
        stdout(&command(
            data.path(),
            &["export", "consultation", "--since", &today]
        ))
        .lines()
        .count(),
        3
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn purge_deletes_only_what_is_older_than_asked() {
    let data = filled(40, &[("Old Ann", "ann@example.com")]).await;
    let out = stdout(&command(data.path(), &["purge", "--older-than", "60"]));
    assert!(out.starts_with("Purged 0 submission(s)"), "{out}");
    let out = stdout(&command(data.path(), &["purge", "--older-than", "30"]));
    assert!(out.starts_with("Purged 1 submission(s)"), "{out}");
    assert!(out.contains(", 1 email(s) from the outbox"), "{out}");
    let csv = stdout(&command(data.path(), &["export", "consultation"]));
    assert_eq!(csv.lines().count(), 1);
    // Without --older-than, the config's retention_days (365) applies.
    let out = stdout(&command(data.path(), &["purge"]));
    assert!(out.contains("(365 days ago)"), "{out}");
}

/// With the mail server down, `purge --older-than 0` once deleted a request whose staff
/// email had never gone out: staff never got it. A purge shorter than the outbox's
/// retry window is refused, and a request whose staff email is still waiting is kept
/// whatever the days (the scheduled purge runs the same code).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn purge_never_deletes_a_request_staff_have_not_received() {
    let data = tempfile::tempdir().unwrap();
    let down = Mailer::smtp(
        &format!("smtp://127.0.0.1:{}", crate::support::free_port()),
        true,
    )
    .unwrap();
    let t = TestService::start_in(settings(), data, down, Clock::shifted(-40 * 86_400));
    let app = t.service.router();
    let res = send(
        &app,
        peer(1),
        browser_post(PATH, body("Ann", "ann@example.com")),
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    drop(app);
    let TestService { service, data, .. } = t;
    service.stop().await;

    let out = command(data.path(), &["purge", "--older-than", "0"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("outbox_retry_hours: 48 hours"), "{err}");
    assert!(err.contains("at least 2 days"), "{err}");

    let out = stdout(&command(data.path(), &["purge", "--older-than", "30"]));
    assert!(out.starts_with("Purged 0 submission(s)"), "{out}");
    assert!(out.contains(", 0 email(s) from the outbox"), "{out}");
    assert!(
        out.contains("Kept 1 older submission(s) whose staff email is still waiting"),
        "{out}"
    );
    let csv = stdout(&command(data.path(), &["export", "consultation"]));
    assert_eq!(csv.lines().count(), 2, "the request is still there: {csv}");
    let outbox = stdout(&command(data.path(), &["outbox"]));
    assert!(
        outbox.contains("ann@example.com") || outbox.contains("Ann"),
        "{outbox}"
    );

    // Given up on (failed), it goes at its age: health data is not kept past retention
    // for as long as nobody retries it.
    rusqlite::Connection::open(data.path().join("forms.sqlite3"))
        .unwrap()
        .execute("UPDATE outbox SET status = 'failed'", [])
        .unwrap();
    let out = stdout(&command(data.path(), &["purge", "--older-than", "30"]));
    assert!(out.starts_with("Purged 1 submission(s)"), "{out}");
    assert!(!out.contains("Kept"), "{out}");
}

/// `restore` of a path with no backup answered with the raw `backup.json: No such file
/// or directory (os error 2)`; it now says there is no backup there.
#[test]
fn restore_of_a_path_without_a_backup_says_so() {
    let fresh = tempfile::tempdir().unwrap();
    let missing = fresh.path().join("no-such-backup");
    let out = command(
        &fresh.path().join("data"),
        &["restore", missing.to_str().unwrap()],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&format!("there is no backup at {}", missing.display())),
        "{err}"
    );
    assert!(!err.contains("os error"), "{err}");
    assert!(!fresh.path().join("data").exists(), "nothing restored");
}

/// `purge` once said "(1 days ago)".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn purge_of_one_day_says_day() {
    let data = filled(0, &[]).await;
    let site = crate::support::site_with("  outbox_retry_hours: 24\n");
    let out = std::process::Command::new(crate::support::binary())
        .args(["purge", "--older-than", "1", "--config"])
        .arg(site.path().join("site.yaml"))
        .arg("--data-dir")
        .arg(data.path())
        .output()
        .unwrap();
    let out = stdout(&out);
    assert!(out.contains("(1 day ago)"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forget_erases_one_person_and_says_what_went() {
    let data = filled(
        0,
        &[
            ("Ann", "Ann@Example.com"),
            ("Ann again", "ann@example.com"),
            ("Bo", "bo@example.com"),
        ],
    )
    .await;
    let out = stdout(&command(data.path(), &["forget", "ANN@example.com"]));
    assert!(
        out.starts_with("Erased 2 submission(s) from ANN@example.com:"),
        "{out}"
    );
    assert!(out.contains("and 2 email(s)"), "{out}");
    assert!(out.contains("2 .eml file(s)"), "{out}");
    let csv = stdout(&command(data.path(), &["export", "consultation"]));
    assert_eq!(csv.lines().count(), 2);
    assert!(csv.contains("bo@example.com") && !csv.contains("ann@"));
    assert_eq!(crate::support::eml_files(data.path()).len(), 1);
    let raw = std::fs::read(data.path().join("forms.sqlite3")).unwrap();
    assert!(
        !raw.windows(9).any(|w| w == b"Ann again"),
        "erased text left in the file"
    );
    let out = stdout(&command(data.path(), &["forget", "nobody@example.com"]));
    assert!(out.contains("(none were stored)"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outbox_lists_and_exit_codes_follow_the_contract() {
    let data = filled(0, &[("Ann", "ann@example.com")]).await;
    let out = stdout(&command(data.path(), &["outbox"]));
    assert_eq!(out, "No emails are waiting or failed.\n");
    let code = |args: &[&str]| command(data.path(), args).status.code();
    assert_eq!(code(&["outbox", "retry", "999"]), Some(2));
    assert_eq!(code(&["export", "nope"]), Some(2));
    assert_eq!(
        code(&["export", "consultation", "--since", "yesterday"]),
        Some(2)
    );
    assert_eq!(code(&["frobnicate"]), Some(2));
    assert_eq!(code(&["forget", "not-an-address"]), Some(2));
    assert_eq!(code(&["outbox", "retry-failed"]), Some(0));
    let out = std::process::Command::new(crate::support::binary())
        .arg("--help")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Exit status: 0"));
}

/// Issue 16, item 9: exporting the registration or comment form would print zero rows
/// ("nobody joined"); it is refused with where to look instead. And `forget --help` and
/// `purge --help` say all they erase.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_of_members_or_comments_is_refused_with_a_hint_and_help_says_what_is_erased() {
    let data = filled(0, &[]).await;
    let out = command(data.path(), &["export", "membership"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("`form-service members list`"), "{err}");
    let out = command(data.path(), &["export", "comment"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("`form-service comments list --all`"));
    let help = |cmd: &str| {
        let out = std::process::Command::new(crate::support::binary())
            .args([cmd, "--help"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .replace('\n', " ")
            .replace("  ", " ")
    };
    let forget = help("forget");
    for erased in [
        "submissions",
        ".eml",
        "account",
        "ledger",
        "links",
        "sessions",
        "comments",
    ] {
        assert!(
            forget.contains(erased),
            "forget --help lacks {erased}: {forget}"
        );
    }
    let purge = help("purge");
    for erased in [
        "submissions",
        "emails",
        "comments",
        "registrations never confirmed",
        "links",
        "sessions",
    ] {
        assert!(
            purge.contains(erased),
            "purge --help lacks {erased}: {purge}"
        );
    }
}

/// A management command run without `--data-dir` (or from the wrong folder) once created
/// an empty database there and reported "Erased 0" while the person stayed in the real
/// one. Now only `serve` and `restore` create a database: every other command refuses a
/// folder without one, names it and the flags, and leaves nothing behind.
#[test]
fn commands_refuse_a_data_folder_without_a_database_and_create_nothing() {
    let empty = tempfile::tempdir().unwrap();
    let shown = empty.path().display().to_string();
    let commands: [&[&str]; 9] = [
        &["forget", "ann@example.com"],
        &["purge"],
        &["export", "consultation"],
        &["outbox"],
        &["members", "list"],
        &["points", "pending"],
        &["comments", "list"],
        &["comments", "publish"],
        &["staff", "sessions"],
    ];
    for args in commands {
        let out = command(empty.path(), args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains(&format!("no database in {shown}")),
            "{args:?}: {err}"
        );
        assert!(
            err.contains("--data-dir") && err.contains("--config"),
            "{err}"
        );
        assert_eq!(
            std::fs::read_dir(empty.path()).unwrap().count(),
            0,
            "{args:?} left something in the folder"
        );
    }
    // The default `./data`, from a folder that has none: refused, and not created.
    let cwd = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(crate::support::binary())
        .current_dir(cwd.path())
        .arg("--config")
        .arg(crate::support::fixture().join("site.yaml"))
        .args(["forget", "ann@example.com"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/data (no forms.sqlite3 there)"), "{err}");
    assert!(!cwd.path().join("data").exists(), "./data was created");
}
