//! Orphaned jobs: whether a consumer's in-flight list (`processing:<queue>:<consumer>`) is still
//! in use or its jobs were left behind by a consumer that is gone. Pure; the server reads the
//! lists, keeps the clock (a list must be orphaned for `after_s` in a row) and moves the jobs.
//!
//! Rescuing a job that is still running is the duplicate to avoid, so a list is left alone
//! whenever pulseboard cannot tell: a live beat declares its consumer; its worker is alive and
//! declares no consumers at all (the seed's workers); its worker is draining (finishing its jobs).
//! A list is orphaned when no live beat declares its consumer and either its worker is not alive
//! (down, failed, stopped) or its worker is alive and declares other consumers (the leftovers of
//! a rolling restart or a renamed consumer).

pub mod view;

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::{LifecycleState, WorkerStatus};

pub use crate::orphans::{RescueMemory, RescueMode, RescueView};
pub use view::attach_rescue_views;

/// What was done with one orphaned list, as the event log records it (never the payloads: the
/// event log is public).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Rescued {
    /// The worker whose queue it is.
    pub worker: String,
    /// The consumer that left it.
    pub consumer: String,
    /// The in-flight list.
    pub list: String,
    /// Jobs put back on the queue (`recommend`: jobs that would be).
    pub moved: u64,
    /// Jobs sent to the dead letters instead: orphaned more than `max_rescues` times.
    pub quarantined: u64,
    /// `recommend` mode: nothing was moved.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub recommended: bool,
}

/// A list's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// A live beat declares its consumer.
    Declared,
    /// Its worker is alive and declares no consumers: pulseboard cannot tell, so never.
    Undeclared,
    /// Its worker is draining: finishing the jobs it holds.
    Draining,
    /// Left behind: its jobs may go back on the queue.
    Orphaned,
}

/// The consumer of in-flight list `key` (its last segment), if it has one.
pub fn consumer_of(key: &str) -> Option<&str> {
    key.rsplit_once(':')
        .map(|(_, c)| c)
        .filter(|c| !c.is_empty())
}

/// Every consumer id a live beat of `workers` declares.
pub fn declared_consumers(workers: &[WorkerStatus]) -> HashSet<&str> {
    workers
        .iter()
        .filter(|w| is_alive(w))
        .filter_map(|w| w.declared.as_ref()?.consumers.as_ref())
        .flatten()
        .map(String::as_str)
        .collect()
}

/// The verdict on `owner`'s in-flight list of `consumer`, given the consumers `declared` by live
/// beats.
pub fn judge(owner: &WorkerStatus, consumer: &str, declared: &HashSet<&str>) -> Verdict {
    if declared.contains(consumer) {
        return Verdict::Declared;
    }
    if !is_alive(owner) {
        return Verdict::Orphaned;
    }
    if state(owner) == Some(LifecycleState::Draining) {
        return Verdict::Draining;
    }
    let own = owner.declared.as_ref().and_then(|d| d.consumers.as_ref());
    match own {
        Some(ids) if !ids.is_empty() => Verdict::Orphaned,
        _ => Verdict::Undeclared,
    }
}

fn state(w: &WorkerStatus) -> Option<LifecycleState> {
    w.lifecycle.as_ref().map(|l| l.state)
}

/// Alive in the sense that matters here: beating, and not stopped, failed or down.
fn is_alive(w: &WorkerStatus) -> bool {
    w.alive
        && !matches!(
            state(w),
            Some(LifecycleState::Stopped | LifecycleState::Failed | LifecycleState::Down)
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::heartbeat::Declared;
    use crate::{Lifecycle, WorkerKind};

    fn worker(alive: bool, state: LifecycleState, consumers: Option<&[&str]>) -> WorkerStatus {
        let mut w = WorkerStatus::new("r", WorkerKind::Render);
        w.alive = alive;
        w.lifecycle = Some(Lifecycle::new(state, None, None));
        w.declared = Some(Declared {
            consumers: consumers.map(|c| c.iter().map(|s| (*s).to_owned()).collect()),
            ..Declared::default()
        });
        w
    }

    #[test]
    fn a_list_is_orphaned_only_when_nobody_can_still_be_working_on_it() {
        use LifecycleState as L;
        let none = HashSet::new();
        let c1: HashSet<&str> = ["c1"].into();
        let ready = |c| worker(true, L::Ready, c);
        assert_eq!(judge(&ready(Some(&["c1"])), "c1", &c1), Verdict::Declared);
        assert_eq!(
            judge(&ready(None), "c1", &none),
            Verdict::Undeclared,
            "the seed's"
        );
        assert_eq!(judge(&ready(Some(&[])), "c1", &none), Verdict::Undeclared);
        let draining = worker(true, L::Draining, Some(&["c2"]));
        assert_eq!(judge(&draining, "c1", &none), Verdict::Draining);
        assert_eq!(
            judge(&ready(Some(&["c2"])), "c1", &none),
            Verdict::Orphaned,
            "leftovers"
        );
        for gone in [L::Down, L::Failed, L::Stopped] {
            assert_eq!(
                judge(&worker(true, gone, None), "c1", &none),
                Verdict::Orphaned
            );
        }
        assert_eq!(
            judge(&worker(false, L::Down, None), "c1", &none),
            Verdict::Orphaned
        );
        // Declared by another live beat (a consumer that moved): in use.
        assert_eq!(
            judge(&worker(false, L::Down, None), "c1", &c1),
            Verdict::Declared
        );
    }

    #[test]
    fn only_live_beats_declare() {
        let workers = [
            worker(true, LifecycleState::Ready, Some(&["a"])),
            worker(true, LifecycleState::Stopped, Some(&["b"])),
            worker(false, LifecycleState::Down, Some(&["c"])),
        ];
        assert_eq!(declared_consumers(&workers), ["a"].into());
        assert_eq!(consumer_of("processing:queue:r:c1"), Some("c1"));
        assert_eq!(consumer_of("processing:queue:r:"), None);
    }
}
