//! Contract 2's `workers[].rescue` drawn from the rescue's memory ([`crate::orphans`]).

use std::collections::{BTreeMap, HashSet};

use crate::nodes::WorkerStatus;
use crate::orphans::{RescueMemory, RescueMode, RescueView};

/// What the views are drawn with besides the memory.
pub struct ViewRules<'a, M: Fn(&str, &str) -> RescueMode> {
    /// The mode of a worker, by name and kind.
    pub mode_for: M,
    /// How long a list stays orphaned before it moves.
    pub after_s: u64,
    /// The window of `rescued`.
    pub window_s: u64,
    /// The in-flight lists that exist now: a remembered list that is gone is not shown.
    pub present: &'a HashSet<&'a str>,
    /// Unix seconds.
    pub now: u64,
}

/// Puts each worker's `rescue` view on `workers` from `memory`.
pub fn attach_rescue_views<M: Fn(&str, &str) -> RescueMode>(
    workers: &mut [WorkerStatus],
    memory: &RescueMemory,
    rules: &ViewRules<'_, M>,
) {
    #[derive(Default)]
    struct Sums {
        lists: u32,
        jobs: u64,
        first_since: Option<u64>,
        rescued: u64,
        quarantined: u64,
    }
    let mut by_worker: BTreeMap<&str, Sums> = BTreeMap::new();
    for list in memory
        .lists
        .iter()
        .filter(|l| rules.present.contains(l.key.as_str()))
    {
        let s = by_worker.entry(&list.worker).or_default();
        s.lists += 1;
        s.jobs += list.jobs;
        s.first_since = Some(s.first_since.map_or(list.since, |f| f.min(list.since)));
    }
    for b in memory
        .batches
        .iter()
        .filter(|b| b.at.saturating_add(rules.window_s) > rules.now)
    {
        let s = by_worker.entry(&b.worker).or_default();
        s.rescued += b.moved;
        s.quarantined += b.quarantined;
    }
    for w in workers.iter_mut() {
        w.rescue = by_worker.get(w.name.as_str()).and_then(|s| {
            let mode = (rules.mode_for)(&w.name, w.kind.as_str());
            (mode != RescueMode::Off).then(|| RescueView {
                mode,
                orphaned_lists: s.lists,
                orphaned_jobs: s.jobs,
                next_rescue_at: s
                    .first_since
                    .filter(|_| mode == RescueMode::Auto)
                    .map(|since| since.saturating_add(rules.after_s)),
                rescued: s.rescued,
                quarantined: s.quarantined,
                window_s: rules.window_s,
            })
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::orphans::{Batch, Orphan, MAX_BATCHES};
    use crate::WorkerKind;

    fn orphan(worker: &str, key: &str, jobs: u64, since: u64) -> Orphan {
        Orphan {
            worker: worker.into(),
            consumer: key.rsplit(':').next().unwrap().into(),
            key: key.into(),
            jobs,
            since,
            reported: false,
        }
    }

    #[test]
    fn the_view_counts_present_lists_and_batches_in_the_window() {
        let mut workers: Vec<_> = ["a", "b", "c"]
            .map(|name| WorkerStatus::new(name, WorkerKind::Render))
            .into();
        let memory = RescueMemory {
            lists: vec![
                orphan("a", "processing:queue:a:c1", 3, 100),
                orphan("a", "processing:queue:a:c2", 2, 90),
                orphan("a", "processing:queue:a:gone", 9, 10),
                orphan("c", "processing:queue:c:c1", 1, 100),
            ],
            batches: vec![
                Batch {
                    worker: "a".into(),
                    at: 10,
                    moved: 100,
                    quarantined: 0,
                },
                Batch {
                    worker: "a".into(),
                    at: 150,
                    moved: 4,
                    quarantined: 1,
                },
                Batch {
                    worker: "b".into(),
                    at: 160,
                    moved: 2,
                    quarantined: 0,
                },
            ],
        };
        let present: HashSet<&str> = [
            "processing:queue:a:c1",
            "processing:queue:a:c2",
            "processing:queue:c:c1",
        ]
        .into();
        let rules = ViewRules {
            mode_for: |name: &str, _: &str| match name {
                "c" => RescueMode::Off,
                "b" => RescueMode::Recommend,
                _ => RescueMode::Auto,
            },
            after_s: 30,
            window_s: 100,
            present: &present,
            now: 200,
        };
        attach_rescue_views(&mut workers, &memory, &rules);
        let a = workers[0].rescue.clone().unwrap();
        assert_eq!(
            (a.orphaned_lists, a.orphaned_jobs, a.next_rescue_at),
            (2, 5, Some(120)),
            "the gone list is not counted; the oldest present one is due first"
        );
        assert_eq!(
            (a.rescued, a.quarantined),
            (4, 1),
            "the batch at 10 left the window"
        );
        let b = workers[1].rescue.clone().unwrap();
        assert_eq!(
            (b.mode, b.orphaned_lists, b.rescued),
            (RescueMode::Recommend, 0, 2)
        );
        assert_eq!(b.next_rescue_at, None);
        assert_eq!(workers[2].rescue, None, "off shows nothing");
    }

    #[test]
    fn pruning_keeps_the_window_and_the_cap() {
        let batch = |at| Batch {
            worker: "a".into(),
            at,
            moved: 1,
            quarantined: 0,
        };
        let mut memory = RescueMemory {
            lists: vec![],
            batches: (0..(MAX_BATCHES as u64 + 10))
                .map(|i| batch(1000 + i))
                .collect(),
        };
        memory.batches.insert(0, batch(1));
        memory.prune(1100, 500);
        assert_eq!(memory.batches.len(), MAX_BATCHES);
        assert_eq!(memory.batches[0].at, 1010);
    }
}
