//! The commands of one refresh, in the order the replies are read: the pause flag and the
//! bounded values, then each worker's, then the discovery steps due.

use super::{bounded, BoundedKey, WorkerKeys, MAX_HEARTBEAT_BYTES, PAUSED_KEY};
use crate::discovery::ScanStep;

/// Everything for `workers`, the `values` and the `scans`, in the order `parse_replies` reads.
pub(super) fn build_pipeline(
    workers: &[WorkerKeys],
    values: &[BoundedKey],
    scans: &[ScanStep],
) -> redis::Pipeline {
    let mut pipe = redis::pipe();
    push_head(&mut pipe, values);
    push_workers(&mut pipe, workers);
    push_scans(&mut pipe, scans);
    pipe
}

/// The pause flag and the bounded values.
pub(super) fn push_head(pipe: &mut redis::Pipeline, values: &[BoundedKey]) {
    pipe.cmd("GET").arg(PAUSED_KEY);
    for value in values {
        bounded::get_bounded(pipe, &value.key, value.max);
    }
}

/// Each worker's beat, its expiry and its lists' lengths.
pub(super) fn push_workers(pipe: &mut redis::Pipeline, workers: &[WorkerKeys]) {
    for w in workers {
        bounded::get_bounded(pipe, &w.heartbeat, MAX_HEARTBEAT_BYTES);
        pipe.cmd("PTTL").arg(&w.heartbeat);
        if let Some(q) = &w.queue {
            pipe.cmd("LLEN").arg(&q.pending);
            pipe.cmd("LLEN").arg(&q.dead_letter);
        }
        for key in &w.processing {
            pipe.cmd("LLEN").arg(key);
        }
        for key in &w.parts {
            bounded::get_bounded(pipe, key, MAX_HEARTBEAT_BYTES);
            pipe.cmd("PTTL").arg(key);
        }
    }
}

/// The discovery steps due.
pub(super) fn push_scans(pipe: &mut redis::Pipeline, scans: &[ScanStep]) {
    for step in scans {
        pipe.cmd("SCAN")
            .arg(step.cursor)
            .arg("MATCH")
            .arg(step.pattern.glob())
            .arg("COUNT")
            .arg(step.count);
    }
}
