//! A real moto server on 127.0.0.1 for the AWS tests: started per test on a free
//! port, killed on drop. moto comes from `.venv` (scripts/test installs it).

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_autoscaling::config::Credentials;

pub struct Moto {
    child: Child,
    pub port: u16,
}

/// Where moto_server is: $OPSDECK_MOTO_SERVER, the project's .venv, or PATH.
fn moto_server() -> PathBuf {
    if let Ok(p) = std::env::var("OPSDECK_MOTO_SERVER") {
        return PathBuf::from(p);
    }
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/moto_server");
    if venv.exists() {
        return venv;
    }
    PathBuf::from("moto_server")
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

impl Moto {
    pub fn start() -> Moto {
        Moto::start_on(free_port())
    }

    /// Kill the server process and start a fresh one on the same port (moto keeps
    /// no state across restarts).
    pub fn restart(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let port = self.port;
        // Replacing the value drops the old (already dead) child harmlessly.
        *self = Moto::start_on(port);
    }

    /// Kill the server process only; [`Moto::start_on`] brings it back.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn start_on(port: u16) -> Moto {
        let bin = moto_server();
        let child = Command::new(&bin)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start {} ({e}): moto is missing. Run ./scripts/test, which installs it, or \
                     `python3 -m venv .venv && .venv/bin/pip install 'moto[server]'`",
                    bin.display()
                )
            });
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "moto_server did not listen on {port} within 30 s");
            std::thread::sleep(Duration::from_millis(100));
        }
        Moto { child, port }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// SDK config for moto: static test credentials, moto's endpoint.
    pub async fn sdk(&self, region: &str) -> SdkConfig {
        sdk_for(&self.url(), region).await
    }

    /// POST a JSON body to one of moto's own APIs (e.g. queued Cost Explorer results).
    pub fn post_json(&self, path: &str, body: &str) {
        use std::io::{Read, Write};
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).expect("connect to moto");
        let req = format!(
            "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        s.write_all(req.as_bytes()).expect("write");
        let mut resp = String::new();
        s.read_to_string(&mut resp).expect("read");
        assert!(resp.starts_with("HTTP/1.1 20") || resp.starts_with("HTTP/1.0 20"), "{path}: {resp}");
    }
}

pub async fn sdk_for(url: &str, region: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(region.to_string()))
        .endpoint_url(url)
        .credentials_provider(Credentials::new("testing", "testing", None, None, "static"))
        .load()
        .await
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
