//! A real SMTP server for tests: Python's aiosmtpd, saving each message it accepts into
//! a Maildir that the test reads. `.ci/run` installs it (`pip install aiosmtpd`).

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A running aiosmtpd; stopped when dropped.
pub struct SmtpServer {
    child: Child,
    pub port: u16,
    dir: tempfile::TempDir,
}

impl SmtpServer {
    /// Starts on a free port.
    pub fn start() -> SmtpServer {
        Self::start_on(super::free_port())
    }

    /// Starts on `port` and returns once it accepts connections.
    pub fn start_on(port: u16) -> SmtpServer {
        let dir = tempfile::tempdir().unwrap();
        let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
        let child = Command::new(&python)
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(dir.path().join("maildir"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {python}: {e}"));
        let mut server = SmtpServer { child, port, dir };
        super::wait_for("aiosmtpd to listen", Duration::from_secs(20), || {
            if let Ok(Some(status)) = server.child.try_wait() {
                let mut err = String::new();
                if let Some(mut e) = server.child.stderr.take() {
                    use std::io::Read;
                    let _ = e.read_to_string(&mut err);
                }
                panic!(
                    "aiosmtpd exited ({status}): {err}\nInstall it with `pip install aiosmtpd` (.ci/run does)."
                );
            }
            TcpStream::connect(("127.0.0.1", port)).ok().map(|_| ())
        });
        server
    }

    fn maildir(&self) -> PathBuf {
        self.dir.path().join("maildir")
    }

    /// Every message received so far, raw, oldest first.
    pub fn messages(&self) -> Vec<String> {
        let mut files: Vec<(std::time::SystemTime, String, PathBuf)> = Vec::new();
        for sub in ["new", "cur"] {
            if let Ok(entries) = std::fs::read_dir(self.maildir().join(sub)) {
                for e in entries.flatten() {
                    let modified = e
                        .metadata()
                        .and_then(|m| m.modified())
                        .unwrap_or(std::time::UNIX_EPOCH);
                    files.push((modified, e.file_name().to_string_lossy().into(), e.path()));
                }
            }
        }
        files.sort();
        files
            .into_iter()
            .filter_map(|(_, _, p)| std::fs::read_to_string(p).ok())
            .collect()
    }

    /// Waits (bounded) until at least `n` messages arrived, and returns them.
    pub fn wait_for_messages(&self, n: usize, limit: Duration) -> Vec<String> {
        super::wait_for(&format!("{n} message(s) at the SMTP server"), limit, || {
            let m = self.messages();
            (m.len() >= n).then_some(m)
        })
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
