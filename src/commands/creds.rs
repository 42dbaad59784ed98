//! `opsdeck creds ...`: secrets in the OS keyring, and where each configured
//! source's credentials resolve from (also printed by `doctor`).

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
            for line in opsdeck::providers::registry::credential_lines(&config) {
                println!("{line}");
            }
        }
    }
    Ok(())
}
