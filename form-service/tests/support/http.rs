//! Requests for `oneshot`, and a tiny HTTP/1.1 client for the real server.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::{Request, Response};
use axum::Router;
use tower::ServiceExt;

pub const SITE: &str = "https://www.themedicalspa.example";

/// A browser's urlencoded post from the site.
pub fn browser_post(path: &str, body: impl Into<String>) -> Request<Body> {
    Request::post(path)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "text/html,application/xhtml+xml,*/*;q=0.8")
        .header("origin", SITE)
        .body(Body::from(body.into()))
        .unwrap()
}

/// A program's JSON post (no Origin).
pub fn json_post(path: &str, body: serde_json::Value) -> Request<Body> {
    Request::post(path)
        .header("content-type", "application/json")
        .header("accept", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

/// Sends one request from `peer` through the app.
pub async fn send(app: &Router, peer: SocketAddr, req: Request<Body>) -> Response<Body> {
    app.clone()
        .layer(MockConnectInfo(peer))
        .oneshot(req)
        .await
        .unwrap()
}

/// The body as text.
pub async fn text(res: Response<Body>) -> String {
    let bytes = axum::body::to_bytes(res.into_body(), 10 * 1024 * 1024)
        .await
        .unwrap();
    String::from_utf8(bytes.to_vec()).unwrap()
}

/// A header's value, or "".
pub fn header<'a>(res: &'a Response<Body>, name: &str) -> &'a str {
    res.headers()
        .get(name)
        .map(|v| v.to_str().unwrap())
        .unwrap_or("")
}

/// What the raw client got back.
#[derive(Debug)]
pub struct RawResponse {
    pub status: u16,
    pub head: String,
    pub body: String,
}

/// Sends `request` (complete bytes) to a real server and reads the answer to the end.
pub fn raw(addr: SocketAddr, request: &[u8]) -> std::io::Result<RawResponse> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    s.write_all(request)?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf)?;
    let text = String::from_utf8_lossy(&buf).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    Ok(RawResponse {
        status,
        head: head.to_string(),
        body: body.to_string(),
    })
}

/// A complete `POST /forms/consultation` with `Connection: close`.
pub fn raw_post(content_type: &str, accept: &str, body: &str) -> Vec<u8> {
    format!(
        "POST /forms/consultation HTTP/1.1\r\nHost: forms.test\r\nContent-Type: {content_type}\r\nAccept: {accept}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}
