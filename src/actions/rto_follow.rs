//! Driving the RTO tracker: after a failover was sent, every few seconds ask the
//! DNS provider whether the change is in sync, ask the resolvers what they
//! answer, and read the providers' requests/s, until every phase is done or the
//! deadline passes. The console and the CLI share it; both hand it a way to
//! read the estate afresh, and it reports progress through a callback.

use std::future::Future;
use std::time::Duration;

use super::rto::{Expectation, Tracker};
use super::run::WritePath;
use crate::model::rto::Rto;
use crate::model::{CloudKind, Fleet, Plan};
use crate::providers::dns::Resolvers;

/// How a follow runs (from `[rto]`).
#[derive(Debug, Clone)]
pub struct FollowSetup {
    pub poll: Duration,
    pub samples: u32,
    pub deadline_secs: u32,
    /// The record the resolvers are asked for.
    pub record: String,
}

impl FollowSetup {
    pub fn from_config(config: &crate::config::RtoConfig, policy: &str) -> FollowSetup {
        FollowSetup {
            poll: Duration::from_secs(u64::from(config.poll_secs)),
            samples: config.samples,
            deadline_secs: config.deadline_secs,
            record: config.record_of(policy),
        }
    }
}

/// A new tracker for an executed weight plan, or None when the plan changes no
/// policy weights (a scale or an ack: nothing to follow) or the policy is gone.
pub fn tracker_for(
    plan: &Plan,
    fleet: &Fleet,
    sent_at: chrono::DateTime<chrono::Utc>,
    deadline_secs: u32,
) -> Option<Tracker> {
    let expect = Expectation::of(plan, fleet)?;
    Some(Tracker::new(plan.intent.to_string(), expect, sent_at, plan.time_to_effect_secs, deadline_secs))
}

/// Each region's requests/s by cloud, as the fresh read has them.
pub fn rps_of(fleet: &Fleet) -> Vec<(CloudKind, Option<f64>)> {
    fleet.metrics.iter().map(|(_, m)| (m.cloud, m.rps)).collect()
}

/// The change being followed: the executed plan and the write's receipt id.
#[derive(Debug, Clone, Copy)]
pub struct Followed<'a> {
    pub plan: &'a Plan,
    pub request_id: Option<&'a str>,
}

/// Follow until done or the deadline: `read` gives a fresh read of the estate,
/// `progress` hears every change of the measurement. Returns the final Rto.
pub async fn follow<R, F>(
    mut tracker: Tracker,
    change: Followed<'_>,
    path: &WritePath,
    resolvers: &dyn Resolvers,
    setup: &FollowSetup,
    mut read: R,
    mut progress: impl FnMut(&Rto),
) -> Rto
where
    R: FnMut() -> F,
    F: Future<Output = Fleet>,
{
    let Followed { plan, request_id } = change;
    let clock = path.clock();
    progress(tracker.rto());
    loop {
        let before = tracker.rto().clone();
        // In sync: Route 53 tracks its changes; the others show it in a fresh read.
        let fleet = read().await;
        let tracked = match request_id {
            _ if tracker.rto().in_sync_at.is_some() => Some(false),
            Some(id) => path.change_in_sync(plan, id).await.unwrap_or_else(|e| {
                // Not "in sync" for want of an answer: the next round asks again.
                log::warn!("rto: in-sync check of {id}: {e}");
                Some(false)
            }),
            None => None,
        };
        let now = clock.now();
        match tracked {
            Some(true) => tracker.in_sync(now),
            None if plan.is_reflected_in(&fleet) => tracker.in_sync(now),
            _ => {}
        }
        let samples = resolvers.round(&setup.record, setup.samples).await;
        tracker.resolver_round(clock.now(), &samples);
        tracker.traffic(clock.now(), &rps_of(&fleet));
        tracker.tick(clock.now());
        if *tracker.rto() != before {
            progress(tracker.rto());
        }
        if tracker.finished() {
            return tracker.rto().clone();
        }
        tokio::time::sleep(setup.poll).await;
    }
}
