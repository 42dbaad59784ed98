//! Real Prometheus, Alertmanager and Pushgateway servers (Debian's packages) for the
//! Prometheus-source tests: each on a free 127.0.0.1 port with its own temporary
//! storage, killed on drop. scripts/test installs the packages.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::moto::free_port;

pub struct Server {
    child: Child,
    pub port: u16,
    /// Storage and config; removed on drop, after the process is gone.
    pub dir: tempfile::TempDir,
    name: &'static str,
    bin: String,
    args: Vec<String>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn spawn(name: &'static str, bin: &str, args: Vec<String>, dir: tempfile::TempDir, port: u16) -> Server {
        let child = start_process(bin, &args, dir.path());
        let server = Server { child, port, dir, name, bin: bin.to_string(), args };
        server.wait_ready();
        server
    }

    /// Kill the server process (SIGKILL: no goodbye to its clients).
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Start it again on the same port with the same storage, and wait until ready.
    pub fn revive(&mut self) {
        self.child = start_process(&self.bin, &self.args, self.dir.path());
        self.wait_ready();
    }

    /// Wait for `/-/ready` to answer 200 (Prometheus replays its WAL first).
    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if http_get_status(self.port, "/-/ready") == Some(200) {
                return;
            }
            if Instant::now() > deadline {
                let log = std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default();
                panic!("{} on {} not ready within 30 s; its log:\n{log}", self.name, self.port);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }
}

fn start_process(bin: &str, args: &[String], dir: &Path) -> Child {
    let log = std::fs::OpenOptions::new().create(true).append(true).open(dir.join("server.log")).expect("log file");
    Command::new(bin).args(args).current_dir(dir).stdout(Stdio::null()).stderr(log).spawn().unwrap_or_else(|e| {
        panic!("cannot start {bin} ({e}): run ./scripts/test, which installs Debian's {bin} package")
    })
}

/// A bare HTTP/1.1 GET status, so readiness checks need no client library.
fn http_get_status(port: u16, path: &str) -> Option<u16> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(s, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").ok()?;
    let mut head = [0u8; 12];
    s.read_exact(&mut head).ok()?;
    std::str::from_utf8(&head[9..12]).ok()?.parse().ok()
}

pub const ALERTMANAGER_CONFIG: &str = r#"
route:
  receiver: oncall
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: oncall
inhibit_rules:
  - source_matchers: ['alertname="RegionDown"']
    target_matchers: ['severity="warning"']
    equal: [cloud]
"#;

pub fn pushgateway() -> Server {
    let port = free_port();
    let dir = tempfile::tempdir().expect("tempdir");
    Server::spawn(
        "pushgateway",
        "prometheus-pushgateway",
        vec![format!("--web.listen-address=127.0.0.1:{port}")],
        dir,
        port,
    )
}

/// One Alertmanager. `cluster`: None for a single node (empty cluster address),
/// or (this node's gossip port, the peers' gossip ports).
pub fn alertmanager(cluster: Option<(u16, &[u16])>) -> Server {
    alertmanager_with(ALERTMANAGER_CONFIG, cluster)
}

/// One Alertmanager running `config` (its am.yml).
pub fn alertmanager_with(config: &str, cluster: Option<(u16, &[u16])>) -> Server {
    let port = free_port();
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("am.yml"), config).expect("config");
    let mut args = vec![
        "--config.file=am.yml".to_string(),
        "--storage.path=data".to_string(),
        format!("--web.listen-address=127.0.0.1:{port}"),
    ];
    match cluster {
        None => args.push("--cluster.listen-address=".into()),
        Some((gossip, peers)) => {
            args.push(format!("--cluster.listen-address=127.0.0.1:{gossip}"));
            args.push(format!("--cluster.advertise-address=127.0.0.1:{gossip}"));
            args.extend(peers.iter().map(|p| format!("--cluster.peer=127.0.0.1:{p}")));
            // Loopback peers settle at once; the default waits a minute before serving.
            args.push("--cluster.settle-timeout=1s".into());
            args.push("--cluster.gossip-interval=100ms".into());
            args.push("--cluster.pushpull-interval=1s".into());
        }
    }
    Server::spawn("alertmanager", "prometheus-alertmanager", args, dir, port)
}

/// Prometheus scraping `pushgateway` every second, evaluating `rules` every second
/// and sending alerts to `alertmanager`.
pub fn prometheus(pushgateway: &Server, alertmanager: Option<&Server>, rules: &str) -> Server {
    let port = free_port();
    let dir = tempfile::tempdir().expect("tempdir");
    let alerting = match alertmanager {
        Some(am) => format!(
            "alerting:\n  alertmanagers:\n    - static_configs:\n        - targets: ['127.0.0.1:{}']\n",
            am.port
        ),
        None => String::new(),
    };
    let config = format!(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files: [rules.yml]\n{alerting}\
         scrape_configs:\n  - job_name: pushgateway\n    honor_labels: true\n    static_configs:\n      - targets: ['127.0.0.1:{}']\n",
        pushgateway.port
    );
    std::fs::write(dir.path().join("rules.yml"), rules).expect("rules");
    spawn_prometheus(dir, port, &config)
}

/// Replace the metrics of push group `job` (text exposition format).
pub async fn push(pushgateway: &Server, job: &str, text: &str) {
    let url = format!("{}/metrics/job/{job}", pushgateway.url());
    let resp = reqwest::Client::new().put(&url).body(text.to_string()).send().await.expect("push");
    assert!(resp.status().is_success(), "push to {url}: {}", resp.status());
}

/// GET a JSON document, as an independent client would (no opsdeck code involved).
pub async fn get_json(url: &str) -> serde_json::Value {
    let resp = reqwest::get(url).await.unwrap_or_else(|e| panic!("GET {url}: {e}"));
    assert!(resp.status().is_success(), "GET {url}: {}", resp.status());
    resp.json().await.unwrap_or_else(|e| panic!("GET {url}: not JSON: {e}"))
}

/// POST alerts straight to an Alertmanager, as Prometheus would.
pub async fn post_alerts(am: &Server, alerts: serde_json::Value) {
    let resp =
        reqwest::Client::new().post(format!("{}/api/v2/alerts", am.url())).json(&alerts).send().await.expect("post");
    assert!(resp.status().is_success(), "POST alerts: {}", resp.status());
}

/// Poll `check` every 200 ms until it gives Some, or fail after `secs` with `what`.
pub async fn eventually<T, F, Fut>(secs: u64, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(Instant::now() < deadline, "not within {secs} s: {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

pub fn amtool() -> &'static Path {
    Path::new("amtool")
}

/// Prometheus scraping each `(job, port)` target's `/metrics` on 127.0.0.1 every
/// second, with no rules and no Alertmanager (`opsdeck export` under test).
pub fn prometheus_scraping(targets: &[(&str, u16)]) -> Server {
    let port = free_port();
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = String::from("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n");
    for (job, target) in targets {
        config
            .push_str(&format!("  - job_name: {job}\n    static_configs:\n      - targets: ['127.0.0.1:{target}']\n"));
    }
    spawn_prometheus(dir, port, &config)
}

/// The Debian Prometheus on 127.0.0.1:`port` with `config` as prometheus.yml in `dir`.
fn spawn_prometheus(dir: tempfile::TempDir, port: u16, config: &str) -> Server {
    std::fs::write(dir.path().join("prometheus.yml"), config).expect("config");
    Server::spawn(
        "prometheus",
        "prometheus",
        vec![
            "--config.file=prometheus.yml".into(),
            "--storage.tsdb.path=data".into(),
            format!("--web.listen-address=127.0.0.1:{port}"),
        ],
        dir,
        port,
    )
}

/// Prometheus scraping nothing, its storage backfilled first with `promtool tsdb
/// create-blocks-from openmetrics` from `openmetrics` (samples with timestamps, in
/// the past): history of hours that a test need not wait for.
pub fn prometheus_backfilled(openmetrics: &str) -> Server {
    let port = free_port();
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("backfill.om"), openmetrics).expect("backfill file");
    let out = Command::new("promtool")
        .args(["tsdb", "create-blocks-from", "openmetrics", "backfill.om", "data"])
        .current_dir(dir.path())
        .output()
        .expect("promtool (Debian's prometheus package)");
    assert!(out.status.success(), "promtool: {}", String::from_utf8_lossy(&out.stderr));
    spawn_prometheus(dir, port, "global:\n  scrape_interval: 1m\n")
}
