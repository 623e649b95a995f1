//! Every way a request can be refused, as one type.
//!
//! A handler or extractor returns an [`AppError`]; its `IntoResponse` sets only the
//! status and puts the error in the response's extensions. The `answer` middleware then
//! writes the body the client understands (a page in the site's look, or JSON) and logs
//! internal causes, which never reach the client.

use std::sync::Arc;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::validate::Problems;

/// Why a request was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The answers need fixing (422).
    #[error("the answers need fixing")]
    Invalid {
        /// Form name.
        form: String,
        /// Messages and kept answers.
        problems: Problems,
        /// The site page the form was sent from, where it is shown again when it is there.
        from: Option<String>,
    },
    /// A browser post from another site (403).
    #[error("post from an origin that is not the site's")]
    WrongOrigin,
    /// No such form or page (404).
    #[error("not found")]
    NotFound,
    /// GET on a form, or another method (405).
    #[error("method not allowed")]
    MethodNotAllowed,
    /// The body took too long to arrive (408).
    #[error("request timed out")]
    Timeout,
    /// The body is over the limit (413).
    #[error("body too large")]
    TooLarge,
    /// Neither urlencoded nor JSON, or not UTF-8 (415).
    #[error("unsupported content type")]
    UnsupportedType,
    /// The body is not what its content type says (400).
    #[error("malformed body: {0}")]
    Malformed(&'static str),
    /// Too many posts from this address (429); retry after this many seconds.
    #[error("rate limited")]
    TooMany(u64),
    /// The database could not take the request (503).
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// Anything else (500). The cause is logged, never shown.
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    /// The same error, knowing which page the form was sent from.
    pub(super) fn sent_from(self, page: Option<String>) -> Self {
        match self {
            AppError::Invalid { form, problems, .. } => AppError::Invalid {
                form,
                problems,
                from: page,
            },
            other => other,
        }
    }

    /// The status code it is answered with.
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::WrongOrigin => StatusCode::FORBIDDEN,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            AppError::Timeout => StatusCode::REQUEST_TIMEOUT,
            AppError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::UnsupportedType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::Malformed(_) => StatusCode::BAD_REQUEST,
            AppError::TooMany(_) => StatusCode::TOO_MANY_REQUESTS,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The error for a bare status from elsewhere (the router, a timeout layer), so it
    /// gets the same kind of body as ours.
    pub fn from_status(status: StatusCode) -> Option<AppError> {
        Some(match status {
            StatusCode::NOT_FOUND => AppError::NotFound,
            StatusCode::METHOD_NOT_ALLOWED => AppError::MethodNotAllowed,
            StatusCode::REQUEST_TIMEOUT => AppError::Timeout,
            StatusCode::PAYLOAD_TOO_LARGE => AppError::TooLarge,
            StatusCode::UNSUPPORTED_MEDIA_TYPE => AppError::UnsupportedType,
            StatusCode::INTERNAL_SERVER_ERROR => AppError::Internal("unexplained 500".into()),
            _ => return None,
        })
    }

    /// A short title and what to do, for refusal pages and JSON `message`s.
    pub fn explain(&self, phone: &str) -> (&'static str, String) {
        match self {
            AppError::Invalid { .. } => (
                "Please check your answers",
                "Some answers need fixing before the form can be sent.".into(),
            ),
            AppError::WrongOrigin => (
                "Please use the form on our website",
                "This form can only be sent from the clinic's own website. Open the page with the form and send it from there.".into(),
            ),
            AppError::NotFound => (
                "Page not found",
                "There is no form at this address. Please use the form on our website.".into(),
            ),
            AppError::MethodNotAllowed => (
                "Please use the form on our website",
                "This address only receives forms sent from our website.".into(),
            ),
            AppError::Timeout => (
                "The form took too long to arrive",
                "Your answers did not reach us in time. Please go back and send the form again.".into(),
            ),
            AppError::TooLarge => (
                "Your answers are too long",
                format!("The whole form must be under {} KB. Please go back, shorten your message and send it again, or call us on {phone}.", super::extract::BODY_LIMIT / 1024),
            ),
            AppError::UnsupportedType => (
                "The form could not be read",
                "Please send the form from our website. Programs may post application/x-www-form-urlencoded or JSON in UTF-8.".into(),
            ),
            AppError::Malformed(what) => ("The form could not be read", format!("{what} Please send the form again.")),
            AppError::TooMany(secs) => (
                "Too many forms sent",
                format!(
                    "Several forms came from your connection in a short time. Please wait {} and try again, or call us on {phone}.",
                    wait(*secs)
                ),
            ),
            AppError::Unavailable(_) | AppError::Internal(_) => (
                "Something went wrong on our side",
                format!("Your request has not been saved. Please try again in a few minutes, or call us on {phone}."),
            ),
        }
    }
}

/// `10 seconds`, `a minute`, `3 minutes`: how long to wait, in words, matching the
/// `Retry-After` header sent with it (the page once said "a minute" beside
/// `Retry-After: 5`).
pub fn wait(secs: u64) -> String {
    match secs {
        0 | 1 => "a second".to_string(),
        2..=59 => format!("{secs} seconds"),
        60 => "a minute".to_string(),
        _ => format!("{} minutes", secs.div_ceil(60)),
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let mut r = self.status().into_response();
        if let AppError::TooMany(secs) = self {
            r.headers_mut()
                .insert(axum::http::header::RETRY_AFTER, secs.into());
        }
        r.extensions_mut().insert(Arc::new(self));
        r
    }
}

impl From<crate::Error> for AppError {
    fn from(e: crate::Error) -> Self {
        match e {
            crate::Error::Storage(_) | crate::Error::WriterGone | crate::Error::Db(_) => {
                AppError::Unavailable(e.to_string())
            }
            other => AppError::Internal(other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::wait;

    #[test]
    fn the_wait_in_words_matches_the_seconds() {
        assert_eq!(wait(1), "a second");
        assert_eq!(wait(5), "5 seconds");
        assert_eq!(wait(59), "59 seconds");
        assert_eq!(wait(60), "a minute");
        assert_eq!(wait(61), "2 minutes");
        assert_eq!(wait(180), "3 minutes");
    }
}
