//! Shared test parts: the fixture site, a service on a temporary data folder, requests,
//! a real SMTP server, and a reader for the messages it receives.

#![allow(dead_code)]

pub mod bin;
pub mod browser;
pub mod http;
pub mod mime;
pub mod smtp;
pub mod staff;

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use form_service::outbox::Mailer;
use form_service::settings::Overrides;
use form_service::{Clock, Service, Settings};

/// The fixture site's folder.
pub fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/site")
}

/// Settings from the fixture site, with its generated pages.
pub fn settings() -> Settings {
    let root = fixture();
    Settings::load(
        &root.join("site.yaml"),
        Overrides {
            site_dir: Some(root.join("dist")),
            ..Overrides::default()
        },
    )
    .expect("fixture settings load")
}

/// A service on a fresh data folder.
pub struct TestService {
    pub service: Service,
    pub clock: Clock,
    pub data: tempfile::TempDir,
}

impl TestService {
    /// Writes mail as files into the data folder.
    pub fn start(settings: Settings) -> TestService {
        let data = tempfile::tempdir().unwrap();
        let mailer = Mailer::files(data.path());
        Self::start_in(settings, data, mailer, Clock::default())
    }

    /// Sends mail to a (plain) SMTP server on `port`.
    pub fn with_smtp(settings: Settings, port: u16) -> TestService {
        let data = tempfile::tempdir().unwrap();
        let mailer = Mailer::smtp(&format!("smtp://127.0.0.1:{port}"), true).unwrap();
        Self::start_in(settings, data, mailer, Clock::default())
    }

    pub fn start_in(
        settings: Settings,
        data: tempfile::TempDir,
        mailer: Mailer,
        clock: Clock,
    ) -> TestService {
        let service = Service::start(settings, data.path(), mailer, clock.clone()).unwrap();
        TestService {
            service,
            clock,
            data,
        }
    }

    /// A read connection to the database.
    pub fn db(&self) -> rusqlite::Connection {
        form_service::store::schema::open(self.data.path()).unwrap()
    }

    /// Number of stored submissions.
    pub fn stored(&self) -> i64 {
        self.db()
            .query_row("SELECT count(*) FROM submissions", [], |r| r.get(0))
            .unwrap()
    }

    /// `.eml` files written so far.
    pub fn eml_files(&self) -> Vec<PathBuf> {
        eml_files(self.data.path())
    }
}

pub fn eml_files(data: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(data.join("mail"))
        .map(|d| {
            d.flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "eml"))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// Polls `f` until it returns `Some`, failing the test after `limit`. Waiting for an
/// outcome, not for time: it returns as soon as the outcome is there.
pub fn wait_for<T>(what: &str, limit: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Async form of [`wait_for`].
pub async fn wait_for_async<T, F: std::future::Future<Output = Option<T>>>(
    what: &str,
    limit: Duration,
    mut f: impl FnMut() -> F,
) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A client on this machine (an insider for `/health` and `/metrics`).
pub fn local() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 40000))
}

/// A client address for `MockConnectInfo`.
pub fn peer(last: u8) -> SocketAddr {
    SocketAddr::from(([198, 51, 100, last], 40000))
}

/// A valid consultation post, urlencoded, with `name` varied to avoid the dedupe.
pub fn good_form(name: &str) -> String {
    format!(
        "name={}&email=ann%40example.com&phone=&contact_method=video&availability=&service=scalp-micropigmentation&message=Hello&consent=yes&website=",
        encode(name)
    )
}

/// Percent-encodes everything but unreserved characters.
pub fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The form service binary built for these tests.
pub fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_form-service"))
}

/// The fixture site with `edit` applied to its `site.yaml`, in a folder of its own
/// (its `content/` is the fixture's, linked).
pub fn site_edited(edit: impl FnOnce(String) -> String) -> tempfile::TempDir {
    let site = tempfile::tempdir().unwrap();
    let yaml = std::fs::read_to_string(fixture().join("site.yaml")).unwrap();
    std::fs::write(site.path().join("site.yaml"), edit(yaml)).unwrap();
    std::os::unix::fs::symlink(fixture().join("content"), site.path().join("content")).unwrap();
    site
}

/// The fixture site with `extra` lines added at the top of `form_service:`.
pub fn site_with(form_service_extra: &str) -> tempfile::TempDir {
    site_edited(|y| {
        y.replacen(
            "form_service:\n",
            &format!("form_service:\n{form_service_extra}"),
            1,
        )
    })
}

/// The first of `candidates` that exists: where the tool `name` is installed. If none
/// does, says the test is skipped and returns None; under CI (`CI` set, where `.ci/run`
/// installs every tool) it fails instead.
pub fn installed(name: &str, candidates: &[&str]) -> Option<PathBuf> {
    let found = candidates.iter().map(PathBuf::from).find(|p| p.is_file());
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "{name} is not installed, and CI is set: .ci/run installs it"
        );
        eprintln!("SKIPPED: {name} is not installed here");
    }
    found
}
