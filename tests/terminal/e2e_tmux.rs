//! End to end: the built binary in a real terminal (tmux), driven by keys, read
//! back with capture-pane. Checks what a user sees and that the terminal is
//! usable afterwards, on quit and on SIGTERM.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::thread::sleep;
use std::time::{Duration, Instant};

use crate::support;

const BIN: &str = env!("CARGO_BIN_EXE_opsdeck");

/// A tmux server of our own (its own socket), killed on drop.
struct Tmux {
    socket: String,
    dir: tempfile::TempDir,
}

impl Tmux {
    fn start(width: u16, height: u16) -> Tmux {
        let socket = format!("opsdeck-e2e-{}-{}", std::process::id(), rand_suffix());
        let dir = tempfile::tempdir().expect("tempdir");
        let t = Tmux { socket, dir };
        let out = t.tmux(&[
            "new-session",
            "-d",
            "-s",
            "e2e",
            "-x",
            &width.to_string(),
            "-y",
            &height.to_string(),
            "-e",
            &format!("XDG_CONFIG_HOME={}", t.dir.path().display()),
            "-e",
            &format!("XDG_STATE_HOME={}", t.dir.path().join("state").display()),
            "-e",
            "USER=e2e-operator",
            "-e",
            "TERM=xterm-256color",
            "sh",
        ]);
        assert!(
            out.status.success(),
            "tmux failed to start (is tmux installed?): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        t
    }

    fn tmux(&self, args: &[&str]) -> Output {
        Command::new("tmux").arg("-L").arg(&self.socket).args(args).output().expect("running tmux")
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "e2e"];
        args.extend_from_slice(keys);
        assert!(self.tmux(&args).status.success());
    }

    /// Type text literally (no key-name lookup).
    fn type_text(&self, text: &str) {
        assert!(self.tmux(&["send-keys", "-t", "e2e", "-l", text]).status.success());
    }

    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.tmux(&["capture-pane", "-p", "-t", "e2e"]).stdout).into_owned()
    }

    /// Wait until the screen shows `needle`; generous, because CI machines are busy.
    fn wait_for(&self, needle: &str) -> String {
        self.wait_for_within(needle, 20)
    }

    fn wait_for_within(&self, needle: &str, secs: u64) -> String {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let s = self.screen();
            if s.contains(needle) {
                return s;
            }
            assert!(Instant::now() < deadline, "timed out waiting for {needle:?}; screen:\n{s}");
            sleep(Duration::from_millis(100));
        }
    }

    fn alternate_screen_on(&self) -> bool {
        let out = self.tmux(&["display-message", "-p", "-t", "e2e", "#{alternate_on}"]);
        String::from_utf8_lossy(&out.stdout).trim() == "1"
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.tmux(&["kill-server"]);
    }
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0)
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("reading {}: {e}", p.display()))
}

#[test]
fn demo_session_switches_panes_runs_a_drill_and_restores_the_terminal() {
    let t = Tmux::start(100, 30);
    let before = t.path("stty.before");
    let after = t.path("stty.after");
    t.type_text(&format!("stty -g > {}", before.display()));
    t.keys(&["Enter"]);
    t.type_text(&format!("clear; {BIN}; echo opsdeck-exit=$?; stty -g > {}", after.display()));
    t.keys(&["Enter"]);

    let s = t.wait_for("AWS us-west-1");
    assert!(s.contains("DEMO"), "{s}");
    assert!(t.alternate_screen_on());

    t.keys(&["2"]);
    t.wait_for("Scaling groups");
    t.keys(&["Tab"]);
    t.wait_for("peak");

    t.type_text(":drill az-outage aws/us-west-1a");
    t.keys(&["Enter"]);
    t.wait_for("drill started: az-outage aws/us-west-1a");
    t.keys(&["5"]);
    // The demo's zone rule fires 20 s after the fault (its scripted detection time).
    let s = t.wait_for_within("Zone us-west-1a unreachable", 60);
    assert!(s.contains("P1"), "{s}");
    t.keys(&["1"]);
    t.wait_for("DEGRADED");

    // The Timeline: the drill, who ran it, the alerts it raised, and the time to detect.
    t.keys(&["8"]);
    let s = t.wait_for("detect 20 s");
    assert!(s.contains("drill started: az-outage aws/us-west-1a") && s.contains("e2e-operator@"), "{s}");
    assert!(s.contains("Zone us-west-1a unreachable") && s.contains("firing"), "{s}");

    t.type_text(":drill clear");
    t.keys(&["Enter"]);
    t.wait_for("cleared 1 drill(s)");

    t.keys(&["q"]);
    t.wait_for("opsdeck-exit=0");
    sleep(Duration::from_millis(200));
    assert!(!t.alternate_screen_on(), "left the alternate screen");
    assert_eq!(read(&before), read(&after), "terminal modes restored (stty -g)");

    // What the console kept reads back through `opsdeck timeline`, for the postmortem.
    let timeline = |format: &str| {
        let out = Command::new(BIN)
            .args(["timeline", "--since", "1h", "--offline", "--format", format])
            .env("XDG_CONFIG_HOME", t.dir.path())
            .env("XDG_STATE_HOME", t.dir.path().join("state"))
            .output()
            .expect("opsdeck timeline");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let md = timeline("markdown");
    assert!(md.contains("- **Time to detect:** 20 s ("), "{md}");
    assert!(md.contains("| drill | e2e-operator@"), "{md}");
    assert!(md.contains("| drill cleared | e2e-operator@"), "{md}");
    assert!(md.contains("| firing | – | P1 AWS: Zone us-west-1a unreachable"), "{md}");
    let json: serde_json::Value = serde_json::from_str(&timeline("json")).expect("json");
    assert_eq!(json["measures"]["time_to_detect_secs"], 20, "{json:#}");
}

#[test]
fn sigterm_restores_the_terminal() {
    signal_from_outside_restores_the_terminal("TERM");
}

#[test]
fn a_broken_config_is_reported_with_its_line_and_leaves_the_terminal_alone() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = dir.path().join("bad.toml");
    std::fs::write(&cfg, "theme = \"default\"\n[[sources]]\nname = \"demo\"\nkind = \"demo\"\ninterval_secs = -1\n")
        .expect("write");
    let out = Command::new(BIN).arg("--config").arg(&cfg).output().expect("run");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("{}:5:17", cfg.display())), "{err}");
    assert!(out.stdout.is_empty(), "nothing drawn: {:?}", String::from_utf8_lossy(&out.stdout));

    let out =
        Command::new(BIN).args(["--theme", "no-such-theme"]).env("XDG_CONFIG_HOME", dir.path()).output().expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no theme named 'no-such-theme'"));
    assert!(out.stdout.is_empty());
}

#[test]
fn init_writes_a_sample_config_and_refuses_to_overwrite() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = dir.path().join("opsdeck").join("config.toml");
    let out = Command::new(BIN).args(["init", "--config"]).arg(&cfg).output().expect("init");
    assert!(out.status.success());
    assert!(read(&cfg).contains("kind = \"demo\""));
    let again = Command::new(BIN).args(["init", "--config"]).arg(&cfg).output().expect("init");
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));
}

#[test]
fn a_dropped_ssh_session_sighup_ends_the_process() {
    let t = Tmux::start(80, 24);
    let cfg = t.path("sighup-unique.toml");
    let init = Command::new(BIN).args(["init", "--config"]).arg(&cfg).output().expect("init");
    assert!(init.status.success());
    t.type_text(&format!("exec {BIN} --config {}", cfg.display()));
    t.keys(&["Enter"]);
    t.wait_for("AWS us-west-1");
    let pattern = format!("opsdeck --config {}", cfg.display());
    // Killing the session hangs up the pane's terminal, as a dropped SSH link does.
    assert!(t.tmux(&["kill-session", "-t", "e2e"]).status.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let alive = Command::new("pgrep").args(["-f", &pattern]).output().expect("pgrep").status.success();
        if !alive {
            break;
        }
        assert!(Instant::now() < deadline, "opsdeck still running after SIGHUP");
        sleep(Duration::from_millis(100));
    }
}

#[test]
fn failover_by_keys_moves_the_shares_and_is_audited() {
    use std::os::unix::fs::PermissionsExt;
    let t = Tmux::start(120, 36);
    t.type_text(&format!("clear; {BIN}; echo opsdeck-exit=$?"));
    t.keys(&["Enter"]);
    let s = t.wait_for("Share    30.0%");
    assert!(s.contains("Share    50.0%"), "{s}");

    // F on the Overview prefills the palette; the dialog wants the target typed.
    t.keys(&["F"]);
    t.wait_for(":failover");
    t.type_text("aws -> azure 10%");
    t.keys(&["Enter"]);
    t.wait_for("Type 'azure' and press Enter to run");
    t.type_text("azure");
    t.keys(&["Enter"]);
    let s = t.wait_for("in effect: confirmed by a fresh read");
    assert!(s.contains("Share    40.0%"), "AWS and Azure both at 40 %: {s}");
    assert!(!s.contains("Share    30.0%"), "{s}");

    t.keys(&["7"]);
    let s = t.wait_for("executed");
    assert!(s.contains("failover aws -> azure 10%") && s.contains("e2e-operator"), "{s}");
    t.keys(&["q"]);
    t.wait_for("opsdeck-exit=0");

    let log = t.path("state").join("opsdeck").join("audit.jsonl");
    let text = read(&log);
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(text.contains("\"outcome\":\"executed\""), "{text}");
    let mode = std::fs::metadata(&log).expect("audit log").permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
}

#[test]
fn wallboard_starts_rotates_and_q_restores_the_terminal() {
    let t = Tmux::start(100, 30);
    let before = t.path("stty.before");
    let after = t.path("stty.after");
    t.type_text(&format!(
        "stty -g > {}; {BIN} wallboard --rotate-secs 1; echo opsdeck-exit=$?; stty -g > {}",
        before.display(),
        after.display()
    ));
    t.keys(&["Enter"]);
    let s = t.wait_for("page 1/2");
    assert!(s.contains("traffic share"), "{s}");
    t.wait_for("Worst open alerts");
    // Keys that act in the console do nothing here.
    t.keys(&["F"]);
    t.keys(&[":"]);
    t.keys(&["q"]);
    t.wait_for("opsdeck-exit=0");
    sleep(Duration::from_millis(200));
    assert!(!t.alternate_screen_on());
    assert_eq!(read(&before), read(&after));
}

#[test]
fn ascii_mode_draws_plain_ascii_in_a_real_terminal() {
    let t = Tmux::start(100, 30);
    t.type_text(&format!("clear; {BIN} --ascii; echo opsdeck-exit=$?"));
    t.keys(&["Enter"]);
    let s = t.wait_for("AWS us-west-1");
    assert!(s.is_ascii(), "{s}");
    assert!(s.contains("+ AWS us-west-1 -"), "{s}");
    t.keys(&["q"]);
    t.wait_for("opsdeck-exit=0");
}

/// Run opsdeck in the pane with `env`, record the terminal modes before and after.
fn run_recording_modes(t: &Tmux, env: &str, args: &str) -> (PathBuf, PathBuf) {
    let before = t.path("stty.before");
    let after = t.path("stty.after");
    t.type_text(&format!(
        "clear; stty -g > {}; {env} {BIN} {args}; echo opsdeck-exit=$?; stty -g > {}",
        before.display(),
        after.display()
    ));
    t.keys(&["Enter"]);
    (before, after)
}

#[test]
fn sigint_from_outside_restores_the_terminal() {
    signal_from_outside_restores_the_terminal("INT");
}

/// The console, sent `signal` by another process (an operator's `kill`, a process
/// supervisor), exits 0 with the alternate screen left and the terminal modes as
/// they were before it started.
fn signal_from_outside_restores_the_terminal(signal: &str) {
    let t = Tmux::start(100, 30);
    let cfg = t.path(&format!("sig{signal}-unique.toml"));
    let init = Command::new(BIN).args(["init", "--config"]).arg(&cfg).output().expect("init");
    assert!(init.status.success(), "{}", String::from_utf8_lossy(&init.stderr));
    let (before, after) = run_recording_modes(&t, "", &format!("--config {}", cfg.display()));
    t.wait_for("AWS us-west-1");
    let kill = Command::new("pkill")
        .args([&format!("-{signal}"), "-f"])
        .arg(format!("opsdeck --config {}", cfg.display()))
        .status()
        .expect("pkill");
    assert!(kill.success(), "found the process");
    t.wait_for("opsdeck-exit=0");
    sleep(Duration::from_millis(200));
    assert!(!t.alternate_screen_on(), "left the alternate screen");
    assert_eq!(read(&before), read(&after), "terminal modes restored (stty -g)");
}

#[test]
fn a_panic_in_the_render_path_restores_the_terminal_and_says_why() {
    let t = Tmux::start(100, 30);
    let (before, after) = run_recording_modes(&t, "RUST_BACKTRACE=0 OPSDECK_INJECT_PANIC=render", "");
    let screen = t.wait_for("opsdeck-exit=101");
    assert!(screen.contains("injected render panic"), "the panic message is readable after restore:\n{screen}");
    sleep(Duration::from_millis(200));
    assert!(!t.alternate_screen_on(), "left the alternate screen");
    assert_eq!(read(&before), read(&after), "terminal modes restored (stty -g)");
}

#[test]
fn a_panic_in_a_provider_marks_the_source_stale_and_the_console_keeps_running() {
    let t = Tmux::start(160, 40);
    let (before, after) = run_recording_modes(&t, "OPSDECK_INJECT_PANIC=provider", "");
    // The poll panics every time: the demo source is stale with the reason, the
    // screen is still up and answers keys.
    t.keys(&["6"]);
    let screen = t.wait_for("the poll panicked");
    assert!(t.alternate_screen_on(), "still on the alternate screen:\n{screen}");
    assert!(!screen.contains("panicked at"), "no panic text printed over the frame:\n{screen}");
    t.keys(&["1"]);
    t.wait_for("Overview");
    t.keys(&["q"]);
    t.wait_for("opsdeck-exit=0");
    sleep(Duration::from_millis(200));
    assert!(!t.alternate_screen_on());
    assert_eq!(read(&before), read(&after), "terminal modes restored (stty -g)");
}

/// The console carries out every command the app returns, whatever message it
/// answered: an acknowledgement whose answer is lost (a front that forwards the
/// silence to a real Alertmanager and then drops the connection) ends with both
/// audit lines written by the console — `unknown`, then, once a fresh read shows
/// the silence, `landed` — and the silence was sent exactly once.
#[test]
fn a_lost_answer_is_audited_unknown_then_landed_by_the_console() {
    use support::faulty::{Faulty, Mode};
    use support::promstack;
    let am = promstack::alertmanager(None);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let alert = serde_json::json!([{
        "labels": {"alertname": "DiskFull", "cloud": "aws", "severity": "warning", "instance": "db-1"},
        "annotations": {"summary": "disk almost full"},
        "startsAt": chrono::Utc::now().to_rfc3339(),
    }]);
    rt.block_on(promstack::post_alerts(&am, alert));
    let front = Faulty::start(am.port);
    front.only(Some("POST /api/v2/silences"));
    front.set(Mode::LoseResponse);

    let t = Tmux::start(140, 36);
    let cfg = t.path("opsdeck.toml");
    std::fs::write(
        &cfg,
        format!(
            "[[sources]]\nname = \"am\"\nkind = \"alertmanager\"\ninterval_secs = 1\ntimeout_secs = 2\n\
             [sources.alertmanager]\nurls = [\"{}\"]\n",
            front.url()
        ),
    )
    .expect("config");
    t.type_text(&format!("clear; {BIN} --config {}; echo opsdeck-exit=$?", cfg.display()));
    t.keys(&["Enter"]);
    t.keys(&["5"]);
    t.wait_for("DiskFull");
    // A prefills the palette with the selected alert; a comment, Enter, then y.
    t.keys(&["A"]);
    t.wait_for(":ack ");
    t.type_text("disk cleanup");
    t.keys(&["Enter"]);
    t.wait_for("Confirm: ack");
    t.keys(&["y"]);

    let log = t.path("state").join("opsdeck").join("audit.jsonl");
    let deadline = Instant::now() + Duration::from_secs(30);
    let outcomes = loop {
        let outcomes: Vec<String> = std::fs::read_to_string(&log)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter_map(|v| v["outcome"].as_str().map(String::from))
            .collect();
        if outcomes.len() >= 2 || Instant::now() > deadline {
            break outcomes;
        }
        sleep(Duration::from_millis(200));
    };
    assert_eq!(outcomes, vec!["unknown".to_string(), "landed".to_string()], "screen:\n{}", t.screen());
    assert_eq!(front.count_containing("POST /api/v2/silences"), 1, "sent once, never re-sent");
    t.keys(&["q"]);
    t.wait_for("opsdeck-exit=0");
}

/// The binary against a real Alertmanager with a route tree: the selected
/// alert says where it paged, and `p` shows the routes (severity × cloud →
/// channels, masked; the default receiver a blackhole), and `p` again the alerts.
#[test]
fn the_console_shows_where_an_alertmanager_alert_paged_and_the_routes() {
    use support::promstack;
    let config = r##"
route:
  receiver: blackhole
  group_wait: 1s
  routes:
    - matchers: ['severity="critical"', 'cloud="aws"']
      receiver: aws-pager
receivers:
  - name: blackhole
  - name: aws-pager
    sns_configs: [{phone_number: "+15550100100", sigv4: {region: us-east-1}}]
    email_configs: [{to: "oncall@example.com", from: "am@example.com", smarthost: "smtp.example.com:25"}]
"##;
    let am = promstack::alertmanager_with(config, None);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let alert = serde_json::json!([{
        "labels": {"alertname": "RegionDown", "cloud": "aws", "severity": "critical"},
        "startsAt": chrono::Utc::now().to_rfc3339(),
    }]);
    rt.block_on(promstack::post_alerts(&am, alert));

    let t = Tmux::start(140, 36);
    let cfg = t.path("opsdeck.toml");
    std::fs::write(
        &cfg,
        format!(
            "[[sources]]\nname = \"am\"\nkind = \"alertmanager\"\ninterval_secs = 1\ntimeout_secs = 2\n\
             [sources.alertmanager]\nurls = [\"{}\"]\n",
            am.url()
        ),
    )
    .expect("config");
    t.type_text(&format!("clear; {BIN} --config {}; echo opsdeck-exit=$?", cfg.display()));
    t.keys(&["Enter"]);
    t.keys(&["5"]);
    t.wait_for("RegionDown");
    t.wait_for("paged: aws-pager → email:o…@example.com, sns:+1555…0100");
    t.keys(&["p"]);
    let screen = t.wait_for("blackhole: no channels");
    assert!(screen.contains("Routes (2)"), "{screen}");
    assert!(!screen.contains("oncall@example.com") && !screen.contains("15550100100"), "masked: {screen}");
    t.keys(&["p"]);
    t.wait_for("Selected alert");
    t.keys(&["q"]);
    t.wait_for("opsdeck-exit=0");
}
