//! Alertmanager's v2 API: alerts with their labels and silenced / inhibited state,
//! and acknowledgement as a silence on the alert's exact label set, so every other
//! console, amtool and the Alertmanager UI see the same acknowledgement.
//!
//! An HA cluster is given as several URLs: reads go to the first peer that answers
//! (the peers gossip alerts and silences), writes likewise.

pub mod history;
pub mod routes;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::config::AlertmanagerConfig;
use crate::config::{KindSpec, TableSpec, read_table};
use crate::model::{Actor, AlertMark, Change, Plan};
use crate::model::{
    Alert, AlertState, CloudKind, Labels, NotificationRoute, PollCost, Section, Severity, SourceId, SourceReport,
};
use crate::providers::http::{self, HttpSource};
use crate::providers::http_auth;
use crate::providers::http_stream;
use crate::providers::registry::{self, BuildError, Built, Entry};
use crate::providers::sections::Sections;
use crate::providers::{Check, Provider, ProviderError, Receipt};

/// `GET /api/v2/alerts` item (the fields opsdeck uses).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GettableAlert {
    pub fingerprint: String,
    #[serde(default)]
    pub labels: Labels,
    /// Only the annotations opsdeck shows are kept: runbooks, descriptions and
    /// dashboards of 100,000 alerts would cost memory nobody reads.
    #[serde(default)]
    pub annotations: Annotations,
    pub starts_at: DateTime<Utc>,
    #[serde(default)]
    pub receivers: Vec<Receiver>,
    pub status: AlertStatus,
}

/// The annotations that make an alert's title.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Annotations {
    #[serde(default)]
    pub summary: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Receiver {
    pub name: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertStatus {
    /// "active", "suppressed" or "unprocessed" (received, not yet run through
    /// silences and inhibitions).
    pub state: String,
    #[serde(default)]
    pub silenced_by: Vec<String>,
    #[serde(default)]
    pub inhibited_by: Vec<String>,
    /// Mute time intervals in effect (Alertmanager 0.27 and later).
    #[serde(default)]
    pub muted_by: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Matcher {
    pub name: String,
    pub value: String,
    pub is_regex: bool,
    /// Absent in Alertmanager before 0.22: equality then.
    #[serde(default = "yes")]
    pub is_equal: bool,
}

fn yes() -> bool {
    true
}

/// `GET /api/v2/silence/{id}` and list items.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GettableSilence {
    pub id: String,
    pub matchers: Vec<Matcher>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    #[serde(default)]
    pub created_by: String,
    #[serde(default)]
    pub comment: String,
    pub status: SilenceStatus,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SilenceStatus {
    /// "active", "pending" or "expired".
    pub state: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PostableSilence<'a> {
    matchers: Vec<Matcher>,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    created_by: &'a str,
    comment: &'a str,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SilenceCreated {
    #[serde(rename = "silenceID")]
    silence_id: String,
}

/// The matchers that select exactly this label set.
pub fn exact_matchers(labels: &Labels) -> Vec<Matcher> {
    labels
        .iter()
        .map(|(k, v)| Matcher { name: k.to_string(), value: v.to_string(), is_regex: false, is_equal: true })
        .collect()
}

/// Whether a silence targets exactly this alert (an acknowledgement), rather than a
/// wider set (a maintenance window) that happens to cover it.
pub fn is_exact(silence: &GettableSilence, labels: &Labels) -> bool {
    let mut want = exact_matchers(labels);
    let mut have = silence.matchers.clone();
    want.sort_by(|a, b| a.name.cmp(&b.name));
    have.sort_by(|a, b| a.name.cmp(&b.name));
    want == have
}

/// One alert of `GET /api/v2/alerts`, made opsdeck's as soon as it is parsed
/// (only its state waits for the silences and the other alerts' names), so an
/// answer of 100,000 alerts never holds them twice.
#[derive(Debug, Clone)]
pub struct ParsedAlert {
    /// Source, severity, cloud and state are filled in by [`finish`].
    alert: Alert,
    status: AlertStatus,
}

impl From<GettableAlert> for ParsedAlert {
    fn from(a: GettableAlert) -> ParsedAlert {
        let alertname = a.labels.get("alertname").unwrap_or("(unnamed alert)");
        let title = match a.annotations.summary.as_ref().or(a.annotations.description.as_ref()) {
            Some(s) => format!("{alertname}: {s}"),
            None => alertname.to_string(),
        };
        let resource = ["instance", "service", "job", "namespace"]
            .iter()
            .find_map(|k| a.labels.get(k))
            .unwrap_or_default()
            .to_string();
        let route = a.receivers.iter().map(|r| r.name.as_str()).collect::<Vec<_>>().join(", ");
        ParsedAlert {
            alert: Alert {
                id: a.fingerprint,
                source: SourceId::new(""),
                cloud: None,
                severity: Severity::P2,
                title,
                resource,
                started_at: a.starts_at,
                state: AlertState::Firing,
                route,
                labels: a.labels,
            },
            status: a.status,
        }
    }
}

impl<'de> Deserialize<'de> for ParsedAlert {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<ParsedAlert, D::Error> {
        GettableAlert::deserialize(d).map(ParsedAlert::from)
    }
}

impl ParsedAlert {
    pub fn silenced(&self) -> bool {
        !self.status.silenced_by.is_empty()
    }

    /// Whether it reads as `last` did: everything Alertmanager said of it but its
    /// status, which [`finish_reads`] judges again.
    fn reads_as(&self, last: &Alert) -> bool {
        let a = &self.alert;
        a.id == last.id
            && a.title == last.title
            && a.resource == last.resource
            && a.started_at == last.started_at
            && a.route == last.route
            && a.labels == last.labels
    }
}

/// One alert of an answer as it was read against the last answer's alerts.
#[derive(Debug)]
pub enum Read {
    /// It reads as the last answer's alert at the same place: only its status
    /// is kept (a big answer that changed little costs little to hold).
    Same { at: usize, status: AlertStatus },
    /// Boxed: a list of mostly `Same` reads stays the size of a status each.
    New(Box<ParsedAlert>),
}

impl Read {
    fn status(&self) -> &AlertStatus {
        match self {
            Read::Same { status, .. } => status,
            Read::New(p) => &p.status,
        }
    }
    fn silenced(&self) -> bool {
        !self.status().silenced_by.is_empty()
    }
}

/// Reads a `GET /api/v2/alerts` answer, comparing each alert with the last
/// answer's alert at the same place as soon as it is parsed.
pub struct AgainstLast(pub Arc<Vec<Alert>>);

impl<'de> serde::de::DeserializeSeed<'de> for AgainstLast {
    type Value = Vec<Read>;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Vec<Read>, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> serde::de::Visitor<'de> for AgainstLast {
    type Value = Vec<Read>;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a list of alerts")
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<Read>, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1 << 20));
        let last = &self.0;
        while let Some(p) = seq.next_element::<ParsedAlert>()? {
            // The alert at the same place, else the one with its id when the last
            // list is in id order (Alertmanager's handler sorts by fingerprint):
            // one alert firing or resolving shifts the rest, which are still found.
            // Whatever the order, a match is checked in full, so a list in another
            // order is only read anew, never mistaken.
            let here = out.len();
            let at = Some(here)
                .filter(|&i| last.get(i).is_some_and(|l| l.id == p.alert.id))
                .or_else(|| last.binary_search_by(|l| l.id.as_str().cmp(&p.alert.id)).ok());
            out.push(match at {
                Some(at) if p.reads_as(&last[at]) => Read::Same { at, status: p.status },
                _ => Read::New(Box::new(p)),
            });
        }
        Ok(out)
    }
}

/// Alertmanager's alerts as opsdeck's, with silences for who acknowledged.
pub fn to_alerts(
    cfg: &AlertmanagerConfig,
    source: &SourceId,
    alerts: Vec<GettableAlert>,
    silences: &BTreeMap<String, GettableSilence>,
) -> Vec<Alert> {
    let reads = alerts.into_iter().map(|g| Read::New(Box::new(ParsedAlert::from(g)))).collect();
    let done = finish_reads(cfg, source, reads, &Arc::default(), silences);
    Arc::try_unwrap(done).unwrap_or_else(|shared| shared.to_vec())
}

/// Give the alerts read their source, severity, cloud and state. When every
/// alert reads and is judged as the last answer's, the last list itself is
/// returned: nothing is copied, and every Fleet keeps sharing it.
pub fn finish_reads(
    cfg: &AlertmanagerConfig,
    source: &SourceId,
    reads: Vec<Read>,
    last: &Arc<Vec<Alert>>,
    silences: &BTreeMap<String, GettableSilence>,
) -> Arc<Vec<Alert>> {
    // Only the names of alerts that inhibit another are needed.
    let inhibitors: std::collections::BTreeSet<&str> =
        reads.iter().flat_map(|r| r.status().inhibited_by.iter().map(String::as_str)).collect();
    let names: BTreeMap<String, String> = reads
        .iter()
        .filter_map(|r| match r {
            Read::Same { at, .. } => last.get(*at),
            Read::New(p) => Some(&p.alert),
        })
        .filter(|a| inhibitors.contains(a.id.as_str()))
        .map(|a| (a.id.clone(), a.labels.get("alertname").unwrap_or(&a.id).to_string()))
        .collect();
    let unchanged = reads.len() == last.len()
        && reads.iter().enumerate().all(|(i, r)| match r {
            Read::Same { at, status } if *at == i => last.get(*at).is_some_and(|l| {
                let (severity, cloud, state) = judge(l, status, cfg, silences, &names);
                l.source == *source && l.severity == severity && l.cloud == cloud && l.state == state
            }),
            _ => false,
        });
    if unchanged {
        return last.clone();
    }
    let alerts = reads
        .into_iter()
        .filter_map(|r| {
            let (mut a, status) = match r {
                Read::Same { at, status } => (last.get(at)?.clone(), status),
                Read::New(p) => {
                    let ParsedAlert { alert, status } = *p;
                    (alert, status)
                }
            };
            (a.severity, a.cloud, a.state) = judge(&a, &status, cfg, silences, &names);
            a.source = source.clone();
            Some(a)
        })
        .collect();
    Arc::new(alerts)
}

/// What depends on the source's settings and the alert's status: its severity,
/// cloud and state.
fn judge(
    alert: &Alert,
    status: &AlertStatus,
    cfg: &AlertmanagerConfig,
    silences: &BTreeMap<String, GettableSilence>,
    names: &BTreeMap<String, String>,
) -> (Severity, Option<CloudKind>, AlertState) {
    let severity = alert
        .labels
        .get(&cfg.severity_label)
        .and_then(|v| cfg.severity_map.get(&v.to_ascii_lowercase()).copied())
        .unwrap_or(Severity::P2);
    let cloud = alert.labels.get(&cfg.cloud_label).and_then(CloudKind::from_slug);
    let state = if let Some(s) = status.silenced_by.iter().find_map(|id| silences.get(id)) {
        AlertState::Acknowledged { by: s.created_by.clone(), at: s.starts_at, comment: s.comment.clone() }
    } else if let Some(id) = status.silenced_by.first() {
        // Silenced by a silence the read did not return (expired since): still muted.
        AlertState::Acknowledged { by: format!("silence {id}"), at: alert.started_at, comment: String::new() }
    } else if !status.inhibited_by.is_empty() {
        let by: Vec<&str> = status.inhibited_by.iter().map(|f| names.get(f.as_str()).unwrap_or(f).as_str()).collect();
        AlertState::Inhibited { by: by.join(", ") }
    } else if !status.muted_by.is_empty() {
        AlertState::Inhibited { by: format!("mute time interval {}", status.muted_by.join(", ")) }
    } else if status.state.eq_ignore_ascii_case("suppressed") {
        // Muted, though the answer names neither silence nor inhibiting alert.
        AlertState::Inhibited { by: "Alertmanager (suppressed, no reason given)".into() }
    } else {
        // "active", and "unprocessed": received but not yet checked against
        // silences and inhibitions, so as far as anyone knows it is firing.
        AlertState::Firing
    };
    (severity, cloud, state)
}

pub struct AlertmanagerSource {
    id: SourceId,
    cfg: AlertmanagerConfig,
    http: HttpSource,
    calls: AtomicU32,
    /// The last poll's alerts: the next answer is read against them, and when it
    /// says the same this very list is reported again.
    last: std::sync::Mutex<Arc<Vec<Alert>>>,
    /// The routes last read from the config, and when.
    routes: std::sync::Mutex<Option<(DateTime<Utc>, RoutesRead)>>,
}

/// A config's route tree and the routes it makes.
type RoutesRead = (Arc<routes::RouteTree>, Vec<NotificationRoute>);

/// How often the config (and so the routes) is read again. `GET /api/v2/status`
/// is small, but a config changes only on a reload, and a poll every few seconds
/// re-reading and re-parsing the whole YAML for nothing is waste: every 5 minutes.
pub const ROUTES_EVERY: chrono::Duration = chrono::Duration::minutes(5);

/// `GET /api/v2/status`: only the config is read here.
#[derive(Deserialize)]
struct StatusConfig {
    config: ConfigText,
}

#[derive(Deserialize)]
struct ConfigText {
    original: String,
}

/// `kind = "alertmanager"`, `[sources.alertmanager]`.
pub const ENTRY: Entry = Entry {
    kind: KindSpec {
        name: "alertmanager",
        aliases: &[],
        table: Some(TableSpec { key: "alertmanager", read: read_table::<AlertmanagerConfig> }),
    },
    build: |s, _| {
        let a = registry::table::<AlertmanagerConfig>(s, "alertmanager")?;
        let src = AlertmanagerSource::new(&s.name, a, s.timeout()).map_err(|e| BuildError::of(s, e))?;
        Ok(Built::providers(vec![Arc::new(src)]))
    },
    credential_line: |s| http_auth::credential_line(&s.name, s.table::<AlertmanagerConfig>().map(|a| &a.auth)),
};

impl AlertmanagerSource {
    pub fn new(name: &str, cfg: &AlertmanagerConfig, timeout: Duration) -> Result<AlertmanagerSource, String> {
        Ok(AlertmanagerSource {
            id: SourceId::new(name),
            cfg: cfg.clone(),
            http: HttpSource::new(&cfg.auth, timeout)?,
            calls: AtomicU32::new(0),
            last: std::sync::Mutex::default(),
            routes: std::sync::Mutex::default(),
        })
    }

    /// The routes of the config Alertmanager runs: read again when the last good
    /// read is [`ROUTES_EVERY`] old (or never happened), else the last ones.
    async fn routes(&self, now: DateTime<Utc>) -> Result<RoutesRead, ProviderError> {
        if let Some((at, read)) = self.routes.lock().unwrap_or_else(|e| e.into_inner()).as_ref()
            && now - *at < ROUTES_EVERY
            && now >= *at
        {
            return Ok(read.clone());
        }
        let what = "GET /api/v2/status";
        let status: StatusConfig = self.get_json(what, "api/v2/status", &[]).await?;
        let tree = routes::parse_config(&status.config.original)
            .map_err(|e| ProviderError::BadResponse(format!("{what}: {e}")))?;
        let how = routes::Labelling {
            severity_label: &self.cfg.severity_label,
            severity_map: &self.cfg.severity_map,
            cloud_label: &self.cfg.cloud_label,
        };
        let out = tree.notification_routes(&self.id, &how);
        let tree = Arc::new(tree);
        *self.routes.lock().unwrap_or_else(|e| e.into_inner()) = Some((now, (tree.clone(), out.clone())));
        Ok((tree, out))
    }

    /// Send a request built by `make` to each peer in turn until one answers with
    /// a status that is not a server failure. Returns the status and body.
    async fn call(
        &self,
        what: &str,
        make: impl Fn(&reqwest::Client, &str) -> reqwest::RequestBuilder,
    ) -> Result<(reqwest::StatusCode, Vec<u8>), ProviderError> {
        self.call_peers(&self.cfg.urls, what, make).await
    }

    async fn call_peers(
        &self,
        peers: &[String],
        what: &str,
        make: impl Fn(&reqwest::Client, &str) -> reqwest::RequestBuilder,
    ) -> Result<(reqwest::StatusCode, Vec<u8>), ProviderError> {
        let resp = self.answer_from_peers(peers, what, make).await?;
        Ok((resp.status(), http::read_body(what, resp).await?))
    }

    /// The first answer from `peers` that is not a server failure, body unread.
    async fn answer_from_peers(
        &self,
        peers: &[String],
        what: &str,
        make: impl Fn(&reqwest::Client, &str) -> reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, ProviderError> {
        let mut failures = Vec::new();
        for base in peers {
            self.calls.fetch_add(1, Ordering::Relaxed);
            let req = self.http.authorised(make(self.http.client(), base)).await?;
            match req.send().await {
                Ok(resp) if resp.status().is_server_error() => {
                    let status = resp.status();
                    let body = http::read_body(what, resp).await.unwrap_or_default();
                    failures.push(http::status_error(&format!("{what} at {base}"), status, &body));
                }
                Ok(resp) => return Ok(resp),
                Err(e) => failures.push(http::transport_error(&format!("{what} at {base}"), &e)),
            }
        }
        // Every peer failed: one line naming each, the kind of the first (said
        // once, so each peer's part is its detail without the kind's prefix).
        let lines: Vec<String> = failures.iter().map(ProviderError::detail).collect();
        Err(match failures.into_iter().next() {
            Some(ProviderError::BadResponse(_)) => ProviderError::BadResponse(lines.join("; ")),
            _ => ProviderError::Unreachable(lines.join("; ")),
        })
    }

    async fn get_json<T: serde::de::DeserializeOwned + Send + 'static>(
        &self,
        what: &str,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T, ProviderError> {
        self.get_json_from(&self.cfg.urls, what, path, query).await
    }

    async fn get_json_from<T: serde::de::DeserializeOwned + Send + 'static>(
        &self,
        peers: &[String],
        what: &str,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T, ProviderError> {
        self.get_parsed(peers, what, path, query, |body| serde_json::from_reader(body)).await
    }

    /// GET `path` from the first peer that answers, parsed by `parse` as it arrives.
    async fn get_parsed<T: Send + 'static>(
        &self,
        peers: &[String],
        what: &str,
        path: &str,
        query: &[(&str, String)],
        parse: impl FnOnce(&mut dyn std::io::Read) -> Result<T, serde_json::Error> + Send + 'static,
    ) -> Result<T, ProviderError> {
        let resp = self.answer_from_peers(peers, what, |c, base| c.get(http::join(base, path)).query(query)).await?;
        let status = resp.status();
        if !status.is_success() {
            let body = http::read_body(what, resp).await.unwrap_or_default();
            return Err(http::status_error(what, status, &body));
        }
        // Parsed as it arrives: 100,000 alerts are tens of MB of JSON.
        http_stream::decode_with(what, resp, http_stream::MAX_STREAMED_BYTES, parse).await
    }

    async fn alerts(&self) -> Result<Vec<ParsedAlert>, ProviderError> {
        self.get_json("GET /api/v2/alerts", "api/v2/alerts", &self.alerts_query()).await
    }

    /// The alerts, each compared with `last`'s at its place as it is parsed.
    async fn alerts_against(&self, last: Arc<Vec<Alert>>) -> Result<Vec<Read>, ProviderError> {
        let parse = move |body: &mut dyn std::io::Read| {
            use serde::de::DeserializeSeed;
            let mut de = serde_json::Deserializer::from_reader(body);
            let reads = AgainstLast(last).deserialize(&mut de)?;
            de.end()?;
            Ok(reads)
        };
        self.get_parsed(&self.cfg.urls, "GET /api/v2/alerts", "api/v2/alerts", &self.alerts_query(), parse).await
    }

    fn alerts_query(&self) -> Vec<(&'static str, String)> {
        let mut query: Vec<(&str, String)> = vec![
            ("active", "true".into()),
            ("silenced", "true".into()),
            ("inhibited", "true".into()),
            ("unprocessed", "true".into()),
        ];
        query.extend(self.cfg.filter.iter().map(|f| ("filter", f.clone())));
        query
    }

    async fn silences(&self) -> Result<BTreeMap<String, GettableSilence>, ProviderError> {
        let list: Vec<GettableSilence> = self.get_json("GET /api/v2/silences", "api/v2/silences", &[]).await?;
        Ok(list.into_iter().filter(|s| s.status.state == "active").map(|s| (s.id.clone(), s)).collect())
    }

    async fn current(&self, fingerprint: &str) -> Result<ParsedAlert, ProviderError> {
        self.alerts().await?.into_iter().find(|a| a.alert.id == fingerprint).ok_or_else(|| {
            ProviderError::BadResponse(format!("alert {fingerprint} is no longer in Alertmanager (resolved?)"))
        })
    }

    async fn acknowledge(
        &self,
        id: &str,
        actor: &Actor,
        comment: &str,
        minutes: Option<u32>,
        now: DateTime<Utc>,
    ) -> Result<Receipt, ProviderError> {
        let alert = self.current(id).await?;
        let minutes = minutes.unwrap_or(self.cfg.ack_minutes);
        let by = actor.label();
        let body = PostableSilence {
            matchers: exact_matchers(&alert.alert.labels),
            starts_at: now,
            ends_at: now + chrono::Duration::minutes(i64::from(minutes)),
            created_by: &by,
            comment,
        };
        let what = "POST /api/v2/silences";
        let (status, resp) = self.call(what, |c, base| c.post(http::join(base, "api/v2/silences")).json(&body)).await?;
        if !status.is_success() {
            return Err(http::status_error(what, status, &resp));
        }
        let created: SilenceCreated = http::decode(what, &resp)?;
        Ok(Receipt { request_id: created.silence_id })
    }

    /// Expire the silences that acknowledge exactly this alert. A wider silence
    /// (a maintenance window) is left alone and named, since it is someone else's.
    async fn unacknowledge(&self, id: &str) -> Result<Receipt, ProviderError> {
        let alert = self.current(id).await?;
        let mut expired = Vec::new();
        let mut wider = Vec::new();
        for sid in &alert.status.silenced_by {
            let what = format!("GET /api/v2/silence/{sid}");
            let silence: GettableSilence = self.get_json(&what, &format!("api/v2/silence/{sid}"), &[]).await?;
            if !is_exact(&silence, &alert.alert.labels) {
                wider.push(format!("{sid} by {} ({})", silence.created_by, silence.comment));
                continue;
            }
            let what = format!("DELETE /api/v2/silence/{sid}");
            let (status, body) =
                self.call(&what, |c, base| c.delete(http::join(base, &format!("api/v2/silence/{sid}")))).await?;
            if !status.is_success() {
                return Err(http::status_error(&what, status, &body));
            }
            expired.push(sid.clone());
        }
        match (expired.is_empty(), wider.is_empty()) {
            (true, true) => Err(ProviderError::BadResponse(format!("alert {id} is not silenced"))),
            (true, false) => Err(ProviderError::BadResponse(format!(
                "alert {id} is muted only by wider silences, left alone: {}",
                wider.join("; ")
            ))),
            (false, true) => Ok(Receipt { request_id: expired.join(",") }),
            (false, false) => {
                log::warn!("{}: {id} stays muted by wider silences: {}", self.id, wider.join("; "));
                Ok(Receipt { request_id: expired.join(",") })
            }
        }
    }
}

#[async_trait]
impl Provider for AlertmanagerSource {
    fn id(&self) -> &SourceId {
        &self.id
    }
    fn kind(&self) -> &'static str {
        "alertmanager"
    }

    async fn poll(&self, now: DateTime<Utc>) -> Result<SourceReport, ProviderError> {
        self.calls.store(0, Ordering::Relaxed);
        let last = self.last.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let mut sections = Sections::new();
        let Some(reads) = sections.read(&[Section::Alerts], self.alerts_against(last.clone()).await) else {
            // Nothing read: the poll fails with the alerts' error.
            return sections.finish(SourceReport::default());
        };
        // Silences are read only when something is silenced: most polls make one call.
        let silences = if reads.iter().any(Read::silenced) { self.silences().await? } else { BTreeMap::new() };
        // Judging 100,000 alerts takes a while: off the async workers.
        let (cfg, id) = (self.cfg.clone(), self.id.clone());
        let alerts = tokio::task::spawn_blocking(move || finish_reads(&cfg, &id, reads, &last, &silences))
            .await
            .map_err(|e| ProviderError::BadResponse(format!("GET /api/v2/alerts: reading the answer failed: {e}")))?;
        *self.last.lock().unwrap_or_else(|e| e.into_inner()) = alerts.clone();
        // Read after the alerts: an Alertmanager that cannot list alerts is down,
        // and a config it cannot give (or one that does not parse) fails only the
        // Routes section, whose last good routes the collector keeps.
        let routes = match sections.read(&[Section::Routes], self.routes(now).await) {
            // Which route each firing alert took, by the tree: 100,000 alerts
            // through a few regexes each, so off the async workers too.
            Some((tree, mut routes)) => {
                let firing = alerts.clone();
                let counts = tokio::task::spawn_blocking(move || {
                    tree.counts(firing.iter().filter(|a| a.state == AlertState::Firing).map(|a| &a.labels))
                })
                .await
                .unwrap_or_default();
                for (r, n) in routes.iter_mut().zip(counts) {
                    r.firing_now = Some(n);
                }
                routes
            }
            None => Vec::new(),
        };
        sections.finish(SourceReport {
            alerts,
            routes,
            poll_cost: Some(PollCost { api_calls: self.calls.load(Ordering::Relaxed), ..PollCost::default() }),
            ..SourceReport::default()
        })
    }

    /// The alerts it holds that started in the window, and the silences made in
    /// it (see `history`).
    async fn alert_history(
        &self,
        since: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Option<Vec<crate::model::TimelineEvent>>, ProviderError> {
        let every: Vec<GettableSilence> = self.get_json("GET /api/v2/silences", "api/v2/silences", &[]).await?;
        let active: BTreeMap<String, GettableSilence> =
            every.iter().filter(|s| s.status.state == "active").map(|s| (s.id.clone(), s.clone())).collect();
        let reads = self.alerts_against(Arc::default()).await?;
        let (cfg, id) = (self.cfg.clone(), self.id.clone());
        let alerts = tokio::task::spawn_blocking(move || finish_reads(&cfg, &id, reads, &Arc::default(), &active))
            .await
            .map_err(|e| ProviderError::BadResponse(format!("GET /api/v2/alerts: reading the answer failed: {e}")))?;
        Ok(Some(history::entries(self.id.as_str(), &alerts, &every, since, now)))
    }

    async fn preflight(&self, now: DateTime<Utc>) -> Vec<Check> {
        #[derive(Deserialize)]
        struct Status {
            cluster: Cluster,
            #[serde(rename = "versionInfo")]
            version_info: BTreeMap<String, String>,
        }
        #[derive(Deserialize)]
        struct Cluster {
            status: String,
            #[serde(default)]
            peers: Vec<serde_json::Value>,
        }
        let mut out = Vec::new();
        // Each peer on its own line: a dead peer in an HA pair is worth knowing about.
        for base in &self.cfg.urls {
            let what = "GET /api/v2/status";
            let peer = std::slice::from_ref(base);
            let result = self.get_json_from::<Status>(peer, what, "api/v2/status", &[]).await.map(|s| {
                format!(
                    "Alertmanager {}, cluster {} with {} peer(s)",
                    s.version_info.get("version").map_or("?", String::as_str),
                    s.cluster.status,
                    s.cluster.peers.len()
                )
            });
            out.push(Check::of(format!("reach {base}"), result));
        }
        let alerts = self.alerts().await.map(|a| format!("{} alert(s) readable", a.len()));
        out.push(Check::of("read alerts", alerts));
        let silences = self.silences().await.map(|s| format!("{} active silence(s) readable", s.len()));
        out.push(Check::of("read silences", silences));
        let routes = self.routes(now).await.map(|(_, r)| {
            let blackholes = r.iter().filter(|r| r.channels.is_empty()).count();
            format!("{} route(s) in the config, {blackholes} to a receiver with no channels (a blackhole)", r.len())
        });
        out.push(Check::of("read routes", routes));
        out
    }

    async fn execute(&self, plan: &Plan, actor: &Actor, now: DateTime<Utc>) -> Result<Receipt, ProviderError> {
        match plan.changes.as_slice() {
            [Change::AlertState { id, after, comment, minutes, .. }] if *after == AlertMark::Acked => {
                self.acknowledge(id, actor, comment, *minutes, now).await
            }
            [Change::AlertState { id, .. }] => self.unacknowledge(id).await,
            _ => Err(ProviderError::Unsupported(format!(
                "{} in {}: Alertmanager only acknowledges",
                plan.intent, self.id
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Read `answer` against `last` as a poll does.
    fn read_against(answer: &serde_json::Value, last: &Arc<Vec<Alert>>) -> Arc<Vec<Alert>> {
        use serde::de::DeserializeSeed;
        let reads = AgainstLast(last.clone()).deserialize(answer).expect("answer");
        let cfg = AlertmanagerConfig::new(vec!["http://127.0.0.1:9093".into()]);
        finish_reads(&cfg, &SourceId::new("am"), reads, last, &BTreeMap::new())
    }

    #[test]
    fn an_answer_that_says_the_same_again_is_the_last_list_itself() {
        let item = |fp: &str, state: &str, inhibited: &[&str]| {
            serde_json::json!({
                "fingerprint": fp, "labels": {"alertname": format!("N-{fp}"), "severity": "critical", "cloud": "aws"},
                "annotations": {"summary": "señal"}, "startsAt": "2026-11-30T10:00:00Z",
                "receivers": [{"name": "pager"}], "status": {"state": state, "inhibitedBy": inhibited, "silencedBy": []}
            })
        };
        let first = serde_json::json!([item("a1", "active", &[]), item("b2", "active", &[])]);
        let none = Arc::new(Vec::new());
        let one = read_against(&first, &none);
        assert_eq!(one.len(), 2);
        assert_eq!(
            *one,
            to_alerts(
                &AlertmanagerConfig::new(vec![]),
                &SourceId::new("am"),
                serde_json::from_value(first.clone()).expect("alerts"),
                &BTreeMap::new()
            )
        );
        // The same answer again: the very same list, nothing copied.
        assert!(Arc::ptr_eq(&read_against(&first, &one), &one));
        // Only a status changed: a new list, the state judged again.
        let inhibited = serde_json::json!([item("a1", "active", &[]), item("b2", "suppressed", &["a1"])]);
        let two = read_against(&inhibited, &one);
        assert!(!Arc::ptr_eq(&two, &one));
        assert_eq!(two[1].state, AlertState::Inhibited { by: "N-a1".into() });
        assert_eq!(two[0], one[0]);
        // One alert fewer, or another order: new lists that say so.
        assert_eq!(*read_against(&serde_json::json!([item("b2", "active", &[])]), &one), vec![one[1].clone()]);
        let swapped = read_against(&serde_json::json!([item("b2", "active", &[]), item("a1", "active", &[])]), &one);
        assert_eq!(*swapped, vec![one[1].clone(), one[0].clone()]);
        // A new alert listed first (in fingerprint order) shifts the others, which
        // are still found by id and kept as their status only.
        use serde::de::DeserializeSeed;
        let shifted =
            serde_json::json!([item("a0", "active", &[]), item("a1", "active", &[]), item("b2", "active", &[])]);
        let reads = AgainstLast(one.clone()).deserialize(&shifted).expect("answer");
        let kinds: Vec<Option<usize>> =
            reads.iter().map(|r| if let Read::Same { at, .. } = r { Some(*at) } else { None }).collect();
        assert_eq!(kinds, [None, Some(0), Some(1)]);
        let three = read_against(&shifted, &one);
        assert_eq!((three.len(), &three[1], &three[2]), (3, &one[0], &one[1]));
        assert_eq!(three[0].id, "a0");
    }

    fn alert(state: &str, extra: serde_json::Value) -> GettableAlert {
        let mut status = serde_json::json!({"state": state, "silencedBy": [], "inhibitedBy": []});
        if let (Some(s), Some(e)) = (status.as_object_mut(), extra.as_object()) {
            s.extend(e.clone());
        }
        serde_json::from_value(serde_json::json!({
            "fingerprint": format!("fp-{state}"),
            "labels": {"alertname": "X", "severity": "warning"},
            "startsAt": "2026-11-10T12:00:00Z",
            "status": status,
        }))
        .expect("alert")
    }

    #[test]
    fn each_state_the_v2_api_allows_is_shown_for_what_it_means() {
        let cfg = AlertmanagerConfig::new(vec!["http://am".into()]);
        let src = SourceId::new("am");
        let shown = |a: GettableAlert| to_alerts(&cfg, &src, vec![a], &BTreeMap::new()).remove(0).state;
        assert_eq!(shown(alert("active", serde_json::json!({}))), AlertState::Firing);
        // Received, not yet checked against silences and inhibitions: firing as far as known.
        assert_eq!(shown(alert("unprocessed", serde_json::json!({}))), AlertState::Firing);
        assert_eq!(
            shown(alert("suppressed", serde_json::json!({"mutedBy": ["weekends"]}))),
            AlertState::Inhibited { by: "mute time interval weekends".into() }
        );
        assert_eq!(
            shown(alert("suppressed", serde_json::json!({}))),
            AlertState::Inhibited { by: "Alertmanager (suppressed, no reason given)".into() }
        );
        assert_eq!(
            shown(alert("suppressed", serde_json::json!({"inhibitedBy": ["fp-other"]}))),
            AlertState::Inhibited { by: "fp-other".into() }
        );
        assert!(matches!(
            shown(alert("suppressed", serde_json::json!({"silencedBy": ["s1"]}))),
            AlertState::Acknowledged { .. }
        ));
    }

    /// Every peer failed: one sentence naming each peer's failure, the kind
    /// (of the first) said once at the front.
    #[tokio::test]
    async fn all_peers_failing_is_one_sentence_with_the_kind_once() {
        use crate::providers::canned::{self, Answer, MOTO_500, MOTO_500_WORDS, assert_clean};
        let (dead, crashed) =
            (canned::closed(), canned::serve(Answer::Reply("500 Internal Server Error", "text/html", MOTO_500.into())));
        let cfg: AlertmanagerConfig = toml::from_str(&format!("urls = [\"{dead}\", \"{crashed}\"]")).expect("config");
        let source = AlertmanagerSource::new("am", &cfg, Duration::from_secs(5)).expect("source");
        let e = source
            .call("GET /api/v2/alerts", |c, base| c.get(format!("{base}/api/v2/alerts")))
            .await
            .expect_err("fails");
        assert_eq!(
            e.to_string(),
            format!(
                "unreachable: GET /api/v2/alerts at {dead}: cannot connect: Connection refused; \
                 GET /api/v2/alerts at {crashed}: {MOTO_500_WORDS}"
            )
        );
        assert_clean(&e.to_string());
    }
}
