//! Redis going away, as the agent lives it: one warning when it goes, one line when it returns,
//! and retries spaced out meanwhile (250 ms doubling to 8 s), never a crash and never a flood.

use std::time::Duration;

/// The first pause after a failure.
const FIRST: Duration = Duration::from_millis(250);
/// The longest pause.
const LONGEST: Duration = Duration::from_secs(8);

/// One task's view of Redis's availability.
#[derive(Debug)]
pub struct Outage {
    what: &'static str,
    failures: u64,
    next: Duration,
}

impl Outage {
    /// A tracker for `what` (e.g. "requests", "beat"), named in its log lines.
    pub fn new(what: &'static str) -> Self {
        Self {
            what,
            failures: 0,
            next: FIRST,
        }
    }

    /// Notes a failure (logged when it is the first of an outage); returns how long to wait
    /// before trying again.
    pub fn failed(&mut self, error: &dyn std::fmt::Display) -> Duration {
        if self.failures == 0 && error.to_string().contains("NOPERM") {
            // Reachable, but this agent's Redis user may not do its work: say which fix it needs.
            tracing::warn!(
                what = self.what,
                %error,
                "redis refused this agent's user a command (print its user with `pulseboard acl --role agent`); retrying with backoff"
            );
        } else if self.failures == 0 {
            tracing::warn!(what = self.what, %error, "redis unreachable; retrying with backoff");
        } else {
            tracing::debug!(what = self.what, %error, failures = self.failures, "redis still unreachable");
        }
        self.failures += 1;
        let wait = self.next;
        self.next = (self.next * 2).min(LONGEST);
        wait
    }

    /// Notes a success (logged when it ends an outage).
    pub fn succeeded(&mut self) {
        if self.failures > 0 {
            tracing::info!(what = self.what, failures = self.failures, "redis is back");
        }
        self.failures = 0;
        self.next = FIRST;
    }

    /// Whether the last exchange failed.
    pub fn is_out(&self) -> bool {
        self.failures > 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_double_to_a_ceiling_and_reset_on_success() {
        let mut outage = Outage::new("test");
        let waits: Vec<_> = (0..8).map(|_| outage.failed(&"down")).collect();
        assert_eq!(waits[0], FIRST);
        assert_eq!(waits[1], FIRST * 2);
        assert_eq!(waits[7], LONGEST);
        assert!(outage.is_out());
        outage.succeeded();
        assert!(!outage.is_out());
        assert_eq!(outage.failed(&"down again"), FIRST);
    }
}
