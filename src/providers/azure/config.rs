//! `[sources.azure]`: Azure subscriptions. Schema, defaults and checks.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::config::{KindTable, SourceConfig};
use crate::providers::shared::severity::{self, SeverityMap};

/// `[sources.azure]`: Azure subscriptions. Secrets are never here: the
/// environment's service principal or workload identity, a client certificate
/// (path here, its password in the keyring as `<source>/client_certificate_password`),
/// a client secret in the keyring (`<source>/client_secret`) for the tenant_id /
/// client_id named here, the Azure CLI login or managed identity.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AzureConfig {
    /// Subscription ids; one source each (alerts and cost are per subscription).
    pub subscriptions: Vec<String>,
    /// Only alerts of these resource groups; the whole subscription when empty.
    #[serde(default)]
    pub resource_groups: Vec<String>,
    /// VM Scale Set resource ids (`/subscriptions/../virtualMachineScaleSets/NAME`).
    #[serde(default)]
    pub scale_sets: Vec<String>,
    /// Traffic Manager profile resource ids.
    #[serde(default)]
    pub traffic_manager_profiles: Vec<String>,
    /// Front Door (Standard/Premium, `Microsoft.Cdn/profiles`) resource ids for requests, latency, 5xx.
    #[serde(default)]
    pub front_doors: Vec<String>,
    /// Application Gateway resource ids for requests, latency, failed requests.
    #[serde(default)]
    pub app_gateways: Vec<String>,
    /// A service principal whose secret is in the keyring as `<source>/client_secret`.
    #[serde(default)]
    pub tenant_id: Option<String>,
    #[serde(default)]
    pub client_id: Option<String>,
    /// Entra ID authority (sovereign clouds); AZURE_AUTHORITY_HOST or the public cloud otherwise.
    #[serde(default)]
    pub authority_host: Option<String>,
    /// Resource Manager endpoint; also the token audience unless `token_audience` says otherwise.
    #[serde(default = "default_arm_endpoint")]
    pub arm_endpoint: String,
    /// The audience tokens are asked for when it is not the ARM endpoint (Azure
    /// Stack Hub, some sovereign clouds): an app ID URI, or a scope ending in `/.default`.
    #[serde(default)]
    pub token_audience: Option<String>,
    /// A certificate for the tenant_id / client_id service principal: a PEM file with
    /// the certificate and its RSA key, or a PFX / PKCS#12 file whose password, if
    /// any, is in the keyring as `<source>/client_certificate_password`.
    #[serde(default)]
    pub client_certificate: Option<PathBuf>,
    /// PEM bundle of certificate authorities trusted besides the system's, for ARM
    /// and the token authority (Azure Stack Hub, a TLS-inspecting proxy).
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Alert severity (Sev0..Sev4) to P0..P3.
    #[serde(default = "default_severity_map")]
    pub severity_map: SeverityMap,
    /// Cost Management is throttled hard: query it this rarely.
    #[serde(default = "default_cost_interval")]
    pub cost_interval_secs: u64,
    /// Cosmos DB accounts (resource ids): replication latency per region pair.
    #[serde(default)]
    pub cosmos_accounts: Vec<String>,
    /// Recovery point objective for database replication lag, seconds.
    #[serde(default = "default_rpo")]
    pub rpo_secs: f64,
    /// The public Retail Prices API (no credentials), for the scale sets' VM sizes.
    /// It prices the public cloud only: with another `arm_endpoint` (a sovereign
    /// cloud, Azure Stack Hub) prices are read only when this is set.
    #[serde(default)]
    pub retail_prices_url: Option<String>,
    /// The currency prices are asked in (the API converts).
    #[serde(default = "default_price_currency")]
    pub price_currency: String,
    /// Prices move slowly: read them this rarely (and at once when a set's size changes).
    #[serde(default = "default_price_interval")]
    pub price_interval_secs: u64,
}

impl AzureConfig {
    /// Subscriptions with every optional setting at its default.
    pub fn new(subscriptions: Vec<String>) -> AzureConfig {
        AzureConfig {
            subscriptions,
            resource_groups: vec![],
            scale_sets: vec![],
            traffic_manager_profiles: vec![],
            front_doors: vec![],
            app_gateways: vec![],
            tenant_id: None,
            client_id: None,
            authority_host: None,
            arm_endpoint: default_arm_endpoint(),
            token_audience: None,
            client_certificate: None,
            ca_file: None,
            severity_map: default_severity_map(),
            cost_interval_secs: default_cost_interval(),
            retail_prices_url: None,
            cosmos_accounts: vec![],
            rpo_secs: default_rpo(),
            price_currency: default_price_currency(),
            price_interval_secs: default_price_interval(),
        }
    }

    /// The scope tokens are requested for: `token_audience` (or the ARM endpoint)
    /// plus `/.default`, or `token_audience` as written when it is already a scope.
    pub fn token_scope(&self) -> String {
        match self.token_audience.as_deref() {
            Some(a) if a.ends_with("/.default") => a.to_string(),
            Some(a) => format!("{}/.default", a.trim_end_matches('/')),
            None => format!("{}/.default", self.arm_endpoint.trim_end_matches('/')),
        }
    }

    /// Where VM prices are read: the configured URL, else the public API when
    /// this is the public cloud; None (no prices) otherwise.
    pub fn prices_url(&self) -> Option<&str> {
        match &self.retail_prices_url {
            Some(url) => Some(url),
            None if self.arm_endpoint.trim_end_matches('/') == default_arm_endpoint().trim_end_matches('/') => {
                Some(PUBLIC_RETAIL_PRICES)
            }
            None => None,
        }
    }

    /// Every configured resource id with the key it came from.
    pub fn resources(&self) -> impl Iterator<Item = (&'static str, &String)> {
        self.scale_sets
            .iter()
            .map(|r| ("scale_sets", r))
            .chain(self.traffic_manager_profiles.iter().map(|r| ("traffic_manager_profiles", r)))
            .chain(self.front_doors.iter().map(|r| ("front_doors", r)))
            .chain(self.app_gateways.iter().map(|r| ("app_gateways", r)))
            .chain(self.cosmos_accounts.iter().map(|r| ("cosmos_accounts", r)))
    }
}

/// The subscription of an ARM resource id, if it is one.
pub fn subscription_of(resource_id: &str) -> Option<&str> {
    let mut parts = resource_id.trim_start_matches('/').split('/');
    match (parts.next(), parts.next()) {
        (Some(s), Some(id)) if s.eq_ignore_ascii_case("subscriptions") && !id.is_empty() => Some(id),
        _ => None,
    }
}

fn default_arm_endpoint() -> String {
    "https://management.azure.com".into()
}

fn default_cost_interval() -> u64 {
    3600
}
fn default_rpo() -> f64 {
    30.0
}
const PUBLIC_RETAIL_PRICES: &str = "https://prices.azure.com/api/retail/prices";
fn default_price_currency() -> String {
    "USD".into()
}
fn default_price_interval() -> u64 {
    3600
}

/// Alert severity (Sev0..Sev4) to P0..P3.
pub fn default_severity_map() -> SeverityMap {
    severity::map(severity::AZURE)
}

impl KindTable for AzureConfig {
    fn validate(&self, _source: &SourceConfig) -> Result<(), (&'static str, String)> {
        validate(self)
    }

    fn ca_file(&self) -> Option<&Path> {
        self.ca_file.as_deref()
    }
}

/// An Entra ID audience: an absolute URI (`https://management.core.windows.net/`,
/// `api://GUID`), no query or fragment (they are not part of a scope).
fn audience_ok(aud: &str) -> Result<(), &'static str> {
    if aud.is_empty() || aud.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("must be a URI without spaces");
    }
    let (scheme, rest) = aud.split_once("://").ok_or("must be an absolute URI such as https://management.example/")?;
    if scheme.is_empty() || !scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)) {
        return Err("has no valid scheme");
    }
    if rest.is_empty() || rest.starts_with('/') {
        return Err("names no host or application");
    }
    if aud.contains(['?', '#']) {
        return Err("must not carry a query or fragment");
    }
    Ok(())
}

/// `[sources.azure]` checks: the key to point at and what is wrong.
fn validate(a: &AzureConfig) -> Result<(), (&'static str, String)> {
    if a.subscriptions.is_empty() {
        return Err(("subscriptions", "subscriptions needs at least one subscription id".into()));
    }
    for (key, id) in a.resources() {
        match subscription_of(id) {
            None => return Err((key, format!("{id:?} is not a resource id (/subscriptions/SUB/resourceGroups/...)"))),
            Some(sub) if !a.subscriptions.iter().any(|s| s.eq_ignore_ascii_case(sub)) => {
                return Err((key, format!("{id:?} is in subscription {sub}, which is not in subscriptions")));
            }
            _ => {}
        }
    }
    for (key, url) in [("arm_endpoint", Some(&a.arm_endpoint)), ("authority_host", a.authority_host.as_ref())] {
        if let Some(u) = url
            && !u.starts_with("https://")
        {
            return Err((key, format!("{key} must be an https:// URL (tokens are only sent over TLS)")));
        }
    }
    if a.tenant_id.is_some() != a.client_id.is_some() {
        return Err(("tenant_id", "tenant_id and client_id go together (the secret is in the keyring)".into()));
    }
    if a.client_certificate.is_some() && a.client_id.is_none() {
        return Err(("client_certificate", "client_certificate needs tenant_id and client_id".into()));
    }
    if let Some(aud) = &a.token_audience {
        audience_ok(aud).map_err(|why| ("token_audience", format!("token_audience {aud:?}: {why}")))?;
    }
    if !(a.rpo_secs.is_finite() && a.rpo_secs > 0.0) {
        return Err(("rpo_secs", format!("rpo_secs must be a positive number, not {}", a.rpo_secs)));
    }
    if a.price_interval_secs < 60 {
        return Err(("price_interval_secs", "price_interval_secs must be at least 60".into()));
    }
    if let Some(url) = &a.retail_prices_url
        && reqwest::Url::parse(url).is_err()
    {
        return Err(("retail_prices_url", format!("'{url}' is not a URL")));
    }
    if !(a.price_currency.len() == 3 && a.price_currency.chars().all(|c| c.is_ascii_uppercase())) {
        return Err(("price_currency", format!("'{}' is not a currency code (e.g. USD)", a.price_currency)));
    }
    if a.cost_interval_secs < 60 {
        return Err(("cost_interval_secs", "cost_interval_secs must be at least 60".into()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::AzureConfig;
    use crate::providers::registry;

    #[test]
    fn the_azure_example_parses() {
        let p = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/azure.toml"));
        let c = registry::load(p).expect("example parses");
        let az = c.sources[0].table::<AzureConfig>().expect("azure table");
        assert_eq!(az.subscriptions.len(), 1);
        assert_eq!(az.severity_map.get("Sev4"), Some(&crate::model::Severity::P3));
        assert_eq!(az.arm_endpoint, "https://management.azure.com");
        assert!(!c.is_demo());
    }

    #[test]
    fn azure_validation_points_at_the_key() {
        let head = "[[sources]]\nname = \"a\"\nkind = \"azure\"\n";
        let err = registry::parse(Path::new("c.toml"), head).expect_err("no table");
        assert!(err.message.contains("[sources.azure]"), "{err}");
        let text = format!(
            "{head}[sources.azure]\nsubscriptions = [\"s1\"]\nscale_sets = [\"/subscriptions/s2/resourceGroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets/x\"]\n"
        );
        let err = registry::parse(Path::new("c.toml"), &text).expect_err("foreign subscription");
        assert_eq!(err.line, 6, "{err}");
        assert!(err.message.contains("subscription s2"), "{err}");
        let text = format!("{head}[sources.azure]\nsubscriptions = [\"s1\"]\narm_endpoint = \"http://127.0.0.1:1\"\n");
        let err = registry::parse(Path::new("c.toml"), &text).expect_err("plain http");
        assert!(err.message.contains("https://"), "{err}");
        let text = format!("{head}[sources.azure]\nsubscriptions = [\"s1\"]\nseverity_map = {{ Sev0 = \"P9\" }}\n");
        assert!(registry::parse(Path::new("c.toml"), &text).is_err(), "unknown severity");
        let text =
            format!("{head}[sources.azure]\nsubscriptions = [\"s1\"]\n[[sources]]\nname = \"b\"\nkind = \"demo\"\n");
        assert!(registry::parse(Path::new("c.toml"), &text).is_ok());
    }

    #[test]
    fn azure_token_audience_and_certificate_are_checked() {
        let head = "[[sources]]\nname = \"a\"\nkind = \"azure\"\n[sources.azure]\nsubscriptions = [\"s1\"]\n";
        let parse = |extra: &str| registry::parse(Path::new("c.toml"), &format!("{head}{extra}"));
        for bad in ["management.local", "https://", "https:///x", "https://a b", "https://m.local/?x=1", "://m"] {
            let err = parse(&format!("token_audience = {bad:?}\n")).expect_err(bad);
            assert_eq!(err.line, 6, "{bad}: {err}");
            assert!(err.message.contains("token_audience"), "{err}");
        }
        let ok = |extra: &str| {
            parse(extra).expect("valid").sources.remove(0).table::<AzureConfig>().cloned().expect("azure")
        };
        assert_eq!(ok("").token_scope(), "https://management.azure.com/.default", "the ARM endpoint by default");
        let hub = ok(
            "arm_endpoint = \"https://management.local.azurestack.external\"\ntoken_audience = \"https://management.adfs.azurestack.local/4de154de-f8a8-4017-af41-df619da68155\"\n",
        );
        assert_eq!(
            hub.token_scope(),
            "https://management.adfs.azurestack.local/4de154de-f8a8-4017-af41-df619da68155/.default"
        );
        assert_eq!(
            ok("token_audience = \"https://management.core.windows.net/\"\n").token_scope(),
            "https://management.core.windows.net/.default"
        );
        assert_eq!(
            ok("token_audience = \"api://x/.default\"\n").token_scope(),
            "api://x/.default",
            "a scope as written"
        );
        let err = parse("client_certificate = \"/c.pem\"\n").expect_err("no ids");
        assert!(err.message.contains("client_certificate needs tenant_id and client_id"), "{err}");
        let c = ok("tenant_id = \"t\"\nclient_id = \"c\"\nclient_certificate = \"/c.pfx\"\n");
        assert_eq!(c.client_certificate.as_deref(), Some(Path::new("/c.pfx")));
    }
}
