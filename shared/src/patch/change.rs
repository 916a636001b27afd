//! One worker's changed fields: what a patch sends for a worker that changed, so a beat that
//! moves one counter costs that counter, not the whole record (~300 B at 10,000 workers).
//!
//! A field is present when its new value differs from the old one moved on by the clock (see
//! the module above); a nullable field that became empty is present as `null`.

use serde::{Deserialize, Serialize};

use super::present;
use crate::drift::Drift;
use crate::guard::RecoveryView;
use crate::heartbeat::Declared;
use crate::lifecycle::Lifecycle;
use crate::nodes::{WorkerKind, WorkerStatus};
use crate::orphans::RescueView;
use crate::parts::PartStatus;
use crate::silence::SilenceMark;

/// A worker's fields that changed, by name; only the changed ones are present.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Change {
    /// Which worker.
    pub name: String,
    /// Contract 2's `kind`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<WorkerKind>,
    /// Contract 2's `alive`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alive: Option<bool>,
    /// Contract 2's `state` (`null`: now none).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub state: Option<Option<String>>,
    /// Contract 2's `last_beat_age_s`, when it did not just follow the clock.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub last_beat_age_s: Option<Option<u64>>,
    /// Contract 2's `queue_depth`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_depth: Option<u64>,
    /// Contract 2's `dead_letter`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dead_letter: Option<u64>,
    /// Contract 2's `processing`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub processing: Option<u64>,
    /// Contract 2's `jobs_done`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jobs_done: Option<u64>,
    /// Contract 2's `jobs_failed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jobs_failed: Option<u64>,
    /// Contract 2's `last_job_at`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub last_job_at: Option<Option<String>>,
    /// Contract 2's `host`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub host: Option<Option<String>>,
    /// Contract 2's `registered`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registered: Option<bool>,
    /// Contract 2's `error`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub error: Option<Option<String>>,
    /// Contract 2's `lifecycle`, whole (with its age), when more than its age changed.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub lifecycle: Option<Option<Lifecycle>>,
    /// Contract 2's `lifecycle.age_s`, when only it changed, and not with the clock.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub lifecycle_age_s: Option<Option<u64>>,
    /// Contract 2's `declared`, whole.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub declared: Option<Option<Declared>>,
    /// Contract 2's `recovery`, whole.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub recovery: Option<Option<RecoveryView>>,
    /// Contract 2's `rescue`, whole.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub rescue: Option<Option<RescueView>>,
    /// Contract 2's `silence`, whole.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub silence: Option<Option<SilenceMark>>,
    /// Contract 2's `drift`, whole (`[]`: none now).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drift: Option<Vec<Drift>>,
    /// Contract 2's `parts`, whole (`[]`: none now), when more than their ages moved on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parts: Option<Vec<PartStatus>>,
}

/// `new` when it differs from `old`.
fn changed<T: PartialEq + Clone>(old: &T, new: &T) -> Option<T> {
    (old != new).then(|| new.clone())
}

/// Whether two judgements differ at most in their age.
fn same_but_age(old: &Lifecycle, new: &Lifecycle) -> bool {
    let Lifecycle {
        state,
        reason,
        reason_code,
        age_s: _,
    } = old;
    (state, reason, reason_code) == (&new.state, &new.reason, &new.reason_code)
}

/// `new` parts when they differ from `old` moved on by `elapsed` seconds.
fn parts_changed(old: &[PartStatus], elapsed: u64, new: &[PartStatus]) -> Option<Vec<PartStatus>> {
    let same = old.len() == new.len()
        && old.iter().zip(new).all(|(o, n)| {
            o.name == n.name
                && same_but_age(&o.lifecycle, &n.lifecycle)
                && o.lifecycle.age_s.map(|a| a + elapsed) == n.lifecycle.age_s
        });
    (!same).then(|| new.to_vec())
}

impl Change {
    /// What turns `old`, its ages moved on by `elapsed` seconds, into `new`; `None` when nothing
    /// but the clock changed. Destructured field by field, so a field added to the contract
    /// cannot be forgotten here (the build fails until it is compared).
    pub fn between(old: &WorkerStatus, elapsed: u64, new: &WorkerStatus) -> Option<Self> {
        let WorkerStatus {
            name: _,
            kind,
            alive,
            state,
            last_beat_age_s,
            queue_depth,
            dead_letter,
            processing,
            jobs_done,
            jobs_failed,
            last_job_at,
            host,
            registered,
            error,
            lifecycle,
            declared,
            recovery,
            rescue,
            silence,
            drift,
            parts,
        } = old;
        let mut change = Self {
            name: String::new(),
            kind: changed(kind, &new.kind),
            alive: changed(alive, &new.alive),
            state: changed(state, &new.state),
            last_beat_age_s: changed(&last_beat_age_s.map(|a| a + elapsed), &new.last_beat_age_s),
            queue_depth: changed(queue_depth, &new.queue_depth),
            dead_letter: changed(dead_letter, &new.dead_letter),
            processing: changed(processing, &new.processing),
            jobs_done: changed(jobs_done, &new.jobs_done),
            jobs_failed: changed(jobs_failed, &new.jobs_failed),
            last_job_at: changed(last_job_at, &new.last_job_at),
            host: changed(host, &new.host),
            registered: changed(registered, &new.registered),
            error: changed(error, &new.error),
            lifecycle: None,
            lifecycle_age_s: None,
            declared: changed(declared, &new.declared),
            recovery: changed(recovery, &new.recovery),
            rescue: changed(rescue, &new.rescue),
            silence: changed(silence, &new.silence),
            drift: changed(drift, &new.drift),
            parts: parts_changed(parts, elapsed, &new.parts),
        };
        match (lifecycle, &new.lifecycle) {
            (None, None) => {}
            (Some(old), Some(new)) if same_but_age(old, new) => {
                change.lifecycle_age_s = changed(&old.age_s.map(|a| a + elapsed), &new.age_s);
            }
            _ => change.lifecycle = Some(new.lifecycle.clone()),
        }
        // Compared while nameless, so the common "nothing changed" allocates nothing.
        if change == Self::default() {
            return None;
        }
        change.name.clone_from(&new.name);
        Some(change)
    }

    /// Whether only ages changed (a new beat, a new life): the record-format patch sends such a
    /// worker in `ages`, any other change as the whole record.
    pub fn only_ages(&self) -> bool {
        *self
            == Self {
                name: self.name.clone(),
                last_beat_age_s: self.last_beat_age_s,
                lifecycle_age_s: self.lifecycle_age_s,
                ..Self::default()
            }
    }

    /// Sets on `w` every field present.
    pub fn apply_to(&self, w: &mut WorkerStatus) {
        fn set<T: Clone>(field: &mut T, value: &Option<T>) {
            if let Some(v) = value {
                *field = v.clone();
            }
        }
        set(&mut w.kind, &self.kind);
        set(&mut w.alive, &self.alive);
        set(&mut w.state, &self.state);
        set(&mut w.last_beat_age_s, &self.last_beat_age_s);
        set(&mut w.queue_depth, &self.queue_depth);
        set(&mut w.dead_letter, &self.dead_letter);
        set(&mut w.processing, &self.processing);
        set(&mut w.jobs_done, &self.jobs_done);
        set(&mut w.jobs_failed, &self.jobs_failed);
        set(&mut w.last_job_at, &self.last_job_at);
        set(&mut w.host, &self.host);
        set(&mut w.registered, &self.registered);
        set(&mut w.error, &self.error);
        set(&mut w.lifecycle, &self.lifecycle);
        if let (Some(l), Some(age)) = (&mut w.lifecycle, self.lifecycle_age_s) {
            l.age_s = age;
        }
        set(&mut w.declared, &self.declared);
        set(&mut w.recovery, &self.recovery);
        set(&mut w.rescue, &self.rescue);
        set(&mut w.silence, &self.silence);
        set(&mut w.drift, &self.drift);
        set(&mut w.parts, &self.parts);
    }
}
