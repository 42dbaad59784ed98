//! The OS keyring for real: the Secret Service (gnome-keyring in a private D-Bus
//! session that the test starts) and the Linux kernel keyring (a `keyctl`
//! session), each with a round trip through a second, independent tool. And a
//! planted secret that must appear in no output of a whole session.

use crate::support;

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
        tmux -L $sock new-session -d -s h -x 120 -y 30 "$OPSDECK --log-level trace --log-file $HOME/trace.log 2>$HOME/stderr.txt"
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
    let trace = std::fs::read_to_string(home.path().join("trace.log")).expect("the session's trace log");
    assert!(
        trace.contains(" TRACE ") && trace.contains("scale aws/web-asg 2"),
        "a trace-level log of the session: {trace}"
    );
    for f in files_under(home.path()) {
        if let Ok(content) = std::fs::read(&f) {
            assert!(!String::from_utf8_lossy(&content).contains(secret), "the secret is in {f}");
        }
    }
}

/// The forms a remote system echoes a credential in, as the wild does: raw,
/// base64 and base64url (padded or not) of the secret and of the basic-auth
/// `user:password`, percent-encoded (upper and lower hex, form style). Written here
/// with the encoders directly, apart from opsdeck's scrubber.
fn echoed_forms(secret: &str, basic_user: &str) -> Vec<(&'static str, String)> {
    use base64::Engine as _;
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
    let pair = format!("{basic_user}:{secret}");
    let percent = utf8_percent_encode(secret, NON_ALPHANUMERIC).to_string();
    let lower: String = {
        let mut out = String::new();
        let mut hex = 0;
        for c in percent.chars() {
            if c == '%' {
                hex = 2;
                out.push(c);
            } else if hex > 0 {
                hex -= 1;
                out.push(c.to_ascii_lowercase());
            } else {
                out.push(c);
            }
        }
        out
    };
    let forms = vec![
        ("raw", secret.to_string()),
        ("base64", STANDARD.encode(secret)),
        ("base64-unpadded", STANDARD_NO_PAD.encode(secret)),
        ("base64url", URL_SAFE.encode(secret)),
        ("base64url-unpadded", URL_SAFE_NO_PAD.encode(secret)),
        ("basic-pair", STANDARD.encode(&pair)),
        ("basic-pair-unpadded", STANDARD_NO_PAD.encode(&pair)),
        ("basic-pair-url", URL_SAFE.encode(&pair)),
        ("percent", percent.clone()),
        ("percent-lower", lower),
        ("form", percent.replace("%20", "+")),
    ];
    let mut distinct: Vec<&String> = forms.iter().map(|(_, f)| f).collect();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), forms.len(), "every form differs: {forms:?}");
    forms
}

/// A server that answers every request 401 with the request's own auth material
/// echoed back in every way seen in the wild: the request (headers included) in the
/// message text and in a JSON error field, its Authorization header quoted as a
/// header line, and one encoded form of the planted secret per request (cycling,
/// so each form leads some answer and is shown before any cut), named
/// `form=NAME: VALUE` so the test can see each one reached an output, scrubbed.
fn echo_server(forms: Vec<(&'static str, String)>) -> u16 {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for (n, mut conn) in listener.incoming().flatten().enumerate() {
            let _ = conn.set_read_timeout(Some(std::time::Duration::from_secs(2)));
            let mut buf = [0u8; 8192];
            let read = conn.read(&mut buf).unwrap_or(0);
            let request = String::from_utf8_lossy(&buf[..read]).to_string();
            let echoed = request.replace(['\r', '\n'], " ").replace('"', "'");
            let auth = request
                .lines()
                .find(|l| l.to_ascii_lowercase().starts_with("authorization:"))
                .map(|l| l.trim().replace('"', "'"))
                .unwrap_or_default();
            let (name, form) = &forms[n % forms.len()];
            let body = format!(
                "{{\"Code\":\"Unauthorized\",\"Message\":\"form={name}: {form}; header {auth}; you sent: {echoed}\",\"error\":\"{echoed}\"}}"
            );
            let _ = write!(
                conn,
                "HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    port
}

/// A recognisable secret in every credential slot opsdeck has — the AWS chain
/// (environment), a Prometheus bearer token, an Alertmanager basic-auth password,
/// an Alibaba AccessKey and an Azure client secret (all in the real keyring) —
/// while every HTTP source talks to a server that echoes the request back in its
/// 401: creds list, doctor, snapshot (table and JSON), an action and a console
/// session that polls and fails, all logging at trace level to a file, print no
/// secret, and no file under HOME (the trace log and audit log among them) holds one.
#[test]
fn secrets_in_every_slot_stay_out_of_every_output_even_when_a_server_echoes_them() {
    need("tmux");
    let home = tempfile::tempdir().expect("tempdir");
    // Every encoding of this one differs: '/', '+' and '=' change base64url and
    // percent-encoding, the space form encoding; its length pads both base64s.
    let secret = "PLANTED/every+slot=7c2d9?>~ x";
    let forms = echoed_forms(secret, "opsdeck");
    let port = echo_server(forms.clone());
    let config = home.path().join("opsdeck.toml");
    std::fs::write(
        &config,
        format!(
            r#"[[sources]]
name = "prom"
kind = "prometheus"
timeout_secs = 3
[sources.prometheus]
url = "http://127.0.0.1:{port}"
backfill_minutes = 0
[sources.prometheus.auth]
bearer_token_entry = "prom/bearer_token"

[[sources]]
name = "am"
kind = "alertmanager"
timeout_secs = 3
[sources.alertmanager]
urls = ["http://127.0.0.1:{port}"]
[sources.alertmanager.auth]
basic_auth_user = "opsdeck"
basic_auth_password_entry = "am/password"

[[sources]]
name = "ali"
kind = "aliyun"
timeout_secs = 3
[sources.aliyun]
account = "test"
region = "cn-hangzhou"
[sources.aliyun.endpoints]
cms = "http://127.0.0.1:{port}"
ess = "http://127.0.0.1:{port}"
alidns = "http://127.0.0.1:{port}"
bss = "http://127.0.0.1:{port}"

[[sources]]
name = "az"
kind = "azure"
timeout_secs = 3
[sources.azure]
subscriptions = ["00000000-0000-0000-0000-000000000000"]
tenant_id = "11111111-1111-1111-1111-111111111111"
client_id = "22222222-2222-2222-2222-222222222222"
authority_host = "https://127.0.0.1:{port}"
arm_endpoint = "https://127.0.0.1:{port}"
"#
        ),
    )
    .expect("config");
    let script = format!(
        r#"for e in "prom bearer_token" "am password" "ali access_key_secret" "az client_secret"; do
          printf '{secret}' | "$OPSDECK" creds set $e || exit 10
        done
        printf 'LTAItestkeyid' | "$OPSDECK" creds set ali access_key_id || exit 11
        export AWS_SECRET_ACCESS_KEY='{secret}' AWS_ACCESS_KEY_ID=AKIATEST
        C="--config {cfg} --log-level trace --log-file $HOME/trace.log"
        "$OPSDECK" $C creds list; "$OPSDECK" $C doctor; "$OPSDECK" $C snapshot; "$OPSDECK" $C snapshot --format json
        "$OPSDECK" $C ack some-alert looking into it --json
        # The console: every source polls, fails on the echo and goes stale, logged.
        sock=opsdeck-echo-$$
        tmux -L $sock new-session -d -s h -x 160 -y 40 "$OPSDECK $C 2>$HOME/console-stderr.txt"
        sleep 5
        tmux -L $sock send-keys -t h 6; sleep 0.5; tmux -L $sock capture-pane -p -t h
        tmux -L $sock send-keys -t h q; sleep 0.5; tmux -L $sock kill-server 2>/dev/null
        cat $HOME/console-stderr.txt
        echo session-done"#,
        cfg = config.display()
    );
    let out = in_secret_service(&script, home.path());
    let t = text(&out);
    assert!(t.contains("session-done"), "the session ran: {t}");
    // The echo reached opsdeck and was shown — scrubbed.
    assert!(t.contains("Bearer ***"), "the echoed header is shown with the token scrubbed: {t}");
    assert!(t.contains("prom") && t.contains("✗"), "doctor reported the failing sources: {t}");
    // The HTTP clients' own trace records went through the gate into the file too.
    let trace = std::fs::read_to_string(home.path().join("trace.log")).expect("the trace log");
    for (name, form) in &forms {
        assert!(!t.contains(form.as_str()), "the secret ({name}) leaked into the output:\n{t}");
        // Each form was echoed, reached an output and was scrubbed there.
        let shown = format!("form={name}: ***");
        assert!(t.contains(&shown) || trace.contains(&shown), "{shown} reached no output:\n{t}");
    }
    assert!(trace.contains(" TRACE ") && trace.contains("hyper"), "dependency records at trace level: {trace}");
    // The console logged each source's failure, echo included, scrubbed by the gate.
    let failed = trace.lines().filter(|l| l.contains("WARN") && l.contains("failed:")).collect::<Vec<_>>();
    assert!(failed.iter().any(|l| l.contains("Bearer ***")), "the echoed header, scrubbed, in the log: {failed:#?}");
    for f in files_under(home.path()) {
        if let Ok(content) = std::fs::read(&f) {
            let content = String::from_utf8_lossy(&content);
            for (name, form) in &forms {
                assert!(!content.contains(form.as_str()), "the secret ({name}) is in {f}");
            }
        }
    }
}
