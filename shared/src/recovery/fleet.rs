//! What the guard sees of a worker in a snapshot: its state, its host and that host's agent.

use super::{Situation, L};
use crate::nodes::{Nodes, WorkerKind, WorkerStatus};
use crate::silence::Silence;

/// What the guard sees of `worker` in `nodes` at `now`: `None` for a worker without a lifecycle
/// judgement (it is never acted on). For many workers, build a [`Fleet`] once instead.
pub fn situation(nodes: &Nodes, worker: &WorkerStatus, now: u64) -> Option<Situation> {
    Fleet::new(nodes).situation(worker, now)
}

/// A snapshot with its hosts counted once (workers, workers down), so judging every worker of
/// a large fleet stays linear.
pub struct Fleet<'a> {
    nodes: &'a Nodes,
    hosts: std::collections::HashMap<&'a str, (usize, usize)>,
    agent_requests: bool,
    maintenance: &'a [Silence],
}

impl<'a> Fleet<'a> {
    /// Counts `nodes`' hosts.
    pub fn new(nodes: &'a Nodes) -> Self {
        let mut hosts = std::collections::HashMap::new();
        for w in &nodes.workers {
            if let Some(host) = w.host.as_deref() {
                let down = w.lifecycle.as_ref().is_some_and(|l| l.state == L::Down);
                let (all, downs) = hosts.entry(host).or_insert((0, 0));
                *all += 1;
                *downs += usize::from(down);
            }
        }
        Self {
            nodes,
            hosts,
            agent_requests: true,
            maintenance: &[],
        }
    }

    /// The silences in force: a maintenance one holds the guard for what it covers, as a hold
    /// does ([`crate::guard::Block::Held`]).
    pub fn silences(mut self, silences: &'a [Silence]) -> Self {
        self.maintenance = silences;
        self
    }

    /// Whether this server can ask host agents (it holds the agent key); without it the route
    /// through an agent is blocked ([`crate::guard::Block::NoAgentKey`]). On unless said.
    pub fn agent_requests(mut self, on: bool) -> Self {
        self.agent_requests = on;
        self
    }

    /// What the guard sees of `worker` at `now` (see [`situation`]).
    pub fn situation(&self, worker: &WorkerStatus, now: u64) -> Option<Situation> {
        let lifecycle = worker.lifecycle.as_ref()?;
        let nodes = self.nodes;
        let host = worker.host.clone();
        let agent = host
            .as_deref()
            .and_then(|h| nodes.agents.iter().find(|a| a.host == h));
        let (all, down) = host
            .as_deref()
            .and_then(|h| self.hosts.get(h).copied())
            .unwrap_or((0, 0));
        Some(Situation {
            now,
            state: lifecycle.state,
            state_age_s: lifecycle.age_s.unwrap_or(0),
            redis_ok: nodes.redis_ok,
            paused_by_flag: nodes.paused && worker.kind != WorkerKind::Watcher,
            agent_reachable: agent.is_some_and(|a| a.alive),
            agent_allows: agent.is_some_and(|a| a.workers.contains(&worker.name)),
            host_all_down: all >= 2 && down == all,
            agent_requests: self.agent_requests,
            maintenance_until: self
                .maintenance
                .iter()
                .filter(|s| s.maintenance && s.active(now))
                .filter(|s| {
                    s.matches
                        .covers(&worker.name, worker.kind.as_str(), host.as_deref())
                })
                .map(|s| s.until)
                .max(),
            host,
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::nodes::{WorkerKind, WorkerStatus};
    use crate::recovery::fixtures::*;
    use crate::recovery::L;

    #[test]
    fn the_situation_comes_from_the_snapshot() {
        use crate::lifecycle::Lifecycle;
        use crate::nodes::HostAgent;
        let worker = |name: &str, state: L| WorkerStatus {
            host: Some("gpu-1".into()),
            lifecycle: Some(Lifecycle {
                state,
                reason: None,
                reason_code: None,
                age_s: Some(70),
            }),
            ..WorkerStatus::new(name, WorkerKind::Render)
        };
        let mut nodes = crate::mock::mock_nodes(0);
        nodes.paused = false;
        nodes.workers = vec![worker("a", L::Down), worker("b", L::Ready)];
        nodes.agents = vec![HostAgent {
            host: "gpu-1".into(),
            alive: true,
            workers: vec!["a".into()],
        }];
        let s = super::situation(&nodes, &nodes.workers[0], T0).unwrap();
        assert_eq!((s.state, s.state_age_s), (L::Down, 70));
        assert!(s.agent_reachable && s.agent_allows && !s.host_all_down);
        let s = super::situation(&nodes, &nodes.workers[1], T0).unwrap();
        assert!(!s.agent_allows, "b is not in the allow-list");
        nodes.workers[1] = worker("b", L::Down);
        assert!(
            super::situation(&nodes, &nodes.workers[0], T0)
                .unwrap()
                .host_all_down
        );
        nodes.paused = true;
        assert!(
            super::situation(&nodes, &nodes.workers[0], T0)
                .unwrap()
                .paused_by_flag
        );
    }
}
