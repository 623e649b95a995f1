//! Behind nginx with the shipped `deploy/nginx.conf` as it is, but for its ports, the
//! certificate (one the test makes for 127.0.0.1) and the upstream's port: nginx's
//! default proxy settings rewrite `Host` to the upstream's address, and the service's
//! own pages keep working, over HTTPS, with `Secure` cookies.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::{join, sign_in_as_staff_for, Proxy};
use crate::support::bin::Running;
use crate::support::browser::{available, build_example, chromium_with, repo_root};
use crate::support::http::raw;
use crate::support::smtp::SmtpServer;
use crate::support::{free_port, installed};

/// Where the shipped server blocks are put on a test machine.
struct Ports {
    https: u16,
    http: u16,
    upstream: u16,
}

/// `deploy/nginx.conf` with the test's ports, certificate and access log; every other
/// line as shipped. Fails if the file no longer has a line the test changes, so the test and
/// the example cannot drift apart.
fn shipped_conf(ports: &Ports, cert: &Path, key: &Path) -> String {
    let mut conf = std::fs::read_to_string(repo_root().join("deploy/nginx.conf")).unwrap();
    for (from, to) in [
        (
            "listen 443 ssl http2;".to_string(),
            format!("listen 127.0.0.1:{} ssl http2;", ports.https),
        ),
        (
            "listen 80;".to_string(),
            format!("listen 127.0.0.1:{};", ports.http),
        ),
        (
            "/etc/letsencrypt/live/forms.clinic.example/fullchain.pem".to_string(),
            cert.display().to_string(),
        ),
        (
            "/etc/letsencrypt/live/forms.clinic.example/privkey.pem".to_string(),
            key.display().to_string(),
        ),
        (
            "proxy_pass http://127.0.0.1:3000;".to_string(),
            format!("proxy_pass http://127.0.0.1:{};", ports.upstream),
        ),
        (
            // In the test's folder, beside the certificate, not the machine's /var/log.
            "/var/log/nginx/forms.access.log".to_string(),
            cert.with_file_name("forms.access.log")
                .display()
                .to_string(),
        ),
        (
            "/var/log/nginx/forms.error.log".to_string(),
            cert.with_file_name("forms.error.log").display().to_string(),
        ),
    ] {
        assert!(
            conf.contains(&from),
            "deploy/nginx.conf no longer says {from:?}: update this test with it"
        );
        conf = conf.replace(&from, &to);
    }
    // The test machine's loopback may have no IPv6.
    conf.lines()
        .filter(|l| !l.trim_start().starts_with("listen [::]"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A certificate for 127.0.0.1 in `prefix`, as certbot would leave one for the real
/// name: the certificate's file and its key's.
fn certificate(prefix: &Path) -> (PathBuf, PathBuf) {
    let made = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).unwrap();
    let (cert, key) = (prefix.join("fullchain.pem"), prefix.join("privkey.pem"));
    std::fs::write(&cert, made.cert.pem()).unwrap();
    std::fs::write(&key, made.signing_key.serialize_pem()).unwrap();
    (cert, key)
}

/// nginx with its own files in `prefix`, serving the shipped server blocks and `more`
/// (other lines of the `http` block), until dropped; started once it listens on
/// `ports.https`, `ports.http` and `more_ports`.
fn start_nginx(
    bin: &Path,
    prefix: &Path,
    ports: &Ports,
    (cert, key): (&Path, &Path),
    more: &str,
    more_ports: &[u16],
) -> Proxy {
    let p = prefix.display();
    let conf = prefix.join("nginx.conf");
    std::fs::write(
        &conf,
        format!(
            "daemon off;\npid {p}/nginx.pid;\nerror_log {p}/logs/error.log;\nevents {{}}\n\
             http {{\n  access_log off;\n  client_body_temp_path {p}/body;\n  proxy_temp_path {p}/proxy;\n\
             fastcgi_temp_path {p}/fastcgi;\n  uwsgi_temp_path {p}/uwsgi;\n  scgi_temp_path {p}/scgi;\n\
             {more}\n{}\n}}\n",
            shipped_conf(ports, cert, key)
        ),
    )
    .unwrap();
    let mut nginx = Command::new(bin);
    nginx
        .arg("-p")
        .arg(prefix)
        .arg("-c")
        .arg(&conf)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let error_log = || std::fs::read_to_string(prefix.join("logs/error.log")).unwrap_or_default();
    let listening: Vec<u16> = [ports.https, ports.http]
        .into_iter()
        .chain(more_ports.iter().copied())
        .collect();
    Proxy::start(nginx, &listening, error_log)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    missing_chromium,
    ignore = "needs Chromium: apt-get install chromium chromium-driver (see README, Tests)"
)]
async fn behind_the_shipped_nginx_conf_the_services_own_pages_work_over_https() {
    let Some(generator) = available() else {
        return;
    };
    let Some(nginx_bin) = installed("nginx", &["/usr/sbin/nginx"]) else {
        return;
    };
    let work = tempfile::tempdir().unwrap();
    let (dist, data, prefix) = (
        work.path().join("dist"),
        work.path().join("data"),
        work.path().join("nginx"),
    );
    std::fs::create_dir_all(prefix.join("logs")).unwrap();
    let ports = Ports {
        https: free_port(),
        http: free_port(),
        upstream: free_port(),
    };
    let site_port = free_port();
    let site = format!("https://127.0.0.1:{site_port}");
    let forms = format!("https://127.0.0.1:{}", ports.https);
    build_example(&generator, &dist, &site, &forms);

    let (cert, key) = certificate(&prefix);

    let smtp = SmtpServer::start();
    let smtp_url = format!("smtp://127.0.0.1:{}", smtp.port);
    let _service = Running::start_with(
        &repo_root().join("site.yaml"),
        &dist,
        &data,
        ports.upstream,
        &["--base-url", &site, "--public-url", &forms],
        &[("SMTP_URL", &smtp_url), ("SMTP_ALLOW_PLAIN", "1")],
    );

    // The site served beside the shipped server blocks (most clinics use a CDN for it).
    let (d, c, k) = (dist.display(), cert.display(), key.display());
    let site_server = format!(
        "include /etc/nginx/mime.types;\n\
         server {{ listen 127.0.0.1:{site_port} ssl; ssl_certificate {c}; ssl_certificate_key {k}; root {d}; }}"
    );
    let _nginx = start_nginx(
        &nginx_bin,
        &prefix,
        &ports,
        (&cert, &key),
        &site_server,
        &[site_port],
    );

    // Plain HTTP is sent to HTTPS, as shipped.
    let answer = tokio::task::block_in_place(|| {
        raw(
            ([127, 0, 0, 1], ports.http).into(),
            b"GET /members/ HTTP/1.1\r\nHost: forms.clinic.example\r\nConnection: close\r\n\r\n",
        )
    })
    .unwrap();
    assert_eq!(answer.status, 301, "{}", answer.head);
    assert!(
        answer
            .head
            .contains("Location: https://forms.clinic.example/members/"),
        "{}",
        answer.head
    );

    // Joining by the emailed link, its page and button, the members' page and its
    // Secure cookie: all pages of the service's own, with Host rewritten by nginx.
    let (_driver, c) = chromium_with(&["--ignore-certificate-errors"]).await;
    let mut seen = 0;
    join(&c, &smtp, &mut seen, &site, &forms).await;

    // A staff link from an email, through nginx: the staff sign-in and back.
    let url = format!("{forms}/staff/");
    sign_in_as_staff_for(&c, &smtp, &mut seen, &forms, &url).await;
    let page = c.source().await.unwrap();
    assert!(page.contains(super::STAFF), "signed in as staff: {page}");
    c.close().await.unwrap();
}

/// The shipped server block tells browsers to use HTTPS only (HSTS) on every HTTPS
/// answer, the service's and nginx's own (the 404 for `/metrics`: `always`). No
/// browser needed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shipped_nginx_conf_sends_hsts_on_every_https_answer() {
    let Some(nginx_bin) = installed("nginx", &["/usr/sbin/nginx"]) else {
        return;
    };
    let work = tempfile::tempdir().unwrap();
    let prefix = work.path().join("nginx");
    std::fs::create_dir_all(prefix.join("logs")).unwrap();
    let ports = Ports {
        https: free_port(),
        http: free_port(),
        upstream: free_port(),
    };
    let (cert, key) = certificate(&prefix);
    let fixture = crate::support::fixture();
    let _service = Running::start_with(
        &fixture.join("site.yaml"),
        &fixture.join("dist"),
        &work.path().join("data"),
        ports.upstream,
        &[],
        &[],
    );
    let _nginx = start_nginx(&nginx_bin, &prefix, &ports, (&cert, &key), "", &[]);
    let tls = super::caddy::trusting(&cert);
    for (path, status) in [("/health", 200), ("/metrics", 404)] {
        let head = super::https_head(&tls, ports.https, path).await;
        super::assert_hsts(&head, status);
    }
}
