//! The preview server, through its router (no port), and the real `serve` binary:
//! pages carry the reload script, a save reaches open tabs as an event, problems
//! show in the page, and stopping deletes nothing.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use generator::serve::rebuild::Preview;
use generator::serve::server::{app, Shared};
use generator::serve::watch::Change;
use generator::site::BuildOptions;
use tower::ServiceExt;

use crate::site_test::SiteTest;

fn shared(t: &SiteTest) -> Arc<Shared> {
    let preview = Preview::start(BuildOptions {
        root: t.root().to_path_buf(),
        drafts: false,
        base_url: None,
        form_service_url: None,
        comments: None,
        content_cache: false,
    });
    Arc::new(Shared {
        preview: RwLock::new(preview),
        events: generator::serve::reload::channel(),
    })
}

async fn get(shared: &Arc<Shared>, path: &str) -> (StatusCode, String, String) {
    let res = app(shared.clone())
        .oneshot(Request::get(path).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let location = res
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let body = axum::body::to_bytes(res.into_body(), 1 << 22)
        .await
        .unwrap();
    (
        status,
        String::from_utf8_lossy(&body).into_owned(),
        location,
    )
}

/// Started on a site that has never built, every address shows the problems, and the
/// panel does not promise a last good version that is not there.
#[tokio::test]
async fn a_site_broken_from_the_start_shows_its_problems_without_promising_a_page() {
    let t = SiteTest::from_fixture("basic");
    t.change("content/about.md", "title: About us", "titel: About us");
    let s = shared(&t);
    let (status, body, _) = get(&s, "/about/").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body.contains("content/about.md:2:1"), "{body}");
    assert!(
        body.contains("There is no page to show until these are fixed"),
        "{body}"
    );
    assert!(!body.contains("last good version"), "{body}");
}

#[tokio::test]
async fn pages_come_from_memory_with_the_reload_script() {
    let t = SiteTest::from_fixture("basic");
    let s = shared(&t);
    let (status, body, _) = get(&s, "/about/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("<script src=\"/__generator/reload.js\" defer></script></head>"));
    assert!(!t.path("dist").exists(), "serve writes nothing to disk");

    let (status, _, location) = get(&s, "/about").await;
    assert_eq!(
        (status, location.as_str()),
        (StatusCode::TEMPORARY_REDIRECT, "/about/")
    );
    let (status, body, _) = get(&s, "/no/such/page/").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body.contains("reload.js"), "the 404 page reloads too");
    let (status, body, _) = get(&s, "/door.svg").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.starts_with("<svg"));
    let (_, js, _) = get(&s, "/__generator/reload.js").await;
    assert!(js.contains("new EventSource(\"/__reload\")"));
}

#[tokio::test]
async fn problems_show_over_the_last_good_page() {
    let t = SiteTest::from_fixture("basic");
    let s = shared(&t);
    t.change("content/about.md", "title: About us", "title: [About, us]");
    s.preview
        .write()
        .unwrap()
        .apply(&[Change::Content("about.md".into())]);
    let (status, body, _) = get(&s, "/about/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("<code>content/about.md:2:"), "{body}");
    assert!(
        body.contains("We are a team."),
        "last good page under the overlay"
    );
    let (_, other, _) = get(&s, "/services/").await;
    assert!(
        other.contains("generator-overlay"),
        "every page shows the problem"
    );
}

pub(crate) fn http_get(port: u16, path: &str) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

/// Reads server-sent events until one named `event` arrives; returns its data. Fails
/// after 30 seconds without one (the server's keep-alive comments, every 15 seconds,
/// would otherwise keep the read waiting for ever).
pub(crate) fn next_event(reader: &mut BufReader<TcpStream>, event: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut current = String::new();
    loop {
        assert!(Instant::now() < deadline, "no `{event}` event within 30 s");
        let mut line = String::new();
        assert!(
            reader.read_line(&mut line).unwrap() > 0,
            "event stream closed"
        );
        let line = line.trim_end();
        if let Some(name) = line.strip_prefix("event: ") {
            current = name.to_string();
        } else if let Some(data) = line.strip_prefix("data: ") {
            if current == event {
                return data.to_string();
            }
        }
    }
}

pub(crate) fn open_events(port: u16) -> BufReader<TcpStream> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    write!(s, "GET /__reload HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
    let mut reader = BufReader::new(s);
    let mut status = String::new();
    reader.read_line(&mut status).unwrap();
    assert!(status.contains("200"), "{status}");
    // Headers end with an empty line.
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        if line == "\r\n" {
            break;
        }
    }
    reader
}

#[test]
fn a_save_reaches_open_tabs_and_stopping_deletes_nothing() {
    let t = SiteTest::from_fixture("basic");
    let server = t.serve();
    assert!(http_get(server.port, "/about/").contains("We are a team."));
    let mut events = open_events(server.port);

    let saved = Instant::now();
    t.change(
        "content/about.md",
        "We are a team.",
        "We are a growing team.",
    );
    let data = next_event(&mut events, "reload");
    eprintln!("save to reload message: {} ms", saved.elapsed().as_millis());
    assert_eq!(data, r#"{"paths":["/about/"]}"#);
    assert!(http_get(server.port, "/about/").contains("We are a growing team."));

    // Editors that save by writing a temp file and renaming it over the page.
    t.write(
        "content/.about.md.tmp",
        &t.read("content/about.md").replace("growing", "friendly"),
    );
    std::fs::rename(t.path("content/.about.md.tmp"), t.path("content/about.md")).unwrap();
    assert_eq!(
        next_event(&mut events, "reload"),
        r#"{"paths":["/about/"]}"#
    );
    assert!(http_get(server.port, "/about/").contains("We are a friendly team."));

    t.change("content/about.md", "title: About us", "titel: About us");
    next_event(&mut events, "broken");
    assert!(http_get(server.port, "/about/").contains("content/about.md:2:1"));
    t.change("content/about.md", "titel: About us", "title: About us");
    assert_eq!(next_event(&mut events, "reload"), r#"{"paths":["*"]}"#);
    assert!(!http_get(server.port, "/about/").contains("generator-overlay"));

    // A new folder of pages moved in.
    let staging = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(staging.path().join("team")).unwrap();
    std::fs::write(
        staging.path().join("team/ana.md"),
        "---\ntitle: Ana\nsummary: Nurse.\n---\nHello.\n",
    )
    .unwrap();
    std::fs::rename(staging.path().join("team"), t.path("content/team")).unwrap_or_else(|_| {
        // Different file systems: copy instead, which editors do too.
        std::fs::create_dir_all(t.path("content/team")).unwrap();
        std::fs::copy(
            staging.path().join("team/ana.md"),
            t.path("content/team/ana.md"),
        )
        .unwrap();
    });
    let deadline = Instant::now() + Duration::from_secs(20);
    while !http_get(server.port, "/team/ana/").contains("Hello.") {
        next_event(&mut events, "reload");
        assert!(
            Instant::now() < deadline,
            "the moved-in folder never appeared"
        );
    }

    drop(server);
    assert!(t.path("content/about.md").is_file());
    assert!(t.path("content/team/ana.md").is_file());
    assert!(
        !t.path("dist").exists(),
        "serve never writes the output folder"
    );
}

async fn get_with_host(shared: &Arc<Shared>, path: &str, host: &str) -> (StatusCode, String) {
    let res = app(shared.clone())
        .oneshot(
            Request::get(path)
                .header("host", host)
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let location = res
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (res.status(), location)
}

/// Issue 13, item 20: a page elsewhere that points its own name at 127.0.0.1 (DNS
/// rebinding) cannot read the preview, and no redirect leaves the preview.
#[tokio::test]
async fn the_preview_answers_only_at_its_own_address_and_redirects_stay_on_it() {
    let t = SiteTest::from_fixture("basic");
    let s = shared(&t);
    for host in ["127.0.0.1:1111", "localhost:1111", "[::1]:1111"] {
        assert_eq!(
            get_with_host(&s, "/about/", host).await.0,
            StatusCode::OK,
            "{host}"
        );
    }
    for host in ["rebind.evil.example:1111", "127.0.0.1.evil.example"] {
        assert_eq!(
            get_with_host(&s, "/about/", host).await.0,
            StatusCode::MISDIRECTED_REQUEST,
            "{host}"
        );
    }
    for path in ["//about", "/%5Cabout", "///about"] {
        let (status, location) = get_with_host(&s, path, "127.0.0.1:1111").await;
        if status.is_redirection() {
            assert_eq!(location, "/about/", "{path}");
        }
    }
    let (status, location) = get_with_host(&s, "//about", "127.0.0.1:1111").await;
    assert_eq!(
        (status, location.as_str()),
        (StatusCode::TEMPORARY_REDIRECT, "/about/")
    );
}
