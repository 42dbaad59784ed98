//! Cross-cloud links (`[[links]]`) measured by the built binary: probes through a
//! delaying proxy show the injected delay as their round trip, a closed or lossy
//! target shows its loss, a PromQL figure from the real Prometheus is read in
//! seconds, and a link over its target raises a local alert that clears under it.

use std::time::Duration;

use chrono::Utc;
use opsdeck::config::LinkConfig;
use opsdeck::providers::Provider;
use opsdeck::providers::links::LinkSource;
use serde_json::Value;

use crate::support::delay_proxy::{DelayProxy, closed_port, greeting_server, http_ok_server};
use crate::support::promstack::{self, eventually, get_json, push};

/// `opsdeck --config <toml> snapshot --format json --source links`: the JSON.
async fn snapshot(toml: String) -> Value {
    tokio::task::spawn_blocking(move || {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("opsdeck.toml");
        std::fs::write(&path, &toml).expect("config");
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_opsdeck"))
            .args(["--config", path.to_str().expect("utf-8"), "snapshot", "--format", "json", "--source", "links"])
            .env("HOME", dir.path())
            .output()
            .expect("snapshot");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(matches!(out.status.code(), Some(0..=3)), "{:?} {}", out.status, String::from_utf8_lossy(&out.stderr));
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
    })
    .await
    .expect("snapshot task")
}

fn link_toml(name: &str, how: &str, target_ms: f64) -> String {
    format!("[[links]]\nname = \"{name}\"\nbetween = [\"aws\", \"azure\"]\ntarget_ms = {target_ms}\n{how}\n")
}

fn link<'a>(snap: &'a Value, name: &str) -> &'a Value {
    let links = snap["links"].as_array().expect("links");
    links.iter().find(|l| l["name"] == name).unwrap_or_else(|| panic!("no link {name}: {snap:#}"))
}

fn alert_ids(snap: &Value) -> Vec<String> {
    let mut ids: Vec<String> = snap["alerts"]
        .as_array()
        .expect("alerts")
        .iter()
        .filter(|a| a["source"] == "links")
        .map(|a| a["id"].as_str().expect("id").to_string())
        .collect();
    ids.sort();
    ids
}

/// Upper slack over the injected delay, beyond what the same snapshot measured
/// for the same server with no delay (the local round trip, measured at the same
/// moment, so a loaded machine slows both alike).
const SLACK_MS: f64 = 5.0;
/// Snapshots tried per delay before the upper bound counts as missed: a busy
/// 2-core machine can stall one round; a slow probe can never make a fast one.
const ATTEMPTS: usize = 3;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probes_through_a_delaying_proxy_show_the_injected_delay_and_over_target_alerts() {
    let (http, greet) = (http_ok_server(), greeting_server());
    let delays = [15u64, 45, 90, 160];
    let target_ms = 100.0;
    // One snapshot per delay: fewer probes at once, less scheduling noise.
    for d in delays {
        let h = DelayProxy::start(http, Duration::from_millis(d));
        let g = DelayProxy::start(greet, Duration::from_millis(d));
        let (h0, g0) = (DelayProxy::start(http, Duration::ZERO), DelayProxy::start(greet, Duration::ZERO));
        let toml =
            link_toml(&format!("http-{d}"), &format!("url = \"http://{}/healthz?token=s3cret\"", h.addr()), target_ms)
                + &link_toml(&format!("greet-{d}"), &format!("tcp = \"{}\"\nbanner = true", g.addr()), target_ms)
                + &link_toml("http-0", &format!("url = \"http://{}/healthz\"", h0.addr()), target_ms)
                + &link_toml("greet-0", &format!("tcp = \"{}\"\nbanner = true", g0.addr()), target_ms);
        let mut misses = Vec::new();
        let snap = loop {
            let snap = snapshot(toml.clone()).await;
            let mut missed = None;
            for kind in ["http", "greet"] {
                let rtt = |name: &str| {
                    let l = link(&snap, name);
                    l["rtt_ms"].as_f64().unwrap_or_else(|| panic!("{name} unmeasured: {l:#}"))
                };
                let (shown, base, d) = (rtt(&format!("{kind}-{d}")), rtt(&format!("{kind}-0")), d as f64);
                // Never faster than the delay the proxy holds every answer back.
                assert!(shown >= d - 0.5, "{kind}: injected {d} ms, shown {shown} ms");
                if shown > d + base + SLACK_MS {
                    missed = Some(format!("{kind}: injected {d} ms, shown {shown} ms, undelayed {base} ms"));
                }
            }
            match missed {
                None => break snap,
                Some(m) if misses.len() + 1 < ATTEMPTS => misses.push(m),
                Some(m) => panic!("{m}; earlier attempts: {misses:?}"),
            }
        };
        for kind in ["http", "greet"] {
            let l = link(&snap, &format!("{kind}-{d}"));
            let rtt = l["rtt_ms"].as_f64().expect("measured");
            assert_eq!(l["loss"], 0.0, "{l:#}");
            assert_eq!(l["over_target"], rtt > target_ms, "{l:#}");
            assert_eq!(
                (l["a"].as_str(), l["b"].as_str(), l["target_ms"].as_f64()),
                (Some("aws"), Some("azure"), Some(target_ms))
            );
            let via = l["via"][0].as_str().expect("via");
            assert!(via.ends_with(", 0 of 5 probes lost") && !via.contains("s3cret"), "{via}");
            assert!(
                if kind == "http" { via.starts_with("http://127.0.0.1:") } else { via.contains("(greeting)") },
                "{via}"
            );
        }
        // Only the links over their target raise an alert, titled with both figures.
        let over =
            if d as f64 > target_ms { vec![format!("link:greet-{d}"), format!("link:http-{d}")] } else { vec![] };
        assert_eq!(alert_ids(&snap), over);
        if let Some(alert) =
            snap["alerts"].as_array().expect("alerts").iter().find(|a| a["id"] == format!("link:http-{d}"))
        {
            let title = alert["title"].as_str().expect("title");
            let head = format!("Link http-{d} (AWS ↔ Azure): round trip ");
            assert!(title.starts_with(&head) && title.ends_with("ms over the 100 ms target"), "{title}");
            assert_eq!(
                (alert["severity"].as_str(), alert["state"].as_str()),
                (Some("P2"), Some("firing")),
                "{alert:#}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_target_loses_every_probe_and_a_lossy_one_its_share() {
    let http = http_ok_server();
    let lossy = DelayProxy::start(http, Duration::from_millis(5));
    lossy.drop_every(2);
    let closed = closed_port();
    let toml = link_toml("closed-tcp", &format!("tcp = \"127.0.0.1:{closed}\""), 50.0)
        + &link_toml("closed-http", &format!("url = \"http://127.0.0.1:{closed}/\"\nprobes = 3"), 50.0)
        + &link_toml("lossy", &format!("url = \"http://{}/\"", lossy.addr()), 50.0);
    let snap = snapshot(toml).await;
    for name in ["closed-tcp", "closed-http"] {
        let l = link(&snap, name);
        assert_eq!(
            (&l["rtt_ms"], &l["loss"], &l["over_target"]),
            (&Value::Null, &Value::from(1.0), &Value::Null),
            "{l:#}"
        );
        assert!(l["error"].as_str().is_some_and(|e| e.contains("cannot connect")), "{l:#}");
    }
    // Five probes at once: connections 2 and 4 are closed unanswered.
    let l = link(&snap, "lossy");
    assert_eq!(l["loss"], 0.4, "{l:#}");
    // The answered ones are measured (their timing is pinned by the test above).
    assert!(l["rtt_ms"].as_f64().is_some_and(|r| r >= 4.5), "{l:#}");
    assert!(l["error"].as_str().is_some_and(|e| e.starts_with("2 of 5 probes lost: ")), "{l:#}");
    // Every probe lost pages; a partial loss within target does not.
    assert_eq!(alert_ids(&snap), vec!["link:closed-http", "link:closed-tcp"]);
    let titles: Vec<&str> =
        snap["alerts"].as_array().expect("alerts").iter().filter_map(|a| a["title"].as_str()).collect();
    assert!(
        titles
            .iter()
            .any(|t| t.starts_with("Link closed-http (AWS ↔ Azure): all 3 probes lost (")
                && t.contains("cannot connect")),
        "{titles:?}"
    );
}

fn config(name: &str, url: &str, target_ms: f64) -> LinkConfig {
    let text = link_toml(name, &format!("url = \"{url}\"\nprobes = 3"), target_ms);
    let p = tempfile::NamedTempFile::new().expect("tmp");
    std::fs::write(p.path(), text).expect("write");
    opsdeck::startup::load_config(Some(p.path())).expect("config").0.links.remove(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_alert_appears_over_target_and_clears_under_it_across_polls() {
    let proxy = DelayProxy::start(http_ok_server(), Duration::from_millis(5));
    let source = LinkSource::new(&[config("db", &format!("http://{}/", proxy.addr()), 100.0)]).expect("source");
    let poll = || async { source.poll(Utc::now()).await.expect("never fails") };
    let within = poll().await;
    assert!(within.alerts.is_empty(), "{:?}", within.links);
    proxy.set_delay(Duration::from_millis(200));
    let first = poll().await;
    assert_eq!(first.alerts.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(), vec!["link:db"], "{:?}", first.links);
    let second = poll().await;
    assert_eq!(second.alerts[0].started_at, first.alerts[0].started_at, "the same alert, still firing");
    proxy.set_delay(Duration::from_millis(5));
    let under = poll().await;
    assert!(under.alerts.is_empty() && under.links[0].over_target() == Some(false), "{:?}", under.links);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_promql_figure_from_the_real_prometheus_is_read_in_seconds() {
    let pg = promstack::pushgateway();
    let prom = promstack::prometheus(&pg, None, "groups: []\n");
    // Several values, each pushed as a blackbox exporter would write it.
    for (i, secs) in [0.0125, 0.0375, 0.250].into_iter().enumerate() {
        push(&pg, "blackbox", &format!("probe_duration_seconds{{instance=\"redis.aliyun:6379\"}} {secs}\n")).await;
        let url = format!("{}/api/v1/query?query=probe_duration_seconds", prom.url());
        eventually(30, "the pushed figure scraped", || {
            let url = url.clone();
            async move {
                let v = get_json(&url).await;
                (v["data"]["result"][0]["value"][1].as_str() == Some(&secs.to_string())).then_some(())
            }
        })
        .await;
        let query = "probe_duration_seconds{instance=\\\"redis.aliyun:6379\\\"}";
        let toml = link_toml("cache", &format!("prometheus = \"{}\"\nquery = \"{query}\"", prom.url()), 100.0)
            + &link_toml("none", &format!("prometheus = \"{}\"\nquery = \"nothing_here\"", prom.url()), 100.0);
        let snap = snapshot(toml).await;
        let l = link(&snap, "cache");
        let rtt = l["rtt_ms"].as_f64().unwrap_or_else(|| panic!("value {i}: {l:#}"));
        assert!((rtt - secs * 1000.0).abs() < 1e-9, "pushed {secs} s, shown {rtt} ms");
        assert_eq!((&l["loss"], &l["over_target"]), (&Value::Null, &Value::from(secs * 1000.0 > 100.0)), "{l:#}");
        assert!(l["via"][0].as_str().is_some_and(|v| v.starts_with("PromQL probe_duration_seconds{")), "{l:#}");
        assert_eq!(alert_ids(&snap), if secs > 0.1 { vec!["link:cache"] } else { vec![] });
        let none = link(&snap, "none");
        assert_eq!((&none["rtt_ms"], &none["over_target"]), (&Value::Null, &Value::Null), "{none:#}");
        assert_eq!(none["error"], "PromQL: the query returned no series");
    }
}
