//! Prometheus and Alertmanager as sources: the unified monitoring plane many shops
//! already run. Figures come from PromQL (one query per figure, with defaults for
//! the common exporters); alerts, silences and acknowledgements from Alertmanager.
//!
//! Pointing N consoles at one Prometheus instead of at the clouds keeps the cloud
//! API bill and throttling budget flat however many people are watching.

pub mod alertmanager;
pub mod api;
pub mod config;
pub mod exported;
pub mod opsdeck_schema;
pub mod slo;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use self::api::Sample;
pub use self::config::{AlertmanagerConfig, FigureQueries, PromReplicationConfig, PrometheusConfig, Schema};
use self::opsdeck_schema::Read;
use super::http::HttpSource;
use super::http_auth;
use super::registry::{self, BuildError, Built, Entry};
use super::sections::Sections;
use super::{Check, Provider, ProviderError};
use crate::config::{KindSpec, TableSpec, read_table};
use crate::model::{CloudKind, CloudMetrics, PollCost, Replication, Section, SourceId, SourceReport, TrafficPoint};

/// The four traffic figures, in the order they are queried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Figure {
    Rps,
    P95Ms,
    ErrorRate,
    Cpu,
}

impl Figure {
    pub const ALL: [Figure; 4] = [Figure::Rps, Figure::P95Ms, Figure::ErrorRate, Figure::Cpu];

    pub fn name(self) -> &'static str {
        match self {
            Figure::Rps => "rps",
            Figure::P95Ms => "p95_ms",
            Figure::ErrorRate => "error_rate",
            Figure::Cpu => "cpu",
        }
    }
}

/// The PromQL each figure runs: the configured one, or the default for the common
/// exporters (HTTP request counters and histograms, node_exporter), grouped by the
/// cloud and region labels. The defaults drop series that would be NaN for a
/// legitimate reason (no traffic), so a NaN that does arrive means a broken query.
pub fn query_for(cfg: &PrometheusConfig, f: Figure) -> String {
    let configured = match f {
        Figure::Rps => &cfg.queries.rps,
        Figure::P95Ms => &cfg.queries.p95_ms,
        Figure::ErrorRate => &cfg.queries.error_rate,
        Figure::Cpu => &cfg.queries.cpu,
    };
    if let Some(q) = configured {
        return q.clone();
    }
    if cfg.schema == Schema::Opsdeck {
        // An exporter pair writes each series twice: max by the series' own labels
        // keeps one before anything is summed.
        return match f {
            Figure::Rps => {
                "sum by (cloud, region) (max by (source, cloud, region) (opsdeck_requests_per_second))".into()
            }
            Figure::P95Ms => "1000 * max by (cloud, region) (opsdeck_latency_p95_seconds)".into(),
            Figure::ErrorRate => "max by (cloud, region) (opsdeck_error_ratio)".into(),
            Figure::Cpu => "100 * max by (cloud, region) (opsdeck_cpu_ratio)".into(),
        };
    }
    let by = format!("{}, {}", cfg.cloud_label, cfg.region_label);
    match f {
        Figure::Rps => format!("sum by ({by}) (rate(http_requests_total[5m]))"),
        Figure::P95Ms => format!(
            "1000 * histogram_quantile(0.95, sum by ({by}, le) (rate(http_request_duration_seconds_bucket[5m]))) >= 0"
        ),
        // A place serving requests with no 5xx-coded series at all (a clean service
        // never created one) has a 5xx share of 0, which is measured, not missing:
        // `or` fills it in from the request rate.
        Figure::ErrorRate => format!(
            "(sum by ({by}) (rate(http_requests_total{{code=~\"5..\"}}[5m])) \
             or 0 * sum by ({by}) (rate(http_requests_total[5m]))) \
             / (sum by ({by}) (rate(http_requests_total[5m])) > 0)"
        ),
        Figure::Cpu => format!("100 * (1 - avg by ({by}) (rate(node_cpu_seconds_total{{mode=\"idle\"}}[5m])))"),
    }
}

/// Where a series is from: its cloud and region labels.
type Place = (CloudKind, String);

pub struct PrometheusSource {
    id: SourceId,
    cfg: PrometheusConfig,
    http: HttpSource,
    timeout: Duration,
    /// The traffic history is backfilled once, on the first poll that succeeds.
    backfilled: AtomicBool,
    calls: AtomicU32,
    /// `schema = "opsdeck"`: when each alert was first seen acknowledged here.
    acked_since: Mutex<BTreeMap<(String, String), DateTime<Utc>>>,
}

/// `kind = "prometheus"`, `[sources.prometheus]`.
pub const ENTRY: Entry = Entry {
    kind: KindSpec {
        name: "prometheus",
        aliases: &[],
        table: Some(TableSpec { key: "prometheus", read: read_table::<PrometheusConfig> }),
    },
    build: |s, _| {
        let p = registry::table::<PrometheusConfig>(s, "prometheus")?;
        let src = PrometheusSource::new(&s.name, p, s.timeout()).map_err(|e| BuildError::of(s, e))?;
        Ok(Built::providers(vec![Arc::new(src)]))
    },
    credential_line: |s| http_auth::credential_line(&s.name, s.table::<PrometheusConfig>().map(|p| &p.auth)),
};

impl PrometheusSource {
    pub fn new(name: &str, cfg: &PrometheusConfig, timeout: Duration) -> Result<PrometheusSource, String> {
        Ok(PrometheusSource {
            id: SourceId::new(name),
            cfg: cfg.clone(),
            http: HttpSource::new(&cfg.auth, timeout)?,
            timeout,
            backfilled: AtomicBool::new(false),
            calls: AtomicU32::new(0),
            acked_since: Mutex::new(BTreeMap::new()),
        })
    }

    async fn query(&self, name: &str, expr: &str) -> Result<Vec<Sample>, ProviderError> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        api::query(&self.http, &self.cfg.url, name, expr, self.query_timeout()).await
    }

    /// Seconds Prometheus may spend on one query (fractions allowed).
    fn query_timeout(&self) -> f64 {
        self.cfg.query_timeout_secs.unwrap_or(self.timeout.as_secs_f64())
    }

    fn cloud_of(&self, labels: &BTreeMap<String, String>) -> Option<CloudKind> {
        labels.get(&self.cfg.cloud_label).and_then(|v| CloudKind::from_slug(v))
    }

    /// Samples of one figure by (cloud, region). NaN or ±Inf fails the poll with the
    /// series named, as does a non-empty answer in which no series names a cloud.
    fn by_place(&self, f: Figure, samples: Vec<Sample>) -> Result<Vec<(Place, f64)>, ProviderError> {
        let total = samples.len();
        let mut out = Vec::new();
        for s in samples {
            let Some(cloud) = self.cloud_of(&s.labels) else { continue };
            let region = s.labels.get(&self.cfg.region_label).cloned().unwrap_or_else(|| "all".into());
            if !s.value.is_finite() {
                return Err(ProviderError::BadResponse(format!(
                    "query {} returned {} for {}/{region}",
                    f.name(),
                    s.value,
                    cloud.slug()
                )));
            }
            out.push(((cloud, region), s.value));
        }
        if total > 0 && out.is_empty() {
            return Err(ProviderError::BadResponse(format!(
                "query {}: {total} series, none with a {} label of aws, azure or aliyun",
                f.name(),
                self.cfg.cloud_label
            )));
        }
        Ok(out)
    }

    async fn metrics(&self) -> Result<Vec<CloudMetrics>, ProviderError> {
        let mut places: BTreeMap<Place, CloudMetrics> = BTreeMap::new();
        for f in Figure::ALL {
            let samples = self.query(f.name(), &query_for(&self.cfg, f)).await?;
            for ((cloud, region), v) in self.by_place(f, samples)? {
                // A figure whose query returned no series for this place stays None.
                let m = places.entry((cloud, region.clone())).or_insert_with(|| CloudMetrics {
                    cloud,
                    region,
                    rps: None,
                    p95_ms: None,
                    error_rate: None,
                    cpu: None,
                });
                match f {
                    Figure::Rps => m.rps = Some(v),
                    Figure::P95Ms => m.p95_ms = Some(v),
                    Figure::ErrorRate => m.error_rate = Some(v),
                    // The query gives percent (config and default alike); the model holds 0..1.
                    Figure::Cpu => m.cpu = Some(v / 100.0),
                }
            }
        }
        Ok(places.into_values().collect())
    }

    async fn replication(&self) -> Result<Vec<Replication>, ProviderError> {
        let mut out = Vec::new();
        for r in &self.cfg.replication {
            let name = format!("replication {}", r.name);
            let samples = self.query(&name, &r.query).await?;
            if let Some(bad) = samples.iter().find(|s| !s.value.is_finite()) {
                return Err(ProviderError::BadResponse(format!("query {name} returned {}", bad.value)));
            }
            // Several series (one per replica): the worst is the figure that matters.
            let Some(value) = samples.iter().map(|s| s.value).reduce(f64::max) else {
                log::warn!("{}: query {name} returned no series; is its exporter up?", self.id);
                continue;
            };
            out.push(Replication {
                kind: r.kind,
                name: r.name.clone(),
                from: r.from,
                to: r.to,
                value,
                target: r.target,
            });
        }
        Ok(out)
    }

    /// `schema = "opsdeck"`: the exported estate, one query per section after the
    /// sources' health. That read comes first and must succeed: it decides which
    /// copy of an exporter pair's series is kept, and without it nothing read here
    /// could be judged fresh.
    async fn exported(&self, now: DateTime<Utc>, sections: &mut Sections) -> Result<SourceReport, ProviderError> {
        use opsdeck_schema as o;
        let core = self.query("opsdeck sources", o::CORE_QUERY).await?;
        let origins = Read::origins(&core);
        let core = Read::new(core, &origins);
        let mut report = SourceReport { drills: o::drills(&core), ..SourceReport::default() };
        // Items without a source of their own keep the one that read them (its
        // freshness, not this reader's, judges them), position by position.
        (report.origins.arbiters, report.arbiters) = o::arbiters(&core).into_iter().unzip();
        for (section, expr) in o::SECTION_QUERIES {
            let read = self.query(&format!("opsdeck {}", section.label()), expr).await;
            let built = read.map(|s| Read::new(s, &origins)).and_then(|r| {
                match section {
                    Section::Groups => report.groups = o::groups(&r)?.into(),
                    Section::Metrics => (report.origins.metrics, report.metrics) = o::metrics(&r)?.into_iter().unzip(),
                    Section::Records => report.policies = o::policies(&r)?,
                    Section::Replication => {
                        (report.origins.replication, report.replication) = o::replication(&r)?.into_iter().unzip()
                    }
                    Section::Cost => (report.origins.costs, report.costs) = o::costs(&r)?.into_iter().unzip(),
                    Section::Prices => {
                        (report.origins.spot_prices, report.spot_prices) = o::prices(&r)?.into_iter().unzip()
                    }
                    Section::Alerts => report.alerts = o::alerts(&r, now, &self.acked_since)?.into(),
                    // Not among the exported families (SECTION_QUERIES has no query for them).
                    Section::Routes | Section::Links => {}
                }
                Ok(())
            });
            sections.read(&[section], built);
        }
        let mentioned: Vec<SourceId> = (report.groups.iter().map(|g| g.source.clone()))
            .chain(report.policies.iter().map(|p| p.source.clone()))
            .chain(report.alerts.iter().map(|a| a.source.clone()))
            .chain(report.origins.all().cloned())
            .collect();
        report.upstream = o::upstream(&core, now, &mentioned);
        Ok(report)
    }

    /// The last `backfill_minutes` of traffic per cloud, from query_range: requests
    /// summed over regions, latency and error rate the worst region's.
    async fn history(&self, now: DateTime<Utc>) -> Result<Vec<(CloudKind, TrafficPoint)>, ProviderError> {
        let minutes = i64::from(self.cfg.backfill_minutes);
        let start = now - chrono::Duration::minutes(minutes);
        // The history holds TrafficHistory::CAPACITY points; no finer step is of use.
        let step = (minutes as u64 * 60).div_ceil(crate::model::TrafficHistory::CAPACITY as u64).max(5);
        let mut points: BTreeMap<(CloudKind, DateTime<Utc>), TrafficPoint> = BTreeMap::new();
        for f in [Figure::Rps, Figure::P95Ms, Figure::ErrorRate] {
            self.calls.fetch_add(1, Ordering::Relaxed);
            let expr = query_for(&self.cfg, f);
            let timeout = self.query_timeout();
            let series =
                api::query_range(&self.http, &self.cfg.url, f.name(), &expr, (start, now), step, timeout).await?;
            for s in series {
                let Some(cloud) = self.cloud_of(&s.labels) else { continue };
                for (at, v) in s.points {
                    // NaN (e.g. a quantile over no traffic) is no sample, not a value.
                    if !v.is_finite() {
                        continue;
                    }
                    // An instant a figure has no sample for keeps that figure unknown.
                    let p = points.entry((cloud, at)).or_insert(TrafficPoint::unreported(at));
                    match f {
                        Figure::Rps => p.add(Some(v), None, None),
                        Figure::P95Ms => p.add(None, Some(v), None),
                        _ => p.add(None, None, Some(v)),
                    }
                }
            }
        }
        let mut out: Vec<(CloudKind, TrafficPoint)> = points.into_iter().map(|((c, _), p)| (c, p)).collect();
        out.sort_by_key(|(_, p)| p.at);
        Ok(out)
    }
}

#[async_trait]
impl Provider for PrometheusSource {
    fn id(&self) -> &SourceId {
        &self.id
    }
    fn kind(&self) -> &'static str {
        "prometheus"
    }

    async fn poll(&self, now: DateTime<Utc>) -> Result<SourceReport, ProviderError> {
        self.calls.store(0, Ordering::Relaxed);
        // Figures and replication stand alone: a bad replication query keeps the traffic.
        let mut sections = Sections::new();
        let mut report = SourceReport::default();
        if self.cfg.schema == Schema::Opsdeck {
            report = self.exported(now, &mut sections).await?;
        } else if let Some(metrics) = sections.read(&[Section::Metrics], self.metrics().await) {
            report.metrics = metrics;
        }
        if !self.cfg.replication.is_empty()
            && let Some(replication) = sections.read(&[Section::Replication], self.replication().await)
        {
            report.replication = replication;
        }
        if self.cfg.backfill_minutes > 0 && !self.backfilled.load(Ordering::Relaxed) {
            // A failed backfill costs the sparkline its past, not the poll its figures.
            match self.history(now).await {
                Ok(h) => {
                    report.history = h;
                    self.backfilled.store(true, Ordering::Relaxed);
                }
                Err(e) => log::warn!("{}: traffic history not backfilled: {e}", self.id),
            }
        }
        report.poll_cost = Some(PollCost { api_calls: self.calls.load(Ordering::Relaxed), ..PollCost::default() });
        sections.finish(report)
    }

    async fn preflight(&self, _now: DateTime<Utc>) -> Vec<Check> {
        let mut out = vec![Check {
            what: format!("reach {}", self.cfg.url),
            result: api::build_version(&self.http, &self.cfg.url)
                .await
                .map(|v| format!("Prometheus {v}"))
                .map_err(|e| e.to_string()),
        }];
        if self.cfg.schema == Schema::Opsdeck {
            let result = self.query("opsdeck sources", opsdeck_schema::CORE_QUERY).await.and_then(|s| {
                let n = s.iter().filter(|s| s.labels.get("__name__").is_some_and(|n| n == exported::SOURCE_UP)).count();
                match n {
                    0 => Err(ProviderError::BadResponse(
                        "no opsdeck_source_up series: does this Prometheus scrape `opsdeck export`?".into(),
                    )),
                    n => Ok(format!("{n} source health series exported")),
                }
            });
            out.push(Check::of("query the opsdeck families", result));
            return out;
        }
        // Reaching the server says nothing about the queries: run each once.
        for f in Figure::ALL {
            let result = match self.query(f.name(), &query_for(&self.cfg, f)).await {
                Ok(s) => self.by_place(f, s).map(|places| match places.len() {
                    0 => "no series (no data for this figure yet?)".to_string(),
                    n => format!("{n} series"),
                }),
                Err(e) => Err(e),
            };
            out.push(Check::of(format!("query {}", f.name()), result));
        }
        for r in &self.cfg.replication {
            let result = self.query(&r.name, &r.query).await.map(|s| format!("{} series", s.len()));
            out.push(Check {
                what: format!("query replication {}", r.name),
                result: result.map_err(|e| e.to_string()),
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_queries_group_by_the_configured_labels() {
        let mut cfg = PrometheusConfig::new("http://p:9090");
        cfg.cloud_label = "provider".into();
        assert_eq!(query_for(&cfg, Figure::Rps), "sum by (provider, region) (rate(http_requests_total[5m]))");
        let errors = query_for(&cfg, Figure::ErrorRate);
        assert_eq!(
            errors,
            "(sum by (provider, region) (rate(http_requests_total{code=~\"5..\"}[5m])) or 0 * sum by (provider, \
             region) (rate(http_requests_total[5m]))) / (sum by (provider, region) (rate(http_requests_total[5m])) > 0)"
        );
        cfg.queries.cpu = Some("avg by (provider, region) (cpu_pct)".into());
        assert_eq!(query_for(&cfg, Figure::Cpu), "avg by (provider, region) (cpu_pct)");
    }

    fn source() -> PrometheusSource {
        PrometheusSource::new("prom", &PrometheusConfig::new("http://127.0.0.1:1"), Duration::from_secs(1))
            .expect("source")
    }

    fn sample(cloud: &str, value: f64) -> Sample {
        Sample { labels: [("cloud".to_string(), cloud.to_string())].into(), value }
    }

    #[test]
    fn non_finite_values_fail_with_the_series_named() {
        let err = source().by_place(Figure::ErrorRate, vec![sample("aws", 0.1), sample("azure", f64::NAN)]);
        assert_eq!(err.expect_err("NaN").to_string(), "bad response: query error_rate returned NaN for azure/all");
        let err = source().by_place(Figure::Rps, vec![sample("aws", f64::INFINITY)]).expect_err("Inf");
        assert!(err.to_string().contains("returned inf for aws/all"), "{err}");
    }

    #[test]
    fn series_without_a_cloud_are_skipped_unless_none_has_one() {
        let s = source();
        let ok = s.by_place(Figure::Rps, vec![sample("aws", 3.0), sample("gcp", 9.0)]).expect("one usable");
        assert_eq!(ok, vec![((CloudKind::Aws, "all".to_string()), 3.0)]);
        let err = s.by_place(Figure::Rps, vec![sample("gcp", 9.0)]).expect_err("none usable");
        assert!(err.to_string().contains("none with a cloud label"), "{err}");
        assert_eq!(s.by_place(Figure::Rps, vec![]).expect("empty is fine"), vec![]);
    }
}
