//! `GET /health`: whether the database takes writes and how much mail waits.
//!
//! It reads counters kept by the writer and the outbox, so it costs no database work
//! and can be polled freely (the benchmark compares submissions against it).

use std::sync::atomic::Ordering;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::AppState;

pub(super) async fn health(State(app): State<AppState>) -> Response {
    let c = app.store.counters();
    let writable = c.writable.load(Ordering::Relaxed);
    let status = if writable {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = serde_json::json!({
        "status": if writable { "ok" } else { "database not writable" },
        "database_writable": writable,
        "outbox_waiting": c.pending.load(Ordering::Relaxed),
        "outbox_failed": c.failed.load(Ordering::Relaxed),
        "stored_since_start": c.stored.load(Ordering::Relaxed),
        "duplicates_since_start": c.duplicates.load(Ordering::Relaxed),
        "honeypot_since_start": c.honeypot.load(Ordering::Relaxed),
    });
    (status, axum::Json(body)).into_response()
}
