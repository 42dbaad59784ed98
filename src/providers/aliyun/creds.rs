//! Which identity an Alibaba Cloud source signs as, first match wins:
//!
//! 0. `credentials = "ecs_ram_role"` in the source's config: the ECS instance's RAM
//!    role (`ram_role_name`, or the one attached), read from the metadata service;
//! 1. `ALIBABA_CLOUD_ACCESS_KEY_ID` / `ALIBABA_CLOUD_ACCESS_KEY_SECRET`
//!    (+ `ALIBABA_CLOUD_SECURITY_TOKEN`), as the official SDKs read them;
//! 2. the aliyun CLI's `~/.aliyun/config.json`: the profile named in the source's
//!    config, else the CLI's current one; modes `AK`, `StsToken`, `EcsRamRole`
//!    (`ram_role_name`) and `RamRoleArn` (STS AssumeRole signed with the profile's key);
//! 3. `ALIBABA_CLOUD_ECS_METADATA` (a role name), as the official SDKs read it;
//! 4. opsdeck's keyring entries `<source>/access_key_id` and `<source>/access_key_secret`.
//!
//! The order is a pure function of its inputs so it can be tested without a
//! machine's real environment, files or keyring. Temporary identities (the RAM
//! role, AssumeRole) are fetched and refreshed by [`super::keys`].

use std::path::Path;

use serde_json::Value;

use super::sign::AccessKey;
use crate::credentials::Secret;

pub const ENV_ID: &str = "ALIBABA_CLOUD_ACCESS_KEY_ID";
pub const ENV_SECRET: &str = "ALIBABA_CLOUD_ACCESS_KEY_SECRET";
pub const ENV_TOKEN: &str = "ALIBABA_CLOUD_SECURITY_TOKEN";
pub const ENV_ECS_ROLE: &str = "ALIBABA_CLOUD_ECS_METADATA";
pub const FIELD_ID: &str = "access_key_id";
pub const FIELD_SECRET: &str = "access_key_secret";

/// STS refuses sessions shorter than this (seconds); the aliyun CLI's default too.
pub const MIN_SESSION_SECS: u32 = 900;

/// What a source signs as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    /// A key used as given: long-lived, or an STS token the user supplied (opsdeck
    /// cannot renew that one; it fails when it expires).
    Key(AccessKey),
    /// The ECS instance's RAM role: this one, or the one attached to the instance.
    EcsRamRole { role: Option<String> },
    /// STS AssumeRole, signed with a base key.
    RamRoleArn(AssumeRole),
}

/// The AssumeRole call of a RamRoleArn profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssumeRole {
    pub base: AccessKey,
    pub role_arn: String,
    pub session_name: String,
    pub duration_secs: u32,
}

/// Where the identity was found, for `opsdeck creds list` and `doctor`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// `credentials = "ecs_ram_role"` in the source's config.
    Config,
    Environment,
    CliProfile(String),
    /// `ALIBABA_CLOUD_ECS_METADATA`.
    EcsMetadataEnv,
    Keyring,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Config => write!(f, "credentials = \"ecs_ram_role\" in the config"),
            Origin::Environment => write!(f, "environment ({ENV_ID})"),
            Origin::CliProfile(p) => write!(f, "aliyun CLI profile {p} (~/.aliyun/config.json)"),
            Origin::EcsMetadataEnv => write!(f, "environment ({ENV_ECS_ROLE})"),
            Origin::Keyring => write!(f, "keyring (opsdeck / <source>/{FIELD_ID}, {FIELD_SECRET})"),
        }
    }
}

/// One line saying which identity a source uses and where it was found; no secret.
pub fn describe(identity: &Identity, origin: &Origin) -> String {
    match (identity, origin) {
        (Identity::Key(k), o) if k.security_token.is_some() => format!("STS token of {} from {o}", k.id),
        (Identity::Key(_), o) => format!("AccessKey from {o}"),
        (Identity::EcsRamRole { role }, o) => {
            let role = role.as_deref().map_or("attached to the instance".to_string(), String::from);
            format!("ECS RAM role {role} (metadata), from {o}")
        }
        (Identity::RamRoleArn(a), Origin::CliProfile(p)) => {
            format!(
                "RamRoleArn {} via profile {p} (STS AssumeRole signed with its AccessKey {})",
                a.role_arn, a.base.id
            )
        }
        (Identity::RamRoleArn(a), o) => format!("RamRoleArn {} from {o}", a.role_arn),
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
    /// `credentials = "ecs_ram_role"` in the source's config.
    pub ecs_ram_role: bool,
    /// `ram_role_name` in the source's config.
    pub ram_role_name: Option<&'a str>,
}

/// The identity and where it came from, or why there is none (every place looked at).
pub fn resolve(i: &Inputs<'_>) -> Result<(Identity, Origin), String> {
    if i.ecs_ram_role {
        let role = i.ram_role_name.map(String::from);
        return Ok((Identity::EcsRamRole { role }, Origin::Config));
    }
    let env = |k: &str| (i.env)(k).filter(|v| !v.is_empty());
    if let (Some(id), Some(secret)) = (env(ENV_ID), env(ENV_SECRET)) {
        let key = AccessKey { id, secret: Secret::new(secret), security_token: env(ENV_TOKEN).map(Secret::new) };
        return Ok((Identity::Key(key), Origin::Environment));
    }
    let mut why = vec![format!("{ENV_ID}/{ENV_SECRET} not set")];
    match i.cli_config.as_deref().map(|t| from_cli_config(t, i.profile)) {
        Some(Ok((identity, name))) => return Ok((identity, Origin::CliProfile(name))),
        Some(Err(e)) => why.push(e),
        None => why.push("no ~/.aliyun/config.json".into()),
    }
    if let Some(role) = env(ENV_ECS_ROLE) {
        return Ok((Identity::EcsRamRole { role: Some(role) }, Origin::EcsMetadataEnv));
    }
    match ((i.keyring)(FIELD_ID), (i.keyring)(FIELD_SECRET)) {
        (Ok(Some(id)), Ok(Some(secret))) => {
            let key = AccessKey { id: id.expose().to_string(), secret, security_token: None };
            return Ok((Identity::Key(key), Origin::Keyring));
        }
        (Err(e), _) | (_, Err(e)) => why.push(format!("keyring: {e}")),
        _ => why.push(format!("no keyring entries {FIELD_ID} / {FIELD_SECRET}")),
    }
    Err(format!("no Alibaba Cloud AccessKey: {}", why.join("; ")))
}

/// The identity of one profile of the aliyun CLI's config file.
fn from_cli_config(text: &str, wanted: Option<&str>) -> Result<(Identity, String), String> {
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
    let key = |token: Option<String>| match (field("access_key_id"), field("access_key_secret")) {
        (Some(id), Some(secret)) => {
            Ok(AccessKey { id, secret: Secret::new(secret), security_token: token.map(Secret::new) })
        }
        _ => Err(format!("aliyun CLI profile {name} has no access_key_id / access_key_secret")),
    };
    let identity = match mode.as_str() {
        "AK" => Identity::Key(key(None)?),
        "StsToken" => {
            let token = field("sts_token").ok_or_else(|| format!("aliyun CLI profile {name} has no sts_token"))?;
            Identity::Key(key(Some(token))?)
        }
        "EcsRamRole" => Identity::EcsRamRole { role: field("ram_role_name") },
        "RamRoleArn" => {
            let role_arn =
                field("ram_role_arn").ok_or_else(|| format!("aliyun CLI profile {name} has no ram_role_arn"))?;
            // The CLI writes a number; a hand-edited file may hold a string.
            let secs = match profile.get("expired_seconds") {
                Some(Value::Number(n)) => n.as_u64(),
                Some(Value::String(s)) => s.trim().parse().ok(),
                _ => None,
            };
            let duration_secs = secs.map_or(MIN_SESSION_SECS, |s| s.clamp(MIN_SESSION_SECS as u64, 43_200) as u32);
            Identity::RamRoleArn(AssumeRole {
                base: key(None)?,
                role_arn,
                session_name: field("ram_session_name").unwrap_or_else(|| "opsdeck".into()),
                duration_secs,
            })
        }
        other => {
            return Err(format!(
                "aliyun CLI profile {name} has mode {other}; opsdeck reads AK, StsToken, EcsRamRole and RamRoleArn"
            ));
        }
    };
    Ok((identity, name))
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
        {"name":"role","mode":"RamRoleArn","access_key_id":"x","access_key_secret":"y",
         "ram_role_arn":"acs:ram::123:role/shop-reader","ram_session_name":"ops","expired_seconds":3600},
        {"name":"short","mode":"RamRoleArn","access_key_id":"x","access_key_secret":"y",
         "ram_role_arn":"acs:ram::123:role/r","expired_seconds":60},
        {"name":"norole","mode":"RamRoleArn","access_key_id":"x","access_key_secret":"y"},
        {"name":"ecs","mode":"EcsRamRole","ram_role_name":"shop-reader"},
        {"name":"chain","mode":"ChainableRamRoleArn","source_profile":"ops"}]}"#;

    fn env_of(vars: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())
    }

    fn keyring_with(id: Option<&'static str>) -> impl Fn(&str) -> Result<Option<Secret>, String> {
        move |f| Ok(id.map(|i| Secret::new(if f == FIELD_ID { i } else { "ks" })))
    }

    fn inputs<'a>(
        env: &'a dyn Fn(&str) -> Option<String>,
        cli: Option<&str>,
        profile: Option<&'a str>,
        keyring: &'a dyn Fn(&str) -> Result<Option<Secret>, String>,
    ) -> Inputs<'a> {
        Inputs { env, cli_config: cli.map(String::from), profile, keyring, ecs_ram_role: false, ram_role_name: None }
    }

    fn key(i: Identity) -> AccessKey {
        match i {
            Identity::Key(k) => k,
            other => panic!("a key, not {other:?}"),
        }
    }

    #[test]
    fn resolution_order_env_then_cli_profile_then_keyring() {
        let full = env_of(&[(ENV_ID, "env-id"), (ENV_SECRET, "env-s"), (ENV_TOKEN, "tok")]);
        let none = env_of(&[]);
        let only_id = env_of(&[(ENV_ID, "env-id")]);
        let kr = keyring_with(Some("kr-id"));
        let no_kr = keyring_with(None);

        let (k, o) = resolve(&inputs(&full, Some(CLI), None, &kr)).expect("env");
        let k = key(k);
        assert_eq!((k.id.as_str(), o), ("env-id", Origin::Environment));
        assert_eq!(k.security_token, Some(Secret::new("tok")));

        // Half an environment pair is ignored; the CLI's current profile is next.
        assert_eq!(resolve(&inputs(&only_id, Some(CLI), None, &kr)).expect("cli").1, Origin::CliProfile("ops".into()));
        let k = key(resolve(&inputs(&none, Some(CLI), Some("sts"), &kr)).expect("sts profile").0);
        assert_eq!((k.id.as_str(), k.security_token), ("cli-sts", Some(Secret::new("t"))));

        // A profile opsdeck cannot use falls through to the keyring, and says so if that fails too.
        assert_eq!(resolve(&inputs(&none, Some(CLI), Some("chain"), &kr)).expect("keyring").1, Origin::Keyring);
        let e = resolve(&inputs(&none, Some(CLI), Some("chain"), &no_kr)).expect_err("nothing");
        assert!(e.contains("mode ChainableRamRoleArn") && e.contains("no keyring entries"), "{e}");
        let e = resolve(&inputs(&none, Some(CLI), Some("norole"), &no_kr)).expect_err("no arn");
        assert!(e.contains("profile norole has no ram_role_arn"), "{e}");
        let (k, o) = resolve(&inputs(&none, None, None, &kr)).expect("keyring");
        let k = key(k);
        assert_eq!((k.id.as_str(), k.secret.expose(), o), ("kr-id", "ks", Origin::Keyring));
    }

    #[test]
    fn ram_role_arn_and_ecs_profiles_become_temporary_identities() {
        let none = env_of(&[]);
        let kr = keyring_with(Some("kr-id"));
        let (id, o) = resolve(&inputs(&none, Some(CLI), Some("role"), &kr)).expect("role");
        let Identity::RamRoleArn(a) = &id else { panic!("{id:?}") };
        assert_eq!(
            (a.base.id.as_str(), a.base.secret.expose(), a.role_arn.as_str(), a.session_name.as_str(), a.duration_secs),
            ("x", "y", "acs:ram::123:role/shop-reader", "ops", 3600)
        );
        assert_eq!(
            describe(&id, &o),
            "RamRoleArn acs:ram::123:role/shop-reader via profile role (STS AssumeRole signed with its AccessKey x)"
        );
        // STS refuses sessions under 900 s: the profile's 60 is raised, the session name defaulted.
        let Identity::RamRoleArn(a) = resolve(&inputs(&none, Some(CLI), Some("short"), &kr)).expect("short").0 else {
            panic!("assume role")
        };
        assert_eq!((a.duration_secs, a.session_name.as_str()), (MIN_SESSION_SECS, "opsdeck"));

        let (id, o) = resolve(&inputs(&none, Some(CLI), Some("ecs"), &kr)).expect("ecs");
        assert_eq!(id, Identity::EcsRamRole { role: Some("shop-reader".into()) });
        assert_eq!(
            describe(&id, &o),
            "ECS RAM role shop-reader (metadata), from aliyun CLI profile ecs (~/.aliyun/config.json)"
        );
    }

    #[test]
    fn the_config_names_the_ecs_role_before_anything_else_and_the_env_role_comes_after_the_cli() {
        let full = env_of(&[(ENV_ID, "env-id"), (ENV_SECRET, "env-s"), (ENV_ECS_ROLE, "env-role")]);
        let role_only = env_of(&[(ENV_ECS_ROLE, "env-role")]);
        let kr = keyring_with(Some("kr-id"));
        let mut i = inputs(&full, Some(CLI), None, &kr);
        i.ecs_ram_role = true;
        let (id, o) = resolve(&i).expect("config");
        assert_eq!((id.clone(), o.clone()), (Identity::EcsRamRole { role: None }, Origin::Config));
        assert_eq!(
            describe(&id, &o),
            "ECS RAM role attached to the instance (metadata), from credentials = \"ecs_ram_role\" in the config"
        );
        i.ram_role_name = Some("shop-reader");
        assert_eq!(resolve(&i).expect("named").0, Identity::EcsRamRole { role: Some("shop-reader".into()) });

        assert_eq!(
            resolve(&inputs(&role_only, Some(CLI), None, &kr)).expect("cli").1,
            Origin::CliProfile("ops".into())
        );
        let (id, o) = resolve(&inputs(&role_only, None, None, &kr)).expect("env role");
        assert_eq!((id, o), (Identity::EcsRamRole { role: Some("env-role".into()) }, Origin::EcsMetadataEnv));
    }
}
