use serde::Serialize;

/// Coarse health, ordered from best to worst so `max()` gives the worst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Default)]
pub enum Health {
    /// Not expected to serve: a group scaled to zero on purpose or switched off by
    /// its cloud. Nothing is wrong, and nothing is served from it.
    Idle,
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
            Health::Idle => "IDLE",
            Health::Ok => "OK",
            Health::Degraded => "DEGRADED",
            Health::Down => "DOWN",
            Health::Unknown => "UNKNOWN",
        }
    }

    /// Worst of two, where Unknown ranks between Degraded and Down for a known estate:
    /// a missing figure should not hide a real outage, nor claim one. Idle ranks
    /// below Ok: an idle group beside a serving one says nothing about the service.
    pub fn worst(self, other: Health) -> Health {
        fn rank(h: Health) -> u8 {
            match h {
                Health::Idle => 0,
                Health::Ok => 1,
                Health::Degraded => 2,
                Health::Unknown => 3,
                Health::Down => 4,
            }
        }
        if rank(other) > rank(self) { other } else { self }
    }
}

#[cfg(test)]
mod tests {
    use super::Health;

    #[test]
    fn idle_gives_way_to_any_judgement_and_unknown_never_hides_down() {
        assert_eq!(Health::Idle.worst(Health::Ok), Health::Ok);
        assert_eq!(Health::Ok.worst(Health::Idle), Health::Ok);
        assert_eq!(Health::Idle.worst(Health::Idle), Health::Idle);
        assert_eq!(Health::Idle.worst(Health::Unknown), Health::Unknown);
        assert_eq!(Health::Degraded.worst(Health::Unknown), Health::Unknown);
        assert_eq!(Health::Unknown.worst(Health::Down), Health::Down);
    }
}
