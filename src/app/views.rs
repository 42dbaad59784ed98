//! Rows derived from a Fleet for the list panes: filtered and sorted once per
//! change (new Fleet, new filter, new sort), never per frame, so drawing a list
//! costs only its visible rows however long it is.

use std::collections::BTreeMap;
use std::sync::{Arc, Weak};

use crate::model::{Alert, AlertState, CloudKind, Fleet, ScalingGroup};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AlertSort {
    /// Worst first, then newest.
    #[default]
    Severity,
    /// Newest first.
    Age,
    /// By cloud, then worst first.
    Cloud,
}

impl AlertSort {
    pub fn next(self) -> AlertSort {
        match self {
            AlertSort::Severity => AlertSort::Age,
            AlertSort::Age => AlertSort::Cloud,
            AlertSort::Cloud => AlertSort::Severity,
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            AlertSort::Severity => "severity",
            AlertSort::Age => "age",
            AlertSort::Cloud => "cloud",
        }
    }
}

/// Case-insensitive match of every word of `filter` somewhere in `haystack`.
pub fn matches(filter: &str, haystack: &str) -> bool {
    if filter.is_empty() {
        return true;
    }
    let hay = haystack.to_lowercase();
    filter.to_lowercase().split_whitespace().all(|w| hay.contains(w))
}

/// Indices into `fleet.alerts`, filtered and sorted (a one-off derivation; the
/// console keeps a [`Derived`] per Fleet instead).
pub fn alert_rows(fleet: &Fleet, filter: &str, sort: AlertSort) -> Vec<usize> {
    Derived::build(fleet).alert_rows(filter, sort, None)
}

/// Alerts in the order a sort shows them.
fn sorted(alerts: &[&Alert], sort: AlertSort) -> Vec<u32> {
    let mut rows: Vec<u32> = (0..alerts.len() as u32).collect();
    let a = |i: u32| alerts[i as usize];
    // The index breaks the last tie (two sources may use one id), so the order is
    // the same on every build and rows do not swap places between polls.
    match sort {
        AlertSort::Severity => rows.sort_unstable_by(|&i, &j| {
            let (x, y) = (a(i), a(j));
            x.severity.cmp(&y.severity).then(y.started_at.cmp(&x.started_at)).then(x.id.cmp(&y.id)).then(i.cmp(&j))
        }),
        AlertSort::Age => rows.sort_unstable_by(|&i, &j| {
            let (x, y) = (a(i), a(j));
            y.started_at.cmp(&x.started_at).then(x.id.cmp(&y.id)).then(i.cmp(&j))
        }),
        AlertSort::Cloud => rows.sort_unstable_by(|&i, &j| {
            let (x, y) = (a(i), a(j));
            x.cloud.cmp(&y.cloud).then(x.severity.cmp(&y.severity)).then(x.id.cmp(&y.id)).then(i.cmp(&j))
        }),
    }
    rows
}

/// What the list panes need from one Fleet, worked out once per Fleet: each
/// alert's search text (lowercased, in one buffer), the alerts in every sort
/// order, the counts and the worst open alerts. Building it is linear in the
/// alerts plus the sorts, so the console builds it off the input path (see
/// `runtime`); filtering and re-sorting then only scan it, and a filter that is
/// typed letter by letter narrows the rows it already has. A Fleet whose alerts
/// are the very lists of the last one (no source's alerts changed) keeps the
/// last one's index.
#[derive(Debug, Default)]
pub struct Derived {
    /// The Fleet it was built from.
    pub generation: u64,
    index: Arc<AlertIndex>,
    /// The alert lists it indexes. Weak: it must not keep old alerts alive, and
    /// the allocation it pins makes the identity check sound (no reuse of the address).
    lists: Vec<Weak<Vec<Alert>>>,
}

#[derive(Debug, Default)]
struct AlertIndex {
    text: String,
    /// `text[ends[i - 1]..ends[i]]` is alert i's.
    ends: Vec<usize>,
    /// Indices in each [`AlertSort`]'s order (u32: a quarter of the memory of
    /// three `usize` lists at 100,000 alerts, and no Fleet holds 4 billion alerts).
    by_severity: Vec<u32>,
    by_age: Vec<u32>,
    by_cloud: Vec<u32>,
    counts: AlertCounts,
    worst: Vec<usize>,
}

impl Derived {
    pub fn build(fleet: &Fleet) -> Derived {
        Derived::build_reusing(fleet, None)
    }

    /// As [`Derived::build`], keeping `previous`'s index when `fleet` holds the
    /// same alert lists it was built from.
    pub fn build_reusing(fleet: &Fleet, previous: Option<&Derived>) -> Derived {
        let chunks = fleet.alerts.chunks();
        let lists: Vec<Weak<Vec<Alert>>> = chunks.iter().map(Arc::downgrade).collect();
        if let Some(p) = previous
            && p.lists.len() == lists.len()
            && p.lists.iter().zip(&lists).all(|(a, b)| a.ptr_eq(b))
        {
            return Derived { generation: fleet.generation, index: p.index.clone(), lists };
        }
        let alerts: Vec<&Alert> = fleet.alerts.iter().collect();
        let mut text = String::new();
        let mut ends = Vec::with_capacity(alerts.len());
        for a in &alerts {
            push_alert_text(&mut text, a);
            ends.push(text.len());
        }
        text.shrink_to_fit();
        let by_severity = sorted(&alerts, AlertSort::Severity);
        // The severity order is worst first, then newest: the worst open alerts are its first open ones.
        let worst = by_severity.iter().map(|&i| i as usize).filter(|&i| alerts[i].state.is_open()).take(10).collect();
        let index = AlertIndex {
            text,
            ends,
            by_age: sorted(&alerts, AlertSort::Age),
            by_cloud: sorted(&alerts, AlertSort::Cloud),
            by_severity,
            counts: AlertCounts::of(fleet),
            worst,
        };
        Derived { generation: fleet.generation, index: Arc::new(index), lists }
    }

    /// Whether it shares its index with `other` (built once for both).
    pub fn shares_index(&self, other: &Derived) -> bool {
        Arc::ptr_eq(&self.index, &other.index)
    }

    pub fn counts(&self) -> &AlertCounts {
        &self.index.counts
    }

    /// The worst open alerts (see [`worst_open`]).
    pub fn worst(&self) -> &[usize] {
        &self.index.worst
    }

    fn order(&self, sort: AlertSort) -> &[u32] {
        match sort {
            AlertSort::Severity => &self.index.by_severity,
            AlertSort::Age => &self.index.by_age,
            AlertSort::Cloud => &self.index.by_cloud,
        }
    }

    fn text_of(&self, i: usize) -> &str {
        let ends = &self.index.ends;
        let start = if i == 0 { 0 } else { ends[i - 1] };
        &self.index.text[start..ends[i]]
    }

    /// The rows `filter` keeps, in `sort` order. `narrow` is the rows of a filter
    /// this one extends (typed one more letter): only those can still match.
    pub fn alert_rows(&self, filter: &str, sort: AlertSort, narrow: Option<&[usize]>) -> Vec<usize> {
        let words: Vec<String> = filter.to_lowercase().split_whitespace().map(str::to_string).collect();
        let keep = |i: usize| words.iter().all(|w| self.text_of(i).contains(w.as_str()));
        match narrow {
            Some(rows) => rows.iter().copied().filter(|&i| keep(i)).collect(),
            None if words.is_empty() => self.order(sort).iter().map(|&i| i as usize).collect(),
            None => self.order(sort).iter().map(|&i| i as usize).filter(|&i| keep(i)).collect(),
        }
    }
}

/// The text a filter searches for an alert, lowercased: severity, cloud, title,
/// resource, state, route, and its labels as `key=value` (so "severity=critical"
/// or "team=payments" typed in the filter finds labelled alerts).
fn push_alert_text(out: &mut String, a: &Alert) {
    use std::fmt::Write;
    let start = out.len();
    let _ = write!(
        out,
        "{} {} {} {} {} {}",
        a.severity.label(),
        a.cloud.map_or("", |c| c.slug()),
        a.title,
        a.resource,
        a.state.label(),
        a.route
    );
    for (k, v) in a.labels.iter() {
        let _ = write!(out, " {k}={v}");
    }
    // Lowercase in place when it keeps the length (ASCII); else replace the tail.
    if out[start..].is_ascii() {
        out[start..].make_ascii_lowercase();
    } else {
        let lower = out[start..].to_lowercase();
        out.truncate(start);
        out.push_str(&lower);
    }
}

/// Firing alerts per severity, in all and per cloud; counted once per Fleet so the
/// header and tiles cost nothing per frame.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlertCounts {
    pub total: [usize; 4],
    pub by_cloud: BTreeMap<CloudKind, [usize; 4]>,
}

impl AlertCounts {
    pub fn of(fleet: &Fleet) -> AlertCounts {
        let mut c = AlertCounts::default();
        for a in fleet.alerts.iter().filter(|a| a.state == AlertState::Firing) {
            c.total[a.severity.index()] += 1;
            if let Some(cloud) = a.cloud {
                c.by_cloud.entry(cloud).or_default()[a.severity.index()] += 1;
            }
        }
        c
    }
    pub fn cloud(&self, cloud: CloudKind) -> [usize; 4] {
        self.by_cloud.get(&cloud).copied().unwrap_or_default()
    }
}

/// The `n` worst open alerts (worst severity, then newest), unfiltered.
pub fn worst_open(fleet: &Fleet, n: usize) -> Vec<usize> {
    let a: Vec<&Alert> = fleet.alerts.iter().collect();
    let mut open: Vec<usize> = (0..a.len()).filter(|&i| a[i].state.is_open()).collect();
    // The index breaks the last tie, as in the Alerts pane's order (see `sorted`).
    let order = |&x: &usize, &y: &usize| {
        a[x].severity
            .cmp(&a[y].severity)
            .then(a[y].started_at.cmp(&a[x].started_at))
            .then(a[x].id.cmp(&a[y].id))
            .then(x.cmp(&y))
    };
    if open.len() > n {
        open.select_nth_unstable_by(n, order);
        open.truncate(n);
    }
    open.sort_by(order);
    open
}

/// One row of the Health pane's group table: (group index, zone index).
pub type ZoneRow = (usize, usize);

fn group_text(g: &ScalingGroup, zone: &str) -> String {
    format!("{} {} {} {}", g.cloud.slug(), g.region, g.name, zone)
}

pub fn zone_rows(fleet: &Fleet, filter: &str) -> Vec<ZoneRow> {
    let mut rows = Vec::new();
    let everything = filter.trim().is_empty();
    for (gi, g) in fleet.groups.iter().enumerate() {
        for (zi, z) in g.zones.iter().enumerate() {
            if everything || matches(filter, &group_text(g, &z.zone)) {
                rows.push((gi, zi));
            }
        }
    }
    rows
}

/// The first row to draw so that `selected` is visible in `height` rows.
pub fn scroll_offset(selected: usize, height: usize) -> usize {
    if height == 0 { selected } else { selected.saturating_sub(height - 1) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_needs_every_word() {
        assert!(matches("aws p1", "P1 aws Zone down"));
        assert!(!matches("aws p0", "P1 aws Zone down"));
        assert!(matches("", "anything"));
    }

    use crate::model::{Labels, Severity, SourceId};
    use chrono::{TimeZone, Utc};

    /// A small seeded generator (xorshift): the same seed, the same fleet.
    struct Rng(u64);
    impl Rng {
        fn below(&mut self, n: u64) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0 % n
        }
        fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
            xs[self.below(xs.len() as u64) as usize]
        }
    }

    const WORDS: [&str; 8] = ["Web", "db", "Zahlungsdienst", "支付", "ÄRGER", "queue", "web-1", "Lag"];

    /// Alerts from two sources, ids that repeat across them, equal start times,
    /// every state, labels or none, mixed case and non-ASCII text.
    fn fleet(seed: u64) -> Fleet {
        let mut r = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let t0 = Utc.with_ymd_and_hms(2026, 11, 30, 12, 0, 0).single().expect("time");
        let n = r.below(300) as usize;
        let alerts: Vec<Alert> = (0..n)
            .map(|i| Alert {
                id: format!("a{}", r.below(n as u64 / 2 + 1)),
                source: SourceId::new(if i % 2 == 0 { "am" } else { "aws" }),
                cloud: [None, Some(CloudKind::Aws), Some(CloudKind::Azure), Some(CloudKind::Aliyun)]
                    [r.below(4) as usize],
                severity: Severity::ALL[r.below(4) as usize],
                title: format!("{} {}", r.pick(&WORDS), r.pick(&WORDS)),
                resource: r.pick(&WORDS).to_string(),
                started_at: t0 - chrono::Duration::minutes(r.below(5) as i64),
                state: match r.below(4) {
                    0 => AlertState::Firing,
                    1 => AlertState::Resolved,
                    2 => AlertState::Inhibited { by: "RegionDown".into() },
                    _ => AlertState::Acknowledged { by: "Ärger".into(), at: t0, comment: "seen".into() },
                },
                route: r.pick(&WORDS).to_string(),
                labels: if r.below(2) == 0 {
                    Labels::default()
                } else {
                    [("team", r.pick(&WORDS))].into_iter().collect()
                },
            })
            .collect();
        Fleet { generation: seed, alerts: alerts.into(), ..Fleet::default() }
    }

    /// The rows as they were worked out before there was a Derived: every alert's
    /// text built and lowercased, filtered, then a stable sort.
    fn plain_rows(fleet: &Fleet, filter: &str, sort: AlertSort) -> Vec<usize> {
        let a: Vec<&Alert> = fleet.alerts.iter().collect();
        let text = |x: &Alert| {
            let mut t = format!(
                "{} {} {} {} {} {}",
                x.severity.label(),
                x.cloud.map_or("", |c| c.slug()),
                x.title,
                x.resource,
                x.state.label(),
                x.route
            );
            for (k, v) in x.labels.iter() {
                t.push_str(&format!(" {k}={v}"));
            }
            t
        };
        let mut rows: Vec<usize> = (0..a.len()).filter(|&i| matches(filter, &text(a[i]))).collect();
        match sort {
            AlertSort::Severity => rows.sort_by(|&x, &y| {
                a[x].severity
                    .cmp(&a[y].severity)
                    .then(a[y].started_at.cmp(&a[x].started_at))
                    .then(a[x].id.cmp(&a[y].id))
            }),
            AlertSort::Age => rows.sort_by(|&x, &y| a[y].started_at.cmp(&a[x].started_at).then(a[x].id.cmp(&a[y].id))),
            AlertSort::Cloud => rows.sort_by(|&x, &y| {
                a[x].cloud.cmp(&a[y].cloud).then(a[x].severity.cmp(&a[y].severity)).then(a[x].id.cmp(&a[y].id))
            }),
        }
        rows
    }

    #[test]
    fn derived_rows_are_the_plain_filter_and_sort_for_many_seeds() {
        let filters =
            ["", "web", "WEB db", "支付", "ärger", "team=支付", "p0 aws", "acked", "  lag  ", "nothing-matches"];
        for seed in 0..60 {
            let f = fleet(seed);
            let d = Derived::build(&f);
            assert_eq!(d.generation, seed);
            for filter in filters {
                for sort in [AlertSort::Severity, AlertSort::Age, AlertSort::Cloud] {
                    assert_eq!(
                        d.alert_rows(filter, sort, None),
                        plain_rows(&f, filter, sort),
                        "seed {seed} {filter:?} {sort:?}"
                    );
                }
            }
            assert_eq!(*d.counts(), AlertCounts::of(&f));
            assert_eq!(d.worst(), worst_open(&f, 10));
        }
    }

    #[test]
    fn a_fleet_with_the_same_alert_lists_keeps_the_index_and_a_changed_one_does_not() {
        let f = fleet(7);
        let d = Derived::build(&f);
        let mut same = f.clone();
        same.generation += 1;
        let kept = Derived::build_reusing(&same, Some(&d));
        assert!(kept.shares_index(&d));
        assert_eq!(kept.generation, same.generation);
        let mut changed = same.clone();
        if let Some(a) = changed.alerts.get_mut(0) {
            a.title = "zzz brand new".into();
        }
        let rebuilt = Derived::build_reusing(&changed, Some(&kept));
        assert!(!rebuilt.shares_index(&kept));
        assert_eq!(rebuilt.alert_rows("brand", AlertSort::Age, None), plain_rows(&changed, "brand", AlertSort::Age));
        assert_eq!(rebuilt.alert_rows("brand", AlertSort::Age, None).len(), 1);
    }

    #[test]
    fn a_filter_typed_letter_by_letter_narrows_to_the_same_rows_as_typed_at_once() {
        for seed in 0..60 {
            let f = fleet(seed);
            let d = Derived::build(&f);
            for typed in ["web-1 q", "zahlungsdienst ärg", "支付 p"] {
                let mut rows = d.alert_rows("", AlertSort::Cloud, None);
                let mut so_far = String::new();
                for c in typed.chars() {
                    so_far.push(c);
                    rows = d.alert_rows(&so_far, AlertSort::Cloud, Some(&rows));
                    assert_eq!(rows, plain_rows(&f, &so_far, AlertSort::Cloud), "seed {seed} {so_far:?}");
                }
            }
        }
    }

    #[test]
    fn offset_keeps_selection_visible() {
        assert_eq!(scroll_offset(0, 10), 0);
        assert_eq!(scroll_offset(9, 10), 0);
        assert_eq!(scroll_offset(10, 10), 1);
        assert_eq!(scroll_offset(99_999, 50), 99_950);
    }
}
