//! `/metrics` in Prometheus' text format, for whoever is on call: stored requests by
//! form, the outbox (waiting, failed, age of the oldest, retries), answers by status and
//! reason, rate-limited posts, request latency, the age of the last backup, and the age of the last
//! retention purge with the purges that failed.
//!
//! `record` is a middleware that counts every answer; `render` reads those counts, the
//! store's counters and a few aggregate queries. Only a private listener
//! (`--metrics-listen`) or a loopback client that came through no proxy may read them
//! ([`insider`]); anyone else gets the same 404 as for any unknown path. No label holds
//! personal data: forms, statuses and reasons are the site's own words.

mod render;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::http::{AppError, AppState};

pub use render::{gather, render, Snapshot};

/// Upper bounds (seconds) of the latency histogram's buckets.
pub const BUCKETS: [f64; 11] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

/// Counts kept in memory since start.
#[derive(Debug, Default)]
pub struct HttpStats {
    /// Answers by (status, reason).
    answers: Mutex<BTreeMap<(u16, &'static str), u64>>,
    /// Requests per latency bucket (not cumulative; the last is +Inf).
    buckets: [AtomicU64; BUCKETS.len() + 1],
    /// Sum of latencies, microseconds.
    sum_micros: AtomicU64,
}

impl HttpStats {
    fn observe(&self, status: u16, reason: &'static str, seconds: f64) {
        *self
            .answers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry((status, reason))
            .or_default() += 1;
        let i = BUCKETS
            .iter()
            .position(|b| seconds <= *b)
            .unwrap_or(BUCKETS.len());
        self.buckets[i].fetch_add(1, Ordering::Relaxed);
        self.sum_micros
            .fetch_add((seconds * 1e6) as u64, Ordering::Relaxed);
    }

    /// Answers by status and reason.
    pub fn answers(&self) -> Vec<((u16, &'static str), u64)> {
        let m = self.answers.lock().unwrap_or_else(|p| p.into_inner());
        m.iter().map(|(k, v)| (*k, *v)).collect()
    }

    /// Cumulative bucket counts (the last is +Inf, the total), and the sum in seconds.
    pub fn histogram(&self) -> (Vec<u64>, f64) {
        let mut total = 0;
        let counts = self
            .buckets
            .iter()
            .map(|b| {
                total += b.load(Ordering::Relaxed);
                total
            })
            .collect();
        (counts, self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6)
    }
}

/// The reason label of an answer: the kind of error, or `ok`.
pub fn reason(err: Option<&AppError>, status: u16) -> &'static str {
    match err {
        Some(AppError::Invalid { .. }) => "invalid",
        Some(AppError::WrongOrigin) => "wrong_origin",
        Some(AppError::NotFound) => "not_found",
        Some(AppError::MethodNotAllowed) => "method_not_allowed",
        Some(AppError::Timeout) => "timeout",
        Some(AppError::TooLarge) => "too_large",
        Some(AppError::UnsupportedType) => "unsupported_type",
        Some(AppError::Malformed(_)) => "malformed",
        Some(AppError::TooMany(_)) => "rate_limited",
        Some(AppError::Unavailable(_)) => "unavailable",
        Some(AppError::Internal(_)) => "internal",
        #[allow(unreachable_patterns)]
        Some(_) => "error",
        None => match status {
            408 => "timeout",
            413 => "too_large",
            s if s >= 500 => "internal",
            s if s >= 400 => "error",
            _ => "ok",
        },
    }
}

/// Middleware: times each request and counts its answer.
pub async fn record(State(app): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let res = next.run(req).await;
    let err = res.extensions().get::<Arc<AppError>>().map(|e| &**e);
    let status = res.status().as_u16();
    app.store
        .counters()
        .http
        .observe(status, reason(err, status), started.elapsed().as_secs_f64());
    res
}

/// True for a caller on this machine talking to us directly: a loopback peer whose
/// request carries no forwarding header. A proxy on the same machine adds
/// `X-Forwarded-For` (Caddy to every request; nginx as deploy/nginx.conf tells it), so
/// what it relays is an outsider's, while `curl http://127.0.0.1:PORT/health` on the
/// server is an insider's.
pub fn insider(peer: SocketAddr, headers: &HeaderMap) -> bool {
    let forwarded = ["forwarded", "x-forwarded-for", "x-real-ip", "via"]
        .iter()
        .any(|h| headers.contains_key(*h));
    peer.ip().to_canonical().is_loopback() && !forwarded
}

/// `GET /metrics` on the public listener: insiders only, a 404 for anyone else.
pub async fn public(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    if !insider(peer, &headers) {
        return AppError::NotFound.into_response();
    }
    private(State(app)).await
}

/// `GET /metrics` on the private listener.
pub async fn private(State(app): State<AppState>) -> Response {
    match gather(&app).await {
        Ok(s) => (
            [(
                axum::http::header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            )],
            render(&s),
        )
            .into_response(),
        Err(e) => AppError::Unavailable(e.to_string()).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_direct_loopback_caller_is_an_insider() {
        let lo: SocketAddr = "127.0.0.1:9".parse().unwrap();
        let far: SocketAddr = "203.0.113.4:9".parse().unwrap();
        let mut h = HeaderMap::new();
        assert!(insider(lo, &h));
        assert!(insider("[::1]:9".parse().unwrap(), &h));
        assert!(insider("[::ffff:127.0.0.1]:9".parse().unwrap(), &h));
        assert!(!insider(far, &h));
        h.insert("x-forwarded-for", "203.0.113.4".parse().unwrap());
        assert!(!insider(lo, &h), "relayed by a proxy");
    }
}
