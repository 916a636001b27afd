//! The API's error answer: what every route says when it refuses or fails, with a typed reason
//! on a conflict (409) for the page to word in its own language.

use serde::{Deserialize, Serialize};

/// Why a request failed (the body of every 4xx and 5xx answer).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiError {
    /// What is wrong, in words.
    pub error: String,
    /// On a 409: the conflict, as a structure (`error` is its English words).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub conflict: Option<Conflict>,
}

impl ApiError {
    /// An error in words only.
    pub fn new(error: impl Into<String>) -> Self {
        Self {
            error: error.into(),
            conflict: None,
        }
    }
}

impl From<Conflict> for ApiError {
    fn from(conflict: Conflict) -> Self {
        Self {
            error: conflict.words(),
            conflict: Some(conflict),
        }
    }
}

/// Why an action was refused with 409.
///
/// Written and read through a flat `ConflictWire` (`{"conflict": "in_flight", "id": "c-1",
/// "by": "ops"}`), as the guard's other enums are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "ConflictWire", try_from = "ConflictWire")]
pub enum Conflict {
    /// The same action is still in flight.
    InFlight {
        /// Its id.
        id: String,
        /// Who asked it.
        by: String,
    },
    /// The worker does not beat and has no configured host whose agent could restart it.
    NoRoute,
    /// The worker does not beat and its host's agent cannot be asked: this server has no agent
    /// key to sign requests with (`PULSEBOARD_AGENT_KEY`).
    NoAgentKey,
}

impl Conflict {
    /// In plain English words (the answer's `error`).
    pub fn words(&self) -> String {
        match self {
            Self::InFlight { id, by } => {
                format!("the same action ({id}) asked by {by} is still in flight")
            }
            Self::NoRoute => {
                "the worker does not beat and has no configured host whose agent could restart it"
                    .into()
            }
            Self::NoAgentKey => "the worker does not beat, and agent requests are off: the \
                                 server has no agent key (PULSEBOARD_AGENT_KEY)"
                .into(),
        }
    }

    /// One of each variant, for table tests on both sides.
    pub fn examples() -> Vec<Self> {
        vec![
            Self::InFlight {
                id: "c-1".into(),
                by: "ops".into(),
            },
            Self::NoRoute,
            Self::NoAgentKey,
        ]
    }
}

#[derive(Serialize, Deserialize)]
struct ConflictWire {
    conflict: ConflictKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    by: Option<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum ConflictKind {
    InFlight,
    NoRoute,
    NoAgentKey,
}

impl From<Conflict> for ConflictWire {
    fn from(c: Conflict) -> Self {
        match c {
            Conflict::InFlight { id, by } => Self {
                conflict: ConflictKind::InFlight,
                id: Some(id),
                by: Some(by),
            },
            Conflict::NoRoute => Self {
                conflict: ConflictKind::NoRoute,
                id: None,
                by: None,
            },
            Conflict::NoAgentKey => Self {
                conflict: ConflictKind::NoAgentKey,
                id: None,
                by: None,
            },
        }
    }
}

impl TryFrom<ConflictWire> for Conflict {
    type Error = &'static str;

    fn try_from(w: ConflictWire) -> Result<Self, Self::Error> {
        Ok(match w.conflict {
            ConflictKind::InFlight => Self::InFlight {
                id: w.id.ok_or("in_flight needs an id")?,
                by: w.by.ok_or("in_flight needs by")?,
            },
            ConflictKind::NoRoute => Self::NoRoute,
            ConflictKind::NoAgentKey => Self::NoAgentKey,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_conflict_answer_carries_its_words_and_its_structure() {
        for c in Conflict::examples() {
            let answer = ApiError::from(c.clone());
            let json = serde_json::to_string(&answer).unwrap();
            assert_eq!(serde_json::from_str::<ApiError>(&json).unwrap(), answer);
            assert_eq!(answer.error, c.words());
        }
        let plain = serde_json::to_value(ApiError::new("no worker of that name")).unwrap();
        assert_eq!(
            plain,
            serde_json::json!({"error": "no worker of that name"})
        );
    }
}
