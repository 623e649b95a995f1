//! `GET /health`: publicly only whether the service is up; the counters only for a
//! caller on this machine that no proxy relayed.
//!
//! The counters once told a stranger whether `/members/link` had mailed a registered
//! address (issue 13, item 8), so they stay off the public answer. It reads counters kept
//! by the writer and the outbox, so it costs no database work and can be polled freely.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;

use axum::extract::connect_info::MockConnectInfo;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::AppState;

pub(super) async fn health(State(app): State<AppState>, req: Request) -> Response {
    let c = app.store.counters();
    let writable = c.writable.load(Ordering::Relaxed);
    let status = if writable {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let word = if writable { "ok" } else { "down" };
    // The server's peer address; tests give theirs through `MockConnectInfo`.
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(p)| *p)
        .or_else(|| {
            req.extensions()
                .get::<MockConnectInfo<SocketAddr>>()
                .map(|MockConnectInfo(p)| *p)
        });
    if !is_local(peer, req.headers()) {
        return (status, axum::Json(serde_json::json!({ "status": word }))).into_response();
    }
    let failed = c.failed.load(Ordering::Relaxed);
    let body = serde_json::json!({
        "status": word,
        "database_writable": writable,
        "mail": if failed > 0 { "failed" } else { "ok" },
        "outbox_waiting": c.pending.load(Ordering::Relaxed),
        "outbox_failed": failed,
        "stored_since_start": c.stored.load(Ordering::Relaxed),
        "duplicates_since_start": c.duplicates.load(Ordering::Relaxed),
        "honeypot_since_start": c.honeypot.load(Ordering::Relaxed),
    });
    (status, axum::Json(body)).into_response()
}

/// A caller on this machine, talking to us directly: a loopback peer whose request
/// carries no forwarding header. A proxy on the same machine adds `X-Forwarded-For`
/// (Caddy does to every request; nginx when told to, as the README shows), so what it
/// relays gets the public answer, while `curl http://127.0.0.1:PORT/health` on the
/// server gets the details.
fn is_local(peer: Option<SocketAddr>, headers: &HeaderMap) -> bool {
    let Some(peer) = peer else { return false };
    let ip = peer.ip();
    let loopback = ip.is_loopback()
        || matches!(ip, std::net::IpAddr::V6(v6) if v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback()));
    let forwarded = ["forwarded", "x-forwarded-for", "x-real-ip", "via"]
        .iter()
        .any(|h| headers.contains_key(*h));
    loopback && !forwarded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_direct_loopback_caller_is_local() {
        let lo: SocketAddr = "127.0.0.1:9".parse().unwrap();
        let far: SocketAddr = "203.0.113.4:9".parse().unwrap();
        let mut h = HeaderMap::new();
        assert!(is_local(Some(lo), &h));
        assert!(is_local(Some("[::1]:9".parse().unwrap()), &h));
        assert!(!is_local(Some(far), &h));
        assert!(!is_local(None, &h));
        h.insert("x-forwarded-for", "203.0.113.4".parse().unwrap());
        assert!(!is_local(Some(lo), &h), "relayed by a proxy");
    }
}
