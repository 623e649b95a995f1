//! The built `form-service` binary as a child process, on a free port.

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use super::http::raw;

/// A running `form-service serve`; killed when dropped.
pub struct Running {
    pub child: Child,
    pub addr: SocketAddr,
    /// The service's log (a file, not a pipe: an unread pipe fills and blocks it).
    pub log: tempfile::NamedTempFile,
}

impl Running {
    /// Starts `serve` over the fixture site with `data` and `env`, and waits for
    /// `/health` to answer.
    pub fn start(data: &Path, env: &[(&str, &str)]) -> Running {
        let fixture = super::fixture();
        Self::start_with(
            &fixture.join("site.yaml"),
            &fixture.join("dist"),
            data,
            super::free_port(),
            &[],
            env,
        )
    }

    /// Starts `serve` with this config, generated site, data folder, port, extra
    /// arguments and environment.
    pub fn start_with(
        config: &Path,
        site_dir: &Path,
        data: &Path,
        port: u16,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> Running {
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let log = tempfile::NamedTempFile::new().unwrap();
        let mut cmd = Command::new(super::binary());
        cmd.arg("serve")
            .arg("--config")
            .arg(config)
            .arg("--data-dir")
            .arg(data)
            .arg("--site-dir")
            .arg(site_dir)
            .arg("--listen")
            .arg(addr.to_string())
            .args(args)
            .env_remove("SMTP_URL")
            .env_remove("SMTP_ALLOW_PLAIN")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(log.reopen().unwrap()));
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("form-service starts");
        super::wait_for(
            "form-service to answer /health",
            Duration::from_secs(20),
            || {
                if let Ok(Some(status)) = child.try_wait() {
                    let log = std::fs::read_to_string(log.path()).unwrap_or_default();
                    panic!("form-service exited early: {status}\n{log}");
                }
                raw(
                    addr,
                    b"GET /health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
                )
                .ok()
                .filter(|r| r.status == 200)
            },
        );
        Running { child, addr, log }
    }

    /// SIGKILL: no chance to finish anything.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Sends SIGTERM (as systemd does on `stop`) and returns at once.
    pub fn signal_term(&self) {
        let pid = rustix::process::Pid::from_child(&self.child);
        rustix::process::kill_process(pid, rustix::process::Signal::TERM)
            .expect("SIGTERM reaches the service");
    }

    /// After [`Running::signal_term`]: the exit status and everything logged.
    pub fn terminate_wait(mut self) -> (std::process::ExitStatus, String) {
        let status = self.child.wait().unwrap();
        (status, std::fs::read_to_string(self.log.path()).unwrap())
    }

    /// SIGTERM, then the exit status and everything logged.
    pub fn terminate(mut self) -> (std::process::ExitStatus, String) {
        use rustix::process::{kill_process, Pid, Signal};
        kill_process(Pid::from_child(&self.child), Signal::TERM).expect("send SIGTERM");
        let child = &mut self.child;
        let status = super::wait_for(
            "the service to stop after SIGTERM",
            Duration::from_secs(30),
            || child.try_wait().unwrap(),
        );
        (status, std::fs::read_to_string(self.log.path()).unwrap())
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs a staff command over the fixture config and `data`, as a staff member logged
/// in as `test-staff` (the ledger names the login; without one `--by` is required,
/// and the machine running the tests may have none).
pub fn command(data: &Path, args: &[&str]) -> Output {
    Command::new(super::binary())
        .args(args)
        .arg("--config")
        .arg(super::fixture().join("site.yaml"))
        .arg("--data-dir")
        .arg(data)
        .env("RUST_LOG", "warn")
        .env("USER", "test-staff")
        .output()
        .unwrap()
}
