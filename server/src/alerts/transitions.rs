//! From successive snapshots to transitions worth an alert: pure, no I/O, the clock passed in as
//! milliseconds since the epoch.
//!
//! What must survive a restart (each worker's last judged state, the dead-letter count last
//! notified, recent downs, whether Redis was lost) is [`Memory`], which the caller keeps in Redis.
//! What must not (when this process started judging, when Redis came back) lives in [`Tracker`].

use std::collections::BTreeMap;

use pulseboard_shared::{LifecycleState, Nodes, WorkerStatus};
use serde::{Deserialize, Serialize};

use super::alert::{AlertKind, Transition, WorkerContext};
use crate::config::AlertSettings;

/// The rules' knobs, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rules {
    /// How long a never-seen configured worker may stay silent after the tracker starts (or after
    /// Redis comes back) before it is judged dead.
    pub grace_ms: i64,
    /// More than this many downs within `flap_window_ms` is flapping.
    pub flap_max: u32,
    /// The flapping window.
    pub flap_window_ms: i64,
    /// How long a worker may be unhealthy before it is worth an alert.
    pub unhealthy_after_ms: i64,
    /// Whether an overdue beat is worth an alert (by default it is only shown).
    pub alert_late: bool,
}

impl Rules {
    /// The rules `[alerts]` asks for.
    pub fn from_settings(s: &AlertSettings) -> Self {
        let ms = |d: std::time::Duration| d.as_millis() as i64;
        Self {
            grace_ms: ms(s.startup_grace),
            flap_max: s.flap_max,
            flap_window_ms: ms(s.flap_window),
            unhealthy_after_ms: ms(s.unhealthy_after),
            alert_late: s.alert_late,
        }
    }
}

/// What the alerts remember, persisted between runs and shared by every pulseboard process.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Memory {
    /// Whether Redis was last seen lost (the lost alert went out; the back alert is owed).
    #[serde(default)]
    pub redis_lost: bool,
    /// Per worker.
    #[serde(default)]
    pub workers: BTreeMap<String, WorkerMemory>,
    /// Alerts silences hold, owed when they end if still true.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub held: Vec<super::silenced::Held>,
    /// Host incidents whose group window is open.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub incidents: Vec<super::incidents::Incident>,
    /// Open alerts that want a person (re-sent until acknowledged).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pages: Vec<super::pages::Page>,
}

/// One worker's remembered state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkerMemory {
    /// The state last judged: `None` until it is first seen alive or its grace runs out.
    #[serde(default)]
    pub alive: Option<bool>,
    /// The dead-letter count last notified; back to 0 when the list is emptied.
    #[serde(default)]
    pub dead_letter: u64,
    /// When it went down within the flapping window (ms).
    #[serde(default)]
    pub downs: Vec<i64>,
    /// Whether it is flapping (its pairs of alerts are held).
    #[serde(default)]
    pub flapping: bool,
    /// Whether it is down because it stopped cleanly (no down alert, no recovered either).
    #[serde(default)]
    pub stopped: bool,
    /// The lifecycle problem last alerted (failed to start, unhealthy, stalled, late).
    #[serde(default)]
    pub problem: Option<AlertKind>,
    /// Since when it has been unhealthy (ms), while it is.
    #[serde(default)]
    pub unhealthy_since: Option<i64>,
    /// Whether its drift was alerted (and its end is owed).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub drift: bool,
    /// Whether the guard's open circuit was alerted (a person is owed until it closes).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub circuit_open: bool,
}

/// Judges snapshots one after another.
#[derive(Debug, Clone)]
pub struct Tracker {
    rules: Rules,
    memory: Memory,
    started_at: i64,
    /// Until when a worker seen dead is not judged: Redis just came back (possibly empty, after a
    /// restart) and the workers have not had a beat interval to write their keys again.
    settling_until: i64,
}

impl Tracker {
    /// A tracker starting at `now` from what was remembered.
    pub fn new(rules: Rules, memory: Memory, now: i64) -> Self {
        Self {
            rules,
            memory,
            started_at: now,
            settling_until: i64::MIN,
        }
    }

    /// Applies new rules (a reloaded configuration) from the next snapshot on.
    pub fn set_rules(&mut self, rules: Rules) {
        self.rules = rules;
    }

    /// What it remembers now.
    pub fn memory(&self) -> &Memory {
        &self.memory
    }

    /// The alerts silences hold (part of what it remembers).
    pub fn held_mut(&mut self) -> &mut Vec<super::silenced::Held> {
        &mut self.memory.held
    }

    /// The open host incidents (part of what it remembers).
    pub fn incidents_mut(&mut self) -> &mut Vec<super::incidents::Incident> {
        &mut self.memory.incidents
    }

    /// The open alerts that want a person, and what it remembers of each worker (to tell
    /// whether they are still true).
    pub fn pages_mut(
        &mut self,
    ) -> (
        &mut Vec<super::pages::Page>,
        &BTreeMap<String, WorkerMemory>,
    ) {
        (&mut self.memory.pages, &self.memory.workers)
    }

    /// Takes in one snapshot seen at `now` and returns the transitions it reveals.
    pub fn observe(&mut self, nodes: &Nodes, now: i64) -> Vec<Transition> {
        let mut out = Vec::new();
        if !nodes.redis_ok {
            // The snapshot still lists the last known workers; they did not die, the view did.
            if !self.memory.redis_lost {
                self.memory.redis_lost = true;
                out.push(global(AlertKind::RedisLost));
            }
            return out;
        }
        if self.memory.redis_lost {
            self.memory.redis_lost = false;
            self.settling_until = now.saturating_add(self.rules.grace_ms);
            out.push(global(AlertKind::RedisBack));
        }
        let settling = now < self.settling_until;
        let grace_over = now.saturating_sub(self.started_at) >= self.rules.grace_ms;
        for w in &nodes.workers {
            // Looked up before entered: the name is cloned only for a worker seen the first time.
            if !self.memory.workers.contains_key(&w.name) {
                self.memory
                    .workers
                    .insert(w.name.clone(), Default::default());
            }
            let m = self.memory.workers.get_mut(&w.name).expect("just entered");
            let rules = self.rules;
            if w.dead_letter > m.dead_letter {
                m.dead_letter = w.dead_letter;
                out.push(about(w, AlertKind::DeadLetters, Some(w.dead_letter)));
            } else if w.dead_letter == 0 {
                m.dead_letter = 0;
            }
            m.downs
                .retain(|&t| now.saturating_sub(t) < rules.flap_window_ms);
            let stopped = w.lifecycle.as_ref().map(|l| l.state) == Some(LifecycleState::Stopped);
            match (m.alive, w.alive) {
                (None, true) => m.alive = Some(true),
                (None | Some(true), false) if stopped => {
                    if m.alive.is_some() {
                        out.push(about(w, AlertKind::Stopped, None));
                    }
                    m.alive = Some(false);
                    m.stopped = true;
                }
                (Some(false), true) if m.stopped => {
                    m.alive = Some(true);
                    m.stopped = false;
                    out.push(about(w, AlertKind::Started, None));
                }
                (None, false) if w.registered && grace_over && !settling => {
                    m.alive = Some(false);
                    out.push(about(w, AlertKind::DeadAtStart, None));
                }
                (Some(true), false) if !settling => {
                    m.alive = Some(false);
                    m.downs.push(now);
                    let downs = m.downs.len() as u64;
                    if m.flapping {
                        // Held: one flapping alert said it all.
                    } else if downs > u64::from(rules.flap_max) {
                        m.flapping = true;
                        out.push(about(w, AlertKind::Flapping, Some(downs)));
                    } else {
                        out.push(about(w, AlertKind::Down, None));
                    }
                }
                (Some(false), true) => {
                    m.alive = Some(true);
                    if !m.flapping {
                        out.push(about(w, AlertKind::Recovered, None));
                    }
                }
                _ => {}
            }
            if m.flapping && m.downs.is_empty() {
                m.flapping = false;
                out.push(about(w, AlertKind::Settled, None));
            }
            out.extend(lifecycle_problem(m, w, &rules, now));
            out.extend(circuit(m, w));
            // Judged only while it beats: a drifted worker that dies is still owed its end.
            if w.alive && m.drift == w.drift.is_empty() {
                m.drift = !w.drift.is_empty();
                let mut t = about(
                    w,
                    if m.drift {
                        AlertKind::Drift
                    } else {
                        AlertKind::DriftCleared
                    },
                    None,
                );
                if let Some(c) = &mut t.context {
                    c.reason = m.drift.then(|| drift_reason(&w.drift));
                }
                out.push(t);
            }
        }
        // Forget workers no longer listed (an unregistered worker whose key is long gone): every
        // listed one has an entry now, so there are more entries only when some are gone.
        if self.memory.workers.len() > nodes.workers.len() {
            let listed: std::collections::HashSet<&str> =
                nodes.workers.iter().map(|w| w.name.as_str()).collect();
            self.memory
                .workers
                .retain(|name, _| listed.contains(name.as_str()));
        }
        out
    }
}

/// One alert when the recovery guard opens a worker's circuit (it gave up restarting it; a person
/// must look), judged here rather than by the guard so that it opens a page with buttons like
/// any alert that wants a person. Its closing is not news: the guard's log records it.
fn circuit(m: &mut WorkerMemory, w: &WorkerStatus) -> Option<Transition> {
    let open = w.circuit_open();
    if open == m.circuit_open {
        return None;
    }
    m.circuit_open = open;
    let r = w.recovery.as_ref().filter(|_| open)?;
    let mut t = about(w, AlertKind::CircuitOpen, Some(u64::from(r.attempts)));
    if let Some(c) = &mut t.context {
        c.reason = r.advice.as_ref().map(|a| a.words(&w.name));
    }
    Some(t)
}

/// One alert when a running worker enters a lifecycle problem (unhealthy only after it lasted
/// `unhealthy_after_ms`), one `recovered` when it leaves it; a worker that went down instead
/// has had its down alert.
fn lifecycle_problem(
    m: &mut WorkerMemory,
    w: &WorkerStatus,
    rules: &Rules,
    now: i64,
) -> Option<Transition> {
    use LifecycleState as L;
    let state = w.lifecycle.as_ref().map(|l| l.state);
    if state == Some(L::Unhealthy) {
        m.unhealthy_since.get_or_insert(now);
    } else {
        m.unhealthy_since = None;
    }
    let problem = match state {
        _ if !w.alive => {
            m.problem = None;
            return None;
        }
        Some(L::Failed) => Some(AlertKind::FailedToStart),
        Some(L::Stalled) => Some(AlertKind::Stalled),
        Some(L::Late) if rules.alert_late => Some(AlertKind::Late),
        Some(L::Unhealthy) => m
            .unhealthy_since
            .filter(|since| now.saturating_sub(*since) >= rules.unhealthy_after_ms)
            .map(|_| AlertKind::Unhealthy),
        // Still unhealthy but within its allowance: neither news nor a recovery.
        _ if m.unhealthy_since.is_some() => return None,
        _ => None,
    };
    if problem == m.problem {
        return None;
    }
    let was = std::mem::replace(&mut m.problem, problem);
    match problem {
        Some(kind) => Some(about(w, kind, None)),
        None if was.is_some() => Some(about(w, AlertKind::Recovered, None)),
        None => None,
    }
}

/// `version 1.4.1 ≠ 1.4.2; executable /opt/old ≠ /opt/new` (actual ≠ expected, in no language:
/// the message around it says which is which).
fn drift_reason(drift: &[pulseboard_shared::drift::Drift]) -> String {
    let each = drift
        .iter()
        .map(|d| format!("{} {} ≠ {}", d.field.as_str(), d.actual, d.expected));
    each.collect::<Vec<_>>().join("; ")
}

fn global(kind: AlertKind) -> Transition {
    Transition {
        kind,
        worker: None,
        count: None,
        context: None,
    }
}

/// A transition of `kind` about `w`, with its figures now.
pub(crate) fn about(w: &WorkerStatus, kind: AlertKind, count: Option<u64>) -> Transition {
    Transition {
        kind,
        worker: Some(w.name.clone()),
        count,
        context: Some(WorkerContext {
            alive: w.alive,
            last_beat_age_s: w.last_beat_age_s,
            queue_depth: w.queue_depth,
            processing: w.processing,
            dead_letter: w.dead_letter,
            host: w.host.clone(),
            worker_kind: Some(w.kind.as_str().to_owned()),
            reason: w.lifecycle.as_ref().and_then(|l| l.reason.clone()),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pulseboard_shared::WorkerKind;

    const RULES: Rules = Rules {
        grace_ms: 45_000,
        flap_max: 3,
        flap_window_ms: 60_000,
        unhealthy_after_ms: 30_000,
        alert_late: false,
    };

    pub(super) fn worker(name: &str, alive: bool, dead_letter: u64) -> WorkerStatus {
        WorkerStatus {
            alive,
            state: alive.then(|| "idle".into()),
            last_beat_age_s: Some(if alive { 1 } else { 46 }),
            queue_depth: 2,
            dead_letter,
            processing: 1,
            host: Some("windows".into()),
            ..WorkerStatus::new(name, WorkerKind::Render)
        }
    }

    pub(super) fn nodes(redis_ok: bool, workers: Vec<WorkerStatus>) -> Nodes {
        Nodes {
            runbook_url: None,
            redis_ok,
            paused: false,
            paused_reason: None,
            generated_at: String::new(),
            workers,
            links: vec![],
            hosts: vec![],
            summary: None,
            agents: vec![],
        }
    }

    fn kinds(out: &[Transition]) -> Vec<(AlertKind, Option<u64>)> {
        out.iter().map(|t| (t.kind, t.count)).collect()
    }

    #[test]
    fn a_worker_no_longer_listed_is_forgotten() {
        let mut t = Tracker::new(RULES, Memory::default(), 0);
        let both = vec![worker("a", true, 0), worker("b", true, 0)];
        t.observe(&nodes(true, both), 0);
        t.observe(&nodes(true, vec![worker("b", true, 0)]), 1000);
        let names: Vec<_> = t.memory().workers.keys().map(String::as_str).collect();
        assert_eq!(names, ["b"]);
        // One gone, one new: as many entries as before, and still only the listed ones.
        t.observe(&nodes(true, vec![worker("c", true, 0)]), 2000);
        let names: Vec<_> = t.memory().workers.keys().map(String::as_str).collect();
        assert_eq!(names, ["c"]);
    }

    #[test]
    fn down_then_recovered_once_each() {
        let mut t = Tracker::new(RULES, Memory::default(), 0);
        assert!(t
            .observe(&nodes(true, vec![worker("a", true, 0)]), 0)
            .is_empty());
        let down = t.observe(&nodes(true, vec![worker("a", false, 0)]), 1000);
        assert_eq!(kinds(&down), [(AlertKind::Down, None)]);
        let context = down[0].context.as_ref().unwrap();
        assert_eq!((context.queue_depth, context.processing), (2, 1));
        assert!(t
            .observe(&nodes(true, vec![worker("a", false, 0)]), 2000)
            .is_empty());
        let up = t.observe(&nodes(true, vec![worker("a", true, 0)]), 3000);
        assert_eq!(kinds(&up), [(AlertKind::Recovered, None)]);
    }

    #[test]
    fn dead_at_start_after_the_grace_only_and_only_once() {
        let mut t = Tracker::new(RULES, Memory::default(), 10_000);
        let dead = nodes(true, vec![worker("a", false, 0)]);
        assert!(t.observe(&dead, 10_000).is_empty());
        assert!(t.observe(&dead, 54_999).is_empty());
        assert_eq!(
            kinds(&t.observe(&dead, 55_000)),
            [(AlertKind::DeadAtStart, None)]
        );
        assert!(t.observe(&dead, 56_000).is_empty());
        let mut unregistered = worker("b", false, 0);
        unregistered.registered = false;
        assert!(t
            .observe(&nodes(true, vec![unregistered]), 60_000)
            .is_empty());
    }

    #[test]
    fn dead_letters_alert_on_each_increase_and_reset_when_emptied() {
        let mut t = Tracker::new(RULES, Memory::default(), 0);
        let mut alerts = vec![];
        for (i, n) in [0, 2, 2, 3, 1, 0, 1].into_iter().enumerate() {
            for tr in t.observe(&nodes(true, vec![worker("a", true, n)]), i as i64) {
                alerts.push(tr.count.unwrap());
            }
        }
        assert_eq!(alerts, [2, 3, 1]);
    }

    #[test]
    fn redis_lost_silences_workers_and_back_gives_them_a_grace() {
        let mut t = Tracker::new(RULES, Memory::default(), 0);
        let six: Vec<_> = (0..6).map(|i| worker(&format!("w{i}"), true, 0)).collect();
        assert!(t.observe(&nodes(true, six.clone()), 0).is_empty());
        assert_eq!(
            kinds(&t.observe(&nodes(false, six.clone()), 1000)),
            [(AlertKind::RedisLost, None)]
        );
        assert!(t.observe(&nodes(false, six.clone()), 2000).is_empty());
        // Back, but empty (a restarted Redis): the keys are not there yet.
        let dead: Vec<_> = (0..6).map(|i| worker(&format!("w{i}"), false, 0)).collect();
        assert_eq!(
            kinds(&t.observe(&nodes(true, dead.clone()), 3000)),
            [(AlertKind::RedisBack, None)]
        );
        assert!(t.observe(&nodes(true, dead.clone()), 4000).is_empty());
        assert!(t.observe(&nodes(true, six.clone()), 5000).is_empty());
        // After the grace a real death is reported again.
        let mut one_dead = six.clone();
        one_dead[0].alive = false;
        assert_eq!(
            kinds(&t.observe(&nodes(true, one_dead), 60_000)),
            [(AlertKind::Down, None)]
        );
    }

    #[test]
    fn flapping_gives_one_alert_then_silence_until_settled() {
        let mut t = Tracker::new(RULES, Memory::default(), 0);
        let mut all = vec![];
        for i in 0..10 {
            let at = i * 2000;
            all.extend(t.observe(&nodes(true, vec![worker("a", true, 0)]), at));
            all.extend(t.observe(&nodes(true, vec![worker("a", false, 0)]), at + 1000));
        }
        let seen = kinds(&all);
        let pairs = [(AlertKind::Down, None), (AlertKind::Recovered, None)];
        assert_eq!(&seen[..6], [pairs, pairs, pairs].concat().as_slice());
        assert_eq!(&seen[6..], [(AlertKind::Flapping, Some(4))]);
        // Stays down: settles one window after its last down, saying it is down.
        let settled = t.observe(&nodes(true, vec![worker("a", false, 0)]), 19_000 + 60_000);
        assert_eq!(kinds(&settled), [(AlertKind::Settled, None)]);
        assert!(!settled[0].context.as_ref().unwrap().alive);
        assert_eq!(
            kinds(&t.observe(&nodes(true, vec![worker("a", true, 0)]), 80_000)),
            [(AlertKind::Recovered, None)]
        );
    }

    #[test]
    fn memory_carries_across_a_restart() {
        let mut t = Tracker::new(RULES, Memory::default(), 0);
        t.observe(&nodes(true, vec![worker("a", true, 0)]), 0);
        t.observe(&nodes(true, vec![worker("a", false, 3)]), 1000);
        let saved = serde_json::to_string(t.memory()).unwrap();
        let mut again = Tracker::new(RULES, serde_json::from_str(&saved).unwrap(), 5000);
        assert!(again
            .observe(&nodes(true, vec![worker("a", false, 3)]), 5000)
            .is_empty());
        assert_eq!(
            kinds(&again.observe(&nodes(true, vec![worker("a", true, 3)]), 6000)),
            [(AlertKind::Recovered, None)]
        );
    }

    fn judged(name: &str, state: LifecycleState) -> WorkerStatus {
        let mut w = worker(name, state.running(), 0);
        w.lifecycle = Some(pulseboard_shared::Lifecycle::new(
            state,
            Some(pulseboard_shared::lifecycle::Reason::Own {
                words: "why".into(),
            }),
            None,
        ));
        w
    }

    #[test]
    fn a_clean_stop_is_recorded_quietly_and_never_alerted_as_a_crash() {
        use LifecycleState as L;
        let mut t = Tracker::new(RULES, Memory::default(), 0);
        t.observe(&nodes(true, vec![judged("a", L::Ready)]), 0);
        let stop = t.observe(&nodes(true, vec![judged("a", L::Stopped)]), 1000);
        assert_eq!(kinds(&stop), [(AlertKind::Stopped, None)]);
        assert!(stop[0].kind.is_quiet());
        // Long after: its key is gone too; still no down, and the start is quiet as well.
        assert!(t
            .observe(&nodes(true, vec![judged("a", L::Down)]), 90_000)
            .is_empty());
        let start = t.observe(&nodes(true, vec![judged("a", L::Starting)]), 95_000);
        assert_eq!(kinds(&start), [(AlertKind::Started, None)]);
        // A crash after that is a crash.
        let crash = t.observe(&nodes(true, vec![judged("a", L::Down)]), 99_000);
        assert_eq!(kinds(&crash), [(AlertKind::Down, None)]);
        assert!(!AlertKind::Down.is_quiet());
        // Stopped already when the monitor starts: not dead at start.
        let mut fresh = Tracker::new(RULES, Memory::default(), 0);
        assert!(fresh
            .observe(&nodes(true, vec![judged("b", L::Stopped)]), 60_000)
            .is_empty());
    }

    #[test]
    fn lifecycle_problems_alert_once_and_recover_once() {
        use LifecycleState as L;
        let mut t = Tracker::new(RULES, Memory::default(), 0);
        let mut seen = vec![];
        for (at, state) in [
            (0, L::Starting),
            (1_000, L::Failed),
            (2_000, L::Failed),
            (3_000, L::Ready),
            (4_000, L::Unhealthy),
            (33_999, L::Unhealthy),
            (34_000, L::Unhealthy),
            (35_000, L::Stalled),
            (36_000, L::Late),
            (37_000, L::Ready),
        ] {
            seen.extend(kinds(
                &t.observe(&nodes(true, vec![judged("a", state)]), at),
            ));
        }
        let k = |kind| (kind, None);
        assert_eq!(
            seen,
            [
                k(AlertKind::FailedToStart),
                k(AlertKind::Recovered),
                k(AlertKind::Unhealthy),
                k(AlertKind::Stalled),
                k(AlertKind::Recovered),
            ],
            "late is shown, not alerted, by default"
        );
        // A short unhealthy spell is no news.
        assert!(t
            .observe(&nodes(true, vec![judged("a", L::Unhealthy)]), 40_000)
            .is_empty());
        assert!(t
            .observe(&nodes(true, vec![judged("a", L::Ready)]), 41_000)
            .is_empty());
        let mut late = Tracker::new(
            Rules {
                alert_late: true,
                ..RULES
            },
            Memory::default(),
            0,
        );
        late.observe(&nodes(true, vec![judged("a", L::Ready)]), 0);
        let out = late.observe(&nodes(true, vec![judged("a", L::Late)]), 1000);
        assert_eq!(kinds(&out), [(AlertKind::Late, None)]);
        assert_eq!(
            out[0].context.as_ref().unwrap().reason.as_deref(),
            Some("why")
        );
    }
}

#[cfg(test)]
mod snapshot_marks_tests {
    //! Alerts raised from what the snapshot marks on a worker: its drift, the guard's circuit.
    use super::tests::{nodes, worker};
    use super::*;
    use pulseboard_shared::drift::{Drift, DriftField};
    use pulseboard_shared::recovery::{Advice, GuardState, RecoveryView, Route};

    fn tracker() -> Tracker {
        let rules = Rules::from_settings(&AlertSettings::default());
        Tracker::new(rules, Memory::default(), 0)
    }

    /// A snapshot of `w` alone.
    fn alone(w: &WorkerStatus) -> Nodes {
        nodes(true, vec![w.clone()])
    }

    #[test]
    fn drift_is_one_alert_when_it_appears_and_one_when_it_ends() {
        let (mut tracker, mut w) = (tracker(), worker("r0", true, 0));
        assert!(tracker.observe(&alone(&w), 0).is_empty());
        w.drift = vec![Drift {
            field: DriftField::Version,
            expected: "2".into(),
            actual: "1".into(),
            by_majority: true,
        }];
        let out = tracker.observe(&alone(&w), 1000);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].kind, AlertKind::Drift);
        let why = out[0].context.as_ref().and_then(|c| c.reason.clone());
        assert_eq!(why.as_deref(), Some("version 1 ≠ 2"));
        assert!(tracker.observe(&alone(&w), 2000).is_empty(), "once");
        w.drift.clear();
        let out = tracker.observe(&alone(&w), 3000);
        assert_eq!(
            out.iter().map(|t| t.kind).collect::<Vec<_>>(),
            [AlertKind::DriftCleared]
        );
    }

    #[test]
    fn an_open_circuit_is_one_alert_until_it_closes() {
        let (mut tracker, mut w) = (tracker(), worker("r0", true, 0));
        assert!(tracker.observe(&alone(&w), 0).is_empty());
        let mut view: RecoveryView = serde_json::from_value(serde_json::json!({
            "mode": "auto", "state": "circuit_open", "attempts": 3, "max_attempts": 3
        }))
        .unwrap();
        view.advice = Some(Advice::CrashLoop {
            route: Route::Agent,
        });
        w.recovery = Some(view.clone());
        let out = tracker.observe(&alone(&w), 1000);
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!(
            (out[0].kind, out[0].count),
            (AlertKind::CircuitOpen, Some(3))
        );
        let why = out[0].context.as_ref().and_then(|c| c.reason.clone());
        assert!(why.is_some_and(|w| w.contains("r0")));
        assert!(tracker.observe(&alone(&w), 2000).is_empty(), "once");
        assert!(tracker.memory().workers["r0"].circuit_open, "owed a person");
        view.state = GuardState::Idle;
        w.recovery = Some(view);
        assert!(
            tracker.observe(&alone(&w), 3000).is_empty(),
            "closing is not news"
        );
        assert!(!tracker.memory().workers["r0"].circuit_open);
    }
}
