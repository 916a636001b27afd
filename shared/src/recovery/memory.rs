//! What the guard remembers about a worker between decisions, and how a decision changes it.

use serde::{Deserialize, Serialize};

use super::{Decision, LastAction, Mode, Policy};

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
    /// The last action asked for, by the guard or a person, and how it ended.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last: Option<LastAction>,
    /// An operator's mode for this worker, over the configured one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<Mode>,
    /// Why the hold was set, and by whom.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hold_reason: Option<String>,
}

impl Memory {
    /// Whether there is nothing worth keeping (most workers, most of the time).
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
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
        m.hold_reason = None;
    }
    if m.attempts.is_empty() && m.circuit_open_at.is_none() {
        // Nothing to forget: no healthy clock (most workers keep no memory at all).
        m.healthy_since = None;
    }
    m
}

/// The attempts still inside the window at `now`, oldest first.
pub(super) fn attempts_in_window(policy: &Policy, memory: &Memory, now: u64) -> Vec<u64> {
    let mut recent: Vec<u64> = memory
        .attempts
        .iter()
        .copied()
        .filter(|at| now.saturating_sub(*at) < policy.window_s)
        .collect();
    recent.sort_unstable();
    recent
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recovery::fixtures::*;
    use crate::recovery::{decide, Route, Situation, L};

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
