//! A local stand-in for the ECS metadata service (127.0.0.1 only): the hardened
//! mode's session token (`PUT /latest/api/token`), the attached RAM role's name and
//! its temporary key, in the shape the service documents. Each key it hands out is
//! new (`STS.role-<n>`, its secret and token numbered alike), so a test can tell
//! which fetch signed a request; every request is recorded.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};

pub const SESSION_TOKEN: &str = "meta-session-token";

/// The n-th key handed out.
pub fn key_id(n: u32) -> String {
    format!("STS.role-{n}")
}
pub fn secret(n: u32) -> String {
    format!("role-secret-{n}")
}
pub fn token(n: u32) -> String {
    format!("role-token-{n}")
}

/// Secrets of every key this stand-in can hand out (for the API stand-in's key book).
pub fn secret_of(id: &str) -> Option<String> {
    id.strip_prefix("STS.role-").and_then(|n| n.parse().ok()).map(secret)
}

/// One request as the stand-in saw it.
#[derive(Debug, Clone)]
pub struct MetaSeen {
    pub method: String,
    pub path: String,
    /// The `X-aliyun-ecs-metadata-token` header, if sent.
    pub token: Option<String>,
}

pub struct Behaviour {
    /// The attached role; None: no role attached (404s).
    pub role: Option<String>,
    /// The Expiration of each key handed out, given the fetch number.
    pub expires: Box<dyn Fn(u32) -> DateTime<Utc> + Send + Sync>,
    /// Offer the hardened mode (and then refuse reads without its token).
    pub hardened: bool,
    /// From this fetch on, the key read fails (HTTP 500).
    pub fail_from: Option<u32>,
}

#[derive(Clone)]
pub struct Metadata {
    pub url: String,
    seen: Arc<Mutex<Vec<MetaSeen>>>,
    fetches: Arc<AtomicU32>,
}

impl Metadata {
    pub fn start(b: Behaviour) -> Metadata {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://127.0.0.1:{}", listener.local_addr().expect("addr").port());
        let m = Metadata { url, seen: Arc::default(), fetches: Arc::default() };
        let (seen, fetches, b) = (m.seen.clone(), m.fetches.clone(), Arc::new(b));
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let (seen, fetches, b) = (seen.clone(), fetches.clone(), b.clone());
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(conn.try_clone().expect("clone"));
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let mut parts = line.split_whitespace();
                    let method = parts.next().unwrap_or_default().to_string();
                    let path = parts.next().unwrap_or_default().to_string();
                    let mut token = None;
                    loop {
                        let mut h = String::new();
                        if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                            break;
                        }
                        if let Some((k, v)) = h.split_once(':')
                            && k.trim().eq_ignore_ascii_case("x-aliyun-ecs-metadata-token")
                        {
                            token = Some(v.trim().to_string());
                        }
                    }
                    seen.lock().expect("lock").push(MetaSeen {
                        method: method.clone(),
                        path: path.clone(),
                        token: token.clone(),
                    });
                    let (status, body) = answer(&b, &fetches, &method, &path, token.as_deref());
                    let mut out = conn;
                    let head = format!(
                        "HTTP/1.1 {status} X\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        body.len()
                    );
                    let _ = out.write_all(head.as_bytes());
                    let _ = out.write_all(body.as_bytes());
                });
            }
        });
        m
    }

    pub fn seen(&self) -> Vec<MetaSeen> {
        self.seen.lock().expect("lock").clone()
    }

    /// Keys handed out so far.
    pub fn fetches(&self) -> u32 {
        self.fetches.load(Ordering::SeqCst)
    }
}

const CREDS: &str = "/latest/meta-data/ram/security-credentials/";

fn answer(b: &Behaviour, fetches: &AtomicU32, method: &str, path: &str, sent: Option<&str>) -> (u16, String) {
    if method == "PUT" && path == "/latest/api/token" {
        return if b.hardened { (200, SESSION_TOKEN.into()) } else { (404, "not found".into()) };
    }
    if b.hardened && sent != Some(SESSION_TOKEN) {
        return (401, "Unauthorized".into());
    }
    let Some(role) = &b.role else { return (404, "Not Found".into()) };
    if method != "GET" {
        return (405, "Method Not Allowed".into());
    }
    if path == CREDS {
        return (200, role.clone());
    }
    if path.strip_prefix(CREDS) == Some(role.as_str()) {
        if b.fail_from.is_some_and(|f| fetches.load(Ordering::SeqCst) + 1 >= f) {
            return (500, "Internal Server Error".into());
        }
        let n = fetches.fetch_add(1, Ordering::SeqCst) + 1;
        let now = Utc::now().format("%Y-%m-%dT%H:%M:%SZ");
        let exp = (b.expires)(n).format("%Y-%m-%dT%H:%M:%SZ");
        let body = format!(
            r#"{{"AccessKeyId":"{}","AccessKeySecret":"{}","Expiration":"{exp}","SecurityToken":"{}","LastUpdated":"{now}","Code":"Success"}}"#,
            key_id(n),
            secret(n),
            token(n)
        );
        return (200, body);
    }
    (404, "Not Found".into())
}
