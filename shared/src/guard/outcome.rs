//! How an action ended, as a structure: each side words it in its own language (the API's
//! English `result` is [`ActionOutcome::words`]).

use serde::{Deserialize, Serialize};

use crate::agent::Outcome as AgentOutcome;

/// How an action ended (contract 2's `workers[].recovery.last_action.outcome`, and the event
/// log's recovery `outcome`).
///
/// Written and read through a flat `OutcomeWire` (`{"outcome": "no_answer", "within_s": 300}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "OutcomeWire", try_from = "OutcomeWire")]
pub enum ActionOutcome {
    /// The worker left its trigger state this long after the action.
    Answered {
        /// Seconds.
        after_s: u64,
    },
    /// Nothing answered within the answer timeout.
    NoAnswer {
        /// The timeout, seconds.
        within_s: u64,
    },
    /// The host's agent answered.
    Agent {
        /// How its request ended.
        outcome: AgentOutcome,
        /// Its host.
        host: String,
        /// The command's exit code, when one ran.
        exit_code: Option<i32>,
        /// Its own words (the end of a failed command's stderr), possibly empty.
        detail: String,
    },
}

impl ActionOutcome {
    /// In plain English words ("answered after 12 s", "failed on gpu-1, exit 1: oom").
    pub fn words(&self) -> String {
        match self {
            Self::Answered { after_s } => format!("answered after {after_s} s"),
            Self::NoAnswer { within_s } => format!("no answer within {within_s} s"),
            Self::Agent {
                outcome,
                host,
                exit_code,
                detail,
            } => {
                let mut words = format!("{} on {host}", agent_outcome_name(*outcome));
                if let Some(code) = exit_code {
                    words.push_str(&format!(", exit {code}"));
                }
                if !detail.is_empty() {
                    words.push_str(&format!(": {detail}"));
                }
                words
            }
        }
    }

    /// Whether the action worked.
    pub fn ok(&self) -> bool {
        match self {
            Self::Answered { .. } => true,
            Self::NoAnswer { .. } => false,
            Self::Agent { outcome, .. } => *outcome == AgentOutcome::Done,
        }
    }

    /// One of each variant (and each agent outcome), for table tests on both sides.
    pub fn examples() -> Vec<Self> {
        let agent = |outcome, exit_code, detail: &str| Self::Agent {
            outcome,
            host: "gpu-1".into(),
            exit_code,
            detail: detail.into(),
        };
        vec![
            Self::Answered { after_s: 12 },
            Self::NoAnswer { within_s: 300 },
            agent(AgentOutcome::Done, Some(0), ""),
            agent(AgentOutcome::Failed, Some(1), "oom"),
            agent(AgentOutcome::Refused, None, ""),
            agent(AgentOutcome::Interrupted, None, ""),
        ]
    }
}

/// An agent outcome's name, as the API spells it.
pub fn agent_outcome_name(outcome: AgentOutcome) -> &'static str {
    match outcome {
        AgentOutcome::Done => "done",
        AgentOutcome::Failed => "failed",
        AgentOutcome::Refused => "refused",
        AgentOutcome::Interrupted => "interrupted",
    }
}

/// [`ActionOutcome`] as it is written.
#[derive(Serialize, Deserialize)]
struct OutcomeWire {
    outcome: OutcomeKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    after_s: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    within_s: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    agent: Option<AgentOutcome>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    host: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    exit_code: Option<i32>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    detail: String,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum OutcomeKind {
    Answered,
    NoAnswer,
    Agent,
}

impl From<ActionOutcome> for OutcomeWire {
    fn from(o: ActionOutcome) -> Self {
        let mut w = OutcomeWire {
            outcome: OutcomeKind::Answered,
            after_s: None,
            within_s: None,
            agent: None,
            host: None,
            exit_code: None,
            detail: String::new(),
        };
        match o {
            ActionOutcome::Answered { after_s } => w.after_s = Some(after_s),
            ActionOutcome::NoAnswer { within_s } => {
                (w.outcome, w.within_s) = (OutcomeKind::NoAnswer, Some(within_s))
            }
            ActionOutcome::Agent {
                outcome,
                host,
                exit_code,
                detail,
            } => {
                w.outcome = OutcomeKind::Agent;
                (w.agent, w.host, w.exit_code, w.detail) =
                    (Some(outcome), Some(host), exit_code, detail);
            }
        }
        w
    }
}

impl TryFrom<OutcomeWire> for ActionOutcome {
    type Error = &'static str;

    fn try_from(w: OutcomeWire) -> Result<Self, Self::Error> {
        Ok(match w.outcome {
            OutcomeKind::Answered => Self::Answered {
                after_s: w.after_s.ok_or("answered needs after_s")?,
            },
            OutcomeKind::NoAnswer => Self::NoAnswer {
                within_s: w.within_s.ok_or("no_answer needs within_s")?,
            },
            OutcomeKind::Agent => Self::Agent {
                outcome: w.agent.ok_or("an agent's outcome needs agent")?,
                host: w.host.ok_or("an agent's outcome needs host")?,
                exit_code: w.exit_code,
                detail: w.detail,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_outcome_reads_back_as_written_and_keeps_the_old_words() {
        for o in ActionOutcome::examples() {
            let json = serde_json::to_string(&o).unwrap();
            assert_eq!(
                serde_json::from_str::<ActionOutcome>(&json).unwrap(),
                o,
                "{json}"
            );
        }
        let failed = &ActionOutcome::examples()[3];
        assert_eq!(failed.words(), "failed on gpu-1, exit 1: oom");
        assert!(!failed.ok());
        for o in [
            AgentOutcome::Done,
            AgentOutcome::Failed,
            AgentOutcome::Refused,
            AgentOutcome::Interrupted,
        ] {
            let serde = serde_json::to_value(o).unwrap();
            assert_eq!(serde.as_str(), Some(agent_outcome_name(o)));
        }
    }
}
