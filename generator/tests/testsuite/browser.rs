//! The live preview in a real browser: Debian's Chromium, headless, driven over
//! WebDriver (chromedriver), against `generator serve` on 127.0.0.1. The open tab
//! reloads by itself after a save, shows a broken edit's file and line, clears it
//! when fixed, and swaps a changed stylesheet without reloading.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;

use crate::site_test::SiteTest;

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// chromedriver on a free port, once it says it is ready. Tests that call this are
/// marked ignored where it is missing (see build.rs); under `CI` they fail instead.
fn chromedriver() -> (Killed, u16) {
    let port = free_port();
    let mut child = Command::new("/usr/bin/chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("run /usr/bin/chromedriver (apt-get install chromium chromium-driver)");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    for line in lines.by_ref() {
        if line.unwrap().contains("started successfully") {
            break;
        }
    }
    std::thread::spawn(move || for _ in lines {});
    (Killed(child), port)
}

async fn browser(driver_port: u16) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": "/usr/bin/chromium",
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--no-first-run", "--disable-quic"],
        }),
    );
    // Plain HTTP: chromedriver listens on loopback only.
    ClientBuilder::new(HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{driver_port}"))
        .await
        .expect("connect to chromedriver")
}

/// Evaluates `script` until it returns `true`, for at most 15 s.
async fn wait_for(c: &Client, script: &str, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if c.execute(script, vec![])
            .await
            .ok()
            .and_then(|v| v.as_bool())
            == Some(true)
        {
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        // The browser polls its own page; this only paces our questions.
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    missing_chromium,
    ignore = "needs Chromium: apt-get install chromium chromium-driver (see README, Tests)"
)]
async fn an_open_tab_follows_edits_errors_and_fixes() {
    let (_driver, driver_port) = chromedriver();
    let t = SiteTest::from_fixture("basic");
    let server = t.serve();
    let port = server.port;
    let c = browser(driver_port).await;
    c.goto(&format!("http://127.0.0.1:{port}/about/"))
        .await
        .unwrap();
    c.execute("window.__mark = 42; return true;", vec![])
        .await
        .unwrap();
    // Wait until the tab listens for rebuilds before saving.
    wait_for(
        &c,
        "return !!performance.getEntriesByName(location.origin + '/__generator/reload.js').length;",
        "the reload script",
    )
    .await;

    t.change(
        "content/about.md",
        "We are a team.",
        "We are a growing team.",
    );
    wait_for(
        &c,
        "return document.body.innerText.includes('We are a growing team.');",
        "the edit to appear",
    )
    .await;
    let mark = c
        .execute("return window.__mark === undefined;", vec![])
        .await
        .unwrap();
    assert_eq!(mark, json!(true), "the page reloaded by itself");

    t.change("content/about.md", "title: About us", "titel: About us");
    // The tab reloads when the site breaks: asked from the page, which may be
    // mid-navigation (a WebDriver wait for the element is aborted by it).
    wait_for(
        &c,
        "const o = document.getElementById('generator-overlay'); return !!o && o.innerText.length > 0;",
        "the overlay",
    )
    .await;
    let text = c
        .execute(
            "return document.getElementById('generator-overlay').innerText;",
            vec![],
        )
        .await
        .unwrap();
    let text = text.as_str().unwrap_or_default().to_string();
    assert!(text.contains("content/about.md:2:1"), "{text}");
    assert!(text.contains("did you mean title?"), "{text}");
    assert!(
        c.source().await.unwrap().contains("We are a growing team."),
        "last good page under the overlay"
    );

    t.change("content/about.md", "titel: About us", "title: About us");
    wait_for(
        &c,
        "return document.getElementById('generator-overlay') === null;",
        "the overlay to clear",
    )
    .await;

    c.execute("window.__mark = 7; return true;", vec![])
        .await
        .unwrap();
    let before = c
        .execute(
            "return document.querySelector('link[rel=stylesheet]').getAttribute('href');",
            vec![],
        )
        .await
        .unwrap();
    let css = t.read("themes/default/static/assets/style.css");
    t.write(
        "themes/default/static/assets/style.css",
        &format!("{css}\nmain{{outline:1px solid red}}\n"),
    );
    wait_for(
        &c,
        &format!("return document.querySelector('link[rel=stylesheet]').getAttribute('href') !== {before};"),
        "the stylesheet to be swapped",
    )
    .await;
    let mark = c.execute("return window.__mark;", vec![]).await.unwrap();
    assert_eq!(
        mark,
        json!(7),
        "a stylesheet change does not reload the page"
    );
    c.close().await.unwrap();
}
