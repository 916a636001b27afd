//! From a [`Reading`] to contract 2: pure, no I/O, time passed in.
//!
//! - [`watched`]: which workers are read, under which keys.
//! - [`worker`]: one worker's record and lifecycle from its reading.
//! - [`time`]: contract 2's time format and ages.
//! - [`memory`]: what is kept between refreshes (beat times, parsed heartbeats).

mod memory;
mod time;
mod watched;
mod worker;

use chrono::{DateTime, Utc};
use pulseboard_shared::rules::{link_for, paused_reason};
use pulseboard_shared::{Nodes, Summary, WorkerKind};

pub use self::memory::BeatMemory;
use self::time::age_s;
pub use self::time::{iso, parse_ts, unix_now};
pub use self::watched::{keys_for, watched_workers, QueueOwners, Watched};
pub use self::worker::observe;
use crate::reader::Reading;

/// A snapshot's content, with the absolute beat times behind its relative ages.
#[derive(Debug, Clone, PartialEq)]
pub struct Aggregate {
    /// Contract 2.
    pub nodes: Nodes,
    /// Per worker, when it last beat (the `ts` behind `last_beat_age_s`).
    pub beat_at: Vec<Option<DateTime<Utc>>>,
}

impl Aggregate {
    /// The same content seen at `now` with Redis unreachable: last known workers, ages moved on.
    pub fn stale(mut self, now: DateTime<Utc>) -> Self {
        self.nodes.redis_ok = false;
        self.nodes.generated_at = iso(now);
        for (w, beat) in self.nodes.workers.iter_mut().zip(&self.beat_at) {
            w.last_beat_age_s = beat.map(|b| age_s(b, now));
        }
        self
    }
}

/// Builds contract 2 from what one refresh read.
pub fn aggregate(
    watched: &[Watched],
    queue_host: &str,
    reading: &Reading,
    now: DateTime<Utc>,
    memory: &mut BeatMemory,
) -> Aggregate {
    let mut workers = Vec::with_capacity(watched.len());
    let mut beat_at = Vec::with_capacity(watched.len());
    let mut watcher_mode = None;
    for (w, r) in watched.iter().zip(&reading.workers) {
        let judged = worker::judge(w, r, now, memory);
        if judged.status.kind == WorkerKind::Watcher && watcher_mode.is_none() {
            watcher_mode = judged.watcher_mode;
        }
        workers.push(judged.status);
        beat_at.push(judged.beat_at);
    }
    memory.keep_readings_of(watched);
    let links = watched
        .iter()
        .zip(&workers)
        .filter_map(|(w, status)| link_for(status, queue_host, &w.pulls_from))
        .collect();
    Aggregate {
        nodes: Nodes {
            runbook_url: None,
            summary: Some(Summary::of(&workers)),
            redis_ok: true,
            paused: reading.paused,
            paused_reason: paused_reason(reading.paused, watcher_mode.as_deref()),
            generated_at: iso(now),
            workers,
            links,
            hosts: vec![],
            agents: vec![],
        },
        beat_at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{seed_topology, LifecycleSettings};
    use crate::reader::HeartbeatValue;
    use crate::reader::WorkerReading;
    use pulseboard_shared::{Heartbeat, LinkStatus};

    fn now() -> DateTime<Utc> {
        parse_ts("2026-06-29T00:00:10Z").unwrap()
    }

    fn beat(name: &str, kind: &str, state: &str) -> HeartbeatValue {
        let hb = Heartbeat {
            name: name.into(),
            kind: kind.into(),
            state: state.into(),
            ts: "2026-06-29T00:00:07Z".into(),
            last_job_at: None,
            jobs_done: 4,
            jobs_failed: 1,
            mode: (kind == "watcher").then(|| state.into()),
            ..Default::default()
        };
        HeartbeatValue::Present {
            bytes: hb.to_json().into_bytes(),
            truncated: false,
            expires: true,
        }
    }

    fn reading(paused: bool, beats: Vec<HeartbeatValue>) -> Reading {
        Reading {
            paused,
            workers: beats
                .into_iter()
                .map(|heartbeat| WorkerReading {
                    heartbeat,
                    queue_depth: Ok(2),
                    dead_letter: Ok(0),
                    processing: Ok(1),
                    parts: vec![],
                })
                .collect(),
            values: vec![],
            scans: vec![],
            commands: 0,
            round_trips: 1,
        }
    }

    fn seed_watched() -> Vec<Watched> {
        watched_workers(
            &seed_topology(),
            &LifecycleSettings::default(),
            std::iter::empty(),
        )
    }

    #[test]
    fn a_live_seed_fleet() {
        let r = reading(
            true,
            vec![
                beat("music-render", "render", "busy"),
                beat("video-render", "render", "paused"),
                HeartbeatValue::Missing,
                beat("insta-render", "render", "idle"),
                beat("task-watcher", "watcher", "trading"),
                beat("ai_trade", "trader", "market_open"),
            ],
        );
        let agg = aggregate(&seed_watched(), "nas", &r, now(), &mut BeatMemory::new());
        let n = &agg.nodes;
        assert!(n.redis_ok && n.paused);
        assert_eq!(n.paused_reason.as_deref(), Some("trading"));
        assert_eq!(n.generated_at, "2026-06-29T00:00:10Z");
        let music = &n.workers[0];
        assert_eq!((music.alive, music.state.as_deref()), (true, Some("busy")));
        assert_eq!(
            (music.last_beat_age_s, music.jobs_done, music.processing),
            (Some(3), 4, 1)
        );
        assert!(!n.workers[2].alive);
        assert_eq!(n.workers[2].last_beat_age_s, None);
        let status: Vec<_> = n.links.iter().map(|l| (l.to.as_str(), l.status)).collect();
        assert_eq!(
            status,
            [
                ("music-render", LinkStatus::Healthy),
                ("video-render", LinkStatus::Paused),
                ("image-render", LinkStatus::Down),
                ("insta-render", LinkStatus::Healthy),
                ("nas-stock", LinkStatus::Healthy),
            ]
        );
    }

    #[test]
    fn dead_worker_remembers_its_last_beat() {
        let watched = seed_watched();
        let mut memory = BeatMemory::new();
        let alive = vec![beat("music-render", "render", "idle"); 6];
        aggregate(&watched, "nas", &reading(false, alive), now(), &mut memory);
        let later = now() + chrono::Duration::seconds(60);
        let dead = vec![HeartbeatValue::Missing; 6];
        let agg = aggregate(&watched, "nas", &reading(false, dead), later, &mut memory);
        assert!(!agg.nodes.workers[0].alive);
        assert_eq!(agg.nodes.workers[0].last_beat_age_s, Some(63));
        assert_eq!(agg.nodes.paused_reason, None);
    }

    #[test]
    fn garbage_heartbeat_is_shown_with_its_error() {
        let watched = seed_watched();
        let mut beats = vec![HeartbeatValue::Missing; 6];
        beats[0] = HeartbeatValue::Present {
            bytes: b"\xff garbage".to_vec(),
            truncated: false,
            expires: true,
        };
        beats[1] = HeartbeatValue::Error("WRONGTYPE Operation against a key".into());
        let agg = aggregate(
            &watched,
            "nas",
            &reading(false, beats),
            now(),
            &mut BeatMemory::new(),
        );
        let w = &agg.nodes.workers;
        assert!(w[0].alive, "the key exists, so the worker runs");
        assert!(w[0].error.as_deref().unwrap().contains("not UTF-8"));
        assert!(!w[1].alive);
        assert!(w[1].error.as_deref().unwrap().contains("WRONGTYPE"));
    }

    #[test]
    fn heartbeat_without_expiry_is_judged_by_its_age() {
        let watched = seed_watched();
        let mut beats = vec![HeartbeatValue::Missing; 6];
        let HeartbeatValue::Present { bytes, .. } = beat("music-render", "render", "idle") else {
            unreachable!()
        };
        beats[0] = HeartbeatValue::Present {
            bytes,
            truncated: false,
            expires: false,
        };
        let fresh = aggregate(
            &watched,
            "nas",
            &reading(false, beats.clone()),
            now(),
            &mut BeatMemory::new(),
        );
        assert!(fresh.nodes.workers[0].alive);
        assert!(fresh.nodes.workers[0]
            .error
            .as_deref()
            .unwrap()
            .contains("no expiry"));
        let later = now() + chrono::Duration::seconds(60);
        let old = aggregate(
            &watched,
            "nas",
            &reading(false, beats),
            later,
            &mut BeatMemory::new(),
        );
        assert!(!old.nodes.workers[0].alive);
    }

    #[test]
    fn unregistered_workers_follow_the_configured_ones() {
        let watched = watched_workers(
            &seed_topology(),
            &LifecycleSettings::default(),
            ["ai_trade", "gpu-9"].into_iter(),
        );
        assert_eq!(watched.len(), 7);
        let mut beats = vec![HeartbeatValue::Missing; 7];
        beats[6] = beat("gpu-9", "render", "busy");
        let agg = aggregate(
            &watched,
            "nas",
            &reading(false, beats),
            now(),
            &mut BeatMemory::new(),
        );
        let stray = &agg.nodes.workers[6];
        assert_eq!(
            (stray.name.as_str(), stray.kind, stray.registered),
            ("gpu-9", WorkerKind::Render, false)
        );
        assert_eq!(agg.nodes.links.last().unwrap().to, "gpu-9");
    }

    #[test]
    fn only_real_changes_count() {
        let watched = seed_watched();
        let mut memory = BeatMemory::new();
        let beats = vec![beat("music-render", "render", "idle"); 6];
        let a = aggregate(
            &watched,
            "nas",
            &reading(false, beats.clone()),
            now(),
            &mut memory,
        );
        let later = now() + chrono::Duration::seconds(5);
        let b = aggregate(
            &watched,
            "nas",
            &reading(false, beats.clone()),
            later,
            &mut memory,
        );
        let same = |x: &Aggregate, y: &Aggregate| {
            pulseboard_shared::patch::diff(&x.nodes, &y.nodes, 1, 2).only_the_clock(&x.nodes)
        };
        assert!(same(&a, &b), "only time passed");
        let c = aggregate(&watched, "nas", &reading(true, beats), later, &mut memory);
        assert!(!same(&a, &c));
        let stale = a.stale(later);
        assert!(!stale.nodes.redis_ok);
        assert_eq!(stale.nodes.workers[0].last_beat_age_s, Some(8));
    }

    fn declared_beat(
        declared: pulseboard_shared::heartbeat::Declared,
        expires: bool,
    ) -> HeartbeatValue {
        let hb = Heartbeat {
            name: "music-render".into(),
            kind: "render".into(),
            state: "busy".into(),
            ts: "2026-06-29T00:00:07Z".into(),
            declared,
            ..Default::default()
        };
        HeartbeatValue::Present {
            bytes: hb.to_json().into_bytes(),
            truncated: false,
            expires,
        }
    }

    #[test]
    fn lifecycle_comes_from_the_workers_word_and_a_clean_stop_is_no_crash() {
        use pulseboard_shared::heartbeat::Declared;
        use pulseboard_shared::lifecycle::{CurrentJob, LifecycleState as L, Phase};
        let judged = |beat: HeartbeatValue| {
            let mut beats = vec![HeartbeatValue::Missing; 6];
            beats[0] = beat;
            let agg = aggregate(
                &seed_watched(),
                "nas",
                &reading(false, beats),
                now(),
                &mut BeatMemory::new(),
            );
            agg.nodes.workers[0].clone()
        };
        let seed = judged(beat("music-render", "render", "idle"));
        assert_eq!(seed.lifecycle.unwrap().state, L::Ready);
        assert_eq!(seed.declared, None, "the seed's beat declares nothing");

        let stopped = judged(declared_beat(
            Declared {
                phase: Some(Phase::Stopped),
                exit_code: Some(0),
                ..Default::default()
            },
            false,
        ));
        assert_eq!(stopped.lifecycle.as_ref().unwrap().state, L::Stopped);
        assert!(!stopped.alive);
        assert_eq!(
            stopped.error, None,
            "a final beat is meant to have no expiry"
        );
        assert_eq!(pulseboard_shared::link_status(&stopped), LinkStatus::Paused);

        let crashed = judged(declared_beat(
            Declared {
                exit_code: Some(3),
                ..Default::default()
            },
            true,
        ));
        let lifecycle = crashed.lifecycle.as_ref().unwrap();
        assert_eq!((lifecycle.state, crashed.alive), (L::Down, false));
        assert_eq!(lifecycle.reason.as_deref(), Some("exited with code 3"));

        // Started 200 s before its beat (worker clock) and beat 3 s ago: 203 s, past the 120 s.
        let failed = judged(declared_beat(
            Declared {
                phase: Some(Phase::Starting),
                started_at: Some("2026-06-28T23:56:47Z".into()),
                ..Default::default()
            },
            true,
        ));
        let lifecycle = failed.lifecycle.unwrap();
        assert_eq!((lifecycle.state, lifecycle.age_s), (L::Failed, Some(203)));

        let stalled = judged(declared_beat(
            Declared {
                current_job: Some(CurrentJob {
                    id: "job-1".into(),
                    started_at: "2026-06-28T22:00:00Z".into(),
                }),
                ..Default::default()
            },
            true,
        ));
        let lifecycle = stalled.lifecycle.unwrap();
        assert_eq!(
            lifecycle.state,
            L::Stalled,
            "one hour on one job by default"
        );
        assert_eq!(lifecycle.reason.as_deref(), Some("on job job-1"));
        assert_eq!(stalled.declared.unwrap().current_job.unwrap().id, "job-1");
    }

    #[test]
    fn a_worker_of_parts_is_judged_by_its_parts_and_a_one_process_beat_is_flagged() {
        let mut watched = seed_watched();
        watched.truncate(1);
        watched[0].parts = vec!["server".into(), "ui".into()];
        let mut r = reading(false, vec![beat("music-render", "render", "busy")]);
        r.workers[0].parts = vec![
            beat("music-render", "render", "busy"),
            HeartbeatValue::Missing,
        ];
        let agg = aggregate(&watched, "nas", &r, now(), &mut BeatMemory::new());
        let w = &agg.nodes.workers[0];
        let l = w.lifecycle.as_ref().unwrap();
        assert_eq!(l.state, pulseboard_shared::LifecycleState::Starting);
        assert_eq!(l.reason.as_deref(), Some("part ui starting: never seen"));
        let parts: Vec<_> = w.parts.iter().map(|p| p.lifecycle.state.as_str()).collect();
        assert_eq!(parts, ["ready", "starting"]);
        assert!(
            w.error
                .as_deref()
                .unwrap()
                .contains("configured with parts"),
            "{:?}",
            w.error
        );
    }
}
