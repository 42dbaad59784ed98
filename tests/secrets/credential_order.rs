//! The credential resolution order of every source kind, with opsdeck's own
//! secrets served by the keyring crate's mock credential store (the real Secret
//! Service and kernel keyring are exercised in the `keyring_real` module): the
//! cloud's own chain first, then the keyring entry `<source>/<field>`, and a
//! clear reason when neither has it.

use std::collections::HashMap;
use std::sync::Mutex;

use keyring::Entry;
use keyring::mock::MockCredential;
use opsdeck::credentials::{CredError, Resolution, Secret, SecretStore, aws_chain, resolve};
use opsdeck::providers::aliyun::creds::{self as aliyun, Inputs, Origin};
use opsdeck::providers::azure::AzureConfig;
use opsdeck::providers::azure::creds::{self as azure, Choice};
use opsdeck::providers::http::HttpAuthConfig;
use opsdeck::providers::http::{Auth, resolve_auth};

/// opsdeck's stored secrets in keyring's mock store: one mock credential per
/// `<source>/<field>` entry, created on first use as the OS keyring would.
#[derive(Default)]
struct MockStore {
    entries: Mutex<HashMap<String, Entry>>,
}

impl MockStore {
    fn with(&self, source: &str, field: &str, f: impl FnOnce(&Entry)) {
        let mut entries = self.entries.lock().expect("lock");
        let entry = entries
            .entry(format!("{source}/{field}"))
            .or_insert_with(|| Entry::new_with_credential(Box::new(MockCredential::default())));
        f(entry);
    }

    fn put(&self, source: &str, field: &str, secret: &str) -> &Self {
        self.with(source, field, |e| e.set_password(secret).expect("mock set"));
        self
    }

    /// The next read of this entry fails as a locked or unreachable keyring would.
    fn break_entry(&self, source: &str, field: &str) -> &Self {
        self.with(source, field, |e| {
            let mock: &MockCredential = e.get_credential().downcast_ref().expect("a mock credential");
            mock.set_error(keyring::Error::NoStorageAccess("the collection is locked".into()));
        });
        self
    }
}

impl SecretStore for MockStore {
    fn get(&self, source: &str, field: &str) -> Result<Option<Secret>, CredError> {
        let mut out = Ok(None);
        self.with(source, field, |e| {
            out = match e.get_password() {
                Ok(p) => Ok(Some(Secret::new(p))),
                Err(keyring::Error::NoEntry) => Ok(None),
                Err(err) => Err(CredError::Keyring(err.to_string())),
            }
        });
        out
    }
    fn label(&self) -> &'static str {
        "mock"
    }
}

fn env_of(vars: &[(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let vars = vars.to_vec();
    move |k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())
}

#[test]
fn the_chain_wins_over_a_stored_secret_which_wins_over_nothing() {
    let store = MockStore::default();
    store.put("legacy", "secret", "s3cr3t");
    let env = env_of(&[("AWS_ACCESS_KEY_ID", "a"), ("AWS_SECRET_ACCESS_KEY", "b")]);
    let chain = aws_chain(&env, None, None);
    assert_eq!(resolve(Some(chain.clone()), Some(&store), "legacy", "secret"), chain);
    assert_eq!(resolve(None, Some(&store), "legacy", "secret"), Resolution::Keyring("mock"));
    assert_eq!(resolve(None, Some(&store), "legacy", "other"), Resolution::Missing);
    store.break_entry("legacy", "secret");
    assert_eq!(resolve(None, Some(&store), "legacy", "secret"), Resolution::Missing, "a failing store is not a hit");
}

#[test]
fn prometheus_and_alertmanager_read_the_entries_their_config_names() {
    let store = MockStore::default();
    store.put("prom", "bearer_token", "tok-1").put("am", "password", "pw-2");
    let bearer = HttpAuthConfig { bearer_token_entry: Some("prom/bearer_token".into()), ..Default::default() };
    match resolve_auth(&bearer, &store) {
        Ok(Auth::Bearer(t)) => assert_eq!(t.expose(), "tok-1"),
        other => panic!("{other:?}"),
    }
    let basic = HttpAuthConfig {
        basic_auth_user: Some("opsdeck".into()),
        basic_auth_password_entry: Some("am/password".into()),
        ..Default::default()
    };
    match resolve_auth(&basic, &store) {
        Ok(Auth::Basic { user, password }) => assert_eq!((user.as_str(), password.expose()), ("opsdeck", "pw-2")),
        other => panic!("{other:?}"),
    }
    let missing = HttpAuthConfig { bearer_token_entry: Some("prom/other".into()), ..Default::default() };
    let e = resolve_auth(&missing, &store).expect_err("missing").to_string();
    assert!(e.contains("opsdeck creds set prom other"), "{e}");
    store.break_entry("prom", "bearer_token");
    let e = resolve_auth(&bearer, &store).expect_err("locked").to_string();
    assert!(e.contains("prom/bearer_token") && e.contains("locked"), "{e}");
}

#[test]
fn alibaba_environment_then_cli_profile_then_keyring() {
    let store = MockStore::default();
    store.put("ali", aliyun::FIELD_ID, "kr-id").put("ali", aliyun::FIELD_SECRET, "kr-secret");
    let kr = |field: &str| store.get("ali", field).map_err(|e| e.to_string());
    let cli = r#"{"current":"ops","profiles":[{"name":"ops","mode":"AK","access_key_id":"cli-id","access_key_secret":"cli-s"}]}"#;
    let env = env_of(&[(aliyun::ENV_ID, "env-id"), (aliyun::ENV_SECRET, "env-s")]);
    let none = env_of(&[]);

    let i = Inputs {
        env: &env,
        cli_config: Some(cli.into()),
        profile: None,
        keyring: &kr,
        ecs_ram_role: false,
        ram_role_name: None,
    };
    assert_eq!(aliyun::resolve(&i).expect("env").1, Origin::Environment);
    let i = Inputs {
        env: &none,
        cli_config: Some(cli.into()),
        profile: None,
        keyring: &kr,
        ecs_ram_role: false,
        ram_role_name: None,
    };
    assert_eq!(aliyun::resolve(&i).expect("cli").1, Origin::CliProfile("ops".into()));
    let i =
        Inputs { env: &none, cli_config: None, profile: None, keyring: &kr, ecs_ram_role: false, ram_role_name: None };
    let (identity, origin) = aliyun::resolve(&i).expect("keyring");
    let aliyun::Identity::Key(key) = identity else { panic!("a key: {identity:?}") };
    assert_eq!((key.id.as_str(), key.secret.expose(), origin), ("kr-id", "kr-secret", Origin::Keyring));

    store.break_entry("ali", aliyun::FIELD_SECRET);
    let e = aliyun::resolve(&i).expect_err("locked keyring");
    assert!(e.contains("not set") && e.contains("no ~/.aliyun/config.json") && e.contains("locked"), "{e}");
}

#[test]
fn azure_environment_then_keyring_service_principal_then_cli_then_managed_identity() {
    let store = MockStore::default();
    let text = "subscriptions = [\"s1\"]\ntenant_id = \"t\"\nclient_id = \"c\"\n";
    let cfg: AzureConfig = toml::from_str(text).expect("azure config");
    let env_sp = env_of(&[("AZURE_TENANT_ID", "t"), ("AZURE_CLIENT_ID", "c"), ("AZURE_CLIENT_SECRET", "s")]);
    let none = env_of(&[]);

    store.put("az", "client_secret", "kr-secret");
    let (facts, secret) = azure::gather("az", &cfg, &env_sp, Some(&store));
    assert_eq!(azure::choose(&facts), Choice::EnvironmentServicePrincipal);
    assert!(secret.is_none(), "the keyring is not read when the environment has a service principal");

    let (facts, secret) = azure::gather("az", &cfg, &none, Some(&store));
    assert_eq!(azure::choose(&facts), Choice::KeyringServicePrincipal);
    assert_eq!(secret.as_ref().map(Secret::expose), Some("kr-secret"));

    // The secret gone (or the keyring locked): the next in the chain, and the line says why.
    store.break_entry("az", "client_secret");
    let (facts, secret) = azure::gather("az", &cfg, &none, Some(&store));
    assert!(secret.is_none());
    assert_eq!(azure::choose(&facts), Choice::ManagedIdentity);
    assert!(azure::describe(azure::choose(&facts), &facts, "az").contains("az/client_secret is missing"));
}
