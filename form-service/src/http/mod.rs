//! The HTTP side: [`app`] builds the router from an [`AppState`], so tests drive it with
//! `tower::ServiceExt::oneshot` exactly as the server does.
//!
//! Routes: `POST /forms/{form}` (and its CORS preflight), the members' area under
//! `/members/`, comments' emailed links under `/comments/`, staff sign-in under
//! `/staff/`, `GET /health` and `GET /metrics` (insiders only). The areas (`forms`, `members`, `comments`, `staff`)
//! never import each other: `submit` here hands each valid post to its kind's
//! handler, and what they share lives in `reply`, `view`, `session`, `guard`. Layers,
//! outermost first: a last-resort panic catcher, `answer` (bodies for errors, security
//! and CORS headers), `metrics::record` (counts each answer by its error's kind), the
//! whole-request and body timeouts, and the panic catcher that turns a handler's panic
//! into a 500 page. Each area's routes sit behind a layer from `guard`.

mod answer;
mod comments;
pub mod error;
pub mod extract;
mod forms;
pub mod guard;
mod health;
mod members;
pub mod pages;
mod reply;
mod session;
mod staff;
mod view;

use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{middleware, Router};
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::{RequestBodyTimeoutLayer, TimeoutLayer};

use crate::origin;
use crate::store::Store;
use crate::validate::kinds::{typed, Typed};
use crate::validate::{validate, Outcome};
use crate::Settings;

pub use error::AppError;
pub use guard::RateLimiter;

/// How long a client may take.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// A whole request, body and answer included, must finish within this.
    pub request: Duration,
    /// The body must have arrived within this.
    pub body: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            request: Duration::from_secs(20),
            body: Duration::from_secs(10),
        }
    }
}

/// What handlers share.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

/// The parts of [`AppState`].
pub struct Shared {
    /// Checked settings.
    pub settings: Settings,
    /// The database.
    pub store: Store,
    /// Per-address post limits.
    pub limiter: RateLimiter,
    /// Client timeouts.
    pub timeouts: Timeouts,
    /// Asks for approved comments to be published.
    pub publisher: crate::comments::publish::Publisher,
    csp: HeaderValue,
}

impl Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl AppState {
    /// State for `settings` over `store`.
    pub fn new(settings: Settings, store: Store) -> AppState {
        Self::with_timeouts(settings, store, Timeouts::default())
    }

    /// State with other client timeouts (tests use short ones).
    pub fn with_timeouts(settings: Settings, store: Store, timeouts: Timeouts) -> AppState {
        let csp = content_security_policy(&settings);
        AppState(Arc::new(Shared {
            limiter: RateLimiter::new(settings.rate_limit),
            timeouts,
            publisher: Default::default(),
            settings,
            store,
            csp,
        }))
    }
}

/// `POST /forms/{form}`: checks the post against its declaration, then hands it, typed,
/// to the handler of its form's kind.
async fn submit(
    State(app): State<AppState>,
    Path(form): Path<String>,
    format: extract::Format,
    headers: HeaderMap,
    query: Result<Query<FromPage>, QueryRejection>,
    extract::Posted(raw): extract::Posted,
) -> Result<Response, AppError> {
    let decl = app.settings.form(&form).ok_or(AppError::NotFound)?;
    let page = query
        .ok()
        .and_then(|Query(q)| q.from)
        .and_then(|from| crate::validate::page_from(&from));
    match validate(&form, decl, &app.settings.services, &raw) {
        Outcome::Bot => Ok(forms::bot(&app, &form, decl, format)),
        Outcome::Invalid(problems) => Err(AppError::Invalid {
            form,
            problems,
            from: page,
        }),
        Outcome::Valid(sub) => match typed(decl, sub) {
            Typed::Request(mut sub) => {
                sub.page = page;
                forms::store(&app, &form, decl, &sub, format).await
            }
            Typed::Registration(post) => members::register(&app, decl, post, format).await,
            Typed::Comment(post) => comments::post(&app, &form, decl, post, &headers, format)
                .await
                .map_err(|e| e.sent_from(page)),
        },
    }
}

/// A form's address may say which page it sits on (`?from=/services/smp/`), for staff.
#[derive(serde::Deserialize)]
struct FromPage {
    from: Option<String>,
}

/// Pages served from here load the site's styles and post to the form service.
fn content_security_policy(s: &Settings) -> HeaderValue {
    let site = &s.site_origin;
    let mut form_action = format!("'self' {site}");
    if let Some(url) = &s.site.form_service.url {
        form_action.push(' ');
        form_action.push_str(&origin::of(url));
    }
    let policy = format!(
        "default-src 'none'; style-src 'self' {site}; img-src 'self' {site} data:; \
         font-src 'self' {site}; script-src 'self' {site}; form-action {form_action}; \
         frame-ancestors 'none'; base-uri 'none'"
    );
    HeaderValue::from_str(&policy).unwrap_or_else(|_| {
        HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'; base-uri 'none'")
    })
}

/// The private listener's router (`--metrics-listen`): `/metrics` and the detailed
/// `/health`, for anyone who can reach it.
pub fn private_app(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(crate::metrics::private))
        .route("/health", get(health::private))
        .fallback(|| async { AppError::NotFound })
        .with_state(state)
}

/// The router with every layer.
pub fn app(state: AppState) -> Router {
    app_with(state, Router::new())
}

/// The router with `extra` routes behind the same layers (tests add a route that
/// panics, to see the panic answered).
pub fn app_with(state: AppState, extra: Router<AppState>) -> Router {
    let timeouts = state.timeouts;
    let forms = Router::new()
        .route("/forms/{form}", post(submit).options(forms::preflight))
        .route_layer(middleware::from_fn_with_state(state.clone(), guard::forms));
    Router::new()
        .merge(forms)
        .merge(members::routes(state.clone()))
        .merge(comments::routes(state.clone()))
        .merge(staff::routes(state.clone()))
        .merge(extra)
        .route("/health", get(health::health))
        .route("/metrics", get(crate::metrics::public))
        .fallback(|| async { AppError::NotFound })
        .layer(
            ServiceBuilder::new()
                .layer(CatchPanicLayer::custom(|_| {
                    (
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "Something went wrong on our side.",
                    )
                        .into_response()
                }))
                .layer(middleware::from_fn_with_state(
                    state.clone(),
                    answer::answer,
                ))
                // Inside `answer`, so it sees each error's kind before `answer` renders it.
                .layer(middleware::from_fn_with_state(
                    state.clone(),
                    crate::metrics::record,
                ))
                .layer(TimeoutLayer::with_status_code(
                    StatusCode::REQUEST_TIMEOUT,
                    timeouts.request,
                ))
                .layer(RequestBodyTimeoutLayer::new(timeouts.body))
                .layer(CatchPanicLayer::custom(|_| {
                    AppError::Internal("a handler panicked".into()).into_response()
                })),
        )
        .with_state(state)
}
