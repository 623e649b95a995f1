//! Issue 14, item 2: the service and the built site behind real reverse proxies over
//! HTTPS, driven by Chromium. `caddy`: Caddy (Debian's package) running the shipped
//! `deploy/Caddyfile` (imported by `deploy/Caddyfile.test`, Caddy's own CA) in front of both: a consultation request, joining by
//! the emailed link, a comment and its staff moderation link, and rate limits per
//! forwarded visitor. `nginx`: the shipped `deploy/nginx.conf`, whose default proxy
//! settings rewrite `Host`, with a certificate the test makes: the service's own pages
//! (the emailed link's page and button, the members' page, staff sign-in) keep working.
//!
//! Marked ignored where Chromium is missing (see build.rs); a missing proxy skips its
//! test visibly, and fails it under CI (`CI` set), where `.ci/run` installs it.

mod caddy;
mod nginx;

use std::process::{Child, Command};
use std::time::Duration;

use fantoccini::Client;

use crate::support::browser::{link_in, press, register, text_of, wait_for_url};
use crate::support::mime::{parse, Mail};
use crate::support::smtp::SmtpServer;
use crate::support::wait_for;

/// A proxy started in a process group of its own, all of it killed when dropped
/// (killing only nginx's master would leave a worker listening).
struct Proxy(Child);

impl Drop for Proxy {
    fn drop(&mut self) {
        use rustix::process::{kill_process_group, Pid, Signal};
        let _ = kill_process_group(Pid::from_child(&self.0), Signal::KILL);
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Proxy {
    /// Starts `cmd` in its own process group and waits (bounded) until every port in
    /// `ports` accepts connections; `log` says what the proxy said if it exits.
    fn start(mut cmd: Command, ports: &[u16], log: impl Fn() -> String) -> Proxy {
        use std::os::unix::process::CommandExt;
        let mut proxy = Proxy(cmd.process_group(0).spawn().expect("the proxy starts"));
        wait_for("the proxy to listen", Duration::from_secs(30), || {
            if let Ok(Some(status)) = proxy.0.try_wait() {
                panic!("the proxy exited: {status}\n{}", log());
            }
            ports.iter().all(|&p| listening(p)).then_some(())
        });
        proxy
    }
}

/// The head of the answer to `GET path` over HTTPS on 127.0.0.1:`port`.
async fn https_head(tls: &tokio_rustls::TlsConnector, port: u16, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio_rustls::rustls::pki_types::ServerName;
    let answer = tokio::time::timeout(Duration::from_secs(15), async {
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .unwrap();
        let name = ServerName::IpAddress(std::net::Ipv4Addr::LOCALHOST.into());
        let mut stream = tls
            .connect(name, tcp)
            .await
            .expect("the proxy's certificate");
        let request =
            format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut answer = Vec::new();
        // The answer is whole once read; a missing close_notify after it does not matter.
        let _ = stream.read_to_end(&mut answer).await;
        String::from_utf8_lossy(&answer).into_owned()
    })
    .await
    .expect("the proxy answers within 15 s");
    answer
        .split("\r\n\r\n")
        .next()
        .unwrap_or_default()
        .to_string()
}

/// The answer has `status` and tells browsers to use HTTPS only for a year (HSTS).
fn assert_hsts(head: &str, status: u16) {
    assert!(
        head.starts_with(&format!("HTTP/1.1 {status} ")),
        "not a {status}:\n{head}"
    );
    assert!(
        head.lines().any(|l| l.to_ascii_lowercase().replace(' ', "")
            == "strict-transport-security:max-age=31536000"),
        "no HSTS header:\n{head}"
    );
}

/// A TLS handshake would need a client; a plain TCP connect shows the proxy listens.
fn listening(port: u16) -> bool {
    std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
}

/// The next message to reach `smtp` after the `seen` the test has read (waiting for it,
/// bounded); advances `seen`.
fn next_mail(smtp: &SmtpServer, seen: &mut usize) -> Mail {
    *seen += 1;
    let n = *seen;
    let all = tokio::task::block_in_place(|| smtp.wait_for_messages(n, Duration::from_secs(30)));
    parse(&all[n - 1])
}

/// A visitor joins through the proxy as people do: the membership form on the site, the
/// emailed link (which leads through the proxy to the service), its button, and the
/// members' page with the welcome bonus and a `Secure`, `HttpOnly`, `__Host-` cookie.
async fn join(c: &Client, smtp: &SmtpServer, seen: &mut usize, site: &str, forms: &str) {
    c.goto(&format!("{site}/membership/")).await.unwrap();
    register(c, "Ann Proxy", "ann.proxy@example.com").await;
    wait_for_url(c, &format!("{site}/membership/thank-you/")).await;
    let confirmation = next_mail(smtp, seen);
    assert!(confirmation.header("to").contains("ann.proxy@example.com"));
    let url = link_in(&confirmation, "/members/confirm?token=");
    assert!(
        url.starts_with(&format!("{forms}/")),
        "{url} leads through the proxy"
    );
    c.goto(&url).await.unwrap();
    press(c, "Confirm my membership").await;
    wait_for_url(c, &format!("{forms}/members/?notice=welcome")).await;
    assert_eq!(
        text_of(c, "#balance").await,
        "50",
        "the welcome bonus is the balance"
    );
    let cookie = c
        .get_named_cookie("__Host-member_session")
        .await
        .expect("the session cookie is __Host- prefixed over HTTPS");
    assert_eq!(cookie.secure(), Some(true), "{cookie}");
    assert_eq!(cookie.http_only(), Some(true), "{cookie}");
    assert_eq!(cookie.path(), Some("/"), "{cookie}");
}

/// Staff act on a link from their email through the proxy: the link, opened in a
/// browser not signed in as staff, asks for the staff sign-in; the sign-in link emailed
/// to the staff address brings the browser back to the staff link, now for staff.
/// Returns with the tab on `staff_link`'s page, signed in as staff.
async fn sign_in_as_staff_for(
    c: &Client,
    smtp: &SmtpServer,
    seen: &mut usize,
    forms: &str,
    staff_link: &str,
) {
    c.goto(staff_link).await.unwrap();
    assert!(
        c.source().await.unwrap().contains("Sign in as staff first"),
        "a staff link in a browser that is not staff asks for the sign-in"
    );
    crate::support::browser::fill(c, "#staff-email", STAFF).await;
    press(c, "Email me a staff sign-in link").await;
    let mail = next_mail(smtp, seen);
    assert_eq!(mail.header("to"), STAFF);
    let url = link_in(&mail, "/staff/sign-in?token=");
    assert!(url.starts_with(&format!("{forms}/")), "{url}");
    c.goto(&url).await.unwrap();
    press(c, "Sign in as staff").await;
    wait_for_url(c, staff_link).await;
    let cookie = c
        .get_named_cookie("__Host-staff_session")
        .await
        .expect("the staff cookie is __Host- prefixed over HTTPS");
    assert_eq!(cookie.secure(), Some(true), "{cookie}");
}

/// The example site's staff address (`form_service.staff.addresses`).
const STAFF: &str = "consultations@themedicalspa.example";
