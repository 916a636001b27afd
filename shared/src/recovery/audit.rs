//! The guard's entries in the event log.

use serde::{Deserialize, Serialize};

use super::Route;

/// One entry of the audit trail (the event log): what the guard or a person did about a worker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEntry {
    /// `acted`, `result`, `circuit_open`, `circuit_closed`, `blocked`, `recommend`, `hold`,
    /// `hold_lifted`, `reset`, `mode`.
    pub what: String,
    /// Who: an admin token's name, or `auto`.
    pub by: String,
    /// The action's id, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The action (`restart`, `reset_and_restart`), when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// How it travelled, when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route: Option<Route>,
    /// Whether it worked, on a result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ok: Option<bool>,
    /// In words: the result, why it is blocked, the hold's reason.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub detail: String,
}
