//! A seeded Azure estate: the truth (subscriptions, scale sets and their VMs,
//! alerts, cost rows, Traffic Manager profiles) and a local ARM + Entra ID that
//! serves it in the real API shapes: the VM list paged by `nextLink` with each
//! VM's instance view (power state per VM, provisioning state, the Application
//! Health extension's `vmHealth` when installed, zones present or not, nulls), the
//! set-level instance view with ProvisioningState counts only (as ARM has it: it
//! must not be what opsdeck counts), alerts paged with Fired/Resolved conditions
//! and New/Acknowledged/Closed states, cost rows in one or more currencies paged
//! by `properties.nextLink`, and weighted or priority Traffic Manager profiles.
//!
//! The truth is what an operator would count by hand; the expected views below
//! ([`Estate::expected_groups`] and friends) say it in opsdeck's terms.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

pub const TENANT: &str = "9c1e5b7a-0d3f-4e21-8a6b-1f2e3d4c5b6a";
pub const CLIENT: &str = "5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d";
pub const SECRET: &str = "estate-s3cr3t";
pub const TOKEN: &str = "estate-token-from-the-local-entra";

/// splitmix64: small, seedable, the same on every machine.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0x005E_EDA2)
    }
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
    pub fn usize(&mut self, lo: usize, hi: usize) -> usize {
        self.range(lo as u64, hi as u64) as usize
    }
    /// True with probability `percent` %.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.usize(0, items.len() - 1)]
    }
}

/// How a VM's fields are written; none of it changes what the VM counts for.
#[derive(Debug, Clone)]
pub struct VmStyle {
    /// The provisioning state as a `ProvisioningState/*` status (else only as
    /// `properties.provisioningState`).
    pub provisioning_as_status: bool,
    /// Status codes with a capital after the slash (`PowerState/Running`).
    pub shouting: bool,
    /// A status entry whose code is null.
    pub null_status: bool,
    /// `vmHealth: null` rather than absent, when there is no health extension.
    pub null_health: bool,
    /// How a VM without zones says so: 0 absent, 1 null, 2 `[]`.
    pub no_zone_as: u8,
}

#[derive(Debug, Clone)]
pub struct VmTruth {
    pub zone: Option<String>,
    /// The VM has an instance view at all (without one its power state is unknown:
    /// such a VM is generated not running).
    pub has_view: bool,
    /// `PowerState/running`.
    pub running: bool,
    /// The power state written when not running (None: no PowerState status).
    pub other_power: Option<&'static str>,
    /// `ProvisioningState/succeeded`.
    pub provisioned: bool,
    /// The provisioning word when not succeeded.
    pub other_provisioning: &'static str,
    /// The Application Health extension's state, when it is installed.
    pub app_health: Option<&'static str>,
    pub style: VmStyle,
}

impl VmTruth {
    pub fn healthy(&self) -> bool {
        self.running && self.provisioned && self.app_health.is_none_or(|h| h == "healthy")
    }
}

#[derive(Debug, Clone)]
pub struct SetTruth {
    pub id: String,
    pub name: String,
    pub location: String,
    /// `sku.capacity`: what the set is asked to run.
    pub capacity: u32,
    /// `sku.name`: the VM size.
    pub size: &'static str,
    /// The set's zones; empty for a regional set.
    pub zones: Vec<String>,
    /// A regional set writes its zones as 0 absent, 1 null, 2 `[]`.
    pub no_zones_as: u8,
    pub vms: Vec<VmTruth>,
    /// VMs per page of the list.
    pub page: usize,
    /// Flexible orchestration: the VMs are listed from the resource group, filtered
    /// to the set; the set's own VM list is refused.
    pub flexible: bool,
}

#[derive(Debug, Clone)]
pub struct AlertTruth {
    pub guid: String,
    pub rule: String,
    /// Sev0..Sev4.
    pub severity: u8,
    pub monitor_condition: &'static str,
    pub alert_state: &'static str,
    pub target: Option<String>,
    pub description: Option<String>,
    pub by: Option<String>,
    /// `startDateTime`, `monitorConditionResolvedDateTime` (resolved ones),
    /// `lastModifiedDateTime`: spread over 10:00–13:00 on 2026-11-30.
    pub started: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub modified: DateTime<Utc>,
}

/// The first instant the generated alerts' times are drawn after.
pub fn alerts_base() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-30T10:00:00Z").map(|t| t.with_timezone(&Utc)).unwrap_or_default()
}

impl AlertTruth {
    /// opsdeck's words: resolved when the condition resolved or someone closed it,
    /// acked while fired and acknowledged, firing otherwise.
    pub fn state_label(&self) -> &'static str {
        if self.monitor_condition == "Resolved" || self.alert_state == "Closed" {
            "resolved"
        } else if self.alert_state == "Acknowledged" {
            "acked"
        } else {
            "firing"
        }
    }
    pub fn severity_label(&self) -> &'static str {
        ["P0", "P1", "P2", "P3", "P3"][usize::from(self.severity)]
    }
}

#[derive(Debug, Clone)]
pub struct CostRow {
    /// None: a row with no amount (no figure, not a zero).
    pub amount: Option<f64>,
    pub service: Option<String>,
    pub currency: String,
}

#[derive(Debug, Clone)]
pub struct EndpointTruth {
    pub name: String,
    pub target: String,
    pub enabled: bool,
    pub weight: u32,
    pub priority: u32,
    pub monitor: Option<&'static str>,
}

#[derive(Debug, Clone)]
pub struct ProfileTruth {
    pub id: String,
    pub fqdn: String,
    pub weighted: bool,
    pub ttl: u32,
    pub endpoints: Vec<EndpointTruth>,
}

#[derive(Debug, Clone)]
pub struct SubTruth {
    pub id: String,
    pub sets: Vec<SetTruth>,
    pub alerts: Vec<AlertTruth>,
    pub alerts_page: usize,
    /// None: Cost Management answers 204 (nothing this month yet).
    pub cost_rows: Option<Vec<CostRow>>,
    pub cost_page: usize,
    /// Column order of the cost answer (names).
    pub cost_columns: Vec<&'static str>,
    pub profiles: Vec<ProfileTruth>,
}

#[derive(Debug, Clone)]
pub struct Estate {
    pub seed: u64,
    pub subs: Vec<SubTruth>,
}

const SET_NAMES: [&str; 6] = ["web-東京", "tienda-ñ", "api", "batch-Ωmega", "front", "worker-münchen"];
/// Prices by (region, size): (on-demand, spot, the sets running it).
pub type PriceTruth = BTreeMap<(String, String), (Option<f64>, Option<f64>, Vec<String>)>;
/// VM sizes a set may run.
pub const SIZES: [&str; 4] = ["Standard_D2s_v5", "Standard_D4as_v5", "Standard_F2s_v2", "Standard_B2ms"];
const LOCATIONS: [&str; 4] = ["westeurope", "japaneast", "eastus2", "brazilsouth"];
const RULES: [&str; 5] = ["cpu alert", "disco lleno-ñ", "応答遅延", "5xx rate", "heartbeat"];
const SERVICES: [&str; 5] = ["Virtual Machines", "Storage", "Bandwidth", "Almacenamiento-ñ", "仮想マシン"];
const CURRENCIES: [&str; 4] = ["USD", "EUR", "JPY", "GBP"];
const OTHER_POWER: [&str; 5] = ["deallocated", "stopped", "starting", "stopping", "deallocating"];
const OTHER_PROVISIONING: [&str; 4] = ["failed/InternalError", "updating", "creating", "deleting"];
/// New twice: most alerts nobody has touched yet.
const ALERT_STATES: [&str; 4] = ["New", "New", "Acknowledged", "Closed"];
const APP_HEALTH: [&str; 4] = ["healthy", "unhealthy", "unknown", "initializing"];
const MONITOR: [&str; 7] = ["Online", "Degraded", "CheckingEndpoint", "Stopped", "Inactive", "Disabled", "Unmonitored"];

fn guid(r: &mut Rng) -> String {
    let (a, b) = (r.next(), r.next());
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        (b >> 48) & 0xfff,
        b & 0xffff_ffff_ffff
    )
}

impl Estate {
    pub fn generate(seed: u64) -> Estate {
        let mut r = Rng::new(seed);
        let subs = (0..r.usize(1, 3)).map(|i| Self::sub(&mut r, i)).collect();
        Estate { seed, subs }
    }

    fn sub(r: &mut Rng, index: usize) -> SubTruth {
        let id = guid(r);
        let sets = (0..r.usize(0, 3)).map(|j| Self::set(r, &id, index, j)).collect();
        let alerts = (0..r.usize(0, 12)).map(|_| Self::alert(r)).collect();
        let alerts_page = r.usize(1, 13);
        let cost_rows = if r.chance(10) {
            None
        } else {
            let currencies: Vec<&str> = (0..r.usize(1, 3)).map(|_| *r.pick(&CURRENCIES)).collect();
            let rows = (0..r.usize(0, 14))
                .map(|_| CostRow {
                    // Quarters: sums are exact in binary floating point.
                    amount: if r.chance(8) { None } else { Some(r.range(0, 40_000) as f64 / 4.0) },
                    service: if r.chance(10) { None } else { Some(r.pick(&SERVICES).to_string()) },
                    currency: r.pick(&currencies).to_string(),
                })
                .collect();
            Some(rows)
        };
        let cost_page = r.usize(1, 15);
        let mut cost_columns = vec!["PreTaxCost", "ServiceName", "Currency"];
        for k in (1..cost_columns.len()).rev() {
            cost_columns.swap(k, r.usize(0, k));
        }
        let profiles = (0..r.usize(0, 2)).map(|k| Self::profile(r, &id, index, k)).collect();
        SubTruth { id, sets, alerts, alerts_page, cost_rows, cost_page, cost_columns, profiles }
    }

    fn set(r: &mut Rng, sub: &str, i: usize, j: usize) -> SetTruth {
        let name = format!("{}-{i}{j}", r.pick(&SET_NAMES));
        let location = r.pick(&LOCATIONS).to_string();
        let zones: Vec<String> = match r.usize(0, 2) {
            0 => vec![],
            1 => vec!["1".into(), "2".into(), "3".into()],
            _ => vec!["1".into(), "2".into()],
        };
        let capacity = if r.chance(20) { 0 } else { r.range(1, 8) as u32 };
        // Mid-change a set runs one more or one fewer VM than asked.
        let count = match r.usize(0, 5) {
            0 => capacity + 1,
            1 => capacity.saturating_sub(1),
            _ => capacity,
        };
        let vms = (0..count)
            .map(|_| {
                let has_view = !r.chance(8);
                let running = has_view && r.chance(75);
                let provisioned = r.chance(80);
                let app_health = if has_view && r.chance(40) { Some(*r.pick(&APP_HEALTH)) } else { None };
                VmTruth {
                    zone: if zones.is_empty() { None } else { Some(r.pick(&zones).clone()) },
                    has_view,
                    running,
                    other_power: if r.chance(15) { None } else { Some(*r.pick(&OTHER_POWER)) },
                    provisioned,
                    other_provisioning: OTHER_PROVISIONING[r.usize(0, OTHER_PROVISIONING.len() - 1)],
                    app_health,
                    style: VmStyle {
                        provisioning_as_status: r.chance(70),
                        shouting: r.chance(10),
                        null_status: r.chance(10),
                        null_health: r.chance(30),
                        no_zone_as: r.range(0, 2) as u8,
                    },
                }
            })
            .collect::<Vec<_>>();
        let page = if r.chance(30) { 1000 } else { r.usize(1, vms.len().max(1)) };
        // The size follows from the name, not the generator: estates other tests
        // were written against stay the same.
        let size =
            SIZES[name.bytes().fold(7usize, |h, b| h.wrapping_mul(31).wrapping_add(usize::from(b))) % SIZES.len()];
        SetTruth {
            size,
            id: format!(
                "/subscriptions/{sub}/resourceGroups/rg-{i}/providers/Microsoft.Compute/virtualMachineScaleSets/{name}"
            ),
            name,
            location,
            capacity,
            zones,
            no_zones_as: r.range(0, 2) as u8,
            vms,
            page,
            flexible: r.chance(25),
        }
    }

    fn alert(r: &mut Rng) -> AlertTruth {
        AlertTruth {
            guid: guid(r),
            rule: r.pick(&RULES).to_string(),
            severity: r.range(0, 4) as u8,
            monitor_condition: if r.chance(40) { "Resolved" } else { "Fired" },
            alert_state: ALERT_STATES[r.usize(0, ALERT_STATES.len() - 1)],
            target: if r.chance(20) { None } else { Some(format!("vm-{}", r.pick(&SET_NAMES))) },
            description: if r.chance(30) { None } else { Some("umbral superado — 閾値".into()) },
            by: if r.chance(30) { None } else { Some("oncall@contoso".into()) },
            started: alerts_base(),
            resolved_at: None,
            modified: alerts_base(),
        }
        .timed(r)
    }

    fn profile(r: &mut Rng, sub: &str, i: usize, k: usize) -> ProfileTruth {
        let name = format!("tm-ñ-{i}{k}");
        let endpoints = (0..r.usize(1, 4))
            .map(|e| EndpointTruth {
                name: format!("{}-{e}", r.pick(&SET_NAMES)),
                target: r
                    .pick(&["web.cloudapp.azure.com", "shop-east.elb.amazonaws.com", "shop.aliyuncs-alibaba.com"])
                    .to_string(),
                enabled: r.chance(80),
                weight: r.range(1, 1000) as u32,
                priority: r.range(1, 5) as u32,
                monitor: if r.chance(10) { None } else { Some(*r.pick(&MONITOR)) },
            })
            .collect::<Vec<_>>();
        // Priorities are unique within a profile, as Traffic Manager requires.
        let mut endpoints = endpoints;
        let mut order: Vec<u32> = (1..=endpoints.len() as u32).collect();
        for x in (1..order.len()).rev() {
            order.swap(x, r.usize(0, x));
        }
        for (e, p) in endpoints.iter_mut().zip(order) {
            e.priority = p;
        }
        ProfileTruth {
            id: format!(
                "/subscriptions/{sub}/resourceGroups/rg-dns/providers/Microsoft.Network/trafficmanagerprofiles/{name}"
            ),
            fqdn: format!("shop-{i}{k}.trafficmanager.net"),
            weighted: r.chance(70),
            ttl: r.range(10, 300) as u32,
            endpoints,
        }
    }

    /// The estate with one weighted Traffic Manager profile (in the first
    /// subscription) in place of the generated ones: an AWS answer and an Azure
    /// answer, both enabled and Online, the AWS one holding enough weight that 10 %
    /// of the total can move off it. What a failover from AWS to Azure needs.
    #[allow(dead_code)] // tests/act/failover_guards.rs only
    pub fn with_failover_profile(mut self) -> Estate {
        let mut r = Rng::new(self.seed ^ 0xFA11_0FE5);
        for s in &mut self.subs {
            s.profiles.clear();
        }
        let endpoint = |name: &str, target: &str, weight: u32| EndpointTruth {
            name: name.into(),
            target: target.into(),
            enabled: true,
            weight,
            priority: 1,
            monitor: Some("Online"),
        };
        let mut endpoints = vec![
            endpoint("aws-東-east", "shop-east.elb.amazonaws.com", r.range(100, 600) as u32),
            endpoint("azure-weu-ñ", "web.cloudapp.azure.com", r.range(1, 500) as u32),
        ];
        if r.chance(50) {
            endpoints.swap(0, 1);
        }
        for (p, e) in endpoints.iter_mut().enumerate() {
            e.priority = p as u32 + 1;
        }
        let sub = self.subs[0].id.clone();
        self.subs[0].profiles.push(ProfileTruth {
            id: format!(
                "/subscriptions/{sub}/resourceGroups/rg-dns/providers/Microsoft.Network/trafficmanagerprofiles/tm-failover"
            ),
            fqdn: "shop-failover.trafficmanager.net".into(),
            weighted: true,
            ttl: r.range(10, 300) as u32,
            endpoints,
        });
        self
    }

    /// The config for one source holding every subscription of the estate.
    pub fn config_toml(&self, base: &str, name: &str) -> String {
        let q = |v: Vec<&String>| v.iter().map(|s| format!("{s:?}")).collect::<Vec<_>>().join(", ");
        let subs = q(self.subs.iter().map(|s| &s.id).collect());
        let sets = q(self.subs.iter().flat_map(|s| &s.sets).map(|s| &s.id).collect());
        let tms = q(self.subs.iter().flat_map(|s| &s.profiles).map(|p| &p.id).collect());
        format!(
            "[[sources]]\nname = \"{name}\"\nkind = \"azure\"\ninterval_secs = 60\ntimeout_secs = 20\n\n\
             [sources.azure]\nsubscriptions = [{subs}]\nscale_sets = [{sets}]\ntraffic_manager_profiles = [{tms}]\n\
             arm_endpoint = \"{base}\"\nauthority_host = \"{base}\"\nretail_prices_url = \"{base}/api/retail/prices\"\n"
        )
    }

    // ---- the truth in opsdeck's terms -------------------------------------

    /// Per scale set (by name): region, desired, and per zone (in service, healthy).
    /// A zonal set has a row per zone of the set, empty or not; a regional one a
    /// single row named after its location.
    /// The prices opsdeck should show for a subscription, by (region, size):
    /// (on-demand, spot, sets running it).
    pub fn expected_prices(&self, sub: &SubTruth) -> PriceTruth {
        let mut out: PriceTruth = BTreeMap::new();
        for set in &sub.sets {
            let key = (set.location.clone(), set.size.to_string());
            let (od, spot) = super::azure_prices::truth(self.seed, &set.location, set.size);
            out.entry(key).or_insert((od, spot, vec![])).2.push(set.name.clone());
        }
        for v in out.values_mut() {
            v.2.sort();
            v.2.dedup();
        }
        out
    }

    pub fn expected_groups(sub: &SubTruth) -> BTreeMap<String, GroupView> {
        sub.sets
            .iter()
            .map(|s| {
                let mut zones: BTreeMap<String, (u32, u32)> = BTreeMap::new();
                if s.zones.is_empty() {
                    zones.insert(s.location.clone(), (0, 0));
                }
                for z in &s.zones {
                    zones.insert(z.clone(), (0, 0));
                }
                for vm in &s.vms {
                    let z = vm.zone.clone().unwrap_or_else(|| s.location.clone());
                    let row = zones.entry(z).or_default();
                    row.0 += u32::from(vm.running);
                    row.1 += u32::from(vm.healthy());
                }
                (s.name.clone(), GroupView { region: s.location.clone(), desired: s.capacity, zones })
            })
            .collect()
    }

    /// Alert counts by (severity, state).
    pub fn expected_alerts(sub: &SubTruth) -> BTreeMap<(String, String), usize> {
        let mut out = BTreeMap::new();
        for a in &sub.alerts {
            *out.entry((a.severity_label().to_string(), a.state_label().to_string())).or_insert(0) += 1;
        }
        out
    }

    /// Per currency: month to date and spend per service (rows with no amount add
    /// nothing; rows with no service count as "unknown").
    pub fn expected_costs(sub: &SubTruth) -> BTreeMap<String, CostView> {
        let mut out: BTreeMap<String, CostView> = BTreeMap::new();
        for row in sub.cost_rows.iter().flatten() {
            let Some(amount) = row.amount else { continue };
            let c = out.entry(row.currency.clone()).or_default();
            c.month_to_date += amount;
            *c.by_service.entry(row.service.clone().unwrap_or_else(|| "unknown".into())).or_insert(0.0) += amount;
        }
        out
    }

    /// Per profile (by DNS name): endpoint name → weight opsdeck shows (disabled 0;
    /// weighted: the weight; priority: 1 for the best enabled priority, else 0).
    pub fn expected_policies(sub: &SubTruth) -> BTreeMap<String, Vec<(String, u32)>> {
        sub.profiles
            .iter()
            .map(|p| {
                let top = p.endpoints.iter().filter(|e| e.enabled).map(|e| e.priority).min();
                let weights = p
                    .endpoints
                    .iter()
                    .map(|e| {
                        let w = match (e.enabled, p.weighted) {
                            (false, _) => 0,
                            (true, true) => e.weight,
                            (true, false) => u32::from(Some(e.priority) == top),
                        };
                        (e.name.clone(), w)
                    })
                    .collect();
                (p.fqdn.clone(), weights)
            })
            .collect()
    }

    /// Health by the rules README.md states, worked out here from the generated
    /// VMs, not through opsdeck's code: per scale set, per cloud and region, and
    /// the snapshot's status and exit code.
    pub fn expected_health(&self) -> HealthTruth {
        let mut groups = BTreeMap::new();
        // Cloud slug → region → the set healths judged there.
        let mut regions: BTreeMap<String, BTreeMap<String, Vec<&'static str>>> = BTreeMap::new();
        for set in self.subs.iter().flat_map(|s| &s.sets) {
            let running = set.vms.iter().filter(|v| v.running).count() as u32;
            let healthy = set.vms.iter().filter(|v| v.healthy()).count() as u32;
            // A scale set has no floor of its own (min lives in autoscale settings): 0.
            let (health, idle) = if set.capacity == 0 && running == 0 && healthy == 0 {
                ("IDLE", Some("idle"))
            } else if healthy == 0 {
                ("DOWN", None)
            } else if healthy < set.capacity {
                ("DEGRADED", None)
            } else {
                ("OK", None)
            };
            groups.insert(set.name.clone(), (health, idle));
            regions.entry("azure".into()).or_default().entry(set.location.clone()).or_default().push(health);
        }
        // Traffic Manager's monitor status of each answer, by the cloud it routes to.
        let mut answers: BTreeMap<String, Vec<&'static str>> = BTreeMap::new();
        for e in self.subs.iter().flat_map(|s| &s.profiles).flat_map(|p| &p.endpoints) {
            let cloud = if e.target.contains("amazonaws.com") {
                "aws"
            } else if e.target.contains("aliyuncs") {
                "aliyun"
            } else {
                "azure"
            };
            // A disabled endpoint was taken out on purpose (a drain does that): it
            // settles nothing about its cloud. Online serves; Degraded (probes
            // failing), Disabled, Inactive and Stopped do not; CheckingEndpoint,
            // Unmonitored or none settle nothing. An answer not served leaves its
            // cloud DEGRADED, not DOWN: other answers may still route to it.
            let said = match e.monitor {
                _ if !e.enabled => None,
                Some("Online") => Some("OK"),
                Some("Degraded" | "Disabled" | "Inactive" | "Stopped") => Some("DEGRADED"),
                _ => None,
            };
            let list = answers.entry(cloud.into()).or_default();
            if let Some(h) = said {
                list.push(h);
            }
        }
        let mut clouds = BTreeMap::new();
        for cloud in regions.keys().chain(answers.keys()) {
            let per_region: BTreeMap<String, &'static str> = regions
                .get(cloud)
                .map(|r| r.iter().map(|(name, hs)| (name.clone(), worst_of(hs.iter().copied()))).collect())
                .unwrap_or_default();
            let said = answers.get(cloud).map(|a| a.as_slice()).unwrap_or_default();
            let all: Vec<&'static str> = per_region.values().copied().chain(said.iter().copied()).collect();
            let health = if all.is_empty() { "UNKNOWN" } else { worst_of(all.into_iter()) };
            clouds.insert(cloud.clone(), CloudHealth { health, regions: per_region });
        }
        let firing = |sev: &[&str]| {
            self.subs
                .iter()
                .flat_map(|s| &s.alerts)
                .any(|a| a.state_label() == "firing" && sev.contains(&a.severity_label()))
        };
        let any = |h: &str| clouds.values().any(|c| c.health == h);
        let (status, exit_code) = if firing(&["P0"]) || any("DOWN") {
            ("CRITICAL", 2)
        } else if firing(&["P1", "P2"]) || any("DEGRADED") {
            ("WARNING", 1)
        } else {
            ("OK", 0)
        };
        HealthTruth { groups, clouds, status, exit_code }
    }

    /// Every resource the server answers for, by its decoded path.
    fn index(&self) -> BTreeMap<String, Resource> {
        let mut out = BTreeMap::new();
        for (si, s) in self.subs.iter().enumerate() {
            let sub = &s.id;
            out.insert(
                format!("/subscriptions/{sub}/providers/microsoft.alertsmanagement/alerts"),
                Resource::Alerts(si),
            );
            out.insert(format!("/subscriptions/{sub}/providers/microsoft.costmanagement/query"), Resource::Cost(si));
            for (k, set) in s.sets.iter().enumerate() {
                let id = set.id.to_lowercase();
                out.insert(id.clone(), Resource::Set(si, k));
                out.insert(format!("{id}/virtualmachines"), Resource::Vms(si, k));
                out.insert(format!("{id}/instanceview"), Resource::SetView(si, k));
                out.insert(format!("{id}/providers/microsoft.insights/metrics"), Resource::Metrics(si, k));
                let rg = id.split("/providers/").next().unwrap_or_default();
                out.insert(format!("{rg}/providers/microsoft.compute/virtualmachines"), Resource::GroupVms(si));
            }
            for (k, p) in s.profiles.iter().enumerate() {
                out.insert(p.id.to_lowercase(), Resource::Profile(si, k));
                for (n, e) in p.endpoints.iter().enumerate() {
                    out.insert(
                        format!("{}/externalendpoints/{}", p.id, e.name).to_lowercase(),
                        Resource::Endpoint(si, k, n),
                    );
                }
            }
        }
        out
    }
}

/// The worst of several healths: idle gives way to anything, unknown never hides down.
pub fn worst_of(hs: impl Iterator<Item = &'static str>) -> &'static str {
    let rank = |h: &str| ["IDLE", "OK", "DEGRADED", "UNKNOWN", "DOWN"].iter().position(|x| *x == h).expect("a health");
    hs.max_by_key(|h| rank(h)).unwrap_or("UNKNOWN")
}

#[derive(Debug, Clone, PartialEq)]
pub struct CloudHealth {
    pub health: &'static str,
    /// Region → health.
    pub regions: BTreeMap<String, &'static str>,
}

/// The estate's health in the snapshot's words (all sources read).
#[derive(Debug, Clone, PartialEq)]
pub struct HealthTruth {
    /// Scale set name → (health, idle reason).
    pub groups: BTreeMap<String, (&'static str, Option<&'static str>)>,
    /// Cloud slug → its health and its regions'.
    pub clouds: BTreeMap<String, CloudHealth>,
    pub status: &'static str,
    pub exit_code: i32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct GroupView {
    pub region: String,
    pub desired: u32,
    pub zones: BTreeMap<String, (u32, u32)>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct CostView {
    pub month_to_date: f64,
    pub by_service: BTreeMap<String, f64>,
}

#[derive(Debug, Clone, Copy)]
enum Resource {
    Alerts(usize),
    Cost(usize),
    Set(usize, usize),
    Vms(usize, usize),
    /// A resource group's VMs (of subscription n), as Flexible sets are listed.
    GroupVms(usize),
    SetView(usize, usize),
    Metrics(usize, usize),
    Profile(usize, usize),
    /// One external endpoint of a profile: PATCHed by a failover.
    Endpoint(usize, usize, usize),
}

// ---- the real API shapes ---------------------------------------------------

fn code(style: &VmStyle, kind: &str, word: &str) -> Value {
    let word = if style.shouting {
        let mut c = word.chars();
        c.next().map(|f| f.to_uppercase().collect::<String>() + c.as_str()).unwrap_or_default()
    } else {
        word.to_string()
    };
    json!({"code": format!("{kind}/{word}"), "level": "Info", "displayStatus": word, "time": "2026-11-30T12:58:26.522Z"})
}

fn vm_json(set: &SetTruth, n: usize, vm: &VmTruth) -> Value {
    let st = &vm.style;
    let mut v = json!({
        "name": format!("{}_{n}", set.name), "instanceId": n.to_string(), "location": set.location,
        "id": vm_id(set, n), "type": "Microsoft.Compute/virtualMachines",
    });
    match (&vm.zone, st.no_zone_as) {
        (Some(z), _) => v["zones"] = json!([z]),
        (None, 1) => v["zones"] = Value::Null,
        (None, 2) => v["zones"] = json!([]),
        (None, _) => {}
    }
    let provisioning_word = if vm.provisioned { "succeeded" } else { vm.other_provisioning };
    let mut props = json!({"latestModelApplied": true, "vmId": format!("vm-{n}")});
    if !st.provisioning_as_status || !vm.has_view {
        // "Succeeded" / "Failed" / "Updating" as the VM resource writes it.
        let word = provisioning_word.split('/').next().unwrap_or(provisioning_word);
        let mut c = word.chars();
        props["provisioningState"] =
            json!(c.next().map(|f| f.to_uppercase().collect::<String>() + c.as_str()).unwrap_or_default());
    }
    if vm.has_view {
        let mut statuses = Vec::new();
        if st.provisioning_as_status {
            statuses.push(code(st, "ProvisioningState", provisioning_word));
        }
        if vm.running {
            statuses.push(code(st, "PowerState", "running"));
        } else if let Some(p) = vm.other_power {
            statuses.push(code(st, "PowerState", p));
        }
        if st.null_status {
            statuses.push(json!({"code": null, "level": "Warning", "message": null}));
        }
        let mut view = json!({"platformUpdateDomain": 0, "platformFaultDomain": 0, "statuses": statuses});
        match vm.app_health {
            Some(h) => {
                view["vmHealth"] = json!({"status": {"code": format!("HealthState/{h}"), "level": "Info",
                    "displayStatus": h, "time": "2026-11-30T12:58:26.522Z"}})
            }
            None if st.null_health => view["vmHealth"] = Value::Null,
            None => {}
        }
        props["instanceView"] = view;
    } else if st.null_health {
        props["instanceView"] = Value::Null;
    }
    v["properties"] = props;
    v
}

fn vm_id(set: &SetTruth, n: usize) -> String {
    if set.flexible {
        let rg = set.id.split("/providers/").next().unwrap_or_default();
        format!("{rg}/providers/Microsoft.Compute/virtualMachines/{}_{n:08x}", set.name)
    } else {
        format!("{}/virtualMachines/{n}", set.id)
    }
}

fn set_json(set: &SetTruth) -> Value {
    let mut v = json!({
        "name": set.name, "id": set.id, "type": "Microsoft.Compute/virtualMachineScaleSets", "location": set.location,
        "sku": {"tier": "Standard", "capacity": set.capacity, "name": set.size},
        "properties": {"provisioningState": "Succeeded", "overprovision": false, "upgradePolicy": {"mode": "Manual"},
            "orchestrationMode": if set.flexible { "Flexible" } else { "Uniform" }},
    });
    match set.no_zones_as {
        _ if !set.zones.is_empty() => v["zones"] = json!(set.zones),
        1 => v["zones"] = Value::Null,
        2 => v["zones"] = json!([]),
        _ => {}
    }
    v
}

/// The set-level instance view as ARM answers it: ProvisioningState counts only.
fn set_view_json(set: &SetTruth) -> Value {
    let mut counts: BTreeMap<String, u32> = BTreeMap::new();
    for vm in &set.vms {
        let w = if vm.provisioned { "succeeded" } else { vm.other_provisioning.split('/').next().unwrap_or("failed") };
        *counts.entry(format!("ProvisioningState/{w}")).or_insert(0) += 1;
    }
    json!({"virtualMachine": {"statusesSummary": counts.iter().map(|(c, n)| json!({"code": c, "count": n})).collect::<Vec<_>>()},
        "statuses": [{"code": "ProvisioningState/succeeded", "level": "Info", "displayStatus": "Provisioning succeeded"}]})
}

impl AlertTruth {
    /// When it started, resolved (if it did) and was last changed.
    fn timed(mut self, r: &mut Rng) -> AlertTruth {
        self.started = alerts_base() + chrono::Duration::minutes(r.range(0, 120) as i64);
        self.resolved_at = (self.monitor_condition == "Resolved")
            .then(|| self.started + chrono::Duration::minutes(r.range(1, 45) as i64));
        let touched = self.started + chrono::Duration::minutes(r.range(0, 60) as i64);
        self.modified = self.resolved_at.map_or(touched, |at| at.max(touched));
        self
    }
}

fn alert_json(sub: &str, a: &AlertTruth) -> Value {
    json!({
        "id": format!("/subscriptions/{sub}/providers/Microsoft.AlertsManagement/alerts/{}", a.guid),
        "type": "Microsoft.AlertsManagement/alerts", "name": a.rule,
        "properties": {"essentials": {
            "severity": format!("Sev{}", a.severity), "signalType": "Metric", "alertState": a.alert_state,
            "monitorCondition": a.monitor_condition, "targetResource": a.target.as_ref().map(|t| format!("/subscriptions/{sub}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/{t}")),
            "targetResourceName": a.target, "targetResourceGroup": "rg", "targetResourceType": "virtualMachines",
            "monitorService": "Platform", "alertRule": a.rule, "sourceCreatedId": a.guid,
            "startDateTime": a.started.to_rfc3339(), "lastModifiedDateTime": a.modified.to_rfc3339(),
            "monitorConditionResolvedDateTime": a.resolved_at.map(|t| t.to_rfc3339()),
            "lastModifiedUserName": a.by, "description": a.description,
        }}
    })
}

fn profile_json(p: &ProfileTruth) -> Value {
    let name = p.id.rsplit('/').next().unwrap_or_default();
    json!({
        "id": p.id, "name": name, "type": "Microsoft.Network/trafficManagerProfiles", "location": "global",
        "properties": {
            "profileStatus": "Enabled", "trafficRoutingMethod": if p.weighted { "Weighted" } else { "Priority" },
            "dnsConfig": {"relativeName": name, "fqdn": p.fqdn, "ttl": p.ttl},
            "monitorConfig": {"profileMonitorStatus": "Online", "protocol": "HTTPS", "port": 443, "path": "/healthz",
                "intervalInSeconds": 30, "toleratedNumberOfFailures": 3, "timeoutInSeconds": 10},
            "endpoints": p.endpoints.iter().map(|e| json!({
                "id": format!("{}/externalEndpoints/{}", p.id, e.name), "name": e.name,
                "type": "Microsoft.Network/trafficManagerProfiles/externalEndpoints",
                "properties": {"endpointStatus": if e.enabled { "Enabled" } else { "Disabled" },
                    "endpointMonitorStatus": e.monitor, "target": e.target, "weight": e.weight,
                    "priority": e.priority, "endpointLocation": null}
            })).collect::<Vec<_>>(),
        }
    })
}

fn cost_json(sub: &SubTruth, rows: &[CostRow], next: Option<String>) -> Value {
    let columns: Vec<Value> = sub
        .cost_columns
        .iter()
        .map(|c| json!({"name": c, "type": if *c == "PreTaxCost" { "Number" } else { "String" }}))
        .collect();
    let rows: Vec<Value> = rows
        .iter()
        .map(|r| {
            let cells: Vec<Value> = sub
                .cost_columns
                .iter()
                .map(|c| match *c {
                    "PreTaxCost" => json!(r.amount),
                    "ServiceName" => json!(r.service),
                    _ => json!(r.currency),
                })
                .collect();
            Value::Array(cells)
        })
        .collect();
    json!({"id": format!("subscriptions/{}/providers/Microsoft.CostManagement/query/q", sub.id), "name": "q",
        "type": "microsoft.costmanagement/Query", "properties": {"nextLink": next, "columns": columns, "rows": rows}})
}

fn arm_error(status: u16, code: &str, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({"error": {"code": code, "message": message}}))
}

/// `%XX` sequences to bytes, then UTF-8 (paths with non-ASCII names arrive encoded).
fn decode_path(p: &str) -> String {
    percent_encoding::percent_decode_str(p).decode_utf8_lossy().into_owned()
}

/// The ARM + Entra ID stand-in for one estate.
pub struct EstateArm {
    estate: Arc<Estate>,
    index: BTreeMap<String, Resource>,
    /// Endpoint `properties` PATCHed so far, merged into later reads of the
    /// profile as Traffic Manager would.
    patched: std::sync::Mutex<BTreeMap<(usize, usize, usize), Patch>>,
}

/// The `properties` an endpoint PATCH set.
type Patch = serde_json::Map<String, Value>;

impl EstateArm {
    /// Which page `req` asks for (`$skiptoken` / `ctoken`), from 0.
    fn page_of(req: &Request, key: &str) -> usize {
        req.url.query_pairs().find(|(k, _)| k == key).and_then(|(_, v)| v.parse().ok()).unwrap_or(0)
    }

    fn link(req: &Request, path: &str, query: &str) -> String {
        let host = req.headers.get("host").and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1");
        let mut u = url_of(host);
        u.push_str(&percent_encoding::utf8_percent_encode(path, PATH).to_string());
        u.push('?');
        u.push_str(query);
        u
    }

    /// One page of `set`'s VMs (only with `$expand=instanceView`); the nextLink goes
    /// back to `path` with `query` kept.
    fn vm_page(req: &Request, set: &SetTruth, path: &str, query: &str) -> ResponseTemplate {
        let expand = req.url.query_pairs().any(|(k, v)| k == "$expand" && v == "instanceView");
        if !expand {
            return arm_error(400, "InvalidParameter", "this stand-in only answers $expand=instanceView");
        }
        let page = Self::page_of(req, "$skiptoken");
        let from = page * set.page;
        let to = (from + set.page).min(set.vms.len());
        let value: Vec<Value> = (from..to.max(from)).map(|n| vm_json(set, n, &set.vms[n])).collect();
        let mut body = json!({"value": value});
        if to < set.vms.len() {
            let q = format!("api-version=2024-11-01&{query}%24expand=instanceView&%24skiptoken={}", page + 1);
            body["nextLink"] = json!(Self::link(req, path, &q));
        }
        ok(body)
    }

    fn token(&self, req: &Request) -> ResponseTemplate {
        let body = String::from_utf8_lossy(&req.body);
        if body.contains("grant_type=client_credentials")
            && body.contains(&format!("client_id={CLIENT}"))
            && body.contains(&format!("client_secret={SECRET}"))
        {
            ResponseTemplate::new(200).set_body_json(
                json!({"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": TOKEN}),
            )
        } else {
            ResponseTemplate::new(401).set_body_json(json!({"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided."}))
        }
    }

    fn answer(&self, req: &Request) -> ResponseTemplate {
        let path = decode_path(req.url.path());
        if path == "/api/retail/prices" {
            // The public price API, on the same stand-in (it needs no token).
            return super::azure_prices::answer(self.estate.seed, req);
        }
        if req.method.as_str() == "POST" && path == format!("/{TENANT}/oauth2/v2.0/token") {
            return self.token(req);
        }
        let auth = req.headers.get("authorization").and_then(|v| v.to_str().ok());
        if auth != Some(format!("Bearer {TOKEN}").as_str()) {
            return arm_error(401, "AuthenticationFailed", "no or wrong bearer token");
        }
        let api = req.url.query_pairs().find(|(k, _)| k == "api-version").map(|(_, v)| v.into_owned());
        let Some(res) = self.index.get(&path.to_lowercase()).copied() else {
            return arm_error(404, "ResourceNotFound", &format!("{path} was not found"));
        };
        let e = &self.estate;
        let want = |v: &str| api.as_deref() == Some(v);
        match (req.method.as_str(), res) {
            ("GET", Resource::Set(s, k)) if want("2024-11-01") => ok(set_json(&e.subs[s].sets[k])),
            ("GET", Resource::SetView(s, k)) if want("2024-11-01") => ok(set_view_json(&e.subs[s].sets[k])),
            ("GET", Resource::Vms(s, k)) if want("2024-11-01") => {
                let set = &e.subs[s].sets[k];
                if set.flexible {
                    return arm_error(
                        409,
                        "OperationNotAllowed",
                        &format!(
                            "Operation 'VirtualMachineScaleSets.virtualMachines.GET' is not allowed on Virtual Machine Scale Set '{}'.",
                            set.name
                        ),
                    );
                }
                Self::vm_page(req, set, &format!("{}/virtualMachines", set.id), "")
            }
            ("GET", Resource::GroupVms(s)) if want("2024-11-01") => {
                // `'virtualMachineScaleSet/id' eq '{id}'`: the only filter ARM allows here.
                let filter = req.url.query_pairs().find(|(k, _)| k == "$filter").map(|(_, v)| v.into_owned());
                let id = filter
                    .as_deref()
                    .and_then(|f| f.strip_prefix("'virtualMachineScaleSet/id' eq '"))
                    .and_then(|f| f.strip_suffix('\''));
                let Some(set) = id.and_then(|id| e.subs[s].sets.iter().find(|x| x.id.eq_ignore_ascii_case(id))) else {
                    return arm_error(400, "InvalidParameter", &format!("$filter {filter:?}"));
                };
                let group = path.clone();
                let query = format!(
                    "%24filter={}&",
                    percent_encoding::utf8_percent_encode(filter.as_deref().unwrap_or(""), PATH)
                );
                Self::vm_page(req, set, &group, &query)
            }
            ("GET", Resource::Metrics(s, k)) if want("2024-02-01") => ok(
                json!({"cost": 0, "interval": "PT1M", "value": [], "namespace": "Microsoft.Compute/virtualMachineScaleSets",
                    "resourceregion": e.subs[s].sets[k].location}),
            ),
            ("GET", Resource::Profile(s, k)) if want("2022-04-01") => {
                let mut body = profile_json(&e.subs[s].profiles[k]);
                let patched = self.patched.lock().expect("patched");
                if let Some(eps) = body["properties"]["endpoints"].as_array_mut() {
                    for (n, ep) in eps.iter_mut().enumerate() {
                        for (key, v) in patched.get(&(s, k, n)).into_iter().flatten() {
                            ep["properties"][key] = v.clone();
                        }
                    }
                }
                ok(body)
            }
            ("PATCH", Resource::Endpoint(s, k, n)) if want("2022-04-01") => {
                let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
                let Some(props) = body["properties"].as_object() else {
                    return arm_error(400, "BadRequest", "the body has no properties");
                };
                // Traffic Manager weights are 1..1000.
                if props.get("weight").is_some_and(|w| !w.as_u64().is_some_and(|w| (1..=1000).contains(&w))) {
                    return arm_error(400, "BadRequest", "weight must be between 1 and 1000");
                }
                let mut patched = self.patched.lock().expect("patched");
                let entry = patched.entry((s, k, n)).or_default();
                for (key, v) in props {
                    entry.insert(key.clone(), v.clone());
                }
                let p = &e.subs[s].profiles[k];
                let ep = &profile_json(p)["properties"]["endpoints"][n];
                let mut answer = ep.clone();
                for (key, v) in entry.iter() {
                    answer["properties"][key] = v.clone();
                }
                ok(answer).insert_header("x-ms-request-id", format!("tm-patch-{s}-{k}-{n}").as_str())
            }
            ("GET", Resource::Alerts(s)) => {
                let sub = &e.subs[s];
                let page = Self::page_of(req, "ctoken");
                // Page one is asked with the list's api-version; later pages follow
                // the link as given (ARM's links carry their own api-version).
                if !(want("2019-03-01") || (page > 0 && want("2018-05-05-preview"))) {
                    return arm_error(400, "InvalidApiVersion", "api-version");
                }
                let from = page * sub.alerts_page;
                let to = (from + sub.alerts_page).min(sub.alerts.len());
                let value: Vec<Value> = sub.alerts[from.min(to)..to].iter().map(|a| alert_json(&sub.id, a)).collect();
                let mut body = json!({"value": value});
                if to < sub.alerts.len() {
                    body["nextLink"] = json!(Self::link(
                        req,
                        &format!("/subscriptions/{}/providers/Microsoft.AlertsManagement/alerts", sub.id),
                        &format!("api-version=2018-05-05-preview&timeRange=1d&ctoken={}", page + 1)
                    ));
                }
                ok(body)
            }
            ("POST", Resource::Cost(s)) if want("2023-11-01") => {
                let sub = &e.subs[s];
                let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
                if body["timeframe"] != "MonthToDate" || body["type"] != "ActualCost" {
                    return arm_error(
                        400,
                        "BadRequest",
                        "Invalid query definition, Dataset is invalid or not supplied.",
                    );
                }
                let Some(rows) = &sub.cost_rows else { return ResponseTemplate::new(204) };
                let page = Self::page_of(req, "$skiptoken");
                let from = page * sub.cost_page;
                let to = (from + sub.cost_page).min(rows.len());
                let next = (to < rows.len()).then(|| {
                    Self::link(
                        req,
                        &format!("/subscriptions/{}/providers/Microsoft.CostManagement/query", sub.id),
                        &format!("api-version=2023-11-01&%24skiptoken={}", page + 1),
                    )
                });
                ok(cost_json(sub, &rows[from.min(to)..to], next))
            }
            _ => arm_error(400, "InvalidRequest", &format!("{} {path} with api-version {api:?}", req.method)),
        }
    }
}

/// Characters escaped in a path a link carries.
const PATH: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'/').remove(b'-').remove(b'_').remove(b'.').remove(b'~');

fn url_of(host: &str) -> String {
    format!("https://{host}")
}

fn ok(body: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(body).insert_header("x-ms-ratelimit-remaining-subscription-reads", "11990")
}

impl Respond for EstateArm {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        self.answer(request)
    }
}

/// A local server answering for `estate` (HTTP on loopback; the tests reach it with
/// `https://` URLs through a plain-HTTP transport or a TLS front).
pub async fn serve(estate: &Estate) -> MockServer {
    let server = MockServer::start().await;
    let responder =
        EstateArm { index: estate.index(), estate: Arc::new(estate.clone()), patched: std::sync::Mutex::default() };
    Mock::given(wiremock::matchers::any()).respond_with(responder).named("estate ARM").mount(&server).await;
    server
}
