//! Sources over HTTP: a misbehaving front (tests/support/faulty.rs) before a
//! real or stand-in server, which it can also kill and start again; and the
//! words each client's stale reason must hold for each fault.

use std::sync::Arc;
use std::time::{Duration, Instant};

use opsdeck::providers::Provider;

use super::matrix::{Fault, Target};
use crate::support::faulty::{Faulty, Mode};

/// Kills and revives the server behind the front.
pub trait Upstream: Send {
    fn kill(&mut self);
    fn revive(&mut self);
}

pub struct HttpTarget {
    pub kind: &'static str,
    pub provider: Arc<dyn Provider>,
    pub front: Faulty,
    pub timeout: Duration,
    /// This cloud's throttling dialect.
    pub throttle: Mode,
    pub upstream: Box<dyn Upstream>,
    pub expect: fn(Fault) -> Vec<&'static str>,
}

/// The words a stale reason must hold (one of them), per fault: for the
/// Prometheus and Alertmanager sources (opsdeck's own HTTP client).
pub fn prometheus_words(f: Fault) -> Vec<&'static str> {
    match f {
        Fault::Refused | Fault::Killed => vec!["unreachable", "cannot connect"],
        Fault::Hang | Fault::Trickle => vec!["timed out"],
        Fault::Http(_) => vec![],
        Fault::Throttle => vec!["throttled"],
        Fault::Truncated | Fault::Malformed | Fault::WrongShape => vec!["unreadable", "bad response"],
    }
}

/// ...and for the sources read through a cloud SDK (AWS, Azure), whose transport
/// errors on a cut body may surface either way.
pub fn sdk_words(f: Fault) -> Vec<&'static str> {
    match f {
        Fault::Refused | Fault::Killed => vec!["unreachable"],
        Fault::Hang | Fault::Trickle => vec!["timed out"],
        Fault::Http(_) => vec![],
        Fault::Throttle => vec!["throttled"],
        Fault::Truncated | Fault::Malformed | Fault::WrongShape => vec!["bad response", "unreachable"],
    }
}

impl Target for HttpTarget {
    fn kind(&self) -> &'static str {
        self.kind
    }
    fn provider(&self) -> Arc<dyn Provider> {
        self.provider.clone()
    }
    fn timeout(&self) -> Duration {
        self.timeout
    }
    fn inject(&mut self, f: Fault) {
        let mode = match f {
            Fault::Refused => Mode::Down,
            Fault::Hang => Mode::Hang,
            Fault::Trickle => Mode::Trickle,
            Fault::Http(502) => Mode::Status502,
            Fault::Http(503) => Mode::Status503,
            Fault::Http(_) => Mode::Status500,
            Fault::Throttle => self.throttle,
            Fault::Truncated => Mode::Truncated,
            Fault::Malformed => Mode::Malformed,
            Fault::WrongShape => Mode::Wrong,
            Fault::Killed => {
                // Kill it while polls are under way (the interval is 100 ms; wait for one to arrive).
                let seen = self.front.total();
                let deadline = Instant::now() + Duration::from_secs(10);
                tokio::task::block_in_place(|| {
                    while self.front.total() == seen && Instant::now() < deadline {
                        std::thread::sleep(Duration::from_millis(1));
                    }
                    self.upstream.kill()
                });
                return;
            }
        };
        self.front.set(mode);
    }
    fn heal(&mut self, f: Fault) {
        if f == Fault::Killed {
            tokio::task::block_in_place(|| self.upstream.revive());
        }
        self.front.set(Mode::Forward);
    }
    fn expect(&self, f: Fault) -> Vec<String> {
        let mut w: Vec<String> = (self.expect)(f).into_iter().map(String::from).collect();
        if let Fault::Http(code) = f {
            w.push(format!("HTTP {code}"));
        }
        w
    }
    fn attempts(&self) -> usize {
        self.front.total()
    }
}
