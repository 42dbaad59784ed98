//! Rows derived from a Fleet for the list panes: filtered and sorted once per
//! change (new Fleet, new filter, new sort), never per frame, so drawing a list
//! costs only its visible rows however long it is.

use std::collections::BTreeMap;

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

fn alert_text(a: &Alert) -> String {
    let mut text = format!(
        "{} {} {} {} {} {}",
        a.severity.label(),
        a.cloud.map_or("", |c| c.slug()),
        a.title,
        a.resource,
        a.state.label(),
        a.route
    );
    // "severity=critical" or "team=payments" typed in the filter finds labelled alerts.
    for (k, v) in &a.labels {
        text.push_str(&format!(" {k}={v}"));
    }
    text
}

/// Indices into `fleet.alerts`, filtered and sorted.
pub fn alert_rows(fleet: &Fleet, filter: &str, sort: AlertSort) -> Vec<usize> {
    let mut rows: Vec<usize> =
        (0..fleet.alerts.len()).filter(|&i| matches(filter, &alert_text(&fleet.alerts[i]))).collect();
    let a = &fleet.alerts;
    match sort {
        AlertSort::Severity => rows.sort_by(|&x, &y| {
            a[x].severity.cmp(&a[y].severity).then(a[y].started_at.cmp(&a[x].started_at)).then(a[x].id.cmp(&a[y].id))
        }),
        AlertSort::Age => rows.sort_by(|&x, &y| a[y].started_at.cmp(&a[x].started_at).then(a[x].id.cmp(&a[y].id))),
        AlertSort::Cloud => rows.sort_by(|&x, &y| {
            a[x].cloud.cmp(&a[y].cloud).then(a[x].severity.cmp(&a[y].severity)).then(a[x].id.cmp(&a[y].id))
        }),
    }
    rows
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
    let a = &fleet.alerts;
    let mut open: Vec<usize> = (0..a.len()).filter(|&i| a[i].state.is_open()).collect();
    let order = |&x: &usize, &y: &usize| {
        a[x].severity.cmp(&a[y].severity).then(a[y].started_at.cmp(&a[x].started_at)).then(a[x].id.cmp(&a[y].id))
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
    for (gi, g) in fleet.groups.iter().enumerate() {
        for (zi, z) in g.zones.iter().enumerate() {
            if matches(filter, &group_text(g, &z.zone)) {
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

    #[test]
    fn offset_keeps_selection_visible() {
        assert_eq!(scroll_offset(0, 10), 0);
        assert_eq!(scroll_offset(9, 10), 0);
        assert_eq!(scroll_offset(10, 10), 1);
        assert_eq!(scroll_offset(99_999, 50), 99_950);
    }
}
