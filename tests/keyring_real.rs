//! The OS keyring for real: the Secret Service (gnome-keyring in a private D-Bus
//! session that the test starts) and the Linux kernel keyring (a `keyctl`
//! session), each with a round trip through a second, independent tool. And a
//! planted secret that must appear in no output of a whole session.

mod support;

use std::process::{Command, Output};
use support::files_under;

const BIN: &str = env!("CARGO_BIN_EXE_opsdeck");

fn need(tool: &str) {
    let found =
        Command::new("sh").arg("-c").arg(format!("command -v {tool}")).output().is_ok_and(|o| o.status.success());
    assert!(found, "{tool} is missing: ./scripts/test installs it (apt: dbus gnome-keyring libsecret-tools keyutils)");
}

/// Run `script` in a fresh D-Bus session with an unlocked gnome-keyring.
fn in_secret_service(script: &str, home: &std::path::Path) -> Output {
    for t in ["dbus-run-session", "gnome-keyring-daemon", "secret-tool"] {
        need(t);
    }
    let full = format!(
        "eval \"$(printf %s test-password | gnome-keyring-daemon --unlock --components=secrets)\" >/dev/null; {script}"
    );
    Command::new("dbus-run-session")
        .args(["--", "sh", "-c", &full])
        .env("HOME", home)
        .env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_STATE_HOME", home.join("state"))
        .env("XDG_RUNTIME_DIR", home)
        .env("OPSDECK", BIN)
        .env_remove("OPSDECK_KEYRING")
        .output()
        .expect("dbus-run-session")
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

#[test]
fn secret_service_round_trip_with_secret_tool() {
    let home = tempfile::tempdir().expect("tempdir");
    let out = in_secret_service(
        r#"printf 'pl4nted-one\n' | "$OPSDECK" creds set prom-main token || exit 10
           echo "lookup=$(secret-tool lookup service opsdeck username prom-main/token)"
           printf 'from-secret-tool' | secret-tool store --label=test service opsdeck username alibaba/access_key_secret || exit 11
           "$OPSDECK" creds get alibaba access_key_secret || exit 12
           "$OPSDECK" creds rm prom-main token || exit 13
           "$OPSDECK" creds get prom-main token; echo "after-rm=$?""#,
        home.path(),
    );
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(t.contains("stored prom-main/token in the Secret Service"), "{t}");
    assert!(t.contains("lookup=pl4nted-one"), "secret-tool reads what opsdeck stored: {t}");
    assert!(
        t.contains("alibaba/access_key_secret: set, in the Secret Service"),
        "opsdeck reads what secret-tool stored: {t}"
    );
    assert!(!t.contains("from-secret-tool"), "get does not print the secret: {t}");
    assert!(t.contains("after-rm=2") && t.contains("not in the Secret Service"), "{t}");
}

#[test]
fn kernel_keyring_round_trip_with_keyctl() {
    need("keyctl");
    let script = r#"printf 'k3rnel-secret' | "$OPSDECK" creds set prom-main token || exit 10
        "$OPSDECK" creds get prom-main token || exit 11
        id=$(keyctl search @s user 'keyring-rs:prom-main/token@opsdeck') || exit 12
        echo "keyctl=$(keyctl pipe "$id")""#;
    let out = Command::new("keyctl")
        .args(["session", "-", "sh", "-c", script])
        .env("OPSDECK", BIN)
        .env("OPSDECK_KEYRING", "kernel")
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .output()
        .expect("keyctl session");
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(t.contains("set, in the kernel keyring"), "{t}");
    assert!(t.contains("keyctl=k3rnel-secret"), "keyctl reads what opsdeck stored: {t}");
}

#[test]
fn no_usable_backend_is_a_clear_error_not_a_file() {
    let home = tempfile::tempdir().expect("tempdir");
    let out = Command::new(BIN)
        .args(["creds", "set", "prom-main", "token"])
        .env("OPSDECK_KEYRING", "secret-service")
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")
        .env("HOME", home.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().expect("stdin").write_all(b"s3cret")?;
            c.wait_with_output()
        })
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let t = text(&out);
    assert!(t.contains("Secret Service is not usable here") && t.contains("D-Bus"), "{t}");
    let files: Vec<_> = files_under(home.path());
    assert!(files.is_empty(), "nothing written to disk: {files:?}");
}

/// A secret planted in the keyring and in the environment appears in no output of
/// a whole session: creds list/get, doctor, snapshot JSON, a console session in
/// tmux with an action (its screen and its audit log), and no file on disk.
#[test]
fn a_planted_secret_appears_in_no_output() {
    need("tmux");
    let home = tempfile::tempdir().expect("tempdir");
    let secret = "PLANTED-s3cr3t-5f1e9a";
    let script = format!(
        r#"printf '{secret}' | "$OPSDECK" creds set demo token || exit 10
        export AWS_SECRET_ACCESS_KEY='{secret}' AWS_ACCESS_KEY_ID=AKIATEST
        "$OPSDECK" creds list; "$OPSDECK" creds get demo token; "$OPSDECK" doctor; "$OPSDECK" snapshot --format json
        sock=opsdeck-hygiene-$$
        tmux -L $sock new-session -d -s h -x 120 -y 30 "$OPSDECK 2>$HOME/stderr.txt"
        sleep 1.5
        tmux -L $sock send-keys -t h -l ':scale aws/web-asg 2'; tmux -L $sock send-keys -t h Enter; sleep 0.3
        tmux -L $sock send-keys -t h y; sleep 1
        for k in 1 2 3 4 5 6 7 8; do tmux -L $sock send-keys -t h $k; sleep 0.2; tmux -L $sock capture-pane -p -t h; done
        tmux -L $sock send-keys -t h q; sleep 0.5; tmux -L $sock kill-server 2>/dev/null
        cat $HOME/stderr.txt; echo session-done"#
    );
    let out = in_secret_service(&script, home.path());
    let t = text(&out);
    assert!(t.contains("session-done"), "the session ran: {t}");
    assert!(t.contains("executed") && t.contains("scale aws/web-asg 2"), "the action ran and was audited: {t}");
    assert!(!t.contains(secret), "the secret leaked into the output:\n{t}");
    for f in files_under(home.path()) {
        if let Ok(content) = std::fs::read(&f) {
            assert!(!String::from_utf8_lossy(&content).contains(secret), "the secret is in {f}");
        }
    }
}
