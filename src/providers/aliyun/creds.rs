//! Where an Alibaba Cloud source's AccessKey comes from, first match wins:
//!
//! 1. `ALIBABA_CLOUD_ACCESS_KEY_ID` / `ALIBABA_CLOUD_ACCESS_KEY_SECRET`
//!    (+ `ALIBABA_CLOUD_SECURITY_TOKEN`), as the official SDKs read them;
//! 2. the aliyun CLI's `~/.aliyun/config.json`: the profile named in the source's
//!    config, else the CLI's current one; modes `AK` and `StsToken`;
//! 3. opsdeck's keyring entries `<source>/access_key_id` and `<source>/access_key_secret`.
//!
//! The order is a pure function of its inputs so it can be tested without a
//! machine's real environment, files or keyring.

use std::path::Path;

use serde_json::Value;

use super::sign::AccessKey;
use crate::credentials::Secret;

pub const ENV_ID: &str = "ALIBABA_CLOUD_ACCESS_KEY_ID";
pub const ENV_SECRET: &str = "ALIBABA_CLOUD_ACCESS_KEY_SECRET";
pub const ENV_TOKEN: &str = "ALIBABA_CLOUD_SECURITY_TOKEN";
pub const FIELD_ID: &str = "access_key_id";
pub const FIELD_SECRET: &str = "access_key_secret";

/// Where a key was found, for `opsdeck creds list` and `doctor`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Environment,
    CliProfile(String),
    Keyring,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Environment => write!(f, "environment ({ENV_ID})"),
            Origin::CliProfile(p) => write!(f, "aliyun CLI profile {p} (~/.aliyun/config.json)"),
            Origin::Keyring => write!(f, "keyring (opsdeck / <source>/{FIELD_ID}, {FIELD_SECRET})"),
        }
    }
}

/// The inputs of the resolution.
pub struct Inputs<'a> {
    pub env: &'a dyn Fn(&str) -> Option<String>,
    /// Text of `~/.aliyun/config.json`, if it exists.
    pub cli_config: Option<String>,
    /// The profile named in the source's config.
    pub profile: Option<&'a str>,
    /// A keyring read of `<source>/<field>`: `Ok(None)` when there is no such entry.
    pub keyring: &'a dyn Fn(&str) -> Result<Option<Secret>, String>,
}

/// The key and where it came from, or why there is none (every place looked at).
pub fn resolve(i: &Inputs<'_>) -> Result<(AccessKey, Origin), String> {
    let env = |k: &str| (i.env)(k).filter(|v| !v.is_empty());
    if let (Some(id), Some(secret)) = (env(ENV_ID), env(ENV_SECRET)) {
        let key = AccessKey { id, secret: Secret::new(secret), security_token: env(ENV_TOKEN).map(Secret::new) };
        return Ok((key, Origin::Environment));
    }
    let mut why = vec![format!("{ENV_ID}/{ENV_SECRET} not set")];
    match i.cli_config.as_deref().map(|t| from_cli_config(t, i.profile)) {
        Some(Ok((key, name))) => return Ok((key, Origin::CliProfile(name))),
        Some(Err(e)) => why.push(e),
        None => why.push("no ~/.aliyun/config.json".into()),
    }
    match ((i.keyring)(FIELD_ID), (i.keyring)(FIELD_SECRET)) {
        (Ok(Some(id)), Ok(Some(secret))) => {
            let key = AccessKey { id: id.expose().to_string(), secret, security_token: None };
            return Ok((key, Origin::Keyring));
        }
        (Err(e), _) | (_, Err(e)) => why.push(format!("keyring: {e}")),
        _ => why.push(format!("no keyring entries {FIELD_ID} / {FIELD_SECRET}")),
    }
    Err(format!("no Alibaba Cloud AccessKey: {}", why.join("; ")))
}

/// The key of one profile of the aliyun CLI's config file.
fn from_cli_config(text: &str, wanted: Option<&str>) -> Result<(AccessKey, String), String> {
    let v: Value = serde_json::from_str(text).map_err(|_| "~/.aliyun/config.json is not valid JSON".to_string())?;
    let name = match wanted {
        Some(n) => n.to_string(),
        None => v.get("current").and_then(Value::as_str).filter(|s| !s.is_empty()).unwrap_or("default").to_string(),
    };
    let profile = v
        .get("profiles")
        .and_then(Value::as_array)
        .and_then(|ps| ps.iter().find(|p| p.get("name").and_then(Value::as_str) == Some(name.as_str())))
        .ok_or_else(|| format!("aliyun CLI profile {name} not found"))?;
    let field = |k: &str| profile.get(k).and_then(Value::as_str).filter(|s| !s.is_empty()).map(String::from);
    let mode = field("mode").unwrap_or_else(|| "AK".into());
    let token = match mode.as_str() {
        "AK" => None,
        "StsToken" => Some(field("sts_token").ok_or_else(|| format!("aliyun CLI profile {name} has no sts_token"))?),
        other => return Err(format!("aliyun CLI profile {name} has mode {other}; opsdeck reads AK and StsToken")),
    };
    match (field("access_key_id"), field("access_key_secret")) {
        (Some(id), Some(secret)) => {
            Ok((AccessKey { id, secret: Secret::new(secret), security_token: token.map(Secret::new) }, name))
        }
        _ => Err(format!("aliyun CLI profile {name} has no access_key_id / access_key_secret")),
    }
}

/// The aliyun CLI's config file under `home`, if readable.
pub fn read_cli_config(home: Option<&Path>) -> Option<String> {
    std::fs::read_to_string(home?.join(".aliyun/config.json")).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLI: &str = r#"{"current":"ops","profiles":[
        {"name":"default","mode":"AK","access_key_id":"cli-default","access_key_secret":"s1"},
        {"name":"ops","mode":"AK","access_key_id":"cli-ops","access_key_secret":"s2"},
        {"name":"sts","mode":"StsToken","access_key_id":"cli-sts","access_key_secret":"s3","sts_token":"t"},
        {"name":"role","mode":"RamRoleArn","access_key_id":"x","access_key_secret":"y"}]}"#;

    fn env_of(vars: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())
    }

    fn keyring_with(id: Option<&'static str>) -> impl Fn(&str) -> Result<Option<Secret>, String> {
        move |f| Ok(id.map(|i| Secret::new(if f == FIELD_ID { i } else { "ks" })))
    }

    #[test]
    fn resolution_order_env_then_cli_profile_then_keyring() {
        let full = env_of(&[(ENV_ID, "env-id"), (ENV_SECRET, "env-s"), (ENV_TOKEN, "tok")]);
        let none = env_of(&[]);
        let only_id = env_of(&[(ENV_ID, "env-id")]);
        let kr = keyring_with(Some("kr-id"));
        let no_kr = keyring_with(None);

        let i = Inputs { env: &full, cli_config: Some(CLI.into()), profile: None, keyring: &kr };
        let (k, o) = resolve(&i).expect("env");
        assert_eq!((k.id.as_str(), o), ("env-id", Origin::Environment));
        assert_eq!(k.security_token, Some(Secret::new("tok")));

        // Half an environment pair is ignored; the CLI's current profile is next.
        let i = Inputs { env: &only_id, cli_config: Some(CLI.into()), profile: None, keyring: &kr };
        assert_eq!(resolve(&i).expect("cli").1, Origin::CliProfile("ops".into()));
        let i = Inputs { env: &none, cli_config: Some(CLI.into()), profile: Some("sts"), keyring: &kr };
        let (k, _) = resolve(&i).expect("sts profile");
        assert_eq!((k.id.as_str(), k.security_token), ("cli-sts", Some(Secret::new("t"))));

        // A profile opsdeck cannot use falls through to the keyring, and says so if that fails too.
        let i = Inputs { env: &none, cli_config: Some(CLI.into()), profile: Some("role"), keyring: &kr };
        assert_eq!(resolve(&i).expect("keyring").1, Origin::Keyring);
        let i = Inputs { env: &none, cli_config: Some(CLI.into()), profile: Some("role"), keyring: &no_kr };
        let e = resolve(&i).expect_err("nothing");
        assert!(e.contains("mode RamRoleArn") && e.contains("no keyring entries"), "{e}");
        let i = Inputs { env: &none, cli_config: None, profile: None, keyring: &kr };
        let (k, o) = resolve(&i).expect("keyring");
        assert_eq!((k.id.as_str(), k.secret.expose(), o), ("kr-id", "ks", Origin::Keyring));
    }
}
