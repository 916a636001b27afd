//! What every refresh reads for the guard, in the same round trip as the workers (one `GET` for
//! its memory, one per configured host for its agent's beat), and what it puts on the snapshot:
//! `agents` and each worker's `recovery` view. Every process shows the same view; only the
//! decider acts on it.

use pulseboard_shared::agent::{beat_key, Beat};
use pulseboard_shared::recovery::attach_views;
use pulseboard_shared::{HostAgent, HostInfo, Nodes};

use super::stored::Stored;
use crate::config::RecoverySettings;
use crate::ledger::store::Keys;

/// The keys to `GET`: the guard's memory, then each host's agent beat.
pub fn keys(keys: &Keys, hosts: &[HostInfo]) -> Vec<String> {
    std::iter::once(keys.recovery())
        .chain(hosts.iter().map(|h| beat_key(&h.name)))
        .collect()
}

/// Puts the agents and the guard's views on `nodes` from `values` (read for [`keys`], in order);
/// `agent_requests`: whether this server holds the agent key (else the route through an agent
/// shows blocked).
pub fn apply(
    nodes: &mut Nodes,
    values: &[Option<Vec<u8>>],
    hosts: &[HostInfo],
    settings: &RecoverySettings,
    now: u64,
    agent_requests: bool,
) {
    let stored = Stored::parse(values.first().and_then(Option::as_deref));
    nodes.agents = hosts
        .iter()
        .zip(values.iter().skip(1))
        .filter_map(|(h, v)| {
            let beat: Beat = serde_json::from_slice(v.as_deref()?).ok()?;
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
        now,
        agent_requests,
    );
}
