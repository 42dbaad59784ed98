//! One reachability probe opsdeck makes itself, from the operator's machine: an
//! HTTP(S) GET (any 2xx answers) or a TCP connect (optionally waiting for the
//! server's greeting). Shared by the split-brain witnesses (`arbiter`) and the
//! cross-cloud links (`links`), so both measure a round trip the same way.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use tokio::io::AsyncReadExt;

use super::http::{HttpAuthConfig, HttpSource, transport_error};

/// What one probe reaches.
pub enum Target {
    Http {
        url: String,
        http: HttpSource,
    },
    /// `banner`: the round trip ends at the server's first bytes (SSH, SMTP and
    /// MySQL greet first), not at the handshake.
    Tcp {
        addr: String,
        banner: bool,
    },
}

impl Target {
    /// An HTTP(S) target; fails only on an unreadable `ca_file`.
    pub fn http(url: &str, ca_file: Option<PathBuf>, timeout: Duration) -> Result<Target, String> {
        let auth = HttpAuthConfig { ca_file, ..HttpAuthConfig::default() };
        let http = HttpSource::new(&auth, timeout)?;
        Ok(Target::Http { url: url.to_string(), http })
    }

    pub fn tcp(addr: &str, banner: bool) -> Target {
        Target::Tcp { addr: addr.to_string(), banner }
    }

    /// The target in words, safe to show: an URL without its query string or
    /// user info (a token may sit in either).
    pub fn describe(&self) -> String {
        match self {
            Target::Http { url, .. } => match reqwest::Url::parse(url) {
                Ok(mut u) => {
                    u.set_query(None);
                    u.set_fragment(None);
                    let _ = u.set_username("");
                    let _ = u.set_password(None);
                    u.to_string()
                }
                Err(_) => "http (unparsable URL)".into(),
            },
            Target::Tcp { addr, banner: false } => format!("tcp {addr}"),
            Target::Tcp { addr, banner: true } => format!("tcp {addr} (greeting)"),
        }
    }

    /// One probe within `limit`: Ok(round trip) or the reason in words.
    pub async fn once(&self, limit: Duration) -> Result<Duration, String> {
        let started = Instant::now();
        let late = || format!("no answer within {:.1}s", limit.as_secs_f64());
        match self {
            Target::Http { url, http } => {
                // A fresh connection each time (no keep-alive): every probe
                // measures the same thing, the handshake included, and a pooled
                // connection cannot hide a path that no longer connects.
                let request = http.client().get(url).header(reqwest::header::CONNECTION, "close").send();
                let answer = match tokio::time::timeout(limit, request).await {
                    Ok(answer) => answer,
                    Err(_) => return Err(late()),
                };
                // Without the URL: a token may sit in its query string.
                let answer = answer.map_err(|e| transport_error("GET", &e.without_url()).to_string())?;
                let status = answer.status();
                if status.is_success() { Ok(started.elapsed()) } else { Err(format!("HTTP {}", status.as_u16())) }
            }
            Target::Tcp { addr, banner } => {
                let connect = async {
                    let mut stream = tokio::net::TcpStream::connect(addr.as_str())
                        .await
                        .map_err(|e| format!("cannot connect: {e}"))?;
                    if *banner {
                        let mut first = [0u8; 1];
                        match stream.read(&mut first).await {
                            Ok(0) => return Err("closed without a greeting".to_string()),
                            Ok(_) => {}
                            Err(e) => return Err(format!("no greeting: {e}")),
                        }
                    }
                    Ok(started.elapsed())
                };
                tokio::time::timeout(limit, connect).await.unwrap_or_else(|_| Err(late()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_described_without_secrets() {
        let t = Target::http("https://user:pw@witness.example/health?token=s3cret#x", None, Duration::from_secs(1))
            .expect("target");
        assert_eq!(t.describe(), "https://witness.example/health");
        assert_eq!(Target::tcp("10.0.0.5:5432", false).describe(), "tcp 10.0.0.5:5432");
    }

    #[tokio::test]
    async fn a_greeting_probe_waits_for_the_first_bytes_and_a_silent_server_times_out() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr").to_string();
        // Accepts and holds the connection without a word.
        tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((s, _)) = listener.accept().await {
                held.push(s);
            }
        });
        let limit = Duration::from_millis(300);
        assert!(Target::tcp(&addr, false).once(limit).await.is_ok());
        let silent = Target::tcp(&addr, true).once(limit).await;
        assert_eq!(silent, Err("no answer within 0.3s".to_string()));
    }
}
