//! What the agent remembers between requests, in its own memory (not in Redis, which anyone
//! with a worker's access can write): the request ids it handled within the signing window
//! ([`Seen`]: a copy of a signed request is refused as replayed) and the restarts it ran per
//! worker in the last hour ([`Churn`]: `--max-restarts-per-hour`, whatever the requests say).
//!
//! Both are pure, given the time, and bounded: ids are forgotten once their request could no
//! longer be taken anyway (its time plus [`REQUEST_WINDOW_S`]), and at most [`MAX_SEEN`] are
//! kept; restarts are counted only for allow-listed workers and forgotten after an hour.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use pulseboard_shared::agent::{Refusal, REQUEST_WINDOW_S};

/// The most request ids remembered (far more than a fleet sends in a window).
pub const MAX_SEEN: usize = 100_000;

/// How long a restart counts against its worker's limit.
pub const CHURN_PERIOD: Duration = Duration::from_secs(3600);

/// The request ids taken within the window, each with the stream entry that carried it.
#[derive(Debug, Default)]
pub struct Seen {
    ids: HashMap<String, Taken>,
    /// Ids in the order they were remembered, with when each may be forgotten.
    order: VecDeque<(i64, String)>,
}

#[derive(Debug)]
struct Taken {
    entry: String,
    forget_at_ms: i64,
}

impl Seen {
    /// Whether request `id`, carried by stream entry `entry`, is new: refused as replayed when
    /// another entry carried it. The same entry read again (after a restart, or a lost reply)
    /// is the same request, not a copy.
    pub fn check(&self, id: &str, entry: &str, now_ms: i64) -> Result<(), Refusal> {
        match self.ids.get(id) {
            Some(t) if t.entry != entry && t.forget_at_ms > now_ms => Err(Refusal::Replayed),
            _ => Ok(()),
        }
    }

    /// Remembers request `id` of time `at_ms`, carried by `entry`, until it could no longer be
    /// taken (then its time refuses it). The first entry to carry an id keeps it.
    pub fn remember(&mut self, id: &str, entry: &str, at_ms: i64, now_ms: i64) {
        self.forget(now_ms);
        if self.ids.contains_key(id) {
            return;
        }
        let forget_at_ms = at_ms.saturating_add(REQUEST_WINDOW_S as i64 * 1000 + 1000);
        self.ids.insert(
            id.to_owned(),
            Taken {
                entry: entry.to_owned(),
                forget_at_ms,
            },
        );
        self.order.push_back((forget_at_ms, id.to_owned()));
        while self.order.len() > MAX_SEEN {
            if let Some((_, oldest)) = self.order.pop_front() {
                self.ids.remove(&oldest);
            }
        }
    }

    /// Forgets the ids whose requests can no longer be taken.
    fn forget(&mut self, now_ms: i64) {
        while let Some((forget_at_ms, _)) = self.order.front() {
            if *forget_at_ms > now_ms {
                break;
            }
            let (_, id) = self.order.pop_front().expect("just looked");
            self.ids.remove(&id);
        }
    }

    /// How many ids are remembered.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

/// The restarts run per worker in the last hour, and the limit.
#[derive(Debug)]
pub struct Churn {
    max: u32,
    runs: HashMap<String, VecDeque<Instant>>,
}

impl Churn {
    /// At most `max` restarts per worker per hour.
    pub fn new(max: u32) -> Self {
        Self {
            max,
            runs: HashMap::new(),
        }
    }

    /// Whether `worker` may be restarted at `now`.
    pub fn check(&self, worker: &str, now: Instant) -> Result<(), Refusal> {
        let recent = self.runs.get(worker).map_or(0, |runs| {
            runs.iter()
                .filter(|t| now.saturating_duration_since(**t) < CHURN_PERIOD)
                .count()
        });
        if recent >= self.max as usize {
            return Err(Refusal::ChurnLimit { max: self.max });
        }
        Ok(())
    }

    /// Counts a restart of `worker` at `now`.
    pub fn record(&mut self, worker: &str, now: Instant) {
        let runs = self.runs.entry(worker.to_owned()).or_default();
        while runs
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) >= CHURN_PERIOD)
        {
            runs.pop_front();
        }
        runs.push_back(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_796_083_200_000;
    const WINDOW_MS: i64 = REQUEST_WINDOW_S as i64 * 1000;

    #[test]
    fn a_copy_of_a_taken_request_is_refused_within_the_window() {
        let mut seen = Seen::default();
        assert_eq!(seen.check("r-1", "1-0", T0), Ok(()));
        seen.remember("r-1", "1-0", T0, T0);
        assert_eq!(
            seen.check("r-1", "1-0", T0 + 10),
            Ok(()),
            "the same entry read again"
        );
        assert_eq!(seen.check("r-1", "2-0", T0 + 10), Err(Refusal::Replayed));
        seen.remember("r-1", "2-0", T0, T0 + 10);
        assert_eq!(
            seen.check("r-1", "1-0", T0 + 20),
            Ok(()),
            "the first entry keeps the id"
        );
        assert_eq!(seen.check("r-2", "3-0", T0), Ok(()));
        // Once the request's window is over, the id is forgotten (its time refuses it then).
        seen.remember("r-3", "4-0", T0 + WINDOW_MS, T0 + WINDOW_MS + 2000);
        assert_eq!(seen.len(), 1, "r-1 forgotten, r-3 kept");
        assert_eq!(seen.check("r-1", "5-0", T0 + WINDOW_MS + 2000), Ok(()));
    }

    #[test]
    fn the_memory_is_bounded() {
        let mut seen = Seen::default();
        for i in 0..MAX_SEEN + 10 {
            seen.remember(&format!("r-{i}"), &format!("{i}-0"), T0, T0);
        }
        assert_eq!(seen.len(), MAX_SEEN);
        assert!(!seen.is_empty());
    }

    #[test]
    fn a_worker_is_restarted_at_most_max_times_an_hour() {
        let mut churn = Churn::new(2);
        let t0 = Instant::now();
        assert_eq!(churn.check("w", t0), Ok(()));
        churn.record("w", t0);
        churn.record("w", t0 + Duration::from_secs(60));
        assert_eq!(
            churn.check("w", t0 + Duration::from_secs(120)),
            Err(Refusal::ChurnLimit { max: 2 })
        );
        assert_eq!(
            churn.check("other", t0 + Duration::from_secs(120)),
            Ok(()),
            "per worker"
        );
        assert_eq!(
            churn.check("w", t0 + CHURN_PERIOD),
            Ok(()),
            "the first restart left the hour"
        );
        churn.record("w", t0 + CHURN_PERIOD);
        assert_eq!(
            churn.check("w", t0 + CHURN_PERIOD + Duration::from_secs(1)),
            Err(Refusal::ChurnLimit { max: 2 })
        );
    }
}
