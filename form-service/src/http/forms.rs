//! Request forms (consultations) once valid: store, answer; the honeypot's quiet
//! answer; and the CORS preflight for JSON clients.
//!
//! The handler stays thin: validation is in `validate`, mail in `outbox::message`,
//! storage in `store`; refusals are `AppError`s that `answer` turns into pages or JSON.

use std::sync::atomic::Ordering;

use axum::extract::State;
use axum::http::header::{
    ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN,
    ACCESS_CONTROL_MAX_AGE, LOCATION, VARY,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use site_config::FormDecl;

use super::error::AppError;
use super::extract::Format;
use super::{guard, AppState};
use crate::outbox::message;
use crate::store::NewSubmission;
use crate::validate::Submission;
use crate::Settings;

/// A honeypot post: answered as if received, stored nowhere.
pub(super) fn bot(app: &AppState, form: &str, decl: &FormDecl, format: Format) -> Response {
    let n = app
        .store
        .counters()
        .honeypot
        .fetch_add(1, Ordering::Relaxed)
        + 1;
    tracing::info!(form, honeypot_total = n, "honeypot post dropped");
    received(&app.settings, decl, format, &crate::id::new_id())
}

/// A valid request (consultation): stored with its emails, then answered.
pub(super) async fn store(
    app: &AppState,
    form: &str,
    decl: &FormDecl,
    sub: &Submission,
    format: Format,
) -> Result<Response, AppError> {
    let new = prepare(&app.settings, decl, sub, app.store.clock().now())?;
    let stored = app.store.submit(new).await?;
    tracing::info!(form, id = %stored.id, duplicate = stored.duplicate, "submission stored");
    Ok(received(&app.settings, decl, format, &stored.id))
}

/// A submission with its emails, ready for the writer.
fn prepare(
    s: &Settings,
    decl: &FormDecl,
    sub: &Submission,
    now: i64,
) -> Result<NewSubmission, AppError> {
    let public_id = crate::id::new_id();
    let answers: Vec<(&str, &str)> = sub
        .answers
        .iter()
        .map(|a| (a.name.as_str(), a.value.as_str()))
        .collect();
    let acknowledgement = if s.acknowledge {
        Some(message::acknowledgement(s, &sub.email, &public_id)?)
    } else {
        None
    };
    Ok(NewSubmission {
        staff_mail: message::staff_mail(s, decl, sub, &public_id, now)?,
        answers_json: serde_json::to_string(&answers)
            .map_err(|e| AppError::Internal(e.to_string()))?,
        form: sub.form.clone(),
        email: sub.email.clone(),
        fingerprint: sub.fingerprint,
        acknowledgement,
        public_id,
    })
}

/// 303 to the form's thank-you page (never an address the client chose), or 201.
fn received(s: &Settings, decl: &FormDecl, format: Format, id: &str) -> Response {
    match format {
        Format::Html => {
            let to = s.site_url(&decl.thank_you);
            let mut r = StatusCode::SEE_OTHER.into_response();
            if let Ok(v) = HeaderValue::from_str(&to) {
                r.headers_mut().insert(LOCATION, v);
            }
            r
        }
        Format::Json => (
            StatusCode::CREATED,
            axum::Json(serde_json::json!({ "id": id, "status": "received" })),
        )
            .into_response(),
    }
}

/// `OPTIONS /forms/{form}`: lets the site's own scripts post JSON; no one else.
pub(super) async fn preflight(State(app): State<AppState>, headers: HeaderMap) -> Response {
    let Some(origin) = guard::cors_origin(&headers, &app.settings.allowed_origins) else {
        return AppError::WrongOrigin.into_response();
    };
    let mut r = StatusCode::NO_CONTENT.into_response();
    let h = r.headers_mut();
    h.insert(ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    h.insert(
        ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("POST"),
    );
    h.insert(
        ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("content-type, accept"),
    );
    h.insert(ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
    h.insert(VARY, HeaderValue::from_static("Origin"));
    r
}
