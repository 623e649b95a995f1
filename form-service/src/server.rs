//! Serving the app on a TCP listener with the timeouts `axum::serve` does not set.
//!
//! hyper's HTTP/1 connection gets a header-read timeout (a client that sends headers a
//! byte at a time is cut off), a silent new connection is closed, one client address
//! holds a bounded number of connections, and every request carries its peer address
//! for the rate limiter. On shutdown, connections finish what they are doing, up to a limit.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;

/// Time allowed for a request's headers (also the idle keep-alive limit: hyper starts
/// this timer while it waits for the next request on a kept-alive connection).
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// Time a new connection may stay silent before its first byte.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(10);
/// Time open connections get to finish after shutdown is asked for.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);
/// Connections served at once; more wait in the kernel's accept queue.
pub const MAX_CONNECTIONS: usize = 2048;
/// Connections one client address may hold open at once: a browser opens six, a
/// household or office a few dozen. More are closed at once, so one client holding
/// thousands of idle sockets cannot use up [`MAX_CONNECTIONS`] (issue 13, item 15).
pub const MAX_PER_CLIENT: usize = 64;

/// How many connections the server keeps, and for how long.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Time allowed for a request's headers, and between requests on one connection.
    pub header_timeout: Duration,
    /// Time a new connection may stay silent.
    pub idle_timeout: Duration,
    /// Connections at once.
    pub total: usize,
    /// Connections at once from one client address (IPv6 by /64).
    pub per_client: usize,
    /// Addresses with no per-client cap: the reverse proxies in front, whose one
    /// address carries every visitor (`form_service.trusted_proxies`).
    pub exempt: Vec<IpAddr>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_timeout: HEADER_TIMEOUT,
            idle_timeout: IDLE_TIMEOUT,
            total: MAX_CONNECTIONS,
            per_client: MAX_PER_CLIENT,
            exempt: Vec::new(),
        }
    }
}

/// Serves `app` until `shutdown` resolves, then drains open connections.
pub async fn serve(listener: TcpListener, app: Router, shutdown: impl Future<Output = ()>) {
    serve_with(listener, app, shutdown, Limits::default()).await
}

/// Open connections per client address.
#[derive(Default)]
struct PerClient(Mutex<HashMap<IpAddr, usize>>);

/// One connection counted in [`PerClient`]; uncounted when dropped.
struct Counted {
    clients: Arc<PerClient>,
    key: IpAddr,
}

impl PerClient {
    fn enter(self: &Arc<Self>, ip: IpAddr, cap: usize) -> Option<Counted> {
        let key = crate::http::guard::limit_key(ip);
        let mut open = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let n = open.entry(key).or_insert(0);
        if *n >= cap {
            return None;
        }
        *n += 1;
        Some(Counted {
            clients: self.clone(),
            key,
        })
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        let mut open = self.clients.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = open.get_mut(&self.key) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.key);
            }
        }
    }
}

/// [`serve`] with other limits (tests use small ones).
pub async fn serve_with(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()>,
    limits: Limits,
) {
    let graceful = GracefulShutdown::new();
    let slots = Arc::new(Semaphore::new(limits.total));
    let clients = Arc::new(PerClient::default());
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            p = slots.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => break },
            _ = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let counted = if limits.exempt.contains(&peer.ip()) {
            None
        } else {
            match clients.enter(peer.ip(), limits.per_client) {
                Some(c) => Some(c),
                None => {
                    // Closed at once: its slot goes back to everyone else.
                    tracing::debug!("a client holds too many connections; closing a new one");
                    continue;
                }
            }
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            let app = app.clone();
            async move {
                Ok::<_, Infallible>(
                    app.oneshot(req.map(axum::body::Body::new))
                        .await
                        .unwrap_or_else(|e| match e {}),
                )
            }
        });
        let idle = limits.idle_timeout;
        let header_timeout = limits.header_timeout;
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            // A connection that says nothing is let go: hyper's header timer starts only
            // with the first byte of a connection's first request.
            let mut first = [0u8; 1];
            match tokio::time::timeout(idle, stream.peek(&mut first)).await {
                Ok(Ok(n)) if n > 0 => {}
                _ => {
                    drop((permit, counted));
                    return;
                }
            }
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout)
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service);
            if let Err(e) = watcher.watch(conn).await {
                tracing::debug!(error = %e, %peer, "connection ended with an error");
            }
            drop((permit, counted));
        });
    }
    drop(listener);
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(DRAIN_TIMEOUT) => {
            tracing::warn!("connections still open after {DRAIN_TIMEOUT:?}; closing them");
        }
    }
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}

/// For logs: the address actually bound (port 0 becomes the real port).
pub fn bound(listener: &TcpListener) -> Option<SocketAddr> {
    listener.local_addr().ok()
}
