//! Ends the action in flight when its answer is in: the worker's, the agent's or the clock's.

use super::{ActionOutcome, Memory, Policy, Route};

/// Ends the action in flight, if its answer is in: `agent` is the host agent's word on it
/// (`ok`, what happened); a worker that left its trigger state answered by itself; past
/// `answer_timeout_s` it failed. Returns whether it ended.
pub fn settle(
    policy: &Policy,
    memory: &mut Memory,
    still_triggered: bool,
    agent: Option<ActionOutcome>,
    now: u64,
) -> bool {
    if !memory.in_flight {
        return false;
    }
    let Some(last) = memory.last.as_mut() else {
        memory.in_flight = false;
        return true;
    };
    let outcome = match agent {
        Some(word) => word,
        None if last.route == Route::Heartbeat && !still_triggered => ActionOutcome::Answered {
            after_s: now.saturating_sub(last.at),
        },
        None if now.saturating_sub(last.at) >= policy.answer_timeout_s => ActionOutcome::NoAnswer {
            within_s: policy.answer_timeout_s,
        },
        None => return false,
    };
    last.ok = Some(outcome.ok());
    last.result = Some(outcome.words());
    last.outcome = Some(outcome);
    memory.in_flight = false;
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recovery::fixtures::*;
    use crate::recovery::{LastAction, Memory};

    #[test]
    fn an_action_is_answered_by_the_worker_the_agent_or_the_clock() {
        let policy = auto();
        let sent = |route| Memory {
            in_flight: true,
            last: Some(LastAction {
                id: "r-1".into(),
                action: "restart".into(),
                route,
                by: "auto".into(),
                at: T0,
                result: None,
                outcome: None,
                ok: None,
            }),
            ..Memory::default()
        };
        let mut m = sent(Route::Heartbeat);
        assert!(
            !settle(&policy, &mut m, true, None, T0 + 10),
            "still stalled: wait"
        );
        assert!(settle(&policy, &mut m, false, None, T0 + 12));
        let last = m.last.clone().unwrap();
        assert_eq!(
            (last.ok, last.result.as_deref()),
            (Some(true), Some("answered after 12 s"))
        );
        assert!(!m.in_flight);

        let mut m = sent(Route::Agent);
        assert!(
            !settle(&policy, &mut m, false, None, T0 + 5),
            "only the agent answers"
        );
        assert!(settle(
            &policy,
            &mut m,
            true,
            Some(ActionOutcome::Agent {
                outcome: crate::agent::Outcome::Failed,
                host: "gpu-1".into(),
                exit_code: Some(1),
                detail: String::new(),
            }),
            T0 + 6
        ));
        assert_eq!(m.last.unwrap().ok, Some(false));

        let mut m = sent(Route::Agent);
        assert!(settle(
            &policy,
            &mut m,
            true,
            None,
            T0 + policy.answer_timeout_s
        ));
        assert_eq!(
            m.last.unwrap().result.as_deref(),
            Some("no answer within 300 s")
        );
    }
}
