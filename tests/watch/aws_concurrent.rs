//! The reads of one AWS poll are in flight together, not one after the other.
//! A slow front before moto holds every request a while and notes when each
//! arrived and was answered; reads that do not depend on each other must have
//! been in flight at the same time (overlapping intervals: two reads made one
//! after the other never overlap, however fast the server), at most 8 of one
//! kind at once, and the snapshot must still equal what was planted. No
//! duration is judged.

use crate::aws_estate::{assert_equals_truth, fresh_sources, source_states};
use crate::aws_seeded::{AlarmState, Estate, RegionTruth};
use crate::support;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use chrono::Utc;
use opsdeck::collector::{SourceSchedule, collect_once};
use opsdeck::providers::Provider;
use opsdeck::providers::aws::{self, SdkSource};
use support::moto::{Moto, sdk_for};
use support::slow_front::{Call, SlowFront};

/// How long the front holds each request: long beside the time a read takes to
/// be issued, so reads issued together are seen together.
const HOLD: Duration = Duration::from_millis(250);
/// The bound on reads of one kind in flight within a poll.
const IN_FLIGHT: usize = 8;
/// Seeds scanned for estates with something to read side by side.
const SCANNED: std::ops::Range<u64> = 0..200;
/// Estates read through the slow front (the first ones found that add coverage).
const READ: usize = 6;

fn firing(r: &RegionTruth) -> usize {
    r.alarms.iter().filter(|a| a.state == AlarmState::Alarm).count()
}

/// What an estate gives the concurrency to show.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Shape {
    /// A region with more firing alarms than may be in flight at once.
    many_tags: bool,
    /// A region with a few firing alarms and shown groups, no paging: its tags
    /// and its metrics are issued at the same step.
    tags_beside_metrics: bool,
    /// A record with two health checks or more.
    health_checks: bool,
    /// Two records configured.
    records: bool,
}

fn shape(e: &Estate) -> Shape {
    let tag = e.asg_tag();
    Shape {
        many_tags: e.regions.iter().any(|r| firing(r) > IN_FLIGHT),
        tags_beside_metrics: e.regions.iter().any(|r| {
            (1..=IN_FLIGHT).contains(&firing(r)) && r.groups.len() <= 50 && r.groups.iter().any(|g| g.shown(tag))
        }),
        health_checks: e.policies.iter().any(|p| p.endpoints.iter().filter(|x| x.health_check).count() >= 2),
        records: e.policies.len() >= 2,
    }
}

/// The calls of `op` signed for `region`.
fn of<'a>(calls: &'a [Call], op: &str, region: &str) -> Vec<&'a Call> {
    calls.iter().filter(|c| c.op == op && c.region == region).collect()
}

/// Some call of `a` and a different call of `b` were in flight at the same time.
fn any_overlap(a: &[&Call], b: &[&Call]) -> bool {
    a.iter().any(|x| b.iter().any(|y| !std::ptr::eq(*x, *y) && x.overlaps(y)))
}

/// The most calls of `calls` in flight at one instant.
fn most_in_flight(calls: &[&Call]) -> usize {
    calls.iter().map(|c| calls.iter().filter(|d| d.start <= c.start && c.start < d.end).count()).max().unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reads_of_one_poll_are_in_flight_together_and_read_as_planted() {
    let moto = Moto::start();
    let front = SlowFront::start(moto.port, HOLD);
    // Single attempts: moto answers GetCostForecast 5xx (not implemented).
    let sdk = sdk_for(&front.url(), "us-east-1")
        .await
        .to_builder()
        .retry_config(RetryConfig::standard().with_max_attempts(1))
        .build();
    let mut seen = BTreeSet::new();
    let mut read = Vec::new();
    for seed in SCANNED {
        let estate = Estate::generate(seed);
        let s = shape(&estate);
        let adds = (s.many_tags && !seen.contains("many tags"))
            || (s.tags_beside_metrics && !seen.contains("tags beside metrics"))
            || (s.health_checks && !seen.contains("health checks"))
            || (s.records && !seen.contains("records"));
        if !(adds || (read.len() < READ && s != Shape::default())) {
            continue;
        }
        for (flag, name) in [
            (s.many_tags, "many tags"),
            (s.tags_beside_metrics, "tags beside metrics"),
            (s.health_checks, "health checks"),
            (s.records, "records"),
        ] {
            if flag {
                seen.insert(name);
            }
        }
        read.push(seed);
        if read.len() >= READ && seen.len() == 4 {
            break;
        }
    }
    assert_eq!(seen.len(), 4, "the scanned seeds cover every shape: {seen:?}");

    for seed in read {
        let estate = Estate::generate(seed);
        // Planted straight into moto, not through the front.
        let planted = estate.plant(&moto).await;
        let cfg = estate.config("gen", &planted);
        let providers: Vec<Arc<dyn Provider>> =
            aws::providers("gen", &cfg, Duration::from_secs(60), SdkSource::Given(Box::new(sdk.clone())));
        let schedules: Vec<SourceSchedule> = providers
            .into_iter()
            .map(|provider| SourceSchedule {
                provider,
                interval: Duration::from_secs(60),
                timeout: Duration::from_secs(60),
            })
            .collect();
        front.take();
        let now = Utc::now();
        let fleet = collect_once(&schedules, now, false).await;
        let calls = front.take();
        let snap = opsdeck::snapshot::to_json(&fleet, now);
        let ctx = format!("seed {seed}");
        assert_eq!(source_states(&snap), fresh_sources(&estate, "gen"), "{ctx}: {:#}", snap["sources"]);
        assert_equals_truth(&estate, &planted, &snap, &ctx);

        for r in &estate.regions {
            let ctx = format!("{ctx}, {}", r.name);
            let groups = of(&calls, "DescribeAutoScalingGroups", &r.name);
            let alarms = of(&calls, "DescribeAlarms", &r.name);
            let tags = of(&calls, "ListTagsForResource", &r.name);
            let metrics = of(&calls, "GetMetricData", &r.name);
            assert_eq!(tags.len(), firing(r), "{ctx}: one tag read per firing alarm");
            assert!(any_overlap(&groups, &alarms), "{ctx}: groups and alarms read together: {calls:#?}");
            if firing(r) >= 2 {
                assert!(any_overlap(&tags, &tags), "{ctx}: the tags of {} alarms read together", firing(r));
            }
            assert!(
                most_in_flight(&tags) <= IN_FLIGHT,
                "{ctx}: {} tag reads at once, more than {IN_FLIGHT}",
                most_in_flight(&tags)
            );
            let tag = estate.asg_tag();
            if (1..=IN_FLIGHT).contains(&firing(r)) && r.groups.len() <= 50 && r.groups.iter().any(|g| g.shown(tag)) {
                assert!(!metrics.is_empty(), "{ctx}: shown groups have metrics");
                // Both are the second step of their chain (groups → metrics, alarms → tags).
                assert!(any_overlap(&metrics, &tags), "{ctx}: metrics read beside the alarms' tags: {calls:#?}");
            }
        }

        let global = "us-east-1";
        let records = of(&calls, "ListResourceRecordSets", global);
        let checks = of(&calls, "GetHealthCheckStatus", global);
        let usage = of(&calls, "GetCostAndUsage", global);
        let forecast = of(&calls, "GetCostForecast", global);
        assert!(!usage.is_empty(), "{ctx}: the bill is read");
        if !estate.policies.is_empty() {
            assert!(any_overlap(&records, &usage), "{ctx}: records and the bill read together: {calls:#?}");
        }
        if !forecast.is_empty() {
            assert!(any_overlap(&forecast, &usage), "{ctx}: the forecast asked beside the month so far");
        }
        if estate.policies.len() >= 2 {
            assert!(any_overlap(&records, &records), "{ctx}: the configured records read together");
        }
        if estate.policies.iter().any(|p| p.endpoints.iter().filter(|x| x.health_check).count() >= 2) {
            assert!(any_overlap(&checks, &checks), "{ctx}: a record's health checks read together");
        }
    }
}
