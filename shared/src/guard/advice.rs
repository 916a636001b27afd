//! What a person should do about a worker, for each side to say in its own language.

use serde::{Deserialize, Serialize};

use super::Route;

/// What a person should do, for the page to say in its own language.
///
/// Read through a flat `AdviceWire` (the same JSON): serde's derive for an internally tagged
/// enum buffers the whole value first, and that machinery cost the page 11 KB of wasm.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "advice", rename_all = "snake_case", try_from = "AdviceWire")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Advice {
    /// Restart the worker, by this route.
    Restart {
        /// How.
        route: Route,
    },
    /// Look at the host: every worker on it is down.
    CheckHost {
        /// Which.
        host: String,
    },
    /// The host's agent does not beat: start it, or restart the worker on the host by hand.
    AgentUnreachable {
        /// Which.
        host: String,
    },
    /// The host's agent may not restart this worker: add it to the allow-list, or act by hand.
    NotAllowListed {
        /// Which.
        host: String,
    },
    /// The restarts did not help: read the worker's logs, fix the cause, then reset the guard.
    CrashLoop {
        /// How a restart would go.
        route: Route,
    },
}

/// [`Advice`] as it is written: which advice, and the field it carries.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AdviceWire {
    advice: AdviceKind,
    #[serde(default)]
    route: Option<Route>,
    #[serde(default)]
    host: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum AdviceKind {
    Restart,
    CheckHost,
    AgentUnreachable,
    NotAllowListed,
    CrashLoop,
}

impl TryFrom<AdviceWire> for Advice {
    type Error = &'static str;

    fn try_from(w: AdviceWire) -> Result<Self, Self::Error> {
        let route = w.route.ok_or("this advice needs a route");
        let host = w.host.ok_or("this advice needs a host");
        Ok(match w.advice {
            AdviceKind::Restart => Self::Restart { route: route? },
            AdviceKind::CrashLoop => Self::CrashLoop { route: route? },
            AdviceKind::CheckHost => Self::CheckHost { host: host? },
            AdviceKind::AgentUnreachable => Self::AgentUnreachable { host: host? },
            AdviceKind::NotAllowListed => Self::NotAllowListed { host: host? },
        })
    }
}

impl Advice {
    /// Which advice, as its `advice` tag spells it (`restart`, `crash_loop`, …; the same as the
    /// serde form, a test checks).
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Restart { .. } => "restart",
            Self::CheckHost { .. } => "check_host",
            Self::AgentUnreachable { .. } => "agent_unreachable",
            Self::NotAllowListed { .. } => "not_allow_listed",
            Self::CrashLoop { .. } => "crash_loop",
        }
    }

    /// In plain English words for `worker` (the API's `recommended_action`; the page says it in
    /// its own language from the structure).
    pub fn words(&self, worker: &str) -> String {
        match self {
            Self::Restart {
                route: Route::Heartbeat,
            } => format!("restart {worker}: it drains and exits for its supervisor to start it"),
            Self::Restart {
                route: Route::Agent,
            } => format!("restart {worker} through its host's agent (its supervisor's command)"),
            Self::CheckHost { host } => {
                format!("every worker on {host} is down: check the host first")
            }
            Self::AgentUnreachable { host } => format!(
                "host {host} unreachable: its agent does not beat; restart {worker} on the host by hand"
            ),
            Self::NotAllowListed { host } => format!(
                "the agent on {host} may not restart {worker}: add it to the allow-list or act by hand"
            ),
            Self::CrashLoop { .. } => format!(
                "restarts did not help: read {worker}'s logs, fix the cause, then reset the guard"
            ),
        }
    }
}
