//! `kind = "prometheus"` with `schema = "opsdeck"` against the real Prometheus:
//! seeded estates (the truth) written as the metric families of `opsdeck export`
//! (the contract), pushed through the pushgateway twice as an exporter pair (the
//! second copy a poll behind, with older values that must lose), scraped, and
//! read back by the binary's `opsdeck snapshot --format json`, which must show
//! the truth: groups and zones, figures per region (absent ones null, never 0),
//! DNS answers, replication, costs, alerts, and each upstream source's freshness.

use crate::support;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use chrono::{DateTime, Utc};
use opsdeck::model::{CloudKind, Freshness, Section};
use opsdeck::providers::Provider;
use opsdeck::providers::prometheus::{PrometheusConfig, PrometheusSource, Schema};
use serde_json::Value;
use support::promstack::{self, Server, eventually, get_json, push};

const SEEDS: u64 = 20;

/// splitmix64: small, seeded, the same on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
    fn one<T: Copy>(&mut self, items: &[T]) -> T {
        *self.pick(items)
    }
    /// A figure with `dp` decimals in [0, max).
    fn figure(&mut self, max: u64, dp: u32) -> f64 {
        let scale = 10u64.pow(dp);
        self.below(max * scale) as f64 / scale as f64
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Upstream {
    Fresh,
    /// Up, but some sections of its last poll failed at the exporter.
    Partial,
    /// Its exporter could not read it (up = 0) since its last success.
    Down,
    /// Up = 1, but its last success is far older than its interval (a stuck exporter).
    Old,
    /// Never read: no last success, and no items.
    Never,
}

#[derive(Debug, Clone)]
struct Src {
    id: String,
    kind: &'static str,
    place: Option<(CloudKind, &'static str)>,
    state: Upstream,
    interval: i64,
    last_success: Option<i64>,
}

#[derive(Debug, Clone)]
struct Group {
    source: String,
    cloud: CloudKind,
    region: String,
    name: String,
    min: u32,
    max: u32,
    desired: u32,
    zones: Vec<(String, u32, u32)>,
    inactive: bool,
    spot_share: f64,
}

#[derive(Debug, Clone)]
struct Metric {
    source: String,
    cloud: CloudKind,
    region: String,
    rps: Option<f64>,
    p95_ms: Option<f64>,
    error_rate: Option<f64>,
    cpu: Option<f64>,
}

#[derive(Debug, Clone)]
struct Answer {
    name: String,
    cloud: CloudKind,
    target: String,
    weight: u32,
    /// idle | ok | degraded | down | unknown; `exported` false: no health series at all.
    health: &'static str,
    exported: bool,
    check: String,
}

#[derive(Debug, Clone)]
struct Policy {
    source: String,
    name: String,
    kind: &'static str,
    ttl: u32,
    answers: Vec<Answer>,
}

#[derive(Debug, Clone)]
struct Link {
    source: String,
    kind: &'static str,
    name: String,
    from: CloudKind,
    to: CloudKind,
    value: f64,
    target: f64,
}

#[derive(Debug, Clone)]
struct Cost {
    source: String,
    cloud: CloudKind,
    currency: &'static str,
    mtd: f64,
    services: Vec<(String, f64)>,
    /// (method, amount); None: too early in the month, not exported.
    forecast: Option<(&'static str, f64)>,
}

#[derive(Debug, Clone)]
struct AlertT {
    source: String,
    id: String,
    cloud: Option<CloudKind>,
    severity: &'static str,
    state: &'static str,
    name: String,
    resource: String,
    route: String,
    started: i64,
}

#[derive(Debug, Clone)]
struct Estate {
    seed: u64,
    sources: Vec<Src>,
    groups: Vec<Group>,
    metrics: Vec<Metric>,
    policies: Vec<Policy>,
    links: Vec<Link>,
    costs: Vec<Cost>,
    alerts: Vec<AlertT>,
}

const PLACES: [(&str, &str, CloudKind, &str); 6] = [
    ("aws/us-east-1", "aws", CloudKind::Aws, "us-east-1"),
    ("aws/eu-west-1", "aws", CloudKind::Aws, "eu-west-1"),
    ("azure/contoso-prod", "azure", CloudKind::Azure, "westeurope"),
    ("azure/contoso-dr", "azure", CloudKind::Azure, "northeurope"),
    ("aliyun/cn-hangzhou", "aliyun", CloudKind::Aliyun, "cn-hangzhou"),
    ("aliyun/eu-central-1", "aliyun", CloudKind::Aliyun, "eu-central-1"),
];

const ALERT_NAMES: [&str; 6] = [
    "Zürich: Latenz über Schwelle",
    "東京リージョン エラー率 上昇",
    "Disk \"data\" ≥ 90 % on db-1",
    "Réplication en retard — Paris",
    "Ошибка балансировщика",
    "CPU saturation \\ web tier",
];

impl Estate {
    fn generate(seed: u64, now: i64) -> Estate {
        let mut r = Rng(seed.wrapping_mul(7919).wrapping_add(17));
        let mut sources = Vec::new();
        for (id, kind, cloud, region) in PLACES {
            if r.chance(0.6) || (sources.len() < 2 && id.starts_with("aliyun/eu")) {
                let state = match r.below(10) {
                    0 => Upstream::Partial,
                    1 => Upstream::Down,
                    2 => Upstream::Old,
                    _ => Upstream::Fresh,
                };
                sources.push(Src {
                    id: id.into(),
                    kind,
                    place: Some((cloud, region)),
                    state,
                    interval: 0,
                    last_success: None,
                });
            }
        }
        if r.chance(0.5) {
            sources.push(Src {
                id: "alerts".into(),
                kind: "alertmanager",
                place: None,
                state: Upstream::Fresh,
                interval: 0,
                last_success: None,
            });
        }
        if r.chance(0.3) {
            sources.push(Src {
                id: "aws/ap-south-1".into(),
                kind: "aws",
                place: None,
                state: Upstream::Never,
                interval: 0,
                last_success: None,
            });
        }
        for s in &mut sources {
            s.interval = *r.pick(&[15, 30, 60]);
            s.last_success = match s.state {
                Upstream::Never => None,
                Upstream::Old => Some(now - 3 * s.interval - 200 - r.below(3000) as i64),
                Upstream::Down => Some(now - s.interval - r.below(600) as i64),
                _ => Some(now - r.below(s.interval as u64) as i64),
            };
        }
        let placed: Vec<Src> = sources.iter().filter(|s| s.place.is_some()).cloned().collect();
        let clouds: Vec<CloudKind> = {
            let mut c: Vec<CloudKind> = placed.iter().filter_map(|s| s.place.map(|p| p.0)).collect();
            c.dedup();
            c
        };
        let mut e = Estate {
            seed,
            sources: sources.clone(),
            groups: vec![],
            metrics: vec![],
            policies: vec![],
            links: vec![],
            costs: vec![],
            alerts: vec![],
        };
        for s in &placed {
            let (cloud, region) = s.place.expect("placed");
            for g in 0..r.below(4) {
                let min = r.below(3) as u32;
                let max = min + r.below(9) as u32;
                let desired = min + r.below(u64::from(max - min) + 1) as u32;
                let zones = (0..r.below(4))
                    .map(|z| {
                        let in_service = r.below(6) as u32;
                        (
                            format!("{region}{}", ['a', 'b', 'c'][z as usize]),
                            in_service,
                            r.below(u64::from(in_service) + 1) as u32,
                        )
                    })
                    .collect();
                e.groups.push(Group {
                    source: s.id.clone(),
                    cloud,
                    region: region.into(),
                    name: format!("{}-{g}", r.pick(&["web", "api", "worker", "batch-spot", "checkout"])),
                    min,
                    max,
                    desired,
                    zones,
                    inactive: r.chance(0.1),
                    spot_share: r.figure(1, 2),
                });
            }
            if r.chance(0.85) {
                let mut fig = |max: u64, dp: u32| if r.chance(0.7) { Some(r.figure(max, dp)) } else { None };
                let (rps, p95_ms, error_rate, cpu) = (fig(5000, 2), fig(900, 1), fig(1, 4), fig(1, 3));
                e.metrics.push(Metric {
                    source: s.id.clone(),
                    cloud,
                    region: region.into(),
                    rps,
                    p95_ms,
                    error_rate,
                    cpu,
                });
            }
            if r.chance(0.7) {
                let currency = match cloud {
                    CloudKind::Aws => "USD",
                    CloudKind::Azure => *r.pick(&["EUR", "USD", "GBP"]),
                    _ => "CNY",
                };
                let services = (0..r.below(4))
                    .map(|i| {
                        (format!("{}-{i}", r.pick(&["Compute", "Storage", "Réseau", "数据库"])), r.figure(5000, 2))
                    })
                    .collect();
                let forecast = match r.below(3) {
                    0 => None,
                    1 => Some(("cloud", r.figure(90000, 2))),
                    _ => Some(("run_rate", r.figure(90000, 2))),
                };
                e.costs.push(Cost {
                    source: s.id.clone(),
                    cloud,
                    currency,
                    mtd: r.figure(50000, 2),
                    services,
                    forecast,
                });
            }
        }
        for p in 0..r.below(3) {
            let s = r.pick(&placed).id.clone();
            let answers = (0..1 + r.below(4))
                .map(|i| {
                    let cloud = *r.pick(&clouds);
                    let health = *r.pick(&["idle", "ok", "ok", "degraded", "down", "unknown"]);
                    Answer {
                        name: format!("{}-{i}", cloud.slug()),
                        cloud,
                        target: format!("lb-{i}.{}.example.net", cloud.slug()),
                        weight: r.below(256) as u32,
                        health,
                        exported: health != "unknown" || r.chance(0.5),
                        check: if r.chance(0.5) { "HTTPS 200 /healthz".into() } else { String::new() },
                    }
                })
                .collect();
            let kind = *r.pick(&["route53", "traffic_manager", "gtm", "global"]);
            e.policies.push(Policy {
                source: s,
                name: format!("shop-{p}.example.com"),
                kind,
                ttl: *r.pick(&[30, 60, 300]),
                answers,
            });
        }
        let all = [CloudKind::Aws, CloudKind::Azure, CloudKind::Aliyun];
        for (i, kind) in ["database", "cache", "storage"].into_iter().enumerate() {
            if r.chance(0.7) {
                let from = *r.pick(&all);
                let to = *r.pick(&all.iter().copied().filter(|c| *c != from).collect::<Vec<_>>());
                let (value, target) =
                    if kind == "storage" { (r.below(20000) as f64, 5000.0) } else { (r.figure(120, 1), 30.0) };
                e.links.push(Link {
                    source: r.pick(&placed).id.clone(),
                    kind,
                    name: format!("{kind}-{i}"),
                    from,
                    to,
                    value,
                    target,
                });
            }
        }
        let alerting: Vec<Src> = sources.iter().filter(|s| s.state != Upstream::Never).cloned().collect();
        for i in 0..r.below(7) {
            let s = r.pick(&alerting).clone();
            let cloud = match s.place {
                Some((c, _)) => Some(c),
                None if r.chance(0.5) => Some(*r.pick(&all)),
                None => None,
            };
            e.alerts.push(AlertT {
                source: s.id,
                id: format!("alert-{seed}-{i}"),
                cloud,
                severity: r.one(&["p0", "p1", "p2", "p3"]),
                state: r.one(&["firing", "acked", "inhibited", "resolved"]),
                name: format!("{} #{i}", r.pick(&ALERT_NAMES)),
                resource: format!("arn:res/{i}"),
                route: r.pick(&["pager/oncall", "chat #ops", ""]).to_string(),
                started: now - 60 - r.below(86_400) as i64,
            });
        }
        e
    }

    /// The exposition of one exporter of the pair. `behind`: the second exporter,
    /// a poll late: every last success one interval older, and values that must
    /// not win (other desired counts, weights, spend, alert states).
    fn exposition(&self, behind: bool) -> String {
        let mut t = Text::default();
        let lag = |s: &str| -> i64 {
            if behind { self.sources.iter().find(|x| x.id == s).map_or(0, |x| x.interval) } else { 0 }
        };
        let bump = if behind { 1.0 } else { 0.0 };
        for s in &self.sources {
            let l = [("source", s.id.as_str()), ("kind", s.kind)];
            t.put(
                "opsdeck_source_up",
                &l,
                if matches!(s.state, Upstream::Fresh | Upstream::Partial | Upstream::Old) { 1.0 } else { 0.0 },
            );
            t.put("opsdeck_source_partial_sections", &l, if s.state == Upstream::Partial { 2.0 } else { 0.0 });
            if let Some(at) = s.last_success {
                t.put("opsdeck_source_last_success_timestamp_seconds", &l, (at - lag(&s.id)) as f64);
            }
            t.put("opsdeck_source_interval_seconds", &l, s.interval as f64);
            t.put("opsdeck_source_api_calls", &l, 12.0);
        }
        for g in &self.groups {
            let l =
                [("source", g.source.as_str()), ("cloud", g.cloud.slug()), ("region", &g.region), ("group", &g.name)];
            t.put("opsdeck_group_desired", &l, f64::from(g.desired) + bump);
            t.put("opsdeck_group_min", &l, f64::from(g.min));
            t.put("opsdeck_group_max", &l, f64::from(g.max));
            t.put("opsdeck_group_inactive", &l, if g.inactive { 1.0 } else { 0.0 });
            t.put("opsdeck_group_spot_share", &l, g.spot_share);
            // A family a newer exporter might add: read past, not a failure.
            t.put("opsdeck_group_warm_pool", &l, 2.0);
            for (zone, in_service, healthy) in &g.zones {
                let mut z = l.to_vec();
                z.push(("zone", zone));
                t.put("opsdeck_group_zone_in_service", &z, f64::from(*in_service));
                t.put("opsdeck_group_zone_healthy", &z, f64::from(*healthy));
            }
        }
        for m in &self.metrics {
            let l = [("source", m.source.as_str()), ("cloud", m.cloud.slug()), ("region", &m.region)];
            let figures = [
                ("opsdeck_requests_per_second", m.rps.map(|v| v + bump)),
                ("opsdeck_latency_p95_seconds", m.p95_ms.map(|v| v / 1000.0)),
                ("opsdeck_error_ratio", m.error_rate),
                ("opsdeck_cpu_ratio", m.cpu),
            ];
            for (family, v) in figures {
                if let Some(v) = v {
                    t.put(family, &l, v);
                }
            }
        }
        for p in &self.policies {
            t.put(
                "opsdeck_dns_ttl_seconds",
                &[("source", &p.source), ("policy", &p.name), ("policy_kind", p.kind)],
                f64::from(p.ttl),
            );
            for a in &p.answers {
                let weight = [
                    ("source", p.source.as_str()),
                    ("policy", &p.name),
                    ("policy_kind", p.kind),
                    ("cloud", a.cloud.slug()),
                    ("endpoint", &a.name),
                    ("target", &a.target),
                ];
                t.put("opsdeck_dns_weight", &weight, f64::from(a.weight) + bump);
                if a.exported {
                    // The whole state set: the current state at 1, the others at 0.
                    for h in ["idle", "ok", "degraded", "down", "unknown"] {
                        let l = [
                            ("source", p.source.as_str()),
                            ("policy", &p.name),
                            ("cloud", a.cloud.slug()),
                            ("endpoint", &a.name),
                            ("health", h),
                            ("check", &a.check),
                        ];
                        t.put("opsdeck_dns_endpoint_health", &l, if h == a.health { 1.0 } else { 0.0 });
                    }
                }
                let healthy = match a.health {
                    "ok" => Some(1.0),
                    "degraded" | "down" => Some(0.0),
                    _ => None,
                };
                if let Some(v) = healthy {
                    t.put(
                        "opsdeck_dns_healthy",
                        &[
                            ("source", p.source.as_str()),
                            ("policy", &p.name),
                            ("cloud", a.cloud.slug()),
                            ("endpoint", &a.name),
                        ],
                        v,
                    );
                }
            }
        }
        for k in &self.links {
            let l = [
                ("source", k.source.as_str()),
                ("kind", k.kind),
                ("name", &k.name),
                ("from", k.from.slug()),
                ("to", k.to.slug()),
            ];
            let (value, target) = if k.kind == "storage" {
                ("opsdeck_replication_backlog_objects", "opsdeck_replication_backlog_target_objects")
            } else {
                ("opsdeck_replication_lag_seconds", "opsdeck_replication_target_seconds")
            };
            t.put(value, &l, k.value + bump);
            t.put(target, &l, k.target);
        }
        for c in &self.costs {
            let l = [("source", c.source.as_str()), ("cloud", c.cloud.slug()), ("currency", c.currency)];
            t.put("opsdeck_cost_month_to_date", &l, c.mtd + bump);
            for (service, v) in &c.services {
                let mut s = l.to_vec();
                s.push(("service", service));
                t.put("opsdeck_cost_service_month_to_date", &s, *v);
            }
            if let Some((method, v)) = c.forecast {
                let mut f = l.to_vec();
                f.push(("method", method));
                t.put("opsdeck_cost_forecast", &f, v);
            }
        }
        for a in &self.alerts {
            let state = if behind { if a.state == "firing" { "resolved" } else { "firing" } } else { a.state };
            let l = [
                ("source", a.source.as_str()),
                ("cloud", a.cloud.map_or("", |c| c.slug())),
                ("alert_id", &a.id),
                ("severity", a.severity),
                ("state", state),
                ("name", &a.name),
                ("resource", &a.resource),
                ("route", &a.route),
            ];
            t.put("opsdeck_alert", &l, 1.0);
            t.put(
                "opsdeck_alert_started_timestamp_seconds",
                &[("source", &a.source), ("alert_id", &a.id)],
                a.started as f64,
            );
        }
        t.put(
            "opsdeck_arbiter_up",
            &[("source", "arbiters"), ("arbiter", "witness-1"), ("location", "Frankfurt")],
            1.0,
        );
        t.put(
            "opsdeck_arbiter_rtt_seconds",
            &[("source", "arbiters"), ("arbiter", "witness-1"), ("location", "Frankfurt")],
            0.0125,
        );
        t.put("opsdeck_exporter_info", &[("version", &format!("seed-{}", self.seed))], 1.0);
        t.finish()
    }
}

/// Exposition text, each family once with HELP and TYPE (the pushgateway wants
/// every family's samples together).
#[derive(Default)]
struct Text(BTreeMap<String, Vec<String>>);

impl Text {
    fn put(&mut self, family: &str, labels: &[(&str, &str)], v: f64) {
        let esc = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n");
        let l: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{}\"", esc(v))).collect();
        self.0.entry(family.to_string()).or_default().push(format!("{family}{{{}}} {v}", l.join(",")));
    }
    fn finish(self) -> String {
        let mut out = String::new();
        for (family, lines) in self.0 {
            let _ = writeln!(out, "# HELP {family} opsdeck test family\n# TYPE {family} gauge");
            for l in lines {
                let _ = writeln!(out, "{l}");
            }
        }
        out
    }
}

fn near(seen: &Value, want: f64) -> bool {
    seen.as_f64().is_some_and(|v| (v - want).abs() <= 1e-9 * want.abs().max(1.0))
}

fn opt(seen: &Value, want: Option<f64>) -> bool {
    match want {
        None => seen.is_null(),
        Some(w) => near(seen, w),
    }
}

fn at(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(secs, 0).expect("time")
}

fn time_of(v: &Value) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(v.as_str()?).ok().map(|t| t.with_timezone(&Utc))
}

fn health_label(h: &str) -> &'static str {
    match h {
        "idle" => "IDLE",
        "ok" => "OK",
        "degraded" => "DEGRADED",
        "down" => "DOWN",
        _ => "UNKNOWN",
    }
}

/// The snapshot JSON against the truth.
fn assert_snapshot_is_the_truth(e: &Estate, snap: &Value) {
    let seed = e.seed;
    let arr = |k: &str| snap[k].as_array().cloned().unwrap_or_else(|| panic!("seed {seed}: no {k}: {snap}"));

    // Sources: the reader, then every upstream source with the freshness its
    // exporter's figures give it.
    let sources = arr("sources");
    let row = |id: &str| sources.iter().find(|s| s["id"] == id).cloned();
    let prom = row("prom").expect("the reader's row");
    assert_eq!(prom["state"], "fresh", "seed {seed}: {prom}");
    for s in &e.sources {
        let r = row(&s.id).unwrap_or_else(|| panic!("seed {seed}: no row for {}: {sources:?}", s.id));
        let want = if s.state == Upstream::Fresh { "fresh" } else { "stale" };
        assert_eq!(r["state"], want, "seed {seed}: {} ({:?}): {r}", s.id, s.state);
        assert_eq!(r["kind"], s.kind, "seed {seed}: {r}");
        assert_eq!(time_of(&r["last_ok"]), s.last_success.map(at), "seed {seed}: {r}");
    }

    // Groups: every one, with its own source id, counts and zones.
    let mut groups = arr("groups");
    groups.sort_by_key(|g| (g["source"].to_string(), g["name"].to_string()));
    let mut truth = e.groups.clone();
    truth.sort_by_key(|g| (format!("\"{}\"", g.source), format!("\"{}\"", g.name)));
    assert_eq!(groups.len(), truth.len(), "seed {seed}: {groups:?}");
    for (g, t) in groups.iter().zip(&truth) {
        let zones: Vec<(String, u64, u64)> = g["zones"]
            .as_array()
            .expect("zones")
            .iter()
            .map(|z| {
                (
                    z["zone"].as_str().expect("zone").to_string(),
                    z["in_service"].as_u64().expect("n"),
                    z["healthy"].as_u64().expect("n"),
                )
            })
            .collect();
        let want: Vec<(String, u64, u64)> =
            t.zones.iter().map(|(z, i, h)| (z.clone(), u64::from(*i), u64::from(*h))).collect();
        assert_eq!(
            (&g["source"], &g["cloud"], &g["region"], &g["name"], &g["min"], &g["max"], &g["desired"]),
            (
                &Value::from(t.source.clone()),
                &Value::from(t.cloud.slug()),
                &Value::from(t.region.clone()),
                &Value::from(t.name.clone()),
                &Value::from(t.min),
                &Value::from(t.max),
                &Value::from(t.desired)
            ),
            "seed {seed}"
        );
        assert_eq!(zones, want, "seed {seed}: {g}");
        assert_eq!(g["in_service"], t.zones.iter().map(|z| z.1).sum::<u32>(), "seed {seed}");
        assert_eq!(g["healthy"], t.zones.iter().map(|z| z.2).sum::<u32>(), "seed {seed}");
        if t.inactive {
            assert_eq!(
                (&g["idle"], &g["health"]),
                (&Value::from("inactive"), &Value::from("IDLE")),
                "seed {seed}: {g}"
            );
        } else {
            assert_ne!(g["idle"], "inactive", "seed {seed}: {g}");
        }
    }

    // Figures per region: what was exported, and null where nothing was.
    let clouds = arr("clouds");
    let region = |c: CloudKind, r: &str| {
        clouds
            .iter()
            .filter(|x| x["cloud"] == c.slug())
            .flat_map(|x| x["regions"].as_array().cloned().unwrap_or_default())
            .find(|x| x["region"] == r)
    };
    for m in &e.metrics {
        let r = region(m.cloud, &m.region).unwrap_or_else(|| panic!("seed {seed}: no region {}", m.region));
        assert!(
            opt(&r["rps"], m.rps) && opt(&r["p95_ms"], m.p95_ms) && opt(&r["error_rate"], m.error_rate),
            "seed {seed}: {r} vs {m:?}"
        );
    }
    for g in e.groups.iter().filter(|g| !e.metrics.iter().any(|m| m.cloud == g.cloud && m.region == g.region)) {
        let r = region(g.cloud, &g.region).expect("the group's region");
        assert!(
            r["rps"].is_null() && r["p95_ms"].is_null() && r["error_rate"].is_null(),
            "seed {seed}: nothing measured is null: {r}"
        );
    }

    // DNS: each policy with its answers, weights and health.
    let policies = arr("traffic_policies");
    assert_eq!(policies.len(), e.policies.len(), "seed {seed}");
    for p in &e.policies {
        let seen = policies
            .iter()
            .find(|x| x["name"] == p.name.as_str())
            .unwrap_or_else(|| panic!("seed {seed}: no policy {}", p.name));
        let kind = match p.kind {
            "route53" => "Route 53",
            "traffic_manager" => "Traffic Manager",
            "gtm" => "GTM",
            _ => "global",
        };
        assert_eq!((&seen["kind"], &seen["ttl_secs"]), (&Value::from(kind), &Value::from(p.ttl)), "seed {seed}");
        let mut want: Vec<(String, String, String, u64, String)> = p
            .answers
            .iter()
            .map(|a| {
                (
                    a.name.clone(),
                    a.cloud.slug().into(),
                    a.target.clone(),
                    u64::from(a.weight),
                    health_label(a.health).into(),
                )
            })
            .collect();
        want.sort_by_key(|a| (CloudKind::from_slug(&a.1), a.0.clone()));
        let got: Vec<(String, String, String, u64, String)> = seen["endpoints"]
            .as_array()
            .expect("endpoints")
            .iter()
            .map(|x| {
                let s = |k: &str| x[k].as_str().unwrap_or_default().to_string();
                (s("name"), s("cloud"), s("target"), x["weight"].as_u64().expect("weight"), s("health"))
            })
            .collect();
        assert_eq!(got, want, "seed {seed}: {}", p.name);
    }

    // Replication: every link of each kind against its target.
    let links = arr("replication");
    assert_eq!(links.len(), e.links.len(), "seed {seed}: {links:?}");
    for k in &e.links {
        let label = match k.kind {
            "database" => "DB",
            "cache" => "Cache",
            _ => "Storage",
        };
        let seen = links.iter().find(|x| x["name"] == k.name.as_str()).expect("link");
        assert_eq!(
            (&seen["kind"], &seen["from"], &seen["to"]),
            (&Value::from(label), &Value::from(k.from.slug()), &Value::from(k.to.slug())),
            "seed {seed}"
        );
        assert!(near(&seen["value"], k.value) && near(&seen["target"], k.target), "seed {seed}: {seen} vs {k:?}");
    }

    // Costs: one per source's cloud and currency, each filed under the source that
    // read it from its cloud (whose freshness judges it), not under the reader.
    let costs = arr("costs");
    assert_eq!(costs.len(), e.costs.len(), "seed {seed}");
    for c in &e.costs {
        let seen = costs
            .iter()
            .find(|x| x["cloud"] == c.cloud.slug() && x["currency"] == c.currency && near(&x["month_to_date"], c.mtd))
            .unwrap_or_else(|| panic!("seed {seed}: no cost {c:?} in {costs:?}"));
        assert_eq!(seen["source"], c.source.as_str(), "seed {seed}");
        match c.forecast {
            Some((method, v)) => {
                assert!(seen["forecast_basis"] == method && near(&seen["forecast"], v), "seed {seed}: {seen}")
            }
            None => assert!(seen["forecast"].is_null() && seen["forecast_basis"] == "too_early", "seed {seed}: {seen}"),
        }
        let mut want = c.services.clone();
        want.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let got: Vec<(String, f64)> = seen["by_service"]
            .as_array()
            .expect("services")
            .iter()
            .map(|s| (s["service"].as_str().expect("name").to_string(), s["amount"].as_f64().expect("amount")))
            .collect();
        assert_eq!(got.len(), want.len(), "seed {seed}: {seen}");
        assert!(
            got.iter().zip(&want).all(|(g, w)| g.0 == w.0 && near(&Value::from(g.1), w.1)),
            "seed {seed}: {got:?} vs {want:?}"
        );
    }

    // Alerts: every one with its own source, names whole, states and severities.
    let alerts = arr("alerts");
    assert_eq!(alerts.len(), e.alerts.len(), "seed {seed}: {alerts:?}");
    for a in &e.alerts {
        let seen = alerts
            .iter()
            .find(|x| x["id"] == a.id.as_str())
            .unwrap_or_else(|| panic!("seed {seed}: no alert {}", a.id));
        let want_cloud = a.cloud.map_or(Value::Null, |c| Value::from(c.slug()));
        assert_eq!(
            (
                &seen["source"],
                &seen["cloud"],
                &seen["severity"],
                &seen["state"],
                &seen["title"],
                &seen["resource"],
                &seen["route"]
            ),
            (
                &Value::from(a.source.clone()),
                &want_cloud,
                &Value::from(a.severity.to_uppercase()),
                &Value::from(a.state),
                &Value::from(a.name.clone()),
                &Value::from(a.resource.clone()),
                &Value::from(a.route.clone())
            ),
            "seed {seed}"
        );
        assert_eq!(time_of(&seen["started_at"]), Some(at(a.started)), "seed {seed}: {seen}");
        let by = if a.state == "acked" { Value::from("via Prometheus") } else { Value::Null };
        assert_eq!(seen["acknowledged_by"], by, "seed {seed}: {seen}");
    }
}

fn config(prom: &Server, backfill: u32) -> String {
    format!(
        "[[sources]]\nname = \"prom\"\nkind = \"prometheus\"\ninterval_secs = 15\ntimeout_secs = 10\n\
         [sources.prometheus]\nurl = \"{}\"\nschema = \"opsdeck\"\nbackfill_minutes = {backfill}\n",
        prom.url()
    )
}

/// `opsdeck snapshot --format json` with `toml`: the JSON.
fn snapshot(toml: &str, seed: u64) -> Value {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("opsdeck.toml");
    std::fs::write(&path, toml).expect("config");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_opsdeck"))
        .args(["--config", path.to_str().expect("utf-8"), "snapshot", "--format", "json"])
        .env("HOME", dir.path())
        .output()
        .expect("snapshot");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        matches!(out.status.code(), Some(0..=3)),
        "seed {seed}: {:?} {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(&text).unwrap_or_else(|err| panic!("seed {seed}: {err}: {text}"))
}

/// Push both copies of the pair and wait until one scrape holds both (a scrape
/// is atomic, and the previous estate's series end at it).
async fn plant(pg: &Server, prom: &Server, e: &Estate) {
    push(pg, "opsdeck/instance/exporter-a:9808/replica/a", &e.exposition(false)).await;
    push(pg, "opsdeck/instance/exporter-b:9808/replica/b", &e.exposition(true)).await;
    let url = format!("{}/api/v1/query?query=opsdeck_exporter_info", prom.url());
    let want = format!("seed-{}", e.seed);
    eventually(30, "both copies scraped", || {
        let (url, want) = (url.clone(), want.clone());
        async move {
            let v = get_json(&url).await;
            let r = v["data"]["result"].as_array().cloned().unwrap_or_default();
            (r.len() == 2 && r.iter().all(|s| s["metric"]["version"] == want.as_str())).then_some(())
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exported_estate_read_through_prometheus_is_the_truth() {
    let pg = promstack::pushgateway();
    let prom = promstack::prometheus(&pg, None, "groups: []\n");
    let (mut stale, mut partial, mut acked, mut absent) = (0, 0, 0, 0);
    for seed in 0..SEEDS {
        let e = Estate::generate(seed, Utc::now().timestamp());
        plant(&pg, &prom, &e).await;
        let snap = snapshot(&config(&prom, 0), seed);
        assert_snapshot_is_the_truth(&e, &snap);
        stale +=
            e.sources.iter().filter(|s| matches!(s.state, Upstream::Down | Upstream::Old | Upstream::Never)).count();
        partial += e.sources.iter().filter(|s| s.state == Upstream::Partial).count();
        acked += e.alerts.iter().filter(|a| a.state == "acked").count();
        absent += e
            .metrics
            .iter()
            .map(|m| [m.rps, m.p95_ms, m.error_rate, m.cpu].iter().filter(|v| v.is_none()).count())
            .sum::<usize>();
    }
    // The seeds cover what they claim to.
    eprintln!("{SEEDS} seeds: {stale} stale upstream, {partial} partial, {acked} acked, {absent} absent figures");
    assert!(stale >= 5 && partial >= 2 && acked >= 5 && absent >= 10, "{stale} {partial} {acked} {absent}");
}

/// The library's poll on one seed: the traffic backfill's queries (the exported
/// figures, the pair's copies made one by `max`), the reader's own cost, the
/// arbiters, the upstream rows, the doctor's checks, and a section that cannot be
/// rebuilt failing alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reader_backfills_history_and_fails_a_bad_section_alone() {
    let pg = promstack::pushgateway();
    let prom = promstack::prometheus(&pg, None, "groups: []\n");
    let seed = (0..200).find(|s| {
        let e = Estate::generate(*s, 0);
        e.metrics.iter().any(|m| m.rps.is_some()) && !e.groups.is_empty()
    });
    let e = Estate::generate(seed.expect("a seed with traffic"), Utc::now().timestamp());
    plant(&pg, &prom, &e).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut cfg = PrometheusConfig::new(prom.url());
    cfg.schema = Schema::Opsdeck;
    cfg.backfill_minutes = 5;
    let src = PrometheusSource::new("prom", &cfg, Duration::from_secs(5)).expect("source");
    let report = src.poll(Utc::now()).await.expect("poll");
    // One core query, seven sections, three range queries.
    assert_eq!(report.poll_cost.as_ref().map(|c| c.api_calls), Some(1 + 7 + 3));
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    for m in e.metrics.iter().filter(|m| m.rps.is_some()) {
        let total: f64 = e.metrics.iter().filter(|x| x.cloud == m.cloud).filter_map(|x| x.rps).sum();
        let last = report.history.iter().rfind(|(c, _)| *c == m.cloud).map(|(_, p)| p.rps);
        // The pair's second copy is one request/s higher: max keeps it, once per source.
        let pair: f64 = e.metrics.iter().filter(|x| x.cloud == m.cloud && x.rps.is_some()).count() as f64;
        assert!(
            last.flatten().is_some_and(|v| (v - (total + pair)).abs() < 1e-6),
            "{:?}: {last:?} vs {total}",
            m.cloud
        );
    }
    assert_eq!(report.arbiters.len(), 1);
    assert_eq!((report.arbiters[0].reachable, report.arbiters[0].rtt_ms), (true, Some(12.5)));
    let ids: Vec<&str> = report.upstream.iter().map(|s| s.id.as_str()).collect();
    assert!(e.sources.iter().all(|s| ids.contains(&s.id.as_str())), "{ids:?}");
    assert!(
        report.upstream.iter().any(|s| s.freshness == Freshness::Fresh)
            || e.sources.iter().all(|s| s.state != Upstream::Fresh)
    );
    // `opsdeck doctor`: the server, and the exported families there.
    let checks = src.preflight(Utc::now()).await;
    assert_eq!(checks.len(), 2, "{checks:?}");
    let families = checks[1].result.as_ref().expect("families found");
    // Both copies of the pair: each source's health twice.
    assert_eq!(families, &format!("{} source health series exported", 2 * e.sources.len()));
    // An alert in a state the contract does not have: the alerts section fails, the rest stands.
    let mut text = e.exposition(false);
    text = text.replace(
        "# HELP opsdeck_alert opsdeck test family\n# TYPE opsdeck_alert gauge\n",
        "# HELP opsdeck_alert opsdeck test family\n# TYPE opsdeck_alert gauge\nopsdeck_alert{source=\"x\",alert_id=\"z\",severity=\"p1\",state=\"snoozed\",name=\"n\"} 1\n",
    );
    if !text.contains("state=\"snoozed\"") {
        text += "# HELP opsdeck_alert opsdeck test family\n# TYPE opsdeck_alert gauge\nopsdeck_alert{source=\"x\",alert_id=\"z\",severity=\"p1\",state=\"snoozed\",name=\"n\"} 1\n";
    }
    let bad = Estate { seed: 999, ..e.clone() };
    push(&pg, "opsdeck/instance/exporter-a:9808/replica/a", &text.replace(&format!("seed-{}", e.seed), "seed-999"))
        .await;
    push(&pg, "opsdeck/instance/exporter-b:9808/replica/b", &bad.exposition(true)).await;
    let src = PrometheusSource::new("prom", &cfg, Duration::from_secs(5)).expect("source");
    let report = eventually(30, "the bad alert scraped", || async {
        src.poll(Utc::now()).await.ok().filter(|r| !r.failed.is_empty())
    })
    .await;
    assert_eq!(report.failed.iter().map(|f| f.section).collect::<Vec<_>>(), vec![Section::Alerts]);
    assert!(report.failed[0].reason.contains("unknown alert state 'snoozed'"), "{:?}", report.failed);
    assert_eq!(report.groups.len(), e.groups.len());
}

/// What an operator acts on: a scale planned on a group read through Prometheus
/// names the group's own source (where the write must go, configured beside the
/// reader), and the freshness guardrail judges that source by the last success its
/// exporter saw: a group of a fresh source passes, one of a stale source fails
/// with the source named. The region of a stale source's group is never judged
/// healthy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actions_on_what_prometheus_shows_go_to_the_items_sources_and_judge_their_freshness() {
    use opsdeck::actions::guard::{self, GuardKey, GuardState};
    use opsdeck::actions::{GuardContext, Intent, plan};
    use opsdeck::collector::{SourceSchedule, collect_once};
    use std::sync::Arc;

    let pg = promstack::pushgateway();
    let prom = promstack::prometheus(&pg, None, "groups: []\n");
    let unique =
        |e: &Estate, g: &Group| e.groups.iter().filter(|x| x.cloud == g.cloud && x.name == g.name).count() == 1;
    let seed = (0..500).find(|s| {
        let e = Estate::generate(*s, 0);
        let state = |g: &Group| e.sources.iter().find(|s| s.id == g.source).map(|s| s.state);
        let ok = e.groups.iter().any(|g| unique(&e, g) && state(g) == Some(Upstream::Fresh));
        ok && e.groups.iter().any(|g| unique(&e, g) && matches!(state(g), Some(Upstream::Down | Upstream::Old)))
    });
    let e = Estate::generate(seed.expect("a seed with fresh and stale groups"), Utc::now().timestamp());
    plant(&pg, &prom, &e).await;
    let mut cfg = PrometheusConfig::new(prom.url());
    (cfg.schema, cfg.backfill_minutes) = (Schema::Opsdeck, 0);
    let src = Arc::new(PrometheusSource::new("prom", &cfg, Duration::from_secs(5)).expect("source"));
    let schedule = SourceSchedule { provider: src, interval: Duration::from_secs(15), timeout: Duration::from_secs(5) };
    let now = Utc::now();
    let fleet = collect_once(&[schedule], now, false).await;
    let snap = opsdeck::snapshot::to_json(&fleet, now);
    let mut judged = 0;
    for g in e.groups.iter().filter(|g| unique(&e, g)) {
        let state = e.sources.iter().find(|s| s.id == g.source).map(|s| s.state).expect("source");
        let desired = if g.desired == g.max { g.min } else { g.max };
        if desired == g.desired {
            continue; // min = max: nothing to scale to
        }
        let p = plan(&Intent::Scale { cloud: g.cloud, group: g.name.clone(), desired }, &fleet).expect("a plan");
        assert_eq!(p.source.as_str(), g.source, "the write goes to the group's own source");
        let ctx = GuardContext { now, in_flight: &[], require: &[] };
        let fresh = guard::check(&p, &fleet, &ctx).into_iter().find(|r| r.key == GuardKey::Fresh).expect("fresh guard");
        if state == Upstream::Fresh {
            assert_eq!(fresh.state, GuardState::Passed, "{}: {}", g.source, fresh.detail);
        } else {
            assert_eq!(fresh.state, GuardState::Failed, "{}: {}", g.source, fresh.detail);
            assert!(fresh.detail.contains(&format!("{} is stale", g.source)), "{}", fresh.detail);
            let reasons = snap["reasons"].to_string();
            assert!(reasons.contains(&format!("source {} could not be read", g.source)), "{reasons}");
            let region = snap["clouds"]
                .as_array()
                .expect("clouds")
                .iter()
                .flat_map(|c| c["regions"].as_array().cloned().unwrap_or_default())
                .find(|r| r["region"] == g.region.as_str())
                .expect("region");
            assert!(region["health"] == "UNKNOWN" || region["health"] == "DOWN", "{region}");
        }
        judged += 1;
    }
    assert!(judged >= 2);
}
