//! A seeded set of alerts for a REAL Alertmanager (promstack's, whose config
//! inhibits `severity="warning"` alerts while a `RegionDown` of the same `cloud`
//! fires): the TRUTH — which alerts Alertmanager should still hold and in what
//! state opsdeck should show them — and the requests that create it (POST
//! /api/v2/alerts, POST /api/v2/silences).
//!
//! What varies with the seed: how many alerts; severity labels in opsdeck's map,
//! in another case, unknown, or absent; the cloud label present or not; alerts
//! already resolved (endsAt in the past, which Alertmanager no longer lists);
//! silences on some; RegionDown alerts that inhibit the warnings of their cloud
//! (and not a "Warning", which the rule's matcher does not match); non-ASCII label
//! and annotation values.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use super::aliyun_estate::Rng;

const NAMES: [&str; 5] = ["HighErrorRate", "DiskFull", "延迟过高", "CPU-ñ", "QueueBacklog"];
const CLOUDS: [&str; 3] = ["aws", "azure", "aliyun"];
const REGIONS: [&str; 4] = ["华东-1", "españa-centro", "us-east-1", "westeurope"];
/// Severity label values: opsdeck's map (any case), unknown ones, and None = absent.
const SEVERITIES: [Option<&str>; 10] = [
    Some("critical"),
    Some("warning"),
    Some("warning"),
    Some("info"),
    Some("error"),
    Some("page"),
    Some("Critical"),
    Some("Warning"),
    Some("sev-½"),
    None,
];

/// opsdeck's default Alertmanager map, written out here (case-insensitive); an
/// absent or unknown severity is P2.
pub fn expected_severity(label: Option<&str>) -> &'static str {
    match label.map(str::to_ascii_lowercase).as_deref() {
        Some("critical" | "page") => "P0",
        Some("error" | "high") => "P1",
        Some("info" | "low" | "none") => "P3",
        _ => "P2",
    }
}

/// What opsdeck should show for one alert still held.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct AmTruth {
    /// "P0".."P3".
    pub severity: &'static str,
    /// "firing", "acked" (silenced) or "inhibited".
    pub state: &'static str,
    pub alertname: String,
}

pub struct AmEstate {
    pub seed: u64,
    /// Everything posted, resolved ones included.
    pub alerts: Vec<Value>,
    /// Values of the `uid` label to silence.
    pub silenced: Vec<String>,
    /// `uid` label → what opsdeck shows; resolved alerts are absent.
    pub truth: BTreeMap<String, AmTruth>,
    pub resolved: usize,
}

impl AmEstate {
    pub fn generate(seed: u64, now: DateTime<Utc>) -> AmEstate {
        let mut rng = Rng::new(seed);
        let stamp = |t: DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let mut alerts = Vec::new();
        let mut silenced = Vec::new();
        let mut truth = BTreeMap::new();
        let mut resolved = 0;
        // RegionDown first: they never resolve here and are never silenced, so the
        // inhibition they cause is certain.
        let down: Vec<&str> = CLOUDS.iter().copied().filter(|_| rng.chance(30)).collect();
        for (i, cloud) in down.iter().enumerate() {
            let uid = format!("s{seed}-down-{i}");
            alerts.push(json!({
                "labels": {"alertname": "RegionDown", "uid": uid, "cloud": cloud, "severity": "critical"},
                "annotations": {"summary": format!("{cloud} 区域不可用")},
                "startsAt": stamp(now - Duration::minutes(5)),
            }));
            truth.insert(uid, AmTruth { severity: "P0", state: "firing", alertname: "RegionDown".into() });
        }
        for i in 0..rng.range(3, 14) {
            let uid = format!("s{seed}-{i}");
            let alertname = rng.pick(&NAMES).to_string();
            let severity = *rng.pick(&SEVERITIES);
            let cloud = if rng.chance(75) { Some(*rng.pick(&CLOUDS)) } else { None };
            let mut labels = json!({"alertname": alertname, "uid": uid, "region": rng.pick(&REGIONS)});
            if let Some(s) = severity {
                labels["severity"] = json!(s);
            }
            if let Some(c) = cloud {
                labels["cloud"] = json!(c);
            }
            let started = now - Duration::minutes(i64::from(rng.range(1, 120)));
            let mut alert = json!({
                "labels": labels,
                "annotations": {"summary": format!("{alertname} — señal {i}")},
                "startsAt": stamp(started),
            });
            if rng.chance(20) {
                // Already over: Alertmanager keeps it a while but lists it no more.
                alert["endsAt"] = json!(stamp(now - Duration::seconds(30)));
                alerts.push(alert);
                resolved += 1;
                continue;
            }
            let state = if rng.chance(25) {
                silenced.push(uid.clone());
                "acked"
            } else if severity == Some("warning") && cloud.is_some_and(|c| down.contains(&c)) {
                "inhibited"
            } else {
                "firing"
            };
            truth.insert(uid, AmTruth { severity: expected_severity(severity), state, alertname });
            alerts.push(alert);
        }
        AmEstate { seed, alerts, silenced, truth, resolved }
    }

    /// A silence on one alert's `uid` (someone else's: not an exact-label ack).
    pub fn silence_body(&self, uid: &str, now: DateTime<Utc>) -> Value {
        json!({
            "matchers": [{"name": "uid", "value": uid, "isRegex": false, "isEqual": true}],
            "startsAt": now.to_rfc3339(),
            "endsAt": (now + Duration::hours(1)).to_rfc3339(),
            "createdBy": format!("gen-{}", self.seed),
            "comment": "mantenimiento 维护",
        })
    }
}
