//! `form-service serve`: load, start, listen, and stop cleanly on Ctrl-C or SIGTERM.

use std::net::SocketAddr;
use std::path::Path;

use crate::server;
use crate::settings::Overrides;
use crate::{Error, Service, ServiceOptions};

pub(super) fn run(
    config: &Path,
    data_dir: &Path,
    listen: SocketAddr,
    overrides: Overrides,
) -> Result<(), Error> {
    let options = ServiceOptions {
        config: config.to_path_buf(),
        data_dir: data_dir.to_path_buf(),
        overrides,
    };
    let runtime = tokio::runtime::Runtime::new().map_err(|e| Error::io("tokio runtime", e))?;
    runtime.block_on(async {
        let service = Service::from_options(&options)?;
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|e| Error::io(listen.to_string(), e))?;
        let s = &service.state.settings;
        tracing::info!(
            address = %server::bound(&listener).unwrap_or(listen),
            forms = ?s.site.forms.keys().collect::<Vec<_>>(),
            services = s.services.len(),
            origins = ?s.allowed_origins,
            data_dir = %data_dir.display(),
            "form service listening"
        );
        if !s.site_dir.join("404.html").exists() {
            tracing::warn!(
                site_dir = %s.site_dir.display(),
                "no generated site found; error pages will use the plain built-in layout"
            );
        }
        let limits = server::Limits {
            exempt: s.trusted_proxies.clone(),
            ..server::Limits::default()
        };
        server::serve_with(
            listener,
            service.router(),
            server::shutdown_signal(),
            limits,
        )
        .await;
        tracing::info!("stopping: finishing the last commits");
        service.stop().await;
        Ok(())
    })
}
