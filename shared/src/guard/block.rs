//! What stands in the guard's way.

/// Why the guard holds back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    /// The aggregator lost Redis: the view cannot be trusted.
    RedisLost,
    /// The queue flag pauses the worker: paused is not down.
    Paused,
    /// An operator holds the worker until then.
    Held(u64),
    /// The action needs the host's agent, which does not beat.
    AgentUnreachable(String),
    /// The whole host is down: one look at the host, not N restarts.
    HostDown(String),
    /// The host's agent beats but its allow-list does not name the worker.
    NotAllowListed(String),
    /// The previous action is not answered yet.
    InFlight,
}

impl Block {
    /// In plain English words.
    pub fn words(&self) -> String {
        match self {
            Self::RedisLost => "pulseboard lost Redis: the view cannot be trusted".into(),
            Self::Paused => "paused by the queue flag (paused is not down)".into(),
            Self::Held(_) => "held by an operator".into(),
            Self::AgentUnreachable(host) => {
                format!("host {host} unreachable (its agent does not beat)")
            }
            Self::HostDown(host) => format!("every worker on {host} is down"),
            Self::NotAllowListed(host) => format!("not in the allow-list of the agent on {host}"),
            Self::InFlight => "the last action is not answered yet".into(),
        }
    }
}
