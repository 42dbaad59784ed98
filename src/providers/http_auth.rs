//! `[sources.<kind>.auth]` of the plain-HTTP sources (Prometheus, Alertmanager):
//! which keyring entries hold the secrets, checked with the config and listed by
//! `opsdeck creds list`. The secrets themselves are read by [`super::http`].

use std::path::PathBuf;

use serde::Deserialize;

use crate::credentials::Keyring;

/// How to reach an HTTP source that sits behind authentication. Secrets are
/// named by keyring entry (`<source>/<field>`, stored with `opsdeck creds set`).
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct HttpAuthConfig {
    /// Keyring entry holding a bearer token, e.g. "prom/bearer_token".
    #[serde(default)]
    pub bearer_token_entry: Option<String>,
    #[serde(default)]
    pub basic_auth_user: Option<String>,
    /// Keyring entry holding the basic-auth password, e.g. "prom/password".
    #[serde(default)]
    pub basic_auth_password_entry: Option<String>,
    /// PEM file of certificate authorities to trust besides the system's.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
}

impl HttpAuthConfig {
    /// Every keyring entry this auth names, as (source, field).
    pub fn entries(&self) -> Vec<(&str, &str)> {
        [&self.bearer_token_entry, &self.basic_auth_password_entry]
            .into_iter()
            .flatten()
            .filter_map(|e| e.split_once('/'))
            .collect()
    }

    /// What is wrong with it, as (key, message): entries must name
    /// `<source>/<field>`, basic auth needs both halves, and one scheme only.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        for (key, entry) in [
            ("bearer_token_entry", &self.bearer_token_entry),
            ("basic_auth_password_entry", &self.basic_auth_password_entry),
        ] {
            if let Some(e) = entry
                && !e.split_once('/').is_some_and(|(a, b)| !a.is_empty() && !b.is_empty() && !b.contains('/'))
            {
                return Err((key, format!("'{e}' must name a keyring entry as <source>/<field>")));
            }
        }
        if self.basic_auth_user.is_some() != self.basic_auth_password_entry.is_some() {
            return Err((
                "basic_auth_user",
                "basic auth needs both basic_auth_user and basic_auth_password_entry".into(),
            ));
        }
        if self.bearer_token_entry.is_some() && self.basic_auth_user.is_some() {
            return Err(("bearer_token_entry", "choose a bearer token or basic auth, not both".into()));
        }
        Ok(())
    }
}

/// `opsdeck creds list`: where an HTTP source's secret comes from, the keyring
/// entry the config names.
pub fn credential_line(name: &str, auth: Option<&HttpAuthConfig>) -> String {
    let Some((source, field)) = auth.and_then(|a| a.entries().first().copied()) else {
        return format!("{name}: no credentials configured (plain HTTP access)");
    };
    let keyring = Keyring::detect();
    let found = match keyring.get(source, field) {
        Ok(Some(_)) => "found".to_string(),
        Ok(None) => format!("MISSING: store it with `opsdeck creds set {source} {field}`"),
        Err(e) => format!("unreadable: {e}"),
    };
    format!("{name}: keyring ({}) entry {source}/{field}: {found}", keyring.backend.label())
}
