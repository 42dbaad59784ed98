//! Starting and stopping: the address is checked and bound before anything else
//! (exit 2, one clear line), and SIGTERM / SIGINT stop it promptly with exit 0,
//! even with a scraper's keep-alive connection open.

use std::process::Stdio;
use std::time::Duration;

use crate::exporter::{Exporter, command};

/// `opsdeck export --listen <listen>` on the demo: (exit code, stderr), within 20 s.
fn refused(listen: &str) -> (Option<i32>, String) {
    let home = tempfile::tempdir().expect("tempdir");
    let out =
        command(home.path(), None, &["export", "--listen", listen]).stdin(Stdio::null()).output().expect("run opsdeck");
    (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn a_port_in_use_is_one_clear_line_and_exit_2() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr").to_string();
    let started = std::time::Instant::now();
    let (code, stderr) = refused(&addr);
    assert_eq!(code, Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with(&format!("opsdeck: cannot listen on {addr}: ")), "{stderr}");
    assert!(stderr.to_lowercase().contains("in use"), "{stderr}");
    // Nothing started: no poll, no "serving" line.
    assert!(started.elapsed() < Duration::from_secs(10) && !stderr.contains("serving"));
}

#[test]
fn a_listen_value_that_is_no_address_is_exit_2() {
    for bad in ["nonsense", "127.0.0.1", "127.0.0.1:99999", ":"] {
        let (code, stderr) = refused(bad);
        assert_eq!(code, Some(2), "{bad}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{bad}: {stderr}");
        assert!(
            stderr.starts_with(&format!("opsdeck: --listen {bad:?} is not an address to listen on (HOST:PORT")),
            "{bad}: {stderr}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_and_sigint_stop_it_promptly_with_exit_0() {
    for signal in ["TERM", "INT"] {
        let mut exporter = Exporter::start(None);
        exporter.wait_healthy(30).await;
        // A scraper's client keeps its connection alive between scrapes.
        let client = reqwest::Client::new();
        let resp = client.get(exporter.url("/metrics")).send().await.expect("scrape");
        assert_eq!(resp.status(), 200);
        let (status, took) = tokio::task::block_in_place(|| exporter.signal_and_wait(signal, 15));
        assert_eq!(status.code(), Some(0), "SIG{signal}: {}", exporter.stderr());
        assert!(took < Duration::from_secs(3), "SIG{signal}: stopped after {took:?}");
        assert!(exporter.stderr().ends_with("opsdeck export: stopped\n"), "{}", exporter.stderr());
        // And the port is free again.
        assert!(std::net::TcpListener::bind(("127.0.0.1", exporter.port)).is_ok(), "port still bound");
        drop(client);
    }
}
