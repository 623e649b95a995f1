//! The preview server: the last good site from memory, with the reload script and any
//! problems injected, and the event stream tabs listen on.

use std::convert::Infallible;
use std::sync::{Arc, RwLock};

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode, Uri};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use tokio::sync::broadcast;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::{Stream, StreamExt};

use super::overlay::{self, inject, inject_over, Behind};
use super::rebuild::Preview;
use super::reload::Message;
use crate::output::OutputFile;
use crate::urls::output_path;

/// What the server shares with the rebuild loop.
pub struct Shared {
    /// The site being served.
    pub preview: RwLock<Preview>,
    /// Where rebuilds are announced.
    pub events: broadcast::Sender<Message>,
}

/// The preview app over `shared`.
pub fn app(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/__reload", get(events))
        .route(
            overlay::SCRIPT_PATH,
            get(|| async { asset("text/javascript; charset=utf-8", overlay::SCRIPT) }),
        )
        .route(
            overlay::STYLE_PATH,
            get(|| async { asset("text/css; charset=utf-8", overlay::STYLE) }),
        )
        .fallback(get(page))
        .layer(axum::middleware::from_fn(only_our_host))
        .with_state(shared)
}

/// Answers only requests addressed to this machine: `localhost` or an IP address. A page
/// on another site can point a name it controls at 127.0.0.1 (DNS rebinding) and then
/// read the preview, drafts included, as its own origin; the `Host` its requests carry
/// is that name, so they are refused. An IP address cannot be rebound, so a preview
/// bound to a LAN address still works from a phone.
async fn only_our_host(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let host = req
        .headers()
        .get(header::HOST)
        .map(|h| h.to_str().unwrap_or("\u{0}"));
    match host {
        Some(h) if !is_local_host(h) => (
            StatusCode::MISDIRECTED_REQUEST,
            "This preview answers only at localhost or its IP address.",
        )
            .into_response(),
        _ => next.run(req).await,
    }
}

/// `localhost`, `*.localhost` or an IP address, with or without a port.
pub fn is_local_host(host: &str) -> bool {
    let host = host.trim().to_ascii_lowercase();
    let name = if let Some(rest) = host.strip_prefix('[') {
        // [::1]:1111
        return rest.split_once(']').is_some_and(|(ip, port)| {
            ip.parse::<std::net::Ipv6Addr>().is_ok()
                && (port.is_empty() || port.strip_prefix(':').is_some_and(is_port))
        });
    } else {
        match host.rsplit_once(':') {
            Some((name, port)) if is_port(port) => name,
            Some(_) => return false,
            None => host.as_str(),
        }
    };
    name == "localhost"
        || name.ends_with(".localhost")
        || name.parse::<std::net::Ipv4Addr>().is_ok()
}

fn is_port(p: &str) -> bool {
    !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit())
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}

async fn events(
    State(shared): State<Arc<Shared>>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let stream = BroadcastStream::new(shared.events.subscribe())
        .filter_map(|m| m.ok())
        .map(|m| Ok(Event::default().event(m.event).data(m.data)));
    Sse::new(stream).keep_alive(KeepAlive::default())
}

enum Found {
    Html(String),
    Bytes(Vec<u8>),
    File(std::path::PathBuf),
    /// To the same path with a `/` at its end.
    Redirect,
    Missing(Option<String>),
}

async fn page(State(shared): State<Arc<Shared>>, uri: Uri) -> Response {
    let path = percent_decode(uri.path());
    let found = lookup(&shared, &path);
    let content_type = mime_guess::from_path(if path.ends_with('/') {
        "index.html"
    } else {
        &path
    })
    .first_or_octet_stream()
    .to_string();
    let no_store = [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))];
    match found {
        Found::Html(html) => (
            no_store,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            html,
        )
            .into_response(),
        Found::Bytes(b) => (no_store, [(header::CONTENT_TYPE, content_type)], b).into_response(),
        Found::File(p) => match tokio::fs::read(&p).await {
            Ok(b) => (no_store, [(header::CONTENT_TYPE, content_type)], b).into_response(),
            Err(_) => StatusCode::NOT_FOUND.into_response(),
        },
        Found::Redirect => Redirect::temporary(&folder_of(uri.path())).into_response(),
        Found::Missing(Some(html)) => (
            StatusCode::NOT_FOUND,
            no_store,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            html,
        )
            .into_response(),
        Found::Missing(None) => (StatusCode::NOT_FOUND, Body::from("not found")).into_response(),
    }
}

fn lookup(shared: &Shared, path: &str) -> Found {
    let preview = shared.preview.read().unwrap_or_else(|e| e.into_inner());
    let problems = preview.problems();
    let Some(site) = &preview.site else {
        // Nothing has built yet: a page of its own that lists the problems.
        let html = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Build failed</title></head><body></body></html>";
        return Found::Missing(Some(inject_over(html, &problems, Behind::Nothing)));
    };
    let key = output_path(path);
    let as_page = |f: &OutputFile| match f {
        OutputFile::Bytes(b) if key.ends_with(".html") => {
            Found::Html(inject(&String::from_utf8_lossy(b), &problems))
        }
        OutputFile::Bytes(b) => Found::Bytes(b.clone()),
        OutputFile::Copy(p) => Found::File(p.clone()),
    };
    if let Some(f) = site.output.get(&key) {
        return as_page(f);
    }
    // Not rendered yet (the preview renders pages after it starts): render it now.
    if let Some(i) = site.page_at(&key) {
        return match site.render_page(i) {
            Ok(page) => Found::Html(inject(&page.html, &problems)),
            Err(ds) => {
                let mut all = problems.clone();
                ds.into_iter().for_each(|d| all.push(d));
                let html = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Page broken</title></head><body></body></html>";
                Found::Missing(Some(inject(html, &all)))
            }
        };
    }
    // Hosts serve `/about` as `/about/`.
    let folder_page = format!("{key}/index.html");
    if !path.ends_with('/')
        && (site.output.contains_key(&folder_page) || site.page_at(&folder_page).is_some())
    {
        return Found::Redirect;
    }
    let not_found = site.output.get("404.html").and_then(|f| match f {
        OutputFile::Bytes(b) => Some(inject(&String::from_utf8_lossy(b), &problems)),
        OutputFile::Copy(_) => None,
    });
    Found::Missing(not_found)
}

/// `/about` -> `/about/`, from the path as it came (still percent-encoded, so always a
/// valid header). Leading slashes and backslashes are collapsed into one: `//about/`
/// would send the browser to the host `about`.
pub fn folder_of(raw_path: &str) -> String {
    format!("/{}/", raw_path.trim_start_matches(['/', '\\']))
}

fn percent_decode(path: &str) -> String {
    percent_encoding::percent_decode_str(path)
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_hosts() {
        for ok in [
            "localhost",
            "localhost:1111",
            "127.0.0.1:1111",
            "[::1]:1111",
            "192.168.1.5:8080",
            "app.localhost:1",
        ] {
            assert!(is_local_host(ok), "{ok}");
        }
        for no in [
            "evil.example",
            "evil.example:1111",
            "127.0.0.1.evil.example",
            "localhost.evil.example:1111",
            "[::1]x",
            "localhost:x",
        ] {
            assert!(!is_local_host(no), "{no}");
        }
    }

    #[test]
    fn redirects_stay_on_this_site() {
        assert_eq!(folder_of("/about"), "/about/");
        assert_eq!(folder_of("//about"), "/about/");
        assert_eq!(folder_of("/\\about"), "/about/");
    }
}
