//! A running form service without its listener: settings, database, outbox worker and
//! router state. `serve` puts a server in front of it; tests drive its router directly.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::backup;
use crate::comments::publish;
use crate::http::{app, AppState};
use crate::outbox::{self, Mailer};
use crate::retention;
use crate::settings::Overrides;
use crate::store::{RetryWhich, Store, StoreOptions, WriterThread};
use crate::{Clock, Error, Settings};

/// One acknowledgement per address in this many seconds.
const ACKNOWLEDGEMENT_WINDOW: i64 = 24 * 3600;

/// What `serve` needs to start.
#[derive(Debug, Clone)]
pub struct ServiceOptions {
    /// The site configuration file.
    pub config: PathBuf,
    /// Where the database and `.eml` files live.
    pub data_dir: PathBuf,
    /// Command-line overrides.
    pub overrides: Overrides,
}

/// The service's parts, started.
pub struct Service {
    /// Router state.
    pub state: AppState,
    writer: WriterThread,
    outbox: JoinHandle<()>,
    publisher: JoinHandle<()>,
    backups: Option<JoinHandle<()>>,
    purges: Option<JoinHandle<()>>,
    stop: watch::Sender<bool>,
}

impl Service {
    /// Loads settings and starts with `SMTP_URL` (or `.eml` files) and the real clock.
    pub fn from_options(o: &ServiceOptions) -> Result<Service, Error> {
        let settings = Settings::load(&o.config, o.overrides.clone())?;
        let mailer = Mailer::from_env(&o.data_dir)?;
        Service::start(settings, &o.data_dir, mailer, Clock::default())
    }

    /// Opens the database and starts the outbox worker. Call inside a Tokio runtime.
    pub fn start(
        settings: Settings,
        data_dir: &Path,
        mailer: Mailer,
        clock: Clock,
    ) -> Result<Service, Error> {
        let options = StoreOptions {
            dedupe_seconds: settings.dedupe_window.as_secs() as i64,
            retry_seconds: settings.retry_for.as_secs() as i64,
            acknowledgement_seconds: ACKNOWLEDGEMENT_WINDOW,
        };
        let (store, writer) = Store::open(data_dir, options, clock.clone())?;
        tracing::info!("{}", mailer.describe());
        let (stop, stopped) = watch::channel(false);
        let outbox = outbox::spawn(store.clone(), Arc::new(mailer), stopped.clone());
        let backups = settings
            .backup_dir()
            .zip(settings.site.form_service.backup.as_ref())
            .map(|(dir, b)| {
                let schedule = backup::schedule::Schedule {
                    data_dir: data_dir.to_path_buf(),
                    dir,
                    every: i64::from(b.every_hours) * 3600,
                    keep: i64::from(b.keep_days) * 86_400,
                };
                backup::schedule::spawn(
                    schedule,
                    clock.clone(),
                    store.counters_arc(),
                    stopped.clone(),
                )
            });
        // Retention: one purge now, before the first post is taken, then every day.
        let purges = settings.site.form_service.retention_days.map(|days| {
            let schedule = retention::Schedule {
                data_dir: data_dir.to_path_buf(),
                days,
                confirm_link_hours: settings.loyalty().confirm_link_hours,
            };
            let first = if schedule.run_once(&store) {
                if let Err(e) = store.recount_blocking() {
                    tracing::warn!(error = %e, "recounting the outbox after the purge failed");
                }
                retention::EVERY
            } else {
                retention::RETRY_AFTER
            };
            retention::spawn(schedule, store.clone(), first, stopped.clone())
        });
        let state = AppState::new(settings, store);
        let publisher = publish::spawn(
            state.publisher.clone(),
            Arc::new(state.settings.clone()),
            data_dir.to_path_buf(),
            stopped,
        );
        Ok(Service {
            state,
            writer,
            outbox,
            publisher,
            backups,
            purges,
            stop,
        })
    }

    /// The router, ready for a server or for `oneshot`.
    pub fn router(&self) -> Router {
        app(self.state.clone())
    }

    /// The database handle.
    pub fn store(&self) -> &Store {
        &self.state.store
    }

    /// The "retry now" hook: every waiting email becomes due and the worker wakes.
    pub async fn retry_now(&self) -> Result<usize, Error> {
        self.store().retry_now(RetryWhich::Pending).await
    }

    /// Stops the outbox and waits for the writer to commit what it has. Routers still
    /// alive answer 503 from then on.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.outbox.await;
        let _ = self.publisher.await;
        if let Some(b) = self.backups {
            let _ = b.await;
        }
        if let Some(p) = self.purges {
            let _ = p.await;
        }
        self.state.store.stop_writer().await;
        drop(self.state);
        let writer = self.writer;
        let _ = tokio::task::spawn_blocking(move || writer.join()).await;
    }
}
