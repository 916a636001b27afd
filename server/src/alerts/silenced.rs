//! Silences applied to the alerts: a transition about a worker a silence covers is recorded as
//! silenced and not sent; one that stays true (the worker still down, still failed, dead letters
//! still there) is held, and sent when its silence ends, unless the worker came back meanwhile
//! or another silence covers it then. Pure; the held alerts live in the alerts' memory, so a
//! restart or another sender loses none.

use pulseboard_shared::silence::{covering, Silence};
use pulseboard_shared::{LifecycleState, Nodes, WorkerStatus};
use serde::{Deserialize, Serialize};

use super::alert::{AlertKind, Transition};
use super::transitions::about;

/// An alert a silence holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Held {
    /// The silence.
    pub silence: String,
    /// What happened.
    pub kind: AlertKind,
    /// To which worker.
    pub worker: String,
}

/// Whether an alert of `kind` says something that can still be true later (and so is owed when
/// its silence ends).
fn lasting(kind: AlertKind) -> bool {
    use AlertKind::*;
    matches!(
        kind,
        Down | DeadAtStart | FailedToStart | Unhealthy | Stalled | DeadLetters
    )
}

/// Whether `w` comes back: what it held is no longer owed.
fn back(kind: AlertKind) -> bool {
    use AlertKind::*;
    matches!(kind, Recovered | Settled | Started | Stopped)
}

/// Whether the alert `kind` is still true of `w`.
fn still_true(kind: AlertKind, w: &WorkerStatus) -> bool {
    let state = w.lifecycle.as_ref().map(|l| l.state);
    match kind {
        AlertKind::Down | AlertKind::DeadAtStart => !w.alive,
        AlertKind::FailedToStart => state == Some(LifecycleState::Failed),
        AlertKind::Unhealthy => state == Some(LifecycleState::Unhealthy),
        AlertKind::Stalled => state == Some(LifecycleState::Stalled),
        AlertKind::DeadLetters => w.dead_letter > 0,
        AlertKind::CircuitOpen => w.circuit_open(),
        _ => false,
    }
}

fn who(w: &WorkerStatus) -> (&str, &str, Option<&str>) {
    (&w.name, w.kind.as_str(), w.host.as_deref())
}

/// The silence in force at `now` over the worker `t` is about, if any (for alerts that are
/// events, not states: the guard's and the rescue's, which are recorded and never owed).
pub fn covering_id(
    nodes: &Nodes,
    silences: &[Silence],
    t: &Transition,
    now: u64,
) -> Option<String> {
    let w = nodes
        .workers
        .iter()
        .find(|w| Some(&w.name) == t.worker.as_ref())?;
    covering(silences, now, who(w)).map(|s| s.id.clone())
}

/// Applies `silences` at `now` (unix s) to `transitions` seen in `nodes`: each one with the id of
/// the silence it is covered by, if any; then the held alerts whose silence has ended and that
/// are still true, to be sent now. `held` is updated.
pub fn apply(
    held: &mut Vec<Held>,
    transitions: Vec<Transition>,
    nodes: &Nodes,
    silences: &[Silence],
    now: u64,
) -> Vec<(Transition, Option<String>)> {
    let find = |name: &str| nodes.workers.iter().find(|w| w.name == name);
    let mut out = Vec::with_capacity(transitions.len());
    for t in transitions {
        let Some(w) = t.worker.as_deref().and_then(find) else {
            out.push((t, None));
            continue;
        };
        if back(t.kind) {
            held.retain(|h| h.worker != w.name);
        }
        let Some(silence) = covering(silences, now, who(w)) else {
            out.push((t, None));
            continue;
        };
        if lasting(t.kind) {
            held.retain(|h| !(h.worker == w.name && h.kind == t.kind));
            held.push(Held {
                silence: silence.id.clone(),
                kind: t.kind,
                worker: w.name.clone(),
            });
        }
        out.push((t, Some(silence.id.clone())));
    }
    // Redis lost: the workers' view is stale, so nothing is owed from it; held until it is back.
    if !nodes.redis_ok {
        return out;
    }
    let in_force = |id: &str| silences.iter().any(|s| s.id == id && s.active(now));
    let mut kept = Vec::with_capacity(held.len());
    for h in held.drain(..) {
        if in_force(&h.silence) {
            kept.push(h);
            continue;
        }
        let Some(w) = find(&h.worker).filter(|w| still_true(h.kind, w)) else {
            continue;
        };
        let count = (h.kind == AlertKind::DeadLetters).then_some(w.dead_letter);
        match covering(silences, now, who(w)) {
            // Another silence covers it now: held on under that one.
            Some(other) => kept.push(Held {
                silence: other.id.clone(),
                ..h
            }),
            None => out.push((about(w, h.kind, count), None)),
        }
    }
    *held = kept;
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use pulseboard_shared::silence::SilenceMatch;
    use pulseboard_shared::WorkerKind;

    fn nodes(alive: bool) -> Nodes {
        let mut nodes = pulseboard_shared::mock::mock_nodes(0);
        nodes.workers.truncate(0);
        let mut w = WorkerStatus::new("r1", WorkerKind::Render);
        w.alive = alive;
        w.host = Some("gpu-01".into());
        nodes.workers.push(w);
        nodes
    }

    fn silence(until: u64) -> Silence {
        Silence {
            id: "s-1".into(),
            matches: SilenceMatch::Host("gpu-01".into()),
            until,
            reason: "disk swap".into(),
            maintenance: false,
            by: "ops".into(),
            created: 0,
        }
    }

    fn down(n: &Nodes) -> Transition {
        about(&n.workers[0], AlertKind::Down, None)
    }

    #[test]
    fn a_silenced_down_is_sent_when_the_silence_ends_if_still_down() {
        let mut held = Vec::new();
        let (dead, silences) = (nodes(false), [silence(100)]);
        let out = apply(&mut held, vec![down(&dead)], &dead, &silences, 50);
        assert_eq!(out[0].1.as_deref(), Some("s-1"), "silenced");
        assert_eq!(held.len(), 1);
        assert!(apply(&mut held, vec![], &dead, &silences, 99).is_empty());
        let mut lost = dead.clone();
        lost.redis_ok = false;
        assert!(apply(&mut held, vec![], &lost, &silences, 100).is_empty());
        assert_eq!(
            held.len(),
            1,
            "owed from a stale view: no; held until Redis is back"
        );
        let owed = apply(&mut held, vec![], &dead, &silences, 100);
        assert_eq!(owed.len(), 1, "still down when it ended");
        assert_eq!((owed[0].0.kind, owed[0].1.clone()), (AlertKind::Down, None));
        assert!(held.is_empty());
    }

    #[test]
    fn nothing_is_owed_for_a_worker_that_came_back_or_under_a_new_silence() {
        let (dead, alive) = (nodes(false), nodes(true));
        let mut held = Vec::new();
        apply(&mut held, vec![down(&dead)], &dead, &[silence(100)], 50);
        let up = about(&alive.workers[0], AlertKind::Recovered, None);
        let out = apply(&mut held, vec![up], &alive, &[silence(100)], 60);
        assert_eq!(
            out[0].1.as_deref(),
            Some("s-1"),
            "the recovery is silenced too"
        );
        assert!(held.is_empty());
        assert!(apply(&mut held, vec![], &alive, &[], 200).is_empty());

        // Still down at the end, but a second silence covers it: held on.
        apply(&mut held, vec![down(&dead)], &dead, &[silence(100)], 50);
        let mut second = silence(300);
        second.id = "s-2".into();
        second.matches = SilenceMatch::Worker("r1".into());
        let out = apply(
            &mut held,
            vec![],
            &dead,
            &[silence(100), second.clone()],
            150,
        );
        assert!(out.is_empty());
        assert_eq!(held[0].silence, "s-2");
        // Not covered: sent at once, nothing held.
        let mut fresh = Vec::new();
        let out = apply(&mut fresh, vec![down(&dead)], &dead, &[], 50);
        assert_eq!((out.len(), out[0].1.clone(), fresh.len()), (1, None, 0));
    }
}
