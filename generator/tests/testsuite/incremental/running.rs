//! A `generator build` run in the background with its phase timings on, so that a test
//! can act between two of its phases: hold a lock, edit a page, kill it.

use std::io::{BufRead, BufReader};
use std::process::{Child, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use crate::site_test::{bin, SiteTest};

/// A `generator build` under way, with phase timings on; killed if a test gives up on it.
pub(super) struct Running {
    child: Child,
    /// Its standard error, line by line.
    lines: Receiver<String>,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Half the minute a build waits for a spare: what these builds are given to get on.
const WAIT: Duration = Duration::from_secs(30);

impl Running {
    pub(super) fn start(t: &SiteTest) -> Running {
        let mut child = bin()
            .arg("build")
            .current_dir(t.root())
            .env("GENERATOR_TIMINGS", "1")
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = BufReader::new(child.stderr.take().unwrap());
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in stderr.lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Running { child, lines }
    }

    /// Reads standard error until a line starts with `prefix`, for at most [`WAIT`].
    pub(super) fn read_until(&self, prefix: &str) {
        let deadline = Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if line.starts_with(prefix) => return,
                Ok(_) => {}
                Err(_) => panic!("the build did not print `{prefix}` (it waited, or ended)"),
            }
        }
    }

    /// Reads `n` phase timings from standard error, or fewer if the build ends first;
    /// at most [`WAIT`] in all.
    pub(super) fn read_phases(&self, n: usize) {
        let deadline = Instant::now() + WAIT;
        let mut read = 0;
        while read < n {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if line.starts_with("timing: ") => read += 1,
                Ok(_) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => return,
                Err(mpsc::RecvTimeoutError::Timeout) => panic!("the build did not get on"),
            }
        }
    }

    /// Whether it is still under way.
    pub(super) fn running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    /// Stops it at once, as a crash or a power cut would.
    pub(super) fn kill(self) {
        // Dropping it kills it, and waits.
        drop(self);
    }

    /// Waits for it to end, at most [`WAIT`]: whether it succeeded, and the rest of
    /// its standard error.
    pub(super) fn finish(self) -> (bool, Vec<String>) {
        let (status, rest) = self.finish_status();
        (status.success(), rest)
    }

    /// Waits for it to end, at most [`WAIT`]: how it ended, and the rest of its
    /// standard error.
    pub(super) fn finish_status(mut self) -> (ExitStatus, Vec<String>) {
        let deadline = Instant::now() + WAIT;
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(Instant::now() < deadline, "the build did not end");
            std::thread::sleep(Duration::from_millis(20));
        };
        let mut rest = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => rest.push(line),
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    panic!("the build's standard error stayed open after it ended")
                }
            }
        }
        (status, rest)
    }
}
