//! The decision: act, wait, back off, hold back or open the circuit.

use super::memory::attempts_in_window;
use super::{Block, Memory, Mode, Policy, Route, L};

/// What the guard sees now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Situation {
    /// Unix seconds.
    pub now: u64,
    /// The worker's lifecycle state and since how long it holds.
    pub state: L,
    /// Seconds in that state.
    pub state_age_s: u64,
    /// Whether the aggregator reads Redis (else the view is stale).
    pub redis_ok: bool,
    /// The queue flag pauses the worker.
    pub paused_by_flag: bool,
    /// The worker's host, and whether its agent beats.
    pub host: Option<String>,
    /// Whether that host's agent is reachable (beating).
    pub agent_reachable: bool,
    /// That agent's allow-list names the worker.
    pub agent_allows: bool,
    /// Every worker of that host (two or more) is down.
    pub host_all_down: bool,
    /// This server can ask host agents (it holds the agent key to sign requests with).
    pub agent_requests: bool,
    /// A maintenance silence covers the worker until then (unix seconds): held as by a hold.
    pub maintenance_until: Option<u64>,
}

/// What the guard says now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Nothing calls for an action.
    Idle,
    /// A trigger state has not lasted its delay yet: not before `until`.
    Wait {
        /// Unix seconds.
        until: u64,
    },
    /// The backoff after the last attempt runs: not before `until`.
    Backoff {
        /// Unix seconds.
        until: u64,
    },
    /// Something stands in the way.
    Blocked(Block),
    /// Restart, by `route` (mode `recommend`: said, not done).
    Recommend(Route),
    /// Restart, by `route`, now (mode `auto`).
    Act(Route),
    /// The limit is reached: the circuit opens now (alert once) with this recommendation.
    OpenCircuit(Route),
    /// The circuit is open: a person must look; this is what they should do.
    CircuitOpen(Route),
}

/// The guard's decision for `policy`, `memory` and `situation`.
pub fn decide(policy: &Policy, memory: &Memory, s: &Situation) -> Decision {
    let mode = memory.mode.unwrap_or(policy.mode);
    if mode == Mode::Off {
        return Decision::Idle;
    }
    let Some(trigger) = policy.triggers.iter().find(|t| t.state == s.state) else {
        return Decision::Idle;
    };
    let route = route_for(s.state);
    if !s.redis_ok {
        return Decision::Blocked(Block::RedisLost);
    }
    if s.paused_by_flag {
        return Decision::Blocked(Block::Paused);
    }
    let held = memory.hold_until.max(s.maintenance_until);
    if let Some(until) = held.filter(|u| *u > s.now) {
        return Decision::Blocked(Block::Held(until));
    }
    if memory.circuit_open_at.is_some() {
        return Decision::CircuitOpen(route);
    }
    let host = s.host.clone().unwrap_or_else(|| "?".into());
    if route == Route::Agent && s.host_all_down {
        return Decision::Blocked(Block::HostDown(host));
    }
    if route == Route::Agent && !s.agent_requests {
        return Decision::Blocked(Block::NoAgentKey);
    }
    if route == Route::Agent && !s.agent_reachable {
        return Decision::Blocked(Block::AgentUnreachable(host));
    }
    if route == Route::Agent && !s.agent_allows {
        return Decision::Blocked(Block::NotAllowListed(host));
    }
    if memory.in_flight {
        return Decision::Blocked(Block::InFlight);
    }
    if s.state_age_s < trigger.after_s {
        return Decision::Wait {
            until: s.now + (trigger.after_s - s.state_age_s),
        };
    }
    // The last attempt gets its backoff to work; if the worker still needs help after it and
    // the window is full, a person must look.
    let recent = attempts_in_window(policy, memory, s.now);
    if let Some(last) = recent.last() {
        let until = last + policy.backoff_after(recent.len());
        if until > s.now {
            return Decision::Backoff { until };
        }
    }
    if recent.len() >= policy.max_attempts as usize {
        return Decision::OpenCircuit(route);
    }
    match mode {
        Mode::Auto => Decision::Act(route),
        _ => Decision::Recommend(route),
    }
}

/// How a restart reaches a worker in `state`: one that still beats reads it from its
/// heartbeat; one that is gone or does not beat needs its supervisor, through the agent.
pub fn route_for(state: L) -> Route {
    match state {
        L::Stalled | L::Unhealthy => Route::Heartbeat,
        _ => Route::Agent,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recovery::fixtures::*;

    #[test]
    fn maintenance_holds_the_guard_until_it_ends() {
        let p = auto();
        let s = Situation {
            maintenance_until: Some(T0 + 600),
            ..situation(L::Down, 120)
        };
        let fresh = Memory::default();
        let held = decide(&p, &fresh, &s);
        assert_eq!(held, Decision::Blocked(Block::Held(T0 + 600)));
        let shown = crate::recovery::view::view(&p, &fresh, &held, "w", T0).unwrap();
        assert_eq!(
            (shown.state, shown.hold_until),
            (crate::guard::GuardState::Held, Some(T0 + 600))
        );
        let ended = Situation { now: T0 + 600, ..s };
        assert_eq!(decide(&p, &fresh, &ended), Decision::Act(Route::Agent));
    }

    #[test]
    fn the_guard_acts_only_when_nothing_stands_in_the_way() {
        let fresh = Memory::default();
        let held = Memory {
            hold_until: Some(T0 + 60),
            ..Memory::default()
        };
        let sent = Memory {
            in_flight: true,
            ..Memory::default()
        };
        let open = Memory {
            circuit_open_at: Some(T0 - 5),
            ..Memory::default()
        };
        let with = |f: fn(&mut Situation)| {
            let mut s = situation(L::Down, 90);
            f(&mut s);
            s
        };
        let cases: Vec<(&str, Policy, &Memory, Situation, Decision)> = vec![
            (
                "ready",
                auto(),
                &fresh,
                situation(L::Ready, 500),
                Decision::Idle,
            ),
            (
                "a clean stop is no trigger",
                auto(),
                &fresh,
                situation(L::Stopped, 500),
                Decision::Idle,
            ),
            (
                "down long enough",
                auto(),
                &fresh,
                situation(L::Down, 60),
                Decision::Act(Route::Agent),
            ),
            (
                "down too briefly",
                auto(),
                &fresh,
                situation(L::Down, 20),
                Decision::Wait { until: T0 + 40 },
            ),
            (
                "stalled: by its heartbeat",
                auto(),
                &fresh,
                situation(L::Stalled, 0),
                Decision::Act(Route::Heartbeat),
            ),
            (
                "unhealthy waits 120 s",
                auto(),
                &fresh,
                situation(L::Unhealthy, 100),
                Decision::Wait { until: T0 + 20 },
            ),
            (
                "recommend only",
                Policy::default(),
                &fresh,
                situation(L::Down, 90),
                Decision::Recommend(Route::Agent),
            ),
            (
                "off",
                Policy {
                    mode: Mode::Off,
                    ..auto()
                },
                &fresh,
                situation(L::Down, 90),
                Decision::Idle,
            ),
            (
                "redis lost",
                auto(),
                &fresh,
                with(|s| s.redis_ok = false),
                Decision::Blocked(Block::RedisLost),
            ),
            (
                "paused by the flag",
                auto(),
                &fresh,
                with(|s| s.paused_by_flag = true),
                Decision::Blocked(Block::Paused),
            ),
            (
                "held",
                auto(),
                &held,
                situation(L::Down, 90),
                Decision::Blocked(Block::Held(T0 + 60)),
            ),
            (
                "agent gone",
                auto(),
                &fresh,
                with(|s| s.agent_reachable = false),
                Decision::Blocked(Block::AgentUnreachable("gpu-1".into())),
            ),
            (
                "no agent key: the agent route is off",
                auto(),
                &fresh,
                with(|s| {
                    s.agent_requests = false;
                    s.agent_reachable = false;
                }),
                Decision::Blocked(Block::NoAgentKey),
            ),
            (
                "no agent key: a stalled worker still gets its heartbeat's restart",
                auto(),
                &fresh,
                {
                    let mut s = situation(L::Stalled, 5);
                    s.agent_requests = false;
                    s
                },
                Decision::Act(Route::Heartbeat),
            ),
            (
                "a stalled worker needs no agent",
                auto(),
                &fresh,
                {
                    let mut s = situation(L::Stalled, 5);
                    s.agent_reachable = false;
                    s
                },
                Decision::Act(Route::Heartbeat),
            ),
            (
                "whole host down",
                auto(),
                &fresh,
                with(|s| s.host_all_down = true),
                Decision::Blocked(Block::HostDown("gpu-1".into())),
            ),
            (
                "in flight",
                auto(),
                &sent,
                situation(L::Down, 90),
                Decision::Blocked(Block::InFlight),
            ),
            (
                "circuit open",
                auto(),
                &open,
                situation(L::Down, 90),
                Decision::CircuitOpen(Route::Agent),
            ),
        ];
        for (what, policy, memory, s, want) in cases {
            assert_eq!(decide(&policy, memory, &s), want, "{what}");
        }
    }
}
