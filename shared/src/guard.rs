//! The recovery guard as the API, the page and the event log see it: its mode, its state, the
//! last action and how it ended, what stands in its way and what a person should do. Plain data
//! with their English words; the judgement that produces them is the `recovery` module, which
//! depends on this module and never the other way (contract 2 embeds these types).

mod action;
mod advice;
mod block;
mod outcome;
mod view;

use serde::{Deserialize, Serialize};

pub use action::LastAction;
pub use advice::Advice;
pub use block::Block;
pub use outcome::{agent_outcome_name, ActionOutcome};
pub use view::{GuardState, RecoveryView};

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

impl Mode {
    /// The mode as the configuration spells it (the same as its serde form; a test checks).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Off => "off",
            Self::Recommend => "recommend",
            Self::Auto => "auto",
        }
    }

    /// Reads `off`, `recommend` or `auto`.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "off" => Some(Self::Off),
            "recommend" => Some(Self::Recommend),
            "auto" => Some(Self::Auto),
            _ => None,
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lifecycle::LifecycleState as L;

    #[test]
    fn spellings_are_the_serde_forms() {
        let serde = |v: serde_json::Value| v.as_str().unwrap().to_owned();
        for m in [Mode::Off, Mode::Recommend, Mode::Auto] {
            assert_eq!(m.as_str(), serde(serde_json::to_value(m).unwrap()));
            assert_eq!(Mode::parse(m.as_str()), Some(m));
        }
        use GuardState as G;
        for g in [
            G::Idle,
            G::Waiting,
            G::Backoff,
            G::Acting,
            G::Recommending,
            G::Blocked,
            G::Held,
            G::CircuitOpen,
        ] {
            assert_eq!(g.as_str(), serde(serde_json::to_value(g).unwrap()));
        }
        for l in [
            L::Starting,
            L::Ready,
            L::Unhealthy,
            L::Late,
            L::Stalled,
            L::Draining,
            L::Stopped,
            L::Failed,
            L::Down,
        ] {
            assert_eq!(l.as_str(), serde(serde_json::to_value(l).unwrap()));
        }
        let host = || "gpu-01".to_owned();
        for a in [
            Advice::Restart {
                route: Route::Heartbeat,
            },
            Advice::CheckHost { host: host() },
            Advice::AgentUnreachable { host: host() },
            Advice::NotAllowListed { host: host() },
            Advice::CrashLoop {
                route: Route::Agent,
            },
        ] {
            let tag = serde(serde_json::to_value(&a).unwrap()["advice"].clone());
            assert_eq!(a.as_str(), tag);
        }
    }
}
