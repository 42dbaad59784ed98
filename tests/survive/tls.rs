//! Private CAs and TLS failures in words, for each source kind that speaks HTTPS.
//!
//! Every test makes its own throwaway CA (rcgen, tests/support/tls_front.rs) and
//! puts a TLS front signed by it before a local stand-in (a Prometheus stub, the
//! Alibaba Cloud signature-checking server, the Azure estate ARM + Entra ID, moto).
//! Trusted through the source's `ca_file`, the poll works; without it, or with an
//! expired certificate or one for another host, the stale reason names the
//! certificate problem, well within the source's timeout, and the front sees no
//! retried handshakes.

use crate::support;
use crate::tls_front;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use opsdeck::collector::{SourceSchedule, collect_once};
use opsdeck::model::Freshness;
use opsdeck::providers::Provider;
use tls_front::{Front, LeafKind, Pki};
use wiremock::matchers::{any, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The timeout every source gets here; a certificate problem must be told long before.
const TIMEOUT: Duration = Duration::from_secs(10);
/// How soon "long before" is: no retry backoff, no waiting out the timeout.
const PROMPT: Duration = Duration::from_secs(3);

/// One poll through the collector: `Ok` when fresh, else the stale reason; and how long it took.
async fn poll(provider: Arc<dyn Provider>) -> (Result<(), String>, Duration) {
    let schedule = vec![SourceSchedule { provider, interval: Duration::from_secs(60), timeout: TIMEOUT }];
    let started = Instant::now();
    let fleet = collect_once(&schedule, Utc::now(), false).await;
    let outcome = match &fleet.sources[0].freshness {
        Freshness::Fresh => Ok(()),
        Freshness::Stale { reason } => Err(reason.clone()),
        Freshness::Pending => Err("pending".into()),
    };
    (outcome, started.elapsed())
}

/// The reason of a poll that must fail on the certificate, asserted prompt.
async fn failed_reason(provider: Arc<dyn Provider>, what: &str) -> String {
    let (outcome, took) = poll(provider).await;
    let reason = outcome.expect_err(what);
    assert!(took < PROMPT, "{what}: took {took:?}: {reason}");
    assert!(!reason.contains("timed out"), "{what}: {reason}");
    reason
}

// ---- Prometheus ----------------------------------------------------------

/// A Prometheus that answers every query with no series.
async fn prometheus_stub() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(path("/api/v1/status/buildinfo"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"status":"success","data":{"version":"3.1.0"}})),
        )
        .mount(&server)
        .await;
    Mock::given(any())
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"status":"success","data":{"resultType":"vector","result":[]}})),
        )
        .mount(&server)
        .await;
    server
}

fn prometheus(front: &Front, ca_file: Option<std::path::PathBuf>) -> Arc<dyn Provider> {
    let mut cfg = opsdeck::providers::prometheus::PrometheusConfig::new(front.url());
    cfg.backfill_minutes = 0;
    cfg.auth.ca_file = ca_file;
    Arc::new(opsdeck::providers::prometheus::PrometheusSource::new("prom", &cfg, TIMEOUT).expect("source"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_trusts_its_ca_file_and_names_each_certificate_problem() {
    let server = prometheus_stub().await;
    let pki = Pki::new("prom");
    let backend = *server.address();

    let good = tls_front::start_with(backend, pki.leaf(LeafKind::Good)).await;
    let (outcome, _) = poll(prometheus(&good, Some(pki.ca_file()))).await;
    assert_eq!(outcome, Ok(()), "trusted through ca_file");

    let reason = failed_reason(prometheus(&good, None), "no ca_file").await;
    assert!(reason.contains("certificate not trusted: unknown issuer"), "{reason}");

    let expired = tls_front::start_with(backend, pki.leaf(LeafKind::Expired)).await;
    let reason = failed_reason(prometheus(&expired, Some(pki.ca_file())), "expired").await;
    assert!(reason.contains("certificate expired on 2020-12-31"), "{reason}");

    let other = tls_front::start_with(backend, pki.leaf(LeafKind::OtherHost)).await;
    let reason = failed_reason(prometheus(&other, Some(pki.ca_file())), "other host").await;
    assert!(
        reason.contains("certificate is for another host name: 127.0.0.1 is not among api.example.invalid"),
        "{reason}"
    );

    // A CA that is not the one that signed: still unknown, the file is not a pass.
    let stranger = Pki::new("stranger");
    let reason = failed_reason(prometheus(&good, Some(stranger.ca_file())), "another CA").await;
    assert!(reason.contains("unknown issuer"), "{reason}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alertmanager_trusts_its_ca_file_and_names_an_untrusted_certificate() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!([])))
        .mount(&server)
        .await;
    let pki = Pki::new("am");
    let front = tls_front::start_with(*server.address(), pki.leaf(LeafKind::Good)).await;
    let am = |ca: Option<std::path::PathBuf>| -> Arc<dyn Provider> {
        let mut cfg = opsdeck::providers::prometheus::AlertmanagerConfig::new(vec![front.url()]);
        cfg.auth.ca_file = ca;
        Arc::new(
            opsdeck::providers::prometheus::alertmanager::AlertmanagerSource::new("am", &cfg, TIMEOUT).expect("am"),
        )
    };
    assert_eq!(poll(am(Some(pki.ca_file()))).await.0, Ok(()));
    let reason = failed_reason(am(None), "no ca_file").await;
    assert!(reason.contains("certificate not trusted: unknown issuer"), "{reason}");
}

// ---- Alibaba Cloud -------------------------------------------------------

mod aliyun {
    use super::*;
    use opsdeck::credentials::Secret;
    use opsdeck::providers::aliyun::client::{KeySource, RetryPolicy};
    use opsdeck::providers::aliyun::config::AliyunConfig;
    use opsdeck::providers::aliyun::providers_with;
    use opsdeck::providers::aliyun::sign::AccessKey;
    use support::aliyun::{KEY_ID, KEY_SECRET, Seen, Server, fixture};

    fn replay(req: &Seen) -> (u16, String) {
        let f = match req.action.as_str() {
            "DescribeScalingGroups" => "ess-2014-08-28-DescribeScalingGroups.doc.json",
            "DescribeAlertLogList" => "cms-2019-01-01-DescribeAlertLogList.sdk.json",
            "DescribeContactGroupList" | "DescribeContactList" => {
                return (200, support::aliyun::contact_book(&req.action));
            }
            other => return (404, format!(r#"{{"Code":"InvalidAction.NotFound","Message":"{other}"}}"#)),
        };
        (200, fixture(f))
    }

    fn region(front: &Front, ca_file: Option<std::path::PathBuf>) -> Arc<dyn Provider> {
        let mut cfg = AliyunConfig::new("cn-qingdao");
        for k in ["cms", "ess", "alidns", "bss"] {
            cfg.endpoints.insert(k.into(), front.url());
        }
        cfg.billing = false;
        cfg.ca_file = ca_file;
        let key =
            KeySource::Given(AccessKey { id: KEY_ID.into(), secret: Secret::new(KEY_SECRET), security_token: None });
        // The default policy: what a real source retries.
        let mut p = providers_with("ali", &cfg, TIMEOUT, key, RetryPolicy::default()).expect("providers");
        assert_eq!(p.len(), 1, "region only");
        p.remove(0)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn alibaba_trusts_its_ca_file_and_names_an_untrusted_or_expired_certificate() {
        let server = Server::start(Arc::new(replay));
        let backend: SocketAddr = server.url.trim_start_matches("http://").parse().expect("addr");
        let pki = Pki::new("aliyun");
        let good = tls_front::start_with(backend, pki.leaf(LeafKind::Good)).await;

        let (outcome, _) = poll(region(&good, Some(pki.ca_file()))).await;
        assert_eq!(outcome, Ok(()), "trusted through ca_file");
        // The signature was checked by the stand-in, with the front's host in it.
        assert!(server.seen().iter().all(|s| s.signature_ok) && !server.seen().is_empty());

        let seen_before = server.seen().len();
        let accepted_before = good.accepted();
        let reason = failed_reason(region(&good, None), "no ca_file").await;
        assert!(reason.contains("certificate not trusted: unknown issuer"), "{reason}");
        assert_eq!(server.seen().len(), seen_before, "nothing reached the API");
        // One handshake per API the poll reads (scaling groups, alert logs), none retried.
        assert!(good.accepted() - accepted_before <= 2, "{} handshakes", good.accepted() - accepted_before);

        let expired = tls_front::start_with(backend, pki.leaf(LeafKind::Expired)).await;
        let reason = failed_reason(region(&expired, Some(pki.ca_file())), "expired").await;
        assert!(reason.contains("certificate expired"), "{reason}");
    }
}

// ---- Azure ---------------------------------------------------------------

mod azure {
    use super::*;
    use crate::azure_estate::{self, Estate};
    use opsdeck::credentials::Secret;
    use opsdeck::providers::azure::AzureConfig;
    use opsdeck::providers::azure::{self, AzureAuth, AzureOptions, LroLimits, creds, transport};
    use opsdeck::providers::tls::ExtraRoots;

    /// A subscription of `estate` behind `front`; the credential (the token
    /// authority is the same front) goes through a transport trusting `ca_file`.
    fn subscription(estate: &Estate, front: &Front, ca_file: Option<std::path::PathBuf>) -> Arc<dyn Provider> {
        let mut cfg = AzureConfig::new(vec![estate.subs[0].id.clone()]);
        cfg.arm_endpoint = front.url();
        cfg.authority_host = Some(front.url());
        cfg.ca_file = ca_file;
        let roots = ExtraRoots::load_opt(cfg.ca_file.as_deref()).expect("ca_file");
        let t = transport::build(roots.as_ref()).expect("transport");
        let cred = creds::client_secret(
            azure_estate::TENANT,
            azure_estate::CLIENT,
            &Secret::new(azure_estate::SECRET),
            &cfg,
            Some(t),
        )
        .expect("credential");
        let opts = AzureOptions {
            auth: AzureAuth::Given(cred),
            // None: the provider builds its own from cfg.ca_file, as in the program.
            transport: None,
            lro: LroLimits { timeout: Duration::from_secs(10), interval: Duration::from_millis(20) },
        };
        azure::providers("az", &cfg, opts).expect("providers").remove(0)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn azure_arm_and_the_token_authority_trust_the_ca_file_and_an_untrusted_one_is_named_at_once() {
        let estate = Estate::generate(7);
        let server = azure_estate::serve(&estate).await;
        let pki = Pki::new("azure");
        let good = tls_front::start_with(*server.address(), pki.leaf(LeafKind::Good)).await;

        let (outcome, _) = poll(subscription(&estate, &good, Some(pki.ca_file()))).await;
        assert_eq!(outcome, Ok(()), "trusted through ca_file");

        // The token request is the first to meet the certificate: azure_core's retry
        // policy must not retry it until the poll times out.
        let before = good.accepted();
        let reason = failed_reason(subscription(&estate, &good, None), "no ca_file").await;
        assert!(reason.contains("certificate not trusted: unknown issuer"), "{reason}");
        assert!(reason.contains("token request to 127.0.0.1: TLS: "), "the request and host are named: {reason}");
        let handshakes = good.accepted() - before;
        assert!(handshakes <= 6, "{handshakes} handshakes: retried");

        let other = tls_front::start_with(*server.address(), pki.leaf(LeafKind::OtherHost)).await;
        let reason = failed_reason(subscription(&estate, &other, Some(pki.ca_file())), "other host").await;
        assert!(reason.contains("certificate is for another host name"), "{reason}");
    }
}

// ---- AWS -----------------------------------------------------------------

mod aws {
    use super::*;
    use opsdeck::providers::aws::AwsConfig;
    use opsdeck::providers::aws::{self, SdkSource};
    use support::moto::{Moto, sdk_for};

    async fn region(front: &Front, ca_file: Option<std::path::PathBuf>) -> Arc<dyn Provider> {
        let mut cfg = AwsConfig::new("test", vec!["us-east-1".into()]);
        cfg.endpoint_url = Some(front.url());
        cfg.ca_file = ca_file;
        let sdk = sdk_for(&front.url(), "us-east-1").await;
        aws::providers("aws", &cfg, TIMEOUT, SdkSource::Given(Box::new(sdk))).remove(0)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn aws_through_endpoint_url_trusts_the_ca_file_and_a_certificate_failure_is_not_retried() {
        let moto = Moto::start();
        let backend: SocketAddr = format!("127.0.0.1:{}", moto.port).parse().expect("addr");
        let pki = Pki::new("aws");
        let good = tls_front::start_with(backend, pki.leaf(LeafKind::Good)).await;

        let (outcome, _) = poll(region(&good, Some(pki.ca_file())).await).await;
        assert_eq!(outcome, Ok(()), "trusted through ca_file");

        let before = good.accepted();
        let reason = failed_reason(region(&good, None).await, "no ca_file").await;
        assert!(reason.contains("certificate not trusted: unknown issuer"), "{reason}");
        assert!(!reason.contains("DispatchFailure"), "words, not a Debug dump: {reason}");
        // The region reads Auto Scaling, CloudWatch alarms and metrics: each fails
        // once; the SDK's standard retry (3 attempts) would triple this.
        let handshakes = good.accepted() - before;
        assert!(handshakes <= 4, "{handshakes} handshakes: retried");

        let expired = tls_front::start_with(backend, pki.leaf(LeafKind::Expired)).await;
        let reason = failed_reason(region(&expired, Some(pki.ca_file())).await, "expired").await;
        assert!(reason.contains("certificate expired"), "{reason}");
    }
}

// ---- the built binary ----------------------------------------------------

mod binary {
    use super::*;
    use crate::azure_estate::{self, Estate};

    /// `opsdeck <args>` with `config`, no `SSL_CERT_FILE` (the CA comes from ca_file
    /// or nowhere) and the estate's service principal in the environment;
    /// (exit code, stdout, stderr, how long it took).
    async fn run(config: &str, args: &[&str]) -> (Option<i32>, String, String, Duration) {
        run_with(config, args, &[]).await
    }

    /// [`run`] with more environment (set after the defaults, so it wins).
    async fn run_with(config: &str, args: &[&str], env: &[(&str, String)]) -> (Option<i32>, String, String, Duration) {
        let home = tempfile::tempdir().expect("tempdir");
        let path = home.path().join("opsdeck.toml");
        std::fs::write(&path, config).expect("config");
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_opsdeck"));
        cmd.arg("--config").arg(&path).args(args);
        cmd.env("XDG_CONFIG_HOME", home.path())
            .env("XDG_STATE_HOME", home.path().join("state"))
            .env("AZURE_TENANT_ID", azure_estate::TENANT)
            .env("AZURE_CLIENT_ID", azure_estate::CLIENT)
            .env("AZURE_CLIENT_SECRET", azure_estate::SECRET)
            .env_remove("SSL_CERT_FILE")
            .env_remove("SSL_CERT_DIR")
            .env_remove("DBUS_SESSION_BUS_ADDRESS");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let started = Instant::now();
        let out = tokio::task::spawn_blocking(move || cmd.output()).await.expect("join").expect("run opsdeck");
        drop(home);
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        (out.status.code(), text(&out.stdout), text(&out.stderr), started.elapsed())
    }

    fn azure_config(estate: &Estate, front: &Front, ca_file: Option<&std::path::Path>) -> String {
        let mut toml = estate.config_toml(&front.url(), "az");
        if let Some(p) = ca_file {
            toml.push_str(&format!("ca_file = {:?}\n", p.display().to_string()));
        }
        toml
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn doctor_reads_azure_through_its_ca_file_and_names_an_untrusted_certificate_within_the_timeout() {
        let estate = Estate::generate(11);
        let server = azure_estate::serve(&estate).await;
        let pki = Pki::new("doctor");
        let front = tls_front::start_with(*server.address(), pki.leaf(LeafKind::Good)).await;
        let sub = &estate.subs[0].id;

        // Trusted through ca_file: every token is acquired and ARM answers (the
        // stand-in has no metric definitions, so that one check fails on its own).
        let (_, out, err, _) = run(&azure_config(&estate, &front, Some(&pki.ca_file())), &["doctor"]).await;
        assert!(out.contains(&format!("✓ az/{sub} (azure) token for ")), "{out}\n{err}");
        assert!(
            out.contains(&format!("✓ az/{sub} (azure) Microsoft.AlertsManagement/alerts read: permitted")),
            "{out}"
        );
        assert!(!out.contains("TLS") && !out.contains("certificate"), "{out}");

        let (code, out, err, took) = run(&azure_config(&estate, &front, None), &["doctor"]).await;
        assert_ne!(code, Some(0), "{out}\n{err}");
        let line = out.lines().find(|l| l.contains(&format!("✗ az/{sub} (azure) token for "))).unwrap_or_else(|| {
            panic!("no failed token line:\n{out}\n{err}");
        });
        assert!(
            line.ends_with("token request to 127.0.0.1: TLS: certificate not trusted: unknown issuer (trust its CA with the source's ca_file)"),
            "{line}"
        );
        // The config's timeout_secs is 20; doctor allows four times that.
        assert!(took < Duration::from_secs(10), "took {took:?}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn snapshot_json_gives_an_expired_certificate_as_the_stale_reason() {
        let server = prometheus_stub().await;
        let pki = Pki::new("snapshot");
        let front = tls_front::start_with(*server.address(), pki.leaf(LeafKind::Expired)).await;
        let config = format!(
            "[[sources]]\nname = \"prom\"\nkind = \"prometheus\"\ntimeout_secs = 10\n\n\
             [sources.prometheus]\nurl = \"{}\"\nbackfill_minutes = 0\n\n\
             [sources.prometheus.auth]\nca_file = {:?}\n",
            front.url(),
            pki.ca_file().display().to_string()
        );
        let (_, out, err, took) = run(&config, &["snapshot", "--format", "json"]).await;
        let snap: serde_json::Value =
            serde_json::from_str(&out).unwrap_or_else(|e| panic!("not JSON ({e}):\n{out}\n{err}"));
        let source = &snap["sources"][0];
        assert_eq!(source["id"], "prom", "{snap:#}");
        assert_eq!(source["state"], "stale", "{snap:#}");
        let reason = source["reason"].as_str().unwrap_or_default();
        assert!(reason.contains("TLS: certificate expired on 2020-12-31 00:00 UTC"), "{reason}");
        assert!(took < Duration::from_secs(10), "took {took:?}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_ca_file_that_is_missing_or_not_pem_stops_startup_naming_the_source_and_the_file() {
        let estate = Estate::generate(12);
        let server = azure_estate::serve(&estate).await;
        let front = tls_front::start_with(*server.address(), Pki::new("bad").leaf(LeafKind::Good)).await;
        let dir = tempfile::tempdir().expect("tempdir");
        let not_pem = dir.path().join("ca.der");
        std::fs::write(&not_pem, [0x30, 0x82, 0x01, 0x0a]).expect("write");
        let missing = dir.path().join("nope.pem");
        for (file, words) in [(&not_pem, "not a PEM file"), (&missing, "cannot read it")] {
            let (code, out, err, _) = run(&azure_config(&estate, &front, Some(file)), &["doctor"]).await;
            assert_ne!(code, Some(0), "{out}\n{err}");
            let want = format!("source az: ca_file {}: {words}", file.display());
            assert!(err.contains(&want), "want {want:?} in:\n{err}");
        }
    }

    /// `SSL_CERT_FILE` replaces the system roots for every source and keeps working;
    /// a `ca_file` adds to those roots, it does not replace them: with the system
    /// roots being CA "system" (through SSL_CERT_FILE) and a source's ca_file CA
    /// "private", that source reaches servers of both.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_ca_file_adds_to_the_roots_that_ssl_cert_file_sets() {
        let prom = prometheus_stub().await;
        let moto = support::moto::Moto::start();
        let moto_addr: SocketAddr = format!("127.0.0.1:{}", moto.port).parse().expect("addr");
        let (system, private) = (Pki::new("system"), Pki::new("private"));
        let prom_system = tls_front::start_with(*prom.address(), system.leaf(LeafKind::Good)).await;
        let prom_private = tls_front::start_with(*prom.address(), private.leaf(LeafKind::Good)).await;
        let aws_system = tls_front::start_with(moto_addr, system.leaf(LeafKind::Good)).await;
        let private_ca = format!("{:?}", private.ca_file().display().to_string());
        let prom_source = |name: &str, front: &Front, ca: Option<&str>| {
            let ca = ca.map(|c| format!("\n[sources.prometheus.auth]\nca_file = {c}\n")).unwrap_or_default();
            format!(
                "[[sources]]\nname = \"{name}\"\nkind = \"prometheus\"\ntimeout_secs = 10\n\n\
                 [sources.prometheus]\nurl = \"{}\"\nbackfill_minutes = 0\n{ca}\n",
                front.url()
            )
        };
        let config = [
            // The system roots alone (SSL_CERT_FILE).
            prom_source("prom-system", &prom_system, None),
            // ca_file plus the system roots, reaching a server of each.
            prom_source("prom-both-system", &prom_system, Some(&private_ca)),
            prom_source("prom-both-private", &prom_private, Some(&private_ca)),
            // The AWS SDK's client: its ca_file keeps the system roots too.
            format!(
                "[[sources]]\nname = \"aws\"\nkind = \"aws\"\ntimeout_secs = 10\n\n\
                 [sources.aws]\naccount = \"test\"\nregions = [\"us-east-1\"]\nendpoint_url = \"{}\"\nca_file = {private_ca}\n",
                aws_system.url()
            ),
        ]
        .concat();
        let env = [
            ("SSL_CERT_FILE", system.ca_file().display().to_string()),
            ("AWS_ACCESS_KEY_ID", "testing".to_string()),
            ("AWS_SECRET_ACCESS_KEY", "testing".to_string()),
            ("AWS_EC2_METADATA_DISABLED", "true".to_string()),
            ("AWS_CONFIG_FILE", "/nonexistent/aws-config".to_string()),
            ("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/aws-credentials".to_string()),
        ];
        let (_, out, err, _) = run_with(&config, &["snapshot", "--format", "json"], &env).await;
        let snap: serde_json::Value =
            serde_json::from_str(&out).unwrap_or_else(|e| panic!("not JSON ({e}):\n{out}\n{err}"));
        let states: Vec<(String, String)> = snap["sources"]
            .as_array()
            .expect("sources")
            .iter()
            .map(|s| (s["id"].as_str().unwrap_or("").to_string(), s["state"].as_str().unwrap_or("").to_string()))
            .collect();
        let fresh = |id: &str| (id.to_string(), "fresh".to_string());
        for id in ["prom-system", "prom-both-system", "prom-both-private", "aws/us-east-1"] {
            assert!(states.contains(&fresh(id)), "{id}: {states:?}\n{snap:#}");
        }

        // And without SSL_CERT_FILE the "system" CA is nobody's: named, not trusted.
        let (_, out, err, _) =
            run(&prom_source("prom-system", &prom_system, None), &["snapshot", "--format", "json"]).await;
        let snap: serde_json::Value =
            serde_json::from_str(&out).unwrap_or_else(|e| panic!("not JSON ({e}):\n{out}\n{err}"));
        let reason = snap["sources"][0]["reason"].as_str().unwrap_or_default();
        assert!(reason.contains("certificate not trusted: unknown issuer"), "{snap:#}");
    }
}
