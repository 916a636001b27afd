//! Incidents, not messages: a host that loses power takes all its workers with it. The down
//! alerts of one host within `[alerts] group_window_s` are one incident: the first goes out at
//! once (never later than today), the others are recorded but not sent, and when the window
//! closes one summary names the host, how many and which (`🔴 gpu-01: 10 workers down (r0, r1,
//! ...)`). Recoveries likewise. At most two messages per host and kind, however many workers.
//! Pure; the open incidents live in the alerts' memory, so a restart or another sender keeps them.

use serde::{Deserialize, Serialize};

use super::alert::{AlertKind, FollowUp, Transition, WorkerContext};

/// Names a summary spells out; the rest are counted.
const NAMED: usize = 10;

/// An incident whose window is open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Incident {
    /// Its id, carried by each of its alerts.
    pub id: String,
    /// The host.
    pub host: String,
    /// `down` or `recovered`.
    pub kind: AlertKind,
    /// When its first alert was raised (ms).
    pub opened_ms: i64,
    /// The worker of that first alert.
    pub first: String,
    /// The workers whose alerts were grouped into it since.
    #[serde(default)]
    pub more: Vec<String>,
}

/// A transition on its way out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// What happened.
    pub transition: Transition,
    /// The silence that holds it, if any.
    pub silence: Option<String>,
    /// Its incident, if it is part of one.
    pub incident: Option<String>,
    /// Recorded only: the incident's first alert already said it, its summary will count it.
    pub grouped: bool,
    /// Words of its own (a follow-up quotes the alert it follows), instead of the kind's.
    pub text: Option<String>,
    /// A follow-up's structure, which words `text` again in any language.
    pub follow_up: Option<FollowUp>,
    /// The workers a summary speaks for, every one (its text names ten).
    pub members: Vec<String>,
}

impl Outgoing {
    /// `transition` on its own, held by `silence` if any.
    pub fn new(transition: Transition, silence: Option<String>) -> Self {
        Self {
            transition,
            silence,
            incident: None,
            grouped: false,
            text: None,
            follow_up: None,
            members: Vec::new(),
        }
    }
}

/// The summary kind of a worker alert kind that groups by host.
fn summary_of(kind: AlertKind) -> Option<AlertKind> {
    match kind {
        AlertKind::Down => Some(AlertKind::HostDown),
        AlertKind::Recovered => Some(AlertKind::HostRecovered),
        _ => None,
    }
}

/// Groups `transitions` (each with its silence, if any) into the `open` incidents at `now`
/// (ms), `window_ms` long (0: no grouping), and adds the summaries of the incidents whose window
/// closed. Silenced alerts are left alone (their silence holds them already).
pub fn group(
    open: &mut Vec<Incident>,
    transitions: Vec<(Transition, Option<String>)>,
    window_ms: i64,
    now: i64,
) -> Vec<Outgoing> {
    let mut out: Vec<Outgoing> = Vec::with_capacity(transitions.len());
    for (t, silence) in transitions {
        let mut o = Outgoing::new(t, silence);
        let host = o.transition.context.as_ref().and_then(|c| c.host.clone());
        let (Some(host), Some(worker), true, None) = (
            host,
            o.transition.worker.clone(),
            window_ms > 0 && summary_of(o.transition.kind).is_some(),
            &o.silence,
        ) else {
            out.push(o);
            continue;
        };
        let kind = o.transition.kind;
        match open.iter_mut().find(|i| i.host == host && i.kind == kind) {
            // The same worker again (down, back, down): news of its own, sent as ever.
            Some(i) if i.first == worker || i.more.contains(&worker) => {}
            Some(incident) => {
                incident.more.push(worker);
                o.incident = Some(incident.id.clone());
                o.grouped = true;
            }
            None => {
                let id = format!("i-{now}-{}", open.len());
                open.push(Incident {
                    id: id.clone(),
                    host,
                    kind,
                    opened_ms: now,
                    first: worker,
                    more: Vec::new(),
                });
                o.incident = Some(id);
            }
        }
        out.push(o);
    }
    let (closed, still): (Vec<_>, Vec<_>) = open
        .drain(..)
        .partition(|i| now.saturating_sub(i.opened_ms) >= window_ms);
    *open = still;
    for i in closed.into_iter().filter(|i| !i.more.is_empty()) {
        out.push(summary(&i));
    }
    out
}

/// The summary of incident `i`: its host, how many workers, which.
fn summary(i: &Incident) -> Outgoing {
    let names: Vec<&str> = std::iter::once(i.first.as_str())
        .chain(i.more.iter().map(String::as_str))
        .collect();
    let count = names.len();
    let mut named = names[..count.min(NAMED)].join(", ");
    if count > NAMED {
        named.push_str(&format!(", +{}", count - NAMED));
    }
    let transition = Transition {
        kind: summary_of(i.kind).unwrap_or(AlertKind::HostDown),
        worker: None,
        count: Some(count as u64),
        context: Some(WorkerContext {
            alive: i.kind == AlertKind::Recovered,
            last_beat_age_s: None,
            queue_depth: 0,
            processing: 0,
            dead_letter: 0,
            host: Some(i.host.clone()),
            worker_kind: None,
            reason: Some(named),
        }),
    };
    let mut o = Outgoing::new(transition, None);
    o.incident = Some(i.id.clone());
    o.members = names.iter().map(|n| (*n).to_owned()).collect();
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    fn down(worker: &str, host: Option<&str>) -> (Transition, Option<String>) {
        let t = Transition {
            kind: AlertKind::Down,
            worker: Some(worker.into()),
            count: None,
            context: Some(WorkerContext {
                alive: false,
                last_beat_age_s: Some(46),
                queue_depth: 0,
                processing: 0,
                dead_letter: 0,
                host: host.map(Into::into),
                worker_kind: None,
                reason: None,
            }),
        };
        (t, None)
    }

    #[test]
    fn a_host_outage_is_the_first_alert_at_once_and_one_summary() {
        let mut open = Vec::new();
        let first = group(&mut open, vec![down("r0", Some("gpu-01"))], 30_000, 0);
        assert_eq!(first.len(), 1);
        assert!(
            !first[0].grouped && first[0].incident.is_some(),
            "sent at once"
        );
        let more: Vec<_> = (1..12)
            .map(|n| down(&format!("r{n}"), Some("gpu-01")))
            .chain([down("other", Some("gpu-02")), down("nohost", None)])
            .collect();
        let out = group(&mut open, more, 30_000, 5_000);
        let grouped = out.iter().filter(|o| o.grouped).count();
        assert_eq!(grouped, 11, "held into gpu-01's incident");
        let alone: Vec<_> = out.iter().filter(|o| !o.grouped).collect();
        assert_eq!(alone.len(), 2, "gpu-02's first and the hostless one go out");
        assert!(group(&mut open, vec![], 30_000, 29_999).is_empty());
        let closed = group(&mut open, vec![], 30_000, 30_000);
        assert_eq!(closed.len(), 1, "one summary; gpu-02 had nothing to add");
        let s = &closed[0].transition;
        assert_eq!((s.kind, s.count), (AlertKind::HostDown, Some(12)));
        let names = s.context.as_ref().unwrap().reason.clone().unwrap();
        assert_eq!(names, "r0, r1, r2, r3, r4, r5, r6, r7, r8, r9, +2");
        assert_eq!(open.len(), 1, "gpu-02's, opened at 5 s, is open until 35 s");
        assert!(group(&mut open, vec![], 30_000, 35_000).is_empty());
        assert!(open.is_empty());
    }

    #[test]
    fn the_same_worker_again_is_news_of_its_own() {
        let mut open = Vec::new();
        group(&mut open, vec![down("r0", Some("gpu-01"))], 30_000, 0);
        let again = group(&mut open, vec![down("r0", Some("gpu-01"))], 30_000, 9_000);
        assert!(!again[0].grouped && again[0].incident.is_none());
        assert!(
            group(&mut open, vec![], 30_000, 30_000).is_empty(),
            "nothing to sum up"
        );
    }

    #[test]
    fn silenced_alerts_and_a_zero_window_are_not_grouped() {
        let mut open = Vec::new();
        let (t, _) = down("r0", Some("gpu-01"));
        let out = group(&mut open, vec![(t, Some("s-1".into()))], 30_000, 0);
        assert_eq!((out[0].incident.clone(), open.len()), (None, 0));
        let out = group(
            &mut open,
            vec![down("r0", Some("h")), down("r1", Some("h"))],
            0,
            0,
        );
        assert!(out.iter().all(|o| o.incident.is_none() && !o.grouped));
    }
}
