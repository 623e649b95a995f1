//! Posting: signed in, signed out (held until the emailed link is followed), and the
//! limits: the daily cap, duplicates stored once, the honeypot, other origins, and
//! contact details flagged for staff.

use axum::http::StatusCode;

use super::{comment_body, links};
use crate::members::{link, Club};
use crate::support::http::{header, text};

fn count(c: &Club, status: &str) -> i64 {
    c.t.db()
        .query_row(
            "SELECT count(*) FROM comments WHERE status = ?1",
            [status],
            |r| r.get(0),
        )
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_in_member_goes_straight_to_moderation() {
    let mut c = Club::start();
    let cookie = c.join("Vi", "vi@example.com", "").await;
    let res = c
        .post_as(
            Some(&cookie),
            "/forms/comment",
            comment_body("Vi", "Call me on 07700 900123 or vi@example.com", "", false),
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        header(&res, "location"),
        "https://www.themedicalspa.example/comments/thank-you/"
    );
    assert_eq!(count(&c, "pending"), 1);
    let staff = c.next_mail().await;
    assert!(
        staff.header("reply-to").is_empty(),
        "a staff email never has a member as Reply-To"
    );
    assert!(
        staff.text.contains("vi@example.com"),
        "the address is in the body"
    );
    assert!(staff.text.contains("Call me on 07700 900123"));
    assert!(
        staff.text.contains(
            "looks like it contains an email address and looks like it contains a phone number"
        ),
        "{}",
        staff.text
    );
    assert!(staff.text.contains("/services/scalp-micropigmentation/"));
    assert_eq!(links(&staff).len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visitor_who_is_not_signed_in_loses_nothing_and_confirms_by_email() {
    let mut c = Club::start();
    // No address, no consent: the form comes back with every answer kept.
    let res = c
        .post_as(
            None,
            "/forms/comment",
            comment_body("Wren", "Is it safe in summer?", "", false),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = text(res).await;
    assert!(page.contains("Give your email address"), "{page}");
    assert!(page.contains("Tick this to join"));
    assert!(
        page.contains("Is it safe in summer?"),
        "the comment is kept"
    );

    let res = c
        .post_as(
            None,
            "/forms/comment",
            comment_body("Wren", "Is it safe in summer?", "wren@example.com", true),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(text(res).await.contains("We have kept your comment"));
    assert_eq!(count(&c, "held"), 1);

    let mail = c.next_mail().await;
    assert!(mail
        .header("subject")
        .starts_with("Confirm your membership"));
    assert!(mail
        .text
        .contains("A comment on Scalp Micropigmentation was posted with this address"));
    assert!(
        !mail.text.contains("Is it safe in summer?") && !mail.text.contains("Wren"),
        "nothing typed goes to an address that never confirmed"
    );
    let url = link(&mail, "/comments/confirm?token=");
    let (_, page) = c.open(&url).await;
    assert!(
        page.contains("Is it safe in summer?"),
        "the page shows the comment"
    );
    assert_eq!(
        count(&c, "held"),
        1,
        "a scanner's GET sends nothing to staff"
    );
    let res = c.press(&page).await;
    let cookie = crate::members::session_cookie(&res);
    assert_eq!(
        c.balance(&cookie).await,
        50,
        "confirming also credits the bonus"
    );
    assert_eq!(count(&c, "pending"), 1);
    let staff = c.next_mail().await;
    assert!(staff.header("subject").starts_with("Comment to moderate"));
    assert!(staff.text.contains("Is it safe in summer?"));

    // A member who is signed out gets a link to confirm instead. Anyone can type a
    // member's address, so the clinic's email does not quote what was typed (it once
    // carried a stranger's text and links to the member): the link's page shows it.
    let typed = "And in winter? Cheap pills at https://evil.example/x";
    c.post_as(
        None,
        "/forms/comment",
        comment_body("Wren", typed, "WREN@example.com", true),
    )
    .await;
    let mail = c.next_mail().await;
    assert!(mail.header("subject").starts_with("Confirm your comment"));
    assert!(
        mail.text.contains("Scalp Micropigmentation"),
        "it names the service: {}",
        mail.text
    );
    assert!(
        !mail.text.contains("And in winter?") && !mail.text.contains("evil.example"),
        "the email quotes nothing the poster typed: {}",
        mail.text
    );
    let url = link(&mail, "/comments/confirm?token=");
    let (_, page) = c.open(&url).await;
    assert!(
        page.contains("And in winter?"),
        "the page shows the comment"
    );
    c.press(&page).await;
    assert_eq!(count(&c, "pending"), 2);
    assert!(c.next_mail().await.text.contains("And in winter?"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn held_comments_expire_with_their_link() {
    let mut c = Club::start();
    c.post_as(
        None,
        "/forms/comment",
        comment_body("Xan", "Held too long", "xan@example.com", true),
    )
    .await;
    let url = link(&c.next_mail().await, "/comments/confirm?token=");
    c.t.clock.advance(std::time::Duration::from_secs(49 * 3600));
    let (status, _) = c.open(&url).await;
    assert_eq!(status, StatusCode::GONE);
    assert_eq!(count(&c, "held"), 1);
    // `purge` removes held comments whose link ran out (on the service's clock here,
    // which the test moved on).
    let now = c.t.clock.now();
    let mut db = c.t.db();
    let gone = form_service::comments::purge(&mut db, now - 365 * 86_400, now - 48 * 3600).unwrap();
    assert_eq!(gone, 1);
    assert_eq!(count(&c, "held"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicates_the_daily_limit_the_honeypot_and_other_origins() {
    let mut c = Club::start();
    let cookie = c.join("Yas", "yas@example.com", "").await;
    let body = comment_body("Yas", "Same words", "", false);
    for _ in 0..3 {
        let res = c
            .post_as(Some(&cookie), "/forms/comment", body.clone())
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
    }
    assert_eq!(count(&c, "pending"), 1, "a double click is stored once");
    // Five a day: four more go in, the sixth is refused.
    for i in 0..4 {
        let res = c
            .post_as(
                Some(&cookie),
                "/forms/comment",
                comment_body("Yas", &format!("Question {i}"), "", false),
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
    }
    let res = c
        .post_as(
            Some(&cookie),
            "/forms/comment",
            comment_body("Yas", "One too many", "", false),
        )
        .await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(text(res).await.contains("5 comments a day"));
    assert_eq!(count(&c, "pending"), 5);

    // A bot fills the honeypot: the usual answer, nothing stored.
    let res = c
        .post_as(
            Some(&cookie),
            "/forms/comment",
            comment_body("Bot", "Buy now", "", false)
                .replace("website=", "website=http://spam.example"),
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(count(&c, "pending"), 5);

    // Another site's page cannot post with the member's cookie.
    let mut req = crate::support::http::browser_post(
        "/forms/comment",
        comment_body("Yas", "Forged", "", false),
    );
    req.headers_mut()
        .insert("origin", "https://evil.example".parse().unwrap());
    req.headers_mut().insert("cookie", cookie.parse().unwrap());
    assert_eq!(c.send(req).await.status(), StatusCode::FORBIDDEN);
    let _ = c.next_mail().await;
}

/// A member's comment held (posted signed out, its link not followed), then posted
/// again signed in: over the day's limit it stays held and says so; within it, it goes
/// to staff, who get their email, and its emailed link is spent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_comment_posted_again_signed_in_goes_to_moderation() {
    let mut c = Club::start();
    let cookie = c.join("Zoe", "zoe@example.com", "").await;
    let words = "Does it fade in the sun?";
    c.post_as(
        None,
        "/forms/comment",
        comment_body("Zoe", words, "zoe@example.com", true),
    )
    .await;
    let held = link(&c.next_mail().await, "/comments/confirm?token=");
    assert_eq!(count(&c, "held"), 1);

    // Five others sent today: the day's limit.
    for i in 0..5 {
        c.post_as(
            Some(&cookie),
            "/forms/comment",
            comment_body("Zoe", &format!("Question {i}"), "", false),
        )
        .await;
        let _staff = c.next_mail().await;
    }
    let again = comment_body("Zoe", words, "", false);
    let res = c
        .post_as(Some(&cookie), "/forms/comment", again.clone())
        .await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(count(&c, "held"), 1, "still held");

    c.t.clock.advance(std::time::Duration::from_secs(25 * 3600));
    let res = c.post_as(Some(&cookie), "/forms/comment", again).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(count(&c, "held"), 0);
    assert_eq!(count(&c, "pending"), 6);
    let staff = c.next_mail().await;
    assert!(staff.header("subject").starts_with("Comment to moderate"));
    assert!(staff.text.contains(words), "{}", staff.text);
    assert_eq!(links(&staff).len(), 3);
    assert_eq!(c.open(&held).await.0, StatusCode::GONE, "its link is spent");
}
