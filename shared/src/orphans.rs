//! Contract 2's `workers[].rescue` and the orphan rescue's memory it is drawn from: plain data
//! (the rules that fill them are in the `rescue` module). The deciding process keeps the memory in
//! Redis (the orphaned lists it watches, since when, and the batches it moved within the window);
//! every process reads it with its snapshot and shows the same view.

use serde::{Deserialize, Serialize};

/// What the rescue does (`[rescue] mode`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum RescueMode {
    /// Orphaned jobs go back on their queue.
    #[default]
    Auto,
    /// Orphaned jobs are only reported.
    Recommend,
    /// Nothing is looked at.
    Off,
}

impl RescueMode {
    /// The mode named `text` (`auto`, `recommend`, `off`).
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "auto" => Some(Self::Auto),
            "recommend" => Some(Self::Recommend),
            "off" => Some(Self::Off),
            _ => None,
        }
    }
}

/// Batches remembered at most (the oldest go first): the view's "rescued in the window" counts
/// these, so a fleet rescuing more often than this within the window shows the latest ones.
pub const MAX_BATCHES: usize = 1000;

/// The rescue's memory, as the decider stores it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RescueMemory {
    /// The orphaned in-flight lists it watches.
    #[serde(default)]
    pub lists: Vec<Orphan>,
    /// What it moved, oldest first, within the window.
    #[serde(default)]
    pub batches: Vec<Batch>,
}

/// An in-flight list found orphaned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Orphan {
    /// The worker whose queue it is.
    pub worker: String,
    /// The consumer that left it.
    pub consumer: String,
    /// The list (`processing:<queue>:<consumer>`).
    pub key: String,
    /// Jobs in it when found.
    pub jobs: u64,
    /// Orphaned since, unix seconds.
    pub since: u64,
    /// `recommend` mode: already reported, not again.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub reported: bool,
}

/// One rescue of one worker's lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Batch {
    /// The worker whose queue the jobs went back to.
    pub worker: String,
    /// When, unix seconds.
    pub at: u64,
    /// Jobs put back on the queue.
    pub moved: u64,
    /// Jobs sent to the dead letters.
    pub quarantined: u64,
}

impl RescueMemory {
    /// Forgets the batches that left the window ending at `now`, and the oldest past
    /// [`MAX_BATCHES`].
    pub fn prune(&mut self, now: u64, window_s: u64) {
        self.batches.retain(|b| b.at.saturating_add(window_s) > now);
        let extra = self.batches.len().saturating_sub(MAX_BATCHES);
        self.batches.drain(..extra);
    }
}

/// Contract 2's `workers[].rescue`: the worker's orphaned in-flight lists and the jobs the rescue
/// moved within its window. Present only when there is something to show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RescueView {
    /// The mode in force for this worker.
    pub mode: RescueMode,
    /// In-flight lists whose consumer is gone.
    pub orphaned_lists: u32,
    /// Jobs in them.
    pub orphaned_jobs: u64,
    /// When the first of them goes back on the queue, unix seconds (`auto` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_rescue_at: Option<u64>,
    /// Jobs put back on the queue within the window.
    pub rescued: u64,
    /// Jobs sent to the dead letters within the window (orphaned too many times).
    pub quarantined: u64,
    /// The window, seconds.
    pub window_s: u64,
}
