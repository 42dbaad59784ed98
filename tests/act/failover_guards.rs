//! `opsdeck failover A B --percent 10 --yes --confirm B --json`, the real binary,
//! against a healthy generated estate of each cloud's DNS steering: Route 53 in
//! moto, Traffic Manager in the ARM stand-in, GTM in the Alibaba stand-in. With a
//! split-brain witness answering, every guard passes or is unknown (none fails),
//! the failover runs without --force and the write lands, read back independently
//! (boto3, the stand-ins' own request logs). With the witness down it is refused
//! and nothing is written; with none configured the arbiter guard is unknown and
//! the failover runs, unless `[guards] require` names it. Every attempt's audit
//! line carries each guard's state.
//!
//! With sizing and a replication figure configured (AWS: `rps_per_instance`, a
//! load balancer's RequestCount and Aurora's AuroraGlobalDBReplicationLag put into
//! moto's CloudWatch; Alibaba: `rps_per_instance`, an SLB's InstanceQps and a
//! PolarDB cluster's replica lag served by the stand-in's DescribeMetricLast),
//! every guard is judged: all pass (none unknown) and the write lands; a lag
//! beyond `rpo_secs` fails the RPO guard alone, and a size too small for the new
//! share fails capacity alone — each refused (exit 3) with nothing written.

use crate::support;

use crate::azure_estate;
use crate::tls_front;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_opsdeck");
const WITNESS: &str = "witness-ñ-fra";

// ---- a split-brain witness: a local HTTP server answering 200 -----------------

struct Witness {
    port: u16,
    stopped: Arc<AtomicBool>,
    hits: Arc<AtomicUsize>,
}

impl Witness {
    fn start() -> Witness {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let stopped = Arc::new(AtomicBool::new(false));
        let hits = Arc::new(AtomicUsize::new(0));
        let (stop, count) = (stopped.clone(), hits.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                if stop.load(Ordering::SeqCst) {
                    return; // drops the listener: the port refuses from now on
                }
                count.fetch_add(1, Ordering::SeqCst);
                answer_ok(conn);
            }
        });
        Witness { port, stopped, hits }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/health", self.port)
    }

    fn stop(&self) {
        self.stopped.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag and closes the port.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
            assert!(std::time::Instant::now() < deadline, "the witness did not stop");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

fn answer_ok(mut conn: TcpStream) {
    let mut buf = [0u8; 4096];
    let mut head = Vec::new();
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match conn.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let _ = conn
        .write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
}

/// How the arbiter is set up for one attempt.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Arbiter {
    /// One witness, answering.
    Up,
    /// One witness, stopped.
    Down,
    /// No `[[arbiters]]`.
    None,
    /// No `[[arbiters]]`, and `[guards] require = ["arbiter"]`.
    NoneRequired,
}

impl Arbiter {
    /// The config after the sources: the witness and the guards table.
    fn toml(self, witness: &Witness) -> String {
        match self {
            Arbiter::Up | Arbiter::Down => format!(
                "\n[[arbiters]]\nname = \"{WITNESS}\"\nlocation = \"on-prem Frankfurt\"\nurl = \"{}\"\ntimeout_secs = 2\n",
                witness.url()
            ),
            Arbiter::None => String::new(),
            Arbiter::NoneRequired => "\n[guards]\nrequire = [\"arbiter\"]\n".into(),
        }
    }

    fn runs(self) -> bool {
        matches!(self, Arbiter::Up | Arbiter::None)
    }
}

/// The order the attempts are made in, on one estate: the witness answers, then it
/// is stopped; then none is configured, then none but required. Each that runs
/// moves weight from what the last left; each refusal must write nothing.
const ATTEMPTS: [Arbiter; 4] = [Arbiter::Up, Arbiter::Down, Arbiter::None, Arbiter::NoneRequired];

// ---- running the binary ------------------------------------------------------

struct Attempt {
    code: Option<i32>,
    report: Value,
    audit: Vec<Value>,
    stderr: String,
}

/// `opsdeck --config CFG failover FROM TO --percent 10 --yes --confirm TO --json` in
/// a fresh home (so the audit log holds this attempt only).
async fn failover(config: &str, from: &str, to: &str, env: &[(&str, String)]) -> Attempt {
    let home = tempfile::tempdir().expect("tempdir");
    let path = home.path().join("opsdeck.toml");
    std::fs::write(&path, config).expect("config");
    let mut cmd = Command::new(BIN);
    cmd.arg("--config")
        .arg(&path)
        .args(["failover", from, to, "--percent", "10", "--yes", "--confirm", to, "--json"])
        .env("XDG_CONFIG_HOME", home.path())
        .env("XDG_STATE_HOME", home.path().join("state"))
        .env("HOME", home.path())
        .env("USER", "runbook")
        .env_remove("DBUS_SESSION_BUS_ADDRESS");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = tokio::task::spawn_blocking(move || cmd.output()).await.expect("join").expect("run opsdeck");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let report: Value =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("not a JSON report ({e}): {stdout}\n{stderr}"));
    let audit = std::fs::read_to_string(home.path().join("state/opsdeck/audit.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).expect("audit line is JSON"))
        .collect();
    Attempt { code: out.status.code(), report, audit, stderr }
}

fn guard<'a>(report: &'a Value, key: &str) -> &'a Value {
    report["guards"]
        .as_array()
        .and_then(|g| g.iter().find(|g| g["key"] == key))
        .unwrap_or_else(|| panic!("no {key} guard in {report:#}"))
}

fn states(guards: &Value) -> Vec<(String, String)> {
    guards
        .as_array()
        .map(|g| {
            g.iter()
                .map(|g| (g["key"].as_str().unwrap_or("?").to_string(), g["state"].as_str().unwrap_or("?").to_string()))
                .collect()
        })
        .unwrap_or_default()
}

/// What every attempt must show for `arbiter`, whatever the cloud: the outcome,
/// the exit code, the arbiter guard's state, no other guard failed, and an audit
/// line with each guard's state as the report has it.
fn assert_attempt(a: &Attempt, arbiter: Arbiter, witness: &Witness, ctx: &str) {
    let r = &a.report;
    let ctx = format!("{ctx} {arbiter:?}: {r:#}\n{}", a.stderr);
    let failed: Vec<String> = states(&r["guards"]).into_iter().filter(|(_, s)| s == "failed").map(|(k, _)| k).collect();
    let arb = guard(r, "arbiter");
    assert_eq!(guard(r, "healthy")["state"], "passed", "{ctx}");
    match arbiter {
        Arbiter::Up => {
            assert_eq!(arb["state"], "passed", "{ctx}");
            assert!(arb["detail"].as_str().is_some_and(|d| d.contains(WITNESS) && d.contains("1 of 1")), "{ctx}");
            assert!(failed.is_empty(), "{ctx}");
        }
        Arbiter::Down => {
            assert_eq!(arb["state"], "failed", "{ctx}");
            assert_eq!(failed, vec!["arbiter".to_string()], "only the arbiter refuses: {ctx}");
            let reason = r["reason"].as_str().unwrap_or_default();
            assert!(reason.contains("arbiters answer") && reason.contains(WITNESS), "{ctx}");
        }
        Arbiter::None | Arbiter::NoneRequired => {
            assert_eq!(arb["state"], "unknown", "{ctx}");
            assert_eq!(arb["required"], arbiter == Arbiter::NoneRequired, "{ctx}");
            assert!(arb["detail"].as_str().is_some_and(|d| d.contains("[[arbiters]]")), "{ctx}");
            assert!(failed.is_empty(), "{ctx}");
        }
    }
    if arbiter == Arbiter::NoneRequired {
        let reason = r["reason"].as_str().unwrap_or_default();
        assert!(reason.contains("arbiter reachable is unknown and required"), "{ctx}");
    }
    if arbiter.runs() {
        assert_eq!(
            (a.code, r["outcome"].as_str(), r["exit_code"].as_u64()),
            (Some(0), Some("executed"), Some(0)),
            "{ctx}"
        );
        assert!(r["forced"].is_null(), "{ctx}");
    } else {
        assert_eq!(
            (a.code, r["outcome"].as_str(), r["exit_code"].as_u64()),
            (Some(3), Some("refused"), Some(3)),
            "{ctx}"
        );
    }
    // One audit line, with every guard's state.
    assert_eq!(a.audit.len(), 1, "{ctx}");
    let line = &a.audit[0];
    assert_eq!(line["outcome"], if arbiter.runs() { "executed" } else { "refused" }, "{ctx}");
    assert_eq!(line["forced"], Value::Null, "{ctx}");
    assert_eq!(states(&line["guards"]), states(&r["guards"]), "{ctx}");
    assert!(line["guards"].as_array().is_some_and(|g| g.iter().all(|g| g["state"].is_string())), "{ctx}");
    if arbiter == Arbiter::Up {
        assert!(witness.hits() > 0, "{ctx}: the witness was never probed");
    }
}

/// Weights after a 10 % move from `from` to `to`, computed here: 10 % of the total
/// weight (rounded, at least 1) leaves `from` and goes to `to`.
fn moved(weights: &BTreeMap<String, u32>, from: &str, to: &str) -> BTreeMap<String, u32> {
    let total: u32 = weights.values().sum();
    let step = ((f64::from(total) * 0.10).round() as u32).max(1);
    let mut out = weights.clone();
    *out.get_mut(from).expect("from") -= step;
    *out.get_mut(to).expect("to") += step;
    out
}

/// `after` is `before` with 10 % of the total weight moved from the answers in
/// `from` to those in `to`, each answer giving or taking its part in proportion to
/// its weight (rounded either way), the rest untouched.
fn assert_moved(before: &BTreeMap<String, u32>, after: &BTreeMap<String, u32>, from: &[&str], to: &[&str], ctx: &str) {
    let total: u32 = before.values().sum();
    let step = ((f64::from(total) * 0.10).round() as u32).max(1);
    assert_eq!(after.values().sum::<u32>(), total, "{ctx}: the total weight stays {total}: {after:?}");
    for (ids, sign) in [(from, -1i64), (to, 1)] {
        let held: u32 = ids.iter().map(|id| before[*id]).sum();
        let mut sum = 0;
        for id in ids {
            let delta = (i64::from(after[*id]) - i64::from(before[*id])) * sign;
            let exact = f64::from(step) * f64::from(before[*id]) / f64::from(held);
            assert!(
                delta >= exact.floor() as i64 && delta <= exact.ceil() as i64,
                "{ctx}: {id} moved {delta}, its part of {step} is {exact:.2}: {before:?} → {after:?}"
            );
            sum += delta;
        }
        assert_eq!(sum, i64::from(step), "{ctx}: {step} moved: {before:?} → {after:?}");
    }
    for (id, w) in before {
        if !from.contains(&id.as_str()) && !to.contains(&id.as_str()) {
            assert_eq!(after[id], *w, "{ctx}: {id} untouched");
        }
    }
}

// ---- AWS: Route 53 in moto ---------------------------------------------------

const AWS_SEEDS: [u64; 3] = [1, 7, 23];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn route53_failover_runs_on_a_healthy_estate_and_the_arbiter_decides() {
    use support::aws_estate::Estate;
    let env = [
        ("AWS_ACCESS_KEY_ID", "testing".to_string()),
        ("AWS_SECRET_ACCESS_KEY", "testing".to_string()),
        ("AWS_REGION", "us-east-1".to_string()),
    ];
    for seed in AWS_SEEDS {
        let moto = support::moto::Moto::start();
        let estate = Estate::generate(seed);
        let zone = estate.seed(&moto.url()).await;
        let truth: BTreeMap<String, u32> = estate.answers.iter().map(|a| (a.id.clone(), a.weight)).collect();
        let mut weights = support::aws_estate::boto3_weights(&moto.url(), &zone).await;
        assert_eq!(weights, truth, "seed {seed}: moto holds the generated record");
        let aws_ids: Vec<&str> = estate.answers.iter().filter(|a| a.cloud == "aws").map(|a| a.id.as_str()).collect();
        let witness = Witness::start();
        let sources = estate.config_toml(&moto.url(), &zone, "aws-estate");
        for arbiter in ATTEMPTS {
            if arbiter == Arbiter::Down {
                witness.stop();
            }
            let config = sources.clone() + &arbiter.toml(&witness);
            let a = failover(&config, "azure", "aws", &env).await;
            let ctx = format!("aws seed {seed}");
            assert_attempt(&a, arbiter, &witness, &ctx);
            let now = support::aws_estate::boto3_weights(&moto.url(), &zone).await;
            if arbiter.runs() {
                assert_moved(&weights, &now, &["azure-weu"], &aws_ids, &format!("{ctx} {arbiter:?}"));
                assert!(a.report["request_id"].as_str().is_some_and(|id| !id.is_empty()), "{ctx}");
                weights = now;
            } else {
                assert_eq!(now, weights, "{ctx} {arbiter:?}: nothing was written");
            }
        }
    }
}

// ---- Azure: Traffic Manager in the ARM stand-in ----------------------------------

/// Seeds of the Azure estate generator.
const AZURE_SEEDS: [u64; 3] = [2, 11, 31];

/// The endpoint PATCHes the stand-in received, in order: (endpoint name, weight).
async fn tm_writes(server: &wiremock::MockServer) -> Vec<(String, Value)> {
    server
        .received_requests()
        .await
        .expect("recording")
        .into_iter()
        .filter(|r| r.method.as_str() == "PATCH")
        .map(|r| {
            let path = percent_encoding::percent_decode_str(r.url.path()).decode_utf8_lossy().into_owned();
            let name = path.rsplit('/').next().unwrap_or_default().to_string();
            let body: Value = serde_json::from_slice(&r.body).expect("PATCH body is JSON");
            assert!(path.contains("/externalEndpoints/"), "{path}");
            (name, body)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn traffic_manager_failover_runs_on_a_healthy_estate_and_the_arbiter_decides() {
    let env = [
        ("SSL_CERT_FILE", tls_front::ca_file().display().to_string()),
        ("AZURE_TENANT_ID", azure_estate::TENANT.to_string()),
        ("AZURE_CLIENT_ID", azure_estate::CLIENT.to_string()),
        ("AZURE_CLIENT_SECRET", azure_estate::SECRET.to_string()),
    ];
    for seed in AZURE_SEEDS {
        let estate = azure_estate::Estate::generate(seed).with_failover_profile();
        let profile = estate.subs[0].profiles[0].clone();
        let name_of = |target: &str| {
            profile.endpoints.iter().find(|e| e.target.contains(target)).map(|e| e.name.clone()).expect("endpoint")
        };
        let (aws, azure) = (name_of("amazonaws.com"), name_of("azure.com"));
        let mut weights: BTreeMap<String, u32> = profile.endpoints.iter().map(|e| (e.name.clone(), e.weight)).collect();
        let server = azure_estate::serve(&estate).await;
        let front = tls_front::start(*server.address()).await;
        let sources = estate.config_toml(&format!("https://{front}"), "az");
        let witness = Witness::start();
        let mut written = 0;
        for arbiter in ATTEMPTS {
            if arbiter == Arbiter::Down {
                witness.stop();
            }
            let config = sources.clone() + &arbiter.toml(&witness);
            let a = failover(&config, "aws", "azure", &env).await;
            let ctx = format!("azure seed {seed}");
            assert_attempt(&a, arbiter, &witness, &ctx);
            let writes = tm_writes(&server).await;
            let new = &writes[written..];
            if arbiter.runs() {
                weights = moved(&weights, &aws, &azure);
                // Both endpoints PATCHed to the new weights, the rising one first so
                // no moment has less weight serving.
                let want = vec![
                    (azure.clone(), serde_json::json!({"properties": {"weight": weights[&azure]}})),
                    (aws.clone(), serde_json::json!({"properties": {"weight": weights[&aws]}})),
                ];
                assert_eq!(new, want.as_slice(), "{ctx} {arbiter:?}: the write landed as planned");
                let idx = |n: &str| profile.endpoints.iter().position(|e| e.name == n).expect("index");
                let ids = format!("tm-patch-0-0-{},tm-patch-0-0-{}", idx(&azure), idx(&aws));
                assert_eq!(a.report["request_id"].as_str(), Some(ids.as_str()), "{ctx}: the stand-in's request ids");
            } else {
                assert!(new.is_empty(), "{ctx} {arbiter:?}: nothing was written: {new:?}");
            }
            written = writes.len();
        }
    }
}

// ---- Alibaba Cloud: GTM in the signed stand-in -----------------------------------

use support::aliyun::{KEY_ID, KEY_SECRET};
use support::aliyun_estate::{Estate as AliEstate, GTM_NAME, GTM_STRATEGY};

/// The config of every region of the estate (GTM and the bill on the first).
fn aliyun_config(estate: &AliEstate, servers: &[support::aliyun::Server]) -> String {
    aliyun_sized_config(estate, servers, None)
}

/// The same, with `Some((rps_per_instance, rpo_secs))`: every region's groups
/// sized, and the first region reading its load balancer and PolarDB lag from
/// CloudMonitor against that RPO.
fn aliyun_sized_config(estate: &AliEstate, servers: &[support::aliyun::Server], sized: Option<(f64, f64)>) -> String {
    let mut toml = String::new();
    for (i, (r, s)) in estate.regions.iter().zip(servers).enumerate() {
        let (rps, rpo) = match sized {
            Some((rps, rpo)) => (format!("rps_per_instance = {rps:?}\n"), format!("rpo_secs = {rpo:?}\n")),
            None => Default::default(),
        };
        toml += &format!(
            "[[sources]]\nname = \"ali-{}\"\nkind = \"aliyun\"\ninterval_secs = 60\ntimeout_secs = 20\n{rps}\
             [sources.aliyun]\nregion = \"{}\"\nbilling = {}\n{rpo}[sources.aliyun.endpoints]\n",
            r.region,
            r.region,
            i == 0
        );
        for k in ["cms", "ess", "alidns", "bss"] {
            toml += &format!("{k} = \"{}\"\n", s.url);
        }
        if i == 0 {
            toml += &format!(
                "[[sources.aliyun.gtm]]\ninstance_id = \"{}\"\nstrategy_id = \"{GTM_STRATEGY}\"\nname = \"{GTM_NAME}\"\n\
                 default_cloud = \"aliyun\"\nfailover_cloud = \"aws\"\n",
                support::aliyun_estate::GTM_INSTANCE
            );
            if sized.is_some() {
                toml += &format!(
                    "[sources.aliyun.metrics]\nload_balancers = [{{ kind = \"slb\", id = \"{}\" }}]\n\
                     polardb_clusters = [\"{}\"]\n",
                    support::aliyun_estate::SLB_ID,
                    support::aliyun_estate::POLARDB_ID
                );
            }
        }
    }
    toml
}

/// Seeds whose GTM strategy can fail over to a healthy pool, both ways between them.
const ALIYUN_SEEDS: [u64; 4] = [0, 1, 2, 3];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gtm_failover_runs_on_a_healthy_estate_and_the_arbiter_decides() {
    let env = [
        ("ALIBABA_CLOUD_ACCESS_KEY_ID", KEY_ID.to_string()),
        ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", KEY_SECRET.to_string()),
    ];
    let mut directions = Vec::new();
    for seed in ALIYUN_SEEDS {
        for arbiter in ATTEMPTS {
            // A fresh estate per attempt: GTM answers from one pool, so a second
            // failover the same way would have nothing left to move.
            let estate = Arc::new(AliEstate::generate(seed, chrono::Utc::now()));
            let (from, to, mode) = if estate.weights["default"] == 1 {
                ("aliyun", "aws", "FAILOVER")
            } else {
                ("aws", "aliyun", "DEFAULT")
            };
            assert!(to == "aws" || estate.default_available(), "seed {seed}: pick seeds with a healthy target");
            let servers = estate.serve();
            let witness = Witness::start();
            if arbiter == Arbiter::Down {
                witness.stop();
            }
            let config = aliyun_config(&estate, &servers) + &arbiter.toml(&witness);
            let a = failover(&config, from, to, &env).await;
            let ctx = format!("aliyun seed {seed} {from}→{to}");
            assert_attempt(&a, arbiter, &witness, &ctx);
            let writes: Vec<(Option<String>, Option<String>)> = servers
                .iter()
                .flat_map(|s| s.seen_action("SetDnsGtmAccessMode"))
                .map(|s| {
                    assert!(s.signature_ok, "{ctx}");
                    (s.param("StrategyId").map(String::from), s.param("AccessMode").map(String::from))
                })
                .collect();
            if arbiter.runs() {
                let want = vec![(Some(GTM_STRATEGY.to_string()), Some(mode.to_string()))];
                assert_eq!(writes, want, "{ctx} {arbiter:?}: the write landed as planned");
                assert_eq!(
                    a.report["request_id"].as_str(),
                    Some(format!("gtm-mode-{}", mode.to_ascii_lowercase()).as_str()),
                    "{ctx}"
                );
                directions.push(to);
            } else {
                assert!(writes.is_empty(), "{ctx} {arbiter:?}: nothing was written: {writes:?}");
            }
            for s in &servers {
                s.stop();
            }
        }
    }
    assert!(directions.contains(&"aws") && directions.contains(&"aliyun"), "both ways: {directions:?}");
}

/// The guards are not a rubber stamp: a GTM strategy whose default pool is
/// NOT_AVAILABLE (AUTO has switched to the failover pool) is no place to fail over
/// to, witness or not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gtm_failover_to_an_unavailable_pool_is_refused_by_target_health() {
    let env = [
        ("ALIBABA_CLOUD_ACCESS_KEY_ID", KEY_ID.to_string()),
        ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", KEY_SECRET.to_string()),
    ];
    let now = chrono::Utc::now();
    let down = |e: &AliEstate| !e.default_available() && e.weights["failover"] == 1;
    let seeds: Vec<u64> = (0..200).filter(|s| down(&AliEstate::generate(*s, now))).take(2).collect();
    assert_eq!(seeds.len(), 2, "the generator makes strategies answering from failover, default down");
    for seed in seeds {
        let estate = Arc::new(AliEstate::generate(seed, now));
        let servers = estate.serve();
        let witness = Witness::start();
        let config = aliyun_config(&estate, &servers) + &Arbiter::Up.toml(&witness);
        let a = failover(&config, "aws", "aliyun", &env).await;
        let ctx = format!("aliyun seed {seed}: {:#}", a.report);
        assert_eq!((a.code, a.report["outcome"].as_str()), (Some(3), Some("refused")), "{ctx}");
        assert_eq!(guard(&a.report, "healthy")["state"], "failed", "{ctx}");
        assert_eq!(guard(&a.report, "arbiter")["state"], "passed", "{ctx}");
        assert!(a.report["reason"].as_str().is_some_and(|r| r.contains("default is DOWN")), "{ctx}");
        assert_eq!(states(&a.audit[0]["guards"]), states(&a.report["guards"]), "{ctx}");
        let writes: usize = servers.iter().map(|s| s.seen_action("SetDnsGtmAccessMode").len()).sum();
        assert_eq!(writes, 0, "{ctx}: nothing was written");
        for s in &servers {
            s.stop();
        }
    }
}

// ---- AWS with sizing and a replication figure: every guard judged --------------

/// The load balancer each region's figures come from (the `app/NAME/ID` dimension).
fn load_balancer(region: &str) -> String {
    format!("app/shop-{region}/50dc6c495c0c9188")
}

/// One datapoint 90 s ago, put with the SDK (the way CloudWatch receives it).
async fn put_datapoint(moto_url: &str, region: &str, namespace: &str, metric: &str, dim: (&str, &str), value: f64) {
    use aws_sdk_cloudwatch::primitives::DateTime as AwsTime;
    use aws_sdk_cloudwatch::types::{Dimension, MetricDatum};
    let sdk = support::moto::sdk_for(moto_url, region).await;
    aws_sdk_cloudwatch::Client::new(&sdk)
        .put_metric_data()
        .namespace(namespace)
        .metric_data(
            MetricDatum::builder()
                .metric_name(metric)
                .dimensions(Dimension::builder().name(dim.0).value(dim.1).build())
                .value(value)
                .timestamp(AwsTime::from_secs(chrono::Utc::now().timestamp() - 90))
                .build(),
        )
        .send()
        .await
        .expect("put metric data");
}

/// The estate's source with a load balancer per region, the Aurora global
/// database in the first region, `rpo_secs` and `rps_per_instance` for every group.
fn sized_config(estate: &support::aws_estate::Estate, base: &str, rps_per_instance: f64, rpo_secs: f64) -> String {
    let lbs: Vec<String> =
        estate.regions.iter().map(|r| format!("{:?} = {:?}", r.region, load_balancer(&r.region))).collect();
    let aws = format!(
        "[sources.aws]\nrpo_secs = {rpo_secs:?}\nload_balancers = {{ {} }}\naurora_clusters = {{ {:?} = [\"shop-global\"] }}\n",
        lbs.join(", "),
        estate.regions[0].region
    );
    assert!(base.contains("[sources.aws]\n"), "{base}");
    base.replacen("[sources.aws]\n", &format!("rps_per_instance = {rps_per_instance:?}\n{aws}"), 1)
}

/// The guards' states by key, in the report's order.
fn state_map(report: &Value) -> BTreeMap<String, String> {
    states(&report["guards"]).into_iter().collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn route53_failover_with_sizing_and_a_lag_judges_capacity_and_rpo() {
    use support::aws_estate::Estate;
    let env = [
        ("AWS_ACCESS_KEY_ID", "testing".to_string()),
        ("AWS_SECRET_ACCESS_KEY", "testing".to_string()),
        ("AWS_REGION", "us-east-1".to_string()),
    ];
    let all = |state: &str| -> BTreeMap<String, String> {
        ["fresh", "in_flight", "healthy", "capacity", "rpo", "arbiter"]
            .iter()
            .map(|k| (k.to_string(), state.to_string()))
            .collect()
    };
    for seed in [3u64, 7, 19] {
        let moto = support::moto::Moto::start();
        let estate = Estate::generate(seed);
        let zone = estate.seed(&moto.url()).await;
        let mut r = support::aws_estate::Rng::new(seed ^ 0xCAFE);
        // Requests per minute at each region's load balancer, and the Aurora lag.
        let mut total_rps = 0.0;
        for rt in &estate.regions {
            let per_minute = f64::from(r.range(600, 60_000));
            total_rps += per_minute / 60.0;
            let lb = load_balancer(&rt.region);
            put_datapoint(
                &moto.url(),
                &rt.region,
                "AWS/ApplicationELB",
                "RequestCount",
                ("LoadBalancer", &lb),
                per_minute,
            )
            .await;
        }
        let lag_ms = f64::from(r.range(200, 20_000));
        let region0 = estate.regions[0].region.clone();
        put_datapoint(
            &moto.url(),
            &region0,
            "AWS/RDS",
            "AuroraGlobalDBReplicationLag",
            ("DBClusterIdentifier", "shop-global"),
            lag_ms,
        )
        .await;
        let lag = lag_ms / 1000.0;

        // What AWS must serve after 10 % of the weight moves to it, computed here.
        let total_weight: u32 = estate.answers.iter().map(|a| a.weight).sum();
        let step = ((f64::from(total_weight) * 0.10).round() as u32).max(1);
        let after_share = f64::from(estate.weight_of("aws") + step) / f64::from(total_weight);
        let need = total_rps * after_share;
        let max_instances: u32 = estate.regions.iter().flat_map(|r| &r.groups).map(|g| g.max).sum();
        // Sized at twice what is needed at the 85 % ceiling, or at half of it.
        let ample = (2.0 * need / (f64::from(max_instances) * 0.85)).ceil();
        let scant = need / (2.0 * f64::from(max_instances) * 0.85);
        let base = estate.config_toml(&moto.url(), &zone, "aws-estate");
        let witness = Witness::start();
        let up = Arbiter::Up.toml(&witness);
        let before = support::aws_estate::boto3_weights(&moto.url(), &zone).await;
        let ctx = format!("aws seed {seed} (lag {lag}s, need {need:.1} req/s on {max_instances} max)");

        // The lag beyond the RPO: only the RPO guard fails, the failover is refused.
        let rpo_short = (lag * 0.5).max(0.1);
        let a = failover(&(sized_config(&estate, &base, ample, rpo_short) + &up), "azure", "aws", &env).await;
        let c = format!("{ctx} rpo {rpo_short}: {:#}\n{}", a.report, a.stderr);
        let mut want = all("passed");
        want.insert("rpo".into(), "failed".into());
        assert_eq!(state_map(&a.report), want, "{c}");
        let rpo = guard(&a.report, "rpo");
        assert!(rpo["detail"].as_str().is_some_and(|d| d.contains("shop-global") && d.contains("behind")), "{c}");
        assert_eq!((a.code, a.report["outcome"].as_str()), (Some(3), Some("refused")), "{c}");
        assert!(a.report["reason"].as_str().is_some_and(|r| r.contains("writes would be lost")), "{c}");
        assert_eq!(states(&a.audit[0]["guards"]), states(&a.report["guards"]), "{c}");
        assert_eq!(support::aws_estate::boto3_weights(&moto.url(), &zone).await, before, "{c}: nothing was written");

        // Too small a size for the new share: only capacity fails.
        let rpo_long = (lag * 2.0).ceil() + 1.0;
        let a = failover(&(sized_config(&estate, &base, scant, rpo_long) + &up), "azure", "aws", &env).await;
        let c = format!("{ctx} rps {scant}: {:#}\n{}", a.report, a.stderr);
        let mut want = all("passed");
        want.insert("capacity".into(), "failed".into());
        assert_eq!(state_map(&a.report), want, "{c}");
        let cap = guard(&a.report, "capacity");
        assert!(cap["detail"].as_str().is_some_and(|d| d.contains("configured") && d.contains("AWS")), "{c}");
        assert_eq!((a.code, a.report["outcome"].as_str()), (Some(3), Some("refused")), "{c}");
        assert_eq!(support::aws_estate::boto3_weights(&moto.url(), &zone).await, before, "{c}: nothing was written");

        // Sized and within the RPO: every guard passes, none unknown, and the write lands.
        let a = failover(&(sized_config(&estate, &base, ample, rpo_long) + &up), "azure", "aws", &env).await;
        let c = format!("{ctx} rps {ample} rpo {rpo_long}: {:#}\n{}", a.report, a.stderr);
        assert_eq!(state_map(&a.report), all("passed"), "{c}");
        let rpo = guard(&a.report, "rpo");
        assert!(
            rpo["detail"].as_str().is_some_and(|d| d.contains(&format!("shop-global ({region0})")) && d.contains("≤")),
            "{c}"
        );
        assert!(guard(&a.report, "capacity")["detail"].as_str().is_some_and(|d| d.contains("configured")), "{c}");
        assert_eq!(
            (a.code, a.report["outcome"].as_str(), a.report["forced"].is_null()),
            (Some(0), Some("executed"), true),
            "{c}"
        );
        assert_eq!(a.audit.len(), 1, "{c}");
        assert_eq!(states(&a.audit[0]["guards"]), states(&a.report["guards"]), "{c}");
        let aws_ids: Vec<&str> = estate.answers.iter().filter(|a| a.cloud == "aws").map(|a| a.id.as_str()).collect();
        let after = support::aws_estate::boto3_weights(&moto.url(), &zone).await;
        assert_moved(&before, &after, &["azure-weu"], &aws_ids, &c);
    }
}

// ---- Alibaba with sizing and a PolarDB lag: every guard judged -------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gtm_failover_with_sizing_and_a_polardb_lag_judges_capacity_and_rpo() {
    use support::aliyun_estate::{Figures, POLARDB_ID, Rng};
    let env = [
        ("ALIBABA_CLOUD_ACCESS_KEY_ID", KEY_ID.to_string()),
        ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", KEY_SECRET.to_string()),
    ];
    let all = |state: &str| -> BTreeMap<String, String> {
        ["fresh", "in_flight", "healthy", "capacity", "rpo", "arbiter"]
            .iter()
            .map(|k| (k.to_string(), state.to_string()))
            .collect()
    };
    let now = chrono::Utc::now();
    // Active groups' max, summed: what configured sizing can scale to.
    let max_of = |e: &AliEstate| -> u32 { e.groups().iter().filter(|g| !g.inactive).map(|g| g.max).sum() };
    // Strategies answering from AWS (the failover pool) whose default pool, on
    // Alibaba Cloud, is available and has somewhere to scale.
    let fits = |e: &AliEstate| e.weights["default"] != 1 && e.default_available() && max_of(e) > 0;
    let seeds: Vec<u64> = (0..300).filter(|s| fits(&AliEstate::generate(*s, now))).take(3).collect();
    assert_eq!(seeds.len(), 3, "the generator makes failovers to a healthy Alibaba Cloud");
    for seed in seeds {
        let mut r = Rng::new(seed ^ 0xF16);
        let figures = Figures {
            qps: f64::from(r.range(20, 5_000)),
            node_lags: (0..r.range(1, 3)).map(|_| f64::from(r.range(1, 400)) / 10.0).collect(),
        };
        let (qps, lag) = (figures.qps, figures.lag());
        let estate = Arc::new(AliEstate::generate(seed, now).with_figures(figures));
        let max_instances = f64::from(max_of(&estate));
        // All traffic lands on the default pool once the failover sets DEFAULT.
        let ample = (2.0 * qps / (max_instances * 0.85)).ceil();
        let scant = qps / (2.0 * max_instances * 0.85);
        let (rpo_short, rpo_long) = ((lag * 0.5).max(0.05), (lag * 2.0).ceil() + 1.0);
        let servers = estate.serve();
        let witness = Witness::start();
        let up = Arbiter::Up.toml(&witness);
        let ctx = format!("aliyun seed {seed} ({qps} req/s, lag {lag}s, {max_instances} max)");
        let writes = || -> usize { servers.iter().map(|s| s.seen_action("SetDnsGtmAccessMode").len()).sum() };

        // The lag beyond the RPO: only the RPO guard fails.
        let a =
            failover(&(aliyun_sized_config(&estate, &servers, Some((ample, rpo_short))) + &up), "aws", "aliyun", &env)
                .await;
        let c = format!("{ctx} rpo {rpo_short}: {:#}\n{}", a.report, a.stderr);
        let mut want = all("passed");
        want.insert("rpo".into(), "failed".into());
        assert_eq!(state_map(&a.report), want, "{c}");
        assert!(guard(&a.report, "rpo")["detail"].as_str().is_some_and(|d| d.contains(POLARDB_ID)), "{c}");
        assert_eq!((a.code, a.report["outcome"].as_str()), (Some(3), Some("refused")), "{c}");
        assert_eq!(states(&a.audit[0]["guards"]), states(&a.report["guards"]), "{c}");
        assert_eq!(writes(), 0, "{c}: nothing was written");

        // Too small a size: only capacity fails.
        let a =
            failover(&(aliyun_sized_config(&estate, &servers, Some((scant, rpo_long))) + &up), "aws", "aliyun", &env)
                .await;
        let c = format!("{ctx} rps {scant}: {:#}\n{}", a.report, a.stderr);
        let mut want = all("passed");
        want.insert("capacity".into(), "failed".into());
        assert_eq!(state_map(&a.report), want, "{c}");
        assert!(guard(&a.report, "capacity")["detail"].as_str().is_some_and(|d| d.contains("configured")), "{c}");
        assert_eq!((a.code, a.report["outcome"].as_str()), (Some(3), Some("refused")), "{c}");
        assert_eq!(writes(), 0, "{c}: nothing was written");

        // Sized and within the RPO: every guard passes, none unknown, the write lands.
        let a =
            failover(&(aliyun_sized_config(&estate, &servers, Some((ample, rpo_long))) + &up), "aws", "aliyun", &env)
                .await;
        let c = format!("{ctx} rps {ample} rpo {rpo_long}: {:#}\n{}", a.report, a.stderr);
        assert_eq!(state_map(&a.report), all("passed"), "{c}");
        let rpo = guard(&a.report, "rpo");
        assert!(rpo["detail"].as_str().is_some_and(|d| d.contains(&format!("lag {lag:.1}s"))), "{c}");
        assert_eq!((a.code, a.report["outcome"].as_str()), (Some(0), Some("executed")), "{c}");
        let modes: Vec<Option<String>> = servers
            .iter()
            .flat_map(|s| s.seen_action("SetDnsGtmAccessMode"))
            .map(|s| s.param("AccessMode").map(String::from))
            .collect();
        assert_eq!(modes, vec![Some("DEFAULT".to_string())], "{c}: the write landed");
        for s in &servers {
            s.stop();
        }
    }
}
