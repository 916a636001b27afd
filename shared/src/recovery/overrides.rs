//! An operator's word on a worker's guard: an action by hand, a hold, a reset, a mode.

use serde::{Deserialize, Serialize};

use super::{LastAction, Memory, Mode};

/// An operator's word on a worker's guard, applied by the lease holder (the one writer of the
/// guard's memory) on its next decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "override", rename_all = "snake_case", deny_unknown_fields)]
pub enum Override {
    /// A person asked for an action by hand: it is in flight now.
    Acted {
        /// The worker.
        worker: String,
        /// What was sent.
        last: LastAction,
    },
    /// No automatic action until `until` (unix seconds); `None` lifts the hold.
    Hold {
        /// The worker.
        worker: String,
        /// Until when.
        until: Option<u64>,
        /// Why, and who.
        reason: Option<String>,
    },
    /// Forget the attempts, close the circuit, end what is in flight.
    Reset {
        /// The worker.
        worker: String,
    },
    /// This worker's mode from now on (`None`: back to the configured one).
    Mode {
        /// The worker.
        worker: String,
        /// The mode.
        mode: Option<Mode>,
    },
}

impl Override {
    /// The worker it is about.
    pub fn worker(&self) -> &str {
        match self {
            Self::Acted { worker, .. }
            | Self::Hold { worker, .. }
            | Self::Reset { worker }
            | Self::Mode { worker, .. } => worker,
        }
    }

    /// `memory` after it.
    pub fn apply(&self, memory: &mut Memory) {
        match self {
            Self::Acted { last, .. } => {
                memory.last = Some(last.clone());
                memory.in_flight = true;
            }
            Self::Hold { until, reason, .. } => {
                memory.hold_until = *until;
                memory.hold_reason = until.and(reason.clone());
            }
            Self::Reset { .. } => {
                memory.attempts.clear();
                memory.circuit_open_at = None;
                memory.healthy_since = None;
                memory.in_flight = false;
            }
            Self::Mode { mode, .. } => memory.mode = *mode,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recovery::fixtures::*;
    use crate::recovery::{decide, Decision, L};

    #[test]
    fn overrides_change_only_what_they_name() {
        let mut m = Memory {
            attempts: vec![T0],
            circuit_open_at: Some(T0),
            ..Memory::default()
        };
        Override::Hold {
            worker: "w".into(),
            until: Some(T0 + 60),
            reason: Some("ops".into()),
        }
        .apply(&mut m);
        assert_eq!((m.hold_until, m.circuit_open_at), (Some(T0 + 60), Some(T0)));
        Override::Reset { worker: "w".into() }.apply(&mut m);
        assert_eq!((m.attempts.len(), m.circuit_open_at), (0, None));
        assert_eq!(m.hold_until, Some(T0 + 60), "a reset keeps the hold");
        Override::Mode {
            worker: "w".into(),
            mode: Some(Mode::Off),
        }
        .apply(&mut m);
        let s = situation(L::Down, 90);
        assert_eq!(
            decide(&auto(), &m, &s),
            Decision::Idle,
            "the operator's mode wins"
        );
        let text = r#"{"override":"reset","worker":"w","argv":["sh"]}"#;
        assert!(
            serde_json::from_str::<Override>(text).is_err(),
            "nothing extra"
        );
    }
}
