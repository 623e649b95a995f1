//! `GET /health`. Outsiders learn only whether the service is up (200 `ok`) or down
//! (503 `down`: the database takes no writes). The private listener and callers on this
//! machine that no proxy relayed also get the counters, and `degraded` when mail has
//! been failing for an hour, the last scheduled backup is older than two intervals, or
//! the retention purge has not succeeded for two days: things to fix soon, while forms
//! still work.
//!
//! The counters once told a stranger whether `/members/link` had mailed a registered
//! address (issue 13, item 8), so they stay off the public answer. It reads counters and
//! one small query, so it can be polled freely.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;

use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::AppState;

/// Mail failing this long (seconds) makes the service `degraded`.
const MAIL_FAILING_FOR: i64 = 3600;

pub(super) async fn health(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    if crate::metrics::insider(peer, &headers) {
        return private(State(app)).await;
    }
    let up = app.store.counters().writable.load(Ordering::Relaxed);
    let (status, word) = if up {
        (StatusCode::OK, "ok")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "down")
    };
    (status, axum::Json(serde_json::json!({ "status": word }))).into_response()
}

/// The detailed answer, for the private listener and local insiders.
pub(super) async fn private(State(app): State<AppState>) -> Response {
    let c = app.store.counters();
    let writable = c.writable.load(Ordering::Relaxed);
    let now = app.store.clock().now();
    let failing_since = app
        .store
        .read(|c| {
            Ok(c.query_row(
                "SELECT min(created_at) FROM outbox WHERE status = 'pending' AND attempts > 0",
                [],
                |r| r.get::<_, Option<i64>>(0),
            )?)
        })
        .await
        .ok()
        .flatten();
    let failed = c.failed.load(Ordering::Relaxed);
    let mut problems = Vec::new();
    if failing_since.is_some_and(|t| now - t >= MAIL_FAILING_FOR) {
        problems.push("mail has been failing for over an hour");
    }
    if failed > 0 {
        problems.push("emails were given up on (form-service outbox)");
    }
    let mut backup_age = None;
    if let Some(b) = &app.settings.site.form_service.backup {
        let last = c.last_backup_at.load(Ordering::Relaxed);
        backup_age = (last > 0).then_some(now - last);
        if last > 0 && now - last > 2 * i64::from(b.every_hours) * 3600 {
            problems.push("the last backup is older than two intervals");
        }
    }
    let mut purge_age = None;
    if app.settings.site.form_service.retention_days.is_some() {
        let last = c.last_purge_at.load(Ordering::Relaxed);
        purge_age = (last > 0).then_some(now - last);
        let failing = c.purge_failures.load(Ordering::Relaxed) > 0;
        if (last > 0 && now - last > 2 * crate::retention::EVERY) || (last == 0 && failing) {
            problems.push("the retention purge is failing or two days late (see the log)");
        }
    }
    let (status, word) = match (writable, problems.is_empty()) {
        (false, _) => (StatusCode::SERVICE_UNAVAILABLE, "down"),
        (true, true) => (StatusCode::OK, "ok"),
        (true, false) => (StatusCode::OK, "degraded"),
    };
    let body = serde_json::json!({
        "status": word,
        "problems": problems,
        "database_writable": writable,
        "mail": if failed > 0 { "failed" } else { "ok" },
        "outbox_waiting": c.pending.load(Ordering::Relaxed),
        "outbox_failed": failed,
        "last_backup_age_seconds": backup_age,
        "last_purge_age_seconds": purge_age,
        "stored_since_start": c.stored.load(Ordering::Relaxed),
        "duplicates_since_start": c.duplicates.load(Ordering::Relaxed),
        "honeypot_since_start": c.honeypot.load(Ordering::Relaxed),
    });
    (status, axum::Json(body)).into_response()
}
