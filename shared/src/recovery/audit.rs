//! The guard's entries in the event log.

use serde::{Deserialize, Serialize};

use super::{ActionOutcome, Advice, Block, LastAction, Route};

/// What an audit entry records (its `what`, spelled as before: `acted`, `result`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum AuditWhat {
    /// An action was asked (`id`, `action`, `route`).
    Acted,
    /// An action ended (`ok`, `outcome`).
    Result,
    /// The attempts' limit was reached (`advice`).
    CircuitOpen,
    /// A healthy period closed the circuit (`healthy_s`).
    CircuitClosed,
    /// Something stands in the way (`blocked`).
    Blocked,
    /// Mode `recommend`: an action is left to a person (`advice`).
    Recommend,
    /// An operator holds the guard (`hold_s`, `reason`).
    Hold,
    /// An operator lifted a hold.
    HoldLifted,
    /// An operator forgot the attempts and closed the circuit.
    Reset,
    /// An operator set the mode (`mode`).
    Mode,
    /// Written by a newer server: shown by its `detail`.
    #[serde(other)]
    Other,
}

impl AuditWhat {
    /// Every kind, for table tests.
    pub const ALL: [Self; 11] = [
        Self::Acted,
        Self::Result,
        Self::CircuitOpen,
        Self::CircuitClosed,
        Self::Blocked,
        Self::Recommend,
        Self::Hold,
        Self::HoldLifted,
        Self::Reset,
        Self::Mode,
        Self::Other,
    ];

    /// As the event log spells it (the same as its serde form; a test checks).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Acted => "acted",
            Self::Result => "result",
            Self::CircuitOpen => "circuit_open",
            Self::CircuitClosed => "circuit_closed",
            Self::Blocked => "blocked",
            Self::Recommend => "recommend",
            Self::Hold => "hold",
            Self::HoldLifted => "hold_lifted",
            Self::Reset => "reset",
            Self::Mode => "mode",
            Self::Other => "other",
        }
    }
}

/// One entry of the audit trail (the event log): what the guard or a person did about a worker.
///
/// `detail` is the English sentence for API readers; the typed fields beside it are what each
/// side words in its own language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEntry {
    /// What happened.
    pub what: AuditWhat,
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
    /// How the action ended, on a `result`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub outcome: Option<ActionOutcome>,
    /// What stands in the way, on `blocked`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub blocked: Option<Block>,
    /// What a person should do, on `recommend` and `circuit_open`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub advice: Option<Advice>,
    /// For how long, on `hold` (seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hold_s: Option<u64>,
    /// The healthy period that closed the circuit, on `circuit_closed` (seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub healthy_s: Option<u64>,
    /// The mode set, on `mode`: `off`, `recommend`, `auto`, or `default` (back to the
    /// configured one), as the request spelled it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    /// The operator's own words, on `hold` and `mode`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl AuditEntry {
    /// An entry of `what` by `by`, with nothing else said yet.
    pub fn new(what: AuditWhat, by: &str) -> Self {
        Self {
            what,
            by: by.to_owned(),
            id: None,
            action: None,
            route: None,
            ok: None,
            detail: String::new(),
            outcome: None,
            blocked: None,
            advice: None,
            hold_s: None,
            healthy_s: None,
            mode: None,
            reason: None,
        }
    }

    /// An entry of `what` about `last`: its id, action, route, and how it ended if it did.
    pub fn about(what: AuditWhat, last: &LastAction) -> Self {
        Self {
            id: Some(last.id.clone()),
            action: Some(last.action.clone()),
            route: Some(last.route),
            ok: last.ok,
            detail: last.result.clone().unwrap_or_default(),
            outcome: last.outcome.clone(),
            ..Self::new(what, &last.by)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_spelled_as_before() {
        for w in AuditWhat::ALL {
            let json = serde_json::to_value(w).unwrap();
            assert_eq!(json.as_str(), Some(w.as_str()));
        }
        let later: AuditWhat = serde_json::from_str("\"something_new\"").unwrap();
        assert_eq!(later, AuditWhat::Other);
    }
}
