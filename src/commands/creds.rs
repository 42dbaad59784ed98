//! `opsdeck creds ...`: secrets in the OS keyring, and where each configured
//! source's credentials resolve from (also printed by `doctor`).

use opsdeck::config::Config;
use opsdeck::credentials::{Keyring, Secret};
use opsdeck::startup;

use crate::cli::{Cli, CredsCmd};

/// `opsdeck creds ...`. Keyring calls block; this runs outside any async runtime.
pub fn run(cli: &Cli, action: &CredsCmd) -> anyhow::Result<()> {
    use std::io::{IsTerminal, Read};
    let keyring = Keyring::detect();
    match action {
        CredsCmd::Set { source, field } => {
            let value = if std::io::stdin().is_terminal() {
                rpassword::prompt_password(format!("secret for {source}/{field} (not echoed): "))?
            } else {
                let mut s = String::new();
                std::io::stdin().read_to_string(&mut s)?;
                s.trim_end_matches(['\r', '\n']).to_string()
            };
            anyhow::ensure!(!value.is_empty(), "empty secret: nothing stored");
            keyring.set(source, field, &Secret::new(value))?;
            println!("stored {source}/{field} in the {}", keyring.backend.label());
        }
        CredsCmd::Get { source, field, reveal } => match keyring.get(source, field)? {
            Some(secret) if *reveal => {
                anyhow::ensure!(std::io::stdout().is_terminal(), "--reveal prints only to a terminal");
                println!("{}", secret.expose());
            }
            Some(_) => println!(
                "{source}/{field}: set, in the {} (service {})",
                keyring.backend.label(),
                opsdeck::credentials::SERVICE
            ),
            None => anyhow::bail!("{source}/{field}: not in the {}", keyring.backend.label()),
        },
        CredsCmd::Rm { source, field } => {
            if keyring.remove(source, field)? {
                println!("removed {source}/{field}");
            } else {
                anyhow::bail!("{source}/{field}: not in the {}", keyring.backend.label());
            }
        }
        CredsCmd::List => {
            let (config, _) = startup::load_config(cli.config.as_deref())?;
            println!("keyring backend: {}", keyring.backend.label());
            for line in credential_lines(&config) {
                println!("{line}");
            }
        }
    }
    Ok(())
}

/// One line per configured source: where its credentials resolve from.
pub fn credential_lines(config: &Config) -> Vec<String> {
    use opsdeck::config::SourceKind;
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let home = directories::BaseDirs::new().map(|b| b.home_dir().to_path_buf());
    if config.sources.is_empty() {
        return vec!["demo: no credentials needed (embedded demo estate)".into()];
    }
    config
        .sources
        .iter()
        .map(|s| match (&s.kind, &s.aws, &s.azure) {
            (SourceKind::Aws, Some(a), _) => {
                let r = opsdeck::credentials::aws_chain(&env, a.profile.as_deref(), home.as_deref());
                format!("{}: aws account {}: {r}", s.name, a.account)
            }
            (SourceKind::Prometheus | SourceKind::Alertmanager, _, _) => {
                let auth = s.prometheus.as_ref().map(|p| &p.auth).or(s.alertmanager.as_ref().map(|a| &a.auth));
                http_auth_line(&s.name, auth)
            }
            (SourceKind::Aliyun, _, _) => aliyun_credential_line(s),
            (SourceKind::Azure, _, Some(a)) => {
                use opsdeck::providers::azure::creds;
                let keyring = opsdeck::credentials::Keyring::detect();
                let (facts, _secret) = creds::gather_blocking(&s.name, a, Some(&keyring));
                let how = creds::describe(creds::choose(&facts), &facts, &s.name);
                format!("{}: azure subscriptions {}: {how}", s.name, a.subscriptions.join(", "))
            }
            _ => format!("{}: {:?}: no credentials needed", s.name, s.kind),
        })
        .collect()
}

/// Where an HTTP source's secret comes from: the keyring entry the config names.
fn http_auth_line(name: &str, auth: Option<&opsdeck::config::HttpAuthConfig>) -> String {
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

/// Which identity an Alibaba Cloud source uses and where it was found (config,
/// env, aliyun CLI profile, ECS RAM role, RamRoleArn, keyring).
fn aliyun_credential_line(s: &opsdeck::config::SourceConfig) -> String {
    use opsdeck::providers::aliyun::{creds, resolve_standard};
    let Some(a) = &s.aliyun else { return format!("{}: aliyun: no [sources.aliyun] table", s.name) };
    match resolve_standard(&s.name, a) {
        Ok((identity, origin)) => format!("{}: aliyun {}: {}", s.name, a.region, creds::describe(&identity, &origin)),
        Err(why) => format!("{}: aliyun {}: {why}", s.name, a.region),
    }
}
