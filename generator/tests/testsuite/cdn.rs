//! The built site behind Cloudflare's local Pages runtime (`wrangler pages dev`, from
//! npm), which applies `_headers` and `_redirects` as the host does: fingerprinted
//! files cached for a year with one `Cache-Control`, pages asked for again, the
//! security headers everywhere, an alias a permanent redirect, and the 404 page.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::site_test::SiteTest;

/// `wrangler pages dev` and the runtime it starts, stopped together.
struct Pages(Child);

impl Drop for Pages {
    fn drop(&mut self) {
        // Its own process group: wrangler starts workerd, which must go too.
        let _ = Command::new("kill")
            .args(["-s", "TERM", "--", &format!("-{}", self.0.id())])
            .status();
        let _ = self.0.wait();
    }
}

/// Serves `dir` as Cloudflare Pages would, on loopback, once it says it is ready.
/// Tests that call this are marked ignored where wrangler is missing (see build.rs);
/// under `CI` they fail instead.
fn pages_dev(dir: &std::path::Path) -> (Pages, u16) {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    // Its state goes in `.wrangler/` where it runs: not the source tree.
    let mut child = Command::new("wrangler")
        .current_dir(dir.parent().unwrap_or(dir))
        .args(["pages", "dev"])
        .arg(dir)
        .args(["--ip", "127.0.0.1", "--port", &port.to_string()])
        // An old date every runtime supports: the newest would make wrangler look
        // for an update.
        .arg("--compatibility-date=2025-01-01")
        .env("WRANGLER_HIDE_BANNER", "true")
        .env("WRANGLER_SEND_METRICS", "false")
        .env("WRANGLER_SEND_ERROR_REPORTS", "false")
        .env("CI", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .expect("run wrangler (npm install -g wrangler@4)");
    let lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let pages = Pages(child);
    let (ready, said) = mpsc::channel();
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            if line.contains("Ready on http://127.0.0.1") {
                let _ = ready.send(());
            }
        }
    });
    said.recv_timeout(Duration::from_secs(60))
        .expect("wrangler pages dev said it was ready within a minute");
    (pages, port)
}

/// The status line and headers (lower-case names) of `GET path`.
fn get(port: u16, path: &str) -> (String, Vec<(String, String)>) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    // The head only: the runtime keeps the connection open a while after the body.
    let mut lines = BufReader::new(s)
        .lines()
        .map(Result::unwrap)
        .take_while(|l| !l.is_empty());
    let status = lines.next().unwrap_or_default();
    let headers = lines
        .filter_map(|l| {
            l.split_once(':')
                .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        })
        .collect();
    (status, headers)
}

fn values<'a>(headers: &'a [(String, String)], name: &str) -> Vec<&'a str> {
    headers
        .iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .collect()
}

#[test]
#[cfg_attr(
    missing_wrangler,
    ignore = "needs wrangler, Cloudflare's local Pages runtime (npm install -g wrangler@4)"
)]
fn the_host_serves_the_headers_and_redirects_the_build_wrote() {
    let t = SiteTest::from_fixture("basic");
    t.build().success();
    let css = std::fs::read_dir(t.path("dist/assets"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .find(|n| n.starts_with("style.") && n.ends_with(".css"))
        .expect("the fingerprinted stylesheet");
    let (_pages, port) = pages_dev(&t.path("dist"));

    let (status, headers) = get(port, &format!("/assets/{css}"));
    assert!(status.contains(" 200 "), "{status}");
    assert_eq!(
        values(&headers, "cache-control"),
        ["public, max-age=31536000, immutable"],
        "one rule, a year: {headers:?}"
    );

    let (status, headers) = get(port, "/services/scalp/");
    assert!(status.contains(" 200 "), "{status}");
    let cache = values(&headers, "cache-control").join(", ");
    assert!(
        cache.contains("max-age=0") && cache.contains("must-revalidate"),
        "a page is asked for again: {cache}"
    );
    let csp = values(&headers, "content-security-policy").join(" ");
    assert!(csp.contains("default-src 'self'"), "{headers:?}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(values(&headers, "x-frame-options"), ["DENY"]);
    assert_eq!(
        values(&headers, "referrer-policy"),
        ["strict-origin-when-cross-origin"]
    );

    let (status, headers) = get(port, "/smp/");
    assert!(status.contains(" 301 "), "the alias: {status}");
    assert_eq!(values(&headers, "location"), ["/services/scalp/"]);

    let (status, _) = get(port, "/no-such-page/");
    assert!(status.contains(" 404 "), "{status}");
}
