//! The fleet at a glance: one condition per worker (the most urgent thing true of it), counted,
//! and the totals of its queues. What the page's summary shows and filters on, at any size.

use crate::lifecycle::LifecycleState as L;
pub use crate::nodes::{Condition, ConditionCount, Summary};
use crate::nodes::{LinkStatus, WorkerStatus};
use crate::rules::link_status;

impl Condition {
    /// `worker`'s condition.
    pub fn of(worker: &WorkerStatus) -> Self {
        match worker.lifecycle.as_ref().map(|l| l.state) {
            Some(L::Down) => return Self::Down,
            Some(L::Failed) => return Self::Failed,
            Some(L::Stalled) => return Self::Stalled,
            Some(L::Unhealthy) => return Self::Unhealthy,
            _ => {}
        }
        let late = worker
            .lifecycle
            .as_ref()
            .is_some_and(|l| l.state == L::Late);
        match (
            link_status(worker),
            worker.lifecycle.as_ref().map(|l| l.state),
        ) {
            (LinkStatus::Down, _) => Self::Down,
            (LinkStatus::Degraded, _) => Self::Degraded,
            _ if !worker.drift.is_empty() => Self::Drift,
            _ if late => Self::Late,
            (_, Some(L::Starting)) => Self::Starting,
            (_, Some(L::Draining)) => Self::Draining,
            (_, Some(L::Stopped)) => Self::Stopped,
            (LinkStatus::Paused, _) => Self::Paused,
            _ if worker.processing > 0 || worker.state.as_deref() == Some("busy") => Self::Busy,
            _ => Self::Healthy,
        }
    }
}

impl Summary {
    /// The summary of `workers`.
    pub fn of(workers: &[WorkerStatus]) -> Self {
        let mut counts = [0u64; Condition::ALL.len()];
        let mut summary = Self {
            workers: workers.len() as u64,
            ..Self::default()
        };
        for w in workers {
            counts[Condition::of(w) as usize] += 1;
            summary.queue_depth += w.queue_depth;
            summary.processing += w.processing;
            summary.dead_letter += w.dead_letter;
        }
        summary.conditions = Condition::ALL
            .into_iter()
            .zip(counts)
            .filter(|(_, count)| *count > 0)
            .map(|(condition, count)| ConditionCount { condition, count })
            .collect();
        summary.problems = summary
            .conditions
            .iter()
            .filter(|c| c.condition.is_problem())
            .map(|c| c.count)
            .sum();
        summary
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lifecycle::Lifecycle;
    use crate::nodes::WorkerKind;

    fn worker(name: &str, alive: bool, state: &str) -> WorkerStatus {
        let mut w = WorkerStatus::new(name, WorkerKind::Render);
        w.alive = alive;
        w.state = alive.then(|| state.to_owned());
        w
    }

    fn with_lifecycle(mut w: WorkerStatus, state: L) -> WorkerStatus {
        w.lifecycle = Some(Lifecycle {
            state,
            reason: None,
            reason_code: None,
            age_s: None,
        });
        w
    }

    #[test]
    fn each_worker_gets_its_most_urgent_condition() {
        let mut dead_letters = worker("d", true, "idle");
        dead_letters.dead_letter = 3;
        let mut in_flight = worker("f", true, "idle");
        in_flight.processing = 1;
        let cases = [
            (worker("a", false, ""), Condition::Down),
            (worker("b", true, "idle"), Condition::Healthy),
            (worker("c", true, "busy"), Condition::Busy),
            (in_flight, Condition::Busy),
            (dead_letters.clone(), Condition::Degraded),
            (worker("e", true, "paused"), Condition::Paused),
            (
                with_lifecycle(worker("g", true, "idle"), L::Late),
                Condition::Late,
            ),
            (with_lifecycle(dead_letters, L::Late), Condition::Degraded),
            (
                with_lifecycle(worker("h", true, "idle"), L::Stalled),
                Condition::Stalled,
            ),
            (
                with_lifecycle(worker("i", true, "idle"), L::Unhealthy),
                Condition::Unhealthy,
            ),
            (
                with_lifecycle(worker("j", true, "idle"), L::Starting),
                Condition::Starting,
            ),
            (
                with_lifecycle(worker("k", true, "idle"), L::Failed),
                Condition::Failed,
            ),
            (
                with_lifecycle(worker("l", true, "idle"), L::Draining),
                Condition::Draining,
            ),
            (
                with_lifecycle(worker("m", false, ""), L::Stopped),
                Condition::Stopped,
            ),
            (
                with_lifecycle(worker("n", false, ""), L::Down),
                Condition::Down,
            ),
            (
                with_lifecycle(worker("o", true, "busy"), L::Ready),
                Condition::Busy,
            ),
        ];
        for (w, expected) in cases {
            assert_eq!(Condition::of(&w), expected, "{}", w.name);
        }
    }

    #[test]
    fn problems_are_the_urgent_conditions() {
        let problems: Vec<_> = Condition::ALL
            .into_iter()
            .filter(|c| c.is_problem())
            .collect();
        use Condition as C;
        assert_eq!(
            problems,
            [
                C::Down,
                C::Failed,
                C::Stalled,
                C::Unhealthy,
                C::Degraded,
                C::Drift,
                C::Late
            ]
        );
        for c in Condition::ALL {
            assert_eq!(Condition::parse(c.as_str()), Some(c));
            assert_eq!(serde_json::to_value(c).unwrap(), c.as_str());
        }
    }

    #[test]
    fn the_summary_counts_and_totals_the_fleet() {
        let mut a = worker("a", true, "busy");
        a.queue_depth = 4;
        a.processing = 2;
        let mut b = worker("b", true, "idle");
        b.dead_letter = 5;
        let c = worker("c", false, "");
        let d = worker("d", false, "");
        let summary = Summary::of(&[a, b, c, d]);
        assert_eq!(summary.workers, 4);
        assert_eq!(summary.problems, 3);
        assert_eq!(summary.count(Condition::Down), 2);
        assert_eq!(summary.count(Condition::Degraded), 1);
        assert_eq!(summary.count(Condition::Busy), 1);
        assert_eq!(summary.count(Condition::Healthy), 0);
        assert_eq!(
            (summary.queue_depth, summary.processing, summary.dead_letter),
            (4, 2, 5)
        );
        let order: Vec<_> = summary.conditions.iter().map(|c| c.condition).collect();
        assert_eq!(
            order,
            [Condition::Down, Condition::Degraded, Condition::Busy]
        );
        assert_eq!(Summary::of(&[]), Summary::default());
    }
}
