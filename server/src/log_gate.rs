//! One log line per reason and period, not one per event: a flood of forged entries (or of
//! anything else someone who can write Redis may write) costs a line a minute, with the count
//! of what was not logged.

use std::collections::HashMap;
use std::hash::Hash;
use std::time::{Duration, Instant};

/// How often each reason may be logged by default.
pub const EVERY: Duration = Duration::from_secs(60);

/// Which events of each reason are logged.
#[derive(Debug)]
pub struct LogGate<K> {
    every: Duration,
    reasons: HashMap<K, Reason>,
}

#[derive(Debug)]
struct Reason {
    logged_at: Instant,
    quiet: u64,
}

impl<K: Hash + Eq> LogGate<K> {
    /// A gate letting one event of each reason through per `every`.
    pub fn new(every: Duration) -> Self {
        Self {
            every,
            reasons: HashMap::new(),
        }
    }

    /// Whether an event of `reason` at `now` is logged: `Some(n)` with the number of events of
    /// that reason not logged since its last line, or `None` to stay quiet. Keep the reasons a
    /// small set (an enum's variants), not text from the events.
    pub fn pass(&mut self, reason: K, now: Instant) -> Option<u64> {
        match self.reasons.get_mut(&reason) {
            Some(r) if now.saturating_duration_since(r.logged_at) < self.every => {
                r.quiet += 1;
                None
            }
            Some(r) => {
                let quiet = r.quiet;
                r.logged_at = now;
                r.quiet = 0;
                Some(quiet)
            }
            None => {
                self.reasons.insert(
                    reason,
                    Reason {
                        logged_at: now,
                        quiet: 0,
                    },
                );
                Some(0)
            }
        }
    }
}

impl<K: Hash + Eq> Default for LogGate<K> {
    fn default() -> Self {
        Self::new(EVERY)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flood_is_one_line_per_reason_and_period_with_the_count_of_the_rest() {
        let mut gate = LogGate::new(Duration::from_secs(60));
        let t0 = Instant::now();
        assert_eq!(gate.pass("unsigned", t0), Some(0));
        let quiet = (1..=1000)
            .filter(|i| {
                gate.pass("unsigned", t0 + Duration::from_millis(*i))
                    .is_none()
            })
            .count();
        assert_eq!(quiet, 1000);
        assert_eq!(gate.pass("stale", t0), Some(0), "each reason its own line");
        assert_eq!(
            gate.pass("unsigned", t0 + Duration::from_secs(61)),
            Some(1000),
            "the next line says how many were not logged"
        );
        assert_eq!(gate.pass("unsigned", t0 + Duration::from_secs(62)), None);
    }
}
