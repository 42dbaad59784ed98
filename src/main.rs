//! The `opsdeck` command line. Errors in the user's files are reported before the
//! terminal is touched, with a non-zero exit.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};

use opsdeck::actions::{Actor, AuditLog, Executor};
use opsdeck::clock::SystemClock;
use opsdeck::config::{Config, SAMPLE};
use opsdeck::credentials::{Keyring, Secret, redact};
use opsdeck::runtime::{self, Session};
use opsdeck::theme::{ColorMode, Theme};
use opsdeck::{runbook, startup};

#[derive(Parser, Debug)]
#[command(name = "opsdeck", version, about = "Terminal operations console for one shop on several clouds")]
struct Cli {
    /// Config file (default: the XDG config path, e.g. ~/.config/opsdeck/config.toml).
    #[arg(long, global = true, value_name = "PATH")]
    config: Option<PathBuf>,
    /// Theme: default, light, high-contrast, or a path to a theme file.
    #[arg(long, global = true, value_name = "NAME|PATH")]
    theme: Option<String>,
    /// Run the demo on this estate file instead of the embedded shop.
    #[arg(long, global = true, value_name = "FILE")]
    demo: Option<PathBuf>,
    /// Colour depth; auto reads COLORTERM and TERM. NO_COLOR is always honoured.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
    /// Draw with ASCII only: no box drawing or block glyphs (poor fonts, serial consoles).
    #[arg(long, global = true)]
    ascii: bool,
    /// For slow links: at most 4 frames a second and a clock that ticks once a minute.
    #[arg(long, global = true)]
    low_bandwidth: bool,
    /// How much to log (to the Logs pane and --log-file). trace includes the HTTP
    /// clients' and SDKs' own records; secrets are scrubbed from every line.
    #[arg(long, global = true, value_enum, default_value_t = LogLevel::Info, env = "OPSDECK_LOG_LEVEL")]
    log_level: LogLevel,
    /// Also append the log to this file (created owner-only), to read after a session.
    #[arg(long, global = true, value_name = "PATH", env = "OPSDECK_LOG_FILE")]
    log_file: Option<PathBuf>,
    /// Never change anything: no failover, scale or acknowledgement can run. Wins
    /// over the config, which can only make a session stricter.
    #[arg(long, global = true)]
    read_only: bool,
    #[command(subcommand)]
    command: Option<Cmd>,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum ColorChoice {
    Auto,
    #[value(name = "16")]
    Ansi16,
    #[value(name = "256")]
    Ansi256,
    Truecolor,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum LogLevel {
    Error,
    Warn,
    Info,
    Debug,
    Trace,
}

impl From<LogLevel> for log::LevelFilter {
    fn from(l: LogLevel) -> Self {
        match l {
            LogLevel::Error => log::LevelFilter::Error,
            LogLevel::Warn => log::LevelFilter::Warn,
            LogLevel::Info => log::LevelFilter::Info,
            LogLevel::Debug => log::LevelFilter::Debug,
            LogLevel::Trace => log::LevelFilter::Trace,
        }
    }
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum SnapshotFormat {
    Table,
    Json,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Start the console (the default).
    Run,
    /// A read-only wallboard for a big screen: large tiles, rotating pages.
    Wallboard {
        /// Seconds each page stays up.
        #[arg(long, default_value_t = 20)]
        rotate_secs: u32,
        /// Show STALE when no source has reported for this many poll intervals.
        #[arg(long, default_value_t = 3)]
        stale_after: u32,
    },
    /// Write a commented sample config that selects the demo.
    Init {
        /// Overwrite an existing config file.
        #[arg(long)]
        force: bool,
    },
    /// Poll every source once, print the estate and exit: 0 OK, 1 WARNING,
    /// 2 CRITICAL, 3 UNKNOWN (a source could not be read, or a bad config).
    Snapshot {
        #[arg(long, value_enum, default_value_t = SnapshotFormat::Table)]
        format: SnapshotFormat,
        /// Only this source (its name, or NAME/region for one region of an account).
        #[arg(long, value_name = "NAME")]
        source: Option<String>,
        /// Demo only: run a chaos drill first, as if started a minute ago
        /// (e.g. "db-primary-down aws"); repeatable.
        #[arg(long, value_name = "DRILL")]
        drill: Vec<String>,
    },
    /// Secrets opsdeck keeps in the OS keyring (service "opsdeck", entry SOURCE/FIELD).
    Creds {
        #[command(subcommand)]
        action: CredsCmd,
    },
    /// Check each source: where its credentials come from, and one real poll.
    Doctor,
    /// Print shell completions (used by install.sh).
    #[command(hide = true)]
    Completions { shell: clap_complete::Shell },
    /// Print the man page, in roff (used by install.sh).
    #[command(hide = true)]
    Man,
    /// Shift DNS traffic between clouds: all of FROM's weight, or --percent points.
    Failover {
        from: String,
        to: String,
        /// Move this many points of traffic share instead of all of it.
        #[arg(long)]
        percent: Option<f64>,
        #[command(flatten)]
        act: ActArgs,
    },
    /// Take a cloud out of DNS (its weight to 0).
    Drain {
        cloud: String,
        #[command(flatten)]
        act: ActArgs,
    },
    /// Set the desired capacity of a scaling group (CLOUD/GROUP).
    Scale {
        target: String,
        desired: u32,
        #[command(flatten)]
        act: ActArgs,
    },
    /// Acknowledge an alert in its source, with a comment.
    Ack {
        id: String,
        #[arg(required = true)]
        comment: Vec<String>,
        /// Acknowledge for this many minutes (where the source supports it).
        #[arg(long)]
        minutes: Option<u32>,
        #[command(flatten)]
        act: ActArgs,
    },
    /// Withdraw an acknowledgement (expires the silence, drops the ack tags).
    Unack {
        id: String,
        #[command(flatten)]
        act: ActArgs,
    },
}

#[derive(Subcommand, Debug)]
enum CredsCmd {
    /// Store a secret, read from a no-echo prompt or from standard input (never the command line).
    Set { source: String, field: String },
    /// Say whether a secret exists and where it resolves from.
    Get {
        source: String,
        field: String,
        /// Print the secret itself (only to a terminal).
        #[arg(long)]
        reveal: bool,
    },
    /// Every configured source with where its credentials resolve from.
    List,
    /// Remove a secret.
    Rm { source: String, field: String },
}

/// How a command-line action runs: a dry run unless --yes.
#[derive(clap::Args, Debug)]
struct ActArgs {
    /// Execute (without it: print the plan and guardrails and exit).
    #[arg(long)]
    yes: bool,
    /// A failover runs only when this names its target (the cloud gaining traffic).
    #[arg(long, value_name = "TARGET")]
    confirm: Option<String>,
    /// Break glass: run despite failing guardrails, for this reason (audited).
    #[arg(long, value_name = "REASON")]
    force: Option<String>,
    /// Print the report as JSON (schema in README).
    #[arg(long)]
    json: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The clouds' own chains read these from the environment, not through opsdeck's
    // Secret type: hold them for the scrubber too, so an echo of one never prints.
    opsdeck::redaction::hold_environment(|name| std::env::var(name));
    // Before anything can log: every record goes through the one gate.
    let logging = opsdeck::logging::LogOptions { level: cli.log_level.into(), file: cli.log_file.clone() };
    if let Err(e) = opsdeck::logging::init(&logging) {
        eprintln!("opsdeck: {e}");
        return ExitCode::from(2);
    }
    if let Some(Cmd::Snapshot { format, source, drill }) = &cli.command {
        let (format, source, drills) = (*format, source.clone(), drill.clone());
        return match snapshot(&cli, format, source, &drills) {
            Ok(code) => ExitCode::from(code),
            Err(e) => {
                // Monitoring-plugin convention: cannot tell → UNKNOWN.
                println!("opsdeck UNKNOWN — {e:#}");
                ExitCode::from(3)
            }
        };
    }
    if matches!(
        cli.command,
        Some(Cmd::Failover { .. } | Cmd::Drain { .. } | Cmd::Scale { .. } | Cmd::Ack { .. } | Cmd::Unack { .. })
    ) {
        return match action(cli) {
            Ok(code) => ExitCode::from(code),
            Err(e) => {
                eprintln!("opsdeck: {e:#}");
                ExitCode::from(2)
            }
        };
    }
    match real_main(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("opsdeck: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn real_main(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Some(Cmd::Completions { shell }) => {
            clap_complete::generate(
                shell,
                &mut <Cli as clap::CommandFactory>::command(),
                "opsdeck",
                &mut std::io::stdout(),
            );
            Ok(())
        }
        Some(Cmd::Man) => {
            clap_mangen::Man::new(<Cli as clap::CommandFactory>::command()).render(&mut std::io::stdout())?;
            Ok(())
        }
        Some(Cmd::Init { force }) => init(cli.config, force),
        Some(Cmd::Wallboard { rotate_secs, stale_after }) => wallboard(&cli, rotate_secs, stale_after),
        Some(Cmd::Creds { ref action }) => creds(&cli, action),
        Some(Cmd::Doctor) => doctor(&cli),
        Some(Cmd::Run) | None => run(cli),
        Some(_) => unreachable!("snapshot and actions are dispatched in main"),
    }
}

/// `opsdeck creds ...`. Keyring calls block; this runs outside any async runtime.
fn creds(cli: &Cli, action: &CredsCmd) -> anyhow::Result<()> {
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
fn credential_lines(config: &Config) -> Vec<String> {
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

/// `opsdeck doctor`: credentials and one real poll per source; non-zero if any fails.
fn doctor(cli: &Cli) -> anyhow::Result<()> {
    let (config, path) = startup::load_config(cli.config.as_deref())?;
    println!("config: {}", path.map_or("none (embedded demo)".to_string(), |p| p.display().to_string()));
    let keyring = Keyring::detect();
    println!("keyring backend: {}", keyring.backend.label());
    for line in credential_lines(&config) {
        println!("credentials  {line}");
    }
    let built = startup::build(&config, cli.demo.as_deref())?;
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    // Sources and checks are counted apart: one unreachable source fails each of its checks.
    let mut tally = DoctorTally::default();
    for s in &built.sources {
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

/// `opsdeck wallboard`: no executor is made; the session type has no place for one.
fn wallboard(cli: &Cli, rotate_secs: u32, stale_after: u32) -> anyhow::Result<()> {
    let (config, _path) = startup::load_config(cli.config.as_deref())?;
    let built = startup::build(&config, cli.demo.as_deref())?;
    let theme_name = cli.theme.clone().or(config.theme.clone()).unwrap_or_else(|| "default".into());
    let theme = Theme::load(&theme_name, Config::themes_dir().as_deref(), color_mode(cli.color))?.with_ascii(cli.ascii);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    rt.block_on(runtime::run_wallboard(runtime::WallboardSession {
        sources: built.sources,
        clock: Arc::new(SystemClock),
        theme,
        demo: built.demo,
        rotate_every: chrono::Duration::seconds(i64::from(rotate_secs.max(1))),
        stale_after_intervals: stale_after,
    }))?;
    rt.shutdown_background();
    Ok(())
}

/// `opsdeck snapshot`: one poll of every (or one) source, printed.
fn snapshot(cli: &Cli, format: SnapshotFormat, only: Option<String>, drills: &[String]) -> anyhow::Result<u8> {
    let (config, _path) = startup::load_config(cli.config.as_deref())?;
    let built = startup::build(&config, cli.demo.as_deref())?;
    let now = chrono::Utc::now();
    for d in drills {
        let (Some(estate), Some(state)) = (&built.estate, &built.demo_state) else {
            anyhow::bail!("--drill needs the demo estate");
        };
        let words: Vec<&str> = d.split_whitespace().collect();
        let cmd = opsdeck::providers::demo::DrillCommand::parse(&words, estate).map_err(anyhow::Error::msg)?;
        state.apply(cmd, now - chrono::Duration::seconds(60)).map_err(anyhow::Error::msg)?;
    }
    let sources: Vec<_> = built
        .sources
        .into_iter()
        .filter(|s| {
            only.as_deref().is_none_or(|n| {
                let id = s.provider.id().as_str();
                id == n || id.strip_prefix(n).is_some_and(|rest| rest.starts_with('/'))
            })
        })
        .collect();
    if sources.is_empty() {
        anyhow::bail!("no source named {}", only.unwrap_or_default());
    }
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let fleet = rt.block_on(opsdeck::collector::collect_once(&sources, now, built.demo));
    match format {
        SnapshotFormat::Json => {
            println!("{}", redact(&serde_json::to_string_pretty(&opsdeck::snapshot::to_json(&fleet, now))?))
        }
        SnapshotFormat::Table => print!("{}", redact(&opsdeck::snapshot::to_table(&fleet, now))),
    }
    Ok(opsdeck::snapshot::evaluate(&fleet, now).0 as u8)
}

/// `opsdeck failover|drain|scale|ack`: the console's action path, without the console.
fn action(cli: Cli) -> anyhow::Result<u8> {
    let (words, act): (Vec<String>, ActArgs) = match cli.command {
        Some(Cmd::Failover { from, to, percent, act }) => {
            let mut w = vec!["failover".to_string(), from, to];
            w.extend(percent.map(|p| format!("{p}%")));
            (w, act)
        }
        Some(Cmd::Drain { cloud, act }) => (vec!["drain".into(), cloud], act),
        Some(Cmd::Scale { target, desired, act }) => (vec!["scale".into(), target, desired.to_string()], act),
        Some(Cmd::Ack { id, comment, minutes, act }) => {
            let mut w = vec!["ack".to_string(), id];
            w.extend(minutes.map(|m| format!("{m}m")));
            w.extend(comment);
            (w, act)
        }
        Some(Cmd::Unack { id, act }) => (vec!["unack".to_string(), id], act),
        _ => anyhow::bail!("not an action"),
    };
    let args: Vec<&str> = words[1..].iter().map(String::as_str).collect();
    let intent = opsdeck::actions::intent::parse(&words[0], &args).map_err(anyhow::Error::msg)?;
    let (config, _path) = startup::load_config(cli.config.as_deref())?;
    let built = startup::build(&config, cli.demo.as_deref())?;
    let read_only = cli.read_only || config.read_only;
    let executor = (!read_only).then(|| Executor::new(built.sources.iter().map(|s| s.provider.clone())));
    let audit = AuditLog::default_path().map(AuditLog::new);
    let request = runbook::Request {
        intent,
        yes: act.yes,
        confirm: act.confirm,
        force: act.force,
        require: config.guards.require.clone(),
        confirm_timeout: std::time::Duration::from_secs(60),
    };
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let path = opsdeck::actions::WritePath::new(executor, audit, Actor::current(), Arc::new(SystemClock));
    let report = rt.block_on(runbook::run(request, &built.sources, &path));
    if act.json {
        println!("{}", redact(&serde_json::to_string_pretty(&report)?));
    } else {
        print!("{}", redact(&report.to_text()));
    }
    Ok(report.exit_code)
}

fn init(path: Option<PathBuf>, force: bool) -> anyhow::Result<()> {
    let path =
        path.or_else(Config::default_path).context("no config directory could be determined; pass --config PATH")?;
    if path.exists() && !force {
        anyhow::bail!("{} already exists; pass --force to overwrite it", path.display());
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(&path, SAMPLE).with_context(|| format!("writing {}", path.display()))?;
    println!("wrote {}", path.display());
    Ok(())
}

fn color_mode(choice: ColorChoice) -> ColorMode {
    let no_color = std::env::var("NO_COLOR").is_ok_and(|v| !v.is_empty());
    match choice {
        _ if no_color => ColorMode::None,
        ColorChoice::Auto => ColorMode::from_env(),
        ColorChoice::Ansi16 => ColorMode::Ansi16,
        ColorChoice::Ansi256 => ColorMode::Ansi256,
        ColorChoice::Truecolor => ColorMode::TrueColor,
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    // Everything that reads the user's files happens before the terminal is touched.
    let (config, _path) = startup::load_config(cli.config.as_deref())?;
    let built = startup::build(&config, cli.demo.as_deref())?;
    let theme_name = cli.theme.or(config.theme.clone()).unwrap_or_else(|| "default".into());
    let theme = Theme::load(&theme_name, Config::themes_dir().as_deref(), color_mode(cli.color))?.with_ascii(cli.ascii);

    log::info!("opsdeck {} started with {} source(s)", env!("CARGO_PKG_VERSION"), built.sources.len());

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let read_only = cli.read_only || config.read_only;
    // The only place an Executor is made; a read-only session never has one.
    let executor = (!read_only).then(|| Executor::new(built.sources.iter().map(|s| s.provider.clone())));
    let audit = AuditLog::default_path().map(AuditLog::new);
    if read_only {
        log::info!("read-only session: no action can be taken");
    }
    rt.block_on(runtime::run(Session {
        sources: built.sources,
        clock: Arc::new(SystemClock),
        theme,
        demo: built.demo,
        estate: built.estate,
        demo_state: built.demo_state,
        executor,
        audit,
        actor: Actor::current(),
        low_bandwidth: cli.low_bandwidth,
        require: config.guards.require.clone(),
    }))?;
    // The input thread may be blocked in read(); don't wait for it.
    rt.shutdown_background();
    Ok(())
}
