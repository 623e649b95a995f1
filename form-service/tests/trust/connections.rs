//! Item 15: one client holding many idle connections cannot starve the others: it gets
//! a bounded number, and a silent connection is closed.

use std::net::SocketAddr;
use std::time::Duration;

use form_service::server::{serve_with, Limits};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use crate::support::{settings, TestService};

/// `GET /health` from `from`, answered within `limit` or not at all.
async fn health_from(from: [u8; 4], to: SocketAddr, limit: Duration) -> Option<String> {
    tokio::time::timeout(limit, async {
        let socket = TcpSocket::new_v4().ok()?;
        socket.bind(SocketAddr::from((from, 0))).ok()?;
        let mut s = socket.connect(to).await.ok()?;
        s.write_all(b"GET /health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            .await
            .ok()?;
        let mut out = String::new();
        s.read_to_string(&mut out).await.ok()?;
        Some(out)
    })
    .await
    .ok()
    .flatten()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_holding_many_idle_connections_does_not_starve_others() {
    let t = TestService::start(settings());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    // Room for 64 connections; long timeouts, so only the per-client cap can help.
    let limits = Limits {
        header_timeout: Duration::from_secs(60),
        idle_timeout: Duration::from_secs(60),
        total: 64,
        per_client: 16,
        exempt: Vec::new(),
    };
    let server = tokio::spawn(serve_with(
        listener,
        t.service.router(),
        async {
            let _ = rx.await;
        },
        limits,
    ));
    // One client opens 200 connections and sends nothing.
    let mut idle = Vec::new();
    for _ in 0..200 {
        if let Ok(s) = TcpStream::connect(addr).await {
            idle.push(s);
        }
    }
    // Another client (another loopback address) is answered at once.
    let answer = health_from([127, 0, 0, 2], addr, Duration::from_secs(5))
        .await
        .expect("answered while one client holds 200 idle connections");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    // The idle client itself was capped: most of its sockets were closed by the server.
    let mut closed = 0;
    for s in &mut idle {
        let mut b = [0u8; 1];
        if let Ok(Ok(0)) = tokio::time::timeout(Duration::from_millis(50), s.read(&mut b)).await {
            closed += 1;
        }
    }
    assert!(closed >= 200 - 16, "only {closed} closed");
    drop(idle);
    let _ = tx.send(());
    server.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_connection_is_closed() {
    let t = TestService::start(settings());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let limits = Limits {
        idle_timeout: Duration::from_millis(300),
        ..Limits::default()
    };
    let server = tokio::spawn(serve_with(
        listener,
        t.service.router(),
        async {
            let _ = rx.await;
        },
        limits,
    ));
    let mut s = TcpStream::connect(addr).await.unwrap();
    let mut b = [0u8; 1];
    let read = tokio::time::timeout(Duration::from_secs(10), s.read(&mut b))
        .await
        .expect("the server closes a silent connection");
    assert!(matches!(read, Ok(0) | Err(_)));
    let _ = tx.send(());
    server.await.unwrap();
}
