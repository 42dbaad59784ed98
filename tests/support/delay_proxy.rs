//! A delaying TCP proxy, standing in for a slow cross-cloud link: each connection
//! is forwarded to an upstream on 127.0.0.1, and the upstream's first bytes reach
//! the client no earlier than `delay` after the proxy accepted the connection.
//! So a request/answer probe (HTTP, or a server that greets first) sees a round
//! trip of the delay plus the local one. A userland proxy cannot delay the TCP
//! handshake itself (the kernel completes it), so a handshake-only probe does
//! not see the delay. `drop_every(n)` closes every n-th request's connection unanswered
//! (a lossy link). Threads end with the test process; listens on 127.0.0.1 only.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

#[derive(Clone)]
pub struct DelayProxy {
    pub port: u16,
    delay_us: Arc<AtomicU64>,
    drop_every: Arc<AtomicU64>,
}

impl DelayProxy {
    pub fn start(upstream: u16, delay: Duration) -> DelayProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let proxy = DelayProxy {
            port,
            delay_us: Arc::new(AtomicU64::new(delay.as_micros() as u64)),
            drop_every: Arc::new(AtomicU64::new(0)),
        };
        let me = proxy.clone();
        std::thread::spawn(move || {
            // Requests counted, not connections: a probe's bare handshake (it
            // times the handshake apart) sends nothing and is no request to drop.
            let requests = Arc::new(AtomicU64::new(0));
            for conn in listener.incoming() {
                let accepted = Instant::now();
                let Ok(mut client) = conn else { continue };
                let every = me.drop_every.load(Ordering::SeqCst);
                let hold_until = accepted + Duration::from_micros(me.delay_us.load(Ordering::SeqCst));
                let requests = requests.clone();
                std::thread::spawn(move || {
                    let mut head = Vec::new();
                    if every > 0 {
                        let mut buf = [0u8; 16 * 1024];
                        match std::io::Read::read(&mut client, &mut buf) {
                            Ok(0) | Err(_) => return,
                            Ok(n) => head.extend_from_slice(&buf[..n]),
                        }
                        if (requests.fetch_add(1, Ordering::SeqCst) + 1).is_multiple_of(every) {
                            let _ = client.shutdown(Shutdown::Both);
                            return;
                        }
                    }
                    relay(client, upstream, hold_until, head)
                });
            }
        });
        proxy
    }

    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The delay for connections accepted from now on.
    pub fn set_delay(&self, delay: Duration) {
        self.delay_us.store(delay.as_micros() as u64, Ordering::SeqCst);
    }

    /// Close every n-th connection from now on without a word (0: none).
    pub fn drop_every(&self, n: u64) {
        self.drop_every.store(n, Ordering::SeqCst);
    }
}

fn relay(client: TcpStream, upstream: u16, hold_until: Instant, head: Vec<u8>) {
    let Ok(mut server) = TcpStream::connect(("127.0.0.1", upstream)) else {
        let _ = client.shutdown(Shutdown::Both);
        return;
    };
    // What was read from the client to count it goes first.
    if !head.is_empty() && std::io::Write::write_all(&mut server, &head).is_err() {
        return;
    }
    let _ = (client.set_nodelay(true), server.set_nodelay(true));
    let (Ok(mut client_r), Ok(mut server_w)) = (client.try_clone(), server.try_clone()) else { return };
    // Client → server at once: the delay is on the way back.
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut client_r, &mut server_w);
        let _ = server_w.shutdown(Shutdown::Write);
    });
    let (mut server_r, mut client_w) = (server, client);
    let mut buf = [0u8; 16 * 1024];
    let mut first = true;
    loop {
        let n = match server_r.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if first {
            std::thread::sleep(hold_until.saturating_duration_since(Instant::now()));
            first = false;
        }
        if client_w.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = client_w.shutdown(Shutdown::Write);
}

/// A minimal HTTP server on 127.0.0.1: every request gets `200 ok` and the
/// connection is closed. Returns its port.
pub fn http_ok_server() -> u16 {
    serve(|mut s| {
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            match s.read(&mut byte) {
                Ok(1) => head.push(byte[0]),
                _ => return,
            }
        }
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
    })
}

/// A TCP server on 127.0.0.1 that greets first, as SSH does. Returns its port.
pub fn greeting_server() -> u16 {
    serve(|mut s| {
        let _ = s.write_all(b"SSH-2.0-opsdeck-test\r\n");
        let mut rest = [0u8; 64];
        let _ = s.read(&mut rest);
    })
}

fn serve(each: fn(TcpStream)) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            std::thread::spawn(move || each(conn));
        }
    });
    port
}

/// A 127.0.0.1 port nothing listens on.
pub fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}
