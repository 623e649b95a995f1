//! Item 7: `forget` erases the person and every email about them; `purge` clears old
//! mail; ids are never given again.

use std::time::Duration;

use axum::http::StatusCode;
use form_service::outbox::Mailer;
use form_service::Clock;

use crate::comments::comment_body;
use crate::members::{attr, Club};
use crate::support::http::{browser_post, send};
use crate::support::{encode, peer, settings, wait_for_async, TestService};

fn ok(o: std::process::Output) -> String {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn count(db: &rusqlite::Connection, sql: &str) -> i64 {
    db.query_row(sql, [], |r| r.get(0)).unwrap()
}

fn consultation(email: &str) -> String {
    format!(
        "name=Ann&email={}&phone=&contact_method=video&availability=&service=scalp-micropigmentation&message=Private+notes&consent=yes&website=",
        encode(email)
    )
}

/// Today the next registrant after a `forget` got the forgotten member's id, and with
/// it the referral already recorded for that id: their confirmation failed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forget_erases_the_person_and_the_next_registrant_can_confirm() {
    let mut c = Club::start();
    let rita = c.join("Rita", "rita@example.com", "").await;
    let code = attr(&c.page(&rita).await, "/membership/?ref=", "\"");
    let ann = c.join("Ann", "ann@example.com", &code).await;
    c.next_mail().await; // Rita: a friend joined.

    // A comment (a staff email about Ann, to staff) and a consultation request.
    let res = c
        .post_as(
            Some(&ann),
            "/forms/comment",
            comment_body("Ann", "Does it fade?", "", false),
        )
        .await;
    assert!(res.status().is_redirection(), "{}", res.status());
    let staff = c.next_mail().await;
    assert!(staff.header("subject").starts_with("Comment to moderate"));
    let res = c
        .send(browser_post(
            "/forms/consultation",
            consultation("ANN@example.com"),
        ))
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    c.next_mail().await;

    let out = ok(c.command(&["forget", "ann@example.com"]));
    assert!(out.contains("Erased 1 submission(s)"), "{out}");
    assert!(out.contains("their loyalty-programme account"), "{out}");
    let db = c.t.db();
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM outbox WHERE subject LIKE 'Comment to moderate%'"
        ),
        0,
        "the staff email about her comment goes with her"
    );
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM outbox WHERE lower(envelope_to) = 'ann@example.com' OR about = 'ann@example.com'"
        ),
        0
    );
    assert_eq!(count(&db, "SELECT count(*) FROM comments"), 0);
    assert_eq!(count(&db, "SELECT count(*) FROM submissions"), 0);
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM members WHERE email_key = 'ann@example.com'"
        ),
        0
    );

    // The next friend Rita refers joins normally.
    let bo = c.join("Bo", "bo@example.com", &code).await;
    assert_eq!(c.balance(&bo).await, 50);
    let mail = c.next_mail().await;
    assert_eq!(mail.header("subject"), "A friend you referred has joined");
}

/// `forget` reads `.eml` headers as a mail program does, and `purge` removes old mail
/// files and outbox rows, those about no submission too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forget_finds_folded_and_encoded_recipients_and_purge_clears_old_mail() {
    let data = tempfile::tempdir().unwrap();
    let path = data.path().to_path_buf();
    // A service 400 days ago: a registration's email (about no submission).
    let t = TestService::start_in(
        settings(),
        data,
        Mailer::files(&path),
        Clock::shifted(-400 * 86_400),
    );
    let app = t.service.router();
    let res = send(
        &app,
        peer(1),
        browser_post(
            "/forms/membership",
            "name=Old&email=old%40example.com&referral=&consent=yes&website=",
        ),
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    wait_for_async("the email written", Duration::from_secs(20), || {
        let n = t.eml_files().len();
        async move { (n == 1).then_some(()) }
    })
    .await;
    drop(app);
    let TestService { service, data, .. } = t;
    service.stop().await;
    let old_file = crate::support::eml_files(data.path()).remove(0);
    let long_ago = std::time::SystemTime::now() - Duration::from_secs(400 * 86_400);
    std::fs::File::options()
        .append(true)
        .open(&old_file)
        .unwrap()
        .set_modified(long_ago)
        .unwrap();

    // Mail to Ann whose `To:` is folded and RFC 2047-encoded, in another case.
    let mail = data.path().join("mail");
    std::fs::write(
        mail.join("mail-member-900001.eml"),
        "From: clinic@themedicalspa.example\r\nTo: =?utf-8?q?Ann_L=C3=A9e?=\r\n <ANN@Example.com>\r\nSubject: Hello\r\n\r\nHi\r\n",
    )
    .unwrap();
    std::fs::write(
        mail.join("mail-member-900002.eml"),
        "From: clinic@themedicalspa.example\r\nTo: Bea <bea@example.com>\r\nSubject: Hello\r\n\r\nann@example.com\r\n",
    )
    .unwrap();
    let out = ok(crate::support::bin::command(
        data.path(),
        &["forget", "ann@example.com"],
    ));
    assert!(out.contains("1 .eml file(s)"), "{out}");
    assert!(!mail.join("mail-member-900001.eml").exists());
    assert!(mail.join("mail-member-900002.eml").exists());

    let out = ok(crate::support::bin::command(
        data.path(),
        &["purge", "--older-than", "365"],
    ));
    assert!(out.contains("1 email(s) from the outbox"), "{out}");
    assert!(!old_file.exists(), "{out}");
    assert!(
        mail.join("mail-member-900002.eml").exists(),
        "recent mail stays"
    );
    let db = form_service::store::schema::open(data.path()).unwrap();
    assert_eq!(count(&db, "SELECT count(*) FROM outbox"), 0);
}

/// A friend registered with Rita's code and Rita was forgotten before the friend
/// confirmed: the friend's link still confirms them (it answered 503 when the forgotten
/// id was written as their referrer), with no referrer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_friend_of_a_forgotten_member_still_confirms() {
    let mut c = Club::start();
    let rita = c.join("Rita", "rita@example.com", "").await;
    let code = attr(&c.page(&rita).await, "/membership/?ref=", "\"");
    c.register("Fay", "fay@example.com", &code).await;
    let url = crate::members::link(&c.next_mail().await, "/members/confirm?token=");
    ok(c.command(&["forget", "rita@example.com"]));
    let db = c.t.db();
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM links WHERE referrer_id IS NOT NULL"
        ),
        0,
        "forget leaves no link naming Rita"
    );
    // A link made before `forget` cleared such references (or by an older release).
    db.execute(
        "UPDATE links SET referrer_id = 1 WHERE purpose = 'confirm' AND used_at IS NULL",
        [],
    )
    .unwrap();
    drop(db);

    let (_, page) = c.open(&url).await;
    let res = c.press(&page).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let show = ok(c.command(&["members", "show", "fay@example.com"]));
    assert!(
        show.contains("status: member") && show.contains("referred by: -"),
        "{show}"
    );
}
