//! What every refresh reads for the guard, in the same round trip as the workers (one bounded
//! `GETRANGE` for its memory, one per configured host for its agent's beat), and what it puts on
//! the snapshot: `agents` and each worker's `recovery` view. Every process shows the same view;
//! only the decider acts on it. A value over its bound is garbage: never parsed, reported.

use pulseboard_shared::agent::{beat_key, Beat};
use pulseboard_shared::recovery::attach_views;
use pulseboard_shared::{HostAgent, HostInfo, Nodes};

use super::stored::Stored;
use crate::config::RecoverySettings;
use crate::ledger::store::Keys;
use crate::reader::bounded::{describe, guard_memory_bound, MAX_AGENT_BEAT_BYTES};
use crate::reader::{Bounded, BoundedKey};

/// The keys to read: the guard's memory (bounded for a fleet of `workers`), then each host's
/// agent beat. Agent beats are read for the configured hosts only, so their count is the
/// configuration's, whatever Redis holds.
pub fn keys(keys: &Keys, hosts: &[HostInfo], workers: usize) -> Vec<BoundedKey> {
    let memory = BoundedKey {
        key: keys.recovery(),
        max: guard_memory_bound(workers),
    };
    std::iter::once(memory)
        .chain(hosts.iter().map(|h| BoundedKey {
            key: beat_key(&h.name),
            max: MAX_AGENT_BEAT_BYTES,
        }))
        .collect()
}

/// A value over its bound, as `(what, problem)` for the log.
pub type Oversized = (String, String);

/// Puts the agents and the guard's views on `nodes` from `values` (read for [`keys`], in order);
/// `agent_requests`: whether this server holds the agent key (else the route through an agent
/// shows blocked); `silences`: those in force (maintenance holds the guard). Returns the values that were over their bound (ignored: an empty memory, an
/// absent agent).
pub fn apply(
    nodes: &mut Nodes,
    values: &[Bounded],
    hosts: &[HostInfo],
    settings: &RecoverySettings,
    (now, agent_requests): (u64, bool),
    silences: &[pulseboard_shared::silence::Silence],
) -> Vec<Oversized> {
    let mut oversized = Vec::new();
    let mut note = |what: String, value: &Bounded| {
        if let Bounded::TooLarge { max } = value {
            oversized.push((what, format!("larger than {}: ignored", describe(*max))));
        }
    };
    let memory = values.first().unwrap_or(&Bounded::Absent);
    note("recovery guard memory".into(), memory);
    let stored = Stored::parse(memory.bytes());
    nodes.agents = hosts
        .iter()
        .zip(values.iter().skip(1))
        .filter_map(|(h, v)| {
            note(format!("agent@{} beat", h.name), v);
            let beat: Beat = serde_json::from_slice(v.bytes()?).ok()?;
            Some(HostAgent {
                host: h.name.clone(),
                alive: true,
                workers: beat.workers,
            })
        })
        .collect();
    attach_views(
        nodes,
        |w| settings.policy_for(&w.name, w.kind.as_str()),
        &stored.workers,
        (now, agent_requests),
        silences,
    );
    oversized
}
