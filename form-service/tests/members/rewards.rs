//! Rewards: asked for on the member's page, held, confirmed or declined by staff from
//! the email's scanner-safe links, and never more than the balance, even at once.

use axum::body::Body;
use axum::http::{Request, StatusCode};

use super::{link, Club};
use crate::support::http::{browser_post, header};

fn ask(cookie: &str, reward: &str) -> Request<Body> {
    let mut r = browser_post("/members/rewards", format!("reward={reward}"));
    r.headers_mut().insert("cookie", cookie.parse().unwrap());
    r
}

fn ok(o: std::process::Output) -> String {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reward_is_held_then_confirmed_or_declined_from_the_staff_email() {
    let mut c = Club::start();
    c.sign_in_staff().await;
    let ann = c.join("Ann", "ann@example.com", "").await;
    ok(c.command(&[
        "points",
        "adjust",
        "ann@example.com",
        "150",
        "--reason",
        "Welcome back gift",
    ]));
    assert_eq!(c.balance(&ann).await, 200);

    let res = c.send(ask(&ann, "ten-off")).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(header(&res, "location").ends_with("/members/?notice=reward"));
    let page = c.page(&ann).await;
    assert!(
        page.contains("<strong id=\"balance\">100</strong>"),
        "{page}"
    );
    assert!(page.contains("100 set aside"));

    let staff = c.next_mail().await;
    assert_eq!(staff.header("to"), "consultations@themedicalspa.example");
    assert!(staff.header("subject").contains("£10 off any treatment"));
    assert!(
        staff.header("reply-to").is_empty(),
        "a staff email never has a member as Reply-To"
    );
    assert!(staff.text.contains("ann@example.com"));
    let used = link(&staff, "/members/staff/reward?token=");
    let declined = staff
        .text
        .split_whitespace()
        .filter(|w| w.contains("/members/staff/reward?token="))
        .nth(1)
        .unwrap()
        .to_string();

    // A scanner opens both links: nothing happens, both still work.
    for url in [&used, &declined] {
        let (status, page) = c.open(url).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("Ann (ann@example.com) asked for £10 off any treatment"));
    }
    assert_eq!(c.balance(&ann).await, 100);

    let (_, stale) = c.open(&declined).await;
    let (_, page) = c.open(&used).await;
    let res = c.press(&page).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(c.balance(&ann).await, 100, "the held points are now spent");
    assert!(c.page(&ann).await.contains("Used"));
    // The pair is spent: declining afterwards does nothing, and the page says what
    // happened (it once said "This link has already been used", though it never was).
    let (status, page) = c.open(&declined).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("This reward was already confirmed"), "{page}");
    assert!(!page.contains("already been used"), "{page}");
    // A decline page opened before, pressed after: refused, saying the same.
    let res = c.press(&stale).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let page = crate::support::http::text(res).await;
    assert!(page.contains("This reward was already confirmed"), "{page}");
    assert_eq!(c.balance(&ann).await, 100);

    // A second reward, declined: its points come back.
    c.send(ask(&ann, "ten-off")).await;
    assert_eq!(c.balance(&ann).await, 0);
    let staff = c.next_mail().await;
    let declined = staff
        .text
        .split_whitespace()
        .filter(|w| w.contains("/members/staff/reward?token="))
        .nth(1)
        .unwrap()
        .to_string();
    let (_, page) = c.open(&declined).await;
    assert!(page.contains("Decline: give the points back"));
    assert_eq!(c.press(&page).await.status(), StatusCode::OK);
    assert_eq!(c.balance(&ann).await, 100);
    assert!(c.page(&ann).await.contains("Given back"));
}

/// Under systemd or `sudo`, with USER and LOGNAME unset, `points adjust` once recorded
/// `staff:unknown`. It now asks for `--by`, and records who was named.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn points_adjust_without_a_login_name_asks_who_is_acting() {
    let mut c = Club::start();
    c.join("Ann", "ann@example.com", "").await;
    let adjust = |by: &[&str]| {
        let mut cmd = std::process::Command::new(crate::support::binary());
        cmd.args([
            "points",
            "adjust",
            "ann@example.com",
            "25",
            "--reason",
            "Gift",
        ])
        .args(by)
        .arg("--config")
        .arg(crate::support::fixture().join("site.yaml"))
        .arg("--data-dir")
        .arg(c.t.data.path())
        .env_remove("USER")
        .env_remove("LOGNAME");
        cmd.output().unwrap()
    };
    let o = adjust(&[]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("--by"), "{err}");
    let rows = |c: &Club| -> i64 {
        c.t.db()
            .query_row("SELECT count(*) FROM ledger WHERE amount = 25", [], |r| {
                r.get(0)
            })
            .unwrap()
    };
    assert_eq!(rows(&c), 0, "nothing recorded");
    ok(adjust(&["--by", "Dana"]));
    let show = ok(c.command(&["members", "show", "ann@example.com"]));
    assert!(show.contains("staff:Dana"), "{show}");
    assert!(!show.contains("staff:unknown"), "{show}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_at_once_never_overdraw_and_the_balance_never_goes_below_zero() {
    let mut c = Club::start();
    let ann = c.join("Ann", "ann@example.com", "").await;
    ok(c.command(&[
        "points",
        "adjust",
        "ann@example.com",
        "50",
        "--reason",
        "Top up",
    ]));
    assert_eq!(c.balance(&ann).await, 100);

    // Six requests for the 100-point reward at the same moment: one is held.
    let reqs: Vec<_> = (0..6).map(|_| c.send(ask(&ann, "ten-off"))).collect();
    let answers = futures_join_all(reqs).await;
    let granted = answers
        .iter()
        .filter(|r| header(r, "location").ends_with("notice=reward"))
        .count();
    let refused = answers
        .iter()
        .filter(|r| header(r, "location").ends_with("notice=short"))
        .count();
    assert_eq!((granted, refused), (1, 5));
    assert_eq!(c.balance(&ann).await, 0);

    // Staff cannot take points that are not there either.
    let o = c.command(&["points", "adjust", "ann@example.com", "-1", "--reason", "x"]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("not enough points"));
    let sum: i64 = c
        .t
        .db()
        .query_row(
            "SELECT coalesce(sum(amount), 0) FROM ledger WHERE status = 'confirmed'
             OR (status = 'held' AND id NOT IN (SELECT settles FROM ledger WHERE settles IS NOT NULL))",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(sum, 0);
    // Not signed in: the request goes nowhere.
    let res = c
        .send(browser_post("/members/rewards", "reward=ten-off"))
        .await;
    assert!(header(&res, "location").ends_with("/members/"));
}

/// Polls every future in turn until all are done, so they run at the same time.
async fn futures_join_all<F: std::future::Future>(fs: Vec<F>) -> Vec<F::Output> {
    join_vec(fs.into_iter().map(Box::pin).collect()).await
}

async fn join_vec<F: std::future::Future + Unpin>(mut fs: Vec<F>) -> Vec<F::Output> {
    let mut results: Vec<Option<F::Output>> = fs.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (i, f) in fs.iter_mut().enumerate() {
            if results[i].is_none() {
                match std::pin::Pin::new(f).poll(cx) {
                    std::task::Poll::Ready(v) => results[i] = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    results.into_iter().map(Option::unwrap).collect()
}
