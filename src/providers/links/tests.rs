use super::*;
use crate::model::Severity;

fn cfg(name: &str, tcp: &str, target_ms: f64) -> LinkConfig {
    LinkConfig {
        name: name.into(),
        between: vec!["aws".into(), "azure".into()],
        target_ms,
        tcp: Some(tcp.into()),
        banner: false,
        url: None,
        probes: 3,
        timeout_secs: 1.0,
        ca_file: None,
        prometheus: None,
        query: None,
        severity: None,
    }
}

fn link(rtt_ms: Option<f64>, loss: Option<f64>) -> Link {
    Link {
        name: "db".into(),
        a: CloudKind::Aws,
        b: CloudKind::Azure,
        rtt_ms,
        loss,
        bps: None,
        up: None,
        target_ms: 40.0,
        via: vec![],
        error: None,
    }
}

fn at(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000 + secs, 0).expect("time")
}

#[test]
fn over_target_fires_keeps_its_start_and_resolves_under_target() {
    let source = LinkSource::new(&[cfg("db", "10.0.0.5:5432", 40.0)]).expect("source");
    let fired = source.alerts(&[link(Some(52.4), Some(0.0))], at(0));
    assert_eq!(fired.len(), 1);
    let a = &fired[0];
    assert_eq!(
        (a.id.as_str(), a.severity, &a.state, a.started_at),
        ("link:db", Severity::P2, &AlertState::Firing, at(0))
    );
    assert_eq!(a.title, "Link db (AWS ↔ Azure): round trip 52 ms over the 40 ms target");
    // Still over: the same alert, started when first found.
    let again = source.alerts(&[link(Some(61.0), Some(0.0))], at(10));
    assert_eq!((again[0].id.as_str(), again[0].started_at), ("link:db", at(0)));
    // Under target (and unknown) raise nothing; a new breach starts afresh.
    assert!(source.alerts(&[link(Some(39.0), Some(0.0))], at(20)).is_empty());
    assert!(source.alerts(&[link(None, None)], at(25)).is_empty());
    assert_eq!(source.alerts(&[link(Some(45.0), None)], at(30))[0].started_at, at(30));
}

#[test]
fn all_probes_lost_or_the_interconnect_down_fires_with_its_reason() {
    let source = LinkSource::new(&[LinkConfig { severity: Some(Severity::P1), ..cfg("db", "10.0.0.5:5432", 40.0) }])
        .expect("source");
    let lost = Link { error: Some("cannot connect: Connection refused".into()), ..link(None, Some(1.0)) };
    let a = source.alerts(&[lost], at(0));
    assert_eq!(a[0].title, "Link db (AWS ↔ Azure): all 3 probes lost (cannot connect: Connection refused)");
    assert_eq!(a[0].severity, Severity::P1);
    // Some lost but the rest within target: no alert (the loss shows on the Overview).
    assert!(source.alerts(&[link(Some(12.0), Some(2.0 / 3.0))], at(5)).is_empty());
    let down = Link { up: Some(false), ..link(Some(1.0), None) };
    assert_eq!(source.alerts(&[down], at(10))[0].title, "Link db (AWS ↔ Azure): the interconnect is down");
}

#[tokio::test]
async fn a_listening_port_is_measured_and_a_closed_one_is_unknown_with_all_lost() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let open = listener.local_addr().expect("addr").to_string();
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").to_string()
    };
    let source = LinkSource::new(&[cfg("up", &open, 1000.0), cfg("down", &closed, 1000.0)]).expect("source");
    let report = source.poll(at(0)).await.expect("never fails");
    let (up, down) = (&report.links[0], &report.links[1]);
    assert!(up.rtt_ms.is_some_and(|ms| ms < 1000.0) && up.loss == Some(0.0) && up.error.is_none(), "{up:?}");
    assert_eq!(up.via, vec![format!("tcp {open}: median {}, 0 of 3 probes lost", ms(up.rtt_ms.unwrap_or(0.0)))]);
    assert_eq!((down.rtt_ms, down.loss, down.over_target()), (None, Some(1.0), None), "{down:?}");
    assert!(down.error.as_deref().is_some_and(|e| e.starts_with("cannot connect")), "{down:?}");
    assert_eq!(report.alerts.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(), vec!["link:down"]);
}
