//! Item 16: rate limits that fit a clinic (corrections never count; a household shares
//! an address), and issue 15 item 14: the refusal page in the site's look, with a
//! phone number to tap and a way back to the form.

use axum::http::StatusCode;
use site_config::RateLimit;

use crate::support::http::{browser_post, send, text};
use crate::support::{good_form, peer, settings, TestService};

const PATH: &str = "/forms/consultation";

#[tokio::test]
async fn a_visitor_correcting_errors_is_never_blocked_and_a_household_gets_through() {
    // The shipped defaults.
    let mut s = settings();
    s.rate_limit = RateLimit::default();
    let t = TestService::start(s);
    let app = t.service.router();
    // Twenty tries at a form with a mistake in it, then the corrected one.
    for _ in 0..20 {
        let res = send(
            &app,
            peer(40),
            browser_post(PATH, good_form("Ann").replace("consent=yes", "consent=")),
        )
        .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }
    let res = send(&app, peer(40), browser_post(PATH, good_form("Ann"))).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    // Others in the same household or office send theirs at once.
    for i in 0..10 {
        let res = send(
            &app,
            peer(40),
            browser_post(PATH, good_form(&format!("Housemate {i}"))),
        )
        .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "post {i}");
    }
    // A flood is still held back.
    let mut refused = 0;
    for i in 0..100 {
        let res = send(
            &app,
            peer(40),
            browser_post(PATH, good_form(&format!("Flood {i}"))),
        )
        .await;
        if res.status() == StatusCode::TOO_MANY_REQUESTS {
            refused += 1;
        }
    }
    assert!(refused >= 60, "only {refused} of 100 refused");
}

#[tokio::test]
async fn too_many_forms_is_a_page_with_a_phone_number_and_a_way_back() {
    let mut s = settings();
    s.rate_limit = RateLimit {
        per_minute: 1,
        burst: 1,
    };
    let dial = s.site.business.phone_international.clone().unwrap();
    let t = TestService::start(s);
    let app = t.service.router();
    send(&app, peer(41), browser_post(PATH, good_form("One"))).await;
    let res = send(&app, peer(41), browser_post(PATH, good_form("Two"))).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let page = text(res).await;
    assert!(page.contains("<h1>Too many forms sent</h1>"), "{page}");
    assert!(
        page.contains(&format!("href=\"tel:{dial}\"")),
        "a phone number to tap: {page}"
    );
    assert!(
        page.contains("href=\"https://www.themedicalspa.example/consultation/\">Back to the form"),
        "{page}"
    );
    // The site's own page around it (its stylesheet), not a bare message.
    assert!(page.contains("stylesheet"), "{page}");
}
