//! The latest snapshot, built by the refresher and read by every request without touching Redis.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use pulseboard_shared::Nodes;
use tokio::sync::watch;

mod compressed;
pub use self::compressed::{Compressed, Encoding};

/// The next snapshot `snapshots` publishes; `None` once `shutdown` starts or the hub is gone.
/// What every task that follows the snapshots waits on.
pub async fn next(
    snapshots: &mut watch::Receiver<Arc<Snapshot>>,
    shutdown: &crate::shutdown::Shutdown,
) -> Option<Arc<Snapshot>> {
    tokio::select! {
        changed = snapshots.changed() => changed.ok()?,
        _ = shutdown.wait() => return None,
    }
    Some(snapshots.borrow_and_update().clone())
}

/// One refresh's result, serialised once for all readers.
#[derive(Debug)]
pub struct Snapshot {
    /// Contract 2 (shared with the refresher, which diffs the next one against it).
    pub nodes: Arc<Nodes>,
    /// `nodes` as JSON, shared by `/nodes` and the SSE stream.
    pub json: Bytes,
    /// Grows by one whenever the content changes beyond the passing of time; SSE sends on change.
    pub version: u64,
    /// When it was built.
    pub built_at: Instant,
    /// When Redis last answered, if ever.
    pub redis_ok_at: Option<Instant>,
    /// Why the last read of Redis failed, if it did.
    pub redis_error: Option<String>,
    /// Redis commands of the refresh that built it.
    pub commands: usize,
    /// Round trips they took (1; on a cluster, one per primary, in parallel).
    pub round_trips: usize,
    /// The changes from the version before to this one, for viewers of the stream holding it.
    pub patch: Option<Arc<SnapshotPatch>>,
    /// How long the refresh that built it took (reading Redis, judging, serialising).
    pub refresh_took: std::time::Duration,
    /// `json` brotli- and gzip-compressed, each made by the first request that accepts it.
    pub compressed: Compressed,
    /// The in-flight lists the refresh read, with their workers and queues (not in contract 2:
    /// for the orphan rescue).
    pub in_flight: Arc<Vec<InFlight>>,
    /// The silences read with it (not in contract 2: for the alerts).
    pub silences: Arc<Vec<pulseboard_shared::silence::Silence>>,
    /// The acknowledgements read with it (not in contract 2: for the alerts).
    pub acks: Arc<Vec<pulseboard_shared::ack::Ack>>,
}

/// One in-flight list as discovery found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InFlight {
    /// The worker whose queue it belongs to.
    pub worker: String,
    /// That queue (`queue:<worker>` unless configured otherwise).
    pub queue: String,
    /// The list (`processing:<queue>:<consumer>`).
    pub key: String,
}

/// How a patch sends a changed worker.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PatchFormat {
    /// Whole, in `upsert` (and a new beat in `ages`): what every client reads.
    #[default]
    Records,
    /// Only the fields that changed, in `change`.
    Fields,
}

/// A patch serialised once for every viewer, in both formats.
#[derive(Debug)]
pub struct SnapshotPatch {
    /// The version it applies to.
    pub from: u64,
    /// [`pulseboard_shared::patch::Patch`] as JSON, changed workers sent whole (the format
    /// every client reads).
    pub json: Bytes,
    /// The same with changed workers as their changed fields (for `?patches=fields`).
    pub fields: Bytes,
}

impl SnapshotPatch {
    /// The JSON in `format`.
    pub fn bytes(&self, format: PatchFormat) -> &Bytes {
        match format {
            PatchFormat::Records => &self.json,
            PatchFormat::Fields => &self.fields,
        }
    }

    /// `patch` (field-level, as `diff` makes it, to `new`) as JSON in both formats.
    pub fn new(patch: &pulseboard_shared::patch::Patch, new: &Nodes) -> Self {
        let json = |p: &pulseboard_shared::patch::Patch| {
            Bytes::from(serde_json::to_vec(p).expect("contract types serialise"))
        };
        Self {
            from: patch.from,
            json: json(&patch.with_records(new)),
            fields: json(patch),
        }
    }
}

impl Snapshot {
    /// A snapshot of `nodes` with its JSON.
    pub fn new(nodes: impl Into<Arc<Nodes>>, version: u64) -> Self {
        let nodes = nodes.into();
        let json = Bytes::from(serde_json::to_vec(&*nodes).expect("contract types serialise"));
        Self {
            nodes,
            json,
            version,
            built_at: Instant::now(),
            redis_ok_at: None,
            redis_error: None,
            commands: 0,
            round_trips: 0,
            patch: None,
            refresh_took: std::time::Duration::ZERO,
            compressed: Compressed::default(),
            in_flight: Arc::default(),
            silences: Arc::default(),
            acks: Arc::default(),
        }
    }

    /// What is served before the first refresh: nothing known yet.
    pub fn empty() -> Self {
        Self::new(
            Nodes {
                runbook_url: None,
                redis_ok: false,
                paused: false,
                paused_reason: None,
                generated_at: crate::aggregate::iso(chrono::Utc::now()),
                workers: vec![],
                links: vec![],
                hosts: vec![],
                agents: vec![],
                summary: None,
            },
            0,
        )
    }
}

/// How long refreshes take: 1 ms to about 4 s in doubling buckets.
pub fn refresh_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 13))
}

/// Where snapshots are published and read, and how long making them takes.
#[derive(Clone)]
pub struct Hub {
    tx: Arc<watch::Sender<Arc<Snapshot>>>,
    refreshes: Histogram,
}

impl Default for Hub {
    fn default() -> Self {
        Self {
            tx: Arc::new(watch::Sender::new(Arc::new(Snapshot::empty()))),
            refreshes: refresh_histogram(),
        }
    }
}

impl Hub {
    /// The latest snapshot.
    pub fn latest(&self) -> Arc<Snapshot> {
        self.tx.borrow().clone()
    }

    /// Every refresh's duration since start (for `/metrics`).
    pub fn refreshes(&self) -> &Histogram {
        &self.refreshes
    }

    /// Replaces the latest snapshot and wakes the subscribers. The compressed copies requests
    /// asked the one before for are made now, in the background, ready for the next request.
    pub fn publish(&self, snapshot: Snapshot) {
        let new = Arc::new(snapshot);
        let old = self.tx.send_replace(new.clone());
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        for encoding in old.compressed.asked() {
            let new = new.clone();
            runtime.spawn(async move { new.compressed.make(&new.json, encoding).await });
        }
    }

    /// A receiver woken on every publish.
    pub fn subscribe(&self) -> watch::Receiver<Arc<Snapshot>> {
        self.tx.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_encoding_a_request_asked_for_is_made_for_the_next_snapshot_unasked() {
        let hub = Hub::default();
        hub.publish(Snapshot::new(Snapshot::empty().nodes, 1));
        let first = hub.latest();
        first.compressed.get(&first.json, Encoding::Gzip).await;
        hub.publish(Snapshot::new(Snapshot::empty().nodes, 2));
        let second = hub.latest();
        while !second.compressed.ready(Encoding::Gzip) {
            tokio::task::yield_now().await;
        }
        assert!(
            !second.compressed.ready(Encoding::Brotli),
            "nobody asked for it"
        );
        assert_eq!(second.compressed.asked().count(), 0, "made, not asked for");
        // Nobody asked the second: the third is left alone.
        hub.publish(Snapshot::new(Snapshot::empty().nodes, 3));
        tokio::task::yield_now().await;
        assert!(!hub.latest().compressed.ready(Encoding::Gzip));
    }
}
