//! The series' writer: the decider (the guard's lease) folds every snapshot into the current
//! step's point per worker and for the fleet, and at each step's end appends the points in one
//! pipeline (`LPUSH`, `LTRIM` to the kept length, `EXPIRE` so a worker gone for good leaves
//! nothing behind). Every 60 steps a coarse point (an hour) goes to the coarse series.
//!
//! Jobs are counted from the beats' `jobs_done`/`jobs_failed`: a new decider has no reading to
//! count from, so its first step counts from its first snapshot.

use std::collections::HashMap;
use std::sync::Arc;

use pulseboard_shared::history::{counted, HistoryPoint};
use pulseboard_shared::Nodes;
use tokio::sync::watch;

use crate::config::history::HistorySettings;
use crate::config::Config;
use crate::ledger::lease::Lease;
use crate::ledger::store::{Store, StoreError};
use crate::shutdown::Shutdown;
use crate::snapshot::{next, Snapshot};

/// Fine steps per coarse point.
pub const COARSE: u64 = 60;

/// One series being filled.
#[derive(Debug, Default)]
struct Series {
    /// The counters last read (`None` before the first reading).
    counters: Option<(u64, u64)>,
    /// Seen in a snapshot of the current step.
    seen: bool,
    fine: HistoryPoint,
    coarse: HistoryPoint,
}

/// What the writer keeps between snapshots.
#[derive(Debug)]
pub struct Writer {
    step_s: u64,
    /// The current fine step's start.
    step: u64,
    /// The current coarse step's start.
    coarse_step: u64,
    last_seen: u64,
    workers: HashMap<String, Series>,
    fleet: Series,
}

/// Lines to append: the series' key, its point.
pub type Lines = Vec<(Option<String>, bool, String)>;

impl Writer {
    /// A writer starting at `now` (unix s) with steps of `step_s`.
    pub fn new(now: u64, step_s: u64) -> Self {
        let step = now - now % step_s;
        Self {
            step_s,
            step,
            coarse_step: now - now % (step_s * COARSE),
            last_seen: now,
            workers: HashMap::new(),
            fleet: Series::default(),
        }
    }

    /// Folds `nodes`, seen at `now`, into the current step; when `now` is past the step, first
    /// closes it and returns its lines (worker or fleet, fine or coarse, line).
    pub fn observe(&mut self, nodes: &Nodes, now: u64) -> Lines {
        let mut lines = Vec::new();
        if now >= self.step + self.step_s {
            lines = self.close(now);
        }
        let elapsed = now.saturating_sub(self.last_seen).min(self.step_s);
        self.last_seen = now;
        let mut total = HistoryPoint::default();
        for w in &nodes.workers {
            // Looked up by reference: a name is copied once per worker, not every snapshot.
            if !self.workers.contains_key(&w.name) {
                self.workers.insert(w.name.clone(), Series::default());
            }
            let s = self.workers.get_mut(&w.name).expect("inserted above");
            // Only a beat's counters count: a worker with none (never seen, or its key gone)
            // reads 0, and taking that as a base would count its whole counter at its next beat.
            if w.last_beat_age_s.is_some() {
                let counters = (w.jobs_done, w.jobs_failed);
                if let Some((done, failed)) = s.counters {
                    s.fine.done += counted(done, counters.0);
                    s.fine.failed += counted(failed, counters.1);
                }
                s.counters = Some(counters);
            }
            s.seen = true;
            s.fine.queue_depth = w.queue_depth;
            s.fine.processing = w.processing;
            s.fine.dead_letter = w.dead_letter;
            if !w.alive {
                s.fine.down_s += elapsed;
            }
            total.queue_depth += w.queue_depth;
            total.processing += w.processing;
            total.dead_letter += w.dead_letter;
        }
        self.fleet.fine.queue_depth = total.queue_depth;
        self.fleet.fine.processing = total.processing;
        self.fleet.fine.dead_letter = total.dead_letter;
        lines
    }

    /// Ends the current step (and the coarse one, when `now` passed it too): its lines.
    fn close(&mut self, now: u64) -> Lines {
        let (step, step_s) = (self.step, self.step_s);
        let coarse_ends = now >= self.coarse_step + step_s * COARSE;
        let mut lines = Vec::with_capacity(self.workers.len() * 2 + 2);
        let mut fleet = HistoryPoint {
            t: step,
            ..self.fleet.fine
        };
        for (name, s) in &mut self.workers {
            let point = HistoryPoint { t: step, ..s.fine };
            fleet.done += point.done;
            fleet.failed += point.failed;
            fleet.down_s += point.down_s;
            lines.push((Some(name.clone()), true, point.to_line()));
            fold(
                s,
                point,
                coarse_ends,
                self.coarse_step,
                &mut lines,
                Some(name),
            );
        }
        fold(
            &mut self.fleet,
            fleet,
            coarse_ends,
            self.coarse_step,
            &mut lines,
            None,
        );
        lines.push((None, true, fleet.to_line()));
        // A worker gone from the snapshots starts again if it comes back.
        self.workers.retain(|_, s| s.seen);
        for s in self.workers.values_mut() {
            (s.fine, s.seen) = (HistoryPoint::default(), false);
        }
        self.fleet.fine = HistoryPoint::default();
        self.step = now - now % step_s;
        if coarse_ends {
            self.coarse_step = now - now % (step_s * COARSE);
        }
        lines
    }
}

/// Adds a closed fine point into its series' coarse point; a coarse step that ended goes out.
fn fold(
    s: &mut Series,
    point: HistoryPoint,
    coarse_ends: bool,
    coarse_step: u64,
    lines: &mut Lines,
    name: Option<&String>,
) {
    s.coarse.t = coarse_step;
    s.coarse.absorb(&point);
    if coarse_ends {
        lines.push((name.cloned(), false, s.coarse.to_line()));
        s.coarse = HistoryPoint::default();
    }
}

/// Appends `lines` in one pipeline, each series trimmed to what `settings` keep.
pub async fn append(
    store: &Store,
    lines: &Lines,
    settings: &HistorySettings,
) -> Result<(), StoreError> {
    let mut pipe = redis::pipe();
    for (worker, fine, line) in lines {
        let key = store.keys.history(*fine, worker.as_deref());
        let (keep, step) = if *fine {
            (settings.keep_fine, settings.step_s)
        } else {
            (settings.keep_coarse, settings.step_s * COARSE)
        };
        pipe.lpush(&key, line).ignore();
        pipe.ltrim(&key, 0, keep as isize - 1).ignore();
        pipe.expire(&key, (keep * step) as i64).ignore();
    }
    let mut conn = store.conn().await?;
    pipe.query_async::<()>(&mut conn).await?;
    Ok(())
}

/// Writes the series while this process holds `lease` (the guard's: one writer of several).
pub async fn run(
    store: Store,
    lease: Lease,
    mut snapshots: watch::Receiver<Arc<Snapshot>>,
    configs: watch::Receiver<Config>,
    shutdown: Shutdown,
) {
    let mut writer: Option<Writer> = None;
    while let Some(snapshot) = next(&mut snapshots, &shutdown).await {
        let settings = configs.borrow().history.clone();
        if !settings.enabled || !lease.held() || snapshot.version == 0 {
            writer = None;
            continue;
        }
        if !snapshot.nodes.redis_ok {
            continue;
        }
        let now = crate::aggregate::unix_now();
        let w = writer.get_or_insert_with(|| Writer::new(now, settings.step_s));
        let lines = w.observe(&snapshot.nodes, now);
        if lines.is_empty() {
            continue;
        }
        if let Err(e) = append(&store, &lines, &settings).await {
            tracing::warn!(error = %e, points = lines.len(), "history: a step's points not written");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pulseboard_shared::{WorkerKind, WorkerStatus};

    fn nodes(done: u64, alive: bool) -> Nodes {
        let mut nodes = pulseboard_shared::mock::mock_nodes(0);
        let mut w = WorkerStatus::new("r1", WorkerKind::Render);
        w.jobs_done = done;
        w.alive = alive;
        w.last_beat_age_s = Some(1);
        w.queue_depth = 4;
        nodes.workers = vec![w];
        nodes
    }

    #[test]
    fn a_step_counts_its_jobs_restarts_and_downtime_and_hours_add_up() {
        let mut w = Writer::new(600, 60);
        assert!(
            w.observe(&nodes(100, true), 600).is_empty(),
            "the first reading is the base"
        );
        assert!(w.observe(&nodes(110, true), 620).is_empty());
        assert!(
            w.observe(&nodes(3, false), 640).is_empty(),
            "restarted: counts 3, down 20 s"
        );
        let lines = w.observe(&nodes(5, false), 660);
        let fine: Vec<_> = lines.iter().filter(|l| l.1).collect();
        let point = HistoryPoint::from_line(&fine[0].2).unwrap();
        assert_eq!(fine[0].0.as_deref(), Some("r1"));
        assert_eq!(
            (point.t, point.done, point.queue_depth, point.down_s),
            (600, 13, 4, 20)
        );
        let fleet = HistoryPoint::from_line(&fine[1].2).unwrap();
        assert_eq!(
            (fine[1].0.clone(), fleet.done, fleet.queue_depth),
            (None, 13, 4)
        );
        // An hour later: the coarse point sums its minutes.
        let mut coarse = Vec::new();
        for t in (720..=3600 + 60).step_by(60) {
            coarse.extend(w.observe(&nodes(5, true), t).into_iter().filter(|l| !l.1));
        }
        let hour = HistoryPoint::from_line(&coarse[0].2).unwrap();
        assert_eq!(
            (hour.t, hour.done),
            (0, 15),
            "13 in its first minute, 2 in its second"
        );
    }

    #[test]
    fn a_worker_without_a_beat_is_no_base_for_its_first_one() {
        let mut w = Writer::new(600, 60);
        let mut never = nodes(0, false);
        never.workers[0].last_beat_age_s = None;
        assert!(w.observe(&never, 600).is_empty());
        assert!(
            w.observe(&nodes(100, true), 610).is_empty(),
            "its first beat: the base"
        );
        w.observe(&nodes(104, true), 620);
        let mut gone = nodes(0, false);
        gone.workers[0].last_beat_age_s = None;
        w.observe(&gone, 630);
        w.observe(&nodes(105, true), 640);
        let lines = w.observe(&nodes(105, true), 660);
        let point = HistoryPoint::from_line(&lines[0].2).unwrap();
        assert_eq!(point.done, 5, "4, then 1 across its key's absence");
    }
}
