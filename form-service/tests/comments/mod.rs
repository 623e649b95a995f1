//! Issue 7, members' comments, through the real router, SQLite file and SMTP server:
//! posting signed in and signed out, moderation from the links in the staff email
//! (scanner-safe, single-use, expiring, unforgeable), publishing through the generator,
//! limits, and `forget`.

mod moderation;
mod posting;

use std::path::PathBuf;

use crate::members::Club;
use crate::support::encode;

/// The comment form's body for the Scalp Micropigmentation page.
pub fn comment_body(name: &str, text: &str, email: &str, consent: bool) -> String {
    format!(
        "display_name={}&comment={}&service=scalp-micropigmentation&email={}&consent={}&website=",
        encode(name),
        encode(text),
        encode(email),
        if consent { "yes" } else { "" }
    )
}

/// Posts a comment signed in, and returns the staff email's three links
/// (approve, reject, reply).
pub async fn post_and_get_links(c: &mut Club, cookie: &str, text: &str) -> [String; 3] {
    let res = c
        .post_as(
            Some(cookie),
            "/forms/comment",
            comment_body("Sam", text, "", false),
        )
        .await;
    assert_eq!(res.status(), axum::http::StatusCode::SEE_OTHER);
    let staff = c.next_mail().await;
    assert!(staff
        .header("subject")
        .starts_with("Comment to moderate: Scalp Micropigmentation"));
    links(&staff)
}

/// Presses a moderation link's button by hand: posts its token with `extra` fields
/// (`&reason=1`, `&reply=...`), as the page's form would.
pub async fn act(c: &Club, link: &str, extra: &str) -> axum::http::Response<axum::body::Body> {
    let token = link.split("token=").nth(1).expect("a token in the link");
    c.post_as(None, "/comments/moderate", format!("token={token}{extra}"))
        .await
}

/// The moderation links of a staff email, in order.
pub fn links(mail: &crate::support::mime::Mail) -> [String; 3] {
    let found: Vec<String> = mail
        .text
        .split_whitespace()
        .filter(|w| w.contains("/comments/moderate?token="))
        .map(str::to_string)
        .collect();
    assert_eq!(found.len(), 3, "{}", mail.text);
    [found[0].clone(), found[1].clone(), found[2].clone()]
}

/// The generator built beside this test binary, if there is one.
pub fn generator() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let bin = exe.parent()?.parent()?.join("generator");
    bin.exists().then_some(bin)
}

/// The repository root (the example site).
pub fn repo_root() -> PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}
