//! SLO arithmetic, pure: from counts of events to availability, error budget left,
//! burn rates and the SRE workbook's multi-window alerts.
//!
//! Extrapolation: when opsdeck holds less than the whole window (it started 4 h
//! ago, or polls were missed), the events it did not see are assumed to arrive at
//! the rate of those it saw. The budget of the whole window is then
//! (1 − objective) × total × window / covered, and what is left is
//! 1 − bad / that. The coverage is always reported with the figures, so "41 %
//! left" reads with "4h12m of 30d held".

use crate::model::{BurnAlert, Burns};

/// Events counted over a span, and how much of the span was measured.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Tally {
    pub total: f64,
    pub bad: f64,
    pub covered_secs: f64,
}

impl Tally {
    pub fn add(&mut self, other: Tally) {
        self.total += other.total;
        self.bad += other.bad;
        self.covered_secs += other.covered_secs;
    }

    /// bad / total; None when nothing was measured or no event happened (zero
    /// traffic says nothing about errors).
    pub fn error_ratio(&self) -> Option<f64> {
        (self.covered_secs > 0.0 && self.total > 0.0).then(|| (self.bad / self.total).clamp(0.0, 1.0))
    }
}

/// 1 − bad/total over the covered part.
pub fn availability(t: &Tally) -> Option<f64> {
    t.error_ratio().map(|r| 1.0 - r)
}

/// Fraction of the whole window's error budget left (negative when overspent).
/// `objective` is a fraction (0.99995), `window_secs` the SLO's window.
pub fn budget_left(t: &Tally, objective: f64, window_secs: f64) -> Option<f64> {
    let ratio = t.error_ratio()?;
    if !(objective > 0.0 && objective < 1.0) || window_secs <= 0.0 {
        return None;
    }
    // Events expected over the whole window at the rate seen while covered.
    let expected = t.total * window_secs / t.covered_secs.min(window_secs);
    let allowed = (1.0 - objective) * expected;
    // ratio × total rather than bad: the same clamped figure availability uses.
    Some(1.0 - ratio * t.total / allowed)
}

/// Error ratio over the span ÷ the allowed error ratio: 1 spends the budget
/// exactly over the window, 14.4 spends 2 % of a 30-day budget in an hour.
pub fn burn(t: &Tally, objective: f64) -> Option<f64> {
    if !(objective > 0.0 && objective < 1.0) {
        return None;
    }
    t.error_ratio().map(|r| r / (1.0 - objective))
}

/// The spans the burns are taken over, seconds: 5m, 30m, 1h, 6h, 3d.
pub const BURN_SPANS: [f64; 5] = [300.0, 1_800.0, 3_600.0, 21_600.0, 259_200.0];

/// Fast page: 2 % of a 30-day budget in an hour.
pub const PAGE_FAST: f64 = 14.4;
/// Slow page: 5 % of a 30-day budget in 6 hours.
pub const PAGE_SLOW: f64 = 6.0;
/// Ticket: on course to spend the whole budget within the window.
pub const TICKET: f64 = 1.0;

/// The multi-window alert in force: each long window must be over its threshold
/// and so must its short window (so an alert stops soon after the burning does).
/// An unknown burn fires nothing. The ticket is only judged when asked
/// (`ticket`: the window is at least 3 days).
pub fn alert(b: &Burns, ticket: bool) -> Option<BurnAlert> {
    let over = |x: Option<f64>, t: f64| x.is_some_and(|x| x > t);
    if (over(b.h1, PAGE_FAST) && over(b.m5, PAGE_FAST)) || (over(b.h6, PAGE_SLOW) && over(b.m30, PAGE_SLOW)) {
        Some(BurnAlert::Page)
    } else if ticket && over(b.d3, TICKET) && over(b.h6, TICKET) {
        Some(BurnAlert::Ticket)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OBJ: f64 = 0.99995;
    const DAY: f64 = 86_400.0;

    fn close(a: Option<f64>, b: f64) -> bool {
        a.is_some_and(|a| (a - b).abs() < 1e-9 * b.abs().max(1.0))
    }

    #[test]
    fn a_whole_window_held() {
        // 30 days at 1000 rps = 2 592 000 000 requests; budget 0.005 % = 129 600 bad.
        let total = 1000.0 * 30.0 * DAY;
        let t = Tally { total, bad: 32_400.0, covered_secs: 30.0 * DAY };
        assert!(close(availability(&t), 1.0 - 32_400.0 / total));
        // 32 400 of 129 600 spent: 75 % left.
        assert!(close(budget_left(&t, OBJ, 30.0 * DAY), 0.75));
        // error ratio 1.25e-5 over an allowed 5e-5: a quarter of the burn that spends it all.
        assert!(close(burn(&t, OBJ), 0.25));
    }

    #[test]
    fn a_partly_held_window_extrapolates_the_rate_seen() {
        // 4h12m held at 200 rps: 3 024 000 requests, 90 bad.
        let covered = 4.0 * 3600.0 + 12.0 * 60.0;
        let t = Tally { total: 200.0 * covered, bad: 90.0, covered_secs: covered };
        assert!(close(availability(&t), 1.0 - 90.0 / 3_024_000.0));
        // Over 30 days at 200 rps: 518 400 000 requests, 25 920 allowed bad; 90 spent.
        assert!(close(budget_left(&t, OBJ, 30.0 * DAY), 1.0 - 90.0 / 25_920.0));
        // The same events held over a 12h window: 8 640 000 expected, 432 allowed.
        assert!(close(budget_left(&t, OBJ, 43_200.0), 1.0 - 90.0 / 432.0));
    }

    #[test]
    fn an_overspent_budget_goes_below_zero() {
        let t = Tally { total: 1_000_000.0, bad: 100.0, covered_secs: DAY };
        // A 7-day window at 99.99 %: 7 000 000 expected, 700 allowed, 100 spent.
        assert!(close(budget_left(&t, 0.9999, 7.0 * DAY), 1.0 - 100.0 / 700.0));
        // A 1-day window at 99.995 %: 50 allowed, 100 spent: −100 %.
        assert!(close(budget_left(&t, OBJ, DAY), -1.0));
    }

    #[test]
    fn no_events_is_unknown_never_perfect_nor_zero() {
        let none = Tally::default();
        let idle = Tally { total: 0.0, bad: 0.0, covered_secs: 3_600.0 };
        for t in [none, idle] {
            assert_eq!(availability(&t), None);
            assert_eq!(budget_left(&t, OBJ, DAY), None);
            assert_eq!(burn(&t, OBJ), None);
        }
        // Events with no coverage cannot be (a corrupt tally): unknown too.
        assert_eq!(availability(&Tally { total: 5.0, bad: 0.0, covered_secs: 0.0 }), None);
    }

    #[test]
    fn the_shop_weighs_clouds_by_their_traffic() {
        // aws: 900 rps, 0.1 % errors; azure: 100 rps, 1 % errors; one hour each.
        let aws = Tally { total: 900.0 * 3600.0, bad: 0.9 * 3600.0, covered_secs: 3600.0 };
        let azure = Tally { total: 100.0 * 3600.0, bad: 1.0 * 3600.0, covered_secs: 3600.0 };
        let mut shop = aws;
        shop.add(azure);
        // (0.9 + 1.0) / 1000 = 0.19 %, not the mean of ratios (0.55 %).
        assert!(close(shop.error_ratio(), 0.0019));
        assert!(close(burn(&aws, 0.999), 1.0));
        assert!(close(burn(&azure, 0.999), 10.0));
        assert!(close(burn(&Tally { covered_secs: 3600.0, ..shop }, 0.999), 1.9));
    }

    #[test]
    fn pages_need_the_long_and_the_short_window() {
        let b = |m5, m30, h1, h6, d3| Burns { m5: Some(m5), m30: Some(m30), h1: Some(h1), h6: Some(h6), d3: Some(d3) };
        assert_eq!(alert(&b(15.0, 0.0, 14.5, 0.0, 0.0), true), Some(BurnAlert::Page));
        // The hour burned, the last 5 minutes no longer do: no page.
        assert_eq!(alert(&b(14.0, 0.0, 20.0, 0.0, 0.0), true), None);
        assert_eq!(alert(&b(0.0, 6.5, 0.0, 6.1, 0.0), true), Some(BurnAlert::Page));
        assert_eq!(alert(&b(0.0, 5.9, 0.0, 7.0, 0.0), true), None);
        assert_eq!(alert(&b(0.0, 0.0, 0.0, 1.5, 1.2), true), Some(BurnAlert::Ticket));
        // A window shorter than 3 days judges no ticket.
        assert_eq!(alert(&b(0.0, 0.0, 0.0, 1.5, 1.2), false), None);
        assert_eq!(alert(&b(0.0, 0.0, 0.0, 0.9, 1.2), true), None);
        // Exactly at the threshold is not over it.
        assert_eq!(alert(&b(14.4, 0.0, 14.4, 0.0, 0.0), true), None);
        // Unknown fires nothing.
        let unknown = Burns { m5: None, h1: Some(100.0), ..Burns::default() };
        assert_eq!(alert(&unknown, true), None);
    }
}
