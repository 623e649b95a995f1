//! Items 8 (`/members/link`), 9, 10, 11, 12 and 18 (member cookie): links go to stored
//! addresses only, registrations cannot be squatted or farmed through aliases, and
//! confirmation emails carry nothing a stranger typed.

use axum::body::Body;
use axum::http::{Request, StatusCode};

use super::{code_of, outbox};
use crate::members::{link, Club};
use crate::support::encode;
use crate::support::http::{browser_post, header, text};

fn ok(o: std::process::Output) -> String {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn rows(c: &Club, table: &str) -> i64 {
    c.t.db()
        .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
        .unwrap()
}

const WRITTEN: [&str; 3] = ["links", "link_requests", "outbox"];

fn counts(c: &Club) -> Vec<i64> {
    WRITTEN.iter().map(|t| rows(c, t)).collect()
}

fn delta(before: &[i64], after: &[i64]) -> Vec<i64> {
    after.iter().zip(before).map(|(a, b)| a - b).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue13_8_members_link_does_the_same_work_for_any_address() {
    let mut c = Club::start();
    c.join("Ann", "ann@example.com", "").await;
    c.register("Pat", "pat@example.com", "").await;
    let _pat_confirm = c.next_mail().await;
    let ask = |email: &str| browser_post("/members/link", format!("email={}", encode(email)));
    let mut written = Vec::new();
    let mut answers = Vec::new();
    for email in ["ann@example.com", "pat@example.com", "nobody@example.com"] {
        let before = counts(&c);
        answers.push(text(c.send(ask(email)).await).await);
        written.push((email, delta(&before, &counts(&c))));
    }
    assert!(answers.windows(2).all(|w| w[0] == w[1]), "{answers:?}");
    for (email, w) in &written {
        assert_eq!(
            w, &written[0].1,
            "{email} writes the rows of {WRITTEN:?} that ann does"
        );
    }
    // The two members get their emails; the stranger's row keeps nothing of theirs
    // and is never sent.
    let _ann = c.next_mail().await;
    let _pat = c.next_mail().await;
    c.t.service.retry_now().await.unwrap();
    let db = c.t.db();
    let kept: i64 = db
        .query_row(
            "SELECT count(*) FROM outbox WHERE envelope_to LIKE '%nobody%'
               OR subject LIKE '%nobody%' OR about LIKE '%nobody%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        kept, 0,
        "the stranger's address is kept nowhere in the outbox"
    );
    let settled: (String, i64) = db
        .query_row(
            "SELECT status, (SELECT count(*) FROM outbox_messages WHERE outbox_id = o.id)
             FROM outbox o WHERE envelope_to = ''",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(
        settled,
        ("sent".to_string(), 0),
        "settled at once, no body kept"
    );
    drop(db);
    assert!(
        c.smtp.messages().iter().all(|m| !m.contains("nobody@")),
        "nothing goes to the stranger"
    );
}

/// A mistyped address (`ann@example,com`, no `@` at all, spaces) asking for a link gets
/// the page a stranger gets, after the same writes, and nothing is sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mistyped_address_asking_for_a_link_gets_the_same_page_after_the_same_work() {
    let mut c = Club::start();
    c.join("Ann", "ann@example.com", "").await;
    let ask = |email: &str| browser_post("/members/link", format!("email={}", encode(email)));
    let queued = outbox(&c);
    let before = counts(&c);
    let res = c.send(ask("nobody@example.com")).await;
    let stranger = (res.status(), text(res).await);
    let stranger_wrote = delta(&before, &counts(&c));
    assert_eq!(stranger.0, StatusCode::OK);
    for typo in [
        "ann@example,com",
        "ann.example.com",
        "ann @example.com",
        "ann@@example.com",
    ] {
        let before = counts(&c);
        let res = c.send(ask(typo)).await;
        assert_eq!((res.status(), text(res).await), stranger, "{typo}");
        assert_eq!(delta(&before, &counts(&c)), stranger_wrote, "{typo}");
    }
    c.t.service.retry_now().await.unwrap();
    assert_eq!(outbox(&c), queued, "nothing is queued for anyone");
    assert!(c.smtp.messages().iter().all(|m| !m.contains("Sign in")));
}

/// Registration too: a member, an unconfirmed address and a new one each write one
/// link request, one link and one outbox row (a new address also gets its pending
/// account, the one row that cannot be the same; the timing bench shows no difference).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue13_8_registration_does_the_same_work_for_any_address() {
    let mut c = Club::start();
    c.join("Ann", "ann@example.com", "").await;
    c.register("Pat", "pat@example.com", "").await;
    let _pat_confirm = c.next_mail().await;
    let mut written = Vec::new();
    let mut answers = Vec::new();
    for email in ["ann@example.com", "pat@example.com", "new@example.com"] {
        let before = counts(&c);
        let res = c.register("Someone", email, "").await;
        answers.push((res.status(), header(&res, "location").to_string()));
        written.push((email, delta(&before, &counts(&c))));
    }
    assert!(answers.windows(2).all(|w| w[0] == w[1]), "{answers:?}");
    for (email, w) in &written {
        assert_eq!(w, &vec![1, 1, 1], "{email}: rows of {WRITTEN:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue13_9_a_sign_in_link_goes_only_to_the_stored_address() {
    let mut c = Club::start();
    c.join("Kim", "kim@example.com", "").await;
    let ask = |email: &str| browser_post("/members/link", format!("email={}", encode(email)));

    // The Kelvin sign lowercases to `k` under Unicode rules: not the same address.
    let before = outbox(&c);
    c.send(ask("\u{212A}im@example.com")).await;
    c.send(ask("kim@exampl\u{212A}.com")).await;
    assert_eq!(outbox(&c), before, "no link for another address");

    // Another case of the same address: the link goes to the address as stored.
    c.send(ask("KIM@EXAMPLE.COM")).await;
    let mail = c.next_mail().await;
    assert!(mail.header("subject").starts_with("Sign in"));
    assert!(
        mail.header("to").ends_with("<kim@example.com>") || mail.header("to") == "kim@example.com",
        "{}",
        mail.header("to")
    );
    assert!(!mail.header("to").contains("KIM@EXAMPLE.COM"));

    // The same through the registration form.
    c.register("Kim", "Kim@Example.COM", "").await;
    let mail = c.next_mail().await;
    assert!(
        mail.header("to").contains("kim@example.com"),
        "{}",
        mail.header("to")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue13_10_an_unconfirmed_registration_cannot_be_squatted() {
    let mut c = Club::start();
    let ann = c.join("Ann", "ann@example.com", "").await;
    let ann_code = code_of(&c.page(&ann).await);
    // Someone registers Vic's address first, with an insulting name and Ann's code.
    c.register("Squatter", "vic@example.com", &ann_code).await;
    let _squat = c.next_mail().await;
    // Vic registers herself and follows her own link.
    c.register("Vic", "vic@example.com", "").await;
    let url = link(&c.next_mail().await, "/members/confirm?token=");
    let (_, page) = c.open(&url).await;
    let res = c.press(&page).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let show = ok(c.command(&["members", "show", "vic@example.com"]));
    assert!(show.contains("Vic") && !show.contains("Squatter"), "{show}");
    let page = c.page(&ann).await;
    assert!(!page.contains("more waiting"), "Ann earns nothing: {page}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue13_11_self_referral_through_aliases_earns_nothing() {
    let mut c = Club::start();
    let lou = c.join("Lou", "lou@example.com", "").await;
    let code = code_of(&c.page(&lou).await);
    c.join("Lou again", "lou+1@example.com", &code).await;
    assert!(
        !c.page(&lou).await.contains("more waiting"),
        "a +tag is the same mailbox"
    );

    let g = c.join("Lou G", "lou.green@gmail.com", "").await;
    let code = code_of(&c.page(&g).await);
    c.join("Lou G again", "l.o.u.green+x@googlemail.com", &code)
        .await;
    assert!(
        !c.page(&g).await.contains("more waiting"),
        "Gmail ignores dots"
    );

    // A real friend still counts.
    c.join("Friend", "friend@example.com", &code).await;
    let _friend_joined = c.next_mail().await;
    assert!(c.page(&g).await.contains("more waiting"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue13_12_a_confirmation_to_a_never_confirmed_address_echoes_nothing_typed() {
    let mut c = Club::start();
    let spam = "Win a prize at evil.example";
    c.register(spam, "target@example.com", "").await;
    let mail = c.next_mail().await;
    assert!(mail
        .header("subject")
        .starts_with("Confirm your membership"));
    assert!(!mail.text.contains("evil.example") && !mail.html.contains("evil.example"));
    assert!(
        !mail.header("to").contains("evil.example"),
        "{}",
        mail.header("to")
    );
    assert!(mail.text.starts_with("Hello,"), "{}", mail.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue13_18_the_member_cookie_is_host_prefixed_and_a_doubled_one_signs_out() {
    let mut c = Club::start();
    c.register("Ida", "ida@example.com", "").await;
    let url = link(&c.next_mail().await, "/members/confirm?token=");
    let (_, page) = c.open(&url).await;
    let res = c.press(&page).await;
    let set = header(&res, "set-cookie").to_string();
    assert!(set.starts_with("__Host-member_session="), "{set}");
    assert!(
        set.contains("; Path=/") && set.contains("; Secure") && !set.contains("Domain"),
        "{set}"
    );
    let cookie = set.split(';').next().unwrap().to_string();
    assert!(c.page(&cookie).await.contains("id=\"balance\""));
    // The name twice (one planted by a sibling host, say): signed out.
    for doubled in [
        format!("{cookie}; {cookie}"),
        format!("{cookie}; __Host-member_session=nonsense"),
    ] {
        let res = c
            .send(
                Request::get("/members/")
                    .header("cookie", doubled)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        let page = text(res).await;
        assert!(page.contains("Sign in to see your points"));
    }
}
