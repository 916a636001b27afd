//! The policy: what the guard may do for a worker, on which states, and how often.

use serde::{Deserialize, Serialize};

use super::{Mode, L};

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
    /// How long an action may stay unanswered (the worker still in its trigger state, no word
    /// from the agent) before it counts as failed, in seconds.
    pub answer_timeout_s: u64,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            mode: Mode::Recommend,
            // In the states' alphabetical order, as the configuration file lists them.
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
                    state: L::Late,
                    after_s: 60,
                },
                Trigger {
                    state: L::Stalled,
                    after_s: 0,
                },
                Trigger {
                    state: L::Unhealthy,
                    after_s: 120,
                },
            ],
            backoff_start_s: 30,
            backoff_max_s: 600,
            max_attempts: 3,
            window_s: 1800,
            healthy_reset_s: 600,
            // A worker may take minutes to drain its job and be ready again.
            answer_timeout_s: 300,
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
