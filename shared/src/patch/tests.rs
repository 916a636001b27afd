use super::*;
use crate::lifecycle::{Lifecycle, LifecycleState};
use crate::mock::mock_fleet;
use crate::nodes::{LinkStatus, WorkerKind};
use crate::rules::links_for;

/// A snapshot at second `t` of a small fleet, ages following the clock.
fn at(t: u64, workers: Vec<WorkerStatus>) -> Nodes {
    let mut nodes = mock_fleet(0, 6);
    nodes.generated_at = format!("2026-06-29T00:{:02}:{:02}Z", t / 60, t % 60);
    nodes.links = links_for(&workers);
    nodes.summary = Some(Summary::of(&workers));
    nodes.workers = workers;
    nodes
}

fn worker(name: &str, beat_at: Option<u64>, t: u64) -> WorkerStatus {
    let mut w = WorkerStatus::new(name, WorkerKind::Render);
    w.alive = beat_at.is_some();
    w.state = w.alive.then(|| "idle".to_owned());
    w.last_beat_age_s = beat_at.map(|b| t - b);
    w.lifecycle = Some(Lifecycle {
        state: if w.alive {
            LifecycleState::Ready
        } else {
            LifecycleState::Down
        },
        reason: None,
        reason_code: None,
        age_s: beat_at.map(|b| t - b),
    });
    w
}

/// The patch from `old` to `new` in the field-level format, then in the record format, each
/// checked to make `new` from `old` after a trip through JSON, as the stream sends them.
fn round_trip(old: &Nodes, new: &Nodes) -> (Patch, Patch) {
    let fields = diff(old, new, 1, 2);
    let records = fields.with_records(new);
    let applied = |patch: &Patch| {
        let patch: Patch = serde_json::from_str(&serde_json::to_string(patch).unwrap()).unwrap();
        let mut held = old.clone();
        apply(&mut held, 1, &patch).unwrap();
        assert_eq!(&held, new, "{patch:#?}");
    };
    applied(&fields);
    applied(&records);
    (fields, records)
}

#[test]
fn only_the_clock_moving_is_an_empty_patch() {
    let old = at(10, vec![worker("a", Some(5), 10), worker("b", None, 10)]);
    let new = at(13, vec![worker("a", Some(5), 13), worker("b", None, 13)]);
    let (patch, _) = round_trip(&old, &new);
    assert!(patch.only_the_clock(&old), "{patch:#?}");
    assert_eq!(patch, patch.with_records(&new));
    assert_eq!(patch.order, None);
    assert_eq!(patch.links, None);
    assert_eq!(patch.summary, None);
}

#[test]
fn a_new_beat_is_sent_as_ages_only() {
    let old = at(10, vec![worker("a", Some(5), 10), worker("b", Some(1), 10)]);
    let new = at(
        12,
        vec![worker("a", Some(11), 12), worker("b", Some(1), 12)],
    );
    let (fields, records) = round_trip(&old, &new);
    let json = serde_json::to_string(&fields).unwrap();
    assert!(
        json.contains(r#""change":[{"name":"a","last_beat_age_s":1,"lifecycle_age_s":1}]"#),
        "{json}"
    );
    assert!(fields.upsert.is_empty() && fields.ages.is_empty());
    assert_eq!(records.ages, vec![Ages("a".into(), Some(1), Some(1))]);
    assert!(records.upsert.is_empty() && records.change.is_empty());
    let json = serde_json::to_string(&records).unwrap();
    assert!(json.contains(r#""ages":[["a",1,1]]"#), "{json}");
}

#[test]
fn a_changed_counter_is_sent_alone_and_a_cleared_field_as_null() {
    let mut a = worker("a", Some(5), 10);
    a.error = Some("no expiry".into());
    let old = at(10, vec![a]);
    let mut a = worker("a", Some(11), 12);
    a.jobs_done = 7;
    a.state = Some("busy".into());
    let new = at(12, vec![a.clone()]);
    let (fields, records) = round_trip(&old, &new);
    let json = serde_json::to_string(&fields.change).unwrap();
    assert_eq!(
        json,
        r#"[{"name":"a","state":"busy","last_beat_age_s":1,"jobs_done":7,"error":null,"lifecycle_age_s":1}]"#
    );
    assert_eq!(records.upsert, vec![a], "the record format sends it whole");
}

#[test]
fn a_changed_worker_is_sent_whole_and_its_link_in_place() {
    let old = at(10, vec![worker("a", Some(5), 10), worker("b", Some(5), 10)]);
    let mut b = worker("b", Some(5), 11);
    b.dead_letter = 3;
    let new = at(11, vec![worker("a", Some(5), 11), b.clone()]);
    let (fields, patch) = round_trip(&old, &new);
    assert_eq!(fields.change.len(), 1);
    assert_eq!(fields.change[0].dead_letter, Some(3));
    assert_eq!(patch.upsert, vec![b]);
    assert_eq!(patch.links_at.len(), 1);
    assert_eq!(patch.links_at[0].1.status, LinkStatus::Degraded);
    assert!(patch.summary.is_some());
}

#[test]
fn workers_come_go_and_move() {
    let old = at(
        10,
        vec![
            worker("a", Some(5), 10),
            worker("b", None, 10),
            worker("c", Some(9), 10),
        ],
    );
    // b gone, d new: no order needed.
    let new = at(
        11,
        vec![
            worker("a", Some(5), 11),
            worker("c", Some(9), 11),
            worker("d", Some(11), 11),
        ],
    );
    let (patch, _) = round_trip(&old, &new);
    assert_eq!(patch.remove, vec!["b".to_owned()]);
    assert_eq!(patch.order, None);
    assert!(patch.links.is_some(), "the set of links changed");
    // The same workers in another order.
    let moved = at(
        12,
        vec![
            worker("d", Some(11), 12),
            worker("a", Some(5), 12),
            worker("c", Some(9), 12),
        ],
    );
    let (patch, _) = round_trip(&new, &moved);
    assert_eq!(patch.order.as_ref().map(Vec::len), Some(3));
}

#[test]
fn top_level_fields_and_the_summary_going_away_are_carried() {
    let old = at(10, vec![worker("a", Some(5), 10)]);
    let mut new = at(10, vec![worker("a", Some(5), 10)]);
    new.redis_ok = false;
    new.paused = true;
    new.paused_reason = Some("trading".into());
    new.hosts.pop();
    new.summary = None;
    let (patch, _) = round_trip(&old, &new);
    assert_eq!(patch.summary, Some(None));
    assert!(!patch.only_the_clock(&old));
}

#[test]
fn a_patch_for_another_version_or_other_workers_asks_for_a_resync() {
    let old = at(10, vec![worker("a", Some(5), 10)]);
    let new = at(11, vec![worker("a", Some(11), 11)]);
    let patch = diff(&old, &new, 1, 2);
    let mut held = old.clone();
    assert_eq!(
        apply(&mut held, 7, &patch),
        Err(Resync::Version { held: 7, from: 1 })
    );
    let mut other = at(10, vec![worker("z", Some(5), 10)]);
    let before = other.clone();
    assert!(matches!(
        apply(&mut other, 1, &patch),
        Err(Resync::Mismatch(_))
    ));
    assert_eq!(other, before, "a refused patch changes nothing");
}

#[test]
fn a_client_holding_a_later_copy_of_the_same_version_lands_on_the_same_state() {
    // The server diffs against the first snapshot of version 1; a viewer who joined later holds
    // the same content read 4 s on.
    let first = at(10, vec![worker("a", Some(5), 10), worker("b", Some(9), 10)]);
    let mut later = first.clone();
    advance_to(&mut later, "2026-06-29T00:00:14Z");
    let new = at(
        15,
        vec![worker("a", Some(15), 15), worker("b", Some(9), 15)],
    );
    let patch = diff(&first, &new, 1, 2);
    let mut records = later.clone();
    apply(&mut later, 1, &patch).unwrap();
    assert_eq!(later, new);
    apply(&mut records, 1, &patch.with_records(&new)).unwrap();
    assert_eq!(records, new);
}

/// A small deterministic generator (xorshift), so the long sequence below is the same each run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[test]
fn any_sequence_of_patches_gives_the_full_snapshot() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut beats: Vec<(String, Option<u64>, u64)> =
        (0..40).map(|i| (format!("w{i}"), Some(0), 0)).collect();
    let mut t = 100;
    let build = |beats: &[(String, Option<u64>, u64)], t: u64| {
        let workers = beats
            .iter()
            .map(|(name, beat, dead)| {
                let mut w = worker(name, beat.map(|b| b.min(t)), t);
                w.dead_letter = *dead;
                w
            })
            .collect();
        at(t, workers)
    };
    let mut server_old = build(&beats, t);
    let mut client = server_old.clone();
    let mut old_client = server_old.clone();
    let mut born = 0;
    for (step, version) in (0..500).zip(1u64..) {
        t += 1 + rng.below(3);
        for _ in 0..rng.below(6) {
            let i = rng.below(beats.len() as u64) as usize;
            match rng.below(6) {
                0 => beats[i].1 = None,
                1 => beats[i].2 += 1,
                2 if beats.len() > 5 => {
                    beats.remove(i);
                }
                3 => {
                    born += 1;
                    beats.push((format!("n{born}"), Some(t), 0));
                }
                4 => {
                    let w = beats.remove(i);
                    let j = rng.below(beats.len() as u64 + 1) as usize;
                    beats.insert(j, w);
                }
                _ => beats[i].1 = Some(t),
            }
        }
        let new = build(&beats, t);
        let fields = diff(&server_old, &new, version, version + 1);
        for (held, patch) in [
            (&mut old_client, fields.with_records(&new)),
            (&mut client, fields),
        ] {
            let json = serde_json::to_string(&patch).unwrap();
            let patch: Patch = serde_json::from_str(&json).unwrap();
            apply(held, version, &patch).unwrap();
            assert!(*held == new, "step {step}: {patch:?}");
        }
        server_old = new;
    }
}
