//! The Azure identities beside the client secret, each against a local Entra ID
//! stand-in (wiremock, reached through the tests' plain-HTTP transport as in
//! tests/watch/azure.rs): a client certificate (PEM or PFX, from the config with its
//! password in the keyring, or from the environment) and workload identity
//! (AZURE_FEDERATED_TOKEN_FILE). The credential is chosen and built the way the
//! provider does it (`gather` → `choose` → `build_in`), with the environment and the
//! keyring given, and then polls ARM with the token it was issued.

use crate::support;
use crate::tls_front;

use std::collections::HashMap;
use std::ffi::CString;
use std::path::{Path, PathBuf};
use std::ptr;
use std::sync::Arc;
use std::time::Duration;

use aws_lc_rs::signature::{RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey};
use azure_core::credentials::TokenCredential;
use azure_core::http::Url;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use opsdeck::credentials::{CredError, Secret, SecretStore};
use opsdeck::providers::Provider;
use opsdeck::providers::azure::AzureConfig;
use opsdeck::providers::azure::{self, AzureAuth, AzureOptions, LroLimits, creds};
use serde_json::{Value, json};
use sha1::{Digest, Sha1};
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SUB: &str = "3b540246-808d-4331-99aa-917b808a9166";
const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const CLIENT: &str = "0f3b7c1e-1111-2222-3333-444455556666";
const TOKEN: &str = "tok-issued-to-the-assertion";
const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// opsdeck's keyring with the given `<source>/<field>` entries.
#[derive(Default)]
struct Store(HashMap<String, String>);

impl SecretStore for Store {
    fn get(&self, source: &str, field: &str) -> Result<Option<Secret>, CredError> {
        Ok(self.0.get(&format!("{source}/{field}")).map(Secret::new))
    }
    fn label(&self) -> &'static str {
        "test store"
    }
}

fn env_of(pairs: &[(&str, String)]) -> impl Fn(&str) -> Option<String> + use<> {
    let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
    move |k: &str| map.get(k).cloned()
}

/// An Entra ID token endpoint issuing TOKEN for any grant, and ARM's alerts list
/// answering only that token.
struct Stand {
    server: MockServer,
    base: String,
}

impl Stand {
    async fn start(expires_in: u64) -> Stand {
        let server = MockServer::start().await;
        let base = server.uri().replace("http://", "https://");
        Mock::given(method("POST"))
            .and(path(format!("/{TENANT}/oauth2/v2.0/token")))
            .and(header("content-type", "application/x-www-form-urlencoded"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "token_type": "Bearer", "expires_in": expires_in, "ext_expires_in": expires_in, "access_token": TOKEN
            })))
            .named("token endpoint")
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path(format!("/subscriptions/{SUB}/providers/Microsoft.AlertsManagement/alerts")))
            .and(query_param("api-version", "2019-03-01"))
            .and(header("authorization", format!("Bearer {TOKEN}")))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"value": []})))
            .expect(1..)
            .named("alerts")
            .mount(&server)
            .await;
        Stand { server, base }
    }

    fn config(&self) -> AzureConfig {
        let mut c = AzureConfig::new(vec![SUB.into()]);
        c.arm_endpoint = self.base.clone();
        c.authority_host = Some(self.base.clone());
        c.tenant_id = Some(TENANT.into());
        c.client_id = Some(CLIENT.into());
        c
    }

    fn token_url(&self) -> String {
        format!("{}/{TENANT}/oauth2/v2.0/token", self.base)
    }

    /// The forms posted to the token endpoint, oldest first.
    async fn token_requests(&self) -> Vec<HashMap<String, String>> {
        let all = self.server.received_requests().await.unwrap_or_default();
        all.iter()
            .filter(|r| r.url.path().ends_with("/oauth2/v2.0/token"))
            .map(|r| {
                let url = Url::parse(&format!("http://form/?{}", String::from_utf8_lossy(&r.body))).expect("form");
                url.query_pairs().into_owned().collect()
            })
            .collect()
    }
}

/// The credential the provider would build for `cfg` with this environment and keyring.
fn chosen(
    cfg: &AzureConfig,
    env: &dyn Fn(&str) -> Option<String>,
    store: &Store,
) -> (creds::Choice, String, Arc<dyn TokenCredential>) {
    let (facts, secret) = creds::gather("az", cfg, env, Some(store));
    let choice = creds::choose(&facts);
    let line = creds::describe(choice, &facts, "az");
    let cred = creds::build_in(choice, cfg, secret, env, support::azure_http::plain_http()).expect("credential");
    (choice, line, cred)
}

fn provider(cfg: &AzureConfig, cred: Arc<dyn TokenCredential>) -> Arc<dyn Provider> {
    let opts = AzureOptions {
        auth: AzureAuth::Given(cred),
        transport: Some(support::azure_http::plain_http()),
        lro: LroLimits { timeout: Duration::from_secs(10), interval: Duration::from_millis(20) },
    };
    azure::providers("az", cfg, opts).expect("providers").remove(0)
}

/// A throwaway RSA certificate and its key.
struct Throwaway {
    cert_der: Vec<u8>,
    cert_pem: String,
    key: rcgen::KeyPair,
}

fn throwaway() -> Throwaway {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).expect("RSA key");
    let cert =
        rcgen::CertificateParams::new(vec!["opsdeck-sp".into()]).expect("params").self_signed(&key).expect("cert");
    Throwaway { cert_der: cert.der().to_vec(), cert_pem: cert.pem(), key }
}

/// `t` as a PFX / PKCS#12 file under `password`, made with aws-lc's defaults.
fn pfx(t: &Throwaway, password: &str) -> Vec<u8> {
    use aws_lc_sys as sys;
    let key_der = t.key.serialize_der();
    let password = CString::new(password).expect("password");
    // SAFETY: each pointer is checked, used while live and freed once.
    unsafe {
        let mut k = key_der.as_ptr();
        let pkey = sys::d2i_AutoPrivateKey(ptr::null_mut(), &mut k, key_der.len() as _);
        let mut c = t.cert_der.as_ptr();
        let cert = sys::d2i_X509(ptr::null_mut(), &mut c, t.cert_der.len() as _);
        assert!(!pkey.is_null() && !cert.is_null());
        let p12 = sys::PKCS12_create(password.as_ptr(), ptr::null(), pkey, cert, ptr::null(), 0, 0, 0, 0, 0);
        assert!(!p12.is_null(), "PKCS12_create");
        let mut out = ptr::null_mut();
        let n = sys::i2d_PKCS12(p12, &mut out);
        assert!(n > 0);
        let bytes = std::slice::from_raw_parts(out, n as usize).to_vec();
        sys::OPENSSL_free(out.cast());
        sys::PKCS12_free(p12);
        sys::X509_free(cert);
        sys::EVP_PKEY_free(pkey);
        bytes
    }
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).expect("write");
    p
}

/// The assertion of one token request: its header and claims, checked to be signed
/// by `t`'s key and to name `t`'s certificate by thumbprint.
fn verified_assertion(form: &HashMap<String, String>, t: &Throwaway) -> (Value, Value) {
    assert_eq!(form.get("client_assertion_type").map(String::as_str), Some(ASSERTION_TYPE), "{form:?}");
    assert_eq!(form.get("client_id").map(String::as_str), Some(CLIENT));
    assert_eq!(form.get("grant_type").map(String::as_str), Some("client_credentials"));
    assert!(!form.contains_key("client_secret"), "{form:?}");
    let jwt = form.get("client_assertion").expect("client_assertion");
    let parts: Vec<&str> = jwt.split('.').collect();
    assert_eq!(parts.len(), 3, "{jwt}");
    let decode = |s: &str| URL_SAFE_NO_PAD.decode(s).expect("base64url");
    let head: Value = serde_json::from_slice(&decode(parts[0])).expect("header json");
    let claims: Value = serde_json::from_slice(&decode(parts[1])).expect("claims json");
    assert_eq!(head["alg"], "RS256");
    assert_eq!(head["x5t"], URL_SAFE_NO_PAD.encode(Sha1::digest(&t.cert_der)), "thumbprint of the certificate");
    let signed = format!("{}.{}", parts[0], parts[1]);
    let key = UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, t.key.public_key_raw());
    key.verify(signed.as_bytes(), &decode(parts[2])).expect("signed with the certificate's key");
    // The same check refuses another key: it can fail.
    let other = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).expect("other key");
    let wrong = UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, other.public_key_raw());
    assert!(wrong.verify(signed.as_bytes(), &decode(parts[2])).is_err());
    (head, claims)
}

#[tokio::test]
async fn a_pem_client_certificate_signs_the_assertion_and_the_poll_works() {
    let stand = Stand::start(3599).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let t = throwaway();
    let pem = format!("{}{}", t.cert_pem, t.key.serialize_pem());
    let file = write(dir.path(), "sp.pem", pem.as_bytes());
    let mut cfg = stand.config();
    cfg.client_certificate = Some(file.clone());
    // Azure Stack Hub: the token audience is not the ARM endpoint.
    let audience = "https://management.adfs.azurestack.local/4de154de-f8a8-4017-af41-df619da68155";
    cfg.token_audience = Some(audience.into());

    let (choice, line, cred) = chosen(&cfg, &env_of(&[]), &Store::default());
    assert_eq!(choice, creds::Choice::ConfigCertificate);
    assert_eq!(
        line,
        format!(
            "client certificate {} (no password: keyring entry az/client_certificate_password absent)",
            file.display()
        )
    );
    let p = provider(&cfg, cred);
    let r = p.poll(Utc::now()).await.expect("poll with the certificate's token");
    assert!(r.alerts.is_empty());

    let forms = stand.token_requests().await;
    assert_eq!(forms.len(), 1, "one token for the poll");
    assert_eq!(forms[0].get("scope").map(String::as_str), Some(format!("{audience}/.default").as_str()));
    let (_, claims) = verified_assertion(&forms[0], &t);
    assert_eq!(claims["aud"], stand.token_url());
    assert_eq!((claims["iss"].as_str(), claims["sub"].as_str()), (Some(CLIENT), Some(CLIENT)));
    let (nbf, exp) = (claims["nbf"].as_u64().expect("nbf"), claims["exp"].as_u64().expect("exp"));
    assert_eq!(exp - nbf, 300);
    let now = u64::try_from(Utc::now().timestamp()).expect("after 1970");
    assert!(nbf <= now && now < exp, "{claims}");

    // doctor's token check names the audience's scope.
    let checks = p.preflight(Utc::now()).await;
    assert_eq!(checks[0].what, format!("token for {audience}/.default"), "{:?}", checks[0]);
    stand.server.verify().await;
}

#[tokio::test]
async fn a_pfx_client_certificate_opens_with_its_keyring_password() {
    let stand = Stand::start(3599).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let t = throwaway();
    let file = write(dir.path(), "sp.pfx", &pfx(&t, "pfx-pass-7Q"));
    let mut cfg = stand.config();
    cfg.client_certificate = Some(file.clone());
    let mut store = Store::default();
    store.0.insert("az/client_certificate_password".into(), "pfx-pass-7Q".into());
    // A client secret is there too: the named certificate wins.
    store.0.insert("az/client_secret".into(), "s3cr3t".into());

    let (choice, line, cred) = chosen(&cfg, &env_of(&[]), &store);
    assert_eq!(choice, creds::Choice::ConfigCertificate);
    assert_eq!(
        line,
        format!("client certificate {} (password in keyring entry az/client_certificate_password)", file.display())
    );
    provider(&cfg, cred).poll(Utc::now()).await.expect("poll");
    let forms = stand.token_requests().await;
    assert_eq!(forms.len(), 1);
    assert_eq!(forms[0].get("scope").map(String::as_str), Some(format!("{}/.default", stand.base).as_str()));
    verified_assertion(&forms[0], &t);

    // A wrong password is refused in words, without the password.
    store.0.insert("az/client_certificate_password".into(), "not-it-9Z".into());
    let (facts, secret) = creds::gather("az", &cfg, &env_of(&[]), Some(&store));
    let err = creds::build_in(creds::choose(&facts), &cfg, secret, &env_of(&[]), support::azure_http::plain_http())
        .expect_err("wrong password");
    let words = err.to_string();
    assert!(words.contains("wrong or missing password"), "{words}");
    assert!(words.contains(&file.display().to_string()), "{words}");
    assert!(!words.contains("not-it-9Z") && !words.contains("pfx-pass-7Q"), "{words}");
}

#[tokio::test]
async fn the_environment_certificate_form_is_used_before_the_config() {
    let stand = Stand::start(3599).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let (env_cert, cfg_cert) = (throwaway(), throwaway());
    let env_file = write(dir.path(), "env.pfx", &pfx(&env_cert, "env-pass"));
    let cfg_file =
        write(dir.path(), "cfg.pem", format!("{}{}", cfg_cert.cert_pem, cfg_cert.key.serialize_pem()).as_bytes());
    let mut cfg = stand.config();
    cfg.client_certificate = Some(cfg_file);
    let env = env_of(&[
        ("AZURE_TENANT_ID", TENANT.into()),
        ("AZURE_CLIENT_ID", CLIENT.into()),
        ("AZURE_CLIENT_CERTIFICATE_PATH", env_file.display().to_string()),
        ("AZURE_CLIENT_CERTIFICATE_PASSWORD", "env-pass".into()),
    ]);
    let (choice, line, cred) = chosen(&cfg, &env, &Store::default());
    assert_eq!(choice, creds::Choice::EnvironmentCertificate);
    assert_eq!(
        line,
        format!(
            "client certificate {} from the environment (AZURE_CLIENT_CERTIFICATE_PATH, password in AZURE_CLIENT_CERTIFICATE_PASSWORD)",
            env_file.display()
        )
    );
    provider(&cfg, cred).poll(Utc::now()).await.expect("poll");
    let forms = stand.token_requests().await;
    assert_eq!(forms.len(), 1);
    verified_assertion(&forms[0], &env_cert);
}

#[tokio::test]
async fn workload_identity_sends_the_token_file_and_reads_it_again() {
    // Tokens that are due for refresh at once, so every use asks again.
    let stand = Stand::start(60).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let file = write(dir.path(), "azure-identity-token", b"eyJfed.first.sa-token\n");
    // As AKS injects it: the authority comes from AZURE_AUTHORITY_HOST, not the config.
    let mut cfg = stand.config();
    cfg.authority_host = None;
    cfg.tenant_id = None;
    cfg.client_id = None;
    let env = env_of(&[
        ("AZURE_TENANT_ID", TENANT.into()),
        ("AZURE_CLIENT_ID", CLIENT.into()),
        ("AZURE_FEDERATED_TOKEN_FILE", file.display().to_string()),
        ("AZURE_AUTHORITY_HOST", stand.base.clone()),
    ]);
    let (choice, line, cred) = chosen(&cfg, &env, &Store::default());
    assert_eq!(choice, creds::Choice::WorkloadIdentity);
    assert_eq!(line, format!("workload identity (AZURE_FEDERATED_TOKEN_FILE {})", file.display()));

    let p = provider(&cfg, cred.clone());
    p.poll(Utc::now()).await.expect("poll with the workload token");
    let forms = stand.token_requests().await;
    assert!(!forms.is_empty());
    let first = &forms[0];
    assert_eq!(first.get("client_assertion").map(String::as_str), Some("eyJfed.first.sa-token"));
    assert_eq!(first.get("client_assertion_type").map(String::as_str), Some(ASSERTION_TYPE));
    assert_eq!(first.get("client_id").map(String::as_str), Some(CLIENT));
    assert_eq!(first.get("scope").map(String::as_str), Some(format!("{}/.default", stand.base).as_str()));

    // Kubernetes rotates the file: the next token request carries the new content.
    std::fs::write(&file, "eyJfed.second.sa-token").expect("rotate");
    let before = forms.len();
    cred.get_token(&[&cfg.token_scope()], None).await.expect("token after rotation");
    let forms = stand.token_requests().await;
    assert_eq!(forms.len(), before + 1, "a token due for refresh is asked again");
    assert_eq!(forms[before].get("client_assertion").map(String::as_str), Some("eyJfed.second.sa-token"));

    // A missing file is an auth error naming the file.
    std::fs::remove_file(&file).expect("remove");
    let err = cred.get_token(&[&cfg.token_scope()], None).await.expect_err("no file");
    assert!(format!("{err}").contains("federated token file"), "{err}");
    stand.server.verify().await;
}

#[test]
fn the_order_of_the_identities() {
    let text = format!(
        "subscriptions = [\"s1\"]\ntenant_id = \"{TENANT}\"\nclient_id = \"{CLIENT}\"\nclient_certificate = \"/etc/opsdeck/sp.pem\"\n"
    );
    let cfg: AzureConfig = toml::from_str(&text).expect("azure config");
    let mut store = Store::default();
    store.0.insert("az/client_secret".into(), "kr-secret".into());
    store.0.insert("az/client_certificate_password".into(), "kr-cert-pass".into());
    let ids = [("AZURE_TENANT_ID", "t".to_string()), ("AZURE_CLIENT_ID", "c".to_string())];
    let with = |extra: &[(&str, &str)]| {
        let mut all: Vec<(&str, String)> = ids.to_vec();
        all.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
        env_of(&all)
    };
    let secret = ("AZURE_CLIENT_SECRET", "s");
    let cert = ("AZURE_CLIENT_CERTIFICATE_PATH", "/c.pfx");
    let fed = ("AZURE_FEDERATED_TOKEN_FILE", "/var/run/secrets/azure/tokens/azure-identity-token");
    let pick = |env: &dyn Fn(&str) -> Option<String>, cfg: &AzureConfig| {
        let (facts, secret) = creds::gather("az", cfg, env, Some(&store));
        (creds::choose(&facts), secret.map(|s| s.expose().to_string()))
    };
    use creds::Choice::*;
    assert_eq!(pick(&with(&[secret, cert, fed]), &cfg), (EnvironmentServicePrincipal, None));
    assert_eq!(pick(&with(&[cert, fed]), &cfg), (EnvironmentCertificate, None), "the keyring is not read");
    assert_eq!(pick(&with(&[fed]), &cfg), (WorkloadIdentity, None));
    assert_eq!(pick(&env_of(&[]), &cfg), (ConfigCertificate, Some("kr-cert-pass".into())));
    let mut no_cert = cfg.clone();
    no_cert.client_certificate = None;
    assert_eq!(pick(&env_of(&[]), &no_cert), (KeyringServicePrincipal, Some("kr-secret".into())));
    // The certificate path alone, without ids in the environment, is not the environment form.
    assert_eq!(
        pick(&env_of(&[("AZURE_CLIENT_CERTIFICATE_PATH", "/c.pfx".into())]), &no_cert).0,
        KeyringServicePrincipal
    );
    // Workload identity takes the config's ids when the environment has none.
    let fed_only = env_of(&[(fed.0, fed.1.into())]);
    assert_eq!(pick(&fed_only, &no_cert).0, WorkloadIdentity);
    let bare = AzureConfig::new(vec!["s1".into()]);
    assert_eq!(pick(&fed_only, &bare).0, ManagedIdentity, "no ids anywhere: not workload identity");
}

/// The new credentials speak to the authority through the source's transport: a
/// TLS front signed by a throwaway CA is trusted through `ca_file`, and without it
/// the certificate problem is named.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificate_and_workload_credentials_use_the_sources_ca_file() {
    use opsdeck::providers::azure::transport;
    use opsdeck::providers::tls::ExtraRoots;
    use tls_front::{LeafKind, Pki};

    let stand = Stand::start(3599).await;
    let pki = Pki::new("azure-identities");
    let front = tls_front::start_with(*stand.server.address(), pki.leaf(LeafKind::Good)).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let t = throwaway();
    let pem = write(dir.path(), "sp.pem", format!("{}{}", t.cert_pem, t.key.serialize_pem()).as_bytes());
    let token_file = write(dir.path(), "token", b"eyJfed.tls.sa-token");
    let workload = env_of(&[
        ("AZURE_TENANT_ID", TENANT.into()),
        ("AZURE_CLIENT_ID", CLIENT.into()),
        ("AZURE_FEDERATED_TOKEN_FILE", token_file.display().to_string()),
    ]);
    let none = env_of(&[]);
    for ca_file in [Some(pki.ca_file()), None] {
        let mut cfg = stand.config();
        cfg.authority_host = Some(front.url());
        cfg.arm_endpoint = front.url();
        cfg.client_certificate = Some(pem.clone());
        cfg.ca_file = ca_file.clone();
        let roots = ExtraRoots::load_opt(cfg.ca_file.as_deref()).expect("ca_file");
        for (env, expected) in [
            (&none as &dyn Fn(&str) -> Option<String>, creds::Choice::ConfigCertificate),
            (&workload, creds::Choice::WorkloadIdentity),
        ] {
            let (facts, secret) = creds::gather("az", &cfg, env, Some(&Store::default()));
            let choice = creds::choose(&facts);
            assert_eq!(choice, expected);
            let t = transport::build(roots.as_ref()).expect("transport");
            let cred = creds::build_in(choice, &cfg, secret, env, t).expect("credential");
            let got = cred.get_token(&[&cfg.token_scope()], None).await;
            match &ca_file {
                Some(_) => {
                    assert_eq!(got.expect("token through the ca_file").token.secret(), TOKEN, "{choice:?}");
                    // And ARM over the same CA, with the provider's own transport from ca_file.
                    let opts = AzureOptions {
                        auth: AzureAuth::Given(cred),
                        transport: None,
                        lro: LroLimits { timeout: Duration::from_secs(10), interval: Duration::from_millis(20) },
                    };
                    let p = azure::providers("az", &cfg, opts).expect("providers").remove(0);
                    p.poll(Utc::now()).await.expect("poll over TLS");
                }
                None => {
                    let err = got.expect_err("untrusted authority");
                    // As the provider reads it: the problem in the error's chain.
                    let words = opsdeck::providers::tls::problem(&err).unwrap_or_else(|| format!("{err}"));
                    assert!(words.contains("certificate not trusted: unknown issuer"), "{choice:?}: {words}");
                }
            }
        }
    }
}
