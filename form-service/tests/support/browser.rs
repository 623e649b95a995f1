//! What the browser tests share: the example site built by the generator binary and
//! served on 127.0.0.1 with its `_headers` (so its Content-Security-Policy applies), the
//! form service binary beside it sending mail to a test SMTP server, and Debian's
//! headless Chromium driven over chromedriver.
//!
//! Where chromedriver is missing the browser tests are marked ignored, with the reason,
//! by build.rs; under CI (`CI` set) a missing chromedriver fails them instead.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;

use super::bin::Running;
use super::http::raw;
use super::mime::Mail;
use super::smtp::SmtpServer;
use super::{free_port, wait_for};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// A child process killed when dropped.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The generator binary, if it was built. Browser tests are marked ignored where
/// chromedriver is missing (see build.rs). `cargo test --workspace` builds the
/// generator beside these tests; run alone (`cargo test -p form-service`) before it
/// was ever built, the test says so and returns, except under CI, where it fails.
pub fn available() -> Option<PathBuf> {
    let found = generator();
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must build the generator binary (cargo test --workspace does)"
        );
        eprintln!(
            "skipped: no generator binary beside the tests; `cargo build -p generator` or \
             `cargo test --workspace` builds it"
        );
    }
    found
}

/// The generator built beside this test binary (`cargo test --workspace` builds it).
fn generator() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let bin = exe.parent()?.parent()?.join("generator");
    bin.exists().then_some(bin)
}

/// The workspace: the example site's root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn listening(port: u16) -> Option<()> {
    std::net::TcpStream::connect(("127.0.0.1", port))
        .ok()
        .map(|_| ())
}

/// A static host for `dist/` that sends the global (`/*`) headers of its `_headers`
/// file with every answer, as the CDNs that read that file do.
const STATIC_HOST: &str = r#"
import http.server, os, sys
port, root = int(sys.argv[1]), sys.argv[2]
headers, block = [], None
with open(os.path.join(root, "_headers"), encoding="utf-8") as f:
    for line in f:
        if not line.strip():
            continue
        if not line[0].isspace():
            block = line.strip()
        elif block == "/*":
            name, value = line.strip().split(":", 1)
            headers.append((name.strip(), value.strip()))
class Handler(http.server.SimpleHTTPRequestHandler):
    def __init__(self, *a, **k):
        super().__init__(*a, directory=root, **k)
    def end_headers(self):
        for name, value in headers:
            self.send_header(name, value)
        super().end_headers()
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
"#;

/// The example site built to post to a local form service, served on 127.0.0.1, the
/// service running (`--base-url` the site, `--public-url` itself, so emailed links
/// lead to it) and its SMTP server.
pub struct Stack {
    /// The site's address, `http://127.0.0.1:PORT`, no trailing slash.
    pub site: String,
    /// The form service.
    pub service: Running,
    /// The service's data folder (its SQLite file is `forms.sqlite3`).
    pub data: PathBuf,
    /// Where the service's mail arrives.
    pub smtp: SmtpServer,
    _static: Killed,
    // Last: the folders go once everything using them has stopped.
    _work: tempfile::TempDir,
}

impl Stack {
    /// The stack, when the generator binary is there to build the site ([`available`]).
    pub fn if_available() -> Option<Stack> {
        available().map(|generator| Stack::start(&generator))
    }

    pub fn start(generator: &Path) -> Stack {
        let work = tempfile::tempdir().unwrap();
        let dist = work.path().join("dist");
        let data = work.path().join("data");
        let (site_port, forms_port, smtp) = (free_port(), free_port(), SmtpServer::start());
        let site = format!("http://127.0.0.1:{site_port}");
        let forms = format!("http://127.0.0.1:{forms_port}");
        build_example(generator, &dist, &site, &forms);
        let smtp_url = format!("smtp://127.0.0.1:{}", smtp.port);
        let service = Running::start_with(
            &repo_root().join("site.yaml"),
            &dist,
            &data,
            forms_port,
            &["--base-url", &site, "--public-url", &forms],
            &[("SMTP_URL", &smtp_url), ("SMTP_ALLOW_PLAIN", "1")],
        );
        let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
        let static_host = Killed(
            Command::new(python)
                .args(["-c", STATIC_HOST, &site_port.to_string()])
                .arg(&dist)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        );
        let home = wait_for("the static site", Duration::from_secs(20), || {
            raw(
                ([127, 0, 0, 1], site_port).into(),
                b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
            )
            .ok()
        });
        assert!(
            home.status == 200
                && home
                    .head
                    .to_ascii_lowercase()
                    .contains("\ncontent-security-policy: default-src 'self'"),
            "the site is served with its _headers: {}",
            home.head
        );
        Stack {
            site,
            service,
            data,
            smtp,
            _static: static_host,
            _work: work,
        }
    }

    /// The service's own address, `http://127.0.0.1:PORT`: emailed links start with it.
    pub fn public_url(&self) -> String {
        format!("http://{}", self.service.addr)
    }
}

/// chromedriver in a process group of its own, with the Chromium it starts there: both
/// are killed when this is dropped, even if a failing test never closed its session.
pub struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        use rustix::process::{kill_process_group, Pid, Signal};
        // chromedriver leads its own group (`process_group(0)`), so its id is the group's.
        let _ = kill_process_group(Pid::from_child(&self.0), Signal::KILL);
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// chromedriver and a headless Chromium session.
pub async fn chromium() -> (Driver, Client) {
    chromium_with(&[]).await
}

/// [`chromium`] with `extra` command-line arguments for Chromium (e.g.
/// `--ignore-certificate-errors` for a proxy's `tls internal` certificate).
pub async fn chromium_with(extra: &[&str]) -> (Driver, Client) {
    use std::os::unix::process::CommandExt;
    let port = free_port();
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .process_group(0)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let driver = Driver(child);
    wait_for("chromedriver", Duration::from_secs(20), || listening(port));

    let mut args = vec![
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        // The theme scrolls smoothly unless the visitor asks for less
        // motion, and a click during a smooth scroll lands elsewhere: ask.
        "--force-prefers-reduced-motion",
        "--window-size=1280,900",
    ];
    args.extend_from_slice(extra);
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({ "binary": "/usr/bin/chromium", "args": args }),
    );
    // Plain HTTP: chromedriver listens on loopback only.
    let client = ClientBuilder::new(HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("connect to chromedriver");
    (driver, client)
}

/// Waits (at most 15 s) until the tab's address is `url`.
pub async fn wait_for_url(c: &Client, url: &str) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if c.current_url().await.is_ok_and(|u| u.as_str() == url) {
            return;
        }
        let now = c
            .current_url()
            .await
            .map(|u| u.to_string())
            .unwrap_or_default();
        assert!(
            Instant::now() < deadline,
            "still at {now}, waiting for {url}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Types `text` into the (cleared) field `css`.
pub async fn fill(c: &Client, css: &str, text: &str) {
    let field = c.find(Locator::Css(css)).await.unwrap();
    field.clear().await.unwrap();
    field.send_keys(text).await.unwrap();
}

/// Clicks the element `css` (WebDriver scrolls it into view first).
pub async fn click(c: &Client, css: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

/// Fills in and sends the membership form on the page the tab shows.
pub async fn register(c: &Client, name: &str, email: &str) {
    fill(c, "#membership-name", name).await;
    fill(c, "#membership-email", email).await;
    click(c, "#membership-consent").await;
    click(c, "#form-membership button").await;
}

/// Presses the button whose text is `label` (a link's page, a staff page).
pub async fn press(c: &Client, label: &str) {
    c.find(Locator::XPath(&format!(
        "//button[normalize-space()='{label}']"
    )))
    .await
    .unwrap_or_else(|_| panic!("no button {label:?} on the page"))
    .click()
    .await
    .unwrap();
}

/// The visible text of the element `css`.
pub async fn text_of(c: &Client, css: &str) -> String {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|_| panic!("no {css} on the page"))
        .text()
        .await
        .unwrap()
}

/// The first link in an email's text part that contains `marker`.
pub fn link_in(mail: &Mail, marker: &str) -> String {
    mail.text
        .split_whitespace()
        .find(|w| w.contains(marker))
        .unwrap_or_else(|| panic!("no link with {marker} in:\n{}", mail.text))
        .to_string()
}

/// Builds the example site into `dist` for a site at `site` and a service at `forms`.
pub fn build_example(generator: &Path, dist: &Path, site: &str, forms: &str) {
    let out = Command::new(generator)
        .arg("build")
        .arg("--root")
        .arg(repo_root())
        .arg("--output")
        .arg(dist)
        .args(["--base-url", site, "--form-service-url", forms])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "generator build failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Fills in the consultation form on the page the tab shows (name, email, how to be
/// contacted by its value, an optional message, consent) and sends it.
pub async fn request_consultation(
    c: &Client,
    name: &str,
    email: &str,
    method: &str,
    message: Option<&str>,
) {
    fill(c, "#consultation-name", name).await;
    fill(c, "#consultation-email", email).await;
    click(
        c,
        &format!("#consultation-contact-method input[value={method}]"),
    )
    .await;
    if let Some(m) = message {
        fill(c, "#consultation-message", m).await;
    }
    click(c, "#consultation-consent").await;
    click(c, "#form-consultation button").await;
}
