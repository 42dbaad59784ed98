//! The Fleet as metric families: exactly the contract README's "opsdeck export"
//! table states (and `schema = "opsdeck"` reads). Plain data, so the mapping is
//! tested without any exposition format, and built afresh from each scrape's Fleet.
//!
//! Rules the whole module keeps:
//! - a figure nobody measured is no series at all, never 0;
//! - every label value goes through [`label_value`] (sanitised, bounded, no secret);
//! - no label names the exporter itself (Prometheus adds `instance` and `job`), and
//!   series are sorted by their labels, so two exporters polling the same clouds
//!   write the same lines.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::label::label_value;
use crate::model::cost::totals_by_currency;
use crate::model::{Fleet, Forecast, Freshness, Health, PolicyKind, ReplicationKind};

/// Every family, in the order it is written, with its HELP text. All are gauges.
pub const FAMILIES: &[(&str, &str)] = &[
    ("opsdeck_group_desired", "Desired instance count of a scaling group."),
    ("opsdeck_group_min", "Minimum instance count of a scaling group."),
    ("opsdeck_group_max", "Maximum instance count of a scaling group."),
    ("opsdeck_group_inactive", "1 when the cloud reports the scaling group switched off, else 0."),
    ("opsdeck_group_spot_share", "Share of a scaling group's instances on spot or preemptible capacity, 0..1."),
    ("opsdeck_group_zone_in_service", "Instances in service in one zone of a scaling group."),
    ("opsdeck_group_zone_healthy", "Healthy instances in one zone of a scaling group."),
    ("opsdeck_requests_per_second", "Front-door requests per second of a cloud region."),
    ("opsdeck_latency_p95_seconds", "Front-door p95 latency of a cloud region, seconds."),
    ("opsdeck_error_ratio", "Front-door 5xx responses as a fraction of all, 0..1."),
    ("opsdeck_cpu_ratio", "Average CPU of a cloud region's web tier, 0..1."),
    ("opsdeck_dns_ttl_seconds", "TTL of a DNS traffic policy, seconds."),
    ("opsdeck_dns_weight", "Weight of one answer of a DNS traffic policy."),
    ("opsdeck_dns_endpoint_health", "1 for the health state of one DNS answer (health label) and its check."),
    ("opsdeck_dns_healthy", "1 when a DNS answer is healthy, 0 when degraded or down."),
    ("opsdeck_replication_lag_seconds", "Replication lag of a database or cache link, seconds."),
    ("opsdeck_replication_target_seconds", "Replication lag target (RPO) of a database or cache link, seconds."),
    ("opsdeck_replication_backlog_objects", "Objects waiting in a storage dual-write backlog."),
    ("opsdeck_replication_backlog_target_objects", "Target size of a storage dual-write backlog, objects."),
    ("opsdeck_cost_month_to_date", "Spend this month so far, per cloud and currency."),
    ("opsdeck_cost_service_month_to_date", "Spend this month so far per service, per cloud and currency."),
    ("opsdeck_cost_forecast", "Forecast spend to month end (method: cloud or run_rate)."),
    ("opsdeck_spot_price_hourly", "Spot or preemptible price of the next instance a scale-out adds, per hour."),
    ("opsdeck_on_demand_price_hourly", "On-demand price of the next instance a scale-out adds, per hour."),
    ("opsdeck_arbiter_up", "1 when a split-brain witness answered its last probe, else 0."),
    ("opsdeck_arbiter_rtt_seconds", "Round trip of the last probe a split-brain witness answered, seconds."),
    ("opsdeck_link_rtt_seconds", "Round trip over a cross-cloud link as last measured, seconds."),
    ("opsdeck_link_target_seconds", "Round-trip target of a cross-cloud link, seconds."),
    ("opsdeck_link_loss_ratio", "Share of a cross-cloud link's last round of probes that was lost, 0..1."),
    ("opsdeck_link_over_target", "1 when a cross-cloud link is over its target, else 0."),
    ("opsdeck_slo_objective_ratio", "An SLO's objective, 0..1 (99.995 % is 0.99995)."),
    ("opsdeck_slo_window_seconds", "An SLO's window, seconds."),
    ("opsdeck_slo_covered_seconds", "How much of an SLO's window opsdeck holds data for, seconds."),
    ("opsdeck_slo_availability_ratio", "Good events over all events in the covered part of an SLO's window, 0..1."),
    ("opsdeck_slo_error_budget_remaining_ratio", "Share of an SLO's error budget not yet spent (negative: overspent)."),
    ("opsdeck_slo_burn_rate", "Error ratio over a span divided by the SLO's allowed error ratio."),
    ("opsdeck_slo_alert", "1 per SLO scope with a multi-window burn-rate alert in force (page or ticket)."),
    ("opsdeck_alert", "1 per alert, with its severity, state and bounded name."),
    ("opsdeck_alert_started_timestamp_seconds", "When an alert started, Unix seconds."),
    ("opsdeck_source_up", "1 when a source's last poll succeeded, 0 when stale or never read."),
    ("opsdeck_source_partial_sections", "Sections of a source whose last read failed (their last good data is kept)."),
    ("opsdeck_source_last_success_timestamp_seconds", "When a source last polled successfully, Unix seconds."),
    ("opsdeck_source_interval_seconds", "How often a source is polled, seconds."),
    ("opsdeck_source_poll_duration_seconds", "How long a source's last poll took, seconds."),
    ("opsdeck_source_api_calls", "API requests a source's last poll made."),
    ("opsdeck_source_monthly_cost_usd", "Estimated monthly API bill of polling a source at its interval, USD."),
    ("opsdeck_drill_active", "1 per demo chaos drill in force."),
    ("opsdeck_exporter_info", "The opsdeck version that wrote these series."),
];

/// One series: its labels (names fixed by the contract, values already cleaned)
/// and its value.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub labels: Vec<(&'static str, String)>,
    pub value: f64,
}

/// One metric family: a gauge with its HELP and its series, sorted by label values.
#[derive(Debug, Clone, PartialEq)]
pub struct Family {
    pub name: &'static str,
    pub help: &'static str,
    pub series: Vec<Series>,
}

/// The Fleet as the contract's families, every family present (with no series
/// when nothing is known of it), in [`FAMILIES`] order.
pub fn families(fleet: &Fleet) -> Vec<Family> {
    let mut out = Out::default();
    groups(fleet, &mut out);
    traffic(fleet, &mut out);
    dns(fleet, &mut out);
    replication(fleet, &mut out);
    cost(fleet, &mut out);
    prices(fleet, &mut out);
    arbiters(fleet, &mut out);
    links(fleet, &mut out);
    slos(fleet, &mut out);
    alerts(fleet, &mut out);
    sources(fleet, &mut out);
    for d in &fleet.drills {
        out.put("opsdeck_drill_active", &[("drill", d)], 1.0);
    }
    out.put("opsdeck_exporter_info", &[("version", env!("CARGO_PKG_VERSION"))], 1.0);
    out.finish()
}

/// Series gathered per family name.
#[derive(Default)]
struct Out(BTreeMap<&'static str, Vec<Series>>);

impl Out {
    /// Add a series. A value that is not a number (NaN, ±Inf from a broken upstream)
    /// is not a measurement: no series.
    fn put(&mut self, family: &'static str, labels: &[(&'static str, &str)], value: f64) {
        debug_assert!(FAMILIES.iter().any(|(n, _)| *n == family), "{family} is not in the contract");
        if !value.is_finite() {
            return;
        }
        let labels = labels.iter().map(|(k, v)| (*k, label_value(v))).collect();
        self.0.entry(family).or_default().push(Series { labels, value });
    }

    /// [`Out::put`] for a figure that may be unknown: absent when it is.
    fn opt(&mut self, family: &'static str, labels: &[(&'static str, &str)], value: Option<f64>) {
        if let Some(v) = value {
            self.put(family, labels, v);
        }
    }

    /// The families in contract order. Series are sorted by their label values, so
    /// the order never depends on the order an API listed things in; two series
    /// with the same labels (a cloud listing one thing twice) would make the
    /// exposition invalid, so the first is kept.
    fn finish(mut self) -> Vec<Family> {
        FAMILIES
            .iter()
            .map(|(name, help)| {
                let mut series = self.0.remove(name).unwrap_or_default();
                series.sort_by(|a, b| a.labels.iter().map(|l| &l.1).cmp(b.labels.iter().map(|l| &l.1)));
                series.dedup_by(|later, first| later.labels == first.labels);
                Family { name, help, series }
            })
            .collect()
    }
}

fn unix_secs(t: DateTime<Utc>) -> f64 {
    t.timestamp_millis() as f64 / 1000.0
}

fn groups(fleet: &Fleet, out: &mut Out) {
    for g in &fleet.groups {
        let labels = [
            ("source", g.source.as_str()),
            ("cloud", g.cloud.slug()),
            ("region", g.region.as_str()),
            ("group", g.name.as_str()),
        ];
        out.put("opsdeck_group_desired", &labels, f64::from(g.desired));
        out.put("opsdeck_group_min", &labels, f64::from(g.min));
        out.put("opsdeck_group_max", &labels, f64::from(g.max));
        out.put("opsdeck_group_inactive", &labels, if g.inactive { 1.0 } else { 0.0 });
        out.put("opsdeck_group_spot_share", &labels, g.spot_share);
        for z in &g.zones {
            let [a, b, c, d] = labels;
            let zone = [a, b, c, d, ("zone", z.zone.as_str())];
            out.put("opsdeck_group_zone_in_service", &zone, f64::from(z.in_service));
            out.put("opsdeck_group_zone_healthy", &zone, f64::from(z.healthy));
        }
    }
}

fn traffic(fleet: &Fleet, out: &mut Out) {
    for (source, m) in &fleet.metrics {
        let labels = [("source", source.as_str()), ("cloud", m.cloud.slug()), ("region", m.region.as_str())];
        out.opt("opsdeck_requests_per_second", &labels, m.rps);
        out.opt("opsdeck_latency_p95_seconds", &labels, m.p95_ms.map(|ms| ms / 1000.0));
        out.opt("opsdeck_error_ratio", &labels, m.error_rate);
        out.opt("opsdeck_cpu_ratio", &labels, m.cpu);
    }
}

/// The `policy_kind` label: the contract's slugs, not the display names.
pub fn policy_kind_slug(kind: PolicyKind) -> &'static str {
    match kind {
        PolicyKind::Route53 => "route53",
        PolicyKind::TrafficManager => "traffic_manager",
        PolicyKind::Gtm => "gtm",
        PolicyKind::Global => "global",
    }
}

/// The `health` label: `idle` | `ok` | `degraded` | `down` | `unknown`.
pub fn health_slug(h: Health) -> &'static str {
    match h {
        Health::Idle => "idle",
        Health::Ok => "ok",
        Health::Degraded => "degraded",
        Health::Down => "down",
        Health::Unknown => "unknown",
    }
}

fn dns(fleet: &Fleet, out: &mut Out) {
    for p in &fleet.policies {
        let kind = policy_kind_slug(p.kind);
        let source = p.source.as_str();
        out.put(
            "opsdeck_dns_ttl_seconds",
            &[("source", source), ("policy", &p.name), ("policy_kind", kind)],
            f64::from(p.ttl_secs),
        );
        for e in &p.endpoints {
            let cloud = e.cloud.slug();
            out.put(
                "opsdeck_dns_weight",
                &[
                    ("source", source),
                    ("policy", &p.name),
                    ("policy_kind", kind),
                    ("cloud", cloud),
                    ("endpoint", &e.name),
                    ("target", &e.target),
                ],
                f64::from(e.weight),
            );
            out.put(
                "opsdeck_dns_endpoint_health",
                &[
                    ("source", source),
                    ("policy", &p.name),
                    ("cloud", cloud),
                    ("endpoint", &e.name),
                    ("health", health_slug(e.health)),
                    ("check", &e.check),
                ],
                1.0,
            );
            let healthy = match e.health {
                Health::Ok => Some(1.0),
                Health::Degraded | Health::Down => Some(0.0),
                // Nobody checks it, or it is not meant to serve: neither healthy nor not.
                Health::Idle | Health::Unknown => None,
            };
            out.opt(
                "opsdeck_dns_healthy",
                &[("source", source), ("policy", &p.name), ("cloud", cloud), ("endpoint", &e.name)],
                healthy,
            );
        }
    }
}

fn replication(fleet: &Fleet, out: &mut Out) {
    for (r, source) in fleet.replication.iter().zip(&fleet.replication_sources) {
        let kind = match r.kind {
            ReplicationKind::Database => "database",
            ReplicationKind::Cache => "cache",
            ReplicationKind::Storage => "storage",
        };
        let labels = [
            ("source", source.as_str()),
            ("kind", kind),
            ("name", r.name.as_str()),
            ("from", r.from.slug()),
            ("to", r.to.slug()),
        ];
        let (value, target) = match r.kind {
            ReplicationKind::Database | ReplicationKind::Cache => {
                ("opsdeck_replication_lag_seconds", "opsdeck_replication_target_seconds")
            }
            ReplicationKind::Storage => {
                ("opsdeck_replication_backlog_objects", "opsdeck_replication_backlog_target_objects")
            }
        };
        out.put(value, &labels, r.value);
        out.put(target, &labels, r.target);
    }
}

/// Cost per (source, cloud, currency): a source reporting several accounts of one
/// cloud in one currency is summed, as the Cost pane sums them (a forecast is
/// unknown if any account's is); currencies are never added.
fn cost(fleet: &Fleet, out: &mut Out) {
    let mut scopes: BTreeMap<(&str, &'static str, &str), Vec<&crate::model::CostSnapshot>> = BTreeMap::new();
    for (source, c) in &fleet.costs {
        scopes.entry((source.as_str(), c.cloud.slug(), c.currency.as_str())).or_default().push(c);
    }
    for ((source, cloud, currency), snaps) in scopes {
        let labels = [("source", source), ("cloud", cloud), ("currency", currency)];
        for total in totals_by_currency(snaps.iter().copied()) {
            out.put("opsdeck_cost_month_to_date", &labels, total.month_to_date);
            let method = match total.forecast {
                Forecast::Cloud(_) => Some("cloud"),
                Forecast::RunRate(_) => Some("run_rate"),
                Forecast::TooEarly => None,
            };
            if let (Some(method), Some(amount)) = (method, total.forecast.amount()) {
                let [a, b, c] = labels;
                out.put("opsdeck_cost_forecast", &[a, b, c, ("method", method)], amount);
            }
        }
        let mut services: BTreeMap<&str, f64> = BTreeMap::new();
        for (service, amount) in snaps.iter().flat_map(|c| c.by_service.iter()) {
            *services.entry(service.as_str()).or_default() += amount;
        }
        for (service, amount) in services {
            let [a, b, c] = labels;
            out.put("opsdeck_cost_service_month_to_date", &[a, b, c, ("service", service)], amount);
        }
    }
}

fn prices(fleet: &Fleet, out: &mut Out) {
    for (p, source) in fleet.spot_prices.iter().zip(&fleet.spot_price_sources) {
        let labels = [
            ("source", source.as_str()),
            ("cloud", p.cloud.slug()),
            ("region", p.region.as_str()),
            ("instance_type", p.instance_type.as_str()),
            ("currency", p.currency.as_str()),
        ];
        out.opt("opsdeck_spot_price_hourly", &labels, p.spot_hourly);
        out.opt("opsdeck_on_demand_price_hourly", &labels, p.on_demand_hourly);
    }
}

fn arbiters(fleet: &Fleet, out: &mut Out) {
    for (a, source) in fleet.arbiters.iter().zip(&fleet.arbiter_sources) {
        let labels = [("source", source.as_str()), ("arbiter", a.name.as_str()), ("location", a.location.as_str())];
        out.put("opsdeck_arbiter_up", &labels, if a.reachable { 1.0 } else { 0.0 });
        out.opt("opsdeck_arbiter_rtt_seconds", &labels, a.rtt_ms.map(|ms| ms / 1000.0));
    }
}

/// Alerts: identity, severity, state and where they point. The description, ack
/// comment and the alert's own labels are free text or unbounded: never labels.
/// Each link's figures; one nobody measured is no series (over-target too).
fn links(fleet: &Fleet, out: &mut Out) {
    for (l, source) in fleet.links.iter().zip(&fleet.link_sources) {
        let labels = [("source", source.as_str()), ("link", l.name.as_str()), ("a", l.a.slug()), ("b", l.b.slug())];
        out.opt("opsdeck_link_rtt_seconds", &labels, l.rtt_ms.map(|ms| ms / 1000.0));
        out.put("opsdeck_link_target_seconds", &labels, l.target_ms / 1000.0);
        out.opt("opsdeck_link_loss_ratio", &labels, l.loss);
        out.opt("opsdeck_link_over_target", &labels, l.over_target().map(|o| if o { 1.0 } else { 0.0 }));
    }
}

/// Each SLO's own scope (`scope="shop"` or the cloud) and each cloud of a
/// shop-wide one; unknown figures are no series.
fn slos(fleet: &Fleet, out: &mut Out) {
    for s in &fleet.slos {
        out.put("opsdeck_slo_objective_ratio", &[("slo", &s.name)], s.objective_pct / 100.0);
        out.put("opsdeck_slo_window_seconds", &[("slo", &s.name)], s.window_secs as f64);
        for f in std::iter::once(&s.overall).chain(&s.clouds) {
            let scope = f.cloud.map_or("shop", |c| c.slug());
            let labels = [("slo", s.name.as_str()), ("scope", scope)];
            out.put("opsdeck_slo_covered_seconds", &labels, f.covered_secs);
            out.opt("opsdeck_slo_availability_ratio", &labels, f.availability);
            out.opt("opsdeck_slo_error_budget_remaining_ratio", &labels, f.budget_left);
            let b = &f.burn;
            for (span, v) in [("5m", b.m5), ("30m", b.m30), ("1h", b.h1), ("6h", b.h6), ("3d", b.d3)] {
                out.opt("opsdeck_slo_burn_rate", &[("slo", &s.name), ("scope", scope), ("span", span)], v);
            }
            if let Some(a) = f.alert {
                let level = if a == crate::model::BurnAlert::Page { "page" } else { "ticket" };
                out.put("opsdeck_slo_alert", &[("slo", &s.name), ("scope", scope), ("level", level)], 1.0);
            }
        }
    }
}

fn alerts(fleet: &Fleet, out: &mut Out) {
    for a in &fleet.alerts {
        let severity = a.severity.label().to_ascii_lowercase();
        out.put(
            "opsdeck_alert",
            &[
                ("source", a.source.as_str()),
                ("cloud", a.cloud.map_or("", |c| c.slug())),
                ("alert_id", &a.id),
                ("severity", &severity),
                ("state", a.state.label()),
                ("name", &a.title),
                ("resource", &a.resource),
                ("route", &a.route),
            ],
            1.0,
        );
        out.put(
            "opsdeck_alert_started_timestamp_seconds",
            &[("source", a.source.as_str()), ("alert_id", &a.id)],
            unix_secs(a.started_at),
        );
    }
}

fn sources(fleet: &Fleet, out: &mut Out) {
    for s in &fleet.sources {
        let labels = [("source", s.id.as_str()), ("kind", s.kind.as_str())];
        let up = matches!(s.freshness, Freshness::Fresh);
        out.put("opsdeck_source_up", &labels, if up { 1.0 } else { 0.0 });
        out.put("opsdeck_source_partial_sections", &labels, s.partial.len() as f64);
        out.opt("opsdeck_source_last_success_timestamp_seconds", &labels, s.last_ok.map(unix_secs));
        // 0 is how the model says "not known".
        let interval = (s.interval_secs > 0).then_some(s.interval_secs);
        out.opt("opsdeck_source_interval_seconds", &labels, interval.map(|i| i as f64));
        out.opt("opsdeck_source_poll_duration_seconds", &labels, s.last_poll_secs);
        if let Some(cost) = &s.poll_cost {
            out.put("opsdeck_source_api_calls", &labels, f64::from(cost.api_calls));
            out.opt("opsdeck_source_monthly_cost_usd", &labels, interval.map(|i| cost.monthly_usd(i)));
        }
    }
}

#[cfg(test)]
mod tests;
