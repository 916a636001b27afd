//! Orphan rescue: jobs left in the in-flight list of a consumer that is gone go back on their
//! queue. The decider of the recovery guard decides this too (one process of several, whether
//! or not it sends alerts); each list is judged by `pulseboard_shared::rescue::judge` on every
//! snapshot, must stay orphaned for `[rescue] after_s` in a row, and is then moved in one script
//! ([`lists`]). A job orphaned more than `max_rescues` times within `window_s` goes to the dead
//! letters instead.
//!
//! What it watches and what it moved is its [`memory`], committed with its alerts (one per
//! worker and round: `jobs_rescued`, `jobs_quarantined`, or `jobs_orphaned` in `recommend` mode,
//! once per list) and its event-log records (`type: rescue`, never the payloads) in the guard's
//! fenced commit. Every process shows that memory as contract 2's `workers[].rescue`. A
//! maintenance silence leaves the workers it covers alone.

pub mod lists;
pub mod memory;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use pulseboard_shared::orphans::{Batch, Orphan};
use pulseboard_shared::rescue::{
    consumer_of, declared_consumers, judge, RescueMemory, RescueMode, Rescued, Verdict,
};
use pulseboard_shared::silence::Silence;
use pulseboard_shared::WorkerStatus;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::aggregate::unix_now;
use crate::alerts::alert::{AlertKind, Transition};
use crate::alerts::history::Record;
use crate::alerts::transitions::about;
use crate::alerts::AlertsHandle;
use crate::config::{Config, RescueSettings};
use crate::ledger::lease::Lease;
use crate::ledger::store::{Store, StoreError};
use crate::recovery::commit::{GuardCommit, Seat};
use crate::shutdown::Shutdown;
use crate::snapshot::{next, Hub, Snapshot};

/// Jobs put back on their queues by this process (`pulseboard_jobs_rescued_total`).
pub static RESCUED: AtomicU64 = AtomicU64::new(0);
/// Jobs sent to the dead letters instead (`pulseboard_jobs_quarantined_total`).
pub static QUARANTINED: AtomicU64 = AtomicU64::new(0);

/// Starts the rescue on `hub`'s snapshots, acting while this process holds `lease` (the guard's);
/// its alerts go to `alerts`' sinks when they are on.
pub fn start(
    lease: Lease,
    alerts: Option<AlertsHandle>,
    hub: &Hub,
    configs: watch::Receiver<Config>,
    shutdown: Shutdown,
    tasks: &mut JoinSet<()>,
) {
    let seat = Seat { lease, alerts };
    tasks.spawn(run(seat, hub.subscribe(), configs, shutdown));
}

async fn run(
    seat: Seat,
    mut snapshots: watch::Receiver<Arc<Snapshot>>,
    configs: watch::Receiver<Config>,
    shutdown: Shutdown,
) {
    // Loaded from Redis whenever this process (again) decides: another one may have moved on.
    let mut memory: Option<RescueMemory> = None;
    while let Some(snapshot) = next(&mut snapshots, &shutdown).await {
        let settings = configs.borrow().rescue.clone();
        if settings.all_off() || !seat.decides() {
            memory = None;
            continue;
        }
        // Redis lost: the view cannot be trusted.
        if snapshot.version == 0 || !snapshot.nodes.redis_ok {
            continue;
        }
        let store = seat.store();
        let mem = match &mut memory {
            Some(m) => m,
            None => match memory::load(store, snapshot.nodes.workers.len()).await {
                Ok(m) => memory.insert(m),
                Err(e) => {
                    tracing::warn!(error = %e, "rescue: memory not read; trying again");
                    continue;
                }
            },
        };
        let before = mem.clone();
        let now = unix_now();
        let mut round = Round::default();
        // Most snapshots have no in-flight list and nothing watched: no index of the fleet.
        if !snapshot.in_flight.is_empty() || !mem.lists.is_empty() {
            let by_name: HashMap<&str, &WorkerStatus> = (snapshot.nodes.workers.iter())
                .map(|w| (w.name.as_str(), w))
                .collect();
            let found = follow(mem, &snapshot, &by_name, &settings, now);
            count_jobs(store, mem, &found).await;
            round = act(store, mem, &snapshot, &by_name, &settings, now).await;
        }
        mem.prune(now, settings.window_s);
        if *mem == before && round.records.is_empty() {
            continue;
        }
        let json = serde_json::to_string(&*mem).expect("the rescue's memory serialises");
        let commit = GuardCommit {
            memory: json,
            overrides_applied: 0,
            transitions: &round.transitions,
            records: &round.records,
            snapshot: &snapshot,
        };
        let alerts = configs.borrow().alerts.clone();
        match seat.commit_to(store.keys.rescue(), &alerts, commit).await {
            Ok(true) => {}
            Ok(false) => memory = None,
            Err(e) => {
                // Whatever moved stays moved (each job once); the memory is reloaded.
                tracing::warn!(error = %e, "rescue: memory, alerts and event-log records not committed");
                memory = None;
            }
        }
    }
}

/// Follows every in-flight list of `snapshot` in `mem`: an orphaned one is remembered from the
/// first time it is seen so, one that is not (or is gone) is forgotten, so its clock starts
/// again. Returns the keys newly remembered.
fn follow(
    mem: &mut RescueMemory,
    snapshot: &Snapshot,
    by_name: &HashMap<&str, &WorkerStatus>,
    settings: &RescueSettings,
    now: u64,
) -> Vec<String> {
    let declared = declared_consumers(&snapshot.nodes.workers);
    let mut orphaned: HashMap<&str, (&str, &str)> = HashMap::new();
    for list in snapshot.in_flight.iter() {
        let (Some(owner), Some(consumer)) =
            (by_name.get(list.worker.as_str()), consumer_of(&list.key))
        else {
            continue;
        };
        let mode = settings.mode_for(&owner.name, owner.kind.as_str());
        if mode != RescueMode::Off
            && !in_maintenance(&snapshot.silences, owner, now)
            && judge(owner, consumer, &declared) == Verdict::Orphaned
        {
            orphaned.insert(&list.key, (&list.worker, consumer));
        }
    }
    mem.lists.retain(|l| orphaned.contains_key(l.key.as_str()));
    let known: HashSet<String> = mem.lists.iter().map(|l| l.key.clone()).collect();
    let mut found = Vec::new();
    for (key, (worker, consumer)) in orphaned {
        if known.contains(key) {
            continue;
        }
        found.push(key.to_owned());
        mem.lists.push(Orphan {
            worker: worker.to_owned(),
            consumer: consumer.to_owned(),
            key: key.to_owned(),
            jobs: 0,
            since: now,
            reported: false,
        });
    }
    found
}

/// Counts the jobs of the lists just `found` orphaned (one pipeline; they are left at 0 if Redis
/// says no: the count is for show, the move takes whatever is there).
async fn count_jobs(store: &Store, mem: &mut RescueMemory, found: &[String]) {
    if found.is_empty() {
        return;
    }
    let mut pipe = redis::pipe();
    for key in found {
        pipe.llen(key);
    }
    let counts: Result<Vec<u64>, StoreError> = match store.conn().await {
        Ok(mut conn) => pipe.query_async(&mut conn).await.map_err(Into::into),
        Err(e) => Err(e),
    };
    match counts {
        Ok(counts) => {
            let by_key: HashMap<&String, u64> = found.iter().zip(counts).collect();
            for l in &mut mem.lists {
                if let Some(jobs) = by_key.get(&l.key) {
                    l.jobs = *jobs;
                }
            }
        }
        Err(e) => tracing::debug!(error = %e, "rescue: orphaned lists not counted"),
    }
}

/// What one round raises and records.
#[derive(Default)]
struct Round {
    transitions: Vec<Transition>,
    records: Vec<Record>,
}

/// Moves (or, in `recommend` mode, reports) the lists of `mem` whose time has come.
async fn act(
    store: &Store,
    mem: &mut RescueMemory,
    snapshot: &Snapshot,
    by_name: &HashMap<&str, &WorkerStatus>,
    settings: &RescueSettings,
    now: u64,
) -> Round {
    let queues: HashMap<&str, &str> = snapshot
        .in_flight
        .iter()
        .map(|l| (l.key.as_str(), l.queue.as_str()))
        .collect();
    // Per worker: jobs moved, quarantined and reported, and from which consumers.
    let mut tally: BTreeMap<String, (u64, u64, u64, Vec<String>)> = BTreeMap::new();
    let mut round = Round::default();
    let mut moved_keys = HashSet::new();
    for list in &mut mem.lists {
        let due = list.since.saturating_add(settings.after_s) <= now;
        let (Some(owner), Some(queue)) = (
            by_name.get(list.worker.as_str()),
            queues.get(list.key.as_str()),
        ) else {
            continue;
        };
        let mode = settings.mode_for(&owner.name, owner.kind.as_str());
        // `recommend` says it once per list; a list switched to `auto` since moves.
        if !due || (list.reported && mode == RescueMode::Recommend) {
            continue;
        }
        let mut done = Rescued {
            worker: list.worker.clone(),
            consumer: list.consumer.clone(),
            list: list.key.clone(),
            moved: 0,
            quarantined: 0,
            recommended: mode == RescueMode::Recommend,
        };
        let t = tally.entry(list.worker.clone()).or_default();
        if done.recommended {
            tracing::warn!(worker = %done.worker, list = %done.list, jobs = list.jobs, "orphaned jobs: rescue recommended ([rescue] mode = \"recommend\")");
            list.reported = true;
            done.moved = list.jobs;
            t.2 += list.jobs;
            t.3.push(list.consumer.clone());
            round.records.push(Record::rescue(done));
            continue;
        }
        let (max, window) = (settings.max_rescues, settings.window_s);
        match lists::rescue(store, &list.key, queue, max, window).await {
            Ok((moved, quarantined)) => {
                // Moved (or already empty): a list found orphaned again starts from zero.
                moved_keys.insert(list.key.clone());
                if (moved, quarantined) == (0, 0) {
                    continue;
                }
                (done.moved, done.quarantined) = (moved, quarantined);
                RESCUED.fetch_add(moved, Ordering::Relaxed);
                QUARANTINED.fetch_add(quarantined, Ordering::Relaxed);
                tracing::warn!(worker = %done.worker, consumer = %done.consumer, moved, quarantined, queue = %queue, "orphaned jobs rescued");
                t.0 += moved;
                t.1 += quarantined;
                t.3.push(list.consumer.clone());
                round.records.push(Record::rescue(done));
            }
            Err(e) => {
                // Tried again after `after_s` (a refusal, e.g. a key Redis's ACL or a cluster's
                // slots forbid, is logged that often, not every snapshot).
                tracing::warn!(worker = %done.worker, list = %done.list, error = %e, after_s = settings.after_s, "orphaned jobs not rescued; trying again");
                list.since = now;
            }
        }
    }
    mem.lists.retain(|l| !moved_keys.contains(&l.key));
    for (worker, (moved, quarantined, waiting, consumers)) in tally {
        if moved + quarantined > 0 {
            mem.batches.push(Batch {
                worker: worker.clone(),
                at: now,
                moved,
                quarantined,
            });
        }
        let Some(w) = by_name.get(worker.as_str()) else {
            continue;
        };
        let from = consumers.join(", ");
        for (kind, count) in [
            (AlertKind::JobsRescued, moved),
            (AlertKind::JobsQuarantined, quarantined),
            (AlertKind::JobsOrphaned, waiting),
        ] {
            if count > 0 {
                let mut t = about(w, kind, Some(count));
                if let Some(c) = &mut t.context {
                    c.reason = Some(from.clone());
                }
                round.transitions.push(t);
            }
        }
    }
    round
}

/// Whether a maintenance silence covers `w` at `now`: planned work, its jobs are left alone (a
/// list orphaned during it starts its clock when it ends).
fn in_maintenance(silences: &[Silence], w: &WorkerStatus, now: u64) -> bool {
    silences.iter().any(|s| {
        s.maintenance
            && s.active(now)
            && s.matches
                .covers(&w.name, w.kind.as_str(), w.host.as_deref())
    })
}
