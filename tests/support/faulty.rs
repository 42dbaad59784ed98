//! A misbehaving HTTP front for a real server: forwards, or refuses, hangs,
//! trickles, answers 5xx, throttles in each cloud's dialect, cuts or garbles the
//! body, as told. Counts requests by API action. Listens on 127.0.0.1 only;
//! threads end with the test process.

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Alibaba Cloud's user flow-control error, as in tests/fixtures/aliyun/error-Throttling.User.json.
pub const ALIYUN_THROTTLING_USER: &str = r#"{"RequestId":"540CFF28-407A-40B5-B6A5-74Bxxxxxxxxx","HostId":"ess.aliyuncs.com","Code":"Throttling.User","Message":"Request was denied due to user flow control."}"#;

/// The page moto (through Werkzeug) answers with when a handler raises: HTML,
/// not the API's XML or JSON error shape.
pub const WERKZEUG_500: &str = "<!doctype html>\n<html lang=en>\n<title>500 Internal Server Error</title>\n<h1>Internal Server Error</h1>\n<p>The server encountered an internal error and was unable to complete your request. Either the server is overloaded or there is an error in the application.</p>\n";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Forward,
    /// Accept, then close without a word.
    Refuse,
    /// Accept and never answer.
    Hang,
    /// HTTP 500 with moto's own crash page ([`WERKZEUG_500`]).
    Status500,
    /// AWS Query-protocol throttling: HTTP 400 with code Throttling.
    Throttle,
    /// HTTP 200 with a body that is not XML.
    Malformed,
    /// Nothing listens on the port: connections are refused (ECONNREFUSED).
    Down,
    /// Forward, but dribble the answer back a few bytes at a time.
    Trickle,
    Status502,
    Status503,
    /// HTTP 429 with `Retry-After: 120` and ARM's JSON error envelope.
    Throttle429,
    /// AWS Query-protocol error with code `ThrottlingException` (HTTP 400).
    ThrottlingException,
    /// Alibaba Cloud `Throttling.User` (HTTP 400, its JSON error envelope).
    ThrottlingUser,
    /// Forward, but send only the head and half the body, then close.
    Truncated,
    /// HTTP 200 with the body given to [`Faulty::set_wrong`] (well-formed, wrong shape).
    Wrong,
    /// Forward (the upstream acts on it), then close without a word: the answer is lost.
    LoseResponse,
}

#[derive(Clone)]
pub struct Faulty {
    pub port: u16,
    mode: Arc<Mutex<Mode>>,
    seen: Arc<Mutex<Vec<String>>>,
    wrong: Arc<Mutex<(String, String)>>,
    /// When set, the mode applies only to requests containing this; others are forwarded.
    only: Arc<Mutex<Option<String>>>,
}

impl Faulty {
    pub fn start(upstream: u16) -> Faulty {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let f = Faulty {
            port,
            mode: Arc::new(Mutex::new(Mode::Forward)),
            seen: Arc::new(Mutex::new(Vec::new())),
            wrong: Arc::new(Mutex::new((String::new(), "application/json".into()))),
            only: Arc::new(Mutex::new(None)),
        };
        let me = f.clone();
        // Non-blocking accepts, so that `Down` can close the port and reopen it later.
        listener.set_nonblocking(true).expect("nonblocking");
        std::thread::spawn(move || {
            let mut listener = Some(listener);
            loop {
                let down = me.mode() == Mode::Down;
                if down && listener.is_some() {
                    listener = None;
                } else if !down && listener.is_none() {
                    listener = TcpListener::bind(("127.0.0.1", port)).ok();
                    if let Some(l) = &listener {
                        l.set_nonblocking(true).expect("nonblocking");
                    }
                }
                match listener.as_ref().map(|l| l.accept()) {
                    Some(Ok((conn, _))) => {
                        let _ = conn.set_nonblocking(false);
                        let me = me.clone();
                        std::thread::spawn(move || me.serve(conn, upstream));
                    }
                    Some(Err(e)) if e.kind() != ErrorKind::WouldBlock => {}
                    _ => std::thread::sleep(Duration::from_millis(3)),
                }
            }
        });
        f
    }

    fn mode(&self) -> Mode {
        *self.mode.lock().expect("lock")
    }

    /// Apply the mode only to requests containing `needle` (None: to all).
    pub fn only(&self, needle: Option<&str>) {
        *self.only.lock().expect("lock") = needle.map(String::from);
    }

    /// The body (and its content type) `Mode::Wrong` answers with.
    pub fn set_wrong(&self, body: &str, content_type: &str) {
        *self.wrong.lock().expect("lock") = (body.to_string(), content_type.to_string());
    }

    /// How many requests (head and body) contained `needle`.
    pub fn count_containing(&self, needle: &str) -> usize {
        self.seen.lock().expect("lock").iter().filter(|r| r.contains(needle)).count()
    }

    /// How many requests arrived at all.
    pub fn total(&self) -> usize {
        self.seen.lock().expect("lock").len()
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
        let text = String::from_utf8_lossy(&request).into_owned();
        let mode = match self.only.lock().expect("lock").as_deref() {
            Some(needle) if !text.contains(needle) => Mode::Forward,
            _ => self.mode(),
        };
        self.seen.lock().expect("lock").push(text);
        let reply_as = |status: &str, content_type: &str, extra: &str, body: &str| {
            format!(
                "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )
        };
        let reply = |status: &str, body: &str| reply_as(status, "text/xml", "", body);
        let answer = match mode {
            Mode::Refuse | Mode::Down => return,
            Mode::Status502 => reply("502 Bad Gateway", "<html>bad gateway</html>").into_bytes(),
            Mode::Status503 => reply("503 Service Unavailable", "<html>unavailable</html>").into_bytes(),
            // ARM's error envelope ({"error":{"code","message"}}) with the code ARM uses for 429.
            Mode::Throttle429 => reply_as(
                "429 Too Many Requests",
                "application/json",
                "Retry-After: 120\r\n",
                r#"{"error":{"code":"TooManyRequests","message":"The request is being throttled."}}"#,
            )
            .into_bytes(),
            // The Query-protocol envelope of `Throttle`, with the JSON-protocol services' code.
            Mode::ThrottlingException => reply(
                "400 Bad Request",
                "<ErrorResponse><Error><Type>Sender</Type><Code>ThrottlingException</Code><Message>Rate exceeded</Message></Error><RequestId>r1</RequestId></ErrorResponse>",
            )
            .into_bytes(),
            Mode::ThrottlingUser => {
                reply_as("400 Bad Request", "application/json", "", ALIYUN_THROTTLING_USER).into_bytes()
            }
            Mode::Wrong => {
                let (body, content_type) = self.wrong.lock().expect("lock").clone();
                reply_as("200 OK", &content_type, "", &body).into_bytes()
            }
            Mode::LoseResponse => {
                let _ = forward(&request, upstream);
                return;
            }
            Mode::Truncated => {
                let Some(r) = forward(&request, upstream) else { return };
                let h = head_len(&r);
                let keep = h + (r.len() - h) / 2;
                let _ = client.write_all(&r[..keep]);
                return;
            }
            Mode::Trickle => {
                let Some(r) = forward(&request, upstream) else { return };
                for chunk in r.chunks(4) {
                    if client.write_all(chunk).is_err() {
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
                return;
            }
            Mode::Hang => {
                std::thread::sleep(Duration::from_secs(120));
                return;
            }
            Mode::Status500 => {
                reply_as("500 Internal Server Error", "text/html; charset=utf-8", "", WERKZEUG_500).into_bytes()
            }
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

pub fn read_request(s: &mut TcpStream) -> Option<Vec<u8>> {
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
pub fn forward(request: &[u8], upstream: u16) -> Option<Vec<u8>> {
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
