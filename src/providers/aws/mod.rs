//! AWS through the AWS SDK for Rust: Auto Scaling, CloudWatch (alarms and metrics),
//! Route 53 and Cost Explorer.
//!
//! One configured account becomes several sources: one per region (groups, alarms,
//! metrics), so a failing region is marked stale alone while the others go on, and
//! one global (Route 53 records and Cost Explorer), which are not regional.

mod alarms;
mod autoscaling;
pub mod config;
mod cost;
pub mod metrics;
mod prices;
mod route53;
mod sns;
pub mod tls;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use chrono::{DateTime, Utc};
use futures::stream::{self, StreamExt, TryStreamExt};
use tokio::sync::OnceCell;

use self::autoscaling::LaunchConfigs;
pub use self::config::{AwsConfig, AwsRecordConfig};
use super::registry::{self, Built, Entry};
use super::sections::Sections;
use super::shared::cost_cache::CostCache;
use super::shared::price_cache::{Demand, PriceCache};
use super::{Check, Provider, ProviderError, Receipt};
use crate::config::{KindSpec, SourceConfig, TableSpec, read_table};
use crate::model::{Actor, AlertMark, Change, Plan};
use crate::model::{PollCost, Section, SourceId, SourceReport};

/// Route 53 and Cost Explorer live in us-east-1 whatever the estate's regions.
const GLOBAL_REGION: &str = "us-east-1";

/// Reads of one kind in flight at once within a poll (tags of the firing alarms,
/// health checks, configured records): side by side, but a big account does not
/// open a connection per alarm.
pub(crate) const READS_IN_FLIGHT: usize = 8;

/// How the SDK is configured: from the standard chain, or given (tests).
#[derive(Clone)]
pub enum SdkSource {
    /// aws-config's default chain: environment, profiles, SSO, assume-role, IMDS.
    StandardChain,
    /// A ready SdkConfig (tests hand in static credentials and moto's endpoint).
    Given(Box<SdkConfig>),
}

/// `kind = "aws"`, `[sources.aws]`.
pub const ENTRY: Entry = Entry {
    kind: KindSpec { name: "aws", aliases: &[], table: Some(TableSpec { key: "aws", read: read_table::<AwsConfig> }) },
    build: |s, _| {
        let aws = registry::table::<AwsConfig>(s, "aws")?;
        Ok(Built::providers(providers(&s.name, aws, s.timeout(), SdkSource::StandardChain)))
    },
    credential_line,
};

/// Which account and where its credentials come from (the SDK's standard chain).
fn credential_line(s: &SourceConfig) -> String {
    let Some(a) = s.table::<AwsConfig>() else { return format!("{}: aws: no [sources.aws] table", s.name) };
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let home = directories::BaseDirs::new().map(|b| b.home_dir().to_path_buf());
    let r = crate::credentials::aws_chain(&env, a.profile.as_deref(), home.as_deref());
    format!("{}: aws account {}: {r}", s.name, a.account)
}

/// Build the providers of one configured account: one per region, one global.
pub fn providers(name: &str, cfg: &AwsConfig, timeout: Duration, sdk: SdkSource) -> Vec<Arc<dyn Provider>> {
    // startup::build has checked the file already; failing here means it changed since.
    let http = match super::tls::ExtraRoots::load_opt(cfg.ca_file.as_deref()) {
        Ok(roots) => roots.as_ref().map(tls::http_client),
        Err(e) => {
            log::error!("{name}: {e}; using the system roots alone");
            None
        }
    };
    let cfg = Arc::new(cfg.clone());
    let mut out: Vec<Arc<dyn Provider>> = cfg
        .regions
        .iter()
        .map(|r| {
            Arc::new(AwsRegion {
                id: SourceId::new(format!("{name}/{r}")),
                region: r.clone(),
                cfg: cfg.clone(),
                clients: Clients::new(sdk.clone(), cfg.clone(), r.clone(), timeout, http.clone()),
                alarm_arns: Mutex::new(BTreeMap::new()),
                prices: PriceCache::new(cfg.price_interval_secs),
                launch_types: Mutex::new(BTreeMap::new()),
            }) as Arc<dyn Provider>
        })
        .collect();
    out.push(Arc::new(AwsGlobal {
        id: SourceId::new(format!("{name}/global")),
        cost: CostCache::new(cfg.cost_interval_secs),
        cfg: cfg.clone(),
        clients: Clients::new(sdk, cfg, GLOBAL_REGION.into(), timeout, http),
        records: Mutex::new(BTreeMap::new()),
    }));
    out
}

/// SDK clients of one region, made on first use (loading credentials may do I/O).
struct Clients {
    sdk: SdkSource,
    cfg: Arc<AwsConfig>,
    region: String,
    timeout: Duration,
    /// The SDK's HTTPS client trusting the account's ca_file; the SDK's default when `None`.
    http: Option<aws_sdk_autoscaling::config::SharedHttpClient>,
    loaded: OnceCell<Loaded>,
}

struct Loaded {
    /// HTTP requests sent by the read clients (retries included), for the poll-cost figure.
    calls: Arc<AtomicU32>,
    autoscaling: aws_sdk_autoscaling::Client,
    cloudwatch: aws_sdk_cloudwatch::Client,
    route53: aws_sdk_route53::Client,
    costexplorer: aws_sdk_costexplorer::Client,
    ec2: aws_sdk_ec2::Client,
    /// Writes are sent once: a lost answer is re-read by the next poll, never retried blindly.
    autoscaling_write: aws_sdk_autoscaling::Client,
    cloudwatch_write: aws_sdk_cloudwatch::Client,
    route53_write: aws_sdk_route53::Client,
    /// Read client: the topics firing alarms page through.
    sns: aws_sdk_sns::Client,
}

impl Clients {
    fn new(
        sdk: SdkSource,
        cfg: Arc<AwsConfig>,
        region: String,
        timeout: Duration,
        http: Option<aws_sdk_autoscaling::config::SharedHttpClient>,
    ) -> Clients {
        Clients { sdk, cfg, region, timeout, http, loaded: OnceCell::new() }
    }

    async fn get(&self) -> &Loaded {
        self.loaded
            .get_or_init(|| async {
                let timeouts = TimeoutConfig::builder().operation_timeout(self.timeout).build();
                let base = match &self.sdk {
                    SdkSource::Given(c) => {
                        let mut b = c.to_builder().region(Region::new(self.region.clone()));
                        if let Some(h) = &self.http {
                            b = b.http_client(h.clone());
                        }
                        b.build()
                    }
                    SdkSource::StandardChain => {
                        let mut loader =
                            aws_config::defaults(BehaviorVersion::latest()).region(Region::new(self.region.clone()));
                        if let Some(p) = &self.cfg.profile {
                            loader = loader.profile_name(p);
                        }
                        if let Some(url) = &self.cfg.endpoint_url {
                            loader = loader.endpoint_url(url);
                        }
                        // Also for the credential chain's own calls (STS, SSO).
                        if let Some(h) = &self.http {
                            loader = loader.http_client(h.clone());
                        }
                        loader.load().await
                    }
                };
                let read = base.to_builder().timeout_config(timeouts.clone()).build();
                let write = base.to_builder().timeout_config(timeouts).retry_config(RetryConfig::disabled()).build();
                let counter = CallCounter::default();
                Loaded {
                    calls: counter.0.clone(),
                    autoscaling: aws_sdk_autoscaling::Client::from_conf(
                        aws_sdk_autoscaling::config::Builder::from(&read)
                            .retry_classifier(tls::NoRetryOnCertificate)
                            .interceptor(counter.clone())
                            .build(),
                    ),
                    cloudwatch: aws_sdk_cloudwatch::Client::from_conf(
                        aws_sdk_cloudwatch::config::Builder::from(&read)
                            .retry_classifier(tls::NoRetryOnCertificate)
                            .interceptor(counter.clone())
                            .build(),
                    ),
                    route53: aws_sdk_route53::Client::from_conf(
                        aws_sdk_route53::config::Builder::from(&read)
                            .retry_classifier(tls::NoRetryOnCertificate)
                            .interceptor(counter.clone())
                            .build(),
                    ),
                    costexplorer: aws_sdk_costexplorer::Client::from_conf(
                        aws_sdk_costexplorer::config::Builder::from(&read)
                            .retry_classifier(tls::NoRetryOnCertificate)
                            .interceptor(counter.clone())
                            .build(),
                    ),
                    ec2: aws_sdk_ec2::Client::from_conf(
                        aws_sdk_ec2::config::Builder::from(&read)
                            .retry_classifier(tls::NoRetryOnCertificate)
                            .interceptor(counter.clone())
                            .build(),
                    ),
                    autoscaling_write: aws_sdk_autoscaling::Client::new(&write),
                    cloudwatch_write: aws_sdk_cloudwatch::Client::new(&write),
                    route53_write: aws_sdk_route53::Client::new(&write),
                    sns: aws_sdk_sns::Client::from_conf(
                        aws_sdk_sns::config::Builder::from(&read)
                            .retry_classifier(tls::NoRetryOnCertificate)
                            .interceptor(counter)
                            .build(),
                    ),
                }
            })
            .await
    }
}

/// Counts the HTTP requests a client sends.
#[derive(Debug, Clone, Default)]
struct CallCounter(Arc<AtomicU32>);

impl aws_sdk_autoscaling::config::Intercept for CallCounter {
    fn name(&self) -> &'static str {
        "opsdeck-call-counter"
    }
    fn read_before_transmit(
        &self,
        _context: &aws_sdk_autoscaling::config::interceptors::BeforeTransmitInterceptorContextRef<'_>,
        _components: &aws_sdk_autoscaling::config::RuntimeComponents,
        _cfg: &mut aws_sdk_autoscaling::config::ConfigBag,
    ) -> Result<(), aws_sdk_autoscaling::error::BoxError> {
        self.0.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

/// One region of an account: scaling groups, alarms and their metrics.
pub struct AwsRegion {
    id: SourceId,
    region: String,
    cfg: Arc<AwsConfig>,
    clients: Clients,
    /// Alarm name → ARN from the last read, for tagging an acknowledgement.
    alarm_arns: Mutex<BTreeMap<String, String>>,
    /// The groups' spot prices, read hourly.
    prices: PriceCache,
    /// Launch configuration → instance type: a launch configuration cannot be
    /// changed, so each is read once.
    launch_types: Mutex<BTreeMap<String, String>>,
}

impl AwsRegion {
    /// The type of groups with no instance to say it, from their launch
    /// configuration (read only for names not seen before).
    async fn fill_launch_config_types(
        &self,
        c: &Loaded,
        groups: &mut [crate::model::ScalingGroup],
        configs: &LaunchConfigs,
    ) {
        let wanted: Vec<&str> = {
            let known = self.launch_types.lock().unwrap_or_else(|e| e.into_inner());
            let mut w: Vec<&str> = groups
                .iter()
                .filter(|g| g.instance_type.is_none())
                .filter_map(|g| configs.get(&g.name))
                .map(String::as_str)
                .filter(|n| !known.contains_key(*n))
                .collect();
            w.sort_unstable();
            w.dedup();
            w
        };
        if !wanted.is_empty() {
            let found = autoscaling::launch_config_types(&c.autoscaling, &wanted).await;
            self.launch_types.lock().unwrap_or_else(|e| e.into_inner()).extend(found);
        }
        let known = self.launch_types.lock().unwrap_or_else(|e| e.into_inner());
        for g in groups.iter_mut().filter(|g| g.instance_type.is_none()) {
            g.instance_type = configs.get(&g.name).and_then(|lc| known.get(lc)).cloned();
        }
    }
}

#[async_trait]
impl Provider for AwsRegion {
    fn id(&self) -> &SourceId {
        &self.id
    }
    fn kind(&self) -> &'static str {
        "aws"
    }
    async fn poll(&self, now: DateTime<Utc>) -> Result<SourceReport, ProviderError> {
        let c = self.clients.get().await;
        let calls_before = c.calls.load(Ordering::Relaxed);
        // Each section stands alone: one alarm the SDK cannot parse must not hide
        // the region's groups and metrics. The alarms (and their tags) are read
        // beside the groups and, since the front-door CPU is per group, the metrics
        // after the groups: without the groups there is nothing to ask for.
        let groups_then_metrics = async {
            let groups = autoscaling::groups(&c.autoscaling, &self.id, &self.region, self.cfg.asg_tag.as_deref()).await;
            let figures = match &groups {
                Ok((groups, _)) => {
                    Some(metrics::region_figures(&c.cloudwatch, &self.region, groups, &self.cfg, now).await)
                }
                Err(_) => None,
            };
            (groups, figures)
        };
        let (alarms, (groups, figures)) = tokio::join!(self.alarms_then_routes(c, now), groups_then_metrics);
        let (alarms, routes) = alarms;
        // The outcomes are taken in a fixed order (alarms, groups, metrics), whichever came first.
        let mut report = SourceReport::default();
        let mut sections = Sections::new();
        // Without the alarms there is nothing to route: the routes keep their last read too.
        if let Some(read) = sections.read(&[Section::Alerts, Section::Routes], alarms) {
            *self.alarm_arns.lock().unwrap_or_else(|e| e.into_inner()) = read.arns;
            report.alerts = read.alerts.into();
        }
        if let Some(routes) = routes.and_then(|r| sections.read(&[Section::Routes], r)) {
            report.routes = routes;
        }
        // Without the groups there is nothing to price either: their last prices stay.
        let groups = sections.read(&[Section::Groups, Section::Metrics, Section::Replication, Section::Prices], groups);
        let groups_read = groups.is_some();
        if let (Some((mut groups, launch_configs)), Some(figures)) = (groups, figures) {
            self.fill_launch_config_types(c, &mut groups, &launch_configs).await;
            if let Some(figures) = sections.read(&[Section::Metrics, Section::Replication], figures) {
                report.metrics = figures.front_door.into_iter().collect();
                report.replication = figures.replication;
                report.poll_cost = Some(PollCost { billed_metrics: figures.billed_metrics, ..PollCost::default() });
            }
            report.groups = groups.into();
        }
        // Prices of the types the groups run, after the groups (they say which).
        let mut price_calls = None;
        if groups_read {
            let demand = Demand::of(&report.groups);
            let price_calls_before = c.calls.load(Ordering::Relaxed);
            let read = async {
                let mut r = prices::read(&c.ec2, &demand, &self.cfg, now).await?;
                r.calls = c.calls.load(Ordering::Relaxed).wrapping_sub(price_calls_before);
                Ok(r)
            };
            let (prices, calls) = self.prices.get(now, demand.clone(), &mut sections, read).await;
            price_calls = calls;
            if let Some(prices) = prices {
                report.spot_prices = prices;
            }
        }
        let mut report = sections.finish(report)?;
        let mut cost = report.poll_cost.take().unwrap_or_default();
        cost.slow_calls = price_calls.map(|n| (n, self.prices.every_secs()));
        cost.api_calls = c.calls.load(Ordering::Relaxed).wrapping_sub(calls_before);
        report.poll_cost = Some(cost);
        Ok(report)
    }
    async fn preflight(&self, _now: DateTime<Utc>) -> Vec<Check> {
        let c = self.clients.get().await;
        let check = Check::of;
        vec![
            check(
                "autoscaling:DescribeAutoScalingGroups",
                c.autoscaling
                    .describe_auto_scaling_groups()
                    .max_records(1)
                    .send()
                    .await
                    .map(|_| "permitted".into())
                    .map_err(|e| sdk_error("DescribeAutoScalingGroups", e)),
            ),
            check(
                "cloudwatch:DescribeAlarms",
                c.cloudwatch
                    .describe_alarms()
                    .max_records(1)
                    .send()
                    .await
                    .map(|_| "permitted".into())
                    .map_err(|e| sdk_error("DescribeAlarms", e)),
            ),
            check(
                "cloudwatch:ListMetrics",
                c.cloudwatch
                    .list_metrics()
                    .namespace("AWS/EC2")
                    .send()
                    .await
                    .map(|_| "permitted (GetMetricData is not probed: billed per metric)".into())
                    .map_err(|e| sdk_error("ListMetrics", e)),
            ),
        ]
    }
    async fn execute(&self, plan: &Plan, actor: &Actor, now: DateTime<Utc>) -> Result<Receipt, ProviderError> {
        let c = self.clients.get().await;
        match plan.changes.as_slice() {
            [Change::Capacity { group, after, .. }] => {
                autoscaling::set_desired(&c.autoscaling_write, group, *after).await
            }
            [Change::AlertState { id, comment, minutes, after, .. }] => {
                let arn = self.alarm_arns.lock().unwrap_or_else(|e| e.into_inner()).get(id).cloned();
                let arn =
                    arn.ok_or_else(|| ProviderError::BadResponse(format!("alarm {id} is not in the last read")))?;
                if *after == AlertMark::Acked {
                    alarms::acknowledge(&c.cloudwatch_write, id, &arn, actor, comment, *minutes, now).await
                } else {
                    alarms::unacknowledge(&c.cloudwatch_write, id, &arn).await
                }
            }
            _ => Err(ProviderError::Unsupported(format!("{} in {}", plan.intent, self.id))),
        }
    }
}

impl AwsRegion {
    /// The alarms, then the SNS topics the firing ones page through (none to read
    /// when the alarms could not be read).
    async fn alarms_then_routes(
        &self,
        c: &Loaded,
        now: DateTime<Utc>,
    ) -> (Result<alarms::AlarmRead, ProviderError>, Option<Result<Vec<crate::model::NotificationRoute>, ProviderError>>)
    {
        let read = alarms::alerts(&c.cloudwatch, &self.id, &self.region, &self.cfg.severity_tag, now).await;
        let routes = match &read {
            Ok(r) => Some(sns::routes(&c.sns, &self.id, &r.alerts, &r.topics).await),
            Err(_) => None,
        };
        (read, routes)
    }
}

/// The account's global services: Route 53 traffic policies and Cost Explorer.
pub struct AwsGlobal {
    id: SourceId,
    cfg: Arc<AwsConfig>,
    clients: Clients,
    /// Record sets from the last read by (record name, set identifier), for UPSERTs.
    records: Mutex<BTreeMap<(String, String), (String, aws_sdk_route53::types::ResourceRecordSet)>>,
    /// Cost Explorer is billed per call: one read per `cost_interval_secs`.
    cost: CostCache<crate::model::CostSnapshot>,
}

#[async_trait]
impl Provider for AwsGlobal {
    fn id(&self) -> &SourceId {
        &self.id
    }
    fn kind(&self) -> &'static str {
        "aws"
    }
    async fn poll(&self, now: DateTime<Utc>) -> Result<SourceReport, ProviderError> {
        let c = self.clients.get().await;
        let calls_before = c.calls.load(Ordering::Relaxed);
        let mut report = SourceReport::default();
        let mut sections = Sections::new();
        // The records (each with its health checks) and the bill are read side by
        // side; the bill's outcome is noted in a section list of its own and taken
        // after the records', as if read one after the other.
        let records = async {
            // In the configured order: the first failure in that order is the one
            // reported. (Gathered by a loop, not a closure: a stream over a borrowing
            // closure is not `Send` enough for the provider's boxed future.)
            let mut reads = Vec::with_capacity(self.cfg.records.len());
            for rec in &self.cfg.records {
                reads.push(route53::policy(&c.route53, &self.id, rec));
            }
            stream::iter(reads).buffered(READS_IN_FLIGHT).try_collect::<Vec<_>>().await
        };
        let bill = async {
            let mut own = Sections::new();
            let bill = self.cost.get(now, &mut own, cost::month_to_date(&c.costexplorer, now)).await;
            (bill, own)
        };
        let (records, (bill, bill_sections)) = tokio::join!(records, bill);
        if !self.cfg.records.is_empty()
            && let Some(list) = sections.read(&[Section::Records], records)
        {
            // All or none of the records: a policy missing from the list would read as gone.
            let mut seen = BTreeMap::new();
            for (rec, (policy, sets)) in self.cfg.records.iter().zip(list) {
                for (set_id, rs) in sets {
                    seen.insert((policy.name.clone(), set_id), (rec.zone_id.clone(), rs));
                }
                report.policies.push(policy);
            }
            *self.records.lock().unwrap_or_else(|e| e.into_inner()) = seen;
        }
        sections.append(bill_sections);
        report.costs.extend(bill);
        // Cost Explorer bills $0.01 per request; two requests per read.
        let ce_reads_per_month = 30.0 * 86_400.0 / self.cfg.cost_interval_secs.max(60) as f64;
        report.poll_cost = Some(PollCost {
            api_calls: c.calls.load(Ordering::Relaxed).wrapping_sub(calls_before),
            billed_metrics: 0,
            fixed_monthly_usd: ce_reads_per_month * 2.0 * 0.01,
            remaining_reads: None,
            slow_calls: None,
        });
        sections.finish(report)
    }
    async fn preflight(&self, _now: DateTime<Utc>) -> Vec<Check> {
        let c = self.clients.get().await;
        let mut out = Vec::new();
        for rec in &self.cfg.records {
            let r = c
                .route53
                .list_resource_record_sets()
                .hosted_zone_id(rec.zone_id.trim_start_matches("/hostedzone/"))
                .max_items(1)
                .send()
                .await
                .map(|_| format!("zone {} readable", rec.zone_id))
                .map_err(|e| sdk_error("ListResourceRecordSets", e).to_string());
            out.push(Check { what: format!("route53:ListResourceRecordSets {}", rec.name), result: r });
        }
        out.push(Check {
            what: "ce:GetCostAndUsage".into(),
            result: Ok(format!("not probed (billed per call); read every {} s", self.cfg.cost_interval_secs)),
        });
        out
    }
    async fn execute(&self, plan: &Plan, actor: &Actor, _now: DateTime<Utc>) -> Result<Receipt, ProviderError> {
        let c = self.clients.get().await;
        let mut updates = Vec::new();
        for change in &plan.changes {
            let Change::Weight { policy, endpoint, before, after, .. } = change else {
                return Err(ProviderError::Unsupported(format!("{} in {}", plan.intent, self.id)));
            };
            let known = self
                .records
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get(&(policy.clone(), endpoint.clone()))
                .cloned();
            let (zone, rs) = known.ok_or_else(|| {
                ProviderError::BadResponse(format!("record {policy} / {endpoint} is not in the last read"))
            })?;
            if rs.weight != Some(i64::from(*before)) {
                // The estate moved since the plan was made: refuse rather than overwrite.
                return Err(ProviderError::BadResponse(format!(
                    "{endpoint} weight is {:?} now, not {before} as planned; re-plan",
                    rs.weight
                )));
            }
            updates.push((zone, rs, *after));
        }
        route53::set_weights(&c.route53_write, updates, &format!("opsdeck: {} by {}", plan.intent, actor.label())).await
    }
    async fn change_in_sync(&self, request_id: &str) -> Result<Option<bool>, ProviderError> {
        let c = self.clients.get().await;
        route53::changes_in_sync(&c.route53, request_id).await.map(Some)
    }
}

/// Words for an SDK error, one sentence: "<operation>: <what went wrong>".
/// Throttling is told apart so the collector backs off. The SDK's own texts
/// are layers ("service error", "dispatch failure") over a `Debug` dump of the
/// raw response, so the words come from the parts: the error code and message
/// the service sent, or the HTTP status and the body's first line when its
/// answer had no readable error, or the transport's innermost cause.
pub(crate) fn sdk_error<E>(
    what: &str,
    e: aws_sdk_autoscaling::error::SdkError<E, aws_sdk_autoscaling::config::http::HttpResponse>,
) -> ProviderError
where
    E: aws_sdk_autoscaling::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    use super::words;
    use aws_sdk_autoscaling::error::SdkError;
    match &e {
        SdkError::TimeoutError(_) => ProviderError::Unreachable(format!("{what}: timed out")),
        SdkError::DispatchFailure(d) if d.is_timeout() => ProviderError::Unreachable(format!("{what}: timed out")),
        SdkError::DispatchFailure(d) => match d.as_connector_error().and_then(|c| super::tls::problem(c)) {
            Some(words) => ProviderError::Unreachable(format!("{what}: {words}")),
            None => ProviderError::Unreachable(format!("{what}: {}", words::transport(&e))),
        },
        SdkError::ServiceError(s) => {
            let status = s.raw().status().as_u16();
            let Some(code) = s.err().code() else {
                // No error code: the body was not the service's error shape (a
                // proxy's page, a server's crash page).
                let body = s.raw().body().bytes().unwrap_or(&[]);
                let detail = if (200..300).contains(&status) {
                    // A success the SDK could not parse as one.
                    let line = words::body_line(status, body).unwrap_or_else(|| "empty body".into());
                    format!("{what}: unreadable answer ({}): {line}", words::status_line(status))
                } else {
                    format!("{what}: {}", words::status_with_body(status, body))
                };
                return if status == 429 {
                    ProviderError::Throttled(detail)
                } else if matches!(status, 401 | 403) {
                    ProviderError::Auth(detail)
                } else {
                    ProviderError::BadResponse(detail)
                };
            };
            let detail = match s.err().message().map(|m| crate::format::one_line(m, 300)) {
                Some(msg) if !msg.is_empty() => format!("{what}: {code}: {msg}"),
                _ => format!("{what}: {code} ({})", words::status_line(status)),
            };
            if matches!(
                code,
                "Throttling" | "ThrottlingException" | "TooManyRequestsException" | "RequestLimitExceeded"
            ) {
                ProviderError::Throttled(detail)
            } else if code.contains("AccessDenied")
                || code.contains("UnrecognizedClient")
                || code.contains("InvalidClientTokenId")
                || code.contains("ExpiredToken")
                || code.contains("SignatureDoesNotMatch")
            {
                ProviderError::Auth(detail)
            } else {
                ProviderError::BadResponse(detail)
            }
        }
        SdkError::ResponseError(r) => ProviderError::BadResponse(format!(
            "{what}: unreadable answer ({}): {}",
            words::status_line(r.raw().status().as_u16()),
            words::root_cause(&e)
        )),
        _ => ProviderError::BadResponse(format!("{what}: request not sent: {}", words::root_cause(&e))),
    }
}

/// An AWS timestamp as chrono's.
pub(crate) fn to_chrono(t: &aws_sdk_cloudwatch::primitives::DateTime) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(t.secs(), t.subsec_nanos())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::canned::{self, Answer, MOTO_500, MOTO_500_WORDS, assert_clean};

    /// A real Auto Scaling client against `url`, without retries, with a short timeout.
    fn client(url: &str) -> aws_sdk_autoscaling::Client {
        let conf = aws_sdk_autoscaling::Config::builder()
            .behavior_version(aws_sdk_autoscaling::config::BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .endpoint_url(url)
            .credentials_provider(aws_sdk_autoscaling::config::Credentials::new(
                "AKIDTEST", "testing", None, None, "test",
            ))
            .retry_config(RetryConfig::disabled())
            .timeout_config(TimeoutConfig::builder().operation_timeout(Duration::from_millis(700)).build())
            .build();
        aws_sdk_autoscaling::Client::from_conf(conf)
    }

    /// What `sdk_error` says of one DescribeAutoScalingGroups call to `url`.
    async fn said(url: &str) -> ProviderError {
        let e = client(url).describe_auto_scaling_groups().send().await.expect_err("fails");
        sdk_error("DescribeAutoScalingGroups", e)
    }

    fn xml_error(code: &str, message: &str) -> String {
        format!(
            "<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>r1</RequestId></ErrorResponse>"
        )
    }

    /// moto's crash page is an SDK ServiceError whose XML cannot be parsed: the
    /// status and the page's sentence, not the SDK's Debug dump of the response.
    #[tokio::test]
    async fn a_500_html_page_is_the_status_and_its_first_sentence() {
        let url = canned::serve(Answer::Reply("500 Internal Server Error", "text/html", MOTO_500.into()));
        let e = said(&url).await;
        assert_eq!(e, ProviderError::BadResponse(format!("DescribeAutoScalingGroups: {MOTO_500_WORDS}")));
        assert_eq!(e.to_string(), format!("bad response: DescribeAutoScalingGroups: {MOTO_500_WORDS}"));
        assert_clean(&e.to_string());
    }

    #[tokio::test]
    async fn a_refused_connection_and_a_timeout_are_said_plainly() {
        let e = said(&canned::closed()).await;
        assert_eq!(e.to_string(), "unreachable: DescribeAutoScalingGroups: cannot connect: Connection refused");
        let e = said(&canned::serve(Answer::Hang)).await;
        assert_eq!(e.to_string(), "unreachable: DescribeAutoScalingGroups: timed out");
    }

    #[tokio::test]
    async fn service_errors_are_their_code_and_message_by_kind() {
        let cases = [
            (
                "400 Bad Request",
                "Throttling",
                "Rate exceeded",
                "throttled: DescribeAutoScalingGroups: Throttling: Rate exceeded",
            ),
            (
                "403 Forbidden",
                "AccessDenied",
                "User: arn:aws:iam::1:user/x is not authorized",
                "authentication failed: DescribeAutoScalingGroups: AccessDenied: User: arn:aws:iam::1:user/x is not authorized",
            ),
            (
                "400 Bad Request",
                "ValidationError",
                "",
                "bad response: DescribeAutoScalingGroups: ValidationError (HTTP 400 Bad Request)",
            ),
        ];
        for (status, code, message, expected) in cases {
            let url = canned::serve(Answer::Reply(status, "text/xml", xml_error(code, message)));
            let shown = said(&url).await.to_string();
            assert_eq!(shown, expected);
            assert_clean(&shown);
        }
    }

    /// A 200 the SDK cannot parse is a response error: the status and the parser's cause.
    #[tokio::test]
    async fn an_unparseable_success_says_so_without_a_dump() {
        let url = canned::serve(Answer::Reply("200 OK", "text/xml", "{{{ this is not xml".into()));
        let e = said(&url).await;
        let shown = e.to_string();
        assert!(matches!(e, ProviderError::BadResponse(_)), "{e:?}");
        assert_eq!(
            shown,
            "bad response: DescribeAutoScalingGroups: unreadable answer (HTTP 200 OK): {{{ this is not xml"
        );
        assert_clean(&shown);
    }
}
