//! Finding keys whose names are not known in advance: the per-consumer in-flight lists
//! (`processing:<queue>:*`) and heartbeats of workers missing from the configuration.
//!
//! The seed SCANned the whole keyspace per queue on every request, so its cost grew with every
//! unrelated key in Redis. Here a sweep is spread over refreshes: each refresh carries at most one
//! `SCAN cursor MATCH pattern COUNT n` step per pattern inside its single pipeline, and a new sweep
//! starts only every `every`. A refresh therefore costs the same round trip and a bounded amount
//! of Redis work whatever the size of the keyspace; a new key is found within one sweep.
//!
//! Anyone who can write Redis can write heartbeat keys, so what a sweep keeps is bounded: a key
//! whose name breaks the name rule is skipped, configured workers are not kept here at all (they
//! are always read), and at most `max_unregistered` other names are kept; the rest are counted
//! ([`IgnoredWorkers`]) and never read. In-flight lists likewise: at most
//! [`MAX_LISTS_PER_QUEUE`] for a watched worker's queue, and at most `max_unregistered` that no
//! watched queue owns (yet: its worker may be found later in the sweep). A flood of 300,000 junk
//! keys therefore costs a few SCAN steps, not 300,000 reads per refresh.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, Instant};

use pulseboard_shared::heartbeat::{check_name, name_from_heartbeat_key};
use pulseboard_shared::IgnoredWorkers;

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

/// In-flight lists kept for one queue: one per consumer, and no queue has this many consumers.
pub const MAX_LISTS_PER_QUEUE: usize = 64;

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
    /// How many of `processing` each queue owns, and how many no queue owns.
    lists_per_queue: HashMap<String, usize>,
    unowned_lists: usize,
    /// Worker names with a heartbeat key, and when a sweep last saw each.
    beating: BTreeMap<String, Instant>,
    /// By [`Pattern`]: whether one whole sweep has been absorbed.
    swept: [bool; 2],
    /// The configured workers' names: always read, so never kept in `beating` nor counted.
    registered: HashSet<String>,
    /// How many unregistered names `beating` keeps.
    max_unregistered: usize,
    /// Heartbeat keys skipped in the sweep in progress, and in the last whole sweep.
    ignoring: Ignored,
    ignored: Ignored,
    /// Bumped whenever the kept names or lists (what a refresh reads) change.
    generation: u64,
}

/// Keys a sweep skipped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Ignored {
    bad_name: u64,
    over_limit: u64,
    lists: u64,
}

impl Discovery {
    /// A discovery that starts a sweep every `every`, examining `count` keys per step, keeping
    /// at most `max_unregistered` unregistered workers.
    pub fn new(every: Duration, count: u32, max_unregistered: usize) -> Self {
        Self {
            every,
            count,
            started: None,
            cursors: [None; 2],
            processing: BTreeMap::new(),
            lists_per_queue: HashMap::new(),
            unowned_lists: 0,
            beating: BTreeMap::new(),
            swept: [false; 2],
            registered: HashSet::new(),
            max_unregistered,
            ignoring: Ignored::default(),
            ignored: Ignored::default(),
            generation: 0,
        }
    }

    /// The configured workers (at start and after a reload): never kept nor counted here.
    pub fn set_registered<'a>(&mut self, names: impl Iterator<Item = &'a str>) {
        self.registered = names.map(str::to_owned).collect();
        let registered = &self.registered;
        self.beating.retain(|name, _| !registered.contains(name));
        self.generation += 1;
    }

    /// Changes whenever what a refresh should read changes (a worker or an in-flight list kept or
    /// forgotten, the configured names replaced), so the refresher rebuilds its keys only then.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// What sweeps skipped: the larger of the last whole sweep and the one in progress (so a
    /// new flood shows before its sweep ends); `None` when nothing was skipped.
    pub fn ignored_workers(&self) -> Option<IgnoredWorkers> {
        let bad_name = self.ignored.bad_name.max(self.ignoring.bad_name);
        let over_limit = self.ignored.over_limit.max(self.ignoring.over_limit);
        let in_flight_lists = self.ignored.lists.max(self.ignoring.lists);
        (bad_name + over_limit + in_flight_lists > 0).then_some(IgnoredWorkers {
            count: bad_name + over_limit,
            bad_name,
            over_limit,
            max_unregistered: self.max_unregistered as u64,
            in_flight_lists,
        })
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

    /// Takes a SCAN reply for `pattern`: the next cursor and the keys it returned. `owner` names
    /// the watched queue an in-flight list belongs to.
    pub fn absorb<'q>(
        &mut self,
        pattern: Pattern,
        next_cursor: u64,
        keys: Vec<String>,
        now: Instant,
        owner: impl Fn(&str) -> Option<&'q str>,
    ) {
        for key in keys {
            match pattern {
                Pattern::Processing => self.absorb_list(key, now, &owner),
                Pattern::Heartbeat => self.absorb_heartbeat(&key, now),
            }
        }
        if next_cursor != 0 {
            self.cursors[pattern.index()] = Some(next_cursor);
            return;
        }
        self.cursors[pattern.index()] = None;
        self.swept[pattern.index()] = true;
        match pattern {
            Pattern::Processing => {
                self.ignored.lists = std::mem::take(&mut self.ignoring.lists);
                let before = self.processing.len();
                self.processing
                    .retain(|_, seen| now.duration_since(*seen) < FORGET_AFTER);
                self.generation += u64::from(self.processing.len() != before);
                self.count_lists(&owner);
            }
            Pattern::Heartbeat => {
                self.ignored.bad_name = std::mem::take(&mut self.ignoring.bad_name);
                self.ignored.over_limit = std::mem::take(&mut self.ignoring.over_limit);
                let before = self.beating.len();
                self.beating
                    .retain(|_, seen| now.duration_since(*seen) < FORGET_AFTER);
                self.generation += u64::from(self.beating.len() != before);
            }
        }
    }

    /// Keeps in-flight list `key` if its queue (or, unowned, the unowned lists) has room; a
    /// list already kept is only marked seen.
    fn absorb_list<'q>(
        &mut self,
        key: String,
        now: Instant,
        owner: impl Fn(&str) -> Option<&'q str>,
    ) {
        if let Some(seen) = self.processing.get_mut(&key) {
            *seen = now;
            return;
        }
        let room = match owner(&key) {
            Some(queue) => match self.lists_per_queue.get_mut(queue) {
                Some(n) if *n >= MAX_LISTS_PER_QUEUE => false,
                Some(n) => {
                    *n += 1;
                    true
                }
                None => {
                    self.lists_per_queue.insert(queue.to_owned(), 1);
                    true
                }
            },
            None if self.unowned_lists < self.max_unregistered => {
                self.unowned_lists += 1;
                true
            }
            None => false,
        };
        if room {
            self.processing.insert(key, now);
            self.generation += 1;
        } else {
            self.ignoring.lists += 1;
        }
    }

    /// Counts the kept lists by owner again (owners change as workers come and go).
    fn count_lists<'q>(&mut self, owner: impl Fn(&str) -> Option<&'q str>) {
        self.lists_per_queue.clear();
        self.unowned_lists = 0;
        for key in self.processing.keys() {
            match owner(key) {
                Some(queue) => *self.lists_per_queue.entry(queue.to_owned()).or_default() += 1,
                None => self.unowned_lists += 1,
            }
        }
    }

    /// Keeps the worker named in heartbeat `key` if its name is valid, it is not configured, and
    /// there is room (a name already kept is only marked seen); counts it otherwise.
    fn absorb_heartbeat(&mut self, key: &str, now: Instant) {
        let Some(name) = name_from_heartbeat_key(key) else {
            return;
        };
        if check_name(name).is_err() {
            self.ignoring.bad_name += 1;
        } else if self.registered.contains(name) {
            // Read every refresh anyway.
        } else if let Some(seen) = self.beating.get_mut(name) {
            *seen = now;
        } else if self.beating.len() < self.max_unregistered {
            self.beating.insert(name.to_owned(), now);
            self.generation += 1;
        } else {
            self.ignoring.over_limit += 1;
        }
    }

    /// A sweep was cut short (Redis failed): restart it at the next due time.
    pub fn abandon_sweep(&mut self) {
        self.cursors = [None; 2];
        self.ignoring = Ignored::default();
    }

    /// In-flight lists a recent sweep saw.
    pub fn processing_keys(&self) -> impl Iterator<Item = &String> {
        self.processing.keys()
    }

    /// Names of unregistered workers whose heartbeat key a recent sweep saw (at most
    /// `max_unregistered`, each valid).
    pub fn beating_workers(&self) -> impl Iterator<Item = &str> {
        self.beating.keys().map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// No watched queue owns any list.
    fn unowned(_: &str) -> Option<&'static str> {
        None
    }

    #[test]
    fn sweeps_step_through_cursors_then_rest() {
        let t0 = Instant::now();
        let mut d = Discovery::new(Duration::from_secs(5), 100, 1000);
        let steps = d.steps(t0);
        assert_eq!(steps.len(), 2);
        assert!(steps.iter().all(|s| s.cursor == 0 && s.count == 100));
        d.absorb(
            Pattern::Processing,
            42,
            vec!["processing:queue:a:1".into()],
            t0,
            unowned,
        );
        d.absorb(
            Pattern::Heartbeat,
            0,
            vec!["worker:stray:heartbeat".into()],
            t0,
            unowned,
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
        d.absorb(Pattern::Processing, 0, vec![], t0, unowned);
        assert!(d.warm());
        // Finished and not yet due: no SCAN at all.
        assert!(d.steps(t0 + Duration::from_secs(2)).is_empty());
        assert_eq!(d.steps(t0 + Duration::from_secs(5)).len(), 2);
    }

    #[test]
    fn the_generation_moves_only_when_what_is_read_changes() {
        let t0 = Instant::now();
        let mut d = Discovery::new(Duration::from_secs(1), 10, 1000);
        let beat = |d: &mut Discovery, keys: &[&str], at| {
            let keys = keys.iter().map(|k| k.to_string()).collect();
            d.absorb(Pattern::Heartbeat, 0, keys, at, unowned);
        };
        let list = |d: &mut Discovery, keys: &[&str], at| {
            let keys = keys.iter().map(|k| k.to_string()).collect();
            d.absorb(Pattern::Processing, 0, keys, at, unowned);
        };
        let g0 = d.generation();
        beat(&mut d, &["worker:a:heartbeat"], t0);
        let g1 = d.generation();
        assert_ne!(g1, g0, "a new worker");
        beat(
            &mut d,
            &["worker:a:heartbeat", "worker:bad name:heartbeat"],
            t0,
        );
        list(&mut d, &[], t0);
        assert_eq!(
            d.generation(),
            g1,
            "the same worker seen again, a skipped name"
        );
        list(&mut d, &["processing:queue:a:1"], t0);
        let g2 = d.generation();
        assert_ne!(g2, g1, "a new in-flight list");
        let later = t0 + FORGET_AFTER;
        beat(&mut d, &[], later);
        assert_ne!(d.generation(), g2, "a worker forgotten");
        let g3 = d.generation();
        list(&mut d, &[], later);
        assert_ne!(d.generation(), g3, "a list forgotten");
        let g4 = d.generation();
        d.set_registered(["a"].into_iter());
        assert_ne!(d.generation(), g4, "the configured names replaced");
    }

    #[test]
    fn in_flight_lists_are_kept_between_jobs_then_forgotten() {
        let t0 = Instant::now();
        let mut d = Discovery::new(Duration::from_secs(1), 10, 1000);
        d.steps(t0);
        d.absorb(
            Pattern::Processing,
            0,
            vec!["processing:queue:a:1".into()],
            t0,
            unowned,
        );
        // The list is empty (so gone from Redis) during the next sweep: still counted.
        let t1 = t0 + Duration::from_secs(1);
        d.steps(t1);
        d.absorb(
            Pattern::Processing,
            0,
            vec!["processing:queue:a:2".into()],
            t1,
            unowned,
        );
        assert_eq!(d.processing_keys().count(), 2);
        // Unseen for FORGET_AFTER: dropped.
        let later = t0 + FORGET_AFTER;
        d.steps(later);
        d.absorb(Pattern::Processing, 0, vec![], later, unowned);
        assert_eq!(
            d.processing_keys().collect::<Vec<_>>(),
            ["processing:queue:a:2"]
        );
    }

    #[test]
    fn unregistered_workers_are_forgotten_after_a_while() {
        let t0 = Instant::now();
        let mut d = Discovery::new(Duration::from_secs(1), 10, 1000);
        d.steps(t0);
        d.absorb(
            Pattern::Heartbeat,
            0,
            vec!["worker:stray:heartbeat".into()],
            t0,
            unowned,
        );
        let later = t0 + FORGET_AFTER;
        d.steps(later);
        d.absorb(Pattern::Heartbeat, 0, vec![], later, unowned);
        assert_eq!(d.beating_workers().count(), 0);
    }

    #[test]
    fn junk_names_and_names_beyond_the_cap_are_counted_not_kept() {
        let t0 = Instant::now();
        let mut d = Discovery::new(Duration::from_secs(1), 10, 2);
        d.set_registered(["configured"].into_iter());
        d.steps(t0);
        let long = format!("worker:{}:heartbeat", "x".repeat(101));
        let keys = [
            "worker:configured:heartbeat",
            "worker:a:heartbeat",
            "worker:b*:heartbeat",
            long.as_str(),
            "worker:b:heartbeat",
            "worker:c:heartbeat",
            "worker:d:heartbeat",
            "worker:a:heartbeat", // already kept: not counted again
        ];
        d.absorb(
            Pattern::Heartbeat,
            7,
            keys.iter().map(|k| k.to_string()).collect(),
            t0,
            unowned,
        );
        assert_eq!(d.beating_workers().collect::<Vec<_>>(), ["a", "b"]);
        let seen = IgnoredWorkers {
            count: 4,
            bad_name: 2,
            over_limit: 2,
            max_unregistered: 2,
            in_flight_lists: 0,
        };
        assert_eq!(
            d.ignored_workers(),
            Some(seen),
            "shown before the sweep ends"
        );
        d.absorb(Pattern::Heartbeat, 0, vec![], t0, unowned);
        assert_eq!(d.ignored_workers(), Some(seen), "the last whole sweep's");
        // The flood is gone: the next whole sweep says so.
        let t1 = t0 + Duration::from_secs(1);
        d.steps(t1);
        d.absorb(
            Pattern::Heartbeat,
            0,
            vec!["worker:a:heartbeat".into()],
            t1,
            unowned,
        );
        assert_eq!(d.ignored_workers(), None);
        // A worker configured later leaves the unregistered ones.
        d.set_registered(["a"].into_iter());
        assert_eq!(d.beating_workers().collect::<Vec<_>>(), ["b"]);
    }

    #[test]
    fn in_flight_lists_are_capped_per_queue_and_unowned_ones_overall() {
        let t0 = Instant::now();
        let mut d = Discovery::new(Duration::from_secs(5), 100, 10);
        d.steps(t0);
        let owner = |key: &str| key.starts_with("processing:queue:a:").then_some("queue:a");
        let mut keys: Vec<String> = (0..100)
            .map(|i| format!("processing:queue:a:{i}"))
            .collect();
        keys.extend((0..30).map(|i| format!("processing:junk:{i}")));
        d.absorb(Pattern::Processing, 3, keys, t0, owner);
        let kept: Vec<&String> = d.processing_keys().collect();
        let of_a = kept.iter().filter(|k| k.starts_with("processing:queue:a:"));
        assert_eq!(of_a.count(), MAX_LISTS_PER_QUEUE);
        assert_eq!(
            kept.len(),
            MAX_LISTS_PER_QUEUE + 10,
            "and max_unregistered unowned"
        );
        let ignored = d.ignored_workers().expect("counted");
        assert_eq!(ignored.in_flight_lists, 36 + 20);
        assert_eq!(ignored.count, 0, "no worker was ignored");
        // A list seen again is not counted twice; the sweep's end keeps the figure.
        d.absorb(
            Pattern::Processing,
            0,
            vec!["processing:queue:a:0".into()],
            t0,
            owner,
        );
        assert_eq!(d.ignored_workers().unwrap().in_flight_lists, 56);
        assert_eq!(d.processing_keys().count(), MAX_LISTS_PER_QUEUE + 10);
    }
}
