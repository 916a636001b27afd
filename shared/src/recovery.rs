//! The recovery guard: whether pulseboard should ask for a worker to be restarted now, wait, or
//! hold back, as pure functions of the policy, the guard's memory and the situation. pulseboard
//! decides; the worker (through its heartbeat) or its supervisor (through the host agent) acts.
//!
//! Bounds, in order: nothing happens while the view cannot be trusted (Redis lost), while the
//! queue flag pauses the worker (paused is not down), during a hold, while the host's agent is
//! unreachable, or when every worker of a host is down (one host-level recommendation instead of
//! N restarts). A trigger state must last its delay; attempts are spaced by a backoff that
//! doubles; past `max_attempts` in `window_s` the circuit opens: no more automatic actions until
//! a healthy period (or an operator) closes it.
//!
//! Defaults, and why (Kubernetes waits 10 s doubling to 300 s; systemd gives up after 5 starts
//! in 10 s): a worker needs time to load and declare itself ready (`ready_timeout_s`, 120 s), so
//! the first retry waits 30 s and the backoff doubles to 10 min; three attempts in 30 min is a
//! crash loop worth a person's look, not a fourth restart; 10 min healthy forgets the past.

use serde::{Deserialize, Serialize};

use crate::lifecycle::LifecycleState as L;

/// What the guard may do on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Mode {
    /// Nothing, not even a recommendation.
    Off,
    /// Say what should be done; do nothing.
    #[default]
    Recommend,
    /// Act within the bounds.
    Auto,
}

/// How an action reaches the worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Route {
    /// Read by the worker on its next beat: it drains and exits so its supervisor restarts it.
    Heartbeat,
    /// Run by the host's agent: the supervisor's own restart command, from an allow-list.
    Agent,
}

/// A lifecycle state that calls for a restart once it has lasted `after_s`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trigger {
    /// The state.
    pub state: L,
    /// How long it must last first, in seconds.
    pub after_s: u64,
}

/// The policy for a worker (or a kind).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Policy {
    /// What the guard may do.
    pub mode: Mode,
    /// The states that call for a restart, and after how long.
    pub triggers: Vec<Trigger>,
    /// The wait after the first attempt; it doubles after each one.
    pub backoff_start_s: u64,
    /// The longest wait between attempts.
    pub backoff_max_s: u64,
    /// Attempts allowed in `window_s` before the circuit opens.
    pub max_attempts: u32,
    /// The window attempts are counted in, in seconds.
    pub window_s: u64,
    /// A healthy period that resets the backoff and closes the circuit, in seconds.
    pub healthy_reset_s: u64,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            mode: Mode::Recommend,
            triggers: vec![
                Trigger {
                    state: L::Down,
                    after_s: 60,
                },
                Trigger {
                    state: L::Failed,
                    after_s: 0,
                },
                Trigger {
                    state: L::Stalled,
                    after_s: 0,
                },
                Trigger {
                    state: L::Unhealthy,
                    after_s: 120,
                },
                Trigger {
                    state: L::Late,
                    after_s: 60,
                },
            ],
            backoff_start_s: 30,
            backoff_max_s: 600,
            max_attempts: 3,
            window_s: 1800,
            healthy_reset_s: 600,
        }
    }
}

impl Policy {
    /// The wait after `attempts` attempts: `backoff_start_s` doubling, at most `backoff_max_s`.
    pub fn backoff_after(&self, attempts: usize) -> u64 {
        let doublings = attempts.saturating_sub(1).min(32) as u32;
        self.backoff_start_s
            .saturating_mul(1u64 << doublings)
            .min(self.backoff_max_s)
    }
}

/// What the guard remembers about one worker (kept in Redis between decisions).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Memory {
    /// When each attempt in the current window was made (unix seconds).
    pub attempts: Vec<u64>,
    /// Since when the circuit is open.
    pub circuit_open_at: Option<u64>,
    /// Since when the worker has been healthy without a break.
    pub healthy_since: Option<u64>,
    /// No automatic action before this (an operator's hold).
    pub hold_until: Option<u64>,
    /// An action sent and not yet answered: nothing more until it is.
    pub in_flight: bool,
}

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
    /// Every worker of that host is down.
    pub host_all_down: bool,
}

/// Why the guard holds back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    /// The aggregator lost Redis: the view cannot be trusted.
    RedisLost,
    /// The queue flag pauses the worker: paused is not down.
    Paused,
    /// An operator holds the worker until then.
    Held(u64),
    /// The action needs the host's agent, which does not beat.
    AgentUnreachable(String),
    /// The whole host is down: one look at the host, not N restarts.
    HostDown(String),
    /// The previous action is not answered yet.
    InFlight,
}

/// What the guard says now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Nothing calls for an action.
    Idle,
    /// A trigger state has not lasted its delay yet, or the backoff runs: not before `until`.
    Wait {
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
    if policy.mode == Mode::Off {
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
    if let Some(until) = memory.hold_until.filter(|u| *u > s.now) {
        return Decision::Blocked(Block::Held(until));
    }
    if memory.circuit_open_at.is_some() {
        return Decision::CircuitOpen(route);
    }
    let host = s.host.clone().unwrap_or_else(|| "?".into());
    if route == Route::Agent && s.host_all_down {
        return Decision::Blocked(Block::HostDown(host));
    }
    if route == Route::Agent && !s.agent_reachable {
        return Decision::Blocked(Block::AgentUnreachable(host));
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
            return Decision::Wait { until };
        }
    }
    if recent.len() >= policy.max_attempts as usize {
        return Decision::OpenCircuit(route);
    }
    match policy.mode {
        Mode::Auto => Decision::Act(route),
        _ => Decision::Recommend(route),
    }
}

/// The memory after `decision` was carried out at `now` (an attempt counted, the circuit
/// opened), and after seeing the worker `healthy` or not: a healthy period long enough forgets
/// the attempts and closes the circuit.
pub fn remember(
    policy: &Policy,
    memory: &Memory,
    decision: &Decision,
    healthy: bool,
    now: u64,
) -> Memory {
    let mut m = memory.clone();
    m.attempts = attempts_in_window(policy, memory, now);
    match decision {
        Decision::Act(_) => {
            m.attempts.push(now);
            m.in_flight = true;
        }
        Decision::OpenCircuit(_) => m.circuit_open_at = Some(now),
        _ => {}
    }
    if healthy {
        let since = *m.healthy_since.get_or_insert(now);
        if now.saturating_sub(since) >= policy.healthy_reset_s {
            m.attempts.clear();
            m.circuit_open_at = None;
        }
    } else {
        m.healthy_since = None;
    }
    if m.hold_until.is_some_and(|u| u <= now) {
        m.hold_until = None;
    }
    m
}

/// The attempts still inside the window at `now`, oldest first.
fn attempts_in_window(policy: &Policy, memory: &Memory, now: u64) -> Vec<u64> {
    let mut recent: Vec<u64> = memory
        .attempts
        .iter()
        .copied()
        .filter(|at| now.saturating_sub(*at) < policy.window_s)
        .collect();
    recent.sort_unstable();
    recent
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

    const T0: u64 = 1_800_000_000;

    fn situation(state: L, age: u64) -> Situation {
        Situation {
            now: T0,
            state,
            state_age_s: age,
            redis_ok: true,
            paused_by_flag: false,
            host: Some("gpu-1".into()),
            agent_reachable: true,
            host_all_down: false,
        }
    }

    fn auto() -> Policy {
        Policy {
            mode: Mode::Auto,
            ..Policy::default()
        }
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

    #[test]
    fn attempts_back_off_then_the_circuit_opens_once_and_a_healthy_period_closes_it() {
        let policy = auto();
        let mut memory = Memory::default();
        let mut acted = vec![];
        let mut opened = vec![];
        // A crash loop: down for good, checked every 5 s for an hour; each action is answered
        // (the worker comes back for a moment and dies again).
        for t in (0..3600).step_by(5) {
            let now = T0 + t;
            let d = decide(
                &policy,
                &memory,
                &Situation {
                    now,
                    ..situation(L::Down, 120)
                },
            );
            match d {
                Decision::Act(_) => acted.push(t),
                Decision::OpenCircuit(_) => opened.push(t),
                _ => {}
            }
            memory = remember(&policy, &memory, &d, false, now);
            memory.in_flight = false;
        }
        assert_eq!(acted, vec![0, 30, 90], "30 s, then 60 s apart: {acted:?}");
        assert_eq!(
            opened,
            vec![210],
            "once, when the third attempt's backoff is over"
        );
        assert_eq!(
            decide(
                &policy,
                &memory,
                &Situation {
                    now: T0 + 3600,
                    ..situation(L::Down, 120)
                }
            ),
            Decision::CircuitOpen(Route::Agent),
            "no attempt after, even past the window"
        );
        // Healthy for 10 minutes closes it.
        for t in (3600..4300).step_by(5) {
            memory = remember(&policy, &memory, &Decision::Idle, true, T0 + t);
        }
        assert_eq!(memory.circuit_open_at, None);
        assert!(memory.attempts.is_empty());
        assert_eq!(
            decide(
                &policy,
                &memory,
                &Situation {
                    now: T0 + 4300,
                    ..situation(L::Down, 120)
                }
            ),
            Decision::Act(Route::Agent)
        );
    }

    #[test]
    fn a_short_healthy_spell_forgets_nothing_and_old_attempts_leave_the_window() {
        let policy = auto();
        let memory = Memory {
            attempts: vec![T0 - 1900, T0 - 100],
            ..Memory::default()
        };
        let m = remember(&policy, &memory, &Decision::Idle, true, T0);
        assert_eq!(m.attempts, vec![T0 - 100], "the one outside 30 min is gone");
        let m = remember(&policy, &m, &Decision::Idle, true, T0 + 60);
        assert_eq!(m.attempts, vec![T0 - 100], "one healthy minute is not ten");
        let m = remember(&policy, &m, &Decision::Idle, false, T0 + 70);
        assert_eq!(m.healthy_since, None);
        // The backoff after one attempt is 30 s, after two 60 s, capped at 600 s.
        assert_eq!(policy.backoff_after(1), 30);
        assert_eq!(policy.backoff_after(2), 60);
        assert_eq!(policy.backoff_after(9), 600);
    }

    #[test]
    fn a_hold_ends_by_itself() {
        let policy = auto();
        let memory = Memory {
            hold_until: Some(T0 + 10),
            ..Memory::default()
        };
        let m = remember(&policy, &memory, &Decision::Idle, false, T0 + 11);
        assert_eq!(m.hold_until, None);
        let s = Situation {
            now: T0 + 11,
            ..situation(L::Down, 90)
        };
        assert_eq!(decide(&policy, &m, &s), Decision::Act(Route::Agent));
    }
}
