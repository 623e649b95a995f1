//! Issue 3's browser test: the example site built by the generator and served on
//! 127.0.0.1, the form service running, and Debian's headless Chromium (over
//! chromedriver) filling in the Scalp Micropigmentation page's form. A first try with
//! an address the browser accepts but the service does not comes back as the site's
//! page with the message and every answer kept; fixed, it lands on the thank-you page,
//! and the staff email reaches the test SMTP server. The site is served with its
//! `_headers`, so the form posts under the site's Content-Security-Policy.
//!
//! Marked ignored, with the reason, where chromedriver is missing (see build.rs); under
//! CI (`CI` set) it fails instead.

use std::time::Duration;

use crate::support::browser::{chromium, click, fill, wait_for_url, Stack};
use crate::support::mime::parse;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    missing_chromium,
    ignore = "needs Chromium: apt-get install chromium chromium-driver (see README, Tests)"
)]
async fn chromium_submits_the_consultation_form_from_a_service_page() {
    let Some(stack) = Stack::if_available() else {
        return;
    };
    let (site, service) = (&stack.site, &stack.service);

    let (_driver, c) = chromium().await;
    let page = format!("{site}/services/scalp-micropigmentation/");
    c.goto(&page).await.unwrap();
    let chosen = c
        .execute(
            "return document.querySelector('#consultation-service').value",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        chosen, "scalp-micropigmentation",
        "the page's service is preselected"
    );

    fill(&c, "#consultation-name", "Ann Browser").await;
    // Chromium's own check accepts this address; the service wants a domain with a dot.
    fill(&c, "#consultation-email", "ann@example").await;
    click(&c, "#consultation-contact-method input[value=video]").await;
    fill(
        &c,
        "#consultation-message",
        "Could we talk about a hairline?",
    )
    .await;
    click(&c, "#consultation-consent").await;
    click(&c, "#form-consultation button").await;

    // The answer: the site's consultation page, served by the form service, with the
    // message beside the field and every answer kept.
    // The form says which page it was sent from, for the staff email.
    wait_for_url(
        &c,
        &format!(
            "http://{}/forms/consultation?from=/services/scalp-micropigmentation/",
            service.addr
        ),
    )
    .await;
    let html = c.source().await.unwrap();
    assert!(html.contains("There is a problem"), "{html}");
    assert!(html.contains("Enter an email address in the right format"));
    assert!(html.contains("value=\"Ann Browser\""));
    assert!(html.contains("Could we talk about a hairline?"));
    let styled = c
        .execute(
            // The theme lays the body out as a flex column; unstyled, it is a block.
            "return getComputedStyle(document.body).display === 'flex'",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(styled, true, "the error page loads the site's stylesheet");

    fill(&c, "#consultation-email", "ann@example.com").await;
    click(&c, "#form-consultation button").await;
    wait_for_url(&c, &format!("{site}/consultation/thank-you/")).await;
    c.close().await.unwrap();

    let got =
        tokio::task::block_in_place(|| stack.smtp.wait_for_messages(1, Duration::from_secs(30)));
    let mail = parse(&got[0]);
    assert_eq!(
        mail.header("subject"),
        "Consultation request: Scalp micropigmentation (SMP) — Ann Browser"
    );
    assert!(mail.header("reply-to").contains("ann@example.com"));
    assert!(mail.text.contains("By video call"));
    assert!(mail.text.contains("Could we talk about a hairline?"));
}
