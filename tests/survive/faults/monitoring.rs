//! Prometheus and Alertmanager behind the front: the real servers (Debian
//! packages), killed and started again on their ports.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use opsdeck::providers::Provider;

use super::http::{HttpTarget, Upstream, prometheus_words};
use super::matrix::{ALL_FAULTS, run_all};
use crate::support::faulty::{Faulty, Mode};
use crate::support::promstack::{self, Server};
use opsdeck::providers::prometheus::PrometheusSource;
use opsdeck::providers::prometheus::alertmanager::AlertmanagerSource;
use opsdeck::providers::prometheus::{AlertmanagerConfig, PrometheusConfig};

pub struct Up(pub Server);
impl Upstream for Up {
    fn kill(&mut self) {
        self.0.kill();
    }
    fn revive(&mut self) {
        self.0.revive();
    }
}

pub fn config(url: &str) -> PrometheusConfig {
    let mut cfg = PrometheusConfig::new(url);
    cfg.backfill_minutes = 0;
    for q in [&mut cfg.queries.rps, &mut cfg.queries.p95_ms, &mut cfg.queries.error_rate, &mut cfg.queries.cpu] {
        *q = Some("shop_ok".into());
    }
    cfg
}

pub async fn prometheus_target() -> (HttpTarget, Server) {
    let pg = promstack::pushgateway();
    let prom = promstack::prometheus(&pg, None, "groups: []\n");
    promstack::push(&pg, "shop", "shop_ok{cloud=\"aws\",region=\"us-east-1\"} 7\n").await;
    let direct = PrometheusSource::new("prom", &config(&prom.url()), Duration::from_secs(5)).expect("source");
    promstack::eventually(30, "the pushed series scraped", || async {
        direct.poll(Utc::now()).await.ok().filter(|r| r.metrics.len() == 1)
    })
    .await;
    let front = Faulty::start(prom.port);
    // Derived from the Prometheus HTTP API's instant-query answer: a vector whose
    // sample value is a string instead of [time, "value"].
    front.set_wrong(
        r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"cloud":"aws","region":"us-east-1"},"value":"seven"}]}}"#,
        "application/json",
    );
    let provider =
        Arc::new(PrometheusSource::new("prom", &config(&front.url()), Duration::from_secs(10)).expect("source"));
    let t = HttpTarget {
        kind: "prometheus",
        provider,
        front,
        timeout: Duration::from_secs(2),
        throttle: Mode::Throttle429,
        upstream: Box::new(Up(prom)),
        expect: prometheus_words,
    };
    (t, pg)
}

pub async fn alertmanager_target() -> HttpTarget {
    let am = promstack::alertmanager(None);
    let front = Faulty::start(am.port);
    // Derived from Alertmanager's GET /api/v2/alerts answer (gettableAlerts):
    // `labels` a string and `status` a number instead of objects.
    front.set_wrong(r#"[{"labels":"DiskFull","annotations":{},"startsAt":"x","status":3}]"#, "application/json");
    let provider = Arc::new(
        AlertmanagerSource::new("am", &AlertmanagerConfig::new(vec![front.url()]), Duration::from_secs(10))
            .expect("am"),
    );
    HttpTarget {
        kind: "alertmanager",
        provider,
        front,
        timeout: Duration::from_secs(2),
        throttle: Mode::Throttle429,
        upstream: Box::new(Up(am)),
        expect: prometheus_words,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_source_survives_every_fault() {
    let (mut t, _pushgateway) = prometheus_target().await;
    run_all(&mut t, &ALL_FAULTS).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alertmanager_source_survives_every_fault() {
    let mut t = alertmanager_target().await;
    run_all(&mut t, &ALL_FAULTS).await;
}
