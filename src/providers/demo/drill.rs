//! Chaos drills on the demo estate: what an operator can break, and when it was broken.

use std::fmt;

use chrono::{DateTime, Utc};

use super::estate::EstateSpec;
use crate::model::CloudKind;

#[derive(Debug, Clone, PartialEq)]
pub enum Drill {
    /// Every instance in one zone of one cloud disappears.
    AzOutage { cloud: CloudKind, zone: String },
    /// The database in that cloud stops accepting writes and replicating.
    DbPrimaryDown { cloud: CloudKind },
    /// Extra round-trip latency on the link between two clouds.
    LinkLatency { a: CloudKind, b: CloudKind, ms: f64 },
}

impl Drill {
    /// How long after the fault a real rule would fire on it, so the demo's
    /// time to detect is not zero: a zone lost fails two health checks 10 s
    /// apart; a primary down fails its first write probe; a slow link is over its
    /// target for three 10 s evaluation periods.
    pub fn detect_secs(&self) -> i64 {
        match self {
            Drill::AzOutage { .. } => 20,
            Drill::DbPrimaryDown { .. } => 10,
            Drill::LinkLatency { .. } => 30,
        }
    }
}

impl fmt::Display for Drill {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Drill::AzOutage { cloud, zone } => write!(f, "az-outage {}/{zone}", cloud.slug()),
            Drill::DbPrimaryDown { cloud } => write!(f, "db-primary-down {}", cloud.slug()),
            Drill::LinkLatency { a, b, ms } => {
                write!(f, "link-latency {}-{} {ms}", a.slug(), b.slug())
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum DrillCommand {
    Start(Drill),
    Clear,
}

/// Names of the drill kinds, for completion and help.
pub const DRILL_KINDS: [&str; 4] = ["az-outage", "db-primary-down", "link-latency", "clear"];

impl DrillCommand {
    /// Parse the arguments of `:drill ...`, checking targets against the estate.
    pub fn parse(args: &[&str], estate: &EstateSpec) -> Result<DrillCommand, String> {
        let cloud = |s: &str| -> Result<CloudKind, String> {
            let kind = CloudKind::from_slug(s).ok_or_else(|| format!("unknown cloud '{s}' (aws, azure, aliyun)"))?;
            estate.cloud(kind).map(|_| kind).ok_or_else(|| format!("cloud '{s}' is not in the estate"))
        };
        match args {
            ["clear"] => Ok(DrillCommand::Clear),
            ["az-outage", target] => {
                let (c, zone) = target.split_once('/').ok_or("usage: drill az-outage <cloud>/<zone>")?;
                let kind = cloud(c)?;
                let spec = estate.cloud(kind).ok_or("cloud not in the estate")?;
                if !spec.zones.iter().any(|z| z == zone) {
                    return Err(format!("{c} has no zone '{zone}' (zones: {})", spec.zones.join(", ")));
                }
                Ok(DrillCommand::Start(Drill::AzOutage { cloud: kind, zone: zone.to_string() }))
            }
            ["db-primary-down", c] => Ok(DrillCommand::Start(Drill::DbPrimaryDown { cloud: cloud(c)? })),
            ["link-latency", pair, ms] => {
                let (a, b) = pair.split_once('-').ok_or("usage: drill link-latency <cloud>-<cloud> <ms>")?;
                let (a, b) = (cloud(a)?, cloud(b)?);
                if a == b {
                    return Err("link-latency needs two different clouds".into());
                }
                let ms: f64 = ms.parse().map_err(|_| format!("'{ms}' is not a number of milliseconds"))?;
                if !(ms.is_finite() && ms > 0.0 && ms <= 10_000.0) {
                    return Err("latency must be between 0 and 10000 ms".into());
                }
                Ok(DrillCommand::Start(Drill::LinkLatency { a, b, ms }))
            }
            [] => Err("usage: drill az-outage|db-primary-down|link-latency|clear ...".into()),
            [kind, ..] if !DRILL_KINDS.contains(kind) => {
                Err(format!("unknown drill '{kind}' (az-outage, db-primary-down, link-latency, clear)"))
            }
            [kind, ..] => Err(match *kind {
                "az-outage" => "usage: drill az-outage <cloud>/<zone>".into(),
                "db-primary-down" => "usage: drill db-primary-down <cloud>".into(),
                "link-latency" => "usage: drill link-latency <cloud>-<cloud> <ms>".into(),
                _ => "usage: drill clear".into(),
            }),
        }
    }
}

/// One drill's life: started, and (once cleared) recovering.
#[derive(Debug, Clone, PartialEq)]
pub struct DrillEntry {
    pub drill: Drill,
    pub started_at: DateTime<Utc>,
    pub cleared_at: Option<DateTime<Utc>>,
}

/// Seconds an effect takes to fade after `clear` (e-folding time).
pub const RECOVERY_TAU_SECS: f64 = 10.0;
/// After this many taus an effect is gone for good.
const RECOVERY_HORIZON: f64 = 6.0;

impl DrillEntry {
    /// Seconds the fault has been in force (stops counting when cleared).
    pub fn active_secs(&self, now: DateTime<Utc>) -> f64 {
        let end = self.cleared_at.map_or(now, |c| c.min(now));
        ((end - self.started_at).num_milliseconds() as f64 / 1000.0).max(0.0)
    }
    /// 1 while active, decaying to 0 after clear.
    pub fn intensity(&self, now: DateTime<Utc>) -> f64 {
        if now < self.started_at {
            return 0.0;
        }
        match self.cleared_at {
            None => 1.0,
            Some(c) => {
                let since = ((now - c).num_milliseconds() as f64 / 1000.0).max(0.0);
                if since >= RECOVERY_TAU_SECS * RECOVERY_HORIZON { 0.0 } else { (-since / RECOVERY_TAU_SECS).exp() }
            }
        }
    }
    pub fn is_active(&self) -> bool {
        self.cleared_at.is_none()
    }
}

/// All drills of a demo run. Shared between the UI side (which starts and clears
/// drills) and the demo provider (which reads them when polled).
#[derive(Debug, Clone, Default)]
pub struct DrillBook {
    entries: Vec<DrillEntry>,
}

impl DrillBook {
    pub fn apply(&mut self, cmd: DrillCommand, now: DateTime<Utc>) -> Result<String, String> {
        self.prune(now);
        match cmd {
            DrillCommand::Start(drill) => {
                if self.entries.iter().any(|e| e.is_active() && e.drill == drill) {
                    return Err(format!("drill {drill} is already running"));
                }
                let msg = format!("drill started: {drill}");
                self.entries.push(DrillEntry { drill, started_at: now, cleared_at: None });
                Ok(msg)
            }
            DrillCommand::Clear => {
                let mut n = 0;
                for e in self.entries.iter_mut().filter(|e| e.is_active()) {
                    e.cleared_at = Some(now);
                    n += 1;
                }
                if n == 0 {
                    Err("no drill is running".into())
                } else {
                    Ok(format!("cleared {n} drill(s); the estate is recovering"))
                }
            }
        }
    }

    /// Drop drills whose effects have fully faded, so the book cannot grow forever.
    fn prune(&mut self, now: DateTime<Utc>) {
        self.entries.retain(|e| e.intensity(now) > 0.0 || now < e.started_at);
    }

    pub fn entries(&self) -> &[DrillEntry] {
        &self.entries
    }

    pub fn active(&self) -> impl Iterator<Item = &DrillEntry> {
        self.entries.iter().filter(|e| e.is_active())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn estate() -> EstateSpec {
        EstateSpec::embedded().expect("embedded estate")
    }

    #[test]
    fn parses_each_drill() {
        let e = estate();
        assert_eq!(
            DrillCommand::parse(&["az-outage", "aws/us-west-1a"], &e),
            Ok(DrillCommand::Start(Drill::AzOutage { cloud: CloudKind::Aws, zone: "us-west-1a".into() }))
        );
        assert_eq!(
            DrillCommand::parse(&["db-primary-down", "aws"], &e),
            Ok(DrillCommand::Start(Drill::DbPrimaryDown { cloud: CloudKind::Aws }))
        );
        assert_eq!(
            DrillCommand::parse(&["link-latency", "aws-azure", "250"], &e),
            Ok(DrillCommand::Start(Drill::LinkLatency { a: CloudKind::Aws, b: CloudKind::Azure, ms: 250.0 }))
        );
        assert_eq!(DrillCommand::parse(&["clear"], &e), Ok(DrillCommand::Clear));
    }

    #[test]
    fn refuses_bad_targets_with_reasons() {
        let e = estate();
        let err = DrillCommand::parse(&["az-outage", "aws/eu-west-1a"], &e).expect_err("bad zone");
        assert!(err.contains("us-west-1a"), "{err}");
        assert!(DrillCommand::parse(&["db-primary-down", "gcp"], &e).expect_err("bad cloud").contains("unknown cloud"));
        assert!(DrillCommand::parse(&["link-latency", "aws-aws", "5"], &e).is_err());
        assert!(DrillCommand::parse(&["link-latency", "aws-azure", "NaN"], &e).is_err());
        assert!(DrillCommand::parse(&["meteor"], &e).expect_err("unknown").contains("unknown drill"));
    }

    #[test]
    fn book_refuses_duplicates_and_prunes_after_recovery() {
        let t0 = crate::clock::reference_instant();
        let mut book = DrillBook::default();
        let d = Drill::DbPrimaryDown { cloud: CloudKind::Aws };
        book.apply(DrillCommand::Start(d.clone()), t0).expect("starts");
        assert!(book.apply(DrillCommand::Start(d), t0).is_err());
        book.apply(DrillCommand::Clear, t0 + chrono::Duration::seconds(30)).expect("clears");
        assert!(book.apply(DrillCommand::Clear, t0 + chrono::Duration::seconds(31)).is_err());
        assert_eq!(book.entries().len(), 1, "still recovering");
        let _ = book.apply(DrillCommand::Clear, t0 + chrono::Duration::seconds(600));
        assert!(book.entries().is_empty(), "faded drills are pruned");
    }
}
