//! `opsdeck snapshot`: poll every source once, print the estate, exit with the
//! monitoring-plugin convention (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN), for
//! scripts, cron, chat-ops and monitoring systems.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::format;
use crate::model::{AlertState, BurnAlert, CloudSummary, Fleet, Freshness, Health, Severity, SloFigures, SloStatus};
use crate::ui::overview::{cost_text, figure};
use crate::ui::sanitize;

/// Bump when the JSON changes incompatibly (documented in README).
/// 2: figures no source reports are null; clouds list their `regions` and their
/// `costs` per currency; groups, costs and clouds say whether the demo made them.
pub const SCHEMA_VERSION: u32 = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    Ok = 0,
    Warning = 1,
    Critical = 2,
    Unknown = 3,
}

impl Status {
    pub fn label(self) -> &'static str {
        match self {
            Status::Ok => "OK",
            Status::Warning => "WARNING",
            Status::Critical => "CRITICAL",
            Status::Unknown => "UNKNOWN",
        }
    }
}

/// The estate's status and why. CRITICAL wins over UNKNOWN (what can be read is
/// already bad), UNKNOWN over WARNING (a source could not be read at all).
pub fn evaluate(fleet: &Fleet, now: DateTime<Utc>) -> (Status, Vec<String>) {
    let mut critical = Vec::new();
    let mut warning = Vec::new();
    let mut unknown = Vec::new();
    // Unread sections that do not bear on health: said, but no verdict of their own.
    let mut notes = Vec::new();
    for s in &fleet.sources {
        if let Freshness::Stale { reason } = &s.freshness {
            unknown.push(format!("source {} could not be read: {reason}", s.id));
        }
        // A partial source: only what could not be read is unknown.
        for p in &s.partial {
            let line = format!("source {} could not read its {}: {}", s.id, p.section.label(), p.reason);
            if p.section.bears_on_health() { unknown.push(line) } else { notes.push(line) }
        }
    }
    for a in fleet.alerts.iter().filter(|a| a.state == AlertState::Firing) {
        let line = format!("{} {}", a.severity.label(), a.title);
        match a.severity {
            Severity::P0 => critical.push(line),
            Severity::P1 | Severity::P2 => warning.push(line),
            Severity::P3 => {}
        }
    }
    for cloud in fleet.clouds() {
        let s = fleet.summary(cloud, now);
        let line = |h: Health| format!("{} is {}{}", cloud.label(), h.label(), regions_at(&s, h));
        match s.health {
            Health::Down => critical.push(line(Health::Down)),
            Health::Degraded => warning.push(line(Health::Degraded)),
            // Idle (scaled to zero, inactive) is a choice, not a fault.
            _ => {}
        }
    }
    for r in &fleet.replication {
        if r.ratio() > 1.0 {
            critical.push(format!("{} {} at {:.1} over target {:.1}", r.kind.label(), r.name, r.value, r.target));
        }
    }
    // A burn-rate page is critical, a ticket a warning (the SRE workbook's meaning).
    for s in &fleet.slos {
        let line = |a: BurnAlert| {
            let burn = |b: Option<f64>| b.map_or("unknown".to_string(), |b| format!("{b:.1}x"));
            format!(
                "slo {} {}: burning its error budget (1h {}, 6h {}) {}",
                s.name,
                s.objective_pct,
                burn(s.overall.burn.h1),
                burn(s.overall.burn.h6),
                a.label()
            )
        };
        match s.overall.alert {
            Some(a @ BurnAlert::Page) => critical.push(line(a)),
            Some(a @ BurnAlert::Ticket) => warning.push(line(a)),
            None => {}
        }
    }
    let status = if !critical.is_empty() {
        Status::Critical
    } else if !unknown.is_empty() {
        Status::Unknown
    } else if !warning.is_empty() {
        Status::Warning
    } else {
        Status::Ok
    };
    (status, critical.into_iter().chain(unknown).chain(warning).chain(notes).collect())
}

/// " (us-east-1)": which of a cloud's several regions are at `h`.
fn regions_at(s: &CloudSummary, h: Health) -> String {
    if s.regions.len() < 2 {
        return String::new();
    }
    let names: Vec<&str> = s.regions.iter().filter(|r| r.health == h).map(|r| r.region.as_str()).collect();
    if names.is_empty() { String::new() } else { format!(" ({})", names.join(", ")) }
}

pub fn to_json(fleet: &Fleet, now: DateTime<Utc>) -> Value {
    let (status, reasons) = evaluate(fleet, now);
    let clouds: Vec<Value> = fleet
        .clouds()
        .into_iter()
        .map(|c| {
            let s = fleet.summary(c, now);
            json!({
                "cloud": c.slug(), "region": s.region, "demo": s.demo, "partly_demo": s.partly_demo, "health": s.health.label(),
                "traffic_share": s.traffic_share, "rps": s.rps, "p95_ms": s.p95_ms, "error_rate": s.error_rate,
                "db_lag_secs": s.db_lag.map(|l| l.0), "rpo_secs": s.db_lag.map(|l| l.1),
                "costs": s.costs.iter().map(|t| json!({
                    "currency": t.currency, "month_to_date": t.month_to_date, "forecast": t.forecast.amount(),
                    "forecast_basis": t.forecast.basis(), "accounts": t.accounts,
                })).collect::<Vec<_>>(),
                "data_age_secs": s.age_secs,
                "regions": s.regions.iter().map(|r| json!({
                    "region": r.region, "demo": r.demo, "health": r.health.label(),
                    "rps": r.rps, "p95_ms": r.p95_ms, "error_rate": r.error_rate,
                    "groups": r.groups, "idle_groups": r.idle_groups, "data_age_secs": r.age_secs,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({
        "schema_version": SCHEMA_VERSION,
        "generated_at": now.to_rfc3339(),
        "status": status.label(),
        "reasons": reasons,
        "demo": fleet.demo,
        "sources": fleet.sources.iter().map(|s| json!({
            "id": s.id.as_str(), "kind": s.kind,
            "state": match &s.freshness {
                Freshness::Fresh if !s.partial.is_empty() => "partial",
                Freshness::Fresh => "fresh",
                Freshness::Pending => "pending",
                Freshness::Stale { .. } => "stale",
            },
            "reason": match &s.freshness { Freshness::Stale { reason } => Some(reason.clone()), _ => None },
            "last_ok": s.last_ok.map(|t| t.to_rfc3339()),
            "stale_sections": s.partial.iter().map(|p| json!({
                "section": p.section.label(), "reason": p.reason, "last_ok": p.last_ok.map(|t| t.to_rfc3339()),
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "clouds": clouds,
        "groups": fleet.groups.iter().map(|g| json!({
            "cloud": g.cloud.slug(), "region": g.region, "name": g.name, "source": g.source.as_str(),
            "demo": fleet.is_demo_source(&g.source), "health": g.health().label(),
            "idle": g.idle().map(|i| i.label()), "min": g.min, "max": g.max,
            "desired": g.desired, "in_service": g.in_service(), "healthy": g.healthy(),
            "zones": g.zones.iter().map(|z| json!({"zone": z.zone, "in_service": z.in_service, "healthy": z.healthy})).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "traffic_policies": fleet.policies.iter().map(|p| json!({
            "name": p.name, "kind": p.kind.label(), "ttl_secs": p.ttl_secs,
            "endpoints": p.endpoints.iter().zip(p.shares()).map(|(e, share)| json!({
                "name": e.name, "cloud": e.cloud.slug(), "target": e.target, "weight": e.weight,
                "share": share, "health": e.health.label(),
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "replication": fleet.replication.iter().map(|r| json!({
            "kind": r.kind.label(), "name": r.name, "from": r.from.slug(), "to": r.to.slug(),
            "value": r.value, "target": r.target, "unit": r.kind.unit(),
        })).collect::<Vec<_>>(),
        "costs": fleet.costs.iter().map(|(src, c)| json!({
            "cloud": c.cloud.slug(), "source": src.as_str(), "demo": fleet.is_demo_source(src),
            "currency": c.currency, "month_to_date": c.month_to_date,
            "forecast": c.forecast.amount(), "forecast_basis": c.forecast.basis(), "by_service": c.by_service.iter().map(|(s, v)| json!({"service": s, "amount": v})).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "alerts": fleet.alerts.iter().map(|a| json!({
            "id": a.id, "source": a.source.as_str(), "cloud": a.cloud.map(|c| c.slug()), "severity": a.severity.label(),
            "title": a.title, "resource": a.resource, "started_at": a.started_at.to_rfc3339(),
            "state": a.state.label(), "acknowledged_by": match &a.state { AlertState::Acknowledged { by, .. } => Some(by.clone()), _ => None },
            "inhibited_by": match &a.state { AlertState::Inhibited { by } => Some(by.clone()), _ => None },
            "route": a.route, "labels": a.labels,
        })).collect::<Vec<_>>(),
        "spot_prices": fleet.spot_prices.iter().zip(&fleet.spot_price_sources).map(|(p, src)| json!({
            "cloud": p.cloud.slug(), "region": p.region, "zone": p.zone, "instance_type": p.instance_type,
            "source": src.as_str(), "demo": fleet.is_demo_source(src), "groups": p.groups, "currency": p.currency,
            "on_demand_hourly": p.on_demand_hourly, "on_demand_from": p.on_demand_from,
            "spot_hourly": p.spot_hourly, "spot_since": p.spot_since.map(|t| t.to_rfc3339()), "discount": p.discount(),
        })).collect::<Vec<_>>(),
        "cheapest": fleet.cheapest_capacity().map(|(c, p)| json!({
            "cloud": p.cloud.slug(), "region": p.region, "zone": p.zone, "instance_type": p.instance_type,
            "hourly": c.hourly, "currency": c.currency, "spot": c.spot, "converted_from": c.converted.then_some(&p.currency),
        })),
        "prices_not_compared": fleet.uncompared_currencies(),
        "routes": fleet.routes.iter().map(|r| json!({
            "source": r.source.as_str(), "cloud": r.cloud.map(|c| c.slug()), "severity": r.severity.map(|s| s.label()),
            "receiver": r.receiver, "rule": r.rule, "alerts": r.alerts,
            "channels": r.channels.iter().map(|c| json!({"kind": c.kind, "target": c.target})).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "links": fleet.links.iter().zip(&fleet.link_sources).map(|(l, src)| json!({
            "name": l.name, "a": l.a.slug(), "b": l.b.slug(), "source": src.as_str(), "rtt_ms": l.rtt_ms,
            "loss": l.loss, "bps": l.bps, "up": l.up, "target_ms": l.target_ms, "over_target": l.over_target(),
            "via": l.via, "error": l.error,
        })).collect::<Vec<_>>(),
        "slos": fleet.slos.iter().map(slo_json).collect::<Vec<_>>(),
    })
}

/// One SLO: its figures (null when unknown) and how much of its window they cover.
fn slo_json(s: &SloStatus) -> Value {
    let figures = |f: &SloFigures| {
        json!({
            "cloud": f.cloud.map(|c| c.slug()),
            "covered_secs": f.covered_secs,
            "coverage": format!("{} of {}", crate::slo::duration_text(f.covered_secs), s.window),
            "total": f.total, "bad": f.bad,
            "availability": f.availability, "budget_left": f.budget_left,
            "burn": {"5m": f.burn.m5, "30m": f.burn.m30, "1h": f.burn.h1, "6h": f.burn.h6, "3d": f.burn.d3},
            "alert": f.alert.map(|a| a.label()),
        })
    };
    json!({
        "name": s.name, "objective_pct": s.objective_pct, "window": s.window, "window_secs": s.window_secs,
        "cloud": s.cloud.map(|c| c.slug()), "measured_by": s.measured_by, "note": s.note,
        "overall": figures(&s.overall),
        "clouds": s.clouds.iter().map(figures).collect::<Vec<_>>(),
    })
}

/// Plain text for a terminal or a chat message. Remote text is sanitised.
pub fn to_table(fleet: &Fleet, now: DateTime<Utc>) -> String {
    let (status, reasons) = evaluate(fleet, now);
    let mut out = String::new();
    let _ = writeln!(out, "opsdeck {} — {}", status.label(), now.format("%Y-%m-%d %H:%M:%SZ"));
    for r in &reasons {
        let _ = writeln!(out, "  {}", sanitize(r));
    }
    let _ = writeln!(
        out,
        "\n{:<9} {:<14} {:<9} {:>7} {:>9} {:>8} {:>7} {:>12} {:>12}",
        "CLOUD", "REGION", "HEALTH", "SHARE", "REQ/S", "P95", "5XX", "MTD", "FORECAST"
    );
    let ms = |p: f64| format!("{} ms", format::int(p));
    let demo = |d: bool| if d { "  DEMO" } else { "" };
    for c in fleet.clouds() {
        let s = fleet.summary(c, now);
        let (mtd, fc) = cost_text(&s.costs);
        // A cloud in several regions: its totals, then each region on a row of its own.
        let region = if s.regions.len() > 1 { format!("{} regions", s.regions.len()) } else { s.region.clone() };
        let _ = writeln!(
            out,
            "{:<9} {:<14} {:<9} {:>7} {:>9} {:>8} {:>7} {:>12} {:>12}{}",
            c.label(),
            sanitize(&region),
            s.health.label(),
            figure(s.traffic_share, format::pct),
            figure(s.rps, format::int),
            figure(s.p95_ms, ms),
            figure(s.error_rate, format::pct),
            mtd,
            fc,
            if s.demo {
                "  DEMO"
            } else if s.partly_demo {
                "  part DEMO"
            } else {
                ""
            }
        );
        for r in s.regions.iter().filter(|_| s.regions.len() > 1) {
            let _ = writeln!(
                out,
                "{:<9} {:<14} {:<9} {:>7} {:>9} {:>8} {:>7}{}",
                "  └",
                sanitize(&r.region),
                r.health.label(),
                "",
                figure(r.rps, format::int),
                figure(r.p95_ms, ms),
                figure(r.error_rate, format::pct),
                demo(r.demo)
            );
        }
    }
    if !fleet.groups.is_empty() {
        let _ = writeln!(out, "\nGROUPS");
        for g in &fleet.groups {
            let _ = writeln!(
                out,
                "  {:<8} {:<24} desired {:>3}  healthy {:>3}/{:<3} min {} max {}{}{}",
                g.cloud.label(),
                sanitize(&g.name),
                g.desired,
                g.healthy(),
                g.in_service(),
                g.min,
                g.max,
                g.idle().map_or(String::new(), |i| format!("  {}", i.label().to_uppercase())),
                demo(fleet.is_demo_source(&g.source))
            );
        }
    }
    for p in &fleet.policies {
        let _ = writeln!(out, "\nDNS {} ({}, ttl {}s)", sanitize(&p.name), p.kind.label(), p.ttl_secs);
        for (e, share) in p.endpoints.iter().zip(p.shares()) {
            let _ = writeln!(
                out,
                "  {:<24} {:<8} weight {:>3}  share {:>6}  {}",
                sanitize(&e.name),
                e.cloud.label(),
                e.weight,
                format::pct(share),
                e.health.label()
            );
        }
    }
    let firing: Vec<_> = fleet.alerts.iter().filter(|a| a.state.is_open()).collect();
    if !firing.is_empty() {
        let _ = writeln!(out, "\nALERTS");
        let mut firing = firing;
        firing.sort_by(|a, b| a.severity.cmp(&b.severity).then(b.started_at.cmp(&a.started_at)));
        for a in firing {
            let _ = writeln!(
                out,
                "  {} {:<8} {:<8} {}",
                a.severity.label(),
                a.cloud.map_or("–", |c| c.label()),
                a.state.label(),
                sanitize(&a.title)
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::reference_instant;
    use crate::model::CloudKind;
    use crate::providers::demo::{Drill, DrillBook, DrillCommand, EstateSpec, fleet_at};

    #[test]
    fn the_quiet_demo_is_a_warning_because_of_its_standing_p2() {
        let e = EstateSpec::embedded().expect("estate");
        let f = fleet_at(&e, &DrillBook::default(), reference_instant(), 1);
        let (status, reasons) = evaluate(&f, reference_instant());
        assert_eq!(status, Status::Warning, "{reasons:?}");
        assert!(reasons[0].starts_with("P2 Month forecast"));
    }

    #[test]
    fn an_rpo_breach_is_critical_and_a_stale_source_unknown() {
        let e = EstateSpec::embedded().expect("estate");
        let t = reference_instant();
        let mut book = DrillBook::default();
        book.apply(
            DrillCommand::Start(Drill::DbPrimaryDown { cloud: CloudKind::Aws }),
            t - chrono::Duration::seconds(60),
        )
        .expect("drill");
        let f = fleet_at(&e, &book, t, 1);
        assert_eq!(evaluate(&f, t).0, Status::Critical);
        let mut f = fleet_at(&e, &DrillBook::default(), t, 1);
        f.sources[0].freshness = Freshness::Stale { reason: "timed out".into() };
        let (status, reasons) = evaluate(&f, t);
        assert_eq!(status, Status::Unknown);
        assert!(reasons[0].contains("could not be read: timed out"));
    }

    #[test]
    fn unread_prices_or_routes_are_said_but_leave_the_verdict_alone() {
        use crate::model::{PartialSection, Section};
        let e = EstateSpec::embedded().expect("estate");
        let t = reference_instant();
        let partial = |section| PartialSection { section, reason: "AccessDenied".into(), last_ok: None };
        let mut f = fleet_at(&e, &DrillBook::default(), t, 1);
        f.sources[0].partial = vec![partial(Section::Routes), partial(Section::Prices)];
        let (status, reasons) = evaluate(&f, t);
        assert_eq!(status, Status::Warning, "as without them: {reasons:?}");
        assert!(reasons.last().is_some_and(|r| r.contains("could not read its prices: AccessDenied")), "{reasons:?}");
        f.sources[0].partial.push(partial(Section::Alerts));
        assert_eq!(evaluate(&f, t).0, Status::Unknown, "unread alerts leave health unknown");
    }

    #[test]
    fn json_carries_its_schema_version_and_every_section() {
        let e = EstateSpec::embedded().expect("estate");
        let f = fleet_at(&e, &DrillBook::default(), reference_instant(), 1);
        let v = to_json(&f, reference_instant());
        assert_eq!(v["schema_version"], SCHEMA_VERSION);
        for key in ["sources", "clouds", "groups", "traffic_policies", "replication", "costs", "alerts"] {
            assert!(v[key].as_array().is_some_and(|a| !a.is_empty()), "{key}");
        }
        assert_eq!(v["clouds"][0]["cloud"], "aws");
    }
}
