//! Default severity maps: each alerting system's own words to P0..P3. A source's
//! `severity_map` starts from its system's map here and may replace it.

use std::collections::BTreeMap;

use crate::model::Severity::{self, P0, P1, P2, P3};

/// A source's words for severity → opsdeck's P0..P3.
pub type SeverityMap = BTreeMap<String, Severity>;

/// The severity words in common use (Prometheus mixins, PagerDuty), for an
/// Alertmanager's severity label (matched lowercased).
pub const ALERTMANAGER: &[(&str, Severity)] = &[
    ("critical", P0),
    ("page", P0),
    ("error", P1),
    ("high", P1),
    ("warning", P2),
    ("medium", P2),
    ("info", P3),
    ("low", P3),
    ("none", P3),
];

/// Azure Monitor alert severities Sev0..Sev4 (Sev4 is "verbose": P3 too).
pub const AZURE: &[(&str, Severity)] = &[("Sev0", P0), ("Sev1", P1), ("Sev2", P2), ("Sev3", P3), ("Sev4", P3)];

/// Alibaba CloudMonitor alert levels P1..P4 (its P1 is the most severe).
pub const CLOUDMONITOR: &[(&str, Severity)] = &[("P1", P0), ("P2", P1), ("P3", P2), ("P4", P3)];

/// One of the tables above as a map a config can hold.
pub fn map(table: &[(&str, Severity)]) -> SeverityMap {
    table.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_map_reaches_the_most_and_least_severe_and_names_each_word_once() {
        for table in [ALERTMANAGER, AZURE, CLOUDMONITOR] {
            let m = map(table);
            assert_eq!(m.len(), table.len(), "a word twice in {table:?}");
            assert_eq!(m.values().min(), Some(&P0));
            assert_eq!(m.values().max(), Some(&P3));
        }
        assert_eq!(map(CLOUDMONITOR).get("P1"), Some(&P0), "CloudMonitor's P1 is opsdeck's P0");
    }
}
