//! Extractors: what the client wants back ([`Format`]) and what it posted ([`Posted`]).
//!
//! `Posted` reads at most [`BODY_LIMIT`] bytes of an urlencoded or JSON body into raw
//! answers, keeping text that is not UTF-8 as a per-field problem instead of failing the
//! whole post, so the visitor still gets their other answers back.

use std::pin::Pin;

use axum::body::{Body, HttpBody};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::{ACCEPT, CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::request::Parts;
use axum::http::HeaderMap;

use super::error::AppError;
use crate::validate::{RawAnswers, RawValue};

/// The largest body accepted.
pub const BODY_LIMIT: usize = 32 * 1024;

/// How to answer: a page for browsers, JSON for programs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// HTML pages and redirects.
    Html,
    /// JSON bodies.
    Json,
}

impl Format {
    /// JSON when `Accept` prefers it, or names no type and the body is JSON.
    pub fn of(headers: &HeaderMap) -> Format {
        let header = |h| {
            headers
                .get(h)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_ascii_lowercase()
        };
        let accept = header(ACCEPT);
        match (accept.find("application/json"), accept.find("text/html")) {
            (Some(j), Some(h)) if j < h => Format::Json,
            (Some(_), None) => Format::Json,
            (_, Some(_)) => Format::Html,
            (None, None) if header(CONTENT_TYPE).starts_with("application/json") => Format::Json,
            (None, None) => Format::Html,
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Format {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Format::of(&parts.headers))
    }
}

/// The posted answers.
#[derive(Debug)]
pub struct Posted(pub RawAnswers);

enum Kind {
    UrlEncoded,
    Json,
}

fn kind(headers: &HeaderMap) -> Result<Kind, AppError> {
    let ct = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .ok_or(AppError::UnsupportedType)?
        .to_ascii_lowercase();
    let mut parts = ct.split(';').map(str::trim);
    let kind = match parts.next() {
        Some("application/x-www-form-urlencoded") => Kind::UrlEncoded,
        Some("application/json") => Kind::Json,
        _ => return Err(AppError::UnsupportedType),
    };
    for p in parts {
        if let Some(charset) = p.strip_prefix("charset=") {
            if !matches!(charset.trim_matches('"'), "utf-8" | "utf8") {
                return Err(AppError::UnsupportedType);
            }
        }
    }
    Ok(kind)
}

impl<S: Send + Sync> FromRequest<S> for Posted {
    type Rejection = AppError;

    async fn from_request(req: Request, _: &S) -> Result<Self, AppError> {
        let kind = kind(req.headers())?;
        let declared = req
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > BODY_LIMIT as u64) {
            return Err(AppError::TooLarge);
        }
        let bytes = read_limited(req.into_body(), BODY_LIMIT).await?;
        let answers = match kind {
            Kind::UrlEncoded => parse_urlencoded(&bytes),
            Kind::Json => parse_json(&bytes)?,
        };
        Ok(Posted(answers))
    }
}

/// Reads the body, refusing it as soon as it passes `limit` (a chunked body has no
/// length to check in advance).
async fn read_limited(mut body: Body, limit: usize) -> Result<Vec<u8>, AppError> {
    let mut buf = Vec::new();
    while let Some(frame) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
        // A body error is a client that stopped sending (or the body timeout firing).
        let frame = frame.map_err(|_| AppError::Timeout)?;
        if let Ok(data) = frame.into_data() {
            if buf.len() + data.len() > limit {
                return Err(AppError::TooLarge);
            }
            buf.extend_from_slice(&data);
        }
    }
    Ok(buf)
}

/// `a=1&b=x+y%21` into pairs. Bytes that are not UTF-8 after decoding make that value
/// [`RawValue::Unreadable`]; such a key is kept, lossily, to be refused as unknown.
pub fn parse_urlencoded(body: &[u8]) -> RawAnswers {
    let mut out = Vec::new();
    for part in body.split(|&b| b == b'&') {
        if part.is_empty() {
            continue;
        }
        let (k, v) = match part.iter().position(|&b| b == b'=') {
            Some(i) => (&part[..i], &part[i + 1..]),
            None => (part, &[][..]),
        };
        let key = String::from_utf8_lossy(&percent_decode(k)).into_owned();
        let value = match String::from_utf8(percent_decode(v)) {
            Ok(s) => RawValue::Text(s),
            Err(_) => RawValue::Unreadable,
        };
        out.push((key, value));
    }
    RawAnswers(out)
}

fn percent_decode(s: &[u8]) -> Vec<u8> {
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < s.len() => match (hex(s[i + 1]), hex(s[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    out
}

fn parse_json(body: &[u8]) -> Result<RawAnswers, AppError> {
    let map: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(body).map_err(|_| {
            AppError::Malformed("The body must be a JSON object of field names and text answers.")
        })?;
    Ok(RawAnswers(
        map.into_iter()
            .map(|(k, v)| {
                let v = match v {
                    serde_json::Value::String(s) => RawValue::Text(s),
                    serde_json::Value::Bool(true) => RawValue::Text("yes".into()),
                    serde_json::Value::Bool(false) => RawValue::Text(String::new()),
                    _ => RawValue::NotText,
                };
                (k, v)
            })
            .collect(),
    ))
}

/// A posted text field, trimmed ("" when absent): for the service's own small forms
/// (a token, an address), whose fields are not declared in `site.yaml`.
pub(crate) fn field(raw: &RawAnswers, name: &str) -> String {
    raw.0
        .iter()
        .find_map(|(k, v)| match v {
            RawValue::Text(t) if k == name => Some(t.trim().to_string()),
            _ => None,
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(k: &str, v: &str) -> (String, RawValue) {
        (k.into(), RawValue::Text(v.into()))
    }

    #[test]
    fn urlencoded_decodes_plus_percent_and_keeps_order_and_repeats() {
        let r = parse_urlencoded(b"name=Ann+O%27Neil&x=%E2%9C%93&name=&empty&bad=%zz%4");
        assert_eq!(
            r.0,
            vec![
                text("name", "Ann O'Neil"),
                text("x", "✓"),
                text("name", ""),
                text("empty", ""),
                text("bad", "%zz%4"),
            ]
        );
    }

    #[test]
    fn urlencoded_marks_invalid_utf8_per_value() {
        let r = parse_urlencoded(b"name=%FF%FE&email=a%40b.example");
        assert_eq!(r.0[0], ("name".into(), RawValue::Unreadable));
        assert_eq!(r.0[1], text("email", "a@b.example"));
    }

    #[test]
    fn json_takes_strings_and_booleans() {
        let r = parse_json(br#"{"name":"Ann","consent":true,"n":3}"#).unwrap();
        assert!(r.0.contains(&text("name", "Ann")));
        assert!(r.0.contains(&text("consent", "yes")));
        assert!(r.0.contains(&("n".into(), RawValue::NotText)));
        assert!(parse_json(b"[1,2]").is_err());
        assert!(parse_json(b"{\"a\":\"\xff\"}").is_err());
    }

    #[test]
    fn format_follows_accept_then_content_type() {
        let h = |pairs: &[(&'static str, &'static str)]| {
            let mut m = HeaderMap::new();
            for (k, v) in pairs {
                m.insert(*k, v.parse().unwrap());
            }
            Format::of(&m)
        };
        assert_eq!(
            h(&[("accept", "text/html,application/xhtml+xml,*/*;q=0.8")]),
            Format::Html
        );
        assert_eq!(h(&[("accept", "application/json")]), Format::Json);
        assert_eq!(h(&[("content-type", "application/json")]), Format::Json);
        assert_eq!(h(&[]), Format::Html);
    }
}
