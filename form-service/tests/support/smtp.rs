//! A real SMTP server for tests, run inside the test process: nothing to install.
//!
//! The protocol (greeting, EHLO, MAIL, RCPT, DATA with dot-unstuffing, QUIT) is the
//! `mailin` crate's state machine; this module only owns the sockets, so a server
//! stops completely when dropped and its port can be taken again (outage tests stop
//! the mail server and start another on the same port).

use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use mailin::{Action, Handler, Response, SessionBuilder};

/// A running SMTP server on 127.0.0.1; stopped when dropped.
pub struct SmtpServer {
    pub port: u16,
    shared: Arc<Shared>,
    accept: Option<JoinHandle<()>>,
}

#[derive(Default)]
struct Shared {
    stopping: AtomicBool,
    /// Raw messages as received (CRLF line ends, dot-unstuffed), oldest first.
    messages: Mutex<Vec<String>>,
    /// Open connections, so dropping the server can close them.
    connections: Mutex<Vec<TcpStream>>,
}

impl SmtpServer {
    /// Starts on a free port.
    pub fn start() -> SmtpServer {
        Self::start_on(super::free_port())
    }

    /// Starts on `port` and returns once it accepts connections.
    pub fn start_on(port: u16) -> SmtpServer {
        // The port was free a moment ago (or held by a server just dropped, whose
        // socket the OS may release a little later): retry binding, bounded.
        let listener = super::wait_for(
            &format!("port {port} to be free for the SMTP server"),
            Duration::from_secs(10),
            || TcpListener::bind(("127.0.0.1", port)).ok(),
        );
        let shared = Arc::new(Shared::default());
        let accept = {
            let shared = shared.clone();
            std::thread::spawn(move || accept_loop(listener, shared))
        };
        SmtpServer {
            port,
            shared,
            accept: Some(accept),
        }
    }

    /// Every message received so far, raw, oldest first.
    pub fn messages(&self) -> Vec<String> {
        self.shared.messages.lock().unwrap().clone()
    }

    /// Waits (bounded) until at least `n` messages arrived, and returns them.
    pub fn wait_for_messages(&self, n: usize, limit: Duration) -> Vec<String> {
        super::wait_for(&format!("{n} message(s) at the SMTP server"), limit, || {
            let m = self.messages();
            (m.len() >= n).then_some(m)
        })
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        // Wake the blocking accept; it sees `stopping` and returns, closing the listener.
        let _ = TcpStream::connect_timeout(
            &SocketAddr::from(([127, 0, 0, 1], self.port)),
            Duration::from_secs(1),
        );
        if let Some(t) = self.accept.take() {
            let _ = t.join();
        }
        for c in self.shared.connections.lock().unwrap().drain(..) {
            let _ = c.shutdown(Shutdown::Both);
        }
    }
}

fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    for stream in listener.incoming() {
        if shared.stopping.load(Ordering::SeqCst) {
            return;
        }
        let Ok(stream) = stream else { continue };
        let Ok(copy) = stream.try_clone() else {
            continue;
        };
        shared.connections.lock().unwrap().push(copy);
        let shared = shared.clone();
        std::thread::spawn(move || {
            let _ = serve(stream, &shared);
        });
    }
}

/// One SMTP conversation, until the client quits or the server is dropped.
fn serve(stream: TcpStream, shared: &Arc<Shared>) -> std::io::Result<()> {
    // A client that goes silent cannot hold a thread forever.
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    let peer = stream.peer_addr()?.ip();
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    let mut session = SessionBuilder::new("smtp.test").build(
        peer,
        Collector {
            shared: shared.clone(),
            current: Vec::new(),
        },
    );
    session.greeting().write_to(&mut writer)?;
    let mut line = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            return Ok(());
        }
        let response = session.process(&line);
        match response.action {
            Action::NoReply => {}
            Action::Close => {
                response.write_to(&mut writer)?;
                writer.flush()?;
                return Ok(());
            }
            Action::Reply | Action::UpgradeTls => {
                response.write_to(&mut writer)?;
                writer.flush()?;
            }
        }
    }
}

/// Keeps each message's data and files it when the client ends it.
struct Collector {
    shared: Arc<Shared>,
    current: Vec<u8>,
}

impl Handler for Collector {
    fn data_start(
        &mut self,
        _domain: &str,
        _from: &str,
        _is8bit: bool,
        _to: &[String],
    ) -> Response {
        self.current.clear();
        mailin::response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.current.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        let raw = String::from_utf8_lossy(&std::mem::take(&mut self.current)).into_owned();
        self.shared.messages.lock().unwrap().push(raw);
        mailin::response::OK
    }
}
