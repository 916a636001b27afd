//! Problems logged once when they appear and once when they are gone, not every refresh.

use std::collections::HashMap;

use crate::aggregate::Aggregate;
use crate::recovery::reading::Oversized;

/// What was last logged.
#[derive(Default)]
pub(super) struct Logged {
    /// Per worker, the error last logged, so a broken heartbeat is logged once, not every second.
    errors: HashMap<String, String>,
    /// The values last found over their bound.
    values: HashMap<String, String>,
}

impl Logged {
    /// Logs a worker record's problem once when it appears, once when the record is clean.
    pub(super) fn worker_errors(&mut self, agg: &Aggregate) {
        for w in &agg.nodes.workers {
            match &w.error {
                Some(e) if self.errors.get(&w.name) != Some(e) => {
                    tracing::warn!(worker = ?w.name, error = ?e, "worker record has a problem");
                    self.errors.insert(w.name.clone(), e.clone());
                }
                None if self.errors.remove(&w.name).is_some() => {
                    tracing::info!(worker = ?w.name, "worker record is clean again");
                }
                _ => {}
            }
        }
    }

    /// Logs a value over its bound once when it appears, once when it is gone.
    pub(super) fn oversized(&mut self, oversized: Vec<Oversized>) {
        let now: HashMap<_, _> = oversized.into_iter().collect();
        for (what, problem) in &now {
            if !self.values.contains_key(what) {
                tracing::warn!(value = %what, problem = %problem, "value read from redis is garbage");
            }
        }
        for what in self.values.keys() {
            if !now.contains_key(what) {
                tracing::info!(value = %what, "value read from redis is sound again");
            }
        }
        self.values = now;
    }
}
