//! The rescue's memory in Redis: written by the decider in its fenced commit, read by every
//! process with its snapshot (contract 2's `workers[].rescue`) and by a new decider taking over,
//! so an orphan's clock and the batches of the window survive a restart or a failover. Read with
//! a bound: anyone who writes Redis can write it, and a larger value is garbage.

use pulseboard_shared::orphans::MAX_BATCHES;
use pulseboard_shared::rescue::RescueMemory;

use crate::ledger::store::{Store, StoreError};
use crate::reader::bounded::{self, memory_bound, Bounded, RESCUE_MEMORY_BYTES_PER_WORKER};

/// The most bytes the memory may hold for a fleet of `workers`: its lists per worker and its
/// batches (a worker's name is at most 100 bytes, so a batch is under 160).
pub fn bound(workers: usize) -> usize {
    memory_bound(RESCUE_MEMORY_BYTES_PER_WORKER, workers).saturating_add(MAX_BATCHES * 160)
}

/// The memory from its stored bytes; empty when absent, over its bound or unreadable (the next
/// commit overwrites it), with a warning for the last two.
pub fn parse(value: &Bounded) -> RescueMemory {
    match value {
        Bounded::Value(bytes) => serde_json::from_slice(bytes).unwrap_or_else(|e| {
            tracing::warn!(error = %e, "rescue: stored memory is unreadable; starting afresh");
            RescueMemory::default()
        }),
        Bounded::TooLarge { max } => {
            tracing::warn!(
                max,
                "rescue: stored memory is over its bound; starting afresh"
            );
            RescueMemory::default()
        }
        Bounded::Absent => RescueMemory::default(),
    }
}

/// The memory as stored, for a fleet of `workers`.
pub async fn load(store: &Store, workers: usize) -> Result<RescueMemory, StoreError> {
    let mut conn = store.conn().await?;
    let max = bound(workers);
    let mut pipe = redis::pipe();
    bounded::get_bounded(&mut pipe, &store.keys.rescue(), max);
    let (reply,): (redis::Value,) = pipe.query_async(&mut conn).await?;
    Ok(parse(&bounded::judge(reply, max)))
}

/// Puts contract 2's `workers[].rescue` on `workers` from the memory's stored `value` (read with
/// the snapshot, bounded by [`bound`]); `processing` are the in-flight lists read now (a list
/// remembered but gone is not shown). Quiet: an unreadable memory shows nothing (the decider
/// says so when it loads it); one over its bound is returned for the refresher's log.
pub fn attach<'a>(
    workers: &mut [pulseboard_shared::WorkerStatus],
    value: Option<&Bounded>,
    settings: &crate::config::RescueSettings,
    processing: impl Iterator<Item = &'a String>,
    now: u64,
) -> Option<crate::recovery::reading::Oversized> {
    use pulseboard_shared::rescue::view::{attach_rescue_views, ViewRules};
    if let Some(Bounded::TooLarge { max }) = value {
        let problem = format!("larger than {}: ignored", bounded::describe(*max));
        return Some(("rescue memory".into(), problem));
    }
    let memory = value?
        .bytes()
        .and_then(|b| serde_json::from_slice::<RescueMemory>(b).ok())
        .filter(|m| !m.lists.is_empty() || !m.batches.is_empty())?;
    let present = processing.map(String::as_str).collect();
    let rules = ViewRules {
        mode_for: |name: &str, kind: &str| settings.mode_for(name, kind),
        after_s: settings.after_s,
        window_s: settings.window_s,
        present: &present,
        now,
    };
    attach_rescue_views(workers, &memory, &rules);
    None
}
