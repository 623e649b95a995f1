//! `form-service check`: every setting `serve` would refuse, at once, with file, line
//! and column; `--smtp` against a real SMTP server, sending nothing.

use std::process::{Command, Output};
use std::time::Duration;

use crate::support::smtp::SmtpServer;
use crate::support::{binary, free_port, site_edited};

fn check(config: &std::path::Path, env: &[(&str, &str)], extra: &[&str]) -> Output {
    let data = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(binary());
    cmd.arg("check")
        .args(extra)
        .arg("--config")
        .arg(config)
        .arg("--data-dir")
        .arg(data.path())
        .env_remove("SMTP_URL")
        .env_remove("SMTP_ALLOW_PLAIN");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

#[test]
fn every_bad_setting_is_reported_with_its_place_and_a_suggestion() {
    let site = site_edited(|y| {
        y.replace("timezone: Europe/London", "timezone: Europe/Londn")
            .replace(
                "  staff_email: consultations@themedicalspa.example",
                "  staff_email: consultations at themedicalspa\n  trusted_proxies: [127.0.0.1, caddy]\n  backup: {dir: backups, keep_days: 0}",
            )
            .replace("url: https://forms.themedicalspa.example", "url: forms.themedicalspa.example")
    });
    let out = check(
        &site.path().join("site.yaml"),
        &[("SMTP_URL", "smtp://mail.example:587?tls=none")],
        &[],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    for needle in [
        "site.yaml:12:11: timezone `Europe/Londn` is not a known IANA time zone\n  help: did you mean `Europe/London`?",
        "site.yaml:48:8: form_service.url: `forms.themedicalspa.example` is not an http:// or https:// address",
        "site.yaml:50:16: form_service.staff_email: `consultations at themedicalspa` is not an email address",
        "site.yaml:51:32: form_service.trusted_proxies: `caddy` is not an IP address",
        "site.yaml:52:26: backup.keep_days must be at least 1",
        "environment: SMTP_URL",
        "6 problem(s) found",
    ] {
        assert!(err.contains(needle), "stderr lacks {needle:?}:\n{err}");
    }
}

#[test]
fn good_settings_pass_and_smtp_is_tried_without_sending() {
    let config = crate::support::fixture().join("site.yaml");
    let out = check(&config, &[], &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("ok: serve would start"));

    let smtp = SmtpServer::start();
    let url = format!("smtp://127.0.0.1:{}", smtp.port);
    let env = [("SMTP_URL", url.as_str()), ("SMTP_ALLOW_PLAIN", "1")];
    let out = check(&config, &env, &["--smtp"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("mail server: connected"), "{stdout}");
    // Without SMTP_ALLOW_PLAIN the same server is refused: it offers no STARTTLS.
    let out = check(&config, &[("SMTP_URL", url.as_str())], &["--smtp"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("error: mail server: SMTP 127.0.0.1"), "{err}");
    assert!(smtp.messages().is_empty(), "check sent a message");

    // Nothing listening: a clear failure, not a hang.
    let dead = format!("smtp://127.0.0.1:{}", free_port());
    let started = std::time::Instant::now();
    let out = check(
        &config,
        &[("SMTP_URL", dead.as_str()), ("SMTP_ALLOW_PLAIN", "1")],
        &["--smtp"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(started.elapsed() < Duration::from_secs(30));
    assert!(String::from_utf8_lossy(&out.stderr).contains("error: mail server:"));
}

/// `check` tries the backup folder as the user it runs as: a folder it could not create
/// or write is reported at `backup.dir`'s line, and a good one passes; either way nothing
/// is left behind, not even the folder.
#[test]
fn the_backup_folder_is_tried_for_writing_and_nothing_is_left_behind() {
    let place = tempfile::tempdir().unwrap();
    let with_backups = |dir: &std::path::Path| {
        crate::support::site_with(&format!("  backup:\n    dir: {}\n", dir.display()))
    };

    // Under a file: it can never be created.
    let blocker = place.path().join("a-file");
    std::fs::write(&blocker, "").unwrap();
    let site = with_backups(&blocker.join("backups"));
    let out = check(&site.path().join("site.yaml"), &[], &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!(
            "site.yaml:49:5: backup.dir: {} cannot be created or written by this user",
            blocker.join("backups").display()
        )),
        "{err}"
    );
    assert!(err.contains("help: under the systemd unit"), "{err}");
    assert!(err.contains("1 problem(s) found"), "{err}");

    // Missing, two levels down: creatable, and still missing afterwards.
    let site = with_backups(&place.path().join("state/backups"));
    let out = check(&site.path().join("site.yaml"), &[], &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("state/backups (writable)"), "{stdout}");
    assert!(
        !place.path().join("state").exists(),
        "check created the folder"
    );

    // There already: written to, and left as it was.
    let existing = place.path().join("backups");
    std::fs::create_dir(&existing).unwrap();
    let site = with_backups(&existing);
    let out = check(&site.path().join("site.yaml"), &[], &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::read_dir(&existing).unwrap().count(), 0);
    let names: Vec<_> = std::fs::read_dir(place.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");

    // A folder this user may not write in (only testable when not root, who may).
    if rustix::process::getuid().as_raw() != 0 {
        use std::os::unix::fs::PermissionsExt;
        let locked = place.path().join("locked");
        std::fs::create_dir(&locked).unwrap();
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o500)).unwrap();
        let site = with_backups(&locked.join("backups"));
        let out = check(&site.path().join("site.yaml"), &[], &[]);
        assert_eq!(out.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&out.stderr).contains("Permission denied"));
    }
}
