//! Which Azure credential a source uses, first match wins:
//! 1. a service principal in the environment (AZURE_TENANT_ID, AZURE_CLIENT_ID and
//!    AZURE_CLIENT_SECRET, or AZURE_CLIENT_CERTIFICATE_PATH with an optional
//!    AZURE_CLIENT_CERTIFICATE_PASSWORD) — the cloud's own EnvironmentCredential;
//! 2. workload identity: AZURE_FEDERATED_TOKEN_FILE with the tenant and client ids
//!    of the environment (or the config);
//! 3. the config's tenant_id / client_id with `client_certificate` (its password,
//!    if any, in opsdeck's keyring as `<source>/client_certificate_password`);
//! 4. the config's tenant_id / client_id with the secret in opsdeck's keyring
//!    (`<source>/client_secret`);
//! 5. the Azure CLI login, when `az` is on PATH;
//! 6. managed identity (App Service or the VM's IMDS), resolved when polling.
//!
//! The choice is a pure function of what was found, so `creds list`, `doctor` and
//! the provider agree and the order is tested. Every credential that speaks HTTP
//! is given the source's transport (its `ca_file`) and the same authority.

use std::path::PathBuf;
use std::sync::Arc;

use azure_core::cloud::{CloudConfiguration, CustomConfiguration};
use azure_core::credentials::TokenCredential;
use azure_core::http::{ClientOptions, Transport};
use azure_identity::{
    AzureCliCredential, AzureCliCredentialOptions, ClientAssertion, ClientAssertionCredential,
    ClientAssertionCredentialOptions, ClientSecretCredential, ClientSecretCredentialOptions, ManagedIdentityCredential,
    ManagedIdentityCredentialOptions,
};

use super::arm::one_line;
use super::cert::{CertAssertion, Certificate, token_endpoint};
use super::config::AzureConfig;
use super::federated::FileAssertion;
use crate::credentials::{Secret, SecretStore};
use crate::providers::ProviderError;

/// The keyring field holding a service principal's secret.
pub const SECRET_FIELD: &str = "client_secret";
/// The keyring field holding the password of the config's `client_certificate`.
pub const CERT_PASSWORD_FIELD: &str = "client_certificate_password";
/// Entra ID of the public cloud, when neither the config nor AZURE_AUTHORITY_HOST names one.
const PUBLIC_AUTHORITY: &str = "https://login.microsoftonline.com";

/// What is known about the machine, gathered without calling Azure.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    /// AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET are all set.
    pub env_service_principal: bool,
    /// AZURE_CLIENT_CERTIFICATE_PATH, with AZURE_TENANT_ID and AZURE_CLIENT_ID.
    pub env_certificate: Option<PathBuf>,
    /// AZURE_CLIENT_CERTIFICATE_PASSWORD is set.
    pub env_certificate_password: bool,
    /// AZURE_FEDERATED_TOKEN_FILE, with a tenant and a client id (environment or config).
    pub federated_token_file: Option<PathBuf>,
    /// The config names tenant_id and client_id.
    pub config_service_principal: bool,
    /// The config's `client_certificate` (only with tenant_id and client_id).
    pub config_certificate: Option<PathBuf>,
    /// The keyring holds `<source>/client_certificate_password`.
    pub certificate_password: bool,
    /// The keyring holds `<source>/client_secret`.
    pub keyring_secret: bool,
    /// `az` is on PATH.
    pub azure_cli: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    EnvironmentServicePrincipal,
    EnvironmentCertificate,
    WorkloadIdentity,
    ConfigCertificate,
    KeyringServicePrincipal,
    AzureCli,
    ManagedIdentity,
}

impl Choice {
    /// Chosen from the environment alone: the keyring is not read.
    fn by_environment(self) -> bool {
        matches!(self, Choice::EnvironmentServicePrincipal | Choice::EnvironmentCertificate | Choice::WorkloadIdentity)
    }
}

pub fn choose(f: &Facts) -> Choice {
    if f.env_service_principal {
        Choice::EnvironmentServicePrincipal
    } else if f.env_certificate.is_some() {
        Choice::EnvironmentCertificate
    } else if f.federated_token_file.is_some() {
        Choice::WorkloadIdentity
    } else if f.config_service_principal && f.config_certificate.is_some() {
        Choice::ConfigCertificate
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
    let shown = |p: &Option<PathBuf>| p.as_ref().map(|p| p.display().to_string()).unwrap_or_default();
    let base = match choice {
        Choice::EnvironmentServicePrincipal => "environment service principal (AZURE_CLIENT_ID)".to_string(),
        Choice::EnvironmentCertificate => format!(
            "client certificate {} from the environment (AZURE_CLIENT_CERTIFICATE_PATH, {})",
            shown(&f.env_certificate),
            if f.env_certificate_password { "password in AZURE_CLIENT_CERTIFICATE_PASSWORD" } else { "no password" }
        ),
        Choice::WorkloadIdentity => {
            format!("workload identity (AZURE_FEDERATED_TOKEN_FILE {})", shown(&f.federated_token_file))
        }
        Choice::ConfigCertificate => format!(
            "client certificate {} ({})",
            shown(&f.config_certificate),
            if f.certificate_password {
                format!("password in keyring entry {source}/{CERT_PASSWORD_FIELD}")
            } else {
                format!("no password: keyring entry {source}/{CERT_PASSWORD_FIELD} absent")
            }
        ),
        Choice::KeyringServicePrincipal => {
            format!("service principal from config, secret in keyring entry {source}/{SECRET_FIELD}")
        }
        Choice::AzureCli => "Azure CLI login (az account get-access-token)".to_string(),
        Choice::ManagedIdentity => "managed identity, if this host has one (resolved when polling)".to_string(),
    };
    if f.config_service_principal && f.config_certificate.is_none() && !f.keyring_secret && !choice.by_environment() {
        format!("{base}; note: config names a service principal but keyring entry {source}/{SECRET_FIELD} is missing")
    } else {
        base
    }
}

/// `key` from the environment, else the config's value.
fn env_or(env: &dyn Fn(&str) -> Option<String>, key: &str, cfg: &Option<String>) -> Option<String> {
    env(key).or_else(|| cfg.clone())
}

pub fn env_facts(env: &dyn Fn(&str) -> Option<String>, cfg: &AzureConfig) -> Facts {
    let path_has_az = env("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join("az").is_file() || d.join("az.cmd").is_file()));
    let env_ids = env("AZURE_TENANT_ID").is_some() && env("AZURE_CLIENT_ID").is_some();
    let config_service_principal = cfg.tenant_id.is_some() && cfg.client_id.is_some();
    let workload_ids = env_or(env, "AZURE_TENANT_ID", &cfg.tenant_id).is_some()
        && env_or(env, "AZURE_CLIENT_ID", &cfg.client_id).is_some();
    Facts {
        env_service_principal: env_ids && env("AZURE_CLIENT_SECRET").is_some(),
        env_certificate: env("AZURE_CLIENT_CERTIFICATE_PATH").filter(|_| env_ids).map(PathBuf::from),
        env_certificate_password: env("AZURE_CLIENT_CERTIFICATE_PASSWORD").is_some(),
        federated_token_file: env("AZURE_FEDERATED_TOKEN_FILE").filter(|_| workload_ids).map(PathBuf::from),
        config_service_principal,
        config_certificate: cfg.client_certificate.clone().filter(|_| config_service_principal),
        certificate_password: false,
        keyring_secret: false,
        azure_cli: path_has_az,
    }
}

/// The process's environment, empty values as unset.
fn process_env(k: &str) -> Option<String> {
    std::env::var(k).ok().filter(|v| !v.is_empty())
}

/// Facts of this process, reading the keyring only when the config's service
/// principal may be used. Blocking: call from a plain thread or `spawn_blocking`.
pub fn gather_blocking(source: &str, cfg: &AzureConfig, keyring: Option<&dyn SecretStore>) -> (Facts, Option<Secret>) {
    gather(source, cfg, &process_env, keyring)
}

/// [`gather_blocking`] with the environment and the store given. The secret is
/// the keyring's for the choice: the certificate's password or the client secret.
pub fn gather(
    source: &str,
    cfg: &AzureConfig,
    env: &dyn Fn(&str) -> Option<String>,
    keyring: Option<&dyn SecretStore>,
) -> (Facts, Option<Secret>) {
    let mut facts = env_facts(env, cfg);
    if choose(&facts).by_environment() || !facts.config_service_principal {
        return (facts, None);
    }
    let field = if facts.config_certificate.is_some() { CERT_PASSWORD_FIELD } else { SECRET_FIELD };
    let mut secret = None;
    match keyring.map(|k| k.get(source, field)) {
        Some(Ok(Some(s))) => {
            if field == SECRET_FIELD {
                facts.keyring_secret = true;
            } else {
                facts.certificate_password = true;
            }
            secret = Some(s);
        }
        Some(Err(e)) => log::warn!("{source}: keyring: {e}"),
        _ => {}
    }
    (facts, secret)
}

/// The Entra ID authority: the config's, else AZURE_AUTHORITY_HOST (as the Azure
/// SDKs read it; AKS sets it for workload identity), else the public cloud's.
pub fn authority(cfg: &AzureConfig, env: &dyn Fn(&str) -> Option<String>) -> String {
    cfg.authority_host.clone().or_else(|| env("AZURE_AUTHORITY_HOST")).unwrap_or_else(|| PUBLIC_AUTHORITY.to_string())
}

/// Client options with the authority named explicitly, so a credential posts to
/// the same URL a client assertion is made for.
fn client_options(authority: String, transport: Option<Transport>) -> ClientOptions {
    let mut custom = CustomConfiguration::default();
    custom.authority_host = authority;
    ClientOptions { cloud: Some(Arc::new(CloudConfiguration::from(custom))), transport, ..Default::default() }
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
    let options =
        ClientSecretCredentialOptions { client_options: client_options(authority(cfg, &process_env), transport) };
    let c = ClientSecretCredential::new(tenant, client.to_string(), secret.expose().to_string().into(), Some(options))
        .map_err(cred_err)?;
    Ok(c)
}

fn assertion_credential<C: ClientAssertion + 'static>(
    tenant: &str,
    client: &str,
    assertion: C,
    authority: String,
    transport: Option<Transport>,
) -> Result<Arc<dyn TokenCredential>, ProviderError> {
    let options = ClientAssertionCredentialOptions { client_options: client_options(authority, transport) };
    let c = ClientAssertionCredential::new(tenant.to_string(), client.to_string(), assertion, Some(options))
        .map_err(cred_err)?;
    Ok(c)
}

/// A service principal with a certificate (PEM with its key, or PFX): a signed
/// assertion for each token request. `env` supplies AZURE_AUTHORITY_HOST.
pub fn client_certificate(
    tenant: &str,
    client: &str,
    path: &std::path::Path,
    password: Option<&Secret>,
    cfg: &AzureConfig,
    env: &dyn Fn(&str) -> Option<String>,
    transport: Option<Transport>,
) -> Result<Arc<dyn TokenCredential>, ProviderError> {
    let cert = Certificate::load(path, password).map_err(|e| ProviderError::Auth(e.to_string()))?;
    let authority = authority(cfg, env);
    let assertion = CertAssertion {
        cert: Arc::new(cert),
        client_id: client.to_string(),
        audience: token_endpoint(&authority, tenant),
    };
    assertion_credential(tenant, client, assertion, authority, transport)
}

/// Workload identity: the federated token file is the assertion, read for each request.
pub fn workload_identity(
    tenant: &str,
    client: &str,
    token_file: PathBuf,
    cfg: &AzureConfig,
    env: &dyn Fn(&str) -> Option<String>,
    transport: Option<Transport>,
) -> Result<Arc<dyn TokenCredential>, ProviderError> {
    assertion_credential(tenant, client, FileAssertion { path: token_file }, authority(cfg, env), transport)
}

/// The credential for `choice`; `secret` is the keyring's when that was chosen.
pub fn build(
    choice: Choice,
    cfg: &AzureConfig,
    secret: Option<Secret>,
    transport: Transport,
) -> Result<Arc<dyn TokenCredential>, ProviderError> {
    build_in(choice, cfg, secret, &process_env, transport)
}

/// [`build`] with the environment given.
pub fn build_in(
    choice: Choice,
    cfg: &AzureConfig,
    secret: Option<Secret>,
    env: &dyn Fn(&str) -> Option<String>,
    transport: Transport,
) -> Result<Arc<dyn TokenCredential>, ProviderError> {
    let var = |k: &str| env(k).unwrap_or_default();
    let ids = || {
        let tenant = env_or(env, "AZURE_TENANT_ID", &cfg.tenant_id).unwrap_or_default();
        (tenant, env_or(env, "AZURE_CLIENT_ID", &cfg.client_id).unwrap_or_default())
    };
    let config_ids = || (cfg.tenant_id.clone().unwrap_or_default(), cfg.client_id.clone().unwrap_or_default());
    match choice {
        Choice::EnvironmentServicePrincipal => client_secret(
            &var("AZURE_TENANT_ID"),
            &var("AZURE_CLIENT_ID"),
            &Secret::new(var("AZURE_CLIENT_SECRET")),
            cfg,
            Some(transport),
        ),
        Choice::EnvironmentCertificate => {
            let password = env("AZURE_CLIENT_CERTIFICATE_PASSWORD").map(Secret::new);
            client_certificate(
                &var("AZURE_TENANT_ID"),
                &var("AZURE_CLIENT_ID"),
                &PathBuf::from(var("AZURE_CLIENT_CERTIFICATE_PATH")),
                password.as_ref(),
                cfg,
                env,
                Some(transport),
            )
        }
        Choice::WorkloadIdentity => {
            let (tenant, client) = ids();
            let file = PathBuf::from(var("AZURE_FEDERATED_TOKEN_FILE"));
            workload_identity(&tenant, &client, file, cfg, env, Some(transport))
        }
        Choice::ConfigCertificate => {
            let (tenant, client) = config_ids();
            let path = cfg.client_certificate.clone().unwrap_or_default();
            client_certificate(&tenant, &client, &path, secret.as_ref(), cfg, env, Some(transport))
        }
        Choice::KeyringServicePrincipal => {
            let secret = secret.ok_or_else(|| ProviderError::Auth("keyring secret vanished".into()))?;
            let (tenant, client) = config_ids();
            client_secret(&tenant, &client, &secret, cfg, Some(transport))
        }
        Choice::AzureCli => {
            let options = AzureCliCredentialOptions { tenant_id: cfg.tenant_id.clone(), ..Default::default() };
            Ok(AzureCliCredential::new(Some(options)).map_err(cred_err)?)
        }
        Choice::ManagedIdentity => {
            let options = ManagedIdentityCredentialOptions {
                client_options: client_options(authority(cfg, env), Some(transport)),
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
            ..Facts::default()
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
