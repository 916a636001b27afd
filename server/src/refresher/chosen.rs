//! The workers a refresh reads and their keys, kept from one refresh to the next while
//! discovery's generation stays the same: building 10,000 of each (and dropping them) at every
//! refresh cost milliseconds for nothing, since they change only when discovery finds or forgets
//! a worker or an in-flight list, or the configuration is reloaded.

use std::sync::Arc;

use crate::aggregate::{keys_for, watched_workers, QueueOwners, Watched};
use crate::config::Config;
use crate::discovery::Discovery;
use crate::reader::WorkerKeys;
use crate::snapshot::InFlight;

/// The workers a refresh reads, with their keys in the same order.
pub(super) struct Chosen {
    generation: u64,
    pub watched: Vec<Watched>,
    pub keys: Vec<WorkerKeys>,
}

impl Chosen {
    /// The workers to read now: `kept` while discovery has changed nothing since it was chosen
    /// (a reload empties `kept`), chosen again and kept otherwise.
    pub fn current(
        kept: &mut Option<Arc<Self>>,
        config: &Config,
        discovery: &Discovery,
    ) -> Arc<Self> {
        let generation = discovery.generation();
        if let Some(chosen) = kept.as_ref().filter(|c| c.generation == generation) {
            return chosen.clone();
        }
        let watched = watched_workers(
            &config.topology,
            &config.lifecycle,
            discovery.beating_workers(),
        );
        let owners = QueueOwners::new(&watched);
        let keys = keys_for(&watched, &owners, discovery.processing_keys());
        kept.insert(Arc::new(Self {
            generation,
            watched,
            keys,
        }))
        .clone()
    }

    /// Every in-flight list read, with its worker and queue.
    pub fn in_flight(&self) -> Vec<InFlight> {
        let mut lists = Vec::new();
        for (w, k) in self.watched.iter().zip(&self.keys) {
            let Some(queue) = &k.queue else { continue };
            lists.extend(k.processing.iter().map(|key| InFlight {
                worker: w.name.clone(),
                queue: queue.pending.clone(),
                key: key.clone(),
            }));
        }
        lists
    }
}
