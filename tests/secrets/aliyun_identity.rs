//! The identities the Alibaba Cloud tools use, each against a local stand-in of
//! its endpoint: the ECS instance's RAM role (a metadata service on 127.0.0.1),
//! RamRoleArn profiles (STS AssumeRole on the signature-checking server of
//! tests/support/aliyun.rs), and renewal of their temporary keys before expiry.

use crate::support;

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use chrono::Utc;
use opsdeck::providers::Provider;
use opsdeck::providers::aliyun::client::{KeySource, RetryPolicy};
use opsdeck::providers::aliyun::config::{AliyunConfig, CredentialMode};
use opsdeck::providers::aliyun::creds::{self, Inputs};
use opsdeck::providers::aliyun::keys::Refresh;
use opsdeck::providers::aliyun::sign::SignatureVersion;
use opsdeck::providers::aliyun::{providers_with, providers_with_refresh, standard_keys};
use support::aliyun::{KEY_ID, KEY_SECRET, KeyBook, Seen, Server, fixture};
use support::aliyun_meta::{self as meta, Behaviour, Metadata};

fn fast_retry() -> RetryPolicy {
    RetryPolicy { attempts: 2, base: Duration::from_millis(10), max: Duration::from_millis(20) }
}

/// The fixture answers of the region's poll and of doctor's checks.
fn replay(req: &Seen) -> (u16, String) {
    match req.action.as_str() {
        "DescribeScalingGroups" => (200, fixture("ess-2014-08-28-DescribeScalingGroups.doc.json")),
        "DescribeAlertLogList" => (200, fixture("cms-2019-01-01-DescribeAlertLogList.sdk.json")),
        "DescribeMetricLast" => (200, fixture("cms-2019-01-01-DescribeMetricLast.sdk.json")),
        "DescribeContactGroupList" | "DescribeContactList" => (200, support::aliyun::contact_book(&req.action)),
        other => (404, format!(r#"{{"Code":"InvalidAction.NotFound","Message":"{other}"}}"#)),
    }
}

fn config(api: &str) -> AliyunConfig {
    let mut c = AliyunConfig::new("cn-qingdao");
    for k in ["cms", "ess", "alidns", "bss", "sts"] {
        c.endpoints.insert(k.into(), api.into());
    }
    c.billing = false;
    c
}

fn ecs_config(api: &str, metadata: &str) -> AliyunConfig {
    let mut c = config(api);
    c.credentials = Some(CredentialMode::EcsRamRole);
    c.metadata_endpoint = Some(metadata.into());
    c
}

/// A clock that starts at the real now and moves when the test says.
fn movable_clock() -> (Refresh, Arc<AtomicI64>) {
    let offset = Arc::new(AtomicI64::new(0));
    let o = offset.clone();
    let clock = Arc::new(move || Utc::now() + chrono::Duration::seconds(o.load(Ordering::SeqCst)));
    (Refresh { margin: chrono::Duration::minutes(5), clock }, offset)
}

fn region_of(ps: Vec<Arc<dyn Provider>>) -> Arc<dyn Provider> {
    ps.into_iter().next().expect("region source")
}

/// Every API request since `from`: signed (checked by the server) with key `n` of
/// the metadata stand-in, its token sent as `x-acs-security-token` (V3) or
/// `SecurityToken` (V1).
fn assert_signed_with_role_key(api: &Server, from: usize, n: u32, scheme: &str) {
    let seen = &api.seen()[from..];
    assert!(!seen.is_empty(), "no API request");
    for s in seen {
        assert!(s.signature_ok, "{} signature", s.action);
        assert_eq!((s.scheme, s.key_id.clone()), (scheme, meta::key_id(n)), "{}", s.action);
        let token = if scheme == "v3" { s.headers.get("x-acs-security-token") } else { s.params.get("SecurityToken") };
        assert_eq!(token, Some(&meta::token(n)), "{}", s.action);
    }
}

fn role_keys() -> KeyBook {
    Arc::new(meta::secret_of)
}

#[tokio::test]
async fn an_ecs_ram_role_signs_with_its_temporary_key_and_token_and_is_renewed_before_it_expires() {
    for (signature, scheme) in [(SignatureVersion::V3, "v3"), (SignatureVersion::V1, "v1")] {
        // Key n expires n hours after the start: times on the test's clock.
        let t0 = Utc::now();
        let md = Metadata::start(Behaviour {
            role: Some("shop-reader".into()),
            expires: Box::new(move |n| t0 + chrono::Duration::hours(n.into())),
            hardened: true,
            fail_from: None,
        });
        let api = Server::start_with_keys(role_keys(), Arc::new(replay));
        let mut cfg = ecs_config(&api.url, &md.url);
        cfg.signature = signature;
        let (refresh, clock) = movable_clock();
        let ps = providers_with_refresh(
            "ali",
            &cfg,
            Duration::from_secs(5),
            standard_keys("ali", &cfg),
            fast_retry(),
            refresh,
        )
        .expect("providers");
        let region = region_of(ps);

        region.poll(Utc::now()).await.expect("first poll");
        assert_eq!(md.fetches(), 1);
        assert_signed_with_role_key(&api, 0, 1, scheme);
        // The key's secret and token are held by the scrubber from the moment they are read.
        for secret in [meta::secret(1), meta::token(1)] {
            let echoed = format!("echo {secret}");
            let shown = opsdeck::credentials::redact(&echoed);
            assert!(!shown.contains(&secret), "{shown}");
        }
        // The hardened mode: a session token first, then every read carries it; the
        // attached role is found by listing, then its key read.
        let paths: Vec<(String, String, Option<String>)> =
            md.seen().into_iter().map(|s| (s.method, s.path, s.token)).collect();
        let t = Some(meta::SESSION_TOKEN.to_string());
        assert_eq!(
            paths,
            vec![
                ("PUT".into(), "/latest/api/token".into(), None),
                ("GET".into(), "/latest/meta-data/ram/security-credentials/".into(), t.clone()),
                ("GET".into(), "/latest/meta-data/ram/security-credentials/shop-reader".into(), t),
            ]
        );

        // Fifty minutes on, ten are left: more than the margin, the key is kept.
        clock.store(50 * 60, Ordering::SeqCst);
        let before = api.seen().len();
        region.poll(Utc::now()).await.expect("second poll");
        assert_eq!(md.fetches(), 1, "renewed too early");
        assert_signed_with_role_key(&api, before, 1, scheme);

        // Fifty-six minutes on, four are left (under five): renewed before it expires.
        clock.store(56 * 60, Ordering::SeqCst);
        let before = api.seen().len();
        region.poll(Utc::now()).await.expect("third poll");
        assert_eq!(md.fetches(), 2, "not renewed");
        assert_signed_with_role_key(&api, before, 2, scheme);

        // doctor names the identity: the role the metadata service named, and the key's expiry.
        let checks = region.preflight(Utc::now()).await;
        let id = checks.iter().find(|c| c.what == "identity").expect("identity check");
        let words = id.result.clone().expect("identity readable");
        assert!(
            words.starts_with(
                "ECS RAM role shop-reader (metadata), from credentials = \"ecs_ram_role\" in the config; temporary key valid until "
            ),
            "{words}"
        );
    }
}

#[tokio::test]
async fn a_key_with_less_life_left_than_the_margin_is_renewed_on_every_use_and_a_named_role_is_read_directly() {
    // The stand-in's keys expire two minutes from now; the default margin is five.
    let md = Metadata::start(Behaviour {
        role: Some("shop-reader".into()),
        expires: Box::new(|_| Utc::now() + chrono::Duration::minutes(2)),
        hardened: false,
        fail_from: None,
    });
    let api = Server::start_with_keys(role_keys(), Arc::new(replay));
    let mut cfg = ecs_config(&api.url, &md.url);
    cfg.ram_role_name = Some("shop-reader".into());
    let ps = providers_with("ali", &cfg, Duration::from_secs(5), standard_keys("ali", &cfg), fast_retry())
        .expect("providers");
    let region = region_of(ps);
    for n in 1..=3u32 {
        let before = api.seen().len();
        let fetched = md.fetches();
        region.poll(Utc::now()).await.expect("poll");
        // Each API request renews first (two reads per poll: groups and alert logs).
        assert!(md.fetches() > fetched, "poll {n} did not renew");
        let seen = &api.seen()[before..];
        for s in seen {
            assert!(s.signature_ok);
            let k: u32 = s.key_id.trim_start_matches("STS.role-").parse().expect("role key");
            assert!(k > fetched && k <= md.fetches(), "poll {n} used key {k}");
            assert_eq!(s.headers.get("x-acs-security-token"), Some(&meta::token(k)));
        }
    }
    // A named role is read at once; a service without the hardened mode is read without its token.
    let list = md.seen().iter().filter(|s| s.path == "/latest/meta-data/ram/security-credentials/").count();
    assert_eq!(list, 0);
    assert!(md.seen().iter().all(|s| s.token.is_none()));
}

#[tokio::test]
async fn no_metadata_service_or_no_role_is_said_in_words() {
    // Nothing listens: not on an ECS instance.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    let api = Server::start_with_keys(role_keys(), Arc::new(replay));
    let cfg = ecs_config(&api.url, &format!("127.0.0.1:{port}"));
    let region = region_of(
        providers_with("ali", &cfg, Duration::from_secs(5), standard_keys("ali", &cfg), fast_retry()).expect("p"),
    );
    let e = region.poll(Utc::now()).await.expect_err("no metadata").to_string();
    assert!(e.contains(&format!("ECS metadata service http://127.0.0.1:{port}: cannot connect")), "{e}");
    assert!(api.seen().is_empty(), "nothing may be sent unsigned");

    let md =
        Metadata::start(Behaviour { role: None, expires: Box::new(|_| Utc::now()), hardened: false, fail_from: None });
    let cfg = ecs_config(&api.url, &md.url);
    let region = region_of(
        providers_with("ali", &cfg, Duration::from_secs(5), standard_keys("ali", &cfg), fast_retry()).expect("p"),
    );
    let e = region.poll(Utc::now()).await.expect_err("no role").to_string();
    assert!(e.contains("no RAM role is attached to this instance"), "{e}");
}

#[tokio::test]
async fn a_renewal_that_fails_keeps_the_still_valid_key_until_it_expires() {
    let md = Metadata::start(Behaviour {
        role: Some("shop-reader".into()),
        expires: Box::new(|_| Utc::now() + chrono::Duration::hours(1)),
        hardened: false,
        fail_from: Some(2),
    });
    let api = Server::start_with_keys(role_keys(), Arc::new(replay));
    let cfg = ecs_config(&api.url, &md.url);
    let (refresh, clock) = movable_clock();
    let keys = standard_keys("ali", &cfg);
    let region =
        region_of(providers_with_refresh("ali", &cfg, Duration::from_secs(5), keys, fast_retry(), refresh).expect("p"));
    region.poll(Utc::now()).await.expect("first");
    // Four minutes left: renewal is due and fails, but the held key still works.
    clock.store(56 * 60, Ordering::SeqCst);
    let before = api.seen().len();
    region.poll(Utc::now()).await.expect("the held key is still valid");
    assert_eq!(md.fetches(), 1);
    assert!(md.seen().len() > 2, "no renewal was tried");
    assert_signed_with_role_key(&api, before, 1, "v3");
    // Past its Expiration it is not used: the failure is the poll's error.
    clock.store(61 * 60, Ordering::SeqCst);
    let before = api.seen().len();
    let e = region.poll(Utc::now()).await.expect_err("expired").to_string();
    assert!(e.contains("ECS metadata service") && e.contains("HTTP 500"), "{e}");
    assert_eq!(api.seen().len(), before, "an expired key signed a request");
}

/// Both sources of an account, polled at once on a multi-threaded runtime, share
/// one key holder: one metadata read, not one per request or per source.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_polls_wait_for_one_fetch_under_the_lock() {
    let t0 = Utc::now();
    let md = Metadata::start(Behaviour {
        role: Some("shop-reader".into()),
        expires: Box::new(move |n| t0 + chrono::Duration::hours(n.into())),
        hardened: false,
        fail_from: None,
    });
    let api = Server::start_with_keys(role_keys(), Arc::new(replay));
    let mut cfg = ecs_config(&api.url, &md.url);
    cfg.billing = true;
    let api_url = api.url.clone();
    let ps = providers_with("ali", &cfg, Duration::from_secs(5), standard_keys("ali", &cfg), fast_retry())
        .expect("providers");
    assert_eq!(ps.len(), 2, "region and global");
    let polls: Vec<_> = ps
        .iter()
        .flat_map(|p| (0..3).map(move |_| p.clone()))
        .map(|p| tokio::spawn(async move { p.poll(Utc::now()).await.map(|_| ()) }))
        .collect();
    for p in polls {
        // The global source reads a bill this stand-in does not serve: only the key matters here.
        let _ = p.await.expect("task");
    }
    assert_eq!(md.fetches(), 1, "{api_url}");
    assert!(!api.seen().is_empty());
    assert_signed_with_role_key(&api, 0, 1, "v3");
}

/// The aliyun CLI's config with one RamRoleArn profile whose base key is the test's.
const CLI: &str = r#"{"current":"role","profiles":[{"name":"role","mode":"RamRoleArn",
  "access_key_id":"test-key-id","access_key_secret":"test-key-secret",
  "ram_role_arn":"acs:ram::1234567890123456:role/shop-reader","ram_session_name":"opsdeck-ops",
  "expired_seconds":3600}]}"#;

fn assumed_id(n: u32) -> String {
    format!("STS.assumed-{n}")
}

/// STS: AssumeRole (answered only when signed with the base key) hands out key n;
/// everything else must be signed with an assumed key and carry its token.
fn sts_and_api() -> Server {
    // Key n expires n hours after the start: times on the test's clock.
    let t0 = Utc::now();
    let issued = Arc::new(std::sync::atomic::AtomicU32::new(0));
    let book: KeyBook = Arc::new(|id| {
        if id == KEY_ID {
            return Some(KEY_SECRET.into());
        }
        id.strip_prefix("STS.assumed-").map(|n| format!("assumed-secret-{n}"))
    });
    Server::start_with_keys(
        book,
        Arc::new(move |req: &Seen| {
            if req.action == "AssumeRole" {
                if req.key_id != KEY_ID {
                    return (403, r#"{"Code":"NoPermission","Message":"not the base key"}"#.into());
                }
                let n = issued.fetch_add(1, Ordering::SeqCst) + 1;
                let exp = (t0 + chrono::Duration::hours(n.into())).format("%Y-%m-%dT%H:%M:%SZ");
                // The documented answer: RequestId, AssumedRoleUser, Credentials.
                let body = format!(
                    r#"{{"RequestId":"6894B13B-6D71-4EF5-88FA-F32781734A7F","AssumedRoleUser":{{"Arn":"acs:ram::1234567890123456:role/shop-reader/opsdeck-ops","AssumedRoleId":"34458433936495****:opsdeck-ops"}},"Credentials":{{"SecurityToken":"assumed-token-{n}","AccessKeyId":"{}","AccessKeySecret":"assumed-secret-{n}","Expiration":"{exp}"}}}}"#,
                    assumed_id(n)
                );
                return (200, body);
            }
            let token =
                req.headers.get("x-acs-security-token").cloned().or_else(|| req.params.get("SecurityToken").cloned());
            let n = req.key_id.strip_prefix("STS.assumed-").unwrap_or("none");
            if token.as_deref() != Some(format!("assumed-token-{n}").as_str()) {
                return (400, r#"{"Code":"InvalidSecurityToken.Mismatch","Message":"no"}"#.into());
            }
            replay(req)
        }),
    )
}

fn ram_role_arn_keys() -> KeySource {
    KeySource::Resolve(Arc::new(|| {
        let env = |_: &str| None;
        let kr = |_: &str| Ok(None);
        creds::resolve(&Inputs {
            env: &env,
            cli_config: Some(CLI.into()),
            profile: None,
            keyring: &kr,
            ecs_ram_role: false,
            ram_role_name: None,
        })
    }))
}

#[tokio::test]
async fn a_ram_role_arn_profile_assumes_the_role_with_its_base_key_and_renews_before_expiry() {
    for (signature, scheme) in [(SignatureVersion::V3, "v3"), (SignatureVersion::V1, "v1")] {
        let api = sts_and_api();
        let mut cfg = config(&api.url);
        cfg.signature = signature;
        let (refresh, clock) = movable_clock();
        let region = region_of(
            providers_with_refresh("ali", &cfg, Duration::from_secs(5), ram_role_arn_keys(), fast_retry(), refresh)
                .expect("providers"),
        );
        region.poll(Utc::now()).await.expect("poll");

        let assume = api.seen_action("AssumeRole");
        assert_eq!(assume.len(), 1);
        let a = &assume[0];
        assert!(a.signature_ok && a.key_id == KEY_ID && a.scheme == scheme, "{a:?}");
        assert_eq!(a.version, "2015-04-01");
        assert_eq!(a.param("RoleArn"), Some("acs:ram::1234567890123456:role/shop-reader"));
        assert_eq!((a.param("RoleSessionName"), a.param("DurationSeconds")), (Some("opsdeck-ops"), Some("3600")));
        // The base key has no token: none is sent with AssumeRole.
        assert!(!a.headers.contains_key("x-acs-security-token") && a.param("SecurityToken").is_none());

        let api_calls = |from: usize| -> Vec<Seen> {
            api.seen()[from..].iter().filter(|s| s.action != "AssumeRole").cloned().collect()
        };
        let calls = api_calls(0);
        assert!(!calls.is_empty());
        for s in &calls {
            assert!(s.signature_ok && s.key_id == assumed_id(1), "{} by {}", s.action, s.key_id);
        }

        // Still 50 minutes left: kept. Four left: AssumeRole again, and the new key signs.
        clock.store(10 * 60, Ordering::SeqCst);
        region.poll(Utc::now()).await.expect("poll");
        assert_eq!(api.seen_action("AssumeRole").len(), 1);
        clock.store(56 * 60, Ordering::SeqCst);
        let before = api.seen().len();
        region.poll(Utc::now()).await.expect("poll");
        assert_eq!(api.seen_action("AssumeRole").len(), 2);
        let calls = api_calls(before);
        assert!(!calls.is_empty() && calls.iter().all(|s| s.signature_ok && s.key_id == assumed_id(2)));

        let checks = region.preflight(Utc::now()).await;
        let words = checks.iter().find(|c| c.what == "identity").expect("identity").result.clone().expect("ok");
        assert!(
            words.starts_with(
                "RamRoleArn acs:ram::1234567890123456:role/shop-reader via profile role (STS AssumeRole signed with its AccessKey test-key-id)"
            ),
            "{words}"
        );
    }
}

#[tokio::test]
async fn an_assume_role_the_sts_refuses_is_an_authentication_failure_in_words() {
    let api = Server::start(Arc::new(|req: &Seen| {
        if req.action == "AssumeRole" {
            (
                403,
                r#"{"RequestId":"r-1","Code":"NoPermission","Message":"You are not authorized to do this action."}"#
                    .into(),
            )
        } else {
            replay(req)
        }
    }));
    let cfg = config(&api.url);
    let region =
        region_of(providers_with("ali", &cfg, Duration::from_secs(5), ram_role_arn_keys(), fast_retry()).expect("p"));
    let e = region.poll(Utc::now()).await.expect_err("refused").to_string();
    assert!(e.contains("authentication failed: AssumeRole: NoPermission: You are not authorized"), "{e}");
    let seen = api.seen();
    assert!(!seen.is_empty() && seen.iter().all(|s| s.action == "AssumeRole"), "nothing but AssumeRole may be sent");
}

/// `opsdeck creds list` and `doctor` name each Alibaba source's identity.
#[test]
fn creds_list_and_doctor_name_the_identity_of_each_source() {
    let t0 = Utc::now();
    let md = Metadata::start(Behaviour {
        role: Some("shop-reader".into()),
        expires: Box::new(move |n| t0 + chrono::Duration::hours(n.into())),
        hardened: true,
        fail_from: None,
    });
    let api = Server::start_with_keys(role_keys(), Arc::new(replay));
    let sts = sts_and_api();
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join(".aliyun")).expect("dir");
    std::fs::write(dir.path().join(".aliyun/config.json"), CLI).expect("cli config");
    let toml = format!(
        "[[sources]]\nname = \"ecs\"\nkind = \"aliyun\"\n[sources.aliyun]\nregion = \"cn-qingdao\"\nbilling = false\n\
         credentials = \"ecs_ram_role\"\nmetadata_endpoint = \"{md}\"\n[sources.aliyun.endpoints]\ness = \"{api}\"\ncms = \"{api}\"\n\
         [[sources]]\nname = \"arn\"\nkind = \"aliyun\"\n[sources.aliyun]\nregion = \"cn-qingdao\"\nbilling = false\nprofile = \"role\"\n\
         [sources.aliyun.endpoints]\ness = \"{sts}\"\ncms = \"{sts}\"\nsts = \"{sts}\"\n",
        md = md.url,
        api = api.url,
        sts = sts.url
    );
    let path = dir.path().join("opsdeck.toml");
    std::fs::write(&path, toml).expect("config");
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_opsdeck"))
            .arg("--config")
            .arg(&path)
            .args(args)
            .env("HOME", dir.path())
            .env("OPSDECK_KEYRING", "kernel")
            .env_remove("ALIBABA_CLOUD_ACCESS_KEY_ID")
            .env_remove("ALIBABA_CLOUD_ACCESS_KEY_SECRET")
            .env_remove("ALIBABA_CLOUD_SECURITY_TOKEN")
            .env_remove("ALIBABA_CLOUD_ECS_METADATA")
            .output()
            .expect("run opsdeck");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
        )
    };
    let (ok, text) = run(&["creds", "list"]);
    assert!(ok, "{text}");
    assert!(
        text.contains(
            "ecs: aliyun cn-qingdao: ECS RAM role attached to the instance (metadata), from credentials = \"ecs_ram_role\" in the config"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "arn: aliyun cn-qingdao: RamRoleArn acs:ram::1234567890123456:role/shop-reader via profile role (STS AssumeRole signed with its AccessKey test-key-id)"
        ),
        "{text}"
    );

    let (ok, text) = run(&["doctor"]);
    assert!(ok, "{text}");
    assert!(
        text.contains("✓ ecs/cn-qingdao (aliyun) identity: ECS RAM role shop-reader (metadata), from credentials"),
        "{text}"
    );
    assert!(
        text.contains(
            "✓ arn/cn-qingdao (aliyun) identity: RamRoleArn acs:ram::1234567890123456:role/shop-reader via profile role"
        ),
        "{text}"
    );
    // No secret of any key handed out is printed.
    for secret in
        [meta::secret(1), meta::token(1), KEY_SECRET.to_string(), "assumed-secret-1".into(), "assumed-token-1".into()]
    {
        assert!(!text.contains(&secret), "{secret} in {text}");
    }
}
