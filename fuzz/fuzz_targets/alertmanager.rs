//! Alertmanager v2 answers: `GET /api/v2/alerts` and `GET /api/v2/silences`
//! through `http::decode` and `to_alerts`. Errors stay one line; every alert
//! becomes exactly one opsdeck alert with its fingerprint as id.
#![no_main]

mod common;

use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;
use opsdeck::providers::prometheus::AlertmanagerConfig;
use opsdeck::model::SourceId;
use opsdeck::providers::http;
use opsdeck::providers::prometheus::alertmanager::{GettableAlert, GettableSilence, to_alerts};

fuzz_target!(|data: &[u8]| {
    let silences: BTreeMap<String, GettableSilence> =
        match http::decode::<Vec<GettableSilence>>("GET /api/v2/silences", data) {
            Ok(list) => list.into_iter().map(|s| (s.id.clone(), s)).collect(),
            Err(e) => {
                common::assert_one_line(&e);
                BTreeMap::new()
            }
        };
    match http::decode::<Vec<GettableAlert>>("GET /api/v2/alerts", data) {
        Ok(alerts) => {
            let cfg = AlertmanagerConfig::new(vec!["http://127.0.0.1:9093".into()]);
            let fingerprints: Vec<String> = alerts.iter().map(|a| a.fingerprint.clone()).collect();
            let out = to_alerts(&cfg, &SourceId::new("am"), alerts, &silences);
            assert_eq!(out.len(), fingerprints.len());
            for (a, b) in fingerprints.iter().zip(&out) {
                assert_eq!(*a, b.id);
            }
        }
        Err(e) => common::assert_one_line(&e),
    }
});
