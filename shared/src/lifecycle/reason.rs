//! Why a worker is in its lifecycle state, as a structure: each side words it in its own
//! language (the API's English `reason` is [`Reason::words`]; the page says it in Korean too).

use serde::{Deserialize, Serialize};

/// Why, as a structure (contract 2's `workers[].lifecycle.reason_code`).
///
/// Written and read through a flat `ReasonWire` (`{"reason": "exited", "exit_code": 1}`): serde's
/// derive for an internally tagged enum costs the page kilobytes of wasm.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "ReasonWire", try_from = "ReasonWire")]
pub enum Reason {
    /// The worker's own words, shown as it wrote them.
    Own {
        /// Its words.
        words: String,
    },
    /// Its process exited with an error code.
    Exited {
        /// The code.
        code: i32,
    },
    /// Its heartbeat key expired.
    HeartbeatExpired,
    /// No heartbeat was ever seen.
    NeverSeen,
    /// It still said `starting` after the ready timeout.
    NotReady {
        /// The timeout, seconds.
        after_s: u64,
    },
    /// Busy on one job for too long.
    OnJob {
        /// The job.
        job: String,
    },
    /// Some of its own checks fail (with its own words, if it gave any).
    Failing {
        /// The failing checks.
        checks: Vec<String>,
        /// Its own words.
        words: Option<String>,
    },
    /// One part of a worker of several processes decides the whole (`[[workers]] parts`).
    Part {
        /// The part.
        part: String,
        /// The part's own state.
        state: super::LifecycleState,
        /// Why the part is in it, if known.
        why: Option<Box<Reason>>,
    },
}

impl Reason {
    /// In plain English words (the API's `reason`).
    pub fn words(&self) -> String {
        match self {
            Self::Own { words } => words.clone(),
            Self::Exited { code } => format!("exited with code {code}"),
            Self::HeartbeatExpired => "heartbeat expired".into(),
            Self::NeverSeen => "never seen".into(),
            Self::NotReady { after_s } => format!("not ready after {after_s} s"),
            Self::OnJob { job } => format!("on job {job}"),
            Self::Failing { checks, words } => {
                let failing =
                    (!checks.is_empty()).then(|| format!("failing: {}", checks.join(", ")));
                words
                    .iter()
                    .cloned()
                    .chain(failing)
                    .collect::<Vec<_>>()
                    .join("; ")
            }
            Self::Part { part, state, why } => match why {
                Some(why) => format!("part {part} {}: {}", state.as_str(), why.words()),
                None => format!("part {part} {}", state.as_str()),
            },
        }
    }

    /// One of each variant, for table tests on both sides.
    pub fn examples() -> Vec<Self> {
        vec![
            Self::Own {
                words: "warming cache".into(),
            },
            Self::Exited { code: 3 },
            Self::HeartbeatExpired,
            Self::NeverSeen,
            Self::NotReady { after_s: 120 },
            Self::OnJob { job: "j-7".into() },
            Self::Failing {
                checks: vec!["gpu".into(), "db".into()],
                words: Some("cuda lost".into()),
            },
            Self::Part {
                part: "ui".into(),
                state: super::LifecycleState::Down,
                why: Some(Box::new(Self::HeartbeatExpired)),
            },
        ]
    }
}

/// [`Reason`] as it is written: which reason, and the fields it carries.
#[derive(Serialize, Deserialize)]
struct ReasonWire {
    reason: ReasonKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    words: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    exit_code: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    after_s: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    job: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    checks: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    part: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    state: Option<super::LifecycleState>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    why: Option<Box<ReasonWire>>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum ReasonKind {
    Own,
    Exited,
    HeartbeatExpired,
    NeverSeen,
    NotReady,
    OnJob,
    Failing,
    Part,
}

impl From<Reason> for ReasonWire {
    fn from(r: Reason) -> Self {
        let mut w = ReasonWire {
            reason: ReasonKind::Own,
            words: None,
            exit_code: None,
            after_s: None,
            job: None,
            checks: Vec::new(),
            part: None,
            state: None,
            why: None,
        };
        match r {
            Reason::Own { words } => w.words = Some(words),
            Reason::Exited { code } => (w.reason, w.exit_code) = (ReasonKind::Exited, Some(code)),
            Reason::HeartbeatExpired => w.reason = ReasonKind::HeartbeatExpired,
            Reason::NeverSeen => w.reason = ReasonKind::NeverSeen,
            Reason::NotReady { after_s } => {
                (w.reason, w.after_s) = (ReasonKind::NotReady, Some(after_s))
            }
            Reason::OnJob { job } => (w.reason, w.job) = (ReasonKind::OnJob, Some(job)),
            Reason::Failing { checks, words } => {
                (w.reason, w.checks, w.words) = (ReasonKind::Failing, checks, words)
            }
            Reason::Part { part, state, why } => {
                (w.reason, w.part, w.state) = (ReasonKind::Part, Some(part), Some(state));
                w.why = why.map(|why| Box::new((*why).into()));
            }
        }
        w
    }
}

impl TryFrom<ReasonWire> for Reason {
    type Error = &'static str;

    fn try_from(w: ReasonWire) -> Result<Self, Self::Error> {
        Ok(match w.reason {
            ReasonKind::Own => Self::Own {
                words: w.words.ok_or("this reason needs words")?,
            },
            ReasonKind::Exited => Self::Exited {
                code: w.exit_code.ok_or("this reason needs an exit_code")?,
            },
            ReasonKind::HeartbeatExpired => Self::HeartbeatExpired,
            ReasonKind::NeverSeen => Self::NeverSeen,
            ReasonKind::NotReady => Self::NotReady {
                after_s: w.after_s.ok_or("this reason needs after_s")?,
            },
            ReasonKind::OnJob => Self::OnJob {
                job: w.job.ok_or("this reason needs a job")?,
            },
            ReasonKind::Failing => Self::Failing {
                checks: w.checks,
                words: w.words,
            },
            ReasonKind::Part => Self::Part {
                part: w.part.ok_or("this reason needs a part")?,
                state: w.state.ok_or("this reason needs a state")?,
                why: w
                    .why
                    .map(|why| Self::try_from(*why))
                    .transpose()?
                    .map(Box::new),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_reads_back_as_written() {
        for r in Reason::examples() {
            let json = serde_json::to_string(&r).unwrap();
            assert_eq!(serde_json::from_str::<Reason>(&json).unwrap(), r, "{json}");
            assert!(!r.words().is_empty());
        }
        let exited = serde_json::to_value(Reason::Exited { code: 1 }).unwrap();
        assert_eq!(
            exited,
            serde_json::json!({"reason": "exited", "exit_code": 1})
        );
    }
}
