//! Which workers a refresh reads and under which keys: the configured ones in order, then the
//! unregistered ones found beating, each with the in-flight lists discovery found for its queue.

use std::collections::HashMap;

use pulseboard_shared::heartbeat::heartbeat_key;
use pulseboard_shared::lifecycle::LifecycleRules;
use pulseboard_shared::parts::{part_beat_key, PartDown};
use pulseboard_shared::WorkerKind;
use pulseboard_worker::queue::{dead_letter_key, queue_key};

use crate::config::{LifecycleSettings, Topology};
use crate::reader::{QueueKeys, WorkerKeys};

/// A worker the refresh reads: a registered one, or one found beating but not configured.
#[derive(Debug, Clone)]
pub struct Watched {
    /// Its name.
    pub name: String,
    /// The configured kind; `None` for unregistered workers (taken from the heartbeat).
    pub kind: Option<WorkerKind>,
    /// The configured host.
    pub host: Option<String>,
    /// Its queue (render workers; unregistered workers are assumed to follow `queue:<name>`).
    pub queue: Option<String>,
    /// What it pulls from over HTTP, if it is a trader.
    pub pulls_from: String,
    /// The lifecycle limits for its kind.
    pub rules: LifecycleRules,
    /// Its parts, when it is several processes (configured only).
    pub parts: Vec<String>,
    /// What a part gone makes of it.
    pub part_down: PartDown,
}

/// The workers to read: the configured ones in order, then the unregistered ones found beating.
pub fn watched_workers<'a>(
    topology: &Topology,
    lifecycle: &LifecycleSettings,
    beating: impl Iterator<Item = &'a str>,
) -> Vec<Watched> {
    let mut list: Vec<Watched> = topology
        .workers
        .iter()
        .map(|w| Watched {
            name: w.name.clone(),
            kind: Some(w.kind),
            host: Some(w.host.clone()),
            queue: w.queue.clone(),
            pulls_from: w.pulls_from.clone(),
            rules: lifecycle.rules_for(Some(w.kind)),
            parts: w.parts.clone(),
            part_down: w.part_down,
        })
        .collect();
    // A set: up to `max_unregistered` names checked against up to 10,000 configured ones.
    let configured: std::collections::HashSet<&str> =
        topology.workers.iter().map(|w| w.name.as_str()).collect();
    for name in beating {
        if !configured.contains(name) {
            list.push(Watched {
                name: name.to_owned(),
                kind: None,
                host: None,
                queue: Some(queue_key(name)),
                pulls_from: pulseboard_shared::rules::DEFAULT_PULLS_FROM.to_owned(),
                rules: lifecycle.rules_for(None),
                parts: Vec::new(),
                part_down: PartDown::Down,
            });
        }
    }
    list
}

/// Which watched worker owns an in-flight list (`processing:<queue>:<consumer>`): the one whose
/// queue is the longest prefix (`queue:a` vs `queue:a:b`), found by a hash lookup per `:` in the
/// key rather than by a scan of every worker (10,000 workers, as many lists).
pub struct QueueOwners<'a> {
    by_queue: HashMap<&'a str, usize>,
}

impl<'a> QueueOwners<'a> {
    /// The queues of `watched`.
    pub fn new(watched: &'a [Watched]) -> Self {
        let by_queue = watched
            .iter()
            .enumerate()
            .filter_map(|(i, w)| Some((w.queue.as_deref()?, i)))
            .collect();
        Self { by_queue }
    }

    /// The owning queue of in-flight list `key`, and its worker's index in `watched`.
    pub fn owner(&self, key: &str) -> Option<(&'a str, usize)> {
        let rest = key.strip_prefix("processing:")?;
        rest.rmatch_indices(':').find_map(|(at, _)| {
            self.by_queue
                .get_key_value(&rest[..at])
                .map(|(queue, i)| (*queue, *i))
        })
    }
}

/// The keys to read for `watched`, with each in-flight list given to the worker whose queue it
/// belongs to (`owners`, made from the same `watched`).
pub fn keys_for<'a>(
    watched: &[Watched],
    owners: &QueueOwners,
    processing: impl Iterator<Item = &'a String>,
) -> Vec<WorkerKeys> {
    let mut keys: Vec<WorkerKeys> = watched
        .iter()
        .map(|w| WorkerKeys {
            heartbeat: heartbeat_key(&w.name),
            queue: w.queue.as_ref().map(|q| QueueKeys {
                pending: q.clone(),
                dead_letter: dead_letter_key(q),
            }),
            processing: Vec::new(),
            parts: w.parts.iter().map(|p| part_beat_key(&w.name, p)).collect(),
        })
        .collect();
    for key in processing {
        if let Some((_, i)) = owners.owner(key) {
            keys[i].processing.push(key.clone());
        }
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_flight_lists_go_to_the_longest_matching_queue() {
        let watched = vec![
            Watched {
                name: "a".into(),
                kind: Some(WorkerKind::Render),
                host: None,
                queue: Some("queue:a".into()),
                pulls_from: String::new(),
                rules: LifecycleRules::default(),
                parts: vec![],
                part_down: PartDown::Down,
            },
            Watched {
                name: "a:b".into(),
                kind: Some(WorkerKind::Render),
                host: None,
                queue: Some("queue:a:b".into()),
                pulls_from: String::new(),
                rules: LifecycleRules::default(),
                parts: vec![],
                part_down: PartDown::Down,
            },
        ];
        let lists = [
            "processing:queue:a:1".to_owned(),
            "processing:queue:a:b:1".to_owned(),
            "processing:queue:ab:1".to_owned(),
        ];
        let keys = keys_for(&watched, &QueueOwners::new(&watched), lists.iter());
        assert_eq!(keys[0].processing, ["processing:queue:a:1"]);
        assert_eq!(keys[1].processing, ["processing:queue:a:b:1"]);
    }
}
