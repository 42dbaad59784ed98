//! Alertmanager's notification routes: a real Alertmanager (Debian's) serving a
//! route tree with several receivers, read back by the built binary's snapshot
//! JSON; and generated route trees over seeds, where opsdeck's matcher must send
//! each label set where a plain reference of Alertmanager's semantics does, and
//! where Alertmanager's own `amtool config routes test` does.

use crate::support;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use opsdeck::model::Labels;
use opsdeck::providers::prometheus::alertmanager::routes::{self, RouteTree};
use serde_json::{Value, json};
use support::promstack::{self, eventually, get_json, post_alerts};

/// Several receivers, nested routes, `continue`, every matcher syntax, a
/// receiver with no channels (the default: a blackhole), and targets that must
/// reach the JSON masked.
const CONFIG: &str = r##"
route:
  receiver: blackhole
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
  routes:
    - matchers: ['severity=~"critical|page"']
      receiver: pager
      continue: true
      routes:
        - matchers: ['cloud="aws"']
          receiver: aws-oncall
        - match_re: {cloud: "azure"}
          receiver: azure-oncall
    - match: {cloud: aliyun}
      receiver: aliyun-chat
      routes:
        - matchers: ['{severity="warning", team!~"web.*"}']
          receiver: aliyun-mail
    - matchers: ['team="db"']
      receiver: db
receivers:
  - name: blackhole
  - name: pager
    pagerduty_configs: [{routing_key: "R0UT1NGKEY0123456789"}]
    opsgenie_configs: [{api_key: "k", responders: [{name: sre-team, type: team}]}]
  - name: aws-oncall
    sns_configs:
      - {topic_arn: "arn:aws:sns:us-east-1:123456789012:aws-pager", sigv4: {region: us-east-1}}
      - {phone_number: "+15550100100", sigv4: {region: us-east-1}}
  - name: azure-oncall
    webhook_configs: [{url: "https://hooks.example.com/azure/T0K3N?sig=abc"}]
    email_configs: [{to: "oncall@example.com", from: "am@example.com", smarthost: "smtp.example.com:25"}]
  - name: aliyun-chat
    wechat_configs: [{api_secret: "s", corp_id: "c", to_user: "zhangwei01"}]
    telegram_configs: [{bot_token: "t", chat_id: -1001234567890}]
  - name: aliyun-mail
    email_configs: [{to: "运维@example.cn", from: "am@example.com", smarthost: "smtp.example.com:25"}]
  - name: db
    slack_configs: [{api_url: "https://hooks.slack.com/services/T/B/X", channel: "#db-pager"}]
    victorops_configs: [{api_key: "k", routing_key: "db-route-key"}]
    webex_configs:
      - {api_url: "https://webexapis.com/v1/messages", room_id: "Y2lzY29zcGFyazovL3VzL1JPT00v", http_config: {authorization: {credentials: "x"}}}
"##;

/// What the config says, route by route (depth-first), masked by hand:
/// secrets (the PagerDuty key) Alertmanager itself hides, so only the kind.
fn expected_routes() -> Value {
    let ch = |kind: &str, target: &str| json!({"kind": kind, "target": target});
    let route = |cloud: Option<&str>, severity: Option<&str>, receiver: &str, rule: &str, channels: Vec<Value>| {
        json!({"source": "am", "cloud": cloud, "severity": severity, "receiver": receiver, "rule": rule,
               "alerts": [], "channels": channels})
    };
    json!([
        route(None, None, "blackhole", "default: no other route matched", vec![]),
        route(
            None,
            Some("P0"),
            "pager",
            r#"severity=~"critical|page" (continue)"#,
            vec![ch("opsgenie", "team…team"), ch("pagerduty", "")]
        ),
        route(
            Some("aws"),
            Some("P0"),
            "aws-oncall",
            r#"severity=~"critical|page" › cloud="aws""#,
            vec![ch("sns", "+1555…0100"), ch("sns", "aws-pager")]
        ),
        route(
            Some("azure"),
            Some("P0"),
            "azure-oncall",
            r#"severity=~"critical|page" › cloud=~"azure""#,
            vec![ch("email", "o…@example.com"), ch("webhook", "https://hooks.example.com/…")]
        ),
        route(
            Some("aliyun"),
            None,
            "aliyun-chat",
            r#"cloud="aliyun""#,
            vec![ch("telegram", "-100…7890"), ch("wechat", "zha…i01")]
        ),
        route(
            Some("aliyun"),
            Some("P2"),
            "aliyun-mail",
            r#"cloud="aliyun" › severity="warning", team!~"web.*""#,
            vec![ch("email", "运…@example.cn")]
        ),
        route(
            None,
            None,
            "db",
            r#"team="db""#,
            vec![ch("slack", "#db…ger"), ch("victorops", "db-r…-key"), ch("webex", "Y2lz…T00v")]
        ),
    ])
}

/// `opsdeck snapshot --format json` (the built binary) against `am_url`.
fn snapshot(am_url: &str) -> Value {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("opsdeck.toml");
    let toml =
        format!("[[sources]]\nname = \"am\"\nkind = \"alertmanager\"\n[sources.alertmanager]\nurls = [\"{am_url}\"]\n");
    std::fs::write(&path, toml).expect("config");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_opsdeck"))
        .args(["--config", path.to_str().expect("utf-8"), "snapshot", "--format", "json"])
        .env("HOME", dir.path())
        .output()
        .expect("snapshot");
    assert!(matches!(out.status.code(), Some(0..=3)), "{:?} {}", out.status, String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("snapshot JSON")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_alertmanagers_route_tree_is_the_snapshots_routes_and_alerts_page_where_it_sends_them() {
    let am = promstack::alertmanager_with(CONFIG, None);
    let labels: [&[(&str, &str)]; 7] = [
        &[("alertname", "A"), ("severity", "critical"), ("cloud", "aws")],
        &[("alertname", "B"), ("severity", "page"), ("cloud", "azure"), ("team", "db")],
        &[("alertname", "C"), ("severity", "warning"), ("cloud", "aliyun"), ("team", "api")],
        &[("alertname", "D"), ("severity", "warning"), ("cloud", "aliyun"), ("team", "web-1")],
        &[("alertname", "E"), ("severity", "info"), ("team", "db")],
        &[("alertname", "F"), ("severity", "info"), ("cloud", "gcp")],
        &[("alertname", "G"), ("severity", "critical"), ("cloud", "aliyun")],
    ];
    let alerts: Vec<Value> = labels
        .iter()
        .map(|l| json!({"labels": l.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<BTreeMap<_, _>>()}))
        .collect();
    post_alerts(&am, Value::Array(alerts)).await;
    let url = format!("{}/api/v2/alerts", am.url());
    let listed = eventually(20, "the alerts listed", || async {
        let v = get_json(&url).await;
        v.as_array().is_some_and(|a| a.len() == labels.len()).then_some(v)
    })
    .await;

    let snap = tokio::task::spawn_blocking({
        let url = am.url();
        move || snapshot(&url)
    })
    .await
    .expect("snapshot");
    assert_eq!(snap["routes"], expected_routes(), "{:#}", snap["routes"]);

    // opsdeck's reading of the config Alertmanager reports routes each alert where
    // Alertmanager itself sends it, and each alert's route names the receivers
    // whose routes it pages through.
    let status = get_json(&format!("{}/api/v2/status", am.url())).await;
    let tree = routes::parse_config(status["config"]["original"].as_str().expect("config")).expect("parses");
    let mut paged = BTreeMap::new();
    for a in listed.as_array().expect("alerts") {
        let ls: BTreeMap<String, String> = serde_json::from_value(a["labels"].clone()).expect("labels");
        let name = ls["alertname"].clone();
        let am_says: Vec<String> = a["receivers"]
            .as_array()
            .expect("receivers")
            .iter()
            .map(|r| r["name"].as_str().expect("name").to_string())
            .collect();
        let ours: Vec<String> = tree.root.route(&Labels::from(ls)).iter().map(|n| n.receiver.clone()).collect();
        assert_eq!(ours, am_says, "alert {name}");
        let in_json = snap["alerts"]
            .as_array()
            .expect("alerts")
            .iter()
            .find(|j| j["labels"]["alertname"] == name.as_str())
            .unwrap_or_else(|| panic!("alert {name} in the snapshot"));
        assert_eq!(in_json["route"].as_str(), Some(am_says.join(", ").as_str()), "alert {name}");
        paged.insert(name, am_says);
    }
    let want: BTreeMap<String, Vec<String>> = [
        ("A", vec!["aws-oncall"]),
        ("B", vec!["azure-oncall", "db"]),
        ("C", vec!["aliyun-mail"]),
        ("D", vec!["aliyun-chat"]),
        ("E", vec!["db"]),
        ("F", vec!["blackhole"]),
        ("G", vec!["pager", "aliyun-chat"]),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.into_iter().map(String::from).collect()))
    .collect();
    assert_eq!(paged, want, "hand-checked against the config");
}

/// An Alertmanager API stand-in: no alerts, and `config` (switchable) as the
/// config `GET /api/v2/status` reports, which the real one would refuse to run.
/// Counts the status reads.
fn canned_am(config: Arc<Mutex<String>>, status_reads: Arc<AtomicUsize>) -> String {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream);
            let mut first = String::new();
            let _ = reader.read_line(&mut first);
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            let body = if first.contains("/api/v2/status") {
                status_reads.fetch_add(1, Ordering::SeqCst);
                let text = config.lock().expect("config").clone();
                json!({"config": {"original": text}, "cluster": {"status": "disabled", "peers": []},
                       "versionInfo": {"version": "canned"}, "uptime": "2026-01-01T00:00:00Z"})
                .to_string()
            } else {
                "[]".to_string()
            };
            let mut stream = reader.into_inner();
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    url
}

/// The config is read on the first poll and then at most every ROUTES_EVERY;
/// one that cannot be routed by fails the Routes section with the reason, and
/// the poll (the alerts) stands.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routes_are_read_every_few_minutes_and_a_bad_config_fails_only_the_routes_section() {
    use opsdeck::model::Section;
    use opsdeck::providers::Provider;
    use opsdeck::providers::prometheus::AlertmanagerConfig;
    use opsdeck::providers::prometheus::alertmanager::{AlertmanagerSource, ROUTES_EVERY};
    let config = Arc::new(Mutex::new(CONFIG.to_string()));
    let reads = Arc::new(AtomicUsize::new(0));
    let url = canned_am(config.clone(), reads.clone());
    let src =
        AlertmanagerSource::new("am", &AlertmanagerConfig::new(vec![url]), Duration::from_secs(3)).expect("source");
    let t0 = chrono::Utc::now();
    let calls = |r: &opsdeck::model::SourceReport| r.poll_cost.as_ref().map(|c| c.api_calls);
    let first = src.poll(t0).await.expect("poll");
    assert_eq!((first.routes.len(), first.failed.len(), calls(&first)), (7, 0, Some(2)));
    let again = src.poll(t0 + ROUTES_EVERY - chrono::Duration::seconds(1)).await.expect("poll");
    assert_eq!((&again.routes, calls(&again), reads.load(Ordering::SeqCst)), (&first.routes, Some(1), 1));

    *config.lock().expect("config") = "route: [unclosed".into();
    let later = src.poll(t0 + ROUTES_EVERY).await.expect("the poll stands");
    assert_eq!(reads.load(Ordering::SeqCst), 2, "read again once due");
    assert!(later.routes.is_empty(), "no routes from a bad config (the collector keeps the last good ones)");
    assert_eq!(later.failed.len(), 1, "{:?}", later.failed);
    assert_eq!(later.failed[0].section, Section::Routes);
    assert!(
        later.failed[0].reason.starts_with("bad response: GET /api/v2/status: the config is not valid YAML"),
        "{}",
        later.failed[0].reason
    );
    // A failed read is tried again on the next poll, not after another five minutes.
    *config.lock().expect("config") = CONFIG.replace(r#"team!~"web.*""#, r#"team!~"(w""#);
    let next = src.poll(t0 + ROUTES_EVERY + chrono::Duration::seconds(5)).await.expect("poll");
    assert_eq!(reads.load(Ordering::SeqCst), 3);
    assert!(next.failed[0].reason.contains("bad matcher"), "{}", next.failed[0].reason);
    *config.lock().expect("config") = CONFIG.to_string();
    let healed = src.poll(t0 + ROUTES_EVERY + chrono::Duration::seconds(10)).await.expect("poll");
    assert_eq!((healed.routes, healed.failed.len()), (first.routes, 0));
}

// ---- generated route trees -------------------------------------------------

use support::aliyun_estate::Rng;

const NAMES: [&str; 4] = ["cloud", "severity", "team", "env"];
const VALUES: [&str; 9] = ["aws", "azure", "aliyun", "critical", "warning", "db", "web", "prod", ""];
const REGEXES: [&str; 7] = ["aws|azure", "crit.*", "w.*", "db|web", ".*", ".+", "a.*"];

#[derive(Debug, Clone)]
struct GenMatcher {
    name: &'static str,
    op: &'static str,
    value: String,
}

/// A route node as the generator means it: the truth the YAML is written from.
#[derive(Debug, Clone)]
struct GenNode {
    receiver: Option<String>,
    matchers: Vec<GenMatcher>,
    /// Written as `match` / `match_re` maps rather than `matchers` strings.
    maps: bool,
    /// The `matchers` strings written as one braced string.
    braced: bool,
    continues: bool,
    children: Vec<GenNode>,
}

fn gen_node(rng: &mut Rng, depth: u32, receivers: &[String]) -> GenNode {
    let maps = rng.chance(30);
    let mut matchers: Vec<GenMatcher> = Vec::new();
    for _ in 0..rng.range(0, 2) {
        let name = *rng.pick(&NAMES);
        if maps && matchers.iter().any(|m| m.name == name) {
            continue; // a map holds each label once
        }
        let op = if maps { *rng.pick(&["=", "=~"]) } else { *rng.pick(&["=", "!=", "=~", "!~"]) };
        let value = if op.contains('~') { rng.pick(&REGEXES).to_string() } else { rng.pick(&VALUES).to_string() };
        matchers.push(GenMatcher { name, op, value });
    }
    let children =
        if depth < 3 { (0..rng.range(0, 3)).map(|_| gen_node(rng, depth + 1, receivers)).collect() } else { vec![] };
    GenNode {
        receiver: rng.chance(60).then(|| rng.pick(receivers).clone()),
        matchers,
        maps,
        braced: rng.chance(30),
        continues: rng.chance(30),
        children,
    }
}

fn yaml_node(n: &GenNode, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    let mut first = true;
    let mut line = |s: String, out: &mut String| {
        out.push_str(&format!("{}{}{s}\n", pad, if first { "- " } else { "  " }));
        first = false;
    };
    match &n.receiver {
        Some(r) => line(format!("receiver: {r}"), out),
        None => line("group_by: [alertname]".into(), out),
    }
    if n.continues {
        line("continue: true".into(), out);
    }
    if n.maps {
        let map = |op: &str| {
            let kv: Vec<String> =
                n.matchers.iter().filter(|m| m.op == op).map(|m| format!("{}: \"{}\"", m.name, m.value)).collect();
            format!("{{{}}}", kv.join(", "))
        };
        line(format!("match: {}", map("=")), out);
        line(format!("match_re: {}", map("=~")), out);
    } else if !n.matchers.is_empty() {
        let each: Vec<String> = n.matchers.iter().map(|m| format!("{}{}\"{}\"", m.name, m.op, m.value)).collect();
        if n.braced {
            line(format!("matchers: ['{{{}}}']", each.join(", ")), out);
        } else {
            line(format!("matchers: [{}]", each.iter().map(|m| format!("'{m}'")).collect::<Vec<_>>().join(", ")), out);
        }
    }
    if !n.children.is_empty() {
        line("routes:".into(), out);
        for c in &n.children {
            yaml_node(c, indent + 4, out);
        }
    }
}

fn yaml(root: &GenNode, receivers: &[String]) -> String {
    let mut out = format!("route:\n  receiver: {}\n", root.receiver.as_deref().unwrap_or("r0"));
    if !root.children.is_empty() {
        out.push_str("  routes:\n");
        for c in &root.children {
            yaml_node(c, 4, &mut out);
        }
    }
    out.push_str("receivers:\n");
    for r in receivers {
        out.push_str(&format!("  - name: {r}\n"));
    }
    out
}

/// The reference: Alertmanager's `Route.Match` written out plainly on the
/// generator's own tree (regexes anchored, an absent label is "").
fn reference(n: &GenNode, inherited: &str, labels: &BTreeMap<&str, &str>, out: &mut Vec<String>) -> bool {
    let receiver = n.receiver.clone().unwrap_or_else(|| inherited.to_string());
    let holds = n.matchers.iter().all(|m| {
        let v = labels.get(m.name).copied().unwrap_or("");
        let re = || regex::Regex::new(&format!("^(?:{})$", m.value)).expect("regex").is_match(v);
        match m.op {
            "=" => v == m.value,
            "!=" => v != m.value,
            "=~" => re(),
            _ => !re(),
        }
    });
    if !holds {
        return false;
    }
    let before = out.len();
    for c in &n.children {
        if reference(c, &receiver, labels, out) && !c.continues {
            break;
        }
    }
    if out.len() == before {
        out.push(receiver);
    }
    true
}

/// The rule words of every node, depth-first, as opsdeck should write them.
fn expected_rules(n: &GenNode, path: &mut Vec<String>, inherited: &str, out: &mut Vec<(String, String)>) {
    let receiver = n.receiver.clone().unwrap_or_else(|| inherited.to_string());
    let words = if n.matchers.is_empty() {
        "any".to_string()
    } else {
        // Maps: equality first, then regexes, each by label name (YAML maps are read sorted).
        let mut ms = n.matchers.clone();
        if n.maps {
            ms.sort_by_key(|m| (m.op != "=", m.name));
        }
        ms.iter().map(|m| format!("{}{}\"{}\"", m.name, m.op, m.value)).collect::<Vec<_>>().join(", ")
    };
    path.push(words);
    let mut rule = path.join(" › ");
    if n.continues {
        rule.push_str(" (continue)");
    }
    out.push((receiver.clone(), rule));
    for c in &n.children {
        expected_rules(c, path, &receiver, out);
    }
    path.pop();
}

fn amtool_receivers(config: &std::path::Path, labels: &BTreeMap<&str, &str>) -> Vec<String> {
    let mut cmd = std::process::Command::new(promstack::amtool());
    cmd.args(["config", "routes", "test", &format!("--config.file={}", config.display())]);
    cmd.args(labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")));
    let out = cmd.output().expect("amtool");
    assert!(out.status.success(), "amtool: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().split(',').map(str::to_string).collect()
}

/// Generated route trees: opsdeck's routing equals the plain reference for every
/// generated label set, on every seed; on the first seeds it also equals what
/// Alertmanager's own code (amtool) says. Each node becomes one route with its
/// resolved receiver and its matchers path in words.
#[test]
fn generated_route_trees_route_as_alertmanager_does() {
    const SEEDS: u64 = 80;
    const AMTOOL_SEEDS: u64 = 20;
    let (mut continued, mut inherited, mut several) = (0, 0, 0);
    for seed in 0..SEEDS {
        let mut rng = Rng::new(seed);
        let receivers: Vec<String> = (0..rng.range(2, 5)).map(|i| format!("r{i}")).collect();
        let mut root = gen_node(&mut rng, 0, &receivers);
        root.matchers.clear();
        root.receiver = Some(receivers[0].clone());
        let text = yaml(&root, &receivers);
        let tree: RouteTree = routes::parse_config(&text).unwrap_or_else(|e| panic!("seed {seed}: {e}\n{text}"));
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("am.yml");
        std::fs::write(&path, &text).expect("config");

        // Each node a route: receiver (inherited when unnamed) and rule words.
        let map = opsdeck::providers::shared::severity::map(opsdeck::providers::shared::severity::ALERTMANAGER);
        let how = routes::Labelling { severity_label: "severity", severity_map: &map, cloud_label: "cloud" };
        let got: Vec<(String, String)> = tree
            .notification_routes(&opsdeck::model::SourceId::new("am"), &how)
            .into_iter()
            .map(|r| (r.receiver, r.rule))
            .collect();
        let mut want = Vec::new();
        for c in &root.children {
            expected_rules(c, &mut Vec::new(), &receivers[0], &mut want);
        }
        assert_eq!(got.len(), want.len() + 1, "seed {seed}: one route per node\n{text}");
        assert_eq!(got[1..], want[..], "seed {seed}\n{text}");

        for case in 0..30 {
            let mut labels = BTreeMap::new();
            for name in NAMES {
                if rng.chance(70) {
                    labels.insert(name, *rng.pick(&VALUES));
                }
            }
            let mut want = Vec::new();
            reference(&root, &receivers[0], &labels, &mut want);
            let ours: Vec<String> = tree
                .root
                .route(&Labels::new(labels.iter().map(|(k, v)| (*k, *v))))
                .iter()
                .map(|n| n.receiver.clone())
                .collect();
            assert_eq!(ours, want, "seed {seed} case {case}: {labels:?}\n{text}");
            if seed < AMTOOL_SEEDS && case < 8 {
                assert_eq!(
                    amtool_receivers(&path, &labels),
                    want,
                    "seed {seed} case {case}: amtool, {labels:?}\n{text}"
                );
            }
            several += usize::from(want.len() > 1);
        }
        continued += usize::from(text.contains("continue: true"));
        inherited += usize::from(text.contains("group_by"));
    }
    // The seeds reach what the semantics turn on.
    assert!(continued >= 20 && inherited >= 20 && several >= 20, "{continued} {inherited} {several}");
}
