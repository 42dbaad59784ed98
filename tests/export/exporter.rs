//! The built `opsdeck export` as a child process on a free port, and a reader of
//! what it serves written from the exposition format's rules (not opsdeck's code).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::support::moto::free_port;

pub struct Exporter {
    child: Child,
    pub port: u16,
    home: tempfile::TempDir,
}

impl Drop for Exporter {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `opsdeck` with a private HOME (no user config, no keyring) and moto's test
/// credentials, `args` after the global flags.
pub fn command(home: &std::path::Path, config: Option<&str>, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_opsdeck"));
    if let Some(text) = config {
        let path = home.join("opsdeck.toml");
        std::fs::write(&path, text).expect("config");
        cmd.arg("--config").arg(path);
    }
    cmd.args(args)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home)
        .env("XDG_STATE_HOME", home.join("state"))
        .env_remove("AWS_PROFILE")
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env_remove("OPSDECK_LOG_FILE");
    cmd
}

impl Exporter {
    /// `opsdeck export --listen 127.0.0.1:<free port>` on `config` (None: the demo).
    pub fn start(config: Option<&str>) -> Exporter {
        let home = tempfile::tempdir().expect("tempdir");
        let port = free_port();
        let listen = format!("127.0.0.1:{port}");
        let stderr = std::fs::File::create(home.path().join("stderr")).expect("stderr file");
        let child = command(home.path(), config, &["export", "--listen", &listen])
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("start opsdeck export");
        Exporter { child, port, home }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn stderr(&self) -> String {
        std::fs::read_to_string(self.stderr_path()).unwrap_or_default()
    }

    fn stderr_path(&self) -> PathBuf {
        self.home.path().join("stderr")
    }

    /// GET `path`: (status, content type, body); None while nothing listens.
    pub async fn get(&self, path: &str, accept: Option<&str>) -> Option<(u16, String, String)> {
        let mut req = reqwest::Client::new().get(self.url(path)).timeout(Duration::from_secs(10));
        if let Some(a) = accept {
            req = req.header("Accept", a);
        }
        let resp = req.send().await.ok()?;
        let status = resp.status().as_u16();
        let ct = resp.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        Some((status, ct, resp.text().await.ok()?))
    }

    /// Wait for /healthz to answer 200; fail with the exporter's stderr.
    pub async fn wait_healthy(&mut self, secs: u64) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            if let Some((200, _, body)) = self.get("/healthz", None).await {
                assert_eq!(body, "ok\n");
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("opsdeck export exited ({status}): {}", self.stderr());
            }
            assert!(Instant::now() < deadline, "/healthz not 200 within {secs} s: {}", self.stderr());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The Prometheus text exposition (what `curl` gets).
    pub async fn metrics(&self) -> String {
        let (status, ct, body) = self.get("/metrics", None).await.expect("scrape");
        assert_eq!(status, 200, "{body}");
        assert_eq!(ct, "text/plain; version=0.0.4; charset=utf-8");
        body
    }

    /// Scrape until every source is up (its last poll succeeded); that scrape's samples.
    pub async fn wait_all_sources_up(&mut self, secs: u64) -> (String, Vec<Sample>) {
        self.wait_healthy(secs).await;
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let body = self.metrics().await;
            let samples = parse(&body);
            let up: Vec<&Sample> = samples.iter().filter(|s| s.name == "opsdeck_source_up").collect();
            if !up.is_empty() && up.iter().all(|s| s.value == 1.0) {
                return (body, samples);
            }
            assert!(Instant::now() < deadline, "sources not all up within {secs} s: {up:?}\n{}", self.stderr());
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// Send `signal` (TERM, INT) and wait for the exit: its status and how long it took.
    pub fn signal_and_wait(&mut self, signal: &str, secs: u64) -> (ExitStatus, Duration) {
        let sent = Instant::now();
        let ok = Command::new("kill").arg(format!("-{signal}")).arg(self.child.id().to_string()).status();
        assert!(ok.is_ok_and(|s| s.success()), "kill -{signal}");
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return (status, sent.elapsed());
            }
            assert!(sent.elapsed() < Duration::from_secs(secs), "still running {secs} s after SIG{signal}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// One sample line of the text exposition.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

impl Sample {
    pub fn label(&self, name: &str) -> &str {
        self.labels.get(name).map_or("", String::as_str)
    }
}

/// The samples of a text exposition (comments skipped), label values unescaped.
pub fn parse(body: &str) -> Vec<Sample> {
    body.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()).map(parse_line).collect()
}

fn parse_line(line: &str) -> Sample {
    let (name, rest) = match line.find(['{', ' ']) {
        Some(i) => (&line[..i], &line[i..]),
        None => panic!("no value: {line}"),
    };
    let mut labels = BTreeMap::new();
    let mut chars = rest.chars().peekable();
    if chars.peek() == Some(&'{') {
        chars.next();
        loop {
            let key: String =
                chars.by_ref().take_while(|c| *c != '=').collect::<String>().trim_start_matches(',').into();
            if key.is_empty() {
                break;
            }
            assert_eq!(chars.next(), Some('"'), "{line}");
            let mut value = String::new();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => match chars.next() {
                        Some('n') => value.push('\n'),
                        Some(other) => value.push(other),
                        None => panic!("{line}"),
                    },
                    '"' => break,
                    c => value.push(c),
                }
            }
            labels.insert(key, value);
            if chars.peek() == Some(&'}') {
                chars.next();
                break;
            }
        }
    }
    let value_text: String = chars.collect();
    let value = value_text.split_whitespace().next().unwrap_or_else(|| panic!("no value: {line}"));
    Sample { name: name.to_string(), labels, value: value.parse().unwrap_or_else(|e| panic!("{value}: {e}")) }
}

/// `# TYPE` of each family, by name.
pub fn types(body: &str) -> BTreeMap<String, String> {
    body.lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split_once(' ').map(|(n, t)| (n.to_string(), t.to_string())))
        .collect()
}

/// `# HELP` of each family, by name.
pub fn helps(body: &str) -> BTreeMap<String, String> {
    body.lines()
        .filter_map(|l| l.strip_prefix("# HELP "))
        .filter_map(|l| l.split_once(' ').map(|(n, t)| (n.to_string(), t.to_string())))
        .collect()
}

/// `promtool check metrics` on `body`: (passed, what it said).
pub fn promtool_check(body: &str) -> (bool, String) {
    use std::io::Write;
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool (Debian's prometheus package)");
    child.stdin.take().expect("stdin").write_all(body.as_bytes()).expect("write");
    let out = child.wait_with_output().expect("promtool");
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), said)
}

#[test]
fn the_reader_reads_escaped_labels_and_bare_samples() {
    let s = parse("# HELP x y\nx{a=\"q\\\"u\\\\o\\nte\",b=\"\"} 1.5\nup 1\n");
    assert_eq!(s.len(), 2);
    assert_eq!(s[0].label("a"), "q\"u\\o\nte");
    assert_eq!(s[0].labels.get("b").map(String::as_str), Some(""));
    assert_eq!((s[0].value, s[1].name.as_str(), s[1].value), (1.5, "up", 1.0));
}
