//! Item 17: the publish command gets a clean environment: `PATH`, `HOME`, an absolute
//! `COMMENTS_FILE` and the variables `comments.publish_env` names; never `SMTP_URL`.

/// A copy of the fixture site with `extra` added to its `comments:` settings.
fn site_with(extra: &str) -> tempfile::TempDir {
    let site = tempfile::tempdir().unwrap();
    let from = crate::support::fixture();
    let copy = std::process::Command::new("cp")
        .arg("-r")
        .arg(from.join("content"))
        .arg(site.path())
        .status()
        .unwrap();
    assert!(copy.success());
    let yaml = std::fs::read_to_string(from.join("site.yaml"))
        .unwrap()
        .replace(
            "  publish_delay_seconds: 0\n",
            &format!("  publish_delay_seconds: 0\n{extra}"),
        );
    std::fs::write(site.path().join("site.yaml"), yaml).unwrap();
    site
}

#[test]
fn the_publish_command_sees_only_what_it_is_given() {
    let site = site_with(
        "  publish_env: [DEPLOY_TARGET]\n  publish_command: 'echo \"smtp=[$SMTP_URL] other=[$OTHER_SECRET] deploy=[$DEPLOY_TARGET] file=[$COMMENTS_FILE] home=[$HOME]\"'\n",
    );
    let work = tempfile::tempdir().unwrap();
    // The database `serve` would have created (commands refuse a folder without one).
    form_service::store::schema::open(&work.path().join("data")).unwrap();
    let out = std::process::Command::new(crate::support::binary())
        .current_dir(work.path())
        .arg("--config")
        .arg(site.path().join("site.yaml"))
        // Relative: the command must still get an absolute path.
        .args(["--data-dir", "data", "comments", "publish"])
        .env("RUST_LOG", "warn")
        .env("SMTP_URL", "smtps://user:hunter2@mail.example:465")
        .env("OTHER_SECRET", "s3cret")
        .env("DEPLOY_TARGET", "deploy@host:/srv/site")
        .env("HOME", "/home/clinic")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("smtp=[]"), "{text}");
    assert!(text.contains("other=[]"), "{text}");
    assert!(text.contains("deploy=[deploy@host:/srv/site]"), "{text}");
    assert!(text.contains("home=[/home/clinic]"), "{text}");
    let file = work.path().join("data/comments.json");
    let file = std::fs::canonicalize(file).unwrap();
    let shown = text
        .split("file=[")
        .nth(1)
        .and_then(|r| r.split(']').next())
        .unwrap();
    assert!(shown.starts_with('/'), "{shown}");
    assert_eq!(std::fs::canonicalize(shown).unwrap(), file);
}

#[test]
fn a_publish_env_name_that_is_the_mail_secret_is_refused() {
    let site = site_with("  publish_env: [SMTP_URL]\n");
    let data = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(crate::support::binary())
        .arg("--config")
        .arg(site.path().join("site.yaml"))
        .arg("--data-dir")
        .arg(data.path())
        .args(["comments", "publish"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("comments.publish_env") && err.contains("SMTP_URL"),
        "{err}"
    );
}
