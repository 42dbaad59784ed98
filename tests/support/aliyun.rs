//! A local stand-in for Alibaba Cloud's RPC endpoints (127.0.0.1 only). It checks
//! every request's signature with the test's own AccessKey — its own
//! canonicalisation, written apart from the one in `opsdeck::providers::aliyun::sign`
//! — refuses a bad one as Alibaba does (HTTP 400, `SignatureDoesNotMatch` in the
//! `{RequestId, HostId, Code, Message}` envelope of the ESS error fixture), records
//! the request, and answers what the test's handler says (fixture payloads).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

pub const KEY_ID: &str = "test-key-id";
pub const KEY_SECRET: &str = "test-key-secret";

/// Derived from `error-ess-InternalError.doc.json`: same envelope, the code and
/// message Alibaba Cloud documents for a signature mismatch.
pub const SIGNATURE_MISMATCH: &str = r#"{"RequestId":"540CFF28-407A-40B5-B6A5-74Bxxxxxxxxx","HostId":"ess.aliyuncs.com","Code":"SignatureDoesNotMatch","Message":"Specified signature does not match our calculation."}"#;

pub fn fixture(name: &str) -> String {
    let p = format!("{}/tests/fixtures/aliyun/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{p}: {e}"))
}

/// One request as the server saw it, once its signature checked out (or not).
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    /// Action and version, from `x-acs-*` headers (V3) or the query (V1).
    pub action: String,
    pub version: String,
    /// The decoded query parameters.
    pub params: BTreeMap<String, String>,
    pub headers: BTreeMap<String, String>,
    /// The AccessKeyId the request was signed with (V3 Credential, V1 AccessKeyId).
    pub key_id: String,
    pub signature_ok: bool,
    /// "v3" or "v1".
    pub scheme: &'static str,
}

impl Seen {
    pub fn param(&self, k: &str) -> Option<&str> {
        self.params.get(k).map(String::as_str)
    }
}

pub type Handler = Arc<dyn Fn(&Seen) -> (u16, String) + Send + Sync>;

/// The secret of an AccessKeyId the server accepts, if it knows the id.
pub type KeyBook = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// The test's own key only.
pub fn test_key_only() -> KeyBook {
    Arc::new(|id| (id == KEY_ID).then(|| KEY_SECRET.to_string()))
}

#[derive(Clone)]
pub struct Server {
    pub url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    stopped: Arc<std::sync::atomic::AtomicBool>,
}

impl Server {
    pub fn start(handler: Handler) -> Server {
        Server::start_with_keys(test_key_only(), handler)
    }

    /// A server that accepts every key `keys` knows (temporary keys a test hands out).
    pub fn start_with_keys(keys: KeyBook, handler: Handler) -> Server {
        Server::start_on(TcpListener::bind("127.0.0.1:0").expect("bind"), keys, handler)
    }

    /// Serve on `port` (e.g. the port of a stopped server, to bring it back).
    pub fn start_on_port(port: u16, handler: Handler) -> Server {
        // The old accept loop may take a moment to let go of the port.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            match TcpListener::bind(("127.0.0.1", port)) {
                Ok(l) => return Server::start_on(l, test_key_only(), handler),
                Err(e) if std::time::Instant::now() > deadline => panic!("rebind {port}: {e}"),
                Err(_) => std::thread::sleep(std::time::Duration::from_millis(20)),
            }
        }
    }

    fn start_on(listener: TcpListener, keys: KeyBook, handler: Handler) -> Server {
        let url = format!("http://127.0.0.1:{}", listener.local_addr().expect("addr").port());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stopped = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let s = Server { url, seen: seen.clone(), stopped: stopped.clone() };
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                if stopped.load(std::sync::atomic::Ordering::SeqCst) {
                    return; // drops the listener: the port refuses connections
                }
                let (handler, seen, keys) = (handler.clone(), seen.clone(), keys.clone());
                std::thread::spawn(move || serve(conn, &handler, &seen, &keys));
            }
        });
        s
    }

    /// Stop listening (connections are refused from then on).
    pub fn stop(&self) {
        self.stopped.store(true, std::sync::atomic::Ordering::SeqCst);
        // Wake the accept loop so it sees the flag and closes the port.
        let _ = TcpStream::connect(self.url.trim_start_matches("http://"));
    }

    pub fn port(&self) -> u16 {
        self.url.rsplit(':').next().and_then(|p| p.parse().ok()).expect("port")
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("lock").clone()
    }

    pub fn seen_action(&self, action: &str) -> Vec<Seen> {
        self.seen().into_iter().filter(|s| s.action == action).collect()
    }
}

fn serve(conn: TcpStream, handler: &Handler, seen: &Mutex<Vec<Seen>>, keys: &KeyBook) {
    let mut reader = BufReader::new(conn.try_clone().expect("clone"));
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_string();
    let target = parts.next().unwrap_or_default().to_string();
    let mut headers = BTreeMap::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    let len: usize = headers.get("content-length").and_then(|l| l.parse().ok()).unwrap_or(0);
    let mut body = vec![0u8; len];
    reader.read_exact(&mut body).expect("body");
    let (path, raw_query) = target.split_once('?').unwrap_or((&target, ""));
    let pairs: Vec<(String, String)> = raw_query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect();
    let params: BTreeMap<String, String> = pairs.iter().cloned().collect();
    let (scheme, signature_ok, action, version) = match headers.get("authorization") {
        Some(auth) => (
            "v3",
            check_v3(&method, path, &pairs, &headers, &body, auth, keys),
            headers.get("x-acs-action").cloned().unwrap_or_default(),
            headers.get("x-acs-version").cloned().unwrap_or_default(),
        ),
        None => (
            "v1",
            check_v1(&method, &pairs, keys),
            params.get("Action").cloned().unwrap_or_default(),
            params.get("Version").cloned().unwrap_or_default(),
        ),
    };
    let key_id = match headers.get("authorization") {
        Some(auth) => credential_of(auth).unwrap_or_default().to_string(),
        None => params.get("AccessKeyId").cloned().unwrap_or_default(),
    };
    let req = Seen { method, path: path.to_string(), action, version, params, headers, key_id, signature_ok, scheme };
    seen.lock().expect("lock").push(req.clone());
    let (status, body) = if signature_ok { handler(&req) } else { (400, SIGNATURE_MISMATCH.to_string()) };
    let mut out = conn;
    let head = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: application/json;charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = out.write_all(head.as_bytes());
    let _ = out.write_all(body.as_bytes());
}

fn decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned()
}

/// RFC 3986 encoding, byte by byte (kept apart from the library's encoder).
fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn sorted_query(pairs: &[(String, String)]) -> String {
    let mut enc: Vec<String> = pairs.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect();
    enc.sort();
    enc.join("&")
}

fn check_v3(
    method: &str,
    path: &str,
    pairs: &[(String, String)],
    headers: &BTreeMap<String, String>,
    body: &[u8],
    auth: &str,
    keys: &KeyBook,
) -> bool {
    let Some(rest) = auth.strip_prefix("ACS3-HMAC-SHA256 ") else { return false };
    let fields: BTreeMap<&str, &str> = rest.split(',').filter_map(|f| f.trim().split_once('=')).collect();
    let Some(secret) = fields.get("Credential").and_then(|id| keys(id)) else { return false };
    let signed: Vec<&str> = fields.get("SignedHeaders").map(|s| s.split(';').collect()).unwrap_or_default();
    // What Alibaba Cloud requires to be signed.
    for required in
        ["host", "x-acs-action", "x-acs-version", "x-acs-date", "x-acs-signature-nonce", "x-acs-content-sha256"]
    {
        if !signed.contains(&required) {
            return false;
        }
    }
    let payload_hash = hex::encode(Sha256::digest(body));
    if headers.get("x-acs-content-sha256") != Some(&payload_hash) {
        return false;
    }
    let mut canonical = format!("{method}\n{path}\n{}\n", sorted_query(pairs));
    for h in &signed {
        canonical.push_str(&format!("{h}:{}\n", headers.get(*h).map_or("", |v| v.trim())));
    }
    canonical.push_str(&format!("\n{}\n{payload_hash}", signed.join(";")));
    let to_sign = format!("ACS3-HMAC-SHA256\n{}", hex::encode(Sha256::digest(canonical.as_bytes())));
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("key");
    mac.update(to_sign.as_bytes());
    fields.get("Signature").copied() == Some(hex::encode(mac.finalize().into_bytes()).as_str())
}

fn credential_of(auth: &str) -> Option<&str> {
    auth.split([' ', ',']).find_map(|f| f.trim().strip_prefix("Credential="))
}

fn check_v1(method: &str, pairs: &[(String, String)], keys: &KeyBook) -> bool {
    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let Some(secret) = get("AccessKeyId").and_then(|id| keys(id)) else { return false };
    if get("SignatureMethod") != Some("HMAC-SHA1") {
        return false;
    }
    let Some(given) = get("Signature") else { return false };
    let rest: Vec<(String, String)> = pairs.iter().filter(|(k, _)| k != "Signature").cloned().collect();
    let to_sign = format!("{method}&%2F&{}", encode(&sorted_query(&rest)));
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(format!("{secret}&").as_bytes()).expect("key");
    mac.update(to_sign.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes()) == given
}

/// DescribeContactGroupList / DescribeContactList in the API reference's shapes: the
/// one contact group the alert-log fixtures name (`ECS_Group`), with one contact.
/// For replays that serve those fixtures (the routes read the book they name).
pub fn contact_book(action: &str) -> String {
    if action == "DescribeContactGroupList" {
        r#"{"Code":"200","Success":true,"Total":1,"ContactGroupList":{"ContactGroup":[{"Name":"ECS_Group","Contacts":{"Contact":["运维-ñ"]}}]}}"#
    } else {
        r#"{"Code":"200","Success":true,"Total":1,"Contacts":{"Contact":[{"Name":"运维-ñ","Channels":{"Mail":"ops@example.com"}}]}}"#
    }
    .to_string()
}
