//! A big shop in a bad incident: an Alertmanager holding tens of thousands of
//! alerts answers more than the 32 MB other answers are capped at. The binary
//! reads it whole (parsed as it arrives) and shows every alert as generated:
//! before, such an answer was refused and the Alerts pane stayed empty.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::aliyun_estate::Rng;

/// What opsdeck must show for one alert.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Shown {
    id: String,
    severity: &'static str,
    state: &'static str,
    title: String,
    cloud: Option<&'static str>,
}

/// `n` alerts in `GET /api/v2/alerts` shape: severities in and out of the map,
/// or none; cloud label or none; active, inhibited (by an alert with or without
/// a name) or suppressed without a reason; summary, description or neither,
/// beside long annotations opsdeck does not show; non-ASCII text.
fn generate(seed: u64, n: usize) -> (Vec<u8>, Vec<Shown>) {
    let mut rng = Rng::new(seed);
    let padding = "Runbook: prüfe die Replikation, dann den Load Balancer; 检查复制延迟。".repeat(8);
    let mut alerts = Vec::with_capacity(n);
    let mut truth = Vec::with_capacity(n);
    for i in 0..n {
        let id = format!("{seed:04x}{i:012x}");
        let name = *rng.pick(&["HighErrorRate", "延迟过高", "DiskFull", "CPU-ñ"]);
        let (sev_label, severity) = *rng.pick(&[
            (Some("critical"), "P0"),
            (Some("Error"), "P1"),
            (Some("warning"), "P2"),
            (Some("info"), "P3"),
            (Some("sev-½"), "P2"),
            (None, "P2"),
        ]);
        let cloud = *rng.pick(&[Some("aws"), Some("azure"), Some("aliyun"), None]);
        let mut labels = json!({"alertname": name, "instance": format!("web-{}.internal:9100", i % 977)});
        if let Some(s) = sev_label {
            labels["severity"] = json!(s);
        }
        if let Some(c) = cloud {
            labels["cloud"] = json!(c);
        }
        let (status, state) = match rng.range(0, 3) {
            0 => (json!({"state": "active", "silencedBy": [], "inhibitedBy": []}), "firing"),
            1 => (json!({"state": "suppressed", "silencedBy": [], "inhibitedBy": ["ffff0000"]}), "inhibited"),
            _ => (json!({"state": "suppressed", "silencedBy": [], "inhibitedBy": [], "mutedBy": []}), "inhibited"),
        };
        let mut annotations = json!({"runbook": padding});
        let title = match rng.range(0, 2) {
            0 => {
                annotations["summary"] = json!(format!("señal {i}"));
                format!("{name}: señal {i}")
            }
            1 => {
                annotations["description"] = json!(format!("描述 {i}"));
                format!("{name}: 描述 {i}")
            }
            _ => name.to_string(),
        };
        alerts.push(json!({
            "fingerprint": id, "labels": labels, "annotations": annotations, "status": status,
            "startsAt": "2026-11-30T10:00:00.000Z", "endsAt": "2026-11-30T11:00:00.000Z",
            "updatedAt": "2026-11-30T10:00:00.000Z", "receivers": [{"name": "pager"}],
            "generatorURL": "http://prometheus:9090/graph?g0.expr=up",
        }));
        truth.push(Shown { id, severity, state, title, cloud });
    }
    let body = serde_json::to_vec(&alerts).expect("json");
    truth.sort();
    (body, truth)
}

#[tokio::test(flavor = "multi_thread")]
async fn an_alertmanager_answer_past_32_mb_is_read_whole_by_the_binary() {
    for seed in [11u64, 12] {
        let (body, truth) = generate(seed, 36_000);
        assert!(body.len() > 32 * 1024 * 1024, "seed {seed}: {} bytes is not past the cap", body.len());
        let am = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/api/v2/alerts"))
            .respond_with(ResponseTemplate::new(200).set_body_raw(body, "application/json"))
            .mount(&am)
            .await;
        // The config whose routes opsdeck reads beside the alerts.
        let status = json!({"config": {"original": "route: {receiver: pager}\nreceivers: [{name: pager}]\n"}});
        Mock::given(method("GET"))
            .and(path("/api/v2/status"))
            .respond_with(ResponseTemplate::new(200).set_body_json(status))
            .mount(&am)
            .await;
        let dir = tempfile::tempdir().expect("tempdir");
        let config = dir.path().join("config.toml");
        std::fs::write(
            &config,
            format!(
                "[[sources]]\nname = \"am\"\nkind = \"alertmanager\"\ntimeout_secs = 60\n\
                 [sources.alertmanager]\nurls = [\"{}\"]\n",
                am.uri()
            ),
        )
        .expect("config");
        let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_opsdeck"))
            .arg("--config")
            .arg(&config)
            .args(["snapshot", "--format", "json"])
            .env("HOME", dir.path())
            .env("XDG_STATE_HOME", dir.path())
            .output()
            .await
            .expect("snapshot runs");
        let snap: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("seed {seed}: {e}: {}", String::from_utf8_lossy(&out.stderr)));
        let source = &snap["sources"][0];
        assert_eq!(source["state"].as_str(), Some("fresh"), "seed {seed}: {source:#}");
        let mut shown: Vec<Shown> = snap["alerts"]
            .as_array()
            .expect("alerts")
            .iter()
            .map(|a| Shown {
                id: a["id"].as_str().unwrap_or_default().to_string(),
                severity: leak(a["severity"].as_str()),
                state: leak(a["state"].as_str()),
                title: a["title"].as_str().unwrap_or_default().to_string(),
                cloud: a["cloud"].as_str().map(|c| leak(Some(c))),
            })
            .collect();
        shown.sort();
        assert_eq!(shown.len(), truth.len(), "seed {seed}");
        let differs: Vec<_> = shown.iter().zip(&truth).filter(|(s, t)| s != t).take(3).collect();
        assert!(differs.is_empty(), "seed {seed}: shown vs generated: {differs:?}");
        let mut states = BTreeMap::new();
        for t in &truth {
            *states.entry((t.severity, t.state)).or_insert(0) += 1;
        }
        assert!(states.len() >= 8, "seed {seed}: the estate mixes severities and states: {states:?}");
    }
}

/// The few distinct labels the snapshot uses, as the `&'static str` the truth holds.
fn leak(s: Option<&str>) -> &'static str {
    ["P0", "P1", "P2", "P3", "firing", "inhibited", "acked", "resolved", "aws", "azure", "aliyun"]
        .into_iter()
        .find(|k| Some(*k) == s)
        .unwrap_or("?")
}
