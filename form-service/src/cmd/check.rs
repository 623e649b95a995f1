//! `form-service check [--smtp]`: every setting `serve` would refuse, reported at once
//! with its file and line (and a backup folder this user could not create or write);
//! with `--smtp`, a connection to the mail server that says whether TLS and the login
//! work, sending nothing.

use crate::error::Setting;
use std::path::Path;

use crate::outbox::Mailer;
use crate::settings::Overrides;
use crate::{Error, Settings};

pub(super) fn run(config: &Path, data_dir: &Path, smtp: bool) -> Result<(), Error> {
    let mut problems = Vec::new();
    let settings = match Settings::load(config, Overrides::default()) {
        Ok(s) => Some(s),
        Err(Error::Config(e)) => {
            for d in e.into_diagnostics().0 {
                problems.push(d.to_string());
            }
            None
        }
        Err(e) => {
            problems.push(format!("{}: {e}", config.display()));
            None
        }
    };
    let mailer = match Mailer::from_env(data_dir) {
        Ok(m) => Some(m),
        Err(e) => {
            problems.push(format!("environment: {e}"));
            None
        }
    };
    let mut out = String::new();
    if let Some(s) = &settings {
        out.push_str(&format!(
            "{}: {} form(s), {} service(s); posts accepted from {}\n",
            config.display(),
            s.site.forms.len(),
            s.services.len(),
            s.allowed_origins.join(", ")
        ));
        if let Some(dir) = s.backup_dir() {
            match writable(&dir) {
                Ok(()) => out.push_str(&format!("backups: into {} (writable)\n", dir.display())),
                Err(e) => problems.push(backup_dir_problem(config, &dir, &e)),
            }
        }
    }
    if let Some(m) = &mailer {
        out.push_str(&format!("mail: {}\n", m.describe()));
        if smtp {
            match m {
                Mailer::Files(_) => {
                    problems.push("--smtp: SMTP_URL is not set, so there is no mail server to try".into())
                }
                Mailer::Smtp { .. } => match probe(m) {
                    Ok(()) => out.push_str(
                        "mail server: connected, TLS and login accepted (as configured); nothing was sent\n",
                    ),
                    Err(e) => problems.push(format!("mail server: {e}")),
                },
            }
        }
    }
    super::print(&out)?;
    if problems.is_empty() {
        super::print("ok: serve would start with these settings\n")
    } else {
        for p in &problems {
            eprintln!("error: {p}");
        }
        Err(Setting::Problems(problems.len()).into())
    }
}

/// Whether this user can create `dir` (and the folders above it that are missing) and
/// write in it, as scheduled backups will: a probe folder is made in the nearest folder
/// that exists, or a probe file in `dir`, and removed at once. Nothing is left behind,
/// not even `dir` itself.
fn writable(dir: &Path) -> std::io::Result<()> {
    // The nearest folder that exists: `dir`, or the one the missing ones go in.
    let mut at = dir;
    while !at.try_exists()? {
        if at == Path::new(".") {
            return Err(std::io::ErrorKind::NotFound.into());
        }
        at = match at.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
    }
    if !at.is_dir() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::NotADirectory,
            format!("{} is not a folder", at.display()),
        ));
    }
    let probe = at.join(format!(".form-service-check-{}", std::process::id()));
    if at == dir {
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&probe)?;
        std::fs::remove_file(&probe)
    } else {
        std::fs::create_dir(&probe)?;
        std::fs::remove_dir(&probe)
    }
}

/// `site.yaml:LINE:COL: backup.dir: ...`, at the setting, like every other bad setting.
fn backup_dir_problem(config: &Path, dir: &Path, e: &std::io::Error) -> String {
    let shown = config.file_name().map_or(config, Path::new);
    let uid = rustix::process::getuid().as_raw();
    let mut d = site_config::Diagnostic::new(
        shown,
        format!(
            "backup.dir: {} cannot be created or written by this user (uid {uid}): {e}",
            dir.display()
        ),
    )
    .with_hint(
        "under the systemd unit only /var/lib/form-service is writable: use \
         /var/lib/form-service/backups (or add the folder to ReadWritePaths=, owned by the \
         service's user)",
    );
    let src = std::fs::read_to_string(config).unwrap_or_default();
    if let Some((l, c)) = site_config::locate_key(&src, &["form_service", "backup", "dir"])
        .or_else(|| site_config::locate_key(&src, &["form_service", "backup"]))
    {
        d = d.at(l, c);
    }
    d.to_string()
}

/// Opens one SMTP conversation (TLS and login as `SMTP_URL` says) and closes it.
fn probe(m: &Mailer) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(m.test_connection())
}
