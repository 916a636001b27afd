//! What stands in the guard's way.

use serde::{Deserialize, Serialize};

/// Why the guard holds back (contract 2's `workers[].recovery.blocked`; `blocked_by` is its
/// English [`Block::words`]).
///
/// Written and read through a flat `BlockWire` (`{"block": "host_down", "host": "gpu-1"}`),
/// as [`super::Advice`] is, to keep serde's internally tagged machinery out of the page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "BlockWire", try_from = "BlockWire")]
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
    /// The action needs the host's agent, and this server has no agent key to sign requests
    /// with (`PULSEBOARD_AGENT_KEY`): agent requests are off.
    NoAgentKey,
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
            Self::NoAgentKey => {
                "agent requests are off: the server has no agent key (PULSEBOARD_AGENT_KEY)".into()
            }
        }
    }

    /// One of each variant, for table tests on both sides.
    pub fn examples() -> Vec<Self> {
        vec![
            Self::RedisLost,
            Self::Paused,
            Self::Held(1_700_000_000),
            Self::AgentUnreachable("gpu-1".into()),
            Self::HostDown("gpu-1".into()),
            Self::NotAllowListed("gpu-1".into()),
            Self::InFlight,
            Self::NoAgentKey,
        ]
    }
}

/// [`Block`] as it is written.
#[derive(Serialize, Deserialize)]
struct BlockWire {
    block: BlockKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    host: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    until: Option<u64>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum BlockKind {
    RedisLost,
    Paused,
    Held,
    AgentUnreachable,
    HostDown,
    NotAllowListed,
    InFlight,
    NoAgentKey,
}

impl From<Block> for BlockWire {
    fn from(b: Block) -> Self {
        let (block, host, until) = match b {
            Block::RedisLost => (BlockKind::RedisLost, None, None),
            Block::Paused => (BlockKind::Paused, None, None),
            Block::Held(until) => (BlockKind::Held, None, Some(until)),
            Block::AgentUnreachable(h) => (BlockKind::AgentUnreachable, Some(h), None),
            Block::HostDown(h) => (BlockKind::HostDown, Some(h), None),
            Block::NotAllowListed(h) => (BlockKind::NotAllowListed, Some(h), None),
            Block::InFlight => (BlockKind::InFlight, None, None),
            Block::NoAgentKey => (BlockKind::NoAgentKey, None, None),
        };
        BlockWire { block, host, until }
    }
}

impl TryFrom<BlockWire> for Block {
    type Error = &'static str;

    fn try_from(w: BlockWire) -> Result<Self, Self::Error> {
        let host = w.host.ok_or("this block needs a host");
        Ok(match w.block {
            BlockKind::RedisLost => Self::RedisLost,
            BlockKind::Paused => Self::Paused,
            BlockKind::Held => Self::Held(w.until.ok_or("a hold needs until")?),
            BlockKind::AgentUnreachable => Self::AgentUnreachable(host?),
            BlockKind::HostDown => Self::HostDown(host?),
            BlockKind::NotAllowListed => Self::NotAllowListed(host?),
            BlockKind::InFlight => Self::InFlight,
            BlockKind::NoAgentKey => Self::NoAgentKey,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_block_reads_back_as_written() {
        for b in Block::examples() {
            let json = serde_json::to_string(&b).unwrap();
            assert_eq!(serde_json::from_str::<Block>(&json).unwrap(), b, "{json}");
        }
        assert_eq!(
            serde_json::to_value(Block::HostDown("gpu-1".into())).unwrap(),
            serde_json::json!({"block": "host_down", "host": "gpu-1"})
        );
    }
}
