//! `POST /forms/{form}`: check, store, answer; and the CORS preflight for JSON clients.
//!
//! The handler stays thin: validation is in `validate`, mail in `outbox::message`,
//! storage in `store`; refusals are `AppError`s that `answer` turns into pages or JSON.

use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::{Path, State};
use axum::http::header::{
    ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN,
    ACCESS_CONTROL_MAX_AGE, LOCATION, ORIGIN, VARY,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use rand::Rng;
use site_config::{FormDecl, FormKind};

use super::error::AppError;
use super::extract::{Format, Posted};
use super::AppState;
use crate::outbox::message;
use crate::store::NewSubmission;
use crate::validate::{validate, Outcome, Submission};
use crate::Settings;

pub(super) async fn submit(
    State(app): State<AppState>,
    Path(form): Path<String>,
    format: Format,
    headers: HeaderMap,
    Posted(raw): Posted,
) -> Result<Response, AppError> {
    let decl = app.settings.form(&form).ok_or(AppError::NotFound)?;
    match validate(&form, decl, &app.settings.services, &raw) {
        Outcome::Bot => {
            let n = app
                .store
                .counters()
                .honeypot
                .fetch_add(1, Ordering::Relaxed)
                + 1;
            tracing::info!(form, honeypot_total = n, "honeypot post dropped");
            Ok(received(&app.settings, decl, format, &new_id()))
        }
        Outcome::Invalid(problems) => Err(AppError::Invalid { form, problems }),
        Outcome::Valid(sub) if decl.kind == FormKind::Comment => {
            super::comments::post(&app, &form, decl, &sub, &headers, format).await
        }
        Outcome::Valid(sub) if decl.kind == FormKind::Registration => {
            super::members::register(&app, &decl.thank_you, &sub, format).await
        }
        Outcome::Valid(sub) => {
            let new = prepare(&app.settings, decl, &sub, app.store.clock().now())?;
            let stored = app.store.submit(new).await?;
            tracing::info!(form, id = %stored.id, duplicate = stored.duplicate, "submission stored");
            Ok(received(&app.settings, decl, format, &stored.id))
        }
    }
}

/// A submission with its emails, ready for the writer.
fn prepare(
    s: &Settings,
    decl: &FormDecl,
    sub: &Submission,
    now: i64,
) -> Result<NewSubmission, AppError> {
    let public_id = new_id();
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

/// 16 characters from an alphabet without look-alikes: the second it was made (7), a
/// counter (4) and 5 random ones. Ids sort by time, so the unique index on them grows
/// at its end instead of taking a random page per request; the counter keeps one
/// process from repeating itself (up to 923,521 ids a second), the random part keeps
/// two processes apart.
pub(super) fn new_id() -> String {
    const ALPHABET: &[u8] = b"23456789abcdefghjkmnpqrstuvwxyz";
    const BASE: u64 = ALPHABET.len() as u64;
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut id = [0u8; 16];
    let mut put = |range: std::ops::Range<usize>, mut n: u64| {
        for slot in id[range].iter_mut().rev() {
            *slot = ALPHABET[(n % BASE) as usize];
            n /= BASE;
        }
    };
    put(0..7, seconds);
    put(7..11, count);
    let mut rng = rand::thread_rng();
    for slot in &mut id[11..] {
        *slot = ALPHABET[rng.gen_range(0..ALPHABET.len())];
    }
    id.iter().map(|&b| b as char).collect()
}

/// `OPTIONS /forms/{form}`: lets the site's own scripts post JSON; no one else.
pub(super) async fn preflight(State(app): State<AppState>, headers: HeaderMap) -> Response {
    let Some(origin) = headers.get(ORIGIN).filter(|o| app.origin_is_allowed(o)) else {
        return AppError::WrongOrigin.into_response();
    };
    let mut r = StatusCode::NO_CONTENT.into_response();
    let h = r.headers_mut();
    h.insert(ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
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

#[cfg(test)]
mod tests {
    use super::new_id;

    #[test]
    fn ids_use_the_alphabet_and_grow() {
        let ids: Vec<String> = (0..1000).map(|_| new_id()).collect();
        for id in &ids {
            assert_eq!(id.len(), 16, "{id}");
            assert!(
                id.bytes()
                    .all(|b| b"23456789abcdefghjkmnpqrstuvwxyz".contains(&b)),
                "{id}"
            );
        }
        assert!(
            ids.windows(2).all(|w| w[0] < w[1]),
            "ids sort in the order they were made"
        );
    }
}
