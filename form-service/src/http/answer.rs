//! The last word on every response: errors get their body (a page in the site's look,
//! or JSON), HTML gets security headers, and JSON for the site's origin gets CORS.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::{
    ACCESS_CONTROL_ALLOW_ORIGIN, CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE,
    REFERRER_POLICY, VARY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use site_config::FormState;

use super::error::AppError;
use super::extract::Format;
use super::{guard, pages, AppState};

pub(super) async fn answer(State(app): State<AppState>, req: Request, next: Next) -> Response {
    let format = Format::of(req.headers());
    let cors = guard::cors_origin(req.headers(), &app.settings.allowed_origins);
    let path = req.uri().path().to_string();
    let mut res = next.run(req).await;

    let error = res.extensions_mut().remove::<Arc<AppError>>().or_else(|| {
        let bare = res.headers().get(CONTENT_TYPE).is_none() && res.status().as_u16() >= 400;
        bare.then(|| AppError::from_status(res.status()).map(Arc::new))
            .flatten()
    });
    if let Some(err) = error {
        if let AppError::Internal(cause) | AppError::Unavailable(cause) = &*err {
            tracing::error!(status = res.status().as_u16(), cause = %cause, "request failed");
        }
        let retry_after = res.headers().get(axum::http::header::RETRY_AFTER).cloned();
        res = render(&app, format, &err, &path);
        if let Some(v) = retry_after {
            res.headers_mut().insert(axum::http::header::RETRY_AFTER, v);
        }
    }

    let h = res.headers_mut();
    h.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    let content_type = h
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    if content_type.starts_with("text/html") {
        h.insert(CONTENT_SECURITY_POLICY, app.csp.clone());
        h.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        h.insert(
            REFERRER_POLICY,
            HeaderValue::from_static("strict-origin-when-cross-origin"),
        );
    }
    if content_type.starts_with("application/json") {
        if let Some(o) = cors {
            h.insert(ACCESS_CONTROL_ALLOW_ORIGIN, o);
            h.append(VARY, HeaderValue::from_static("Origin"));
        }
    }
    res
}

fn render(app: &AppState, format: Format, err: &AppError, path: &str) -> Response {
    let status = err.status();
    let phone = &app.settings.site.business.phone;
    let (title, message) = err.explain(phone);
    match (format, err) {
        (Format::Json, AppError::Invalid { problems, .. }) => {
            let errors: serde_json::Map<String, serde_json::Value> = problems
                .errors
                .iter()
                .map(|(k, v)| (k.clone(), serde_json::json!([v])))
                .collect();
            json(status, serde_json::json!({ "errors": errors }))
        }
        (Format::Json, _) => json(
            status,
            serde_json::json!({ "error": title, "message": message }),
        ),
        (
            Format::Html,
            AppError::Invalid {
                form,
                problems,
                from,
            },
        ) => {
            let Some(decl) = app.settings.form(form) else {
                return html(
                    StatusCode::NOT_FOUND,
                    pages::notice_page(&app.settings, title, &message),
                );
            };
            let state = FormState {
                values: problems.kept.clone(),
                errors: problems
                    .errors
                    .iter()
                    .filter(|(k, _)| decl.field(k).is_some())
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            };
            // Unknown fields have no place in the form; only programs send them, but a
            // page must still say why it came back.
            let page = if state.errors.is_empty() {
                pages::notice_page(
                    &app.settings,
                    title,
                    "The form had fields we do not know. Please send it from our website.",
                )
            } else {
                pages::form_page(&app.settings, form, decl, from.as_deref(), &state)
            };
            html(status, page)
        }
        (Format::Html, AppError::TooMany(secs)) => {
            // Back to the page whose form was posted, else the site's home page.
            let s = &app.settings;
            let back = path
                .strip_prefix("/forms/")
                .and_then(|form| s.form(form))
                .and_then(|decl| decl.page.as_deref())
                .map_or_else(|| s.site_url("/"), |page| s.site_url(page));
            html(
                status,
                pages::too_many_page(s, title, &super::error::wait(*secs), &back),
            )
        }
        (Format::Html, _) => html(status, pages::notice_page(&app.settings, title, &message)),
    }
}

fn json(status: StatusCode, v: serde_json::Value) -> Response {
    (status, axum::Json(v)).into_response()
}

fn html(status: StatusCode, page: String) -> Response {
    let mut r = Response::new(Body::from(page));
    *r.status_mut() = status;
    r.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    r
}
