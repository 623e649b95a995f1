//! `form-service check [--smtp]`: every setting `serve` would refuse, reported at once
//! with its file and line; with `--smtp`, a connection to the mail server that says
//! whether TLS and the login work, sending nothing.

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
            out.push_str(&format!("backups: into {}\n", dir.display()));
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

/// Opens one SMTP conversation (TLS and login as `SMTP_URL` says) and closes it.
fn probe(m: &Mailer) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(m.test_connection())
}
