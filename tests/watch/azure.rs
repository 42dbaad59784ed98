//! The Azure provider against a local ARM + Entra ID stand-in (wiremock on
//! 127.0.0.1) serving the official examples of `Azure/azure-rest-api-specs`
//! (tests/fixtures/azure, copied byte for byte). Every request is checked: method,
//! path, api-version, bearer token (the one the token endpoint issued), body.
//!
//! azure_core refuses to send a bearer token over plain HTTP and azure_identity
//! refuses a non-https authority, so the provider is configured with
//! `https://127.0.0.1:PORT` and given a transport that sends the same request over
//! HTTP to the test server: everything above the socket is the production path.

use crate::support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use azure_core::credentials::TokenCredential;
use azure_core::http::Transport;
use chrono::Utc;
use opsdeck::actions::{Actor, Change, Intent, Plan};
use opsdeck::credentials::Secret;
use opsdeck::model::{AlertState, CloudKind, Health, Severity, SourceId};
use opsdeck::providers::azure::AzureConfig;
use opsdeck::providers::azure::arm::{Arm, ArmSettings};
use opsdeck::providers::azure::{self, AzureAuth, AzureOptions, LroLimits, creds, metrics};
use opsdeck::providers::{Provider, ProviderError};
use serde_json::{Value, json};
use wiremock::matchers::{body_json, body_string_contains, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SUB: &str = "3b540246-808d-4331-99aa-917b808a9166";
const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const CLIENT: &str = "0f3b7c1e-1111-2222-3333-444455556666";
const TOKEN: &str = "tok-issued-by-the-local-entra";

fn vmss_id() -> String {
    format!(
        "/subscriptions/{SUB}/resourceGroups/myResourceGroup/providers/Microsoft.Compute/virtualMachineScaleSets/myVirtualMachineScaleSet"
    )
}
fn tm_id() -> String {
    format!(
        "/subscriptions/{SUB}/resourceGroups/rg-dns/providers/Microsoft.Network/trafficmanagerprofiles/azuresdkfornetautoresttrafficmanager3880"
    )
}

/// A fixture file's response body for `status`.
fn fixture(name: &str, status: &str) -> Value {
    let p = format!("{}/tests/fixtures/azure/{name}", env!("CARGO_MANIFEST_DIR"));
    let v: Value = serde_json::from_str(&std::fs::read_to_string(p).expect("fixture")).expect("json");
    v["responses"][status]["body"].clone()
}

struct Peer {
    server: MockServer,
    /// `https://127.0.0.1:PORT`, what the provider is configured with.
    base: String,
}

impl Peer {
    /// A server with no token endpoint mounted.
    async fn bare() -> Peer {
        let server = MockServer::start().await;
        let base = server.uri().replace("http://", "https://");
        Peer { server, base }
    }

    async fn start() -> Peer {
        let server = MockServer::start().await;
        let base = server.uri().replace("http://", "https://");
        // The token endpoint: a client-credentials grant for the ARM audience.
        Mock::given(method("POST"))
            .and(path(format!("/{TENANT}/oauth2/v2.0/token")))
            .and(header("content-type", "application/x-www-form-urlencoded"))
            .and(body_string_contains("grant_type=client_credentials"))
            .and(body_string_contains(format!("client_id={CLIENT}")))
            .and(body_string_contains("client_secret=s3cr3t"))
            .and(body_string_contains(format!("scope={}", urlencode(&format!("{base}/.default")))))
            // OAuth 2.0 token response (RFC 6749 §5.1), as Entra ID sends it.
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": TOKEN
            })))
            .expect(1)
            .named("token endpoint")
            .mount(&server)
            .await;
        Peer { server, base }
    }

    fn transport() -> Transport {
        support::azure_http::plain_http()
    }

    fn config(&self) -> AzureConfig {
        let mut c = AzureConfig::new(vec![SUB.into()]);
        c.arm_endpoint = self.base.clone();
        c.authority_host = Some(self.base.clone());
        c.tenant_id = Some(TENANT.into());
        c.client_id = Some(CLIENT.into());
        c
    }

    /// A client-secret credential whose authority is this server.
    fn credential(&self) -> Arc<dyn TokenCredential> {
        creds::client_secret(TENANT, CLIENT, &Secret::new("s3cr3t"), &self.config(), Some(Self::transport()))
            .expect("credential")
    }

    fn provider(&self, cfg: &AzureConfig) -> Arc<dyn Provider> {
        let opts = AzureOptions {
            auth: AzureAuth::Given(self.credential()),
            transport: Some(Self::transport()),
            lro: LroLimits { timeout: Duration::from_secs(10), interval: Duration::from_millis(20) },
        };
        azure::providers("az", cfg, opts).expect("providers").remove(0)
    }

    fn arm(&self) -> Arm {
        let settings =
            ArmSettings { endpoint: self.base.parse().expect("url"), transport: Some(Self::transport()), scope: None };
        Arm::new(&settings, self.credential())
    }

    /// An ARM GET with the token and api-version asserted.
    fn get(&self, p: &str, api: &str) -> wiremock::MockBuilder {
        Mock::given(method("GET"))
            .and(path(p.to_string()))
            .and(query_param("api-version", api))
            .and(header("authorization", format!("Bearer {TOKEN}")))
    }

    async fn requests(&self, m: &str, p: &str) -> Vec<wiremock::Request> {
        let all = self.server.received_requests().await.unwrap_or_default();
        all.into_iter().filter(|r| r.method.as_str() == m && r.url.path() == p).collect()
    }
}

/// application/x-www-form-urlencoded, as the token request body is written.
fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => (b as char).to_string(),
            b' ' => "+".into(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn alerts_path() -> String {
    format!("/subscriptions/{SUB}/providers/Microsoft.AlertsManagement/alerts")
}
fn cost_path() -> String {
    format!("/subscriptions/{SUB}/providers/Microsoft.CostManagement/query")
}

/// The exact Cost Management request opsdeck sends.
fn cost_request() -> Value {
    json!({"type": "ActualCost", "timeframe": "MonthToDate", "dataset": {"granularity": "None",
        "aggregation": {"totalCost": {"name": "PreTaxCost", "function": "Sum"}},
        "grouping": [{"type": "Dimension", "name": "ServiceName"}]}})
}

/// Alerts: page one is the fixture with its nextLink moved to this server; page two
/// (derived) is the fixture's second alert alone with no nextLink.
async fn mount_alerts(peer: &Peer) {
    let mut first = fixture("alertsmanagement-2019-03-01-Alerts_List.json", "200");
    let link = first["nextLink"].as_str().expect("nextLink").to_string();
    let moved = link
        .replacen("https://management.azure.com:443", &peer.base, 1)
        .replace("/subscriptions/1e3ff1c0-771a-4119-a03b-be82a51e232d/", &format!("/subscriptions/{SUB}/"));
    first["nextLink"] = json!(moved);
    let mut second = fixture("alertsmanagement-2019-03-01-Alerts_List.json", "200");
    second.as_object_mut().expect("object").remove("nextLink");
    let only = second["value"][1].clone();
    second["value"] = json!([only]);
    // Page two: the link is followed as given (its own api-version and ctoken).
    peer.get(&alerts_path(), "2018-05-05-preview")
        .and(query_param("ctoken", "+RID:PlwOAPHEGwB9UwEAAAAgCw==#RT:2#TRC:500#RTD:qtQyMDE4LTA2LTEyVDE1OjEyOjE1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(second))
        .expect(1..)
        .named("alerts page 2")
        .mount(&peer.server)
        .await;
    peer.get(&alerts_path(), "2019-03-01")
        .respond_with(ResponseTemplate::new(200).set_body_json(first))
        .expect(1..)
        .named("alerts page 1")
        .mount(&peer.server)
        .await;
}

async fn mount_vmss(peer: &Peer) {
    let id = vmss_id();
    peer.get(&id, "2024-11-01")
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(fixture("compute-2024-11-01-VirtualMachineScaleSet_Get_WithUserData.json", "200"))
                .insert_header("x-ms-ratelimit-remaining-subscription-reads", "11998"),
        )
        .named("vmss get")
        .mount(&peer.server)
        .await;
    // The set-level instance view as ARM really answers it: ProvisioningState counts
    // only, no power states. Mounted so that reading it would be possible, and
    // asserted unread: it cannot say how many instances run.
    let mut view = fixture("compute-2024-11-01-VirtualMachineScaleSet_GetInstanceView_MaximumSet_Gen.json", "200");
    view["virtualMachine"]["statusesSummary"] = json!([
        {"code": "ProvisioningState/succeeded", "count": 3},
        {"code": "ProvisioningState/updating", "count": 1}
    ]);
    peer.get(&format!("{id}/instanceView"), "2024-11-01")
        .respond_with(ResponseTemplate::new(200).set_body_json(view))
        .expect(0)
        .named("vmss set-level instance view")
        .mount(&peer.server)
        .await;
    // The VMs with their instance views, two pages: derived from the MinimumSet list
    // example's VM (id and location) with the fields the MaximumSet example shows
    // (zones, instanceView.statuses) filled in: four running, one still updating.
    let vm = |n: u32, provisioning: &str| {
        json!({"id": format!("{id}/virtualMachines/{n}"), "location": "westus", "zones": [format!("{}", n % 2 + 1)],
            "properties": {"instanceView": {"statuses": [
                {"code": format!("ProvisioningState/{provisioning}"), "level": "Info"},
                {"code": "PowerState/running", "level": "Info", "displayStatus": "VM running"}]}}})
    };
    let vms = format!("{id}/virtualMachines");
    peer.get(&vms, "2024-11-01")
        .and(query_param("$expand", "instanceView"))
        .and(query_param("$skiptoken", "page2"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"value": [vm(2, "succeeded"), vm(3, "updating")]})),
        )
        .with_priority(1)
        .named("vmss VMs page 2")
        .mount(&peer.server)
        .await;
    let next = format!("{}{vms}?api-version=2024-11-01&$expand=instanceView&$skiptoken=page2", peer.base);
    peer.get(&vms, "2024-11-01")
        .and(query_param("$expand", "instanceView"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"value": [vm(0, "succeeded"), vm(1, "succeeded")], "nextLink": next})),
        )
        .named("vmss VMs page 1")
        .mount(&peer.server)
        .await;
    // Derived from GetMetric: its BlobCount series renamed to the VMSS metric.
    let mut m = fixture("monitor-2024-02-01-GetMetric.json", "200");
    m["value"][0]["name"]["value"] = json!("Percentage CPU");
    peer.get(&format!("{id}/providers/Microsoft.Insights/metrics"), "2024-02-01")
        .and(query_param("metricnames", "Percentage CPU"))
        .and(query_param("aggregation", "average"))
        .and(query_param("interval", "PT1M"))
        .respond_with(ResponseTemplate::new(200).set_body_json(m))
        .named("vmss cpu")
        .mount(&peer.server)
        .await;
}

async fn mount_tm(peer: &Peer, body: Value) {
    peer.get(&tm_id(), "2022-04-01")
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .named("traffic manager profile")
        .mount(&peer.server)
        .await;
}

async fn mount_cost(peer: &Peer, resp: ResponseTemplate) {
    Mock::given(method("POST"))
        .and(path(cost_path()))
        .and(query_param("api-version", "2023-11-01"))
        .and(header("authorization", format!("Bearer {TOKEN}")))
        .and(body_json(cost_request()))
        .respond_with(resp)
        .named("cost query")
        .mount(&peer.server)
        .await;
}

/// The cost fixture with its grouping column renamed to ServiceName (derived: the
/// example groups by ResourceGroup).
fn cost_by_service() -> Value {
    let mut c = fixture("costmanagement-2023-11-01-SubscriptionQueryGrouping.json", "200");
    c["properties"]["columns"][1]["name"] = json!("ServiceName");
    c
}

/// A peer serving one scale set (plus empty alerts and cost), and a provider that
/// has read it once: where every scale test starts.
async fn scale_set_read_once() -> (Peer, Arc<dyn Provider>) {
    let peer = Peer::start().await;
    mount_vmss(&peer).await;
    mount_alerts(&peer).await;
    mount_cost(&peer, ResponseTemplate::new(204)).await;
    let mut cfg = peer.config();
    cfg.scale_sets = vec![vmss_id()];
    let p = peer.provider(&cfg);
    p.poll(Utc::now()).await.expect("poll");
    (peer, p)
}

fn full_config(peer: &Peer) -> AzureConfig {
    let mut cfg = peer.config();
    cfg.scale_sets = vec![vmss_id()];
    cfg.traffic_manager_profiles = vec![tm_id()];
    cfg
}

#[tokio::test]
async fn a_full_poll_reads_every_api_with_the_issued_token() {
    let peer = Peer::start().await;
    mount_vmss(&peer).await;
    mount_tm(&peer, fixture("trafficmanager-2022-04-01-Profile-GET-WithEndpoints.json", "200")).await;
    mount_alerts(&peer).await;
    mount_cost(&peer, ResponseTemplate::new(200).set_body_json(cost_by_service())).await;
    let p = peer.provider(&full_config(&peer));
    assert_eq!(p.id(), &SourceId::new(format!("az/{SUB}")));
    let now = Utc::now();
    let r = p.poll(now).await.expect("poll");

    let g = &r.groups[0];
    assert_eq!((g.name.as_str(), g.region.as_str(), g.desired), ("myVirtualMachineScaleSet", "westus", 4));
    assert_eq!((g.in_service(), g.healthy(), g.health()), (4, 3, Health::Degraded));
    let zones: Vec<(&str, u32, u32)> = g.zones.iter().map(|z| (z.zone.as_str(), z.in_service, z.healthy)).collect();
    assert_eq!(zones, vec![("1", 2, 2), ("2", 2, 1)]);
    assert_eq!(g.cloud, CloudKind::Azure);

    // CPU: mean of the newest points (7, 2, 0, 0, 0) = 1.8 % → 0.018.
    assert_eq!(r.metrics.len(), 1);
    assert!(r.metrics[0].cpu.is_some_and(|c| (c - 0.018).abs() < 1e-9), "{:?}", r.metrics);
    // No Front Door or Application Gateway configured: no request figure was read,
    // so none is reported (not 0 req/s, 0 ms).
    let m = &r.metrics[0];
    assert_eq!((m.rps, m.p95_ms, m.error_rate), (None, None, None), "{m:?}");

    let policy = &r.policies[0];
    assert_eq!(policy.ttl_secs, 35);
    assert_eq!(policy.endpoints[0].name, "My external endpoint");
    assert_eq!(policy.endpoints[0].target, "foobar.contoso.com");
    assert!(policy.endpoints[0].check.contains("failover ≈ 155 s"), "{}", policy.endpoints[0].check);

    // Both pages of alerts: the acknowledged one and the new one from page two.
    assert_eq!(r.alerts.len(), 3, "{:#?}", r.alerts);
    assert!(r.alerts.iter().all(|a| a.id == "66114d64-d9d9-478b-95c9-b789d6502100" && a.severity == Severity::P3));
    assert!(matches!(&r.alerts[0].state, AlertState::Acknowledged { by, .. } if by == "System"));
    assert_eq!(r.alerts[1].state, AlertState::Firing);
    assert_eq!(r.alerts[2].resource, "servicedeskwcus");
    assert_eq!(r.alerts[0].title, "cpu alert: description of the alert");

    let cost = &r.costs[0];
    assert_eq!(cost.currency, "USD");
    assert_eq!(cost.by_service[0].0, "Ict_StratAndPlan_GoldSprova_Prod_1");
    assert!((cost.month_to_date - 220.94500522462256).abs() < 1e-6, "{}", cost.month_to_date);

    let pc = r.poll_cost.expect("poll cost");
    // token endpoint excluded: vmss, VMs ×2 pages, cpu, profile, alerts ×2, cost.
    assert_eq!(pc.api_calls, 8);
    assert_eq!(pc.remaining_reads, Some(11998));

    // Every ARM request carried the issued token; the token endpoint was asked once.
    for req in peer.server.received_requests().await.unwrap_or_default() {
        if req.url.path().contains("oauth2") {
            continue;
        }
        let auth = req.headers.get("authorization").and_then(|v| v.to_str().ok());
        assert_eq!(auth, Some(format!("Bearer {TOKEN}").as_str()), "{}", req.url);
    }
    // A second poll reuses the token and the cost read (cost_interval_secs).
    let again = p.poll(now + chrono::Duration::seconds(5)).await.expect("poll 2");
    assert_eq!(again.costs, r.costs);
    assert_eq!(peer.requests("POST", &cost_path()).await.len(), 1);
    peer.server.verify().await;
}

#[tokio::test]
async fn cost_management_204_is_an_empty_month() {
    let peer = Peer::start().await;
    // Derived: the alerts fixture with no alerts and no nextLink.
    let mut empty = fixture("alertsmanagement-2019-03-01-Alerts_List.json", "200");
    empty["value"] = json!([]);
    empty.as_object_mut().expect("object").remove("nextLink");
    peer.get(&alerts_path(), "2019-03-01")
        .respond_with(ResponseTemplate::new(200).set_body_json(empty))
        .mount(&peer.server)
        .await;
    assert_eq!(fixture("costmanagement-2023-11-01-SubscriptionQueryGrouping.json", "204"), json!(null));
    mount_cost(&peer, ResponseTemplate::new(204)).await;
    let r = peer.provider(&peer.config()).poll(Utc::now()).await.expect("poll");
    assert!(r.costs.is_empty() && r.alerts.is_empty());
    assert_eq!(peer.requests("POST", &cost_path()).await.len(), 1);
}

#[tokio::test]
async fn an_arm_error_body_is_shown_in_words() {
    let peer = Peer::start().await;
    let mut cfg = peer.config();
    cfg.scale_sets = vec![vmss_id()];
    // The ARM error envelope {"error":{"code","message"}} (no example file has one).
    peer.get(&vmss_id(), "2024-11-01")
        .respond_with(ResponseTemplate::new(403).set_body_json(json!({"error": {
            "code": "AuthorizationFailed",
            "message": "The client 'ops' with object id 'x' does not have authorization to perform action 'Microsoft.Compute/virtualMachineScaleSets/read'."
        }})))
        .mount(&peer.server)
        .await;
    let err = peer.provider(&cfg).poll(Utc::now()).await.expect_err("forbidden");
    assert!(matches!(err, ProviderError::Auth(_)), "{err:?}");
    assert_eq!(
        err.to_string(),
        "authentication failed: VMSS GET: AuthorizationFailed: The client 'ops' with object id 'x' does not have \
         authorization to perform action 'Microsoft.Compute/virtualMachineScaleSets/read'."
    );
}

#[tokio::test]
async fn a_429_with_a_short_retry_after_is_waited_out() {
    let peer = Peer::start().await;
    let id = vmss_id();
    // Derived: ARM's throttling answer (429, Retry-After, error envelope), then the fixture.
    peer.get(&id, "2024-11-01")
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "1")
                .set_body_json(json!({"error": {"code": "TooManyRequests", "message": "Too many reads."}})),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&peer.server)
        .await;
    peer.get(&id, "2024-11-01")
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(fixture("compute-2024-11-01-VirtualMachineScaleSet_Get_WithUserData.json", "200")),
        )
        .mount(&peer.server)
        .await;
    let arm = peer.arm();
    let started = Instant::now();
    let v: Value = arm.get("VMSS GET", arm.url(&id, "2024-11-01", &[])).await.expect("after the wait");
    assert!(started.elapsed() >= Duration::from_millis(950), "{:?}", started.elapsed());
    assert_eq!(v["sku"]["capacity"], 4);
    assert_eq!(arm.meter.calls(), 2);
    assert_eq!(peer.requests("GET", &id).await.len(), 2);
}

#[tokio::test]
async fn a_429_with_a_long_retry_after_fails_as_throttled_at_once() {
    let peer = Peer::start().await;
    let id = vmss_id();
    peer.get(&id, "2024-11-01")
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "3600")
                .set_body_json(json!({"error": {"code": "TooManyRequests", "message": "Too many reads."}})),
        )
        .mount(&peer.server)
        .await;
    let arm = peer.arm();
    let started = Instant::now();
    let err = arm.get::<Value>("VMSS GET", arm.url(&id, "2024-11-01", &[])).await.expect_err("throttled");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(err, ProviderError::Throttled("VMSS GET: TooManyRequests: Too many reads. (retry after 3600 s)".into()));
    assert_eq!(peer.requests("GET", &id).await.len(), 1);
}

#[tokio::test]
async fn a_metric_failing_inside_a_200_is_reported_alone() {
    let peer = Peer::start().await;
    let id = format!("/subscriptions/{SUB}/resourceGroups/todking/providers/Microsoft.DocumentDb/databaseAccounts/tk");
    peer.get(&format!("{id}/providers/Microsoft.Insights/metrics"), "2024-02-01")
        .and(query_param("metricnames", "MongoRequestsCount,MongoRequests"))
        .and(query_param("aggregation", "average"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(fixture("monitor-2018-01-01-GetMetricError.json", "200")),
        )
        .expect(1)
        .mount(&peer.server)
        .await;
    let arm = peer.arm();
    let now = Utc::now();
    let v = metrics::read(&arm, &id, &["MongoRequestsCount", "MongoRequests"], "average", now).await.expect("200");
    assert_eq!(v.errors.len(), 1);
    assert_eq!(v.errors[0].0, "MongoRequestsCount");
    assert!(v.errors[0].1.starts_with("InvalidSamplingType: "), "{}", v.errors[0].1);
    assert_eq!(v.average.get("MongoRequests"), Some(&0.0));
    let req = &peer.requests("GET", &format!("{id}/providers/Microsoft.Insights/metrics")).await[0];
    let span = req.url.query_pairs().find(|(k, _)| k == "timespan").map(|(_, v)| v.into_owned()).expect("timespan");
    assert!(span.ends_with(&format!("{}Z", now.format("%Y-%m-%dT%H:%M:%S"))), "{span}");
    peer.server.verify().await;
}

fn plan(intent: Intent, changes: Vec<Change>) -> Plan {
    Plan {
        intent,
        source: SourceId::new(format!("az/{SUB}")),
        target: "t".into(),
        changes,
        based_on: None,
        time_to_effect_secs: None,
        effect: None,
    }
}

fn actor() -> Actor {
    Actor { user: "oncall".into(), host: "bastion".into(), ssh_client: None }
}

#[tokio::test]
async fn scale_patches_capacity_and_follows_the_operation() {
    let (peer, p) = scale_set_read_once().await;
    let gets_before = peer.requests("GET", &vmss_id()).await.len();

    Mock::given(method("PATCH"))
        .and(path(vmss_id()))
        .and(query_param("api-version", "2024-11-01"))
        .and(header("authorization", format!("Bearer {TOKEN}")))
        .and(body_json(json!({"sku": {"capacity": 6}})))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(fixture("compute-2024-11-01-VirtualMachineScaleSet_Update_MinimumSet_Gen.json", "200"))
                .insert_header("x-ms-request-id", "req-patch-1"),
        )
        .expect(1)
        .mount(&peer.server)
        .await;
    // Derived: the GET fixture mid-update, once; then the fixture itself ("succeeded").
    let mut updating = fixture("compute-2024-11-01-VirtualMachineScaleSet_Get_WithUserData.json", "200");
    updating["properties"]["provisioningState"] = json!("Updating");
    peer.get(&vmss_id(), "2024-11-01")
        .respond_with(ResponseTemplate::new(200).set_body_json(updating))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&peer.server)
        .await;

    let change = Change::Capacity {
        cloud: CloudKind::Azure,
        group: "myVirtualMachineScaleSet".into(),
        before: 4,
        after: 6,
        min: 0,
        max: 1000,
    };
    let intent = Intent::Scale { cloud: CloudKind::Azure, group: "myVirtualMachineScaleSet".into(), desired: 6 };
    let receipt = p.execute(&plan(intent, vec![change]), &actor(), Utc::now()).await.expect("scale");
    assert_eq!(receipt.request_id, "req-patch-1");
    // The PATCH answer had no provisioningState: re-read until "succeeded" (Updating, then succeeded).
    assert_eq!(peer.requests("GET", &vmss_id()).await.len() - gets_before, 2);
    peer.server.verify().await;
}

#[tokio::test]
async fn scale_follows_an_azure_async_operation() {
    let (peer, p) = scale_set_read_once().await;
    let op = "/subscriptions/x/providers/Microsoft.Compute/locations/westus/operations/op-1";
    Mock::given(method("PATCH"))
        .and(path(vmss_id()))
        .and(body_json(json!({"sku": {"capacity": 2}})))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(fixture("compute-2024-11-01-VirtualMachineScaleSet_Update_MinimumSet_Gen.json", "200"))
                .insert_header("azure-asyncoperation", format!("{}{op}?api-version=2024-11-01", peer.base).as_str())
                .insert_header("retry-after", "0"),
        )
        .expect(1)
        .mount(&peer.server)
        .await;
    // The async-operation status body ({"status": ...}) as the ARM async-operations
    // guide describes it; there is no example file for it.
    peer.get(op, "2024-11-01")
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"status": "InProgress"})))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&peer.server)
        .await;
    peer.get(op, "2024-11-01")
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"status": "Succeeded"})))
        .mount(&peer.server)
        .await;
    let change = Change::Capacity {
        cloud: CloudKind::Azure,
        group: "myVirtualMachineScaleSet".into(),
        before: 4,
        after: 2,
        min: 0,
        max: 1000,
    };
    let intent = Intent::Scale { cloud: CloudKind::Azure, group: "myVirtualMachineScaleSet".into(), desired: 2 };
    p.execute(&plan(intent, vec![change]), &actor(), Utc::now()).await.expect("scale");
    assert_eq!(peer.requests("GET", op).await.len(), 2);
}

#[tokio::test]
async fn failover_patches_the_endpoint() {
    let peer = Peer::start().await;
    // Derived: the profile fixture with Weighted routing and a second endpoint.
    let mut profile = fixture("trafficmanager-2022-04-01-Profile-GET-WithEndpoints.json", "200");
    profile["properties"]["trafficRoutingMethod"] = json!("Weighted");
    let mut second = profile["properties"]["endpoints"][0].clone();
    second["name"] = json!("aws-east");
    second["properties"]["target"] = json!("shop-east.elb.amazonaws.com");
    second["properties"]["weight"] = json!(3);
    profile["properties"]["endpoints"].as_array_mut().expect("array").push(second);
    mount_tm(&peer, profile).await;
    let mut empty = fixture("alertsmanagement-2019-03-01-Alerts_List.json", "200");
    empty["value"] = json!([]);
    empty.as_object_mut().expect("object").remove("nextLink");
    peer.get(&alerts_path(), "2019-03-01")
        .respond_with(ResponseTemplate::new(200).set_body_json(empty))
        .mount(&peer.server)
        .await;
    mount_cost(&peer, ResponseTemplate::new(204)).await;
    let mut cfg = peer.config();
    cfg.traffic_manager_profiles = vec![tm_id()];
    let p = peer.provider(&cfg);
    let r = p.poll(Utc::now()).await.expect("poll");
    let pol = &r.policies[0];
    assert_eq!(
        pol.endpoints.iter().map(|e| (e.weight, e.cloud)).collect::<Vec<_>>(),
        vec![(1, CloudKind::Azure), (3, CloudKind::Aws)]
    );

    let ep_path = format!("{}/externalEndpoints/My%20external%20endpoint", tm_id());
    let ep2_path = format!("{}/externalEndpoints/aws-east", tm_id());
    for (p_, body) in [
        (&ep_path, json!({"properties": {"endpointStatus": "Disabled"}})),
        (&ep2_path, json!({"properties": {"weight": 4}})),
    ] {
        Mock::given(method("PATCH"))
            .and(path(p_.clone()))
            .and(query_param("api-version", "2022-04-01"))
            .and(header("authorization", format!("Bearer {TOKEN}")))
            .and(body_json(body))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(fixture("trafficmanager-2022-04-01-Endpoint-PATCH-External-Target.json", "200")),
            )
            .expect(1)
            .mount(&peer.server)
            .await;
    }
    let w = |endpoint: &str, before, after| Change::Weight {
        policy: pol.name.clone(),
        cloud: CloudKind::Azure,
        endpoint: endpoint.into(),
        before,
        after,
        share_before: 0.0,
        share_after: 0.0,
    };
    let intent = Intent::Drain { cloud: CloudKind::Azure };
    p.execute(&plan(intent, vec![w("My external endpoint", 1, 0), w("aws-east", 3, 4)]), &actor(), Utc::now())
        .await
        .expect("failover");
    // The raise went first, so traffic always had somewhere to go.
    let all = peer.server.received_requests().await.unwrap_or_default();
    let patches: Vec<String> =
        all.iter().filter(|r| r.method.as_str() == "PATCH").map(|r| r.url.path().to_string()).collect();
    assert_eq!(patches, vec![ep2_path.clone(), ep_path.clone()]);

    // A plan made on stale weights is refused without a request.
    let stale_plan = plan(Intent::Drain { cloud: CloudKind::Aws }, vec![w("aws-east", 7, 0)]);
    let stale = p.execute(&stale_plan, &actor(), Utc::now()).await.expect_err("stale");
    assert!(stale.to_string().contains("re-plan"), "{stale}");
    peer.server.verify().await;
}

#[tokio::test]
async fn ack_changes_the_alert_state_with_the_comment() {
    let peer = Peer::start().await;
    mount_alerts(&peer).await;
    mount_cost(&peer, ResponseTemplate::new(204)).await;
    let p = peer.provider(&peer.config());
    p.poll(Utc::now()).await.expect("poll");
    let id = "66114d64-d9d9-478b-95c9-b789d6502100";
    Mock::given(method("POST"))
        .and(path(format!("{}/{id}/changestate", alerts_path())))
        .and(query_param("api-version", "2019-03-01"))
        .and(query_param("newState", "Acknowledged"))
        .and(header("authorization", format!("Bearer {TOKEN}")))
        .and(body_json(json!({"comments": "rolling back (by oncall@bastion via opsdeck)"})))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(fixture("alertsmanagement-2019-03-01-Alerts_ChangeState.json", "200")),
        )
        .expect(1)
        .mount(&peer.server)
        .await;
    let change = Change::AlertState {
        id: id.into(),
        title: "cpu alert".into(),
        before: "firing".into(),
        after: opsdeck::model::AlertMark::Acked,
        comment: "rolling back".into(),
        minutes: None,
    };
    let intent = Intent::Ack { alert_id: id.into(), comment: "rolling back".into(), minutes: None };
    p.execute(&plan(intent, vec![change.clone()]), &actor(), Utc::now()).await.expect("ack");
    // An alert that was not in the last read is refused.
    let Change::AlertState { title, before, after, comment, minutes, .. } = change else { unreachable!() };
    let other = Change::AlertState { id: "nope".into(), title, before, after, comment, minutes };
    let intent = Intent::Ack { alert_id: "nope".into(), comment: "x".into(), minutes: None };
    assert!(p.execute(&plan(intent, vec![other]), &actor(), Utc::now()).await.is_err());
    peer.server.verify().await;
}

#[tokio::test]
async fn a_next_link_off_the_arm_endpoint_is_not_followed() {
    let peer = Peer::start().await;
    // The fixture as published: its nextLink points at management.azure.com.
    peer.get(&alerts_path(), "2019-03-01")
        .respond_with(
            ResponseTemplate::new(200).set_body_json(fixture("alertsmanagement-2019-03-01-Alerts_List.json", "200")),
        )
        .mount(&peer.server)
        .await;
    let err = peer.provider(&peer.config()).poll(Utc::now()).await.expect_err("foreign link");
    assert!(err.to_string().contains("refusing to follow a link off the ARM endpoint: management.azure.com"), "{err}");
}

#[tokio::test]
async fn cosmos_replication_latency_is_a_figure_per_region_pair() {
    let peer = Peer::start().await;
    let account = format!(
        "/subscriptions/{SUB}/resourceGroups/rg-data/providers/Microsoft.DocumentDB/databaseAccounts/shop-cosmos"
    );
    // GetMetric's shape: its BlobCount series renamed, split by region pair.
    let mut m = fixture("monitor-2024-02-01-GetMetric.json", "200");
    m["value"].as_array_mut().expect("value").truncate(1);
    m["value"][0]["name"]["value"] = json!("ReplicationLatency");
    let pairs = [
        ("West Europe", "East US 2", 800.0),
        ("East US 2", "West Europe", 41_000.0),
        ("Japan East", "西日本", 2_500.0),
    ];
    let template = m["value"][0]["timeseries"][0].clone();
    let series: Vec<Value> = pairs
        .iter()
        .map(|(from, to, ms)| {
            let mut s = template.clone();
            s["metadatavalues"] = json!([
                {"name": {"value": "sourceregion", "localizedValue": "sourceregion"}, "value": from},
                {"name": {"value": "targetregion", "localizedValue": "targetregion"}, "value": to},
            ]);
            // The newest point is the one read; older ones are higher, so a slip shows.
            let n = s["data"].as_array().expect("data").len();
            for (i, p) in s["data"].as_array_mut().expect("data").iter_mut().enumerate() {
                p["maximum"] = json!(if i + 1 == n { *ms } else { ms * 10.0 });
            }
            s
        })
        .collect();
    m["value"][0]["timeseries"] = json!(series);
    peer.get(&format!("{account}/providers/Microsoft.Insights/metrics"), "2024-02-01")
        .and(query_param("metricnames", "ReplicationLatency"))
        .and(query_param("aggregation", "maximum"))
        .and(query_param("$filter", "SourceRegion eq '*' and TargetRegion eq '*'"))
        .and(query_param("top", "1000"))
        .respond_with(ResponseTemplate::new(200).set_body_json(m))
        .expect(1)
        .mount(&peer.server)
        .await;
    let mut empty = fixture("alertsmanagement-2019-03-01-Alerts_List.json", "200");
    empty["value"] = json!([]);
    empty.as_object_mut().expect("object").remove("nextLink");
    peer.get(&alerts_path(), "2019-03-01")
        .respond_with(ResponseTemplate::new(200).set_body_json(empty))
        .mount(&peer.server)
        .await;
    mount_cost(&peer, ResponseTemplate::new(204)).await;
    let mut cfg = peer.config();
    cfg.cosmos_accounts = vec![account];
    let r = peer.provider(&cfg).poll(Utc::now()).await.expect("poll");
    let got: Vec<(&str, f64, f64)> = r.replication.iter().map(|x| (x.name.as_str(), x.value, x.target)).collect();
    assert_eq!(
        got,
        [
            ("shop-cosmos (East US 2 → West Europe)", 41.0, 30.0),
            ("shop-cosmos (Japan East → 西日本)", 2.5, 30.0),
            ("shop-cosmos (West Europe → East US 2)", 0.8, 30.0),
        ]
    );
    assert!(r.failed.is_empty(), "{:?}", r.failed);
}

#[tokio::test]
async fn front_door_figures_come_from_its_metrics() {
    let peer = Peer::start().await;
    let fd = format!("/subscriptions/{SUB}/resourceGroups/rg-edge/providers/Microsoft.Cdn/profiles/shop-fd");
    // Derived from GetMetric: BlobCount renamed Percentage5XX, BlobCapacity renamed
    // TotalLatency, and a RequestCount series made from BlobCount's with its
    // `average` values given as `total` (the MetricValue field for sums).
    let mut m = fixture("monitor-2024-02-01-GetMetric.json", "200");
    let mut requests = m["value"][0].clone();
    m["value"][0]["name"]["value"] = json!("Percentage5XX");
    m["value"][1]["name"]["value"] = json!("TotalLatency");
    requests["name"]["value"] = json!("RequestCount");
    for ts in requests["timeseries"].as_array_mut().expect("series") {
        for point in ts["data"].as_array_mut().expect("data") {
            let avg = point["average"].take();
            point["total"] = avg;
        }
    }
    m["value"].as_array_mut().expect("value").push(requests);
    peer.get(&format!("{fd}/providers/Microsoft.Insights/metrics"), "2024-02-01")
        .and(query_param("metricnames", "RequestCount,TotalLatency,Percentage5XX"))
        .and(query_param("aggregation", "total,average"))
        .respond_with(ResponseTemplate::new(200).set_body_json(m))
        .expect(1)
        .mount(&peer.server)
        .await;
    let mut empty = fixture("alertsmanagement-2019-03-01-Alerts_List.json", "200");
    empty["value"] = json!([]);
    empty.as_object_mut().expect("object").remove("nextLink");
    peer.get(&alerts_path(), "2019-03-01")
        .respond_with(ResponseTemplate::new(200).set_body_json(empty))
        .mount(&peer.server)
        .await;
    mount_cost(&peer, ResponseTemplate::new(204)).await;
    let mut cfg = peer.config();
    cfg.front_doors = vec![fd];
    let r = peer.provider(&cfg).poll(Utc::now()).await.expect("poll");
    let f = &r.metrics[0];
    assert_eq!(f.region, "westus2");
    // RequestCount: newest totals 7 + 2 + 0 + 0 + 0 = 9 per minute.
    let near = |v: Option<f64>, want: f64, eps: f64| v.is_some_and(|v| (v - want).abs() < eps);
    assert!(near(f.rps, 9.0 / 60.0, 1e-9), "{f:?}");
    // TotalLatency: mean of the newest BlobCapacity points (621492, 4733, 0, 0, 0).
    assert!(near(f.p95_ms, 626225.0 / 5.0, 1e-6), "{f:?}");
    // Percentage5XX 1.8 % → 0.018.
    assert!(near(f.error_rate, 0.018, 1e-9), "{f:?}");
    // No scale set configured: no CPU figure.
    assert_eq!(f.cpu, None, "{f:?}");
    peer.server.verify().await;
}

#[tokio::test]
async fn doctor_gets_a_token_and_probes_each_api() {
    let peer = Peer::start().await;
    let mut empty = fixture("alertsmanagement-2019-03-01-Alerts_List.json", "200");
    empty["value"] = json!([]);
    empty.as_object_mut().expect("object").remove("nextLink");
    peer.get(&alerts_path(), "2019-03-01")
        .and(query_param("pageCount", "1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(empty))
        .expect(1)
        .mount(&peer.server)
        .await;
    mount_vmss(&peer).await;
    // metricDefinitions is only checked for permission; its body is not read.
    peer.get(&format!("{}/providers/Microsoft.Insights/metricDefinitions", vmss_id()), "2018-01-01")
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"value": []})))
        .expect(1)
        .mount(&peer.server)
        .await;
    mount_cost(&peer, ResponseTemplate::new(200).set_body_json(cost_by_service())).await;
    let mut cfg = peer.config();
    cfg.scale_sets = vec![vmss_id()];
    let checks = peer.provider(&cfg).preflight(Utc::now()).await;
    let lines: Vec<String> = checks.iter().map(|c| format!("{}: {:?}", c.what, c.result)).collect();
    assert_eq!(checks.len(), 6, "{lines:#?}");
    assert!(lines.iter().any(|l| l.starts_with("VMSS myVirtualMachineScaleSet VMs: Ok(")), "{lines:#?}");
    assert!(checks.iter().all(|c| c.result.is_ok()), "{lines:#?}");
    assert!(checks[0].what.starts_with("token for https://127.0.0.1:"), "{lines:#?}");
    peer.server.verify().await;
}

#[tokio::test]
async fn a_refused_token_is_an_auth_error_in_words() {
    let peer = Peer::bare().await;
    // An OAuth 2.0 error response (RFC 6749 §5.2) with Entra ID's error_codes.
    Mock::given(method("POST"))
        .and(path(format!("/{TENANT}/oauth2/v2.0/token")))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "error": "invalid_client",
            "error_description": "AADSTS7000215: Invalid client secret provided.",
            "error_codes": [7000215]
        })))
        .mount(&peer.server)
        .await;
    let p = peer.provider(&peer.config());
    let err = p.poll(Utc::now()).await.expect_err("no token");
    assert!(matches!(err, ProviderError::Auth(_)), "{err:?}");
    assert!(err.to_string().ends_with("AADSTS7000215: Invalid client secret provided."), "{err}");
    assert!(!err.to_string().contains('\n'), "one line: {err}");
    assert!(!err.to_string().contains("s3cr3t"), "{err}");
    let checks = p.preflight(Utc::now()).await;
    assert_eq!(checks.len(), 1);
    let why = checks[0].result.as_ref().expect_err("token refused");
    assert!(why.contains("ClientSecretCredential authentication failed. AADSTS7000215"), "{why}");
    // No ARM request was made without a token.
    let all = peer.server.received_requests().await.unwrap_or_default();
    assert!(all.iter().all(|r| r.url.path().contains("oauth2")));
}

#[test]
fn the_logs_pane_shows_the_remaining_read_budget() {
    use opsdeck::app::{App, Msg, Pane};
    use opsdeck::model::{Fleet, Freshness, PollCost, SourceStatus};
    use opsdeck::theme::{ColorMode, Theme};
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    let now = opsdeck::clock::reference_instant();
    let mut status = SourceStatus::new(SourceId::new(format!("az/{SUB}")), "azure");
    status.freshness = Freshness::Fresh;
    status.last_ok = Some(now);
    status.interval_secs = 30;
    status.poll_cost = Some(PollCost { api_calls: 7, remaining_reads: Some(11998), ..PollCost::default() });
    let fleet = Fleet { sources: vec![status], ..Fleet::default() };
    let mut app = App::new(None);
    app.update(Msg::Resize { width: 160, height: 30 }, &fleet);
    app.update(Msg::FleetChanged, &fleet);
    app.pane = Pane::Logs;
    let theme = Theme::load("default", None, ColorMode::TrueColor).expect("theme");
    let mut term = Terminal::new(TestBackend::new(160, 30)).expect("terminal");
    term.draw(|f| opsdeck::ui::draw(f, &opsdeck::ui::View { app: &app, fleet: &fleet, theme: &theme, now }))
        .expect("draw");
    let screen = term.backend().to_string();
    let row = screen.lines().find(|l| l.contains("az/3b540246")).expect("source row");
    assert!(row.contains("reads left 11998"), "{row}");
    assert!(row.contains(" 7 "), "{row}");
}

#[tokio::test]
async fn scale_follows_a_location_header_until_it_stops_answering_202() {
    let (peer, p) = scale_set_read_once().await;
    let op = "/subscriptions/x/providers/Microsoft.Compute/locations/westus/operations/op-2";
    // ARM's 202 + Location pattern (no example file has one): poll until not 202.
    Mock::given(method("PATCH"))
        .and(path(vmss_id()))
        .and(body_json(json!({"sku": {"capacity": 5}})))
        .respond_with(
            ResponseTemplate::new(202)
                .insert_header("location", format!("{}{op}?api-version=2024-11-01", peer.base).as_str())
                .insert_header("retry-after", "0"),
        )
        .expect(1)
        .mount(&peer.server)
        .await;
    peer.get(op, "2024-11-01")
        .respond_with(ResponseTemplate::new(202).insert_header("retry-after", "0"))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&peer.server)
        .await;
    peer.get(op, "2024-11-01")
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(fixture("compute-2024-11-01-VirtualMachineScaleSet_Get_WithUserData.json", "200")),
        )
        .mount(&peer.server)
        .await;
    let change = Change::Capacity {
        cloud: CloudKind::Azure,
        group: "myVirtualMachineScaleSet".into(),
        before: 4,
        after: 5,
        min: 0,
        max: 1000,
    };
    let intent = Intent::Scale { cloud: CloudKind::Azure, group: "myVirtualMachineScaleSet".into(), desired: 5 };
    p.execute(&plan(intent, vec![change]), &actor(), Utc::now()).await.expect("scale");
    assert_eq!(peer.requests("GET", op).await.len(), 3);
    peer.server.verify().await;
}

// ---- seeded estates ---------------------------------------------------------

use crate::azure_estate;

use azure_estate::{CloudHealth, CostView, Estate, GroupView, HealthTruth, SubTruth};

/// The snapshot JSON's health, in the truth's terms: every group's health and
/// idle reason, every cloud's and region's health, the status. A cloud listed
/// for its cost alone (no group, no DNS answer) has nothing to judge by: it must
/// be UNKNOWN with no region, and is left out.
fn seen_health(snap: &Value, exit_code: i32, ctx: &str) -> HealthTruth {
    let text = |v: &Value| v.as_str().unwrap_or_else(|| panic!("{ctx}: not text: {v}")).to_string();
    let label = |v: &Value| -> &'static str {
        match v.as_str() {
            Some("IDLE") => "IDLE",
            Some("OK") => "OK",
            Some("DEGRADED") => "DEGRADED",
            Some("DOWN") => "DOWN",
            Some("UNKNOWN") => "UNKNOWN",
            other => panic!("{ctx}: health {other:?}"),
        }
    };
    let groups = snap["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .map(|g| {
            let idle = match g["idle"].as_str() {
                None => None,
                Some("idle") => Some("idle"),
                Some("inactive") => Some("inactive"),
                Some(other) => panic!("{ctx}: idle {other}"),
            };
            (text(&g["name"]), (label(&g["health"]), idle))
        })
        .collect();
    let mut clouds = std::collections::BTreeMap::new();
    for c in snap["clouds"].as_array().expect("clouds") {
        let regions: std::collections::BTreeMap<String, &'static str> = c["regions"]
            .as_array()
            .expect("regions")
            .iter()
            .map(|r| (text(&r["region"]), label(&r["health"])))
            .collect();
        let health = label(&c["health"]);
        clouds.insert(text(&c["cloud"]), CloudHealth { health, regions });
    }
    let status = match snap["status"].as_str() {
        Some("OK") => "OK",
        Some("WARNING") => "WARNING",
        Some("CRITICAL") => "CRITICAL",
        Some("UNKNOWN") => "UNKNOWN",
        other => panic!("{ctx}: status {other:?}"),
    };
    HealthTruth { groups, clouds, status, exit_code }
}

/// `seen` (from the snapshot) against the generated truth; a cloud the snapshot
/// lists for its cost alone must say UNKNOWN with no region.
fn assert_health(mut seen: HealthTruth, want: &HealthTruth, ctx: &str) {
    let extra: Vec<String> = seen.clouds.keys().filter(|c| !want.clouds.contains_key(*c)).cloned().collect();
    for c in extra {
        let h = seen.clouds.remove(&c).expect("listed");
        assert_eq!((c.as_str(), h.health, h.regions.len()), ("azure", "UNKNOWN", 0), "{ctx}: a cloud of cost alone");
    }
    assert_eq!(seen.groups, want.groups, "{ctx}: group health and idle");
    assert_eq!(seen.clouds, want.clouds, "{ctx}: cloud and region health");
    assert_eq!((seen.status, seen.exit_code), (want.status, want.exit_code), "{ctx}: status");
}

/// Seeds read through the library's poll (every API, every page).
const LIBRARY_SEEDS: u64 = 60;

fn estate_config(estate: &Estate, base: &str) -> AzureConfig {
    let mut c = AzureConfig::new(estate.subs.iter().map(|s| s.id.clone()).collect());
    c.arm_endpoint = base.to_string();
    c.authority_host = Some(base.to_string());
    c.scale_sets = estate.subs.iter().flat_map(|s| &s.sets).map(|s| s.id.clone()).collect();
    c.traffic_manager_profiles = estate.subs.iter().flat_map(|s| &s.profiles).map(|p| p.id.clone()).collect();
    c
}

fn seen_groups(r: &opsdeck::model::SourceReport) -> std::collections::BTreeMap<String, GroupView> {
    r.groups
        .iter()
        .map(|g| {
            let zones = g.zones.iter().map(|z| (z.zone.clone(), (z.in_service, z.healthy))).collect();
            (g.name.clone(), GroupView { region: g.region.clone(), desired: g.desired, zones })
        })
        .collect()
}

fn seen_alerts(r: &opsdeck::model::SourceReport) -> std::collections::BTreeMap<(String, String), usize> {
    let mut out = std::collections::BTreeMap::new();
    for a in r.alerts.iter() {
        *out.entry((a.severity.label().to_string(), a.state.label().to_string())).or_insert(0) += 1;
    }
    out
}

fn seen_costs(r: &opsdeck::model::SourceReport) -> std::collections::BTreeMap<String, CostView> {
    r.costs
        .iter()
        .map(|c| {
            // Largest first, as every cost reader hands them over.
            assert!(c.by_service.windows(2).all(|w| w[0].1 >= w[1].1), "{c:?}");
            let view = CostView { month_to_date: c.month_to_date, by_service: c.by_service.iter().cloned().collect() };
            (c.currency.clone(), view)
        })
        .collect()
}

fn seen_policies(r: &opsdeck::model::SourceReport) -> std::collections::BTreeMap<String, Vec<(String, u32)>> {
    r.policies
        .iter()
        .map(|p| (p.name.clone(), p.endpoints.iter().map(|e| (e.name.clone(), e.weight)).collect()))
        .collect()
}

/// ARM calls one poll of `sub` makes: per set its GET, every VM page and its CPU
/// metric; each profile; every alerts page; every cost page (204: one).
fn expected_calls(sub: &SubTruth) -> u32 {
    let pages = |n: usize, size: usize| n.div_ceil(size).max(1) as u32;
    let sets: u32 = sub.sets.iter().map(|s| 2 + pages(s.vms.len(), s.page)).sum();
    let cost = sub.cost_rows.as_ref().map_or(1, |rows| pages(rows.len(), sub.cost_page));
    sets + sub.profiles.len() as u32 + pages(sub.alerts.len(), sub.alerts_page) + cost
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_estates_read_as_generated() {
    let (mut sets, mut vms, mut zero_sets, mut flexible, mut alerts, mut currencies) = (0, 0, 0, 0, 0, 0);
    let mut statuses: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    let mut idle = 0;
    for seed in 0..LIBRARY_SEEDS {
        let estate = Estate::generate(seed);
        let server = azure_estate::serve(&estate).await;
        let base = server.uri().replace("http://", "https://");
        let cfg = estate_config(&estate, &base);
        let cred = creds::client_secret(
            azure_estate::TENANT,
            azure_estate::CLIENT,
            &Secret::new(azure_estate::SECRET),
            &cfg,
            Some(support::azure_http::plain_http()),
        )
        .expect("credential");
        let opts = AzureOptions {
            auth: AzureAuth::Given(cred),
            transport: Some(support::azure_http::plain_http()),
            lro: LroLimits { timeout: Duration::from_secs(10), interval: Duration::from_millis(20) },
        };
        let providers = azure::providers("az", &cfg, opts).expect("providers");
        assert_eq!(providers.len(), estate.subs.len());
        for (p, sub) in providers.iter().zip(&estate.subs) {
            let r = p.poll(Utc::now()).await.unwrap_or_else(|e| panic!("seed {seed}: poll {}: {e}", sub.id));
            let ctx = format!("seed {seed}, subscription {}", sub.id);
            assert_eq!(seen_groups(&r), Estate::expected_groups(sub), "{ctx}: groups");
            assert_eq!(seen_alerts(&r), Estate::expected_alerts(sub), "{ctx}: alerts");
            assert_eq!(seen_costs(&r), Estate::expected_costs(sub), "{ctx}: costs");
            assert_eq!(seen_policies(&r), Estate::expected_policies(sub), "{ctx}: policies");
            assert!(r.groups.iter().all(|g| g.source == *p.id()), "{ctx}");
            let pc = r.poll_cost.expect("poll cost");
            assert_eq!(pc.api_calls, expected_calls(sub), "{ctx}: ARM calls");
            sets += sub.sets.len();
            zero_sets += sub.sets.iter().filter(|s| s.capacity == 0).count();
            flexible += sub.sets.iter().filter(|s| s.flexible).count();
            vms += sub.sets.iter().map(|s| s.vms.len()).sum::<usize>();
            alerts += sub.alerts.len();
            currencies += Estate::expected_costs(sub).len();
        }
        // The whole estate through the collector and the snapshot JSON: each group's
        // health and idle reason, each cloud's and region's health, the status.
        let sources: Vec<opsdeck::collector::SourceSchedule> = providers
            .iter()
            .map(|p| opsdeck::collector::SourceSchedule {
                provider: p.clone(),
                interval: Duration::from_secs(60),
                timeout: Duration::from_secs(20),
            })
            .collect();
        let now = Utc::now();
        let fleet = opsdeck::collector::collect_once(&sources, now, false).await;
        let snap = opsdeck::snapshot::to_json(&fleet, now);
        let want = estate.expected_health();
        let code = match want.status {
            "OK" => 0,
            "WARNING" => 1,
            "CRITICAL" => 2,
            _ => 3,
        };
        assert_health(seen_health(&snap, code, &format!("seed {seed}")), &want, &format!("seed {seed}: {snap:#}"));
        statuses.entry(want.status).and_modify(|n| *n += 1).or_insert(1);
        idle += want.groups.values().filter(|(_, i)| i.is_some()).count();
        // The set-level instance view has no power states: never the source of counts.
        let all = server.received_requests().await.unwrap_or_default();
        assert!(all.iter().all(|r| !r.url.path().ends_with("/instanceView")), "seed {seed}");
    }
    eprintln!(
        "{LIBRARY_SEEDS} seeds: {sets} scale sets ({zero_sets} at capacity 0, {flexible} Flexible), {vms} VMs, \
         {alerts} alerts, {currencies} currency totals"
    );
    // The generator covered what it is for.
    assert!(
        sets > 60 && zero_sets > 5 && flexible > 10 && vms > 200 && alerts > 200 && currencies > 80,
        "{sets} {zero_sets} {flexible} {vms} {alerts} {currencies}"
    );
    eprintln!("{LIBRARY_SEEDS} seeds: statuses {statuses:?}, {idle} idle scale sets");
    assert!(idle > 3 && statuses.len() >= 3, "the estates vary in health: {statuses:?}, {idle} idle");
}

use crate::tls_front;

/// Seeds read by the built binary (`opsdeck snapshot --format json`) over https.
const BINARY_SEEDS: std::ops::Range<u64> = 1000..1040;

/// `opsdeck snapshot --format json` on `estate`, served over TLS; (exit code, JSON).
async fn snapshot_of(estate: &Estate) -> (Option<i32>, Value) {
    let server = azure_estate::serve(estate).await;
    let front = tls_front::start(*server.address()).await;
    let base = format!("https://{front}");
    let home = tempfile::tempdir().expect("tempdir");
    let config = home.path().join("opsdeck.toml");
    std::fs::write(&config, estate.config_toml(&base, "az")).expect("config");
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_opsdeck"));
    cmd.arg("--config").arg(&config).args(["snapshot", "--format", "json"]);
    cmd.env("XDG_CONFIG_HOME", home.path())
        .env("XDG_STATE_HOME", home.path().join("state"))
        .env("SSL_CERT_FILE", tls_front::ca_file())
        .env("AZURE_TENANT_ID", azure_estate::TENANT)
        .env("AZURE_CLIENT_ID", azure_estate::CLIENT)
        .env("AZURE_CLIENT_SECRET", azure_estate::SECRET)
        .env_remove("SSL_CERT_DIR")
        .env_remove("DBUS_SESSION_BUS_ADDRESS");
    let out = tokio::task::spawn_blocking(move || cmd.output()).await.expect("join").expect("run opsdeck");
    let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "seed {}: not JSON ({e}): {}\n{}",
            estate.seed,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code(), json)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_snapshot_equals_generated_estates() {
    use std::collections::BTreeMap;
    let mut statuses: BTreeMap<&str, usize> = BTreeMap::new();
    let (mut priced, mut priced_unknown) = (0, 0);
    for seed in BINARY_SEEDS {
        let estate = Estate::generate(seed);
        let (code, snap) = snapshot_of(&estate).await;
        let ctx = format!("seed {seed}");
        // Every subscription is its own source, and each was read.
        let sources: Vec<(String, String)> = snap["sources"]
            .as_array()
            .expect("sources")
            .iter()
            .map(|s| (s["id"].as_str().unwrap_or("").to_string(), s["state"].as_str().unwrap_or("").to_string()))
            .collect();
        let want: Vec<(String, String)> =
            estate.subs.iter().map(|s| (format!("az/{}", s.id), "fresh".into())).collect();
        assert_eq!(sources, want, "{ctx}: {snap:#}");

        let groups: BTreeMap<String, GroupView> = snap["groups"]
            .as_array()
            .expect("groups")
            .iter()
            .map(|g| {
                assert_eq!(g["cloud"], "azure", "{ctx}");
                let zones = g["zones"]
                    .as_array()
                    .expect("zones")
                    .iter()
                    .map(|z| {
                        let n = |k: &str| z[k].as_u64().expect("count") as u32;
                        (z["zone"].as_str().expect("zone").to_string(), (n("in_service"), n("healthy")))
                    })
                    .collect();
                let view = GroupView {
                    region: g["region"].as_str().expect("region").to_string(),
                    desired: g["desired"].as_u64().expect("desired") as u32,
                    zones,
                };
                (g["name"].as_str().expect("name").to_string(), view)
            })
            .collect();
        let want: BTreeMap<String, GroupView> = estate.subs.iter().flat_map(Estate::expected_groups).collect();
        assert_eq!(groups, want, "{ctx}: groups");

        // VM prices per subscription, region and size, from the retail stand-in.
        type Prices = BTreeMap<(String, String, String), (Option<f64>, Option<f64>, Vec<String>)>;
        let prices: Prices = snap["spot_prices"]
            .as_array()
            .expect("spot_prices")
            .iter()
            .map(|p| {
                assert_eq!((p["cloud"].as_str(), p["currency"].as_str()), (Some("azure"), Some("USD")), "{ctx}");
                let s = |k: &str| p[k].as_str().expect("price field").to_string();
                let groups =
                    p["groups"].as_array().expect("groups").iter().map(|g| g.as_str().unwrap_or("").to_string());
                (
                    (s("source"), s("region"), s("instance_type")),
                    (p["on_demand_hourly"].as_f64(), p["spot_hourly"].as_f64(), groups.collect()),
                )
            })
            .collect();
        let want: Prices = estate
            .subs
            .iter()
            .flat_map(|sub| {
                estate
                    .expected_prices(sub)
                    .into_iter()
                    .map(move |((region, size), v)| ((format!("az/{}", sub.id), region, size), v))
            })
            .collect();
        assert_eq!(prices, want, "{ctx}: prices");
        priced += want.len();
        priced_unknown += want.values().filter(|v| v.0.is_none() || v.1.is_none()).count();

        // Alert counts per source, severity and state.
        let mut alerts: BTreeMap<(String, String, String), usize> = BTreeMap::new();
        for a in snap["alerts"].as_array().expect("alerts") {
            let key = |k: &str| a[k].as_str().expect("alert field").to_string();
            *alerts.entry((key("source"), key("severity"), key("state"))).or_insert(0) += 1;
        }
        let want: BTreeMap<(String, String, String), usize> = estate
            .subs
            .iter()
            .flat_map(|s| {
                Estate::expected_alerts(s).into_iter().map(move |((sev, st), n)| ((format!("az/{}", s.id), sev, st), n))
            })
            .collect();
        assert_eq!(alerts, want, "{ctx}: alerts");

        // Cost: one entry per subscription and currency, never summed across currencies.
        let mut costs: Vec<(String, String)> = snap["costs"]
            .as_array()
            .expect("costs")
            .iter()
            .map(|c| {
                let by: BTreeMap<String, f64> = c["by_service"]
                    .as_array()
                    .expect("by_service")
                    .iter()
                    .map(|s| {
                        (s["service"].as_str().expect("service").to_string(), s["amount"].as_f64().expect("amount"))
                    })
                    .collect();
                let view = CostView { month_to_date: c["month_to_date"].as_f64().expect("mtd"), by_service: by };
                (c["currency"].as_str().expect("currency").to_string(), format!("{view:?}"))
            })
            .collect();
        let mut want: Vec<(String, String)> = estate
            .subs
            .iter()
            .flat_map(|s| Estate::expected_costs(s).into_iter().map(|(cur, v)| (cur, format!("{v:?}"))))
            .collect();
        costs.sort();
        want.sort();
        assert_eq!(costs, want, "{ctx}: costs");

        let policies: BTreeMap<String, Vec<(String, u32)>> = snap["traffic_policies"]
            .as_array()
            .expect("policies")
            .iter()
            .map(|p| {
                let eps = p["endpoints"]
                    .as_array()
                    .expect("endpoints")
                    .iter()
                    .map(|e| {
                        (e["name"].as_str().expect("name").to_string(), e["weight"].as_u64().expect("weight") as u32)
                    })
                    .collect();
                (p["name"].as_str().expect("name").to_string(), eps)
            })
            .collect();
        let want: BTreeMap<String, Vec<(String, u32)>> =
            estate.subs.iter().flat_map(Estate::expected_policies).collect();
        assert_eq!(policies, want, "{ctx}: policies");

        // Only firing alerts are reasons: resolved, closed and acknowledged ones are not.
        let firing = |sevs: &[&str]| {
            estate
                .subs
                .iter()
                .flat_map(|s| &s.alerts)
                .filter(|a| a.state_label() == "firing" && sevs.contains(&a.severity_label()))
                .count()
        };
        let reasons: Vec<&str> =
            snap["reasons"].as_array().expect("reasons").iter().filter_map(|r| r.as_str()).collect();
        let count = |p: &[&str]| reasons.iter().filter(|r| p.iter().any(|p| r.starts_with(p))).count();
        assert_eq!(count(&["P0 "]), firing(&["P0"]), "{ctx}: {reasons:#?}");
        assert_eq!(count(&["P1 ", "P2 "]), firing(&["P1", "P2"]), "{ctx}: {reasons:#?}");
        if firing(&["P0"]) > 0 {
            assert_eq!((code, snap["status"].as_str()), (Some(2), Some("CRITICAL")), "{ctx}");
        }
        // Health of every group, region and cloud, the status and the exit code.
        let want = estate.expected_health();
        assert_health(seen_health(&snap, code.expect("an exit code"), &ctx), &want, &format!("{ctx}: {snap:#}"));
        statuses.entry(want.status).and_modify(|n| *n += 1).or_insert(1);
    }
    eprintln!("binary seeds: statuses {statuses:?}; {priced} sizes priced, {priced_unknown} with a price unknown");
    assert!(statuses.len() >= 3, "the estates vary in health: {statuses:?}");
    assert!(priced >= 40 && priced_unknown >= 5, "the prices vary: {priced} priced, {priced_unknown} unknown");
}

/// Alerts Management's own history for the incident timeline, over generated
/// estates: every alert that started in the window at its `startDateTime`,
/// every acknowledgement in it by whom, every resolution at
/// `monitorConditionResolvedDateTime` (or a close at its last change, by whom);
/// nothing outside the window; alerts across pages and subscriptions, non-ASCII rules.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alert_history_is_the_generated_window() {
    use opsdeck::model::EventKind;
    use std::collections::BTreeSet;
    let since = azure_estate::alerts_base() + chrono::Duration::minutes(45);
    let until = azure_estate::alerts_base() + chrono::Duration::minutes(150);
    let within = |t: chrono::DateTime<Utc>| t >= since && t <= until;
    let (mut fired, mut acked, mut ended, mut outside) = (0, 0, 0, 0);
    for seed in 0..LIBRARY_SEEDS {
        let estate = Estate::generate(seed);
        let server = azure_estate::serve(&estate).await;
        let base = server.uri().replace("http://", "https://");
        let cfg = estate_config(&estate, &base);
        let cred = creds::client_secret(
            azure_estate::TENANT,
            azure_estate::CLIENT,
            &Secret::new(azure_estate::SECRET),
            &cfg,
            Some(support::azure_http::plain_http()),
        )
        .expect("credential");
        let opts = AzureOptions {
            auth: AzureAuth::Given(cred),
            transport: Some(support::azure_http::plain_http()),
            lro: LroLimits { timeout: Duration::from_secs(10), interval: Duration::from_millis(20) },
        };
        let providers = azure::providers("az", &cfg, opts).expect("providers");
        for (p, sub) in providers.iter().zip(&estate.subs) {
            let ctx = format!("seed {seed}, subscription {}", sub.id);
            let got = p.alert_history(since, until).await.unwrap_or_else(|e| panic!("{ctx}: {e}")).expect("kept");
            let seen = |kind: EventKind| -> BTreeSet<(String, i64, Option<String>)> {
                got.iter()
                    .filter(|e| e.kind == kind)
                    .map(|e| {
                        let guid = e.key.split(':').find(|part| part.len() == 36).unwrap_or_default().to_string();
                        (guid, e.at.timestamp(), e.who.clone())
                    })
                    .collect()
            };
            let by = |a: &azure_estate::AlertTruth| a.by.clone();
            let want_fired: BTreeSet<_> = sub
                .alerts
                .iter()
                .filter(|a| within(a.started))
                .map(|a| (a.guid.clone(), a.started.timestamp(), None))
                .collect();
            let want_acked: BTreeSet<_> = sub
                .alerts
                .iter()
                .filter(|a| a.alert_state == "Acknowledged" && within(a.modified))
                .map(|a| (a.guid.clone(), a.modified.timestamp(), by(a)))
                .collect();
            let want_ended: BTreeSet<_> = sub
                .alerts
                .iter()
                .filter_map(|a| match a.resolved_at {
                    Some(at) => Some((a.guid.clone(), at, None)),
                    None if a.alert_state == "Closed" => Some((a.guid.clone(), a.modified, by(a))),
                    None => None,
                })
                .filter(|(_, at, _)| within(*at))
                .map(|(g, at, who)| (g, at.timestamp(), who))
                .collect();
            assert_eq!(seen(EventKind::AlertFiring), want_fired, "{ctx}: fired");
            assert_eq!(seen(EventKind::Ack), want_acked, "{ctx}: acked");
            assert_eq!(seen(EventKind::AlertResolved), want_ended, "{ctx}: resolved or closed");
            assert_eq!(got.len(), want_fired.len() + want_acked.len() + want_ended.len(), "{ctx}: nothing else");
            fired += want_fired.len();
            acked += want_acked.len();
            ended += want_ended.len();
            outside += sub.alerts.iter().filter(|a| !within(a.started)).count();
        }
    }
    println!("azure history: {fired} fired, {acked} acked, {ended} resolved or closed, {outside} outside the window");
    assert!(fired >= 20 && acked >= 5 && ended >= 10 && outside >= 10, "{fired} {acked} {ended} {outside}");
}
