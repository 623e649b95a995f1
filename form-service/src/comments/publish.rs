//! Publishing approved comments: write the comments file the generator reads, then run
//! the site's publish command (`comments.publish_command`, for example
//! `generator build && <upload>`), from the site root.
//!
//! The service asks for a publish after each decision; [`spawn`] waits until changes
//! have stopped for `publish_delay_seconds`, never runs two at once (a lock file also
//! keeps the staff commands out), logs the command's output, and retries a failure
//! with growing pauses before reporting it as failed.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;

use crate::{Error, Settings};

/// Tries before a failed publish is reported and left for staff.
const ATTEMPTS: u32 = 5;

/// The comments file in a data folder.
pub fn comments_file(data_dir: &Path) -> PathBuf {
    data_dir.join("comments.json")
}

/// What one publish did.
#[derive(Debug, Clone, Default)]
pub struct Published {
    /// Comments in the file.
    pub comments: usize,
    /// The command's output (stdout then stderr), when one ran.
    pub output: Option<String>,
}

/// Writes the comments file and runs the publish command, holding the publish lock.
/// Reads through a connection of its own, closed before the command runs, so a long
/// build holds up no request. Blocking: call it from a blocking thread or a command.
pub fn publish_blocking(s: &Settings, data_dir: &Path) -> Result<Published, Error> {
    crate::private::create_dir(data_dir)?;
    let lock_path = data_dir.join("publish.lock");
    let lock = crate::private::new_file(&lock_path).map_err(|e| Error::io(&lock_path, e))?;
    lock.lock().map_err(|e| Error::io(&lock_path, e))?;
    let day = |at: i64| {
        jiff::Timestamp::from_second(at).map_or_else(
            |_| at.to_string(),
            |t| t.to_zoned_datetime(s.tz.clone()).date().to_string(),
        )
    };
    let file = super::export(&crate::store::schema::open(data_dir)?, &day)?;
    let path = comments_file(data_dir);
    file.save(&path).map_err(|e| Error::io(&path, e))?;
    let mut out = Published {
        comments: file.comments.len(),
        output: None,
    };
    if let Some(cmd) = s.site.comments.publish_command.as_deref() {
        let run = command(s, cmd, &path)
            .output()
            .map_err(|e| Error::io("sh", e))?;
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&run.stdout),
            String::from_utf8_lossy(&run.stderr)
        );
        if !run.status.success() {
            return Err(Error::Publish(format!(
                "`{cmd}` failed ({}):\n{}",
                run.status,
                text.trim_end()
            )));
        }
        out.output = Some(text);
    }
    drop(lock);
    Ok(out)
}

/// The publish command with a clean environment: `PATH`, `HOME`, an absolute
/// `COMMENTS_FILE`, and the variables `comments.publish_env` names. The service's own
/// environment holds secrets (`SMTP_URL`, issue 13 item 17) that a site build must not see.
fn command(s: &Settings, cmd: &str, comments_file: &Path) -> Command {
    let mut c = Command::new("sh");
    c.arg("-c").arg(cmd).current_dir(&s.root).env_clear();
    let path = std::env::var_os("PATH").unwrap_or_else(|| "/usr/local/bin:/usr/bin:/bin".into());
    c.env("PATH", path);
    if let Some(home) = std::env::var_os("HOME") {
        c.env("HOME", home);
    }
    let file = std::path::absolute(comments_file).unwrap_or_else(|_| comments_file.to_path_buf());
    c.env("COMMENTS_FILE", file);
    for name in &s.site.comments.publish_env {
        if let Some(v) = std::env::var_os(name) {
            c.env(name, v);
        }
    }
    c
}

/// Asks the publisher to publish soon; cheap, and many asks make one publish.
#[derive(Debug, Clone, Default)]
pub struct Publisher(Arc<Notify>);

impl Publisher {
    /// Asks for a publish.
    pub fn request(&self) {
        self.0.notify_one();
    }
}

/// Starts the publisher; it stops when `shutdown` turns true.
pub fn spawn(
    publisher: Publisher,
    settings: Arc<Settings>,
    data_dir: PathBuf,
    mut shutdown: watch::Receiver<bool>,
) -> JoinHandle<()> {
    let delay = Duration::from_secs(u64::from(settings.site.comments.publish_delay_seconds));
    tokio::spawn(async move {
        loop {
            if *shutdown.borrow() {
                return;
            }
            tokio::select! {
                _ = publisher.0.notified() => {}
                _ = shutdown.changed() => return,
            }
            // Quiet for `delay` before publishing: a run of approvals publishes once.
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(delay) => break,
                    _ = publisher.0.notified() => continue,
                    _ = shutdown.changed() => break,
                }
            }
            for attempt in 1..=ATTEMPTS {
                let (s, dir) = (settings.clone(), data_dir.clone());
                let result = tokio::task::spawn_blocking(move || publish_blocking(&s, &dir))
                    .await
                    .unwrap_or_else(|e| Err(Error::Publish(e.to_string())));
                match result {
                    Ok(p) => {
                        tracing::info!(comments = p.comments, "comments published");
                        for line in p.output.iter().flat_map(|o| o.lines()) {
                            tracing::info!(target: "publish", "{line}");
                        }
                        break;
                    }
                    Err(e) if attempt == ATTEMPTS => {
                        tracing::error!(error = %e, attempts = attempt,
                            "PUBLISH FAILED: approved comments are not on the site; fix the command, then run `form-service comments publish`");
                    }
                    Err(e) => {
                        let pause = Duration::from_secs(15 << attempt);
                        tracing::warn!(error = %e, attempt, retry_in_seconds = pause.as_secs(), "publish failed; will retry");
                        tokio::select! {
                            _ = tokio::time::sleep(pause) => {}
                            _ = shutdown.changed() => return,
                        }
                    }
                }
            }
        }
    })
}
