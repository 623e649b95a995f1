//! What staff and visitors receive, read back from a real SMTP server (aiosmtpd):
//! headers, both parts, escaping, the clinic's time zone, and the acknowledgement.

use std::time::Duration;

use axum::http::StatusCode;

use crate::support::http::{browser_post, send};
use crate::support::mime::parse;
use crate::support::smtp::SmtpServer;
use crate::support::{encode, peer, settings, TestService};

const PATH: &str = "/forms/consultation";

fn post_body(name: &str, email: &str, message: &str) -> String {
    format!(
        "name={}&email={}&phone=020+7946+0321&contact_method=video&availability=Weekday+evenings\
         &service=scalp-micropigmentation&message={}&consent=yes&website=",
        encode(name),
        encode(email),
        encode(message)
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_email_has_the_right_headers_and_both_parts_escaped() {
    let smtp = SmtpServer::start();
    let t = TestService::with_smtp(settings(), smtp.port);
    let app = t.service.router();
    let name = "Ann <b>O'Neil</b> & Co";
    let message = "<script>alert(1)</script>\nSecond line";
    let res = send(
        &app,
        peer(1),
        browser_post(PATH, post_body(name, "Ann.ONeil@Example.com", message)),
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);

    let raw =
        tokio::task::spawn_blocking(move || smtp.wait_for_messages(1, Duration::from_secs(20)))
            .await
            .unwrap()
            .remove(0);
    let mail = parse(&raw);
    assert_eq!(
        mail.header("subject"),
        "Consultation request: Scalp Micropigmentation — Ann <b>O'Neil</b> & Co"
    );
    assert_eq!(
        mail.header("from"),
        "\"THE Medical Spa\" <bookings@themedicalspa.example>"
    );
    assert_eq!(mail.header("to"), "consultations@themedicalspa.example");
    assert!(
        mail.header("reply-to").ends_with("<ann.oneil@example.com>"),
        "{}",
        mail.header("reply-to")
    );
    assert!(
        mail.header("reply-to").contains("Ann <b>O'Neil</b> & Co")
            || mail.header("reply-to").contains("Ann")
    );
    assert!(mail
        .header("message-id")
        .ends_with("@themedicalspa.example>"));
    assert!(mail
        .header("content-type")
        .starts_with("multipart/alternative"));

    // The text part: every field with its label, the time in London, the reference.
    let text = &mail.text;
    assert!(
        text.contains("Your name:\n    Ann <b>O'Neil</b> & Co"),
        "{text}"
    );
    assert!(
        text.contains("How would you like to have your consultation?\n    By video call"),
        "{text}"
    );
    assert!(
        text.contains("Which treatment are you interested in?\n    Scalp Micropigmentation"),
        "{text}"
    );
    assert!(
        text.contains("    <script>alert(1)</script>\n    Second line"),
        "{text}"
    );
    assert!(text.contains("Preferred days and times:\n    Weekday evenings"));
    assert!(text.contains("Phone number:\n    020 7946 0321"));
    assert!(text.contains("I agree that THE Medical Spa may use these details"));
    assert!(
        text.contains(" GMT") || text.contains(" BST"),
        "clinic time zone: {text}"
    );
    assert!(text.contains("Reference: "));

    // The HTML part: the same, escaped.
    let html = &mail.html;
    assert!(
        html.contains("<td>Ann &lt;b&gt;O&#39;Neil&lt;/b&gt; &amp; Co</td>"),
        "{html}"
    );
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;<br>\nSecond line"),
        "{html}"
    );
    assert!(!html.contains("<script>"));
    assert!(!html.contains("<b>O"));
    assert!(html.contains("<th align=\"left\" valign=\"top\">Your name</th>"));

    t.service.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledgement_is_fixed_text_and_limited_per_address() {
    let smtp = SmtpServer::start();
    let mut s = settings();
    s.acknowledge = true;
    let t = TestService::with_smtp(s, smtp.port);
    let app = t.service.router();
    for (i, message) in [
        "Visit https://spam.example now",
        "A second, different request",
    ]
    .iter()
    .enumerate()
    {
        let res = send(
            &app,
            peer(2),
            browser_post(
                PATH,
                post_body(&format!("Spammy Name {i}"), "victim@example.com", message),
            ),
        )
        .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
    }
    // Two staff emails and one acknowledgement; then nothing more arrives for the
    // second acknowledgement, because none was queued.
    let got = tokio::task::spawn_blocking(move || {
        let m = smtp.wait_for_messages(3, Duration::from_secs(20));
        (m, smtp)
    })
    .await
    .unwrap()
    .0;
    let acks: Vec<_> = got
        .iter()
        .map(|r| parse(r))
        .filter(|m| m.header("to") == "victim@example.com")
        .collect();
    assert_eq!(acks.len(), 1);
    let ack = &acks[0];
    assert_eq!(
        ack.header("subject"),
        "We have your request — THE Medical Spa"
    );
    for typed in ["Spammy", "spam.example", "second"] {
        assert!(
            !ack.text.contains(typed) && !ack.html.contains(typed),
            "the acknowledgement echoes `{typed}`"
        );
    }
    assert!(ack.header("reply-to").is_empty());
    let queued: i64 = t
        .db()
        .query_row(
            "SELECT count(*) FROM outbox WHERE kind = 'acknowledgement'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(queued, 1, "the second acknowledgement was never queued");
    t.service.stop().await;
}

/// Issue 15, item 9: staff call back in one tap (the phone number as a `tel:` link) and
/// see which page the request was sent from; a `from` that is not a plain site path is
/// left out rather than shown.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_email_links_the_phone_and_names_the_page_it_came_from() {
    let smtp = SmtpServer::start();
    let t = TestService::with_smtp(settings(), smtp.port);
    let app = t.service.router();
    for (i, from) in [
        "/services/scalp-micropigmentation/",
        "//evil.example/x",
        "/../etc/",
    ]
    .iter()
    .enumerate()
    {
        let body = post_body(&format!("Ann {i}"), &format!("ann{i}@example.com"), "Hi");
        let res = send(
            &app,
            peer(1),
            browser_post(&format!("{PATH}?from={from}"), body),
        )
        .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{from}");
    }
    let mut mails: Vec<_> =
        tokio::task::spawn_blocking(move || smtp.wait_for_messages(3, Duration::from_secs(20)))
            .await
            .unwrap()
            .iter()
            .map(|raw| parse(raw))
            .collect();
    mails.sort_by_key(|m| m.header("subject").to_string());
    assert!(
        mails[0]
            .html
            .contains("<a href=\"tel:02079460321\">020 7946 0321</a>"),
        "{}",
        mails[0].html
    );
    let page = "https://www.themedicalspa.example/services/scalp-micropigmentation/";
    assert!(
        mails[0].text.contains(&format!("Sent from: {page}")),
        "{}",
        mails[0].text
    );
    assert!(mails[0].html.contains(&format!("<a href=\"{page}\">")));
    for m in &mails[1..] {
        assert!(!m.text.contains("Sent from"), "{}", m.text);
        assert!(
            !m.text.contains("evil") && !m.text.contains(".."),
            "{}",
            m.text
        );
    }
}
