//! Where mail goes: an SMTP server (`SMTP_URL`), or `.eml` files in the data folder when
//! none is configured, so the service runs out of the box.
//!
//! TLS is the rule: `smtps://` is implicit TLS, `smtp://` is upgraded with STARTTLS and
//! refuses a server that cannot. Plain SMTP happens only with `SMTP_ALLOW_PLAIN=1`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use lettre::address::Envelope;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use crate::store::QueuedMail;
use crate::Error;

/// How long one SMTP conversation may take before it counts as a failure.
const SMTP_TIMEOUT: Duration = Duration::from_secs(20);

/// The way out.
#[derive(Clone)]
pub enum Mailer {
    /// Write each message to `dir/<submission>-<kind>-<id>.eml`.
    Files(PathBuf),
    /// Send with lettre.
    Smtp {
        /// The transport (it keeps a small pool of connections).
        transport: AsyncSmtpTransport<Tokio1Executor>,
        /// `host:port` and mode, for the log (never the password).
        shown: String,
    },
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

impl Mailer {
    /// `SMTP_URL` and `SMTP_ALLOW_PLAIN` from the environment, or files in `data_dir/mail`.
    pub fn from_env(data_dir: &Path) -> Result<Mailer, Error> {
        match std::env::var("SMTP_URL") {
            Ok(url) if !url.trim().is_empty() => {
                let allow_plain = std::env::var("SMTP_ALLOW_PLAIN")
                    .is_ok_and(|v| matches!(v.trim(), "1" | "true" | "yes"));
                Mailer::smtp(url.trim(), allow_plain)
            }
            _ => Ok(Mailer::files(data_dir)),
        }
    }

    /// `.eml` files under `data_dir/mail`.
    pub fn files(data_dir: &Path) -> Mailer {
        Mailer::Files(data_dir.join("mail"))
    }

    /// An SMTP transport from a URL such as `smtps://user:pass@mail.example:465`.
    pub fn smtp(url: &str, allow_plain: bool) -> Result<Mailer, Error> {
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| Error::Setting("SMTP_URL must start with smtp:// or smtps://".into()))?;
        let tls = rest
            .split_once('?')
            .and_then(|(_, q)| q.split('&').find_map(|kv| kv.strip_prefix("tls=")));
        let (url, mode) = match (scheme, tls) {
            ("smtps", _) => (url.to_string(), "implicit TLS"),
            ("smtp", Some("required")) => (url.to_string(), "STARTTLS"),
            ("smtp", None) if allow_plain => (url.to_string(), "plain (SMTP_ALLOW_PLAIN)"),
            ("smtp", None) => {
                let sep = if rest.contains('?') { '&' } else { '?' };
                (format!("{url}{sep}tls=required"), "STARTTLS")
            }
            ("smtp", Some("opportunistic")) if allow_plain => {
                (url.to_string(), "STARTTLS when offered (SMTP_ALLOW_PLAIN)")
            }
            _ => {
                return Err(Error::Setting(format!(
                    "SMTP_URL: use smtps:// (implicit TLS) or smtp:// (STARTTLS); \
                     plain or opportunistic SMTP needs SMTP_ALLOW_PLAIN=1 (got scheme `{scheme}`, tls={tls:?})"
                )))
            }
        };
        let host = rest
            .rsplit_once('@')
            .map_or(rest, |(_, h)| h)
            .split(['/', '?'])
            .next()
            .unwrap_or("");
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(&url)
            .map_err(|e| Error::Setting(format!("SMTP_URL: {e}")))?
            .timeout(Some(SMTP_TIMEOUT))
            .build();
        Ok(Mailer::Smtp {
            transport,
            shown: format!("SMTP {host} ({mode})"),
        })
    }

    /// For the log: where mail goes.
    pub fn describe(&self) -> String {
        match self {
            Mailer::Files(dir) => format!(
                "no SMTP_URL set: emails are written as .eml files to {}",
                dir.display()
            ),
            Mailer::Smtp { shown, .. } => format!("emails are sent by {shown}"),
        }
    }

    /// Delivers a chunk of queued emails; each comes back with its outcome, an error
    /// being the server's or the file system's words.
    pub async fn send_all(
        self: &Arc<Self>,
        mails: Vec<QueuedMail>,
    ) -> Vec<(QueuedMail, Result<(), Failure>)> {
        match &**self {
            Mailer::Files(dir) => {
                let dir = dir.clone();
                let n = mails.len();
                tokio::task::spawn_blocking(move || write_files(&dir, mails))
                    .await
                    .unwrap_or_else(|e| {
                        tracing::error!(error = %e, emails = n, "writing .eml files panicked");
                        Vec::new()
                    })
            }
            Mailer::Smtp { .. } => {
                // Side by side, through lettre's small pool of connections.
                let mut sending = tokio::task::JoinSet::new();
                for m in mails {
                    let mailer = self.clone();
                    sending.spawn(async move {
                        let outcome = mailer.send_smtp(&m).await;
                        (m, outcome)
                    });
                }
                let mut done = Vec::with_capacity(sending.len());
                while let Some(r) = sending.join_next().await {
                    match r {
                        Ok(pair) => done.push(pair),
                        Err(e) => {
                            tracing::error!(error = %e, "a send task failed; it will be retried")
                        }
                    }
                }
                done
            }
        }
    }

    async fn send_smtp(&self, m: &QueuedMail) -> Result<(), Failure> {
        let Mailer::Smtp { transport, .. } = self else {
            return Err(Failure::temporary("not an SMTP mailer"));
        };
        let from = m
            .envelope_from
            .parse()
            .map_err(|e| Failure::permanent(format!("sender: {e}")))?;
        let to = m
            .envelope_to
            .parse()
            .map_err(|e| Failure::permanent(format!("recipient: {e}")))?;
        let envelope =
            Envelope::new(Some(from), vec![to]).map_err(|e| Failure::permanent(e.to_string()))?;
        transport
            .send_raw(&envelope, &m.message)
            .await
            .map(|_| ())
            .map_err(|e| Failure {
                // A 5xx answer: the server will not take this message, ever.
                permanent: e.is_permanent(),
                error: without_addresses(&e.to_string()),
            })
    }
}

/// Why an email was not delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The server's or the file system's words, with any email address taken out.
    pub error: String,
    /// True when retrying cannot help (an SMTP 5xx answer, an address that is not one).
    pub permanent: bool,
}

impl Failure {
    fn temporary(error: impl Into<String>) -> Failure {
        Failure {
            error: without_addresses(&error.into()),
            permanent: false,
        }
    }

    fn permanent(error: impl Into<String>) -> Failure {
        Failure {
            error: without_addresses(&error.into()),
            permanent: true,
        }
    }
}

/// `error` with every word that holds an `@` replaced by `[address]`: mail servers
/// quote the recipient in their refusals (`550 5.1.1 <ann@example.com>: no such
/// user`), and these words go to the log and to `outbox list`.
pub fn without_addresses(error: &str) -> String {
    let boundary = |c: char| c.is_whitespace() || "<>()[],;:\"'".contains(c);
    let mut out = String::with_capacity(error.len());
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        if word.contains('@') {
            out.push_str("[address]");
        } else {
            out.push_str(word);
        }
        word.clear();
    };
    for c in error.chars() {
        if boundary(c) {
            flush(&mut word, &mut out);
            out.push(c);
        } else {
            word.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

/// Threads that wait on fsyncs together for one chunk of `.eml` files.
const SYNC_THREADS: usize = 8;

/// Writes each message durably as `<submission>-<kind>-<id>.eml`: a temporary file,
/// synced, then renamed into place, so a reader never sees half a message.
///
/// The files are created one after another (creating them from many threads at once
/// made them queue on the folder's lock, spinning, and cost more CPU than the service's
/// own work), then synced from a few threads, since the disk serves concurrent fsyncs
/// together and one after another they take a millisecond or more each.
fn write_files(dir: &Path, mails: Vec<QueuedMail>) -> Vec<(QueuedMail, Result<(), Failure>)> {
    use std::io::Write;
    if let Err(e) = crate::private::create_dir(dir) {
        let e = e.to_string();
        return mails
            .into_iter()
            .map(|m| (m, Err(Failure::temporary(e.clone()))))
            .collect();
    }
    let written: Vec<(QueuedMail, PathBuf, std::io::Result<std::fs::File>)> = mails
        .into_iter()
        .map(|m| {
            let tmp = dir.join(format!(".{}.tmp", file_name(&m)));
            let file = crate::private::new_file(&tmp).and_then(|mut f| {
                f.write_all(&m.message)?;
                Ok(f)
            });
            (m, tmp, file)
        })
        .collect();
    let synced: Vec<std::io::Result<()>> = std::thread::scope(|scope| {
        let per_thread = written.len().div_ceil(SYNC_THREADS).max(1);
        let workers: Vec<_> = written
            .chunks(per_thread)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|(_, _, file)| match file {
                            Ok(f) => f.sync_all(),
                            Err(e) => Err(std::io::Error::new(e.kind(), e.to_string())),
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| {
                w.join()
                    .unwrap_or_else(|_| vec![Err(std::io::Error::other("fsync thread panicked"))])
            })
            .collect()
    });
    written
        .into_iter()
        .zip(synced.into_iter().chain(std::iter::repeat_with(|| {
            Err(std::io::Error::other("not synced"))
        })))
        .map(|((m, tmp, _), synced)| {
            let outcome = synced
                .and_then(|()| std::fs::rename(&tmp, dir.join(file_name(&m))))
                .map_err(|e| Failure::temporary(e.to_string()));
            (m, outcome)
        })
        .collect()
}

fn file_name(m: &QueuedMail) -> String {
    format!(
        "{}-{}-{}.eml",
        m.submission.as_deref().unwrap_or("mail"),
        m.kind,
        m.id
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_smtp_needs_to_be_allowed() {
        let m = Mailer::smtp("smtp://mail.example:587", false).unwrap();
        assert!(m.describe().contains("STARTTLS"), "{}", m.describe());
        let m = Mailer::smtp("smtp://u:p@mail.example:25", true).unwrap();
        assert!(m.describe().contains("plain"), "{}", m.describe());
        assert!(!m.describe().contains("u:p"), "no credentials in the log");
        let m = Mailer::smtp("smtps://mail.example", false).unwrap();
        assert!(m.describe().contains("implicit TLS"));
        assert!(Mailer::smtp("smtp://mail.example?tls=opportunistic", false).is_err());
        assert!(Mailer::smtp("http://mail.example", true).is_err());
    }

    #[test]
    fn addresses_leave_error_texts() {
        assert_eq!(
            without_addresses("550 5.1.1 <ann.lee+x@example.com>: Recipient address rejected"),
            "550 5.1.1 <[address]>: Recipient address rejected"
        );
        assert_eq!(
            without_addresses("permanent error (550): ann@example.com unknown"),
            "permanent error (550): [address] unknown"
        );
        assert_eq!(
            without_addresses("421 busy, try later"),
            "421 busy, try later"
        );
    }
}
