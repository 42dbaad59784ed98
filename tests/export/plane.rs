//! Consoles on the monitoring plane, end to end with the built binary: a generated
//! AWS estate in moto, one `opsdeck export` polling it, the real Prometheus
//! scraping the exporter, and a console reading Prometheus (`schema = "opsdeck"`).
//! What that console's `snapshot --format json` shows equals a snapshot taken
//! straight from moto (groups and their counts, DNS weights per answer, alert ids
//! and names). A scale planned on what Prometheus shows goes to the cloud through
//! an act-only source (`poll = false`) with the operator's credentials, lands in
//! moto, and is confirmed by a fresh read through exporter and Prometheus.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::aws_seeded::Estate;
use crate::exporter::{Exporter, command};
use crate::support::moto::Moto;
use crate::support::promstack::{eventually, prometheus_scraping};

/// Seeds of the AWS generator, each a different estate.
const SEEDS: [u64; 2] = [101, 104];

/// The exporter polls every two seconds so a change reaches Prometheus quickly.
fn fast(config: &str) -> String {
    config.replace("interval_secs = 60", "interval_secs = 2")
}

/// The cloud source as an act-only one: never polled, it only carries out actions.
fn act_only(config: &str) -> String {
    config.replacen("kind = \"aws\"\n", "kind = \"aws\"\npoll = false\n", 1)
}

fn reader(prom_url: &str) -> String {
    format!(
        "[[sources]]\nname = \"prom\"\nkind = \"prometheus\"\ninterval_secs = 2\ntimeout_secs = 10\n\n\
         [sources.prometheus]\nurl = \"{prom_url}\"\nschema = \"opsdeck\"\n\n"
    )
}

/// `opsdeck --config <config> ARGS` in a fresh home; stdout as JSON, exit code, stderr.
async fn opsdeck_json(config: &str, args: &[&str]) -> (Option<i32>, Value, String) {
    let home = tempfile::tempdir().expect("tempdir");
    let mut cmd = command(home.path(), Some(config), args);
    let out = tokio::task::spawn_blocking(move || cmd.output()).await.expect("join").expect("run opsdeck");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out.status.code(), serde_json::from_str(&stdout).unwrap_or(Value::Null), stderr)
}

async fn snapshot(config: &str) -> Value {
    opsdeck_json(config, &["snapshot", "--format", "json"]).await.1
}

/// What both consoles must agree on: each group's source, region, name and counts.
fn groups(snap: &Value) -> BTreeSet<(String, String, String, u64, u64, u64)> {
    snap["groups"]
        .as_array()
        .map(|gs| {
            gs.iter()
                .map(|g| {
                    let s = |k: &str| g[k].as_str().unwrap_or_default().to_string();
                    let n = |k: &str| g[k].as_u64().unwrap_or(u64::MAX);
                    (s("source"), s("region"), s("name"), n("min"), n("max"), n("desired"))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Each DNS answer's weight, by policy and answer.
fn weights(snap: &Value) -> BTreeSet<(String, String, String, u64)> {
    let mut out = BTreeSet::new();
    for p in snap["traffic_policies"].as_array().into_iter().flatten() {
        for e in p["endpoints"].as_array().into_iter().flatten() {
            let s = |v: &Value| v.as_str().unwrap_or_default().to_string();
            out.insert((s(&p["name"]), s(&e["name"]), s(&e["cloud"]), e["weight"].as_u64().unwrap_or(u64::MAX)));
        }
    }
    out
}

/// Alert ids and names. Exported names are labels, bounded to 120 characters
/// (119 and "…"), so the direct side is bounded the same way.
fn alerts(snap: &Value, bound: bool) -> BTreeSet<(String, String)> {
    let cut = |t: &str| match t.chars().count() {
        n if bound && n > 120 => t.chars().take(119).chain(['…']).collect(),
        _ => t.to_string(),
    };
    snap["alerts"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| (a["id"].as_str().unwrap_or_default().to_string(), cut(a["title"].as_str().unwrap_or_default())))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_console_on_prometheus_shows_the_cloud_and_acts_on_it() {
    for seed in SEEDS {
        let moto = Moto::start();
        let estate = Estate::generate(seed);
        let planted = estate.plant(&moto).await;
        let cloud = fast(&estate.config_toml("gen", &planted, &moto.url()));
        let mut exporter = Exporter::start(Some(&cloud));
        exporter.wait_all_sources_up(90).await;
        let prom = prometheus_scraping(&[("opsdeck", exporter.port)]);
        let console = reader(&prom.url()) + &act_only(&cloud);

        let direct = snapshot(&cloud).await;
        assert!(!groups(&direct).is_empty(), "seed {seed}: the direct snapshot reads groups: {direct}");
        let through = eventually(60, "the console on Prometheus shows what moto holds", || {
            let (console, want) = (console.clone(), groups(&direct));
            async move {
                let snap = snapshot(&console).await;
                (groups(&snap) == want).then_some(snap)
            }
        })
        .await;
        assert_eq!(weights(&through), weights(&direct), "seed {seed}: DNS weights per answer");
        assert!(!weights(&direct).is_empty(), "seed {seed}");
        assert_eq!(alerts(&through, false), alerts(&direct, true), "seed {seed}: alert ids and names");
        assert!(
            through["sources"].as_array().is_some_and(|s| s.iter().any(|s| s["id"] == "prom")),
            "seed {seed}: the reader is a source of its own: {}",
            through["sources"]
        );

        // Scale a group with room, planned on what Prometheus shows, sent to moto.
        // (A name used in one region only: `scale aws/<name>` names no region.)
        let all = groups(&direct);
        let unique = |n: &str| all.iter().filter(|g| g.2 == n).count() == 1;
        let (source, region, name, min, max, desired) = all
            .iter()
            .find(|g| (g.4 > g.5 || g.5 > g.3) && unique(&g.2))
            .cloned()
            .unwrap_or_else(|| panic!("seed {seed}: no group with room to scale"));
        let to = if max > desired { desired + 1 } else { desired - 1 };
        assert!((min..=max).contains(&to));
        let target = format!("aws/{name}");
        let to_text = to.to_string();
        let (code, report, stderr) = opsdeck_json(&console, &["scale", &target, &to_text, "--yes", "--json"]).await;
        assert_eq!((code, report["outcome"].as_str()), (Some(0), Some("executed")), "seed {seed}: {report}\n{stderr}");
        assert!(report["confirmed_after_secs"].as_f64().is_some(), "seed {seed}: confirmed by a fresh read: {report}");
        let after = groups(&snapshot(&cloud).await);
        assert!(
            after.contains(&(source.clone(), region.clone(), name.clone(), min, max, to)),
            "seed {seed}: moto holds the new desired count for {source} {name}: {after:?}"
        );
    }
}
