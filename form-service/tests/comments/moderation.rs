//! Staff moderate from their inbox: a GET changes nothing, the button acts once, links
//! expire and cannot be altered, and an approved comment reaches the built site.

use std::time::Duration;

use axum::http::StatusCode;

use super::{act, generator, post_and_get_links, repo_root};
use crate::members::Club;
use crate::support::{settings, wait_for};

fn status_of(c: &Club, public_id_like: &str) -> String {
    c.t.db()
        .query_row(
            "SELECT status FROM comments WHERE body LIKE ?1",
            [format!("%{public_id_like}%")],
            |r| r.get(0),
        )
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approved_from_the_email_then_published_through_the_generator() {
    let Some(generator) = generator() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must build the generator"
        );
        eprintln!("skipped: the generator binary is not built beside the tests");
        return;
    };
    let out = tempfile::tempdir().unwrap();
    let site = out.path().join("site");
    let mut s = settings();
    s.site.comments.publish_command = Some(format!(
        "'{}' build --root '{}' --comments \"$COMMENTS_FILE\" --output '{}'",
        generator.display(),
        repo_root().display(),
        site.display()
    ));
    let mut c = Club::with(s);
    c.sign_in_staff().await;
    let cookie = c.join("Sam", "sam@example.com", "").await;
    let text = "How long does the *first* session take? <script>alert(1)</script>";
    let [approve, _reject, _reply] = post_and_get_links(&mut c, &cookie, text).await;

    // Mail scanners open the link: nothing is approved, nothing is built.
    for _ in 0..2 {
        let (status, page) = c.open(&approve).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains(">Approve and publish</button>"));
        assert!(page.contains("&lt;script&gt;"), "the text is shown escaped");
    }
    assert_eq!(status_of(&c, "first"), "pending");
    assert!(!site.exists());

    let (_, page) = c.open(&approve).await;
    let res = c.press(&page).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(status_of(&c, "first"), "approved");
    let told = c.next_mail().await;
    assert_eq!(
        told.header("subject"),
        "Your comment on Scalp Micropigmentation is published"
    );

    // The publisher writes the comments file and runs the build.
    let page_file = site.join("services/scalp-micropigmentation/index.html");
    let html = tokio::task::block_in_place(|| {
        wait_for("the published page", Duration::from_secs(60), || {
            std::fs::read_to_string(&page_file)
                .ok()
                .filter(|h| h.contains("session take?"))
        })
    });
    assert!(
        html.contains("<em>first</em>"),
        "the Markdown subset renders"
    );
    assert!(!html.contains("<script>alert"), "nothing runs");
    assert!(html.contains("Sam"));

    // Pressing again: the link is spent.
    assert_eq!(c.press(&page).await.status(), StatusCode::GONE);

    // `forget` erases the comment and rewrites the comments file; the next build
    // (what the publish command runs) no longer shows it.
    let o = c.command(&["forget", "sam@example.com"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let said = String::from_utf8_lossy(&o.stdout);
    assert!(said.contains("1 comment(s)"), "{said}");
    let file = c.t.data.path().join("comments.json");
    assert!(!std::fs::read_to_string(&file)
        .unwrap()
        .contains("session take?"));
    let build = std::process::Command::new(&generator)
        .args(["build", "--root"])
        .arg(repo_root())
        .arg("--comments")
        .arg(&file)
        .arg("--output")
        .arg(&site)
        .output()
        .unwrap();
    assert!(
        build.status.success(),
        "{}",
        String::from_utf8_lossy(&build.stderr)
    );
    let html = std::fs::read_to_string(&page_file).unwrap();
    assert!(!html.contains("session take?"), "gone from the next build");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn links_are_single_use_expire_and_cannot_be_altered() {
    let mut c = Club::start();
    c.sign_in_staff().await;
    let cookie = c.join("Tia", "tia@example.com", "").await;
    let [approve, reject, reply] =
        post_and_get_links(&mut c, &cookie, "Does it fade over time?").await;

    // An altered token is nobody's.
    let mut bad = approve.clone().into_bytes();
    let last = bad.len() - 1;
    bad[last] = if bad[last] == b'a' { b'b' } else { b'a' };
    let bad = String::from_utf8(bad).unwrap();
    assert_eq!(c.open(&bad).await.0, StatusCode::NOT_FOUND);
    assert_eq!(act(&c, &bad, "").await.status(), StatusCode::NOT_FOUND);
    assert_eq!(status_of(&c, "fade"), "pending");

    // Rejecting needs a reason; without one nothing is spent.
    let (_, page) = c.open(&reject).await;
    assert!(page.contains("not about this treatment"));
    assert_eq!(act(&c, &reject, "").await.status(), StatusCode::CONFLICT);
    assert_eq!(act(&c, &reject, "&reason=1").await.status(), StatusCode::OK);
    assert_eq!(status_of(&c, "fade"), "rejected");
    let told = c.next_mail().await;
    assert!(told.header("subject").ends_with("was not published"));
    assert!(
        told.text.contains("It is not about this treatment."),
        "{}",
        told.text
    );

    // The approve link of a rejected comment is spent with it; the reply link cannot
    // publish it either.
    assert_eq!(c.open(&approve).await.0, StatusCode::GONE);
    let (_, page) = c.open(&reply).await;
    let res = act(&c, &reply, "&reply=Hello").await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(page.contains("Publish reply"));
    assert_eq!(status_of(&c, "fade"), "rejected");

    // A second comment: its links expire after seven days.
    let [approve, _, _] = post_and_get_links(&mut c, &cookie, "And after ten years?").await;
    c.t.clock.advance(Duration::from_secs(8 * 86_400));
    let (status, page) = c.open(&approve).await;
    assert_eq!(status, StatusCode::GONE);
    assert!(page.contains("expired"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_publishes_the_comment_with_the_clinics_answer() {
    let mut c = Club::start();
    c.sign_in_staff().await;
    let cookie = c.join("Uma", "uma@example.com", "").await;
    let [_, _, reply] = post_and_get_links(&mut c, &cookie, "Is it painful?").await;
    let (_, page) = c.open(&reply).await;
    let res = act(
        &c,
        &reply,
        "&reply=Most+clients+say+it+feels+like+light+scratching.",
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(page.contains("Publish reply"));
    let o = c.command(&["comments", "export"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let file = std::fs::read_to_string(c.t.data.path().join("comments.json")).unwrap();
    let parsed: serde_json::Value = serde_json::from_str(&file).unwrap();
    let first = &parsed["comments"][0];
    assert_eq!(first["author"], "Sam", "the name chosen for the comment");
    assert_eq!(first["page"], "/services/scalp-micropigmentation/");
    assert_eq!(first["text"], "Is it painful?");
    assert_eq!(
        first["reply"]["text"],
        "Most clients say it feels like light scratching."
    );
    assert!(
        !file.contains("uma@example.com"),
        "no addresses in the public file"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_moderate_from_the_command_line_too() {
    let mut c = Club::start();
    let cookie = c.join("Val", "val@example.com", "").await;
    post_and_get_links(&mut c, &cookie, "First question").await;
    post_and_get_links(&mut c, &cookie, "Second question").await;
    let run = |args: &[&str]| {
        let o = c.command(args);
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    let (code, list, _) = run(&["comments", "list"]);
    assert_eq!(code, Some(0));
    let ids: Vec<String> = list
        .lines()
        .skip(1)
        .map(|l| l.split('\t').next().unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), 2, "{list}");
    assert!(list.contains("First question") && list.contains("Second question"));

    let (code, _, err) = run(&["comments", "reject", &ids[0]]);
    assert_eq!(code, Some(2), "a reason is needed");
    assert!(
        err.contains("1: It includes personal or medical details"),
        "{err}"
    );
    let (code, out, _) = run(&["comments", "reject", &ids[0], "--reason", "2"]);
    assert_eq!(code, Some(0));
    assert!(out.contains("is now rejected"), "{out}");
    let (code, _, err) = run(&["comments", "approve", &ids[0]]);
    assert_eq!(code, Some(1));
    assert!(err.contains("already rejected"), "{err}");

    let (code, out, _) = run(&["comments", "reply", &ids[1], "--text", "About an hour."]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("Wrote 1 approved comment(s)"), "{out}");
    assert!(out.contains("No comments.publish_command is set"));
    let file = std::fs::read_to_string(c.t.data.path().join("comments.json")).unwrap();
    assert!(file.contains("Second question") && file.contains("About an hour."));
    assert!(!file.contains("First question"));
    let (_, show, _) = run(&["comments", "show", &ids[1]]);
    assert!(show.contains("val@example.com") && show.contains("reply from the clinic"));

    // The members and the ledger, for staff.
    let (_, members, _) = run(&["members", "list"]);
    assert!(
        members.contains("val@example.com\tVal\tmember\t50\t0"),
        "{members}"
    );
    let (_, csv, _) = run(&["points", "export"]);
    assert!(csv.starts_with("id,when,member,points,kind,status,settles,reward,by,reason\n"));
    assert!(
        csv.contains(",val@example.com,50,signup,confirmed,,,system,Welcome bonus for joining"),
        "{csv}"
    );
    let (code, _, err) = run(&["members", "show", "nobody@example.com"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("no member has the address"));
}

/// A copy of the fixture site whose config runs `command` to publish.
fn site_with_publish_command(command: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let from = crate::support::fixture();
    let copy = std::process::Command::new("cp")
        .arg("-r")
        .arg(from.join("content"))
        .arg(dir.path())
        .status()
        .unwrap();
    assert!(copy.success());
    let yaml = std::fs::read_to_string(from.join("site.yaml"))
        .unwrap()
        .replace(
            "  publish_delay_seconds: 0\n",
            &format!("  publish_delay_seconds: 0\n  publish_command: '{command}'\n"),
        );
    std::fs::write(dir.path().join("site.yaml"), yaml).unwrap();
    dir
}

#[test]
fn the_publish_command_runs_from_the_site_root_and_its_failure_is_reported() {
    let data = tempfile::tempdir().unwrap();
    // The database `serve` would have created (commands refuse a folder without one).
    form_service::store::schema::open(data.path()).unwrap();
    let run = |site: &tempfile::TempDir| {
        std::process::Command::new(crate::support::binary())
            .arg("--config")
            .arg(site.path().join("site.yaml"))
            .arg("--data-dir")
            .arg(data.path())
            .args(["comments", "publish"])
            .env("RUST_LOG", "warn")
            .output()
            .unwrap()
    };
    let ok = site_with_publish_command("echo built from $(basename $PWD) with $COMMENTS_FILE");
    let o = run(&ok);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let root = ok
        .path()
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    assert!(out.contains(&format!("built from {root} with")), "{out}");
    assert!(out.contains("comments.json"), "{out}");
    assert_eq!(
        std::fs::read_to_string(data.path().join("comments.json")).unwrap(),
        "{\n  \"comments\": []\n}\n"
    );

    let failing = site_with_publish_command("echo upload refused >&2; exit 3");
    let o = run(&failing);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("failed") && err.contains("upload refused"),
        "{err}"
    );
}
