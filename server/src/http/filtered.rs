//! Filtered streams (`?host=H`, `?problems=1`) share one filtered copy per filter and version:
//! the part, its JSON, and the patch from the previous version are made once, by the first
//! viewer to need them, and every viewer of that filter sends the same bytes. A thousand viewers
//! of `?problems=1` cost one filter, one diff and one serialisation per snapshot, not a thousand
//! copies of the fleet.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use pulseboard_shared::patch::diff;
use pulseboard_shared::Nodes;

use super::stream::Filter;
use crate::snapshot::{Snapshot, SnapshotPatch};

/// Filters remembered at most: past it, those no viewer asked for at the newest version are
/// forgotten (a viewer of one comes back to a whole part, as after falling behind).
const MAX_FILTERS: usize = 256;

/// A filter's part of one snapshot.
#[derive(Debug)]
pub struct Part {
    /// The snapshot's version.
    pub version: u64,
    /// The workers the filter shows, and their links.
    pub nodes: Nodes,
    /// `nodes` as JSON.
    pub json: Bytes,
    /// The patch from the part of the previous version this filter was asked at.
    pub patch: Option<SnapshotPatch>,
}

/// The latest part of each filter.
#[derive(Debug, Default)]
pub struct Parts {
    latest: Mutex<HashMap<Filter, Arc<Part>>>,
}

impl Parts {
    /// `filter`'s part of `snapshot`, made now unless another viewer made it already.
    pub fn get(&self, filter: &Filter, snapshot: &Snapshot) -> Arc<Part> {
        let mut latest = self.latest.lock().expect("not poisoned");
        let previous = latest.get(filter);
        if let Some(part) = previous.filter(|p| p.version == snapshot.version) {
            return part.clone();
        }
        let nodes = filter.apply(&snapshot.nodes);
        let patch = previous.filter(|p| p.version < snapshot.version).map(|p| {
            SnapshotPatch::new(&diff(&p.nodes, &nodes, p.version, snapshot.version), &nodes)
        });
        let json = Bytes::from(serde_json::to_vec(&nodes).expect("contract types serialise"));
        let part = Arc::new(Part {
            version: snapshot.version,
            nodes,
            json,
            patch,
        });
        if latest.len() >= MAX_FILTERS && !latest.contains_key(filter) {
            latest.retain(|_, p| p.version == snapshot.version);
        }
        latest.insert(filter.clone(), part.clone());
        part
    }
}

#[cfg(test)]
mod tests {
    use pulseboard_shared::mock::mock_fleet;

    use super::*;

    #[test]
    fn viewers_of_one_filter_share_one_part_and_one_patch() {
        let parts = Parts::default();
        let problems = Filter {
            host: None,
            problems: true,
        };
        let first = Snapshot::new(mock_fleet(0, 60), 10);
        let a = parts.get(&problems, &first);
        let b = parts.get(&problems, &first);
        assert!(
            Arc::ptr_eq(&a, &b),
            "the second viewer reuses the first's part"
        );
        assert!(a.patch.is_none());
        let second = Snapshot::new(mock_fleet(24, 60), 11);
        let c = parts.get(&problems, &second);
        assert_eq!(c.patch.as_ref().map(|p| p.from), Some(10));
        assert!(Arc::ptr_eq(&c, &parts.get(&problems, &second)));
        let other = parts.get(&Filter::default(), &second);
        assert!(!Arc::ptr_eq(&c, &other), "another filter, another part");
    }
}
