//! Items 3 and 4: a comment appears under a member's name only if they wrote it signed
//! in or confirmed that very text, and unconfirmed posts use up nothing.

use axum::http::StatusCode;

use super::comment_status;
use crate::comments::comment_body;
use crate::members::{link, Club};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue13_3_a_held_comment_is_released_only_by_its_own_link() {
    let mut c = Club::start();
    let _kim = c.join("Kim", "kim@example.com", "").await;

    // Someone posts, signed out, with Kim's address.
    let res = c
        .post_as(
            None,
            "/forms/comment",
            comment_body("Kim", "Words Kim never wrote", "kim@example.com", true),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let held_mail = c.next_mail().await;
    assert_eq!(comment_status(&c, "never wrote"), "held");

    // Kim signs in for her own reasons: nothing is released.
    c.send(crate::support::http::browser_post(
        "/members/link",
        "email=kim%40example.com",
    ))
    .await;
    let url = link(&c.next_mail().await, "/members/sign-in?token=");
    let (_, page) = c.open(&url).await;
    assert_eq!(c.press(&page).await.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        comment_status(&c, "never wrote"),
        "held",
        "a sign-in releases nothing"
    );

    // The held comment's own email names its page but quotes none of its text (anyone
    // could have typed it); the link's page shows both.
    assert!(
        !held_mail.text.contains("Words Kim never wrote"),
        "{}",
        held_mail.text
    );
    assert!(held_mail
        .text
        .contains("/services/scalp-micropigmentation/"));
    let url = link(&held_mail, "/comments/confirm?token=");
    // A second held comment, with its own link.
    c.post_as(
        None,
        "/forms/comment",
        comment_body("Kim", "Another held one", "kim@example.com", true),
    )
    .await;
    let _second = c.next_mail().await;
    let (status, page) = c.open(&url).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Words Kim never wrote"));
    assert!(page.contains("/services/scalp-micropigmentation/"));
    assert_eq!(
        comment_status(&c, "never wrote"),
        "held",
        "a GET releases nothing"
    );
    assert_eq!(c.press(&page).await.status(), StatusCode::OK);
    assert_eq!(comment_status(&c, "never wrote"), "pending");
    assert_eq!(
        comment_status(&c, "Another held"),
        "held",
        "only that comment"
    );
    let staff = c.next_mail().await;
    assert!(staff.header("subject").starts_with("Comment to moderate"));
    assert!(staff.text.contains("Words Kim never wrote"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue13_3_confirming_a_membership_releases_no_held_comment_but_its_own_link_does() {
    let mut c = Club::start();
    // A comment posted with a new address, then the owner registers and confirms.
    c.post_as(
        None,
        "/forms/comment",
        comment_body("Lee", "Posted by a stranger", "lee@example.com", true),
    )
    .await;
    let held = c.next_mail().await;
    c.register("Lee", "lee@example.com", "").await;
    let url = link(&c.next_mail().await, "/members/confirm?token=");
    let (_, page) = c.open(&url).await;
    assert_eq!(c.press(&page).await.status(), StatusCode::SEE_OTHER);
    assert_eq!(comment_status(&c, "stranger"), "held");
    // The comment's own link still works, and shows the text before anything happens.
    let url = link(&held, "/comments/confirm?token=");
    let (status, page) = c.open(&url).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Posted by a stranger"));
    assert_eq!(c.press(&page).await.status(), StatusCode::OK);
    assert_eq!(comment_status(&c, "stranger"), "pending");
    let show = crate::members::Club::command(&c, &["members", "show", "lee@example.com"]);
    assert!(String::from_utf8_lossy(&show.stdout).contains("Lee"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue13_4_posts_never_confirmed_do_not_use_up_the_daily_limit() {
    let mut c = Club::start();
    let mo = c.join("Mo", "mo@example.com", "").await;
    // Someone posts five comments, signed out, with Mo's address.
    for i in 0..5 {
        c.post_as(
            None,
            "/forms/comment",
            comment_body("Mo", &format!("Not Mo {i}"), "mo@example.com", true),
        )
        .await;
    }
    // Mo's own five comments of the day all go in.
    for i in 0..5 {
        let res = c
            .post_as(
                Some(&mo),
                "/forms/comment",
                comment_body("Mo", &format!("Mo's question {i}"), "", false),
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "post {i}");
    }
}
