//! The command line's shape: every flag and subcommand `opsdeck` accepts (clap).
//! What each command does lives in `commands/`.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser, Debug)]
#[command(name = "opsdeck", version, about = "Terminal operations console for one shop on several clouds")]
pub struct Cli {
    /// Config file (default: the XDG config path, e.g. ~/.config/opsdeck/config.toml).
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Theme: default, light, high-contrast, or a path to a theme file.
    #[arg(long, global = true, value_name = "NAME|PATH")]
    pub theme: Option<String>,
    /// Run the demo on this estate file instead of the embedded shop.
    #[arg(long, global = true, value_name = "FILE")]
    pub demo: Option<PathBuf>,
    /// Colour depth; auto reads COLORTERM and TERM. NO_COLOR is always honoured.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Draw with ASCII only: no box drawing or block glyphs (poor fonts, serial consoles).
    #[arg(long, global = true)]
    pub ascii: bool,
    /// For slow links: at most 4 frames a second and a clock that ticks once a minute.
    #[arg(long, global = true)]
    pub low_bandwidth: bool,
    /// How much to log (to the Logs pane and --log-file). trace includes the HTTP
    /// clients' and SDKs' own records; secrets are scrubbed from every line.
    #[arg(long, global = true, value_enum, default_value_t = LogLevel::Info, env = "OPSDECK_LOG_LEVEL")]
    pub log_level: LogLevel,
    /// Also append the log to this file (created owner-only), to read after a session.
    #[arg(long, global = true, value_name = "PATH", env = "OPSDECK_LOG_FILE")]
    pub log_file: Option<PathBuf>,
    /// Never change anything: no failover, scale or acknowledgement can run. Wins
    /// over the config, which can only make a session stricter.
    #[arg(long, global = true)]
    pub read_only: bool,
    #[command(subcommand)]
    pub command: Option<Cmd>,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ColorChoice {
    Auto,
    #[value(name = "16")]
    Ansi16,
    #[value(name = "256")]
    Ansi256,
    Truecolor,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum LogLevel {
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
pub enum SnapshotFormat {
    Table,
    Json,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum TimelineFormat {
    Markdown,
    Json,
}

#[derive(Subcommand, Debug)]
pub enum Cmd {
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
    /// Poll the sources as the console does and serve the estate to Prometheus.
    ///
    /// GET /metrics: the Prometheus text format, or OpenMetrics when the scraper
    /// asks for it. GET /healthz: 200 once the first poll is in, 503 before. Stops
    /// on SIGTERM or Ctrl-C (exit 0); a bad address or a port in use is exit 2.
    Export {
        /// Where to serve, HOST:PORT (e.g. 127.0.0.1:9808, or 0.0.0.0:9808 for every interface).
        #[arg(long, value_name = "ADDR")]
        listen: String,
    },
    /// The incident timeline: alerts firing and resolving, acknowledgements,
    /// actions with their plans and guardrails, drills, stale sources and failover
    /// measurements, from the audit log, the console's journal and the sources'
    /// own alert histories; with time to detect and time to mitigate.
    Timeline {
        /// How far back: 90m, 2h, 1d, or an RFC 3339 time (2026-11-18T14:00:00Z).
        #[arg(long, default_value = "2h", value_name = "AGE|TIME")]
        since: String,
        #[arg(long, value_enum, default_value_t = TimelineFormat::Markdown)]
        format: TimelineFormat,
        /// Read only the audit log and the journal, not the sources' histories.
        #[arg(long)]
        offline: bool,
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
    /// Put back what your last executed action changed (old weights, old desired
    /// count, or withdraw the acknowledgement), read from the audit log. Exit 3
    /// when there is nothing to undo.
    Undo {
        #[command(flatten)]
        act: ActArgs,
    },
}

#[derive(Subcommand, Debug)]
pub enum CredsCmd {
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
pub struct ActArgs {
    /// Execute (without it: print the plan and guardrails and exit).
    #[arg(long)]
    pub yes: bool,
    /// A failover runs only when this names its target (the cloud gaining traffic).
    #[arg(long, value_name = "TARGET")]
    pub confirm: Option<String>,
    /// Break glass: run despite failing guardrails, for this reason (audited).
    #[arg(long, value_name = "REASON")]
    pub force: Option<String>,
    /// Print the report as JSON (schema in README).
    #[arg(long)]
    pub json: bool,
    /// After an executed failover, do not follow it until traffic has moved
    /// (the measured RTO, `[rto]` in the config).
    #[arg(long)]
    pub no_follow: bool,
}
