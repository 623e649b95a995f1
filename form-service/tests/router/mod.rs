//! The app through `oneshot`: good posts and the answers people and programs get.
//! `hostile` has each hostile case from issue 3 point 8.

use std::sync::atomic::Ordering;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;

use crate::support::http::{browser_post, header, json_post, send, text, SITE};
use crate::support::{good_form, peer, settings, TestService};

mod hostile;

pub(crate) const PATH: &str = "/forms/consultation";

pub(crate) fn started() -> (TestService, Router) {
    let t = TestService::start(settings());
    let router = t.service.router();
    (t, router)
}

#[tokio::test]
async fn browser_post_is_stored_then_redirected_to_the_configured_thank_you_page() {
    let (t, app) = started();
    let res = send(&app, peer(1), browser_post(PATH, good_form("Ann Smith"))).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        header(&res, "location"),
        format!("{SITE}/consultation/thank-you/")
    );
    // Acknowledged means committed: the row and its email are there already.
    assert_eq!(t.stored(), 1);
    let queued: i64 = t
        .db()
        .query_row(
            "SELECT count(*) FROM outbox WHERE kind = 'staff'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(queued, 1);
}

#[tokio::test]
async fn a_client_supplied_redirect_is_not_followed() {
    let (_t, app) = started();
    let body = format!(
        "{}&thank_you=https%3A%2F%2Fevil.example%2F",
        good_form("Ann")
    );
    let res = send(
        &app,
        peer(1),
        browser_post(&format!("{PATH}?next=https://evil.example/"), body),
    )
    .await;
    // An unknown field is refused; the query string is ignored either way.
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = send(
        &app,
        peer(1),
        browser_post(
            &format!("{PATH}?next=https://evil.example/"),
            good_form("Ann"),
        ),
    )
    .await;
    assert_eq!(
        header(&res, "location"),
        format!("{SITE}/consultation/thank-you/")
    );
}

#[tokio::test]
async fn json_clients_get_201_with_an_id_and_cors_for_the_site_only() {
    let (t, app) = started();
    let body = serde_json::json!({
        "name": "Bo Chen", "email": "bo@example.com", "contact_method": "phone",
        "service": "laser-hair-removal", "consent": true, "website": ""
    });
    let mut req = json_post(PATH, body.clone());
    req.headers_mut().insert("origin", SITE.parse().unwrap());
    let res = send(&app, peer(2), req).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(header(&res, "access-control-allow-origin"), SITE);
    let v: serde_json::Value = serde_json::from_str(&text(res).await).unwrap();
    assert_eq!(v["id"].as_str().unwrap().len(), 16);
    assert_eq!(t.stored(), 1);

    let preflight = |origin: &'static str| {
        Request::options(PATH)
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .body(Body::empty())
            .unwrap()
    };
    let res = send(&app, peer(2), preflight(SITE)).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(header(&res, "access-control-allow-origin"), SITE);
    let res = send(&app, peer(2), preflight("https://evil.example")).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(header(&res, "access-control-allow-origin"), "");
}

#[tokio::test]
async fn json_problems_are_422_with_a_message_per_field() {
    let (t, app) = started();
    let res = send(
        &app,
        peer(3),
        json_post(
            PATH,
            serde_json::json!({"name": "", "email": "nope", "website": ""}),
        ),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let v: serde_json::Value = serde_json::from_str(&text(res).await).unwrap();
    let errors = v["errors"].as_object().unwrap();
    assert_eq!(errors["name"][0], "Enter your name.");
    assert!(errors["email"][0]
        .as_str()
        .unwrap()
        .contains("name@example.com"));
    for f in ["contact_method", "service", "consent"] {
        assert!(errors.contains_key(f), "{f} missing from {v}");
    }
    assert_eq!(t.stored(), 0);
}

#[tokio::test]
async fn invalid_browser_post_gets_the_site_page_with_errors_and_every_answer_kept() {
    let (t, app) = started();
    let body = "name=%3Cscript%3Ealert(1)%3C%2Fscript%3E&email=not-an-email&phone=&contact_method=video\
                &availability=Tuesdays&service=scalp-micropigmentation&message=Line+1%0D%0ALine+2&website=";
    let res = send(&app, peer(4), browser_post(PATH, body)).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(header(&res, "content-type").starts_with("text/html"));
    assert!(header(&res, "content-security-policy").contains("frame-ancestors 'none'"));
    assert_eq!(header(&res, "x-content-type-options"), "nosniff");
    assert_eq!(header(&res, "x-frame-options"), "DENY");
    let html = text(res).await;
    // The generated page around it: title, header, footer, stylesheet on the site.
    assert!(
        html.contains("<title>Error: Book a consultation | THE Medical Spa</title>"),
        "{html}"
    );
    assert!(html.contains("27 Wimpole Street"));
    assert!(html.contains(&format!("href=\"{SITE}/assets/style.0123abcd.css\"")));
    assert!(!html.contains("The generator's form goes here"));
    // The error summary, each message beside its field, and the answers kept, escaped.
    assert!(html.contains("There is a problem"));
    assert!(html.contains("<a href=\"#consultation-email\">Enter an email address"));
    // Issue 15, item 8: the summary comes first in <main>, before the page's own text
    // and far above the form, so it is what a phone shows first, script or not.
    let main = html.find("<main").unwrap();
    let summary = html.find("class=\"error-summary\"").unwrap();
    assert!(
        main < summary && summary < html.find("<h1").unwrap(),
        "{html}"
    );
    assert!(summary < html.find("<form").unwrap());
    assert!(html.contains("id=\"consultation-consent-error\""));
    assert!(html.contains("value=\"&lt;script&gt;alert(1)&lt;/script&gt;\""));
    assert!(!html.contains("<script>alert(1)"));
    assert!(html.contains("value=\"not-an-email\""));
    assert!(html.contains("value=\"video\" checked"));
    assert!(html.contains("value=\"Tuesdays\""));
    assert!(html.contains("<option value=\"scalp-micropigmentation\" selected>"));
    assert!(html.contains(">Line 1\nLine 2</textarea>"));
    // The form posts where the generated page's form posted.
    assert!(html.contains("action=\"https://forms.themedicalspa.example/forms/consultation\""));
    assert_eq!(t.stored(), 0);
}

#[tokio::test]
async fn without_a_generated_site_the_built_in_page_still_keeps_answers() {
    let mut s = settings();
    s.site_dir = std::env::temp_dir().join("no-such-site-dir");
    let t = TestService::start(s);
    let res = send(
        &t.service.router(),
        peer(5),
        browser_post(PATH, "name=Ann&email=x&website="),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = text(res).await;
    assert!(html.contains("<h1>Request a free consultation</h1>"));
    assert!(html.contains("value=\"Ann\""));
    assert!(html.contains("error-summary"));
}

/// Without a built site (`serve --site-dir dist` with no dist/), the page's form once
/// posted to `form_service.url` (production) instead of this service's `--public-url`,
/// and lost `?from=`. It posts where the generated page's form would: here, from there.
#[tokio::test]
async fn without_a_generated_site_the_form_posts_to_this_service_from_its_page() {
    let root = crate::support::fixture();
    let s = form_service::Settings::load(
        &root.join("site.yaml"),
        form_service::settings::Overrides {
            site_dir: Some(std::env::temp_dir().join("no-such-site-dir")),
            public_url: Some("http://127.0.0.1:3999".into()),
            ..Default::default()
        },
    )
    .unwrap();
    let t = TestService::start(s);
    let res = send(
        &t.service.router(),
        peer(6),
        browser_post(
            &format!("{PATH}?from=/services/scalp-micropigmentation/"),
            "name=Ann&email=x&website=",
        ),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = text(res).await;
    assert!(
        html.contains(
            "action=\"http://127.0.0.1:3999/forms/consultation?from=/services/scalp-micropigmentation/\""
        ),
        "{html}"
    );
    assert!(!html.contains("forms.themedicalspa.example"), "{html}");
}

#[tokio::test]
async fn health_reports_the_database_and_the_outbox() {
    let (t, app) = started();
    send(&app, peer(19), browser_post(PATH, good_form("Ann"))).await;
    let res = send(
        &app,
        peer(19),
        Request::get("/health").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    // Issue 13, item 8: from outside, only whether the service is up.
    let v: serde_json::Value = serde_json::from_str(&text(res).await).unwrap();
    assert_eq!(v, serde_json::json!({"status": "ok"}));
    let res = send(
        &app,
        std::net::SocketAddr::from(([127, 0, 0, 1], 40000)),
        Request::get("/health").body(Body::empty()).unwrap(),
    )
    .await;
    let v: serde_json::Value = serde_json::from_str(&text(res).await).unwrap();
    assert_eq!(v["database_writable"], true);
    assert_eq!(v["stored_since_start"], 1);
    assert!(v["outbox_waiting"].as_i64().unwrap() <= 1);
    assert!(t
        .service
        .store()
        .counters()
        .writable
        .load(Ordering::Relaxed));
}
