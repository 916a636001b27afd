//! The guard's view of one worker, contract 2's `workers[].recovery`.

use serde::{Deserialize, Serialize};

use super::{Advice, Block, LastAction, Mode};

/// The guard's state as contract 2 shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum GuardState {
    /// Nothing calls for an action.
    Idle,
    /// A trigger state has not lasted its delay yet.
    Waiting,
    /// The backoff after an attempt runs.
    Backoff,
    /// An action is under way.
    Acting,
    /// Mode `recommend`: an action is called for and left to a person.
    Recommending,
    /// Something stands in the way (Redis lost, paused, the host or its agent).
    Blocked,
    /// An operator holds the worker.
    Held,
    /// The attempts' limit was reached: no automatic action until it closes.
    CircuitOpen,
}

impl GuardState {
    /// The state as contract 2 spells it (the same as its serde form; a test checks).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Idle => "idle",
            Self::Waiting => "waiting",
            Self::Backoff => "backoff",
            Self::Acting => "acting",
            Self::Recommending => "recommending",
            Self::Blocked => "blocked",
            Self::Held => "held",
            Self::CircuitOpen => "circuit_open",
        }
    }
}

/// The guard's view of one worker, contract 2's `workers[].recovery`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecoveryView {
    /// The mode in force (an operator's over the configured one).
    pub mode: Mode,
    /// Where the guard stands.
    pub state: GuardState,
    /// Attempts in the current window.
    pub attempts: u32,
    /// Attempts allowed in a window.
    pub max_attempts: u32,
    /// When the next automatic attempt may run, unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_attempt_at: Option<u64>,
    /// When the oldest attempt leaves the window, unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_resets_at: Option<u64>,
    /// Held until, unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hold_until: Option<u64>,
    /// Why it is held, by whom.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hold_reason: Option<String>,
    /// The last action, who asked, when, and how it ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_action: Option<LastAction>,
    /// What a person should do, in plain words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recommended_action: Option<String>,
    /// The same, as a structure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub advice: Option<Advice>,
    /// What stands in the way, in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocked_by: Option<String>,
    /// The same, as a structure for each side to word.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub blocked: Option<Block>,
}
