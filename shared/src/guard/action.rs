//! The last action asked of a worker, by the guard or a person, and how it ended.

use serde::{Deserialize, Serialize};

use super::{ActionOutcome, Route};

/// An action asked for, and how it ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LastAction {
    /// Its id (the command's or the agent request's).
    pub id: String,
    /// What was asked: `restart`, `quiet`, `stop`, `reset_and_restart`.
    pub action: String,
    /// How it travelled.
    pub route: Route,
    /// Who asked: an admin token's name, or `auto`.
    pub by: String,
    /// When, unix seconds.
    pub at: u64,
    /// How it ended, in words; `None` while in flight.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
    /// The same, as a structure for each side to word; `None` while in flight.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub outcome: Option<ActionOutcome>,
    /// Whether it worked; `None` while in flight.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ok: Option<bool>,
}
