//! Referral links: a pending reward and its email, staff confirming it from the command
//! line, self-referral, one referrer per member, and the monthly cap.

use std::time::Duration;

use axum::http::StatusCode;

use super::{attr, link, Club};
use crate::support::http::browser_post;

fn code_of(page: &str) -> String {
    attr(page, "/membership/?ref=", "\"")
}

fn stdout(o: &std::process::Output) -> String {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_friend_who_confirms_earns_a_pending_reward_that_staff_confirm() {
    let mut c = Club::start();
    let ann = c.join("Ann", "ann@example.com", "").await;
    let code = code_of(&c.page(&ann).await);

    // The friend registers with the code (as the referral link fills it in), lower case.
    let bo = c.join("Bo", "bo@example.com", &code.to_lowercase()).await;
    assert_eq!(c.balance(&bo).await, 50, "the friend gets the normal bonus");

    let mail = c.next_mail().await;
    assert_eq!(mail.header("subject"), "A friend you referred has joined");
    assert!(mail.header("to").contains("ann@example.com"));
    assert!(
        mail.text.contains("Your 100 points are waiting"),
        "{}",
        mail.text
    );
    assert!(
        !mail.text.contains("bo@example.com"),
        "the friend's address is not shared"
    );

    let page = c.page(&ann).await;
    assert!(
        page.contains("<strong id=\"balance\">50</strong>"),
        "pending is not spendable"
    );
    assert!(page.contains("100 more waiting"), "{page}");
    assert!(page.contains("Waiting for confirmation"));

    // Staff confirm it once the friend has had a paid treatment.
    let pending = stdout(&c.command(&["points", "pending"]));
    assert!(
        pending.contains("ann@example.com") && pending.contains("referral"),
        "{pending}"
    );
    // Staff confirm after the friend's first paid treatment: the listing names the
    // friend it waits on.
    let row = pending
        .lines()
        .find(|l| l.contains("ann@example.com"))
        .unwrap();
    assert!(
        pending.lines().next().unwrap().contains("\tfriend\t"),
        "{pending}"
    );
    assert_eq!(row.split('\t').nth(6), Some("bo@example.com"), "{pending}");
    let id = pending
        .lines()
        .find(|l| l.contains("ann@example.com"))
        .and_then(|l| l.split('\t').next())
        .unwrap()
        .to_string();
    let out = stdout(&c.command(&["points", "confirm", &id, "--by", "jo"]));
    assert!(out.contains("referral reward confirmed"), "{out}");
    assert_eq!(c.balance(&ann).await, 150);
    // Confirming twice credits once.
    let again = c.command(&["points", "confirm", &id]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already settled"));
    assert_eq!(c.balance(&ann).await, 150);
    let show = stdout(&c.command(&["members", "show", "ANN@example.com"]));
    assert!(
        show.contains("staff:jo") && show.contains("150 to spend"),
        "{show}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn self_referral_a_second_referrer_and_the_monthly_cap_earn_nothing() {
    let mut c = Club::start();
    let ann = c.join("Ann", "ann@example.com", "").await;
    let ann_code = code_of(&c.page(&ann).await);
    let cy = c.join("Cy", "cy@example.com", "").await;
    let cy_code = code_of(&c.page(&cy).await);

    // Ann "registers" again with her own code (any case, spaces): a sign-in link, no reward.
    let res = c.register("Ann", " Ann@Example.com", &ann_code).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let mail = c.next_mail().await;
    assert!(mail.header("subject").starts_with("Sign in"));

    // Bo registers with Ann's code, then again with Cy's before confirming, and follows
    // the first link: the registration whose link is followed counts, so Ann has him.
    c.register("Bo", "bo@example.com", &ann_code).await;
    let first = link(&c.next_mail().await, "/members/confirm?token=");
    c.register("Bo", "bo@example.com", &cy_code).await;
    let second = link(&c.next_mail().await, "/members/confirm?token=");
    let (_, page) = c.open(&first).await;
    c.press(&page).await;
    assert_eq!(
        c.open(&second).await.0,
        StatusCode::GONE,
        "spent with the first"
    );
    let friend = c.next_mail().await;
    assert!(friend.header("to").contains("ann@example.com"));

    // The cap in the fixture is two rewards in 30 days: Di counts, Ed does not.
    c.join("Di", "di@example.com", &ann_code).await;
    let _ = c.next_mail().await;
    c.join("Ed", "ed@example.com", &ann_code).await;
    let page = c.page(&ann).await;
    assert!(page.contains("200 more waiting"), "{page}");
    assert!(page.contains("over the limit"), "{page}");
    let page = c.page(&cy).await;
    assert!(!page.contains("more waiting"), "Cy earned nothing");
    // No "friend joined" email for the capped one.
    let to_ann: i64 =
        c.t.db()
            .query_row(
                "SELECT count(*) FROM outbox WHERE subject = 'A friend you referred has joined'",
                [],
                |r| r.get(0),
            )
            .unwrap();
    assert_eq!(to_ann, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_auto_confirm_the_referral_reward_is_credited_at_once() {
    let mut s = crate::support::settings();
    s.loyalty.as_mut().unwrap().referral_auto_confirm = true;
    let mut c = Club::with(s);
    let ann = c.join("Ann", "ann@example.com", "").await;
    let code = code_of(&c.page(&ann).await);
    c.join("Bo", "bo@example.com", &code).await;
    let mail = c.next_mail().await;
    assert!(
        mail.text.contains("We have added 100 points"),
        "{}",
        mail.text
    );
    assert_eq!(c.balance(&ann).await, 150);
    assert!(!c.page(&ann).await.contains("more waiting"));
}

/// A friend's confirmation link ran out and they asked for a new one by address alone
/// ("email me a link"): the new link carries the name and referral of their
/// registration, so pressing it keeps both.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_link_after_the_first_ran_out_keeps_the_name_and_the_referral() {
    let mut c = Club::start();
    let ann = c.join("Ann", "ann@example.com", "").await;
    let code = code_of(&c.page(&ann).await);
    c.register("Fay", "fay@example.com", &code).await;
    let first = link(&c.next_mail().await, "/members/confirm?token=");
    c.t.clock.advance(Duration::from_secs(49 * 3600));
    assert_eq!(c.open(&first).await.0, StatusCode::GONE);

    let res = c
        .send(browser_post("/members/link", "email=fay%40example.com"))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let fresh = link(&c.next_mail().await, "/members/confirm?token=");
    let (_, page) = c.open(&fresh).await;
    assert_eq!(c.press(&page).await.status(), StatusCode::SEE_OTHER);

    let show = stdout(&c.command(&["members", "show", "fay@example.com"]));
    assert!(show.starts_with("Fay <fay@example.com>"), "{show}");
    assert!(show.contains("referred by: ann@example.com"), "{show}");
    let friend = c.next_mail().await;
    assert_eq!(friend.header("subject"), "A friend you referred has joined");
    assert!(c.page(&ann).await.contains("100 more waiting"));
}

/// A friend who registered with a code and then, before confirming, posted a comment
/// signed out and confirmed through the comment's link: the comment's display name does
/// not replace the registered name, and the referral stays.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn confirming_through_a_held_comment_keeps_the_registered_name_and_referral() {
    let mut c = Club::start();
    let ann = c.join("Ann", "ann@example.com", "").await;
    let code = code_of(&c.page(&ann).await);
    c.register("Fay", "fay@example.com", &code).await;
    let _registration = c.next_mail().await;

    let res = c
        .post_as(
            None,
            "/forms/comment",
            crate::comments::comment_body("F. from Leeds", "Lovely staff", "fay@example.com", true),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let url = link(&c.next_mail().await, "/comments/confirm?token=");
    let (_, page) = c.open(&url).await;
    assert_eq!(c.press(&page).await.status(), StatusCode::OK);

    let show = stdout(&c.command(&["members", "show", "fay@example.com"]));
    assert!(show.starts_with("Fay <fay@example.com>"), "{show}");
    assert!(show.contains("referred by: ann@example.com"), "{show}");
    assert!(c.page(&ann).await.contains("100 more waiting"));
}
