//! Finding keys whose names are not known in advance: the per-consumer in-flight lists
//! (`processing:<queue>:*`) and heartbeats of workers missing from the configuration.
//!
//! The seed SCANned the whole keyspace per queue on every request, so its cost grew with every
//! unrelated key in Redis. Here a sweep is spread over refreshes: each refresh carries at most one
//! `SCAN cursor MATCH pattern COUNT n` step per pattern inside its single pipeline, and a new sweep
//! starts only every `every`. A refresh therefore costs the same round trip and a bounded amount
//! of Redis work whatever the size of the keyspace; a new key is found within one sweep.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use pulseboard_shared::heartbeat::name_from_heartbeat_key;

/// The patterns swept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pattern {
    /// `processing:*`: in-flight lists, one per consumer.
    Processing,
    /// `worker:*:heartbeat`: every worker that beats, registered or not.
    Heartbeat,
}

impl Pattern {
    const ALL: [Self; 2] = [Self::Processing, Self::Heartbeat];

    fn index(self) -> usize {
        self as usize
    }

    /// The SCAN MATCH glob.
    pub fn glob(self) -> &'static str {
        match self {
            Self::Processing => "processing:*",
            Self::Heartbeat => "worker:*:heartbeat",
        }
    }
}

/// One SCAN step to send in this refresh.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScanStep {
    /// Which sweep it advances.
    pub pattern: Pattern,
    /// Where that sweep stands.
    pub cursor: u64,
    /// Keys to examine (SCAN's COUNT).
    pub count: u32,
}

/// How long a discovered key stays watched after a sweep last saw it: an unregistered worker
/// stays listed (as dead), and a consumer's in-flight list keeps being counted while it is empty
/// between jobs (Redis deletes empty lists, and a job may be shorter than a sweep).
pub const FORGET_AFTER: Duration = Duration::from_secs(600);

/// The discovery state carried from one refresh to the next.
#[derive(Debug)]
pub struct Discovery {
    every: Duration,
    count: u32,
    /// When the current (or last) sweep started; `None` before the first.
    started: Option<Instant>,
    /// Cursors of the sweeps in progress, by [`Pattern`] (`None` once its sweep is done).
    cursors: [Option<u64>; 2],
    /// In-flight list keys, and when a sweep last saw each.
    processing: BTreeMap<String, Instant>,
    /// Worker names with a heartbeat key, and when a sweep last saw each.
    beating: BTreeMap<String, Instant>,
    /// By [`Pattern`]: whether one whole sweep has been absorbed.
    swept: [bool; 2],
}

impl Discovery {
    /// A discovery that starts a sweep every `every`, examining `count` keys per step.
    pub fn new(every: Duration, count: u32) -> Self {
        Self {
            every,
            count,
            started: None,
            cursors: [None; 2],
            processing: BTreeMap::new(),
            beating: BTreeMap::new(),
            swept: [false; 2],
        }
    }

    /// Whether a whole sweep of every pattern has been seen: before that, in-flight lists and
    /// unregistered workers may be missing, so no snapshot should be published.
    pub fn warm(&self) -> bool {
        self.swept.iter().all(|s| *s)
    }

    /// The SCAN steps this refresh should carry (none between sweeps).
    pub fn steps(&mut self, now: Instant) -> Vec<ScanStep> {
        let due = self
            .started
            .is_none_or(|t| now.duration_since(t) >= self.every);
        if self.cursors.iter().all(Option::is_none) && due {
            self.started = Some(now);
            self.cursors = [Some(0); 2];
        }
        Pattern::ALL
            .into_iter()
            .filter_map(|pattern| {
                let cursor = self.cursors[pattern.index()]?;
                Some(ScanStep {
                    pattern,
                    cursor,
                    count: self.count,
                })
            })
            .collect()
    }

    /// Takes a SCAN reply for `pattern`: the next cursor and the keys it returned.
    pub fn absorb(&mut self, pattern: Pattern, next_cursor: u64, keys: Vec<String>, now: Instant) {
        let found = match pattern {
            Pattern::Processing => &mut self.processing,
            Pattern::Heartbeat => &mut self.beating,
        };
        for key in keys {
            let name = match pattern {
                Pattern::Processing => Some(key.as_str()),
                Pattern::Heartbeat => name_from_heartbeat_key(&key),
            };
            if let Some(name) = name {
                found.insert(name.to_owned(), now);
            }
        }
        if next_cursor != 0 {
            self.cursors[pattern.index()] = Some(next_cursor);
            return;
        }
        self.cursors[pattern.index()] = None;
        self.swept[pattern.index()] = true;
        found.retain(|_, seen| now.duration_since(*seen) < FORGET_AFTER);
    }

    /// A sweep was cut short (Redis failed): restart it at the next due time.
    pub fn abandon_sweep(&mut self) {
        self.cursors = [None; 2];
    }

    /// In-flight lists a recent sweep saw.
    pub fn processing_keys(&self) -> impl Iterator<Item = &String> {
        self.processing.keys()
    }

    /// Names of workers whose heartbeat key a recent sweep saw.
    pub fn beating_workers(&self) -> impl Iterator<Item = &str> {
        self.beating.keys().map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sweeps_step_through_cursors_then_rest() {
        let t0 = Instant::now();
        let mut d = Discovery::new(Duration::from_secs(5), 100);
        let steps = d.steps(t0);
        assert_eq!(steps.len(), 2);
        assert!(steps.iter().all(|s| s.cursor == 0 && s.count == 100));
        d.absorb(
            Pattern::Processing,
            42,
            vec!["processing:queue:a:1".into()],
            t0,
        );
        d.absorb(
            Pattern::Heartbeat,
            0,
            vec!["worker:stray:heartbeat".into()],
            t0,
        );
        assert!(!d.warm(), "the in-flight sweep is not over");
        // The in-flight list is usable at once, before its sweep ends.
        assert!(d.processing_keys().any(|k| k == "processing:queue:a:1"));
        assert_eq!(d.beating_workers().collect::<Vec<_>>(), ["stray"]);
        // Only the unfinished sweep continues.
        let steps = d.steps(t0 + Duration::from_secs(1));
        assert_eq!(
            steps,
            [ScanStep {
                pattern: Pattern::Processing,
                cursor: 42,
                count: 100
            }]
        );
        d.absorb(Pattern::Processing, 0, vec![], t0);
        assert!(d.warm());
        // Finished and not yet due: no SCAN at all.
        assert!(d.steps(t0 + Duration::from_secs(2)).is_empty());
        assert_eq!(d.steps(t0 + Duration::from_secs(5)).len(), 2);
    }

    #[test]
    fn in_flight_lists_are_kept_between_jobs_then_forgotten() {
        let t0 = Instant::now();
        let mut d = Discovery::new(Duration::from_secs(1), 10);
        d.steps(t0);
        d.absorb(
            Pattern::Processing,
            0,
            vec!["processing:queue:a:1".into()],
            t0,
        );
        // The list is empty (so gone from Redis) during the next sweep: still counted.
        let t1 = t0 + Duration::from_secs(1);
        d.steps(t1);
        d.absorb(
            Pattern::Processing,
            0,
            vec!["processing:queue:a:2".into()],
            t1,
        );
        assert_eq!(d.processing_keys().count(), 2);
        // Unseen for FORGET_AFTER: dropped.
        let later = t0 + FORGET_AFTER;
        d.steps(later);
        d.absorb(Pattern::Processing, 0, vec![], later);
        assert_eq!(
            d.processing_keys().collect::<Vec<_>>(),
            ["processing:queue:a:2"]
        );
    }

    #[test]
    fn unregistered_workers_are_forgotten_after_a_while() {
        let t0 = Instant::now();
        let mut d = Discovery::new(Duration::from_secs(1), 10);
        d.steps(t0);
        d.absorb(
            Pattern::Heartbeat,
            0,
            vec!["worker:stray:heartbeat".into()],
            t0,
        );
        let later = t0 + FORGET_AFTER;
        d.steps(later);
        d.absorb(Pattern::Heartbeat, 0, vec![], later);
        assert_eq!(d.beating_workers().count(), 0);
    }
}
