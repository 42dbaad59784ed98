//! Alertmanager's own history for the incident timeline, from a REAL
//! Alertmanager holding generated estates: the alerts that started in the
//! window (at their `startsAt`) and the silences made in it, each silence by its
//! author with its comment; an acknowledgement made through opsdeck reads as that
//! alert's, and the journal's record of the same alerts merges with the
//! history's into one entry each.

use crate::support;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use opsdeck::actions::{Actor, Intent, plan};
use opsdeck::collector::{SourceSchedule, collect_once};
use opsdeck::model::{EventKind, Origin};
use opsdeck::providers::Provider;
use opsdeck::providers::prometheus::AlertmanagerConfig;
use opsdeck::providers::prometheus::alertmanager::AlertmanagerSource;
use opsdeck::timeline::{Observer, assemble};
use support::am_estate::AmEstate;
use support::promstack::{self, eventually, post_alerts};

const TIMEOUT: Duration = Duration::from_secs(3);

/// (summary, start in ms) of every alert the estate leaves open that started after `since`.
fn open_since(estate: &AmEstate, since: chrono::DateTime<Utc>) -> BTreeSet<(String, i64)> {
    estate
        .alerts
        .iter()
        .filter(|a| a.get("endsAt").is_none())
        .filter_map(|a| {
            let start = chrono::DateTime::parse_from_rfc3339(a["startsAt"].as_str()?).ok()?.with_timezone(&Utc);
            let summary = a["annotations"]["summary"].as_str()?.to_string();
            (start >= since).then_some((summary, start.timestamp_millis()))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alertmanager_history_is_the_generated_window_and_merges_with_the_journal() {
    let mut seen_acks = 0;
    for seed in 0..12u64 {
        let am = promstack::alertmanager(None);
        let now = Utc::now();
        let estate = AmEstate::generate(seed, now);
        post_alerts(&am, serde_json::Value::Array(estate.alerts.clone())).await;
        let client = reqwest::Client::new();
        for uid in &estate.silenced {
            let resp = client
                .post(format!("{}/api/v2/silences", am.url()))
                .json(&estate.silence_body(uid, now))
                .send()
                .await
                .expect("silence");
            assert!(resp.status().is_success(), "seed {seed}: silence {uid}: {}", resp.status());
        }
        let src: Arc<dyn Provider> =
            Arc::new(AlertmanagerSource::new("am", &AlertmanagerConfig::new(vec![am.url()]), TIMEOUT).expect("am"));
        let sources = vec![SourceSchedule { provider: src.clone(), interval: TIMEOUT, timeout: TIMEOUT }];
        let fleet = eventually(20, "every open alert held", || async {
            let f = collect_once(&sources, Utc::now(), false).await;
            (f.alerts.len() == estate.truth.len()).then_some(f)
        })
        .await;
        // An hour back: the generator starts alerts up to two hours ago, so some fall outside.
        let since = now - chrono::Duration::minutes(60);

        // Seed 0 also acknowledges one alert through opsdeck (an exact-label silence).
        let mut opsdeck_ack = None;
        let mut fleet = fleet;
        if seed == 0 {
            let target = fleet.alerts.iter().find(|a| a.state.label() == "firing").expect("a firing alert");
            let (id, title) = (target.id.clone(), target.title.clone());
            let intent = Intent::Ack { alert_id: id.clone(), comment: "on it — ana".into(), minutes: Some(30) };
            let p = plan(&intent, &fleet).expect("plan");
            let actor = Actor { user: "ana".into(), host: "bastion".into(), ssh_client: None };
            src.execute(&p, &actor, Utc::now()).await.expect("ack");
            fleet = eventually(20, "the ack applied", || async {
                let f = collect_once(&sources, Utc::now(), false).await;
                let acked = f.alerts.iter().any(|a| a.id == id && a.state.label() == "acked");
                acked.then_some(f)
            })
            .await;
            opsdeck_ack = Some(title);
        }

        let until = Utc::now();
        let history = src.alert_history(since, until).await.expect("history").expect("Alertmanager keeps one");
        assert!(history.iter().all(|e| e.origin == Origin::Source("am".into())));
        let want = open_since(&estate, since);
        let firing: BTreeSet<(String, i64)> = history
            .iter()
            .filter(|e| e.kind == EventKind::AlertFiring)
            .filter_map(|e| {
                let summary = want.iter().find(|(s, _)| e.what.ends_with(s.as_str()))?.0.clone();
                Some((summary, e.at.timestamp_millis()))
            })
            .collect();
        assert_eq!(firing, want, "seed {seed}: {history:#?}");
        assert_eq!(history.iter().filter(|e| e.kind == EventKind::AlertFiring).count(), want.len(), "seed {seed}");

        let silences: Vec<_> =
            history.iter().filter(|e| e.kind == EventKind::Ack && e.key.starts_with("silence:")).collect();
        assert_eq!(silences.len(), estate.silenced.len(), "seed {seed}: {history:#?}");
        for uid in &estate.silenced {
            let s = silences.iter().find(|e| e.what.contains(&format!("{{uid=\"{uid}\"}}"))).expect("silence listed");
            assert_eq!(s.who.as_deref(), Some(format!("gen-{seed}").as_str()));
            assert!(s.what.ends_with("— mantenimiento 维护"), "{}", s.what);
            assert!((s.at - now).num_seconds().abs() < 30, "made now: {}", s.at);
        }
        seen_acks += silences.len();

        // The journal of a console that watched the same Alertmanager: merged,
        // each alert and the ack made through opsdeck are listed once.
        let mut observer = Observer::new();
        let journal = observer.observe(&Arc::new(fleet), until);
        let mut both = journal.clone();
        both.extend(history.iter().cloned());
        let t = assemble(both, since, until, vec![]);
        let fired = t.events.iter().filter(|e| e.kind == EventKind::AlertFiring).count();
        assert_eq!(fired, want.len(), "seed {seed}: each alert once: {:#?}", t.events);
        if let Some(title) = opsdeck_ack {
            let acks: Vec<_> =
                t.events.iter().filter(|e| e.kind == EventKind::Ack && e.what.contains(title.as_str())).collect();
            assert_eq!(acks.len(), 1, "{acks:#?}");
            assert_eq!(acks[0].who.as_deref(), Some("ana@bastion"));
            assert!(acks[0].what.ends_with("— on it — ana"), "{}", acks[0].what);
            assert!(history.iter().any(|e| e.key == acks[0].key), "the history's key is the journal's");
        }
    }
    assert!(seen_acks >= 5, "the seeds silenced too little to test: {seen_acks}");
}
