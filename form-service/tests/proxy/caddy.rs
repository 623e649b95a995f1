//! Behind Caddy (`deploy/Caddyfile.test`, which imports the shipped `deploy/Caddyfile`
//! as it is, on an https://127.0.0.1 address that Caddy's own CA signs): the whole loop over HTTPS in Chromium, and rate limits per visitor.

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_rustls::rustls::pki_types::ServerName;
use tokio_rustls::TlsConnector;

use super::{join, next_mail, sign_in_as_staff_for, Proxy};
use crate::support::bin::Running;
use crate::support::browser::{
    available, build_example, chromium_with, click, fill, link_in, press, repo_root,
    request_consultation, wait_for_url,
};
use crate::support::smtp::SmtpServer;
use crate::support::{free_port, good_form, installed, wait_for, wait_for_async};

/// A TLS client that trusts Caddy's own certificate authority (its `root.crt`), as a
/// browser on a machine with that root installed would.
pub(super) fn trusting(root: &Path) -> TlsConnector {
    use tokio_rustls::rustls::pki_types::pem::PemObject;
    use tokio_rustls::rustls::pki_types::CertificateDer;
    use tokio_rustls::rustls::{crypto, ClientConfig, RootCertStore};
    let mut roots = RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_file(root).expect("Caddy's root certificate"))
        .unwrap();
    let config = ClientConfig::builder_with_provider(Arc::new(crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    TlsConnector::from(Arc::new(config))
}

/// A consultation post from the site, sent over HTTPS to Caddy from the loopback
/// address `from` (another visitor); the answer's status.
async fn post_from(tls: &TlsConnector, from: [u8; 4], caddy: u16, site: &str, name: &str) -> u16 {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::from((from, 0))).unwrap();
    let body = good_form(name);
    let request = format!(
        "POST /forms/consultation HTTP/1.1\r\nHost: 127.0.0.1:{caddy}\r\nOrigin: {site}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nAccept: text/html\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let answer = tokio::time::timeout(Duration::from_secs(15), async {
        let tcp = socket
            .connect(SocketAddr::from(([127, 0, 0, 1], caddy)))
            .await
            .unwrap();
        let name = ServerName::IpAddress(std::net::Ipv4Addr::LOCALHOST.into());
        let mut stream = tls.connect(name, tcp).await.expect("Caddy's certificate");
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut answer = Vec::new();
        // The answer is whole once read; a missing close_notify after it does not matter.
        let _ = stream.read_to_end(&mut answer).await;
        String::from_utf8_lossy(&answer).into_owned()
    })
    .await
    .expect("Caddy answers within 15 s");
    answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP answer: {answer}"))
}

/// Caddy running `deploy/Caddyfile.test` (the shipped Caddyfile, imported as it is) with
/// `forms` on https://127.0.0.1:`forms_port` in front of the service on `upstream_port`
/// and the site in `dist` on `site_port`; its files and `caddy.log` in `work`. Returns
/// once its certificate for 127.0.0.1 is served, with a client trusting Caddy's CA.
async fn caddy_in_front(
    work: &Path,
    forms_port: u16,
    site_port: u16,
    dist: &Path,
    upstream_port: u16,
) -> (Proxy, TlsConnector) {
    let caddy_bin = installed("caddy", &["/usr/bin/caddy"]).expect("caddy is installed");
    let dir = |name: &str| {
        let d = work.join(name);
        std::fs::create_dir_all(&d).unwrap();
        d
    };
    let caddy_log = std::fs::File::create(work.join("caddy.log")).unwrap();
    let (home, xdg_data, xdg_config) = (dir("home"), dir("xdg-data"), dir("xdg-config"));
    let mut caddy = Command::new(caddy_bin);
    caddy
        .args(["run", "--adapter", "caddyfile", "--config"])
        .arg(repo_root().join("deploy/Caddyfile.test"))
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", &home)
        .env("XDG_DATA_HOME", &xdg_data)
        .env("XDG_CONFIG_HOME", &xdg_config)
        .env("HTTP_PORT", free_port().to_string())
        .env("HTTPS_PORT", free_port().to_string())
        .env("FORMS_DOMAIN", format!("https://127.0.0.1:{forms_port}"))
        .env("SITE_PORT", site_port.to_string())
        .env("SITE_ROOT", dist)
        .env("FORMS_UPSTREAM", format!("127.0.0.1:{upstream_port}"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::from(caddy_log));
    let log = work.join("caddy.log");
    let caddy_said = move || std::fs::read_to_string(&log).unwrap_or_default();
    let caddy = Proxy::start(caddy, &[forms_port, site_port], caddy_said);
    let root = xdg_data.join("caddy/pki/authorities/local/root.crt");
    wait_for("Caddy's root certificate", Duration::from_secs(30), || {
        root.is_file().then_some(())
    });
    let tls = trusting(&root);
    // Caddy issues its certificates just after it starts listening.
    wait_for_async(
        "Caddy's certificate for 127.0.0.1",
        Duration::from_secs(30),
        || {
            let tls = tls.clone();
            async move {
                let tcp = tokio::net::TcpStream::connect(("127.0.0.1", forms_port))
                    .await
                    .ok()?;
                let name = ServerName::IpAddress(std::net::Ipv4Addr::LOCALHOST.into());
                tls.connect(name, tcp).await.ok().map(|_| ())
            }
        },
    )
    .await;
    (caddy, tls)
}

/// The shipped Caddyfile tells browsers to use HTTPS only (HSTS) on the service's
/// answers and on its own (the 404 for `/metrics`). No browser needed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shipped_caddyfile_sends_hsts() {
    if installed("caddy", &["/usr/bin/caddy"]).is_none() {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("data");
    let fixture = crate::support::fixture();
    let (forms_port, site_port, upstream_port) = (free_port(), free_port(), free_port());
    let _service = Running::start_with(
        &fixture.join("site.yaml"),
        &fixture.join("dist"),
        &data,
        upstream_port,
        &[],
        &[],
    );
    let (_caddy, tls) = caddy_in_front(
        work.path(),
        forms_port,
        site_port,
        &fixture.join("dist"),
        upstream_port,
    )
    .await;
    for (path, status) in [("/health", 200), ("/metrics", 404)] {
        let head = super::https_head(&tls, forms_port, path).await;
        super::assert_hsts(&head, status);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    missing_chromium,
    ignore = "needs Chromium: apt-get install chromium chromium-driver (see README, Tests)"
)]
async fn behind_caddy_over_https_forms_members_and_per_visitor_limits_work() {
    let Some(generator) = available() else {
        return;
    };
    if installed("caddy", &["/usr/bin/caddy"]).is_none() {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let dir = |name: &str| {
        let d = work.path().join(name);
        std::fs::create_dir_all(&d).unwrap();
        d
    };
    let (dist, data, conf) = (work.path().join("dist"), dir("data"), dir("conf"));
    let (site_port, forms_port, upstream_port) = (free_port(), free_port(), free_port());
    let site = format!("https://127.0.0.1:{site_port}");
    let forms = format!("https://127.0.0.1:{forms_port}");

    build_example(&generator, &dist, &site, &forms);

    // The example's settings, believing Caddy's X-Forwarded-For, with a small burst so
    // one visitor reaches the limit quickly.
    let yaml = std::fs::read_to_string(repo_root().join("site.yaml")).unwrap();
    let config = conf.join("site.yaml");
    std::fs::write(
        &config,
        yaml.replacen(
            "form_service:\n",
            "form_service:\n  trusted_proxies: [127.0.0.1]\n  rate_limit: {per_minute: 1, burst: 8}\n",
            1,
        )
        .replacen("comments:\n", "comments:\n  publish_delay_seconds: 0\n", 1),
    )
    .unwrap();
    std::os::unix::fs::symlink(repo_root().join("content"), conf.join("content")).unwrap();

    let smtp = SmtpServer::start();
    let smtp_url = format!("smtp://127.0.0.1:{}", smtp.port);
    let _service = Running::start_with(
        &config,
        &dist,
        &data,
        upstream_port,
        &["--base-url", &site, "--public-url", &forms],
        &[("SMTP_URL", &smtp_url), ("SMTP_ALLOW_PLAIN", "1")],
    );

    let (_caddy, tls) =
        caddy_in_front(work.path(), forms_port, site_port, &dist, upstream_port).await;
    let caddy_said = || std::fs::read_to_string(work.path().join("caddy.log")).unwrap_or_default();

    // One visitor (127.0.0.2) posting over and over meets the limit; another
    // (127.0.0.3), behind the same proxy, does not: the service keys on the address
    // Caddy forwards. Chromium (127.0.0.1) still has its own eight posts after this.
    for n in 0..8 {
        let status = post_from(
            &tls,
            [127, 0, 0, 2],
            forms_port,
            &site,
            &format!("Flood {n}"),
        )
        .await;
        assert_eq!(
            status,
            303,
            "post {n} from 127.0.0.2 is accepted\n{}",
            caddy_said()
        );
    }
    assert_eq!(
        post_from(&tls, [127, 0, 0, 2], forms_port, &site, "Flood 8").await,
        429,
        "the ninth post from 127.0.0.2 is over its burst"
    );
    assert_eq!(
        post_from(&tls, [127, 0, 0, 3], forms_port, &site, "Another visitor").await,
        303,
        "another visitor behind the same proxy is not limited"
    );
    let mut seen =
        tokio::task::block_in_place(|| smtp.wait_for_messages(9, Duration::from_secs(30))).len();

    let (_driver, c) = chromium_with(&["--ignore-certificate-errors"]).await;

    // A consultation request from a service page, over HTTPS, reaches the staff email.
    c.goto(&format!("{site}/services/scalp-micropigmentation/"))
        .await
        .unwrap();
    request_consultation(
        &c,
        "Ann Proxy",
        "ann.proxy@example.com",
        "video",
        Some("Through Caddy, please."),
    )
    .await;
    wait_for_url(&c, &format!("{site}/consultation/thank-you/")).await;
    let staff = next_mail(&smtp, &mut seen);
    assert_eq!(
        staff.header("subject"),
        "Consultation request: Scalp micropigmentation (SMP) — Ann Proxy"
    );
    assert!(staff.text.contains("Through Caddy, please."));

    // Registration, the emailed link (to the service through Caddy), its button, and the
    // members' page with a Secure, __Host- cookie.
    join(&c, &smtp, &mut seen, &site, &forms).await;

    // Ann, signed in, comments on the SMP page; the staff email's moderation link leads
    // through Caddy, asks her browser (not staff) for the staff sign-in, and once signed
    // in as staff the comment is approved and written for the site.
    let smp = format!("{site}/services/scalp-micropigmentation/");
    c.goto(&smp).await.unwrap();
    fill(&c, "#comment-display-name", "Ann").await;
    fill(&c, "#comment-comment", "Does SMP suit a scarred scalp?").await;
    click(&c, "#comment-publish").await;
    click(&c, "#form-comment button").await;
    wait_for_url(&c, &format!("{site}/comments/thank-you/")).await;
    let moderation = next_mail(&smtp, &mut seen);
    assert!(
        moderation
            .header("subject")
            .starts_with("Comment to moderate: Scalp micropigmentation (SMP) — Ann"),
        "{}",
        moderation.header("subject")
    );
    let approve = link_in(&moderation, "/comments/moderate?token=");
    assert!(approve.starts_with(&format!("{forms}/")), "{approve}");
    sign_in_as_staff_for(&c, &smtp, &mut seen, &forms, &approve).await;
    let page = c.source().await.unwrap();
    assert!(page.contains("Does SMP suit a scarred scalp?"), "{page}");
    press(&c, "Approve and publish").await;
    wait_for_url(&c, &format!("{forms}/comments/moderate")).await;
    let done = c.source().await.unwrap();
    assert!(done.contains("Comment approved"), "{done}");
    // Published once the decision's short debounce has passed.
    wait_for(
        "the approved comment in the site's comments file",
        Duration::from_secs(30),
        || {
            std::fs::read_to_string(data.join("comments.json"))
                .ok()
                .filter(|f| f.contains("Does SMP suit a scarred scalp?"))
        },
    );
    c.close().await.unwrap();
}
