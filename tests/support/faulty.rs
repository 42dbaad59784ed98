//! A misbehaving HTTP front for a real server: forwards, or refuses, hangs,
//! answers 500, throttles, or sends garbage, as told. Counts requests by API
//! action. Listens on 127.0.0.1 only; threads end with the test process.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Forward,
    /// Accept, then close without a word.
    Refuse,
    /// Accept and never answer.
    Hang,
    Status500,
    /// AWS Query-protocol throttling: HTTP 400 with code Throttling.
    Throttle,
    /// HTTP 200 with a body that is not XML.
    Malformed,
}

#[derive(Clone)]
pub struct Faulty {
    pub port: u16,
    mode: Arc<Mutex<Mode>>,
    seen: Arc<Mutex<Vec<String>>>,
}

impl Faulty {
    pub fn start(upstream: u16) -> Faulty {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let f = Faulty { port, mode: Arc::new(Mutex::new(Mode::Forward)), seen: Arc::new(Mutex::new(Vec::new())) };
        let me = f.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let me = me.clone();
                std::thread::spawn(move || me.serve(conn, upstream));
            }
        });
        f
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn set(&self, mode: Mode) {
        *self.mode.lock().expect("lock") = mode;
    }

    /// How many requests carried `Action=<action>`.
    pub fn count(&self, action: &str) -> usize {
        let needle = format!("Action={action}&");
        self.seen.lock().expect("lock").iter().filter(|b| b.contains(&needle)).count()
    }

    fn serve(&self, mut client: TcpStream, upstream: u16) {
        let Some(request) = read_request(&mut client) else { return };
        let body = String::from_utf8_lossy(&request[head_len(&request)..]).into_owned();
        self.seen.lock().expect("lock").push(body);
        let mode = *self.mode.lock().expect("lock");
        let reply = |status: &str, body: &str| {
            format!(
                "HTTP/1.1 {status}\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )
        };
        let answer = match mode {
            Mode::Refuse => return,
            Mode::Hang => {
                std::thread::sleep(Duration::from_secs(120));
                return;
            }
            Mode::Status500 => reply("500 Internal Server Error", "<html>oops</html>").into_bytes(),
            Mode::Throttle => reply(
                "400 Bad Request",
                "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>r1</RequestId></ErrorResponse>",
            )
            .into_bytes(),
            Mode::Malformed => reply("200 OK", "{{{ this is not xml").into_bytes(),
            Mode::Forward => match forward(&request, upstream) {
                Some(r) => r,
                None => return,
            },
        };
        let _ = client.write_all(&answer);
    }
}

fn head_len(buf: &[u8]) -> usize {
    buf.windows(4).position(|w| w == b"\r\n\r\n").map_or(buf.len(), |p| p + 4)
}

fn content_length(head: &str) -> usize {
    head.lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length").then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0)
}

fn read_request(s: &mut TcpStream) -> Option<Vec<u8>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        let n = s.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        let h = head_len(&buf);
        if h <= buf.len() && buf.windows(4).any(|w| w == b"\r\n\r\n") {
            let want = h + content_length(&String::from_utf8_lossy(&buf[..h]));
            if buf.len() >= want {
                return Some(buf);
            }
        }
    }
}

/// Send the request upstream on a fresh connection; return its whole answer with
/// `Connection: close`, so the client never reuses a connection we end.
fn forward(request: &[u8], upstream: u16) -> Option<Vec<u8>> {
    let h = head_len(request);
    let head = String::from_utf8_lossy(&request[..h]);
    let head: String = head
        .split("\r\n")
        .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
        .collect::<Vec<_>>()
        .join("\r\n");
    let head = head.trim_end().to_string() + "\r\nConnection: close\r\n\r\n";
    let mut up = TcpStream::connect(("127.0.0.1", upstream)).ok()?;
    up.write_all(head.as_bytes()).ok()?;
    up.write_all(&request[h..]).ok()?;
    let mut resp = Vec::new();
    up.read_to_end(&mut resp).ok()?;
    let rh = head_len(&resp);
    let rhead = String::from_utf8_lossy(&resp[..rh]);
    let rhead: String = rhead
        .split("\r\n")
        .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
        .collect::<Vec<_>>()
        .join("\r\n");
    let mut out = (rhead.trim_end().to_string() + "\r\nConnection: close\r\n\r\n").into_bytes();
    out.extend_from_slice(&resp[rh..]);
    Some(out)
}
