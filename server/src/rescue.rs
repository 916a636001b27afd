//! Orphan rescue: jobs left in the in-flight list of a consumer that is gone go back on their
//! queue. The decider of the recovery guard decides this too (one process of several, whether
//! or not it sends alerts); each list is judged by `pulseboard_shared::rescue::judge` on every
//! snapshot, must stay orphaned for `[rescue] after_s` in a row, and is then moved in one script
//! ([`lists`]). A job orphaned more than `max_rescues` times within `window_s` goes to the dead
//! letters instead. Each batch is logged and recorded in the event log (`type: rescue`, never
//! the payloads); `recommend` mode records what it would move, once per list, and moves nothing.

pub mod lists;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use pulseboard_shared::rescue::{
    consumer_of, declared_consumers, judge, RescueMode, Rescued, Verdict,
};
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::alerts::history::Record;
use crate::config::Config;
use crate::ledger::events;
use crate::ledger::lease::Lease;
use crate::ledger::store::Store;
use crate::shutdown::Shutdown;
use crate::snapshot::{Hub, Snapshot};

/// Jobs put back on their queues by this process (`pulseboard_jobs_rescued_total`).
pub static RESCUED: AtomicU64 = AtomicU64::new(0);
/// Jobs sent to the dead letters instead (`pulseboard_jobs_quarantined_total`).
pub static QUARANTINED: AtomicU64 = AtomicU64::new(0);

/// Starts the rescue on `hub`'s snapshots, acting while this process holds `lease` (the guard's).
pub fn start(
    store: Store,
    lease: Lease,
    hub: &Hub,
    configs: watch::Receiver<Config>,
    shutdown: Shutdown,
    tasks: &mut JoinSet<()>,
) {
    tasks.spawn(run(store, lease, hub.subscribe(), configs, shutdown));
}

/// An orphaned list whose time has come.
struct Due {
    worker: String,
    queue: String,
    list: String,
    consumer: String,
}

/// Orphaned lists, by key: since when, and whether `recommend` reported it.
#[derive(Default)]
struct Watch {
    since: HashMap<String, (Instant, bool)>,
}

async fn run(
    store: Store,
    lease: Lease,
    mut snapshots: watch::Receiver<Arc<Snapshot>>,
    configs: watch::Receiver<Config>,
    shutdown: Shutdown,
) {
    let mut watch = Watch::default();
    loop {
        tokio::select! {
            changed = snapshots.changed() => if changed.is_err() { break },
            _ = shutdown.wait() => break,
        }
        let snapshot = snapshots.borrow_and_update().clone();
        let settings = configs.borrow().rescue.clone();
        if settings.mode == RescueMode::Off || !lease.held() {
            watch.since.clear();
            continue;
        }
        // Redis lost: the view cannot be trusted.
        if snapshot.version == 0 || !snapshot.nodes.redis_ok {
            continue;
        }
        let due = watch.observe(
            &snapshot,
            Duration::from_secs(settings.after_s),
            Instant::now(),
        );
        let mut records = Vec::new();
        for Due {
            worker,
            queue,
            list,
            consumer,
        } in due
        {
            let mut done = Rescued {
                worker,
                consumer,
                list,
                moved: 0,
                quarantined: 0,
                recommended: settings.mode == RescueMode::Recommend,
            };
            if done.recommended {
                tracing::warn!(worker = %done.worker, list = %done.list, "orphaned jobs: rescue recommended ([rescue] mode = \"recommend\")");
                records.push(Record::rescue(done));
                continue;
            }
            let (max, window) = (settings.max_rescues, settings.window_s);
            let result = lists::rescue(&store, &done.list, &queue, max, window).await;
            // Moved (or already empty): a list found orphaned again starts from zero.
            if result.is_ok() {
                watch.since.remove(&done.list);
            }
            match result {
                Ok((0, 0)) => {}
                Ok((moved, quarantined)) => {
                    (done.moved, done.quarantined) = (moved, quarantined);
                    RESCUED.fetch_add(moved, Ordering::Relaxed);
                    QUARANTINED.fetch_add(quarantined, Ordering::Relaxed);
                    tracing::warn!(worker = %done.worker, consumer = %done.consumer, moved, quarantined, queue = %queue, "orphaned jobs rescued");
                    records.push(Record::rescue(done));
                }
                Err(e) => {
                    // Tried again after `after_s` (a refusal, e.g. a key Redis's ACL or a
                    // cluster's slots forbid, is logged that often, not every snapshot).
                    tracing::warn!(worker = %done.worker, list = %done.list, error = %e, after_s = settings.after_s, "orphaned jobs not rescued; trying again");
                    watch.since.insert(done.list, (Instant::now(), false));
                }
            }
        }
        let max = configs.borrow().alerts.history_max;
        if let Err(e) = events::append(&store, &records, max).await {
            tracing::warn!(error = %e, "rescues done but not written to the event log");
        }
    }
}

impl Watch {
    /// Follows every in-flight list of `snapshot`: the orphaned ones due now, each once (`recommend` reports once; a moved list is forgotten by the
    /// caller, so jobs orphaned there again are moved again).
    fn observe(&mut self, snapshot: &Snapshot, after: Duration, now: Instant) -> Vec<Due> {
        let workers = &snapshot.nodes.workers;
        let declared = declared_consumers(workers);
        let by_name: HashMap<&str, _> = workers.iter().map(|w| (w.name.as_str(), w)).collect();
        let mut orphaned = HashSet::new();
        let mut due = Vec::new();
        for list in snapshot.in_flight.iter() {
            let (Some(owner), Some(consumer)) =
                (by_name.get(list.worker.as_str()), consumer_of(&list.key))
            else {
                continue;
            };
            if judge(owner, consumer, &declared) != Verdict::Orphaned {
                continue;
            }
            orphaned.insert(list.key.as_str());
            let (since, reported) = self.since.entry(list.key.clone()).or_insert((now, false));
            if now.duration_since(*since) >= after && !*reported {
                *reported = true;
                due.push(Due {
                    worker: list.worker.clone(),
                    queue: list.queue.clone(),
                    list: list.key.clone(),
                    consumer: consumer.to_owned(),
                });
            }
        }
        // A list no longer orphaned (or gone) starts again from zero; a moved one is gone.
        self.since.retain(|key, _| orphaned.contains(key.as_str()));
        due
    }
}
