//! Which Azure credential a source uses, first match wins:
//! 1. a service principal in the environment (AZURE_TENANT_ID, AZURE_CLIENT_ID,
//!    AZURE_CLIENT_SECRET) — the cloud's own chain;
//! 2. the config's tenant_id / client_id with the secret in opsdeck's keyring
//!    (`<source>/client_secret`);
//! 3. the Azure CLI login, when `az` is on PATH;
//! 4. managed identity (App Service or the VM's IMDS), resolved when polling.
//!
//! The choice is a pure function of what was found, so `creds list`, `doctor` and
//! the provider agree and the order is tested.

use std::sync::Arc;

use azure_core::cloud::{CloudConfiguration, CustomConfiguration};
use azure_core::credentials::TokenCredential;
use azure_core::http::{ClientOptions, Transport};
use azure_identity::{
    AzureCliCredential, AzureCliCredentialOptions, ClientSecretCredential, ClientSecretCredentialOptions,
    ManagedIdentityCredential, ManagedIdentityCredentialOptions,
};

use super::arm::one_line;
use crate::config::AzureConfig;
use crate::credentials::{Secret, SecretStore};
use crate::providers::ProviderError;

/// The keyring field holding a service principal's secret.
pub const SECRET_FIELD: &str = "client_secret";

/// What is known about the machine, gathered without calling Azure.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    /// AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET are all set.
    pub env_service_principal: bool,
    /// The config names tenant_id and client_id.
    pub config_service_principal: bool,
    /// The keyring holds `<source>/client_secret`.
    pub keyring_secret: bool,
    /// `az` is on PATH.
    pub azure_cli: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    EnvironmentServicePrincipal,
    KeyringServicePrincipal,
    AzureCli,
    ManagedIdentity,
}

pub fn choose(f: &Facts) -> Choice {
    if f.env_service_principal {
        Choice::EnvironmentServicePrincipal
    } else if f.config_service_principal && f.keyring_secret {
        Choice::KeyringServicePrincipal
    } else if f.azure_cli {
        Choice::AzureCli
    } else {
        Choice::ManagedIdentity
    }
}

/// One line for `opsdeck creds list` / `doctor`.
pub fn describe(choice: Choice, f: &Facts, source: &str) -> String {
    let base = match choice {
        Choice::EnvironmentServicePrincipal => "environment service principal (AZURE_CLIENT_ID)".to_string(),
        Choice::KeyringServicePrincipal => {
            format!("service principal from config, secret in keyring entry {source}/{SECRET_FIELD}")
        }
        Choice::AzureCli => "Azure CLI login (az account get-access-token)".to_string(),
        Choice::ManagedIdentity => "managed identity, if this host has one (resolved when polling)".to_string(),
    };
    if f.config_service_principal && !f.keyring_secret && choice != Choice::EnvironmentServicePrincipal {
        format!("{base}; note: config names a service principal but keyring entry {source}/{SECRET_FIELD} is missing")
    } else {
        base
    }
}

pub fn env_facts(env: &dyn Fn(&str) -> Option<String>, cfg: &AzureConfig) -> Facts {
    let path_has_az = env("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join("az").is_file() || d.join("az.cmd").is_file()));
    Facts {
        env_service_principal: ["AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET"]
            .iter()
            .all(|k| env(k).is_some()),
        config_service_principal: cfg.tenant_id.is_some() && cfg.client_id.is_some(),
        keyring_secret: false,
        azure_cli: path_has_az,
    }
}

/// Facts of this process, reading the keyring only when the config names a
/// service principal. Blocking: call from a plain thread or `spawn_blocking`.
pub fn gather_blocking(source: &str, cfg: &AzureConfig, keyring: Option<&dyn SecretStore>) -> (Facts, Option<Secret>) {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    gather(source, cfg, &env, keyring)
}

/// [`gather_blocking`] with the environment and the store given.
pub fn gather(
    source: &str,
    cfg: &AzureConfig,
    env: &dyn Fn(&str) -> Option<String>,
    keyring: Option<&dyn SecretStore>,
) -> (Facts, Option<Secret>) {
    let mut facts = env_facts(env, cfg);
    let mut secret = None;
    if facts.config_service_principal && !facts.env_service_principal {
        match keyring.map(|k| k.get(source, SECRET_FIELD)) {
            Some(Ok(Some(s))) => {
                facts.keyring_secret = true;
                secret = Some(s);
            }
            Some(Err(e)) => log::warn!("{source}: keyring: {e}"),
            _ => {}
        }
    }
    (facts, secret)
}

fn client_options(cfg: &AzureConfig, transport: Option<Transport>) -> ClientOptions {
    let cloud = cfg.authority_host.as_ref().map(|host| {
        let mut custom = CustomConfiguration::default();
        custom.authority_host = host.clone();
        Arc::new(CloudConfiguration::from(custom))
    });
    ClientOptions { cloud, transport, ..Default::default() }
}

fn cred_err(e: azure_core::Error) -> ProviderError {
    ProviderError::Auth(one_line(&e))
}

/// A service principal with a client secret (environment or keyring).
pub fn client_secret(
    tenant: &str,
    client: &str,
    secret: &Secret,
    cfg: &AzureConfig,
    transport: Option<Transport>,
) -> Result<Arc<dyn TokenCredential>, ProviderError> {
    let options = ClientSecretCredentialOptions { client_options: client_options(cfg, transport) };
    let c = ClientSecretCredential::new(tenant, client.to_string(), secret.expose().to_string().into(), Some(options))
        .map_err(cred_err)?;
    Ok(c)
}

/// The credential for `choice`; `secret` is the keyring's when that was chosen.
pub fn build(
    choice: Choice,
    cfg: &AzureConfig,
    secret: Option<Secret>,
    transport: Transport,
) -> Result<Arc<dyn TokenCredential>, ProviderError> {
    let env = |k: &str| std::env::var(k).unwrap_or_default();
    match choice {
        Choice::EnvironmentServicePrincipal => client_secret(
            &env("AZURE_TENANT_ID"),
            &env("AZURE_CLIENT_ID"),
            &Secret::new(env("AZURE_CLIENT_SECRET")),
            cfg,
            Some(transport),
        ),
        Choice::KeyringServicePrincipal => {
            let secret = secret.ok_or_else(|| ProviderError::Auth("keyring secret vanished".into()))?;
            let (tenant, client) = (cfg.tenant_id.as_deref().unwrap_or(""), cfg.client_id.as_deref().unwrap_or(""));
            client_secret(tenant, client, &secret, cfg, Some(transport))
        }
        Choice::AzureCli => {
            let options = AzureCliCredentialOptions { tenant_id: cfg.tenant_id.clone(), ..Default::default() };
            Ok(AzureCliCredential::new(Some(options)).map_err(cred_err)?)
        }
        Choice::ManagedIdentity => {
            let options = ManagedIdentityCredentialOptions {
                client_options: client_options(cfg, Some(transport)),
                ..Default::default()
            };
            Ok(ManagedIdentityCredential::new(Some(options)).map_err(cred_err)?)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolution_order() {
        let all = Facts {
            env_service_principal: true,
            config_service_principal: true,
            keyring_secret: true,
            azure_cli: true,
        };
        assert_eq!(choose(&all), Choice::EnvironmentServicePrincipal, "the cloud's chain wins");
        let kr = Facts { env_service_principal: false, ..all.clone() };
        assert_eq!(choose(&kr), Choice::KeyringServicePrincipal);
        let no_secret = Facts { keyring_secret: false, ..kr.clone() };
        assert_eq!(choose(&no_secret), Choice::AzureCli);
        assert!(describe(Choice::AzureCli, &no_secret, "az-prod").contains("az-prod/client_secret is missing"));
        let bare = Facts::default();
        assert_eq!(choose(&bare), Choice::ManagedIdentity);
        let secret_without_ids = Facts { keyring_secret: true, ..Facts::default() };
        assert_eq!(choose(&secret_without_ids), Choice::ManagedIdentity, "a secret needs the config's ids");
    }

    #[test]
    fn environment_facts() {
        let cfg = AzureConfig::new(vec!["s".into()]);
        let env = |k: &str| match k {
            "AZURE_TENANT_ID" | "AZURE_CLIENT_ID" => Some("x".to_string()),
            _ => None,
        };
        let f = env_facts(&env, &cfg);
        assert!(!f.env_service_principal, "no secret in the environment");
        assert!(!f.config_service_principal && !f.azure_cli);
    }
}
