//! Items 1, 2 and 18 (staff cookie): staff sign in by emailed link, staff links act only
//! in a browser signed in as staff, record who acted, and never for one's own item.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};

use super::{comment_status, outbox};
use crate::comments::{act, post_and_get_links};
use crate::members::{attr, link, Club};
use crate::support::http::{browser_post, header, text};
use crate::support::settings;
use crate::support::staff::STAFF;

fn ok(o: std::process::Output) -> String {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue13_1_a_staff_link_acts_only_in_a_browser_signed_in_as_staff_then_carries_on() {
    let mut c = Club::start();
    let sam = c.join("Sam", "sam@example.com", "").await;
    let [approve, _reject, _reply] = post_and_get_links(&mut c, &sam, "Only staff decide").await;

    // The member holds the link (a reply quoted the email): the page asks for a staff
    // sign-in and shows nothing of the comment; pressing the button, even with the
    // member's session, changes nothing.
    let (status, page) = c.open(&approve).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Sign in as staff first"), "{page}");
    assert!(!page.contains("Only staff decide"));
    let token = approve.split("token=").nth(1).unwrap();
    let res = c
        .post_as(Some(&sam), "/comments/moderate", format!("token={token}"))
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(comment_status(&c, "Only staff decide"), "pending");

    // Asking for a staff sign-in link with any other address: the same answer, no email.
    let before = outbox(&c);
    let next = attr(&page, "name=\"next\" value=\"", "\"");
    let ask = |email: &str| {
        browser_post(
            "/staff/link",
            format!(
                "email={}&next={}",
                crate::support::encode(email),
                crate::support::encode(&next)
            ),
        )
    };
    let res = c.send(ask("sam@example.com")).await;
    assert_eq!(res.status(), StatusCode::OK);
    let stranger = text(res).await;
    assert_eq!(
        outbox(&c),
        before,
        "no link for an address that is not staff"
    );

    // The staff address, typed in another case: the link goes to the address as
    // configured, and carries the moderation page through the sign-in.
    let res = c.send(ask("Consultations@THEMEDICALSPA.example")).await;
    let browser = crate::support::staff::cookie_of(header(&res, "set-cookie"), "staff_link");
    assert_eq!(
        text(res).await,
        stranger,
        "the same page for staff and strangers"
    );
    let mail = c.next_mail().await;
    assert_eq!(mail.header("to"), STAFF);
    let url = link(&mail, "/staff/sign-in?token=");
    // A scanner opens it: nothing signed in, the link still works.
    let (status, _) = c.open(&url).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        c.t.db()
            .query_row("SELECT count(*) FROM staff_sessions", [], |r| r
                .get::<_, i64>(0))
            .unwrap(),
        0
    );
    // The browser that asked opens it and presses the button.
    let (_, page) = c.open_as(Some(&browser), &url).await;
    let res = c.press_as(Some(&browser), &page).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        header(&res, "location"),
        approve.as_str(),
        "carries on to the staff link"
    );
    let set = header(&res, "set-cookie").to_string();
    assert!(set.starts_with("__Host-staff_session="), "{set}");
    assert!(
        set.contains("Max-Age=1209600") && set.contains("Secure"),
        "14 days: {set}"
    );
    c.staff = Some(set.split(';').next().unwrap().to_string());

    // Now the same link shows the comment, and its button acts, recording who.
    let (status, page) = c.open(&approve).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Only staff decide"));
    assert_eq!(c.press(&page).await.status(), StatusCode::OK);
    assert_eq!(comment_status(&c, "Only staff decide"), "approved");
    let by: String =
        c.t.db()
            .query_row("SELECT decided_by FROM comments", [], |r| r.get(0))
            .unwrap();
    assert_eq!(by, STAFF);
    let id: String =
        c.t.db()
            .query_row("SELECT public_id FROM comments", [], |r| r.get(0))
            .unwrap();
    assert!(ok(c.command(&["comments", "show", &id])).contains(&format!("decided by: {STAFF}")));
    let _published = c.next_mail().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue13_1_reward_links_need_staff_and_the_ledger_names_the_staff_address() {
    let mut c = Club::start();
    let ann = c.join("Ann", "ann@example.com", "").await;
    ok(c.command(&[
        "points",
        "adjust",
        "ann@example.com",
        "50",
        "--reason",
        "Gift",
    ]));
    let mut ask = browser_post("/members/rewards", "reward=ten-off");
    ask.headers_mut().insert("cookie", ann.parse().unwrap());
    c.send(ask).await;
    let staff_mail = c.next_mail().await;
    assert!(
        staff_mail.header("reply-to").is_empty(),
        "never the member as Reply-To"
    );
    assert!(
        staff_mail.text.contains("ann@example.com"),
        "the address is in the body"
    );
    let used = link(&staff_mail, "/members/staff/reward?token=");

    // Ann (or anyone she forwards it to) cannot settle it.
    let token = used.split("token=").nth(1).unwrap();
    let res = c
        .post_as(
            Some(&ann),
            "/members/staff/reward",
            format!("token={token}"),
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(text(res).await.contains("Sign in as staff first"));
    assert_eq!(c.balance(&ann).await, 0, "still held");

    c.sign_in_staff().await;
    let (_, page) = c.open(&used).await;
    assert_eq!(c.press(&page).await.status(), StatusCode::OK);
    let show = ok(c.command(&["members", "show", "ann@example.com"]));
    assert!(show.contains(STAFF), "{show}");
    assert!(!show.contains("staff (email link)"), "{show}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue13_1_staff_sessions_last_the_configured_days_and_can_be_listed_and_revoked() {
    let mut s = settings();
    s.site.form_service.staff.session_days = 2;
    let mut c = Club::with(s);
    let cookie = c.sign_in_staff().await;
    let home = |c: &Club| staff_home(c, cookie.clone());
    assert!(home(&c).await.contains(&format!("signed in as {STAFF}")));

    // The command line lists the session, and revokes it.
    let list = ok(c.command(&["staff", "sessions"]));
    let line = list.lines().nth(1).expect("one session");
    assert!(line.contains(STAFF), "{list}");
    let id = line.split('\t').next().unwrap();
    let out = ok(c.command(&["staff", "sessions", "--revoke", id]));
    assert!(out.contains("Ended 1 staff session"), "{out}");
    assert!(home(&c).await.contains("Sign in as staff first"));
    assert_eq!(ok(c.command(&["staff", "sessions"])).lines().count(), 1);
    let o = c.command(&["staff", "sessions", "--revoke", id]);
    assert_eq!(o.status.code(), Some(2), "no such session");

    // A new sign-in lasts two days, as configured.
    let cookie2 = c.sign_in_staff().await;
    let check = |c: &Club| {
        let app = c.app.clone();
        let cookie2 = cookie2.clone();
        async move {
            let res = crate::support::http::send(
                &app,
                crate::support::peer(3),
                Request::get("/staff/")
                    .header("cookie", cookie2)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
            text(res).await
        }
    };
    c.t.clock.advance(Duration::from_secs(86_400 + 3600));
    assert!(check(&c).await.contains("signed in as"));
    c.t.clock.advance(Duration::from_secs(86_400));
    assert!(check(&c).await.contains("Sign in as staff first"));
}

/// Signing in as staff again in the same browser once left the old session alive
/// (`staff sessions` listed both): the session the browser's old cookie carried ends
/// when the new one is issued.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_in_again_in_the_same_browser_ends_the_old_staff_session() {
    let mut c = Club::start();
    let old = c.sign_in_staff().await;
    let new = c.sign_in_staff().await;
    assert_ne!(old, new);
    let list = ok(c.command(&["staff", "sessions"]));
    assert_eq!(list.lines().count(), 2, "a header and one session: {list}");
    assert!(staff_home(&c, old).await.contains("Sign in as staff first"));
    assert!(staff_home(&c, new)
        .await
        .contains(&format!("signed in as {STAFF}")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue13_2_staff_never_act_on_their_own_comment_or_reward() {
    // Sam is a member and, under an alias of the same mailbox, on the staff list.
    let mut s = settings();
    s.staff_addresses = vec![STAFF.to_string(), "Sam+staff@example.com".to_string()];
    let mut c = Club::with(s);
    let sam = c.join("Sam", "sam@example.com", "").await;
    let [approve, _, reply] = post_and_get_links(&mut c, &sam, "My own words").await;
    ok(c.command(&[
        "points",
        "adjust",
        "sam@example.com",
        "50",
        "--reason",
        "Gift",
    ]));
    let mut ask = browser_post("/members/rewards", "reward=ten-off");
    ask.headers_mut().insert("cookie", sam.parse().unwrap());
    c.send(ask).await;
    let used = link(&c.next_mail().await, "/members/staff/reward?token=");

    c.sign_in_staff_as("sam+staff@example.com").await;
    for url in [&approve, &reply, &used] {
        let (status, page) = c.open(url).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{page}");
        assert!(page.contains("Another member of staff must do this"));
    }
    assert_eq!(act(&c, &approve, "").await.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        act(&c, &reply, "&reply=Great").await.status(),
        StatusCode::FORBIDDEN
    );
    let token = used.split("token=").nth(1).unwrap();
    let res = c
        .send(browser_post(
            "/members/staff/reward",
            format!("token={token}"),
        ))
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(comment_status(&c, "My own words"), "pending");
    assert_eq!(c.balance(&sam).await, 0, "the reward is still held");

    // Another staff address can, with the very same links (nothing was spent).
    c.staff = None;
    c.sign_in_staff().await;
    let (_, page) = c.open(&approve).await;
    assert_eq!(c.press(&page).await.status(), StatusCode::OK);
    assert_eq!(comment_status(&c, "My own words"), "approved");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue13_18_a_doubled_staff_cookie_is_signed_out() {
    let mut c = Club::start();
    let cookie = c.sign_in_staff().await;
    c.staff = None;
    let res = c
        .send(
            Request::get("/staff/")
                .header("cookie", format!("{cookie}; {cookie}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert!(text(res).await.contains("Sign in as staff first"));
    let res = c
        .send(
            Request::get("/staff/")
                .header("cookie", cookie)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert!(text(res).await.contains("signed in as"));
}

/// Item 8 for staff: asking for a staff sign-in link writes the same rows whether the
/// address is staff or not, so neither the answer nor its timing tells which addresses
/// are staff.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue13_8_staff_link_does_the_same_work_for_any_address() {
    let mut c = Club::start();
    let count = |c: &Club| -> Vec<i64> {
        let db = c.t.db();
        ["links", "link_requests", "outbox"]
            .iter()
            .map(|t| {
                db.query_row(&format!("SELECT count(*) FROM {t}"), [], |r| r.get(0))
                    .unwrap()
            })
            .collect()
    };
    let ask = |email: &str| {
        browser_post(
            "/staff/link",
            format!("email={}&next=%2Fstaff%2F", crate::support::encode(email)),
        )
    };
    let mut written = Vec::new();
    let mut answers = Vec::new();
    for email in [STAFF, "nobody@example.com"] {
        let before = count(&c);
        answers.push(text(c.send(ask(email)).await).await);
        let after = count(&c);
        written.push(
            after
                .iter()
                .zip(&before)
                .map(|(a, b)| a - b)
                .collect::<Vec<_>>(),
        );
    }
    assert_eq!(answers[0], answers[1]);
    assert_eq!(
        written[0], written[1],
        "links, link_requests, outbox rows written"
    );
    let mail = c.next_mail().await;
    assert_eq!(mail.header("to"), STAFF);
    c.t.service.retry_now().await.unwrap();
    assert!(
        c.smtp.messages().iter().all(|m| !m.contains("nobody@")),
        "nothing goes to the stranger"
    );
    let kept: i64 =
        c.t.db()
            .query_row(
                "SELECT count(*) FROM outbox WHERE envelope_to LIKE '%nobody%'",
                [],
                |r| r.get(0),
            )
            .unwrap();
    assert_eq!(kept, 0);
}

/// Review item 5: a staff sign-in link signs in only the browser that asked for it.
/// Asking sets a short-lived `__Host-` cookie there; anyone else who gets the email (a
/// forwarded copy of the shared inbox's message) is told to open it where it was asked
/// for, or to ask for a link of their own, and no session is made. The link is not used
/// up by them: the browser that asked can still use it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_staff_sign_in_link_signs_in_only_the_browser_that_asked_for_it() {
    let mut c = Club::start();
    let ask = browser_post(
        "/staff/link",
        format!("email={}&next=%2Fstaff%2F", crate::support::encode(STAFF)),
    );
    let res = c.send(ask).await;
    let set = header(&res, "set-cookie").to_string();
    assert!(set.starts_with("__Host-staff_link="), "{set}");
    for part in [
        "HttpOnly",
        "Secure",
        "SameSite=Lax",
        "Path=/",
        "Max-Age=900",
    ] {
        assert!(set.contains(part), "{part} missing from {set}");
    }
    assert!(text(res)
        .await
        .contains("Open it in this browser: it works only here"));
    let browser = set.split(';').next().unwrap().to_string();
    let mail = c.next_mail().await;
    assert!(mail.text.contains("only in that browser"), "{}", mail.text);
    let url = link(&mail, "/staff/sign-in?token=");
    let token = url
        .split("token=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap();
    let sessions = |c: &Club| -> i64 {
        c.t.db()
            .query_row("SELECT count(*) FROM staff_sessions", [], |r| r.get(0))
            .unwrap()
    };

    // Another browser (no cookie, or the cookie of its own request): the page says
    // where to open the link and offers a new one; pressing anyway signs no one in.
    let other = {
        let res = c
            .send(browser_post(
                "/staff/link",
                "email=nobody%40example.com&next=%2Fstaff%2F",
            ))
            .await;
        crate::support::staff::cookie_of(header(&res, "set-cookie"), "staff_link")
    };
    for cookie in [None, Some(other.as_str())] {
        let (status, page) = c.open_as(cookie, &url).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            page.contains("Open this link in the browser where you asked for it")
                && page.contains("name=\"email\"")
                && !page.contains(">Sign in as staff</button>"),
            "{page}"
        );
        let res = c
            .post_as(
                cookie,
                "/staff/sign-in",
                format!("token={token}&next=%2Fstaff%2F"),
            )
            .await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        assert!(!header(&res, "set-cookie").contains("staff_session"));
        let page = text(res).await;
        assert!(page.contains("ask for a new link here"), "{page}");
        assert_eq!(sessions(&c), 0, "no session for another browser");
    }

    // The browser that asked: the same link works, and the link cookie goes.
    let (_, page) = c.open_as(Some(&browser), &url).await;
    assert!(page.contains(">Sign in as staff</button>"), "{page}");
    let res = c.press_as(Some(&browser), &page).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let cookies: Vec<&str> = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert!(
        cookies
            .iter()
            .any(|c| c.starts_with("__Host-staff_session=")),
        "{cookies:?}"
    );
    assert!(
        cookies
            .iter()
            .any(|c| c.starts_with("__Host-staff_link=;") && c.contains("Max-Age=0")),
        "{cookies:?}"
    );
    assert_eq!(sessions(&c), 1);
}

/// The staff home page as the browser holding `cookie` sees it.
fn staff_home(c: &Club, cookie: String) -> impl std::future::Future<Output = String> {
    let app = c.app.clone();
    async move {
        let res = crate::support::http::send(
            &app,
            crate::support::peer(3),
            Request::get("/staff/")
                .header("cookie", cookie)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        text(res).await
    }
}
