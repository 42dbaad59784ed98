//! Azure behind the front: the wiremock stand-in for ARM and Entra ID, replaying
//! the official examples, stopped and served again on its port.

use std::time::{Duration, Instant};

use super::http::{HttpTarget, Upstream, sdk_words};
use super::matrix::{ALL_FAULTS, run_all};
use crate::support;
use crate::support::faulty::{Faulty, Mode};
use opsdeck::credentials::Secret;
use opsdeck::providers::azure::AzureConfig;
use opsdeck::providers::azure::{self, AzureAuth, AzureOptions, LroLimits, creds};
use serde_json::{Value, json};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SUB: &str = "3b540246-808d-4331-99aa-917b808a9166";
const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const CLIENT: &str = "0f3b7c1e-1111-2222-3333-444455556666";

fn fixture(name: &str, status: &str) -> Value {
    let p = format!("{}/tests/fixtures/azure/{name}", env!("CARGO_MANIFEST_DIR"));
    let v: Value = serde_json::from_str(&std::fs::read_to_string(p).expect("fixture")).expect("json");
    v["responses"][status]["body"].clone()
}

async fn serve(listener: std::net::TcpListener) -> MockServer {
    let server = MockServer::builder().listener(listener).start().await;
    // OAuth 2.0 token response (RFC 6749 §5.1), as Entra ID sends it.
    Mock::given(method("POST"))
        .and(path(format!("/{TENANT}/oauth2/v2.0/token")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": "tok"
        })))
        .mount(&server)
        .await;
    // Derived: the Alerts_List example with its first alert only and no nextLink.
    let mut alerts = fixture("alertsmanagement-2019-03-01-Alerts_List.json", "200");
    let first = alerts["value"][0].clone();
    alerts["value"] = json!([first]);
    alerts.as_object_mut().expect("object").remove("nextLink");
    Mock::given(method("GET"))
        .and(path(format!("/subscriptions/{SUB}/providers/Microsoft.AlertsManagement/alerts")))
        .and(query_param("api-version", "2019-03-01"))
        .respond_with(ResponseTemplate::new(200).set_body_json(alerts))
        .mount(&server)
        .await;
    // Cost Management's documented empty answer.
    Mock::given(method("POST"))
        .and(path(format!("/subscriptions/{SUB}/providers/Microsoft.CostManagement/query")))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    server
}

fn bind(port: u16) -> std::net::TcpListener {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match std::net::TcpListener::bind(("127.0.0.1", port)) {
            Ok(l) => return l,
            Err(e) if Instant::now() > deadline => panic!("rebind {port}: {e}"),
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}

pub struct Up(Option<MockServer>, u16);
impl Upstream for Up {
    fn kill(&mut self) {
        self.0 = None;
    }
    fn revive(&mut self) {
        let l = bind(self.1);
        self.0 = Some(tokio::runtime::Handle::current().block_on(serve(l)));
    }
}

pub async fn target() -> HttpTarget {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let server = serve(listener).await;
    let front = Faulty::start(port);
    let base = front.url().replace("http://", "https://");
    let mut cfg = AzureConfig::new(vec![SUB.into()]);
    cfg.arm_endpoint = base.clone();
    cfg.authority_host = Some(base);
    cfg.tenant_id = Some(TENANT.into());
    cfg.client_id = Some(CLIENT.into());
    let transport = support::azure_http::plain_http;
    let cred =
        creds::client_secret(TENANT, CLIENT, &Secret::new("s3cr3t"), &cfg, Some(transport())).expect("credential");
    let opts = AzureOptions {
        auth: AzureAuth::Given(cred),
        transport: Some(transport()),
        lro: LroLimits { timeout: Duration::from_secs(10), interval: Duration::from_millis(20) },
    };
    let provider = azure::providers("az", &cfg, opts).expect("providers").remove(0);
    // Derived from the Alerts_List example: `value` an object instead of a list.
    front.set_wrong(r#"{"value":{"id":7}}"#, "application/json");
    HttpTarget {
        kind: "azure",
        provider,
        front,
        timeout: Duration::from_secs(3),
        throttle: Mode::Throttle429,
        upstream: Box::new(Up(Some(server), port)),
        expect: sdk_words,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn azure_source_survives_every_fault() {
    let mut t = target().await;
    run_all(&mut t, &ALL_FAULTS).await;
}
