//! Registration, confirmation, sign-in and sessions; scanners, reused, expired and
//! forged links; identical answers for new and known addresses.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};

use super::{attr, link, path, session_cookie, Club};
use crate::support::http::{browser_post, header, text};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_confirm_by_emailed_link_and_see_fifty_points() {
    let mut c = Club::start();
    let res = c.register("Ann Lee", "Ann.Lee@Example.com", "").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        header(&res, "location"),
        "https://www.themedicalspa.example/membership/thank-you/"
    );

    let mail = c.next_mail().await;
    assert_eq!(
        mail.header("subject"),
        "Confirm your membership of THE Medical Spa's loyalty programme"
    );
    assert!(
        mail.header("to").contains("Ann.Lee@Example.com"),
        "typed address kept"
    );
    assert!(mail.html.contains("Confirm my membership"));
    let url = link(&mail, "/members/confirm?token=");

    // A mail scanner opens the link, twice: a page with a button, nothing changed.
    for _ in 0..2 {
        let (status, page) = c.open(&url).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains(">Confirm my membership</button>"), "{page}");
    }
    let db = c.t.db();
    let status: String = db
        .query_row("SELECT status FROM members", [], |r| r.get(0))
        .unwrap();
    assert_eq!(status, "pending", "a GET confirms nothing");
    let rows: i64 = db
        .query_row("SELECT count(*) FROM ledger", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, 0, "a GET credits nothing");

    // The person presses the button.
    let (_, page) = c.open(&url).await;
    let res = c.press(&page).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        header(&res, "location"),
        "https://forms.themedicalspa.example/members/?notice=welcome"
    );
    let set = header(&res, "set-cookie").to_string();
    for part in [
        "HttpOnly",
        "SameSite=Lax",
        "Path=/",
        "Max-Age=2592000",
        "Secure",
    ] {
        assert!(set.contains(part), "{part} missing from {set}");
    }
    let cookie = session_cookie(&res);
    let page = c.page(&cookie).await;
    assert!(
        page.contains("<strong id=\"balance\">50</strong> points to spend"),
        "{page}"
    );
    assert!(page.contains("Welcome bonus for joining"));
    let code: String = db
        .query_row("SELECT referral_code FROM members", [], |r| r.get(0))
        .unwrap();
    assert!(
        page.contains(&format!("/membership/?ref={code}")),
        "the referral link is on the page"
    );
    assert!(page.contains(">Sign out</button>"));

    // The same link again: already used, nothing credited twice.
    let (status, again) = c.open(&url).await;
    assert_eq!(status, StatusCode::GONE);
    assert!(again.contains("already been used") && again.contains("name=\"email\""));
    let res = c.press(&page_with_token(&url)).await;
    assert_eq!(res.status(), StatusCode::GONE);
    assert_eq!(c.balance(&cookie).await, 50);
}

/// A page whose form posts `url`'s token to the confirm action, as a replayed post.
fn page_with_token(url: &str) -> String {
    let token = url.split("token=").nth(1).unwrap();
    format!(
        "<form class=\"form\" method=\"post\" action=\"{}/members/confirm\"><input type=\"hidden\" name=\"token\" value=\"{token}\">",
        super::SERVICE
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_and_known_addresses_get_the_same_answer_and_the_right_email() {
    let mut c = Club::start();
    let first = c.register("Bo", "bo@example.com", "").await;
    let first = (
        first.status(),
        header(&first, "location").to_string(),
        text(first).await,
    );
    let _confirm = c.next_mail().await;
    // Unconfirmed, and then a member: the visitor sees exactly the same answer.
    let again = c.register("Bo", " BO@example.com ", "").await;
    let again = (
        again.status(),
        header(&again, "location").to_string(),
        text(again).await,
    );
    assert_eq!(first, again);
    let resent = c.next_mail().await;
    assert!(resent
        .header("subject")
        .starts_with("Confirm your membership"));
    let url = link(&resent, "/members/confirm?token=");
    let (_, page) = c.open(&url).await;
    c.press(&page).await;

    let known = c.register("Someone", "bo@EXAMPLE.com", "").await;
    let known = (
        known.status(),
        header(&known, "location").to_string(),
        text(known).await,
    );
    assert_eq!(first, known, "no account enumeration by the answer");
    let mail = c.next_mail().await;
    assert_eq!(
        mail.header("subject"),
        "Sign in to your THE Medical Spa points"
    );
    let count: i64 =
        c.t.db()
            .query_row("SELECT count(*) FROM members", [], |r| r.get(0))
            .unwrap();
    assert_eq!(count, 1, "one account per address, whatever its case");

    // "Email me a link": the same page, and the same database work, for a stranger.
    let requests = |c: &Club| -> i64 {
        c.t.db()
            .query_row("SELECT count(*) FROM link_requests", [], |r| r.get(0))
            .unwrap()
    };
    let before = requests(&c);
    let stranger = c
        .send(browser_post("/members/link", "email=nobody%40example.com"))
        .await;
    let stranger = (stranger.status(), text(stranger).await);
    let member = c
        .send(browser_post("/members/link", "email=bo%40example.com"))
        .await;
    let member = (member.status(), text(member).await);
    assert_eq!(stranger, member);
    assert_eq!(requests(&c), before + 2, "both requests wrote their row");
    assert!(c.next_mail().await.header("subject").starts_with("Sign in"));

    // JSON clients get the same answer for both too.
    let json = |email: &str| {
        crate::support::http::json_post(
            "/forms/membership",
            serde_json::json!({"name": "X", "email": email, "referral": "", "consent": true, "website": ""}),
        )
    };
    let a = c.send(json("new-person@example.com")).await;
    let b = c.send(json("bo@example.com")).await;
    assert_eq!(a.status(), StatusCode::ACCEPTED);
    assert_eq!((a.status(), text(a).await), (b.status(), text(b).await));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_links_work_once_and_expire_after_fifteen_minutes() {
    let mut c = Club::start();
    c.join("Cy", "cy@example.com", "").await;

    c.register("Cy", "cy@example.com", "").await;
    let url = link(&c.next_mail().await, "/members/sign-in?token=");
    let (status, page) = c.open(&url).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(">Sign in</button>"));
    let res = c.press(&page).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let cookie = session_cookie(&res);
    assert_eq!(c.balance(&cookie).await, 50);
    assert_eq!(c.open(&url).await.0, StatusCode::GONE, "used once");

    // A second link, left for 16 minutes: expired, and the page offers a new one.
    c.register("Cy", "cy@example.com", "").await;
    let url = link(&c.next_mail().await, "/members/sign-in?token=");
    let (_, page) = c.open(&url).await;
    c.t.clock.advance(Duration::from_secs(16 * 60));
    let (status, expired) = c.open(&url).await;
    assert_eq!(status, StatusCode::GONE);
    assert!(expired.contains("has expired") && expired.contains("Email me a link"));
    assert_eq!(c.press(&page).await.status(), StatusCode::GONE);

    // Asking for a new link from that page sends one.
    let action = attr(
        &expired,
        "<form class=\"form\" method=\"post\" action=\"",
        "\"",
    );
    let res = c
        .send(browser_post(&path(&action), "email=cy%40example.com"))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let fresh = link(&c.next_mail().await, "/members/sign-in?token=");
    let (_, page) = c.open(&fresh).await;
    assert_eq!(c.press(&page).await.status(), StatusCode::SEE_OTHER);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_altered_and_misused_tokens_are_refused() {
    let mut c = Club::start();
    c.register("Di", "di@example.com", "").await;
    let url = link(&c.next_mail().await, "/members/confirm?token=");
    let token = url.split("token=").nth(1).unwrap().to_string();

    let mut altered = token.clone().into_bytes();
    let last = altered.len() - 1;
    altered[last] = if altered[last] == b'a' { b'b' } else { b'a' };
    let altered = String::from_utf8(altered).unwrap();
    for bad in [
        altered.as_str(),
        "",
        "x",
        &token[..20],
        "<script>alert(1)</script>",
        &"a".repeat(5000),
    ] {
        let res = c
            .send(
                Request::get(format!(
                    "/members/confirm?token={}",
                    crate::support::encode(bad)
                ))
                .body(Body::empty())
                .unwrap(),
            )
            .await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{bad}");
        let body = text(res).await;
        assert!(body.contains("This link does not work") && !body.contains("<script>alert"));
        let res = c
            .send(browser_post(
                "/members/confirm",
                format!("token={}", crate::support::encode(bad)),
            ))
            .await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
    }
    // A confirmation token is not a sign-in token.
    let res = c
        .send(browser_post("/members/sign-in", format!("token={token}")))
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    // A post from another site is refused before anything is looked at.
    let mut req = browser_post("/members/confirm", format!("token={token}"));
    req.headers_mut()
        .insert("origin", "https://evil.example".parse().unwrap());
    assert_eq!(c.send(req).await.status(), StatusCode::FORBIDDEN);
    // After all that, the genuine link still works.
    let (_, page) = c.open(&url).await;
    assert_eq!(c.press(&page).await.status(), StatusCode::SEE_OTHER);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cookie_without_a_live_session_signs_no_one_in() {
    let mut c = Club::start();
    let cookie = c.join("Ed", "ed@example.com", "").await;
    let signed_in = c.page(&cookie).await;
    assert!(signed_in.contains("id=\"balance\""));

    let (name, value) = cookie.split_once('=').unwrap();
    assert_eq!(name, "__Host-member_session", "Secure, so __Host- prefixed");
    let mut forged = value.to_string().into_bytes();
    forged[20] = if forged[20] == b'a' { b'b' } else { b'a' };
    let forged = format!("{name}={}", String::from_utf8(forged).unwrap());
    for bad in [
        format!("{name}="),
        format!("{name}=nonsense"),
        format!("member_session={value}"),
        forged,
        "other=1".to_string(),
    ] {
        let page = c.page(&bad).await;
        assert!(page.contains("Sign in to see your points"), "{bad}");
        assert!(!page.contains("id=\"balance\""));
    }
    // Signing out ends the session on the server, not just in the browser.
    let res = c
        .send({
            let mut r = browser_post("/members/sign-out", "");
            r.headers_mut().insert("cookie", cookie.parse().unwrap());
            r
        })
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(header(&res, "set-cookie").contains("Max-Age=0"));
    assert!(c.page(&cookie).await.contains("Sign in to see your points"));
    // Sessions expire.
    let cookie = {
        c.register("Ed", "ed@example.com", "").await;
        let url = link(&c.next_mail().await, "/members/sign-in?token=");
        let (_, page) = c.open(&url).await;
        session_cookie(&c.press(&page).await)
    };
    c.t.clock.advance(Duration::from_secs(31 * 86_400));
    assert!(c.page(&cookie).await.contains("Sign in to see your points"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emails_to_one_address_are_capped_but_the_answer_is_not() {
    let mut c = Club::start();
    let mut answers = Vec::new();
    for _ in 0..8 {
        let res = c.register("Flo", "flo@example.com", "").await;
        answers.push((res.status(), header(&res, "location").to_string()));
    }
    assert!(answers.windows(2).all(|w| w[0] == w[1]));
    // Five an hour (the default), then nothing until the hour has passed.
    c.seen = 0;
    let five = tokio::task::block_in_place(|| c.smtp.wait_for_messages(5, Duration::from_secs(20)));
    assert_eq!(five.len(), 5);
    c.t.service.retry_now().await.unwrap();
    let queued: i64 =
        c.t.db()
            .query_row("SELECT count(*) FROM outbox", [], |r| r.get(0))
            .unwrap();
    assert_eq!(queued, 5, "no sixth email was queued");
}
