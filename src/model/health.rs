use serde::Serialize;

/// Coarse health, ordered from best to worst so `max()` gives the worst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Default)]
pub enum Health {
    Ok,
    Degraded,
    Down,
    /// No data, or data too old to trust.
    #[default]
    Unknown,
}

impl Health {
    pub fn label(self) -> &'static str {
        match self {
            Health::Ok => "OK",
            Health::Degraded => "DEGRADED",
            Health::Down => "DOWN",
            Health::Unknown => "UNKNOWN",
        }
    }

    /// Worst of two, where Unknown ranks between Degraded and Down for a known estate:
    /// a missing figure should not hide a real outage, nor claim one.
    pub fn worst(self, other: Health) -> Health {
        fn rank(h: Health) -> u8 {
            match h {
                Health::Ok => 0,
                Health::Degraded => 1,
                Health::Unknown => 2,
                Health::Down => 3,
            }
        }
        if rank(other) > rank(self) { other } else { self }
    }
}
