//! Contract 2's `workers[].recovery`: the guard's view of each worker, from its decision.

use super::memory::attempts_in_window;
use super::{decide, Advice, Block, Decision, Fleet, GuardState, Memory, Policy, RecoveryView};
use crate::nodes::{Nodes, WorkerStatus};

/// Puts each worker's guard view (`workers[].recovery`) on `nodes` at `now`, from each one's
/// policy and the guard's memories; `agent_requests`: whether this server can ask host agents
/// (see [`Fleet::agent_requests`]); `silences`: those in force (maintenance holds the guard).
pub fn attach_views(
    nodes: &mut Nodes,
    policy_for: impl Fn(&WorkerStatus) -> Policy,
    memories: &std::collections::BTreeMap<String, Memory>,
    (now, agent_requests): (u64, bool),
    silences: &[crate::silence::Silence],
) {
    let empty = Memory::default();
    let fleet = Fleet::new(nodes)
        .agent_requests(agent_requests)
        .silences(silences);
    let views: Vec<Option<RecoveryView>> = nodes
        .workers
        .iter()
        .map(|w| {
            let policy = policy_for(w);
            let memory = memories.get(&w.name).unwrap_or(&empty);
            let triggered = w
                .lifecycle
                .as_ref()
                .is_some_and(|l| policy.triggers.iter().any(|t| t.state == l.state));
            // Most workers are fine and remember nothing: no need to look at their host.
            if !triggered && memory.is_empty() {
                return None;
            }
            let decision = match fleet.situation(w, now) {
                Some(s) => decide(&policy, memory, &s),
                None => Decision::Idle,
            };
            view(&policy, memory, &decision, &w.name, now)
        })
        .collect();
    for (w, v) in nodes.workers.iter_mut().zip(views) {
        w.recovery = v;
    }
}

/// Contract 2's view of `decision` for `worker`; `None` when there is nothing to show (no
/// trigger, no memory).
pub fn view(
    policy: &Policy,
    memory: &Memory,
    decision: &Decision,
    worker: &str,
    now: u64,
) -> Option<RecoveryView> {
    if *decision == Decision::Idle && memory.is_empty() {
        return None;
    }
    let recent = attempts_in_window(policy, memory, now);
    let mut v = RecoveryView {
        mode: memory.mode.unwrap_or(policy.mode),
        state: GuardState::Idle,
        attempts: recent.len() as u32,
        max_attempts: policy.max_attempts,
        next_attempt_at: None,
        window_resets_at: recent.first().map(|t| t + policy.window_s),
        hold_until: memory.hold_until.filter(|u| *u > now),
        hold_reason: memory.hold_reason.clone(),
        last_action: memory.last.clone(),
        recommended_action: None,
        advice: None,
        blocked_by: None,
        blocked: None,
    };
    let advice = match decision {
        Decision::Idle => None,
        Decision::Wait { until } => {
            v.state = GuardState::Waiting;
            v.next_attempt_at = Some(*until);
            None
        }
        Decision::Backoff { until } => {
            v.state = GuardState::Backoff;
            v.next_attempt_at = Some(*until);
            None
        }
        Decision::Recommend(route) => {
            v.state = GuardState::Recommending;
            Some(Advice::Restart { route: *route })
        }
        Decision::Act(_) => {
            v.state = GuardState::Acting;
            None
        }
        Decision::OpenCircuit(route) | Decision::CircuitOpen(route) => {
            v.state = GuardState::CircuitOpen;
            Some(Advice::CrashLoop { route: *route })
        }
        Decision::Blocked(block) => {
            v.state = GuardState::Blocked;
            v.blocked_by = Some(block.words());
            v.blocked = Some(block.clone());
            match block {
                Block::Held(until) => {
                    // A maintenance silence holds it as a hand-set hold does: the view says until
                    // when either way (the silence's reason is on `workers[].silence`).
                    v.state = GuardState::Held;
                    v.hold_until = Some(*until);
                    None
                }
                Block::InFlight => {
                    v.state = GuardState::Acting;
                    None
                }
                Block::HostDown(host) => Some(Advice::CheckHost { host: host.clone() }),
                Block::AgentUnreachable(host) => {
                    Some(Advice::AgentUnreachable { host: host.clone() })
                }
                Block::NotAllowListed(host) => Some(Advice::NotAllowListed { host: host.clone() }),
                Block::RedisLost | Block::Paused | Block::NoAgentKey => None,
            }
        }
    };
    v.recommended_action = advice.as_ref().map(|a| a.words(worker));
    v.advice = advice;
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recovery::fixtures::*;
    use crate::recovery::{Advice, Route};

    #[test]
    fn the_view_says_where_the_guard_stands_and_what_a_person_should_do() {
        let policy = auto();
        let none = Memory::default();
        assert_eq!(
            view(&policy, &none, &Decision::Idle, "w", T0),
            None,
            "nothing to show"
        );
        let v = view(
            &policy,
            &none,
            &Decision::Backoff { until: T0 + 30 },
            "w",
            T0,
        )
        .unwrap();
        assert_eq!(
            (v.state, v.next_attempt_at),
            (GuardState::Backoff, Some(T0 + 30))
        );
        let v = view(
            &policy,
            &none,
            &Decision::Blocked(Block::AgentUnreachable("gpu-1".into())),
            "w",
            T0,
        )
        .unwrap();
        assert_eq!(v.state, GuardState::Blocked);
        assert_eq!(
            v.recommended_action.as_deref(),
            Some("host gpu-1 unreachable: its agent does not beat; restart w on the host by hand")
        );
        let tried = Memory {
            attempts: vec![T0 - 100, T0 - 50, T0 - 10],
            circuit_open_at: Some(T0),
            ..Memory::default()
        };
        let v = view(
            &policy,
            &tried,
            &Decision::CircuitOpen(Route::Agent),
            "w",
            T0,
        )
        .unwrap();
        assert_eq!(
            (v.state, v.attempts, v.max_attempts),
            (GuardState::CircuitOpen, 3, 3)
        );
        assert_eq!(v.window_resets_at, Some(T0 - 100 + policy.window_s));
        assert_eq!(
            v.advice,
            Some(Advice::CrashLoop {
                route: Route::Agent
            })
        );
        let json = serde_json::to_value(&v).unwrap();
        assert_eq!(json["state"], "circuit_open");
        assert_eq!(json["advice"]["advice"], "crash_loop");
        for advice in [
            Advice::Restart {
                route: Route::Heartbeat,
            },
            Advice::CheckHost {
                host: "gpu-1".into(),
            },
            Advice::CrashLoop {
                route: Route::Agent,
            },
        ] {
            let text = serde_json::to_string(&advice).unwrap();
            assert_eq!(
                serde_json::from_str::<Advice>(&text).unwrap(),
                advice,
                "{text}"
            );
        }
        assert!(serde_json::from_str::<Advice>(r#"{"advice":"check_host"}"#).is_err());
    }
}
