//! What changed between two snapshots, so the live stream sends a 10,000-worker fleet's changes
//! and not the whole fleet every second.
//!
//! Ages need care: every worker's `last_beat_age_s` (and lifecycle `age_s`) grows with the clock,
//! so a naive diff lists every worker on every refresh. The aggregator computes ages from a whole
//! second `now`, so between two snapshots every age that only followed the clock grew by exactly
//! the difference of their `generated_at`. [`apply`] moves every age on by that difference;
//! a patch lists only workers whose age did something else (a new beat: `ages`) or whose record
//! changed (`upsert`). [`diff`] then [`apply`] gives back the new snapshot exactly.
//!
//! Two formats: [`diff`] sends a changed worker as its changed fields ([`Change`], in `change`);
//! [`Patch::with_records`] turns that into the first format, where a changed worker is sent
//! whole in `upsert` and a new beat in `ages`, for clients that predate `change` (the stream
//! sends the field-level format only to a client that asks for it with `?patches=fields`).

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

mod change;
mod time;

pub use self::change::Change;
pub use self::time::elapsed_s;
use crate::nodes::{HostAgent, HostInfo, Link, Nodes, WorkerStatus};
use crate::summary::Summary;

/// The changes from snapshot version `from` to `to`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Patch {
    /// The version the patch applies to.
    pub from: u64,
    /// The version it makes.
    pub to: u64,
    /// The new snapshot's time; ages move on by its distance from the old one's.
    pub generated_at: String,
    /// Contract 2's `redis_ok`.
    pub redis_ok: bool,
    /// Contract 2's `paused`.
    pub paused: bool,
    /// Contract 2's `paused_reason`.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub paused_reason: Option<String>,
    /// Workers new (or, in the record format, changed beyond their ages), whole.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub upsert: Vec<WorkerStatus>,
    /// Workers changed beyond the clock, only what changed (the field-level format).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub change: Vec<Change>,
    /// Workers gone, by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remove: Vec<String>,
    /// Workers whose ages changed otherwise than by the clock (a new beat), and their ages (the
    /// record format; the field-level one sends them in `change`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ages: Vec<Ages>,
    /// Every worker's name in the new order, when it is not the old order with the new workers
    /// appended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<Vec<String>>,
    /// Links changed in place (same links, same order), with their index.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links_at: Vec<(usize, Link)>,
    /// All links, when the set of links changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub links: Option<Vec<Link>>,
    /// The hosts, when they changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hosts: Option<Vec<HostInfo>>,
    /// The host agents, when they changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agents: Option<Vec<HostAgent>>,
    /// The summary, when it changed (`Some(None)`, sent as `null`: it is gone).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub summary: Option<Option<Summary>>,
    /// The runbook's address, when it changed (a reload; `null`: no longer set).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub runbook_url: Option<Option<String>>,
}

/// A field that is present, even as `null`, is `Some`; an absent one is `None` (by `default`).
fn present<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(d).map(Some)
}

impl Patch {
    /// Whether it brings nothing but the clock: then the new snapshot keeps `old`'s version.
    pub fn only_the_clock(&self, old: &Nodes) -> bool {
        self.upsert.is_empty()
            && self.change.is_empty()
            && self.remove.is_empty()
            && self.ages.is_empty()
            && self.order.is_none()
            && self.links_at.is_empty()
            && self.links.is_none()
            && self.hosts.is_none()
            && self.agents.is_none()
            && self.summary.is_none()
            && self.runbook_url.is_none()
            && (self.redis_ok, self.paused, &self.paused_reason)
                == (old.redis_ok, old.paused, &old.paused_reason)
    }

    /// The same patch in the record format, for clients that predate `change`: a worker whose
    /// only change is a new beat goes in `ages`, any other changed worker whole in `upsert` (as
    /// `new`, the snapshot the patch makes, has it).
    pub fn with_records(&self, new: &Nodes) -> Patch {
        let mut records = self.clone();
        let changes = std::mem::take(&mut records.change);
        if changes.is_empty() {
            return records;
        }
        let by_name: HashMap<&str, &WorkerStatus> =
            new.workers.iter().map(|w| (w.name.as_str(), w)).collect();
        for change in &changes {
            let Some(w) = by_name.get(change.name.as_str()) else {
                continue;
            };
            if change.only_ages() {
                let ages = Ages(w.name.clone(), w.last_beat_age_s, lifecycle_age(w));
                records.ages.push(ages);
            } else {
                records.upsert.push((*w).clone());
            }
        }
        records
    }
}

/// A worker's ages: `[name, last_beat_age_s, lifecycle age_s]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Ages(pub String, pub Option<u64>, pub Option<u64>);

/// Why a patch cannot be applied: the client must ask for the whole snapshot again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resync {
    /// The patch starts from another version than the one held.
    Version {
        /// What the client holds.
        held: u64,
        /// What the patch starts from.
        from: u64,
    },
    /// The patch names workers or links the client does not have.
    Mismatch(String),
}

/// The patch from `old` (version `from`) to `new` (version `to`).
pub fn diff(old: &Nodes, new: &Nodes, from: u64, to: u64) -> Patch {
    let elapsed = elapsed_s(&old.generated_at, &new.generated_at);
    let mut patch = Patch {
        from,
        to,
        generated_at: new.generated_at.clone(),
        redis_ok: new.redis_ok,
        paused: new.paused,
        paused_reason: new.paused_reason.clone(),
        upsert: vec![],
        change: vec![],
        remove: vec![],
        ages: vec![],
        order: None,
        links_at: vec![],
        links: None,
        hosts: (old.hosts != new.hosts).then(|| new.hosts.clone()),
        agents: (old.agents != new.agents).then(|| new.agents.clone()),
        summary: (old.summary != new.summary).then(|| new.summary.clone()),
        runbook_url: (old.runbook_url != new.runbook_url).then(|| new.runbook_url.clone()),
    };
    let same_workers = old.workers.len() == new.workers.len()
        && old
            .workers
            .iter()
            .zip(&new.workers)
            .all(|(o, w)| o.name == w.name);
    if same_workers {
        // The usual refresh: the same workers in the same order, compared pairwise, no lookups.
        let changes = old.workers.iter().zip(&new.workers);
        patch.change = changes
            .filter_map(|(o, w)| Change::between(o, elapsed, w))
            .collect();
    } else {
        workers_came_or_went(old, new, elapsed, &mut patch);
    }
    let same_links = old.links.len() == new.links.len()
        && old
            .links
            .iter()
            .zip(&new.links)
            .all(|(a, b)| (&a.from, &a.to, a.link_type) == (&b.from, &b.to, b.link_type));
    if same_links {
        patch.links_at = old
            .links
            .iter()
            .zip(&new.links)
            .enumerate()
            .filter(|(_, (a, b))| a != b)
            .map(|(i, (_, b))| (i, b.clone()))
            .collect();
    } else {
        patch.links = Some(new.links.clone());
    }
    patch
}

/// The workers part of `patch` when workers came, went or moved.
fn workers_came_or_went(old: &Nodes, new: &Nodes, elapsed: u64, patch: &mut Patch) {
    let old_by_name: HashMap<&str, &WorkerStatus> =
        old.workers.iter().map(|w| (w.name.as_str(), w)).collect();
    let new_names: HashSet<&str> = new.workers.iter().map(|w| w.name.as_str()).collect();
    for w in &new.workers {
        match old_by_name.get(w.name.as_str()) {
            None => patch.upsert.push(w.clone()),
            Some(o) => patch.change.extend(Change::between(o, elapsed, w)),
        }
    }
    patch.remove = old
        .workers
        .iter()
        .filter(|w| !new_names.contains(w.name.as_str()))
        .map(|w| w.name.clone())
        .collect();
    // The order `apply` makes without help: the old one, without the removed, then the new.
    let implied = old
        .workers
        .iter()
        .map(|w| w.name.as_str())
        .filter(|n| new_names.contains(n))
        .chain(
            new.workers
                .iter()
                .map(|w| w.name.as_str())
                .filter(|n| !old_by_name.contains_key(n)),
        );
    if !implied.eq(new.workers.iter().map(|w| w.name.as_str())) {
        patch.order = Some(new.workers.iter().map(|w| w.name.clone()).collect());
    }
}

/// Applies `patch` to `nodes` (which must be at version `held`); on error `nodes` is left as it
/// was and the client should ask for the whole snapshot.
pub fn apply(nodes: &mut Nodes, held: u64, patch: &Patch) -> Result<(), Resync> {
    if patch.from != held {
        return Err(Resync::Version {
            held,
            from: patch.from,
        });
    }
    if let Some((i, _)) = patch.links_at.iter().find(|(i, _)| *i >= nodes.links.len()) {
        return Err(Resync::Mismatch(format!("no link at {i}")));
    }
    let known: HashSet<&str> = nodes.workers.iter().map(|w| w.name.as_str()).collect();
    let named = patch.ages.iter().map(|a| &a.0);
    if let Some(name) = named
        .chain(patch.change.iter().map(|c| &c.name))
        .find(|name| !known.contains(name.as_str()))
    {
        return Err(Resync::Mismatch(format!("no worker {name:?}")));
    }
    let elapsed = elapsed_s(&nodes.generated_at, &patch.generated_at);
    let mut workers: Vec<WorkerStatus> = std::mem::take(&mut nodes.workers);
    if !patch.remove.is_empty() {
        let gone: HashSet<&str> = patch.remove.iter().map(String::as_str).collect();
        workers.retain(|w| !gone.contains(w.name.as_str()));
    }
    for w in &mut workers {
        move_on(w, elapsed);
    }
    // Where each named worker is, resolved before anything is replaced: the names are borrowed,
    // not copied (a patch a second at 10,000 workers).
    let (upserts, changes, ages, order) = {
        let mut index: HashMap<&str, usize> = workers
            .iter()
            .enumerate()
            .map(|(i, w)| (w.name.as_str(), i))
            .collect();
        let mut next = workers.len();
        let upserts: Vec<(usize, &WorkerStatus)> = patch
            .upsert
            .iter()
            .map(|w| {
                let i = *index.entry(w.name.as_str()).or_insert_with(|| {
                    next += 1;
                    next - 1
                });
                (i, w)
            })
            .collect();
        let at = |name: &str| index.get(name).copied();
        let changes: Vec<(usize, &Change)> = patch
            .change
            .iter()
            .filter_map(|c| Some((at(&c.name)?, c)))
            .collect();
        let ages: Vec<(usize, &Ages)> = patch
            .ages
            .iter()
            .filter_map(|a| Some((at(&a.0)?, a)))
            .collect();
        let order: Option<Vec<usize>> = patch
            .order
            .as_ref()
            .map(|names| names.iter().filter_map(|n| at(n)).collect());
        (upserts, changes, ages, order)
    };
    // New workers have the next positions, in the order they come.
    for (i, w) in upserts {
        match workers.get_mut(i) {
            Some(slot) => *slot = w.clone(),
            None => workers.push(w.clone()),
        }
    }
    for (i, change) in changes {
        change.apply_to(&mut workers[i]);
    }
    for (i, Ages(_, beat, lifecycle)) in ages {
        set_ages(&mut workers[i], *beat, *lifecycle);
    }
    if let Some(order) = order {
        let mut slots: Vec<Option<WorkerStatus>> = workers.into_iter().map(Some).collect();
        workers = order.into_iter().filter_map(|i| slots[i].take()).collect();
    }
    nodes.workers = workers;
    if let Some(links) = &patch.links {
        nodes.links = links.clone();
    }
    for (i, link) in &patch.links_at {
        nodes.links[*i] = link.clone();
    }
    if let Some(hosts) = &patch.hosts {
        nodes.hosts = hosts.clone();
    }
    if let Some(agents) = &patch.agents {
        nodes.agents = agents.clone();
    }
    if let Some(url) = &patch.runbook_url {
        nodes.runbook_url.clone_from(url);
    }
    if let Some(summary) = &patch.summary {
        nodes.summary = summary.clone();
    }
    nodes.generated_at = patch.generated_at.clone();
    nodes.redis_ok = patch.redis_ok;
    nodes.paused = patch.paused;
    nodes.paused_reason = patch.paused_reason.clone();
    Ok(())
}

/// `nodes` as it would read at `generated_at` with nothing changed but the clock: every age
/// moved on. How a client compares what it holds with a later snapshot of the same version.
pub fn advance_to(nodes: &mut Nodes, generated_at: &str) {
    let elapsed = elapsed_s(&nodes.generated_at, generated_at);
    for w in &mut nodes.workers {
        move_on(w, elapsed);
    }
    nodes.generated_at = generated_at.to_owned();
}

fn lifecycle_age(w: &WorkerStatus) -> Option<u64> {
    w.lifecycle.as_ref().and_then(|l| l.age_s)
}

/// `w`'s ages moved on by `elapsed` seconds.
fn ages_of(w: &WorkerStatus, elapsed: u64) -> (Option<u64>, Option<u64>) {
    (
        w.last_beat_age_s.map(|a| a + elapsed),
        lifecycle_age(w).map(|a| a + elapsed),
    )
}

/// Every age of `w` (its parts' too) moved on by `elapsed` seconds.
fn move_on(w: &mut WorkerStatus, elapsed: u64) {
    let (beat, lifecycle) = ages_of(w, elapsed);
    set_ages(w, beat, lifecycle);
    for p in &mut w.parts {
        p.lifecycle.age_s = p.lifecycle.age_s.map(|a| a + elapsed);
    }
}

fn set_ages(w: &mut WorkerStatus, beat: Option<u64>, lifecycle: Option<u64>) {
    w.last_beat_age_s = beat;
    if let Some(l) = &mut w.lifecycle {
        l.age_s = lifecycle;
    }
}

#[cfg(test)]
mod tests;
