//! `opsdeck doctor`: where each source's credentials come from, and one real
//! poll per source; non-zero if any check fails.

use opsdeck::credentials::{Keyring, redact};
use opsdeck::startup;

use crate::cli::Cli;
use opsdeck::providers::registry::credential_lines;

/// `opsdeck doctor`: credentials and one real poll per source; non-zero if any fails.
pub fn run(cli: &Cli) -> anyhow::Result<()> {
    let (config, path) = startup::load_config(cli.config.as_deref())?;
    println!("config: {}", path.map_or("none (embedded demo)".to_string(), |p| p.display().to_string()));
    let keyring = Keyring::detect();
    println!("keyring backend: {}", keyring.backend.label());
    for line in credential_lines(&config) {
        println!("credentials  {line}");
    }
    let built = startup::build(&config, cli.demo.as_deref())?;
    let rt = super::async_runtime()?;
    // Sources and checks are counted apart: one unreachable source fails each of its checks.
    let mut tally = DoctorTally::default();
    // Act-only sources are checked too: their credentials are what an action will use.
    for s in built.sources.iter().chain(&built.act_only) {
        let (id, kind) = (s.provider.id().clone(), s.provider.kind());
        let checks = rt.block_on(async {
            match tokio::time::timeout(s.timeout * 4, s.provider.preflight(chrono::Utc::now())).await {
                Ok(c) => c,
                Err(_) => vec![opsdeck::providers::Check {
                    what: "preflight".into(),
                    result: Err(format!("timed out after {:?}", s.timeout * 4)),
                }],
            }
        });
        tally.source(&checks);
        for c in checks {
            match c.result {
                Ok(found) => println!("✓ {id} ({kind}) {}: {}", c.what, redact(&found)),
                Err(why) => println!("✗ {id} ({kind}) {}: {}", c.what, redact(&why)),
            }
        }
    }
    anyhow::ensure!(tally.failed_checks == 0, "{tally}");
    println!("{tally}");
    Ok(())
}

/// What `doctor` found, counted by source and by check.
#[derive(Default)]
struct DoctorTally {
    sources: usize,
    failed_sources: usize,
    checks: usize,
    failed_checks: usize,
}

impl DoctorTally {
    fn source(&mut self, checks: &[opsdeck::providers::Check]) {
        let failed = checks.iter().filter(|c| c.result.is_err()).count();
        self.sources += 1;
        self.failed_sources += usize::from(failed > 0);
        self.checks += checks.len();
        self.failed_checks += failed;
    }
}

impl std::fmt::Display for DoctorTally {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = |count: usize, one: &str, many: &str| format!("{count} {}", if count == 1 { one } else { many });
        if self.failed_checks == 0 {
            return write!(
                f,
                "all {} passed on {}",
                n(self.checks, "check", "checks"),
                n(self.sources, "source", "sources")
            );
        }
        write!(
            f,
            "{} of {} failed: {} of {} failed",
            self.failed_sources,
            n(self.sources, "source", "sources"),
            self.failed_checks,
            n(self.checks, "check", "checks"),
        )
    }
}
