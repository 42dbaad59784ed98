//! Generated ledgers over many seeds against a long-hand reference: the
//! generator makes each cloud's polls (the truth: rates, gaps, unknown polls),
//! the ledger and `evaluate` see them as the collector would, and the test
//! integrates the same polls by hand, span by span, second-exact.

use chrono::{DateTime, TimeZone, Utc};

use super::ledger::GAP_INTERVALS;
use super::{SloConfig, evaluate};
use crate::model::CloudKind;

/// splitmix64: small, seeded, deterministic.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// One poll as a source saw it: when (ms since the epoch), its rates, its interval.
#[derive(Clone, Copy)]
struct Poll {
    at_ms: i64,
    figures: Option<(f64, f64)>,
    interval: f64,
}

/// Start of the generated history, on a minute boundary.
const BASE_MS: i64 = 1_800_000_000_000;

/// A span a poll stands for: (from, to, requests/s, bad requests/s).
type Span = (f64, f64, f64, f64);

fn polls(rng: &mut Rng) -> Vec<Poll> {
    let interval = [5.0, 10.0, 30.0, 60.0][rng.below(4) as usize];
    let mut at_ms = BASE_MS + rng.below(7_200_000) as i64;
    let mut out = Vec::new();
    for _ in 0..(50 + rng.below(350)) {
        let figures = match rng.below(20) {
            0 => None,
            1 => Some((0.0, 0.0)),
            _ => {
                let rps = rng.unit() * 2_000.0;
                Some((rps, rps * rng.unit() * 0.05))
            }
        };
        out.push(Poll { at_ms, figures, interval });
        let steps = if rng.below(20) == 0 { 4.0 + rng.below(16) as f64 } else { 1.0 + rng.unit() * 0.1 };
        at_ms += (interval * steps * 1000.0).round() as i64;
    }
    out
}

/// The spans each poll stands for, by the rule the ledger documents, written out.
fn spans(polls: &[Poll]) -> Vec<Span> {
    let mut out = Vec::new();
    let mut prev: Option<f64> = None;
    for p in polls {
        let at = p.at_ms as f64 / 1000.0;
        let from = match prev {
            Some(q) if at - q <= GAP_INTERVALS * p.interval => q,
            _ => at - p.interval,
        };
        prev = Some(at);
        if let Some((rps, bad)) = p.figures {
            out.push((from, at, rps, bad));
        }
    }
    out
}

fn overlap(a: (f64, f64), b: (f64, f64)) -> f64 {
    (a.1.min(b.1) - a.0.max(b.0)).max(0.0)
}

fn t(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().expect("valid instant")
}

#[test]
fn generated_ledgers_match_a_long_hand_integration() {
    for seed in 0..60u64 {
        let mut rng = Rng(seed);
        let clouds: Vec<(CloudKind, Vec<Poll>)> =
            CloudKind::ALL.iter().take(1 + rng.below(3) as usize).map(|c| (*c, polls(&mut rng))).collect();
        let slo = SloConfig {
            name: "shop".into(),
            objective: [99.9, 99.5, 99.995][rng.below(3) as usize],
            window: "1d".into(),
            cloud: None,
            source: None,
            bad: None,
            total: None,
            ratio: None,
        };
        let mut ledger = super::ledger_for(std::slice::from_ref(&slo));
        // The collector's order: every poll of every cloud by time.
        let mut all: Vec<(CloudKind, Poll)> =
            clouds.iter().flat_map(|(c, ps)| ps.iter().map(move |p| (*c, *p))).collect();
        all.sort_by_key(|(_, p)| p.at_ms);
        for (c, p) in &all {
            ledger.observe(*c, t(p.at_ms), p.figures, p.interval);
        }
        let last = all.last().map_or(BASE_MS, |(_, p)| p.at_ms);
        let now_ms = last - last % 60_000 + 60_000 * (1 + rng.below(30) as i64);
        let now = now_ms as f64 / 1000.0;
        let status = &evaluate(std::slice::from_ref(&slo), &ledger, t(now_ms))[0];
        let objective = slo.objective / 100.0;

        // Long hand, per cloud and for the shop, over the window and each burn span.
        let by_cloud: Vec<(CloudKind, Vec<Span>)> = clouds.iter().map(|(c, ps)| (*c, spans(ps))).collect();
        let tally = |scope: Option<CloudKind>, span: f64| {
            let range = (now - span, now);
            let (mut total, mut bad) = (0.0, 0.0);
            let mut covered = 0.0;
            let mut minute = range.0;
            while minute < range.1 {
                let m = (minute, minute + 60.0);
                let mut most: f64 = 0.0;
                for (_, ss) in by_cloud.iter().filter(|(c, _)| scope.is_none_or(|s| s == *c)) {
                    let mut held = 0.0;
                    for (from, to, rps, b) in ss {
                        let o = overlap((*from, *to), m);
                        total += rps * o;
                        bad += b * o;
                        held += o;
                    }
                    most = most.max(held);
                }
                covered += most;
                minute += 60.0;
            }
            (total, bad, covered)
        };
        let close = |a: Option<f64>, b: Option<f64>, what: &str| match (a, b) {
            (Some(a), Some(b)) => assert!((a - b).abs() <= 1e-6 * b.abs().max(1.0), "seed {seed} {what}: {a} vs {b}"),
            (a, b) => assert_eq!(a, b, "seed {seed} {what}"),
        };
        let scopes: Vec<(Option<CloudKind>, &crate::model::SloFigures)> =
            std::iter::once((None, &status.overall)).chain(status.clouds.iter().map(|f| (f.cloud, f))).collect();
        assert_eq!(status.clouds.len(), clouds.len(), "seed {seed}");
        for (scope, f) in scopes {
            let (total, bad, covered) = tally(scope, 86_400.0);
            close(Some(f.covered_secs), Some(covered), "coverage");
            let known = covered > 0.0 && total > 0.0;
            let availability = known.then(|| 1.0 - bad / total);
            close(f.availability, availability, "availability");
            let left = known.then(|| 1.0 - bad / ((1.0 - objective) * total * 86_400.0 / covered));
            close(f.budget_left, left, "budget left");
            for (span, got) in [(300.0, f.burn.m5), (1_800.0, f.burn.m30), (3_600.0, f.burn.h1), (21_600.0, f.burn.h6)]
            {
                let (total, bad, covered) = tally(scope, span);
                let want = (covered > 0.0 && total > 0.0).then(|| bad / total / (1.0 - objective));
                close(got, want, &format!("burn over {span}s"));
            }
            // A one-day window judges no 3-day burn.
            assert_eq!(f.burn.d3, None);
        }
    }
}
