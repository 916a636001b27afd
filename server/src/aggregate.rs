//! From a [`Reading`] to contract 2: pure, no I/O, time passed in.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDateTime, SecondsFormat, Utc};
// A heartbeat written without an expiry counts as alive for one TTL after its `ts`.
use pulseboard_shared::heartbeat::{heartbeat_key, HEARTBEAT_TTL_S};
use pulseboard_shared::rules::{link_for, paused_reason};
use pulseboard_shared::{HeartbeatRead, Nodes, WorkerKind, WorkerStatus};

use crate::config::Topology;
use crate::reader::{HeartbeatValue, QueueKeys, Reading, WorkerKeys};

/// A worker the refresh reads: a registered one, or one found beating but not configured.
#[derive(Debug, Clone)]
pub struct Watched {
    /// Its name.
    pub name: String,
    /// The configured kind; `None` for unregistered workers (taken from the heartbeat).
    pub kind: Option<WorkerKind>,
    /// The configured host.
    pub host: Option<String>,
    /// Its queue (render workers; unregistered workers are assumed to follow `queue:<name>`).
    pub queue: Option<String>,
    /// What it pulls from over HTTP, if it is a trader.
    pub pulls_from: String,
}

/// The workers to read: the configured ones in order, then the unregistered ones found beating.
pub fn watched_workers<'a>(
    topology: &Topology,
    beating: impl Iterator<Item = &'a str>,
) -> Vec<Watched> {
    let mut list: Vec<Watched> = topology
        .workers
        .iter()
        .map(|w| Watched {
            name: w.name.clone(),
            kind: Some(w.kind),
            host: Some(w.host.clone()),
            queue: w.queue.clone(),
            pulls_from: w.pulls_from.clone(),
        })
        .collect();
    for name in beating {
        if !topology.workers.iter().any(|w| w.name == name) {
            list.push(Watched {
                name: name.to_owned(),
                kind: None,
                host: None,
                queue: Some(format!("queue:{name}")),
                pulls_from: pulseboard_shared::rules::DEFAULT_PULLS_FROM.to_owned(),
            });
        }
    }
    list
}

/// The keys to read for `watched`, with each in-flight list given to the worker whose queue it
/// belongs to (`processing:<queue>:<consumer>`).
pub fn keys_for<'a>(
    watched: &[Watched],
    processing: impl Iterator<Item = &'a String>,
) -> Vec<WorkerKeys> {
    let mut keys: Vec<WorkerKeys> = watched
        .iter()
        .map(|w| WorkerKeys {
            heartbeat: heartbeat_key(&w.name),
            queue: w.queue.as_ref().map(|q| QueueKeys {
                pending: q.clone(),
                dead_letter: format!("dead_letter:{q}"),
            }),
            processing: Vec::new(),
        })
        .collect();
    for key in processing {
        // The longest queue name that prefixes the key owns it (`queue:a` vs `queue:a:b`).
        let owner = watched
            .iter()
            .enumerate()
            .filter_map(|(i, w)| {
                let queue = w.queue.as_deref()?;
                let rest = key.strip_prefix("processing:")?.strip_prefix(queue)?;
                rest.starts_with(':').then_some((queue.len(), i))
            })
            .max();
        if let Some((_, i)) = owner {
            keys[i].processing.push(key.clone());
        }
    }
    keys
}

/// When each worker's last heartbeat was written, as last seen; kept so a dead worker can still
/// say how long ago it beat.
pub type BeatMemory = HashMap<String, DateTime<Utc>>;

/// A snapshot's content, with the absolute beat times behind its relative ages.
#[derive(Debug, Clone, PartialEq)]
pub struct Aggregate {
    /// Contract 2.
    pub nodes: Nodes,
    /// Per worker, when it last beat (the `ts` behind `last_beat_age_s`).
    pub beat_at: Vec<Option<DateTime<Utc>>>,
}

impl Aggregate {
    /// Whether anything but the passing of time differs (`generated_at` and the ages that follow
    /// from it are ignored; a new beat changes `beat_at`).
    pub fn same_state(&self, other: &Self) -> bool {
        let strip = |nodes: &Nodes| {
            let mut nodes = nodes.clone();
            nodes.generated_at.clear();
            for w in &mut nodes.workers {
                w.last_beat_age_s = None;
            }
            nodes
        };
        self.beat_at == other.beat_at && strip(&self.nodes) == strip(&other.nodes)
    }

    /// The same content seen at `now` with Redis unreachable: last known workers, ages moved on.
    pub fn stale(&self, now: DateTime<Utc>) -> Self {
        let mut stale = self.clone();
        stale.nodes.redis_ok = false;
        stale.nodes.generated_at = iso(now);
        for (w, beat) in stale.nodes.workers.iter_mut().zip(&self.beat_at) {
            w.last_beat_age_s = beat.map(|b| age_s(b, now));
        }
        stale
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
        let mut problems = Vec::new();
        let mut status = WorkerStatus {
            queue_depth: take(&r.queue_depth, "queue", &mut problems),
            dead_letter: take(&r.dead_letter, "dead-letter list", &mut problems),
            processing: take(&r.processing, "in-flight lists", &mut problems),
            host: w.host.clone(),
            registered: w.kind.is_some(),
            ..WorkerStatus::new(w.name.clone(), w.kind.unwrap_or(WorkerKind::Unknown))
        };
        match &r.heartbeat {
            HeartbeatValue::Missing => {}
            HeartbeatValue::Error(e) => problems.push(format!("heartbeat: {e}")),
            HeartbeatValue::Present {
                bytes,
                truncated,
                expires,
            } => {
                let beat = HeartbeatRead::parse(bytes);
                if *truncated {
                    problems.push(format!(
                        "heartbeat is larger than {} KiB",
                        crate::reader::MAX_HEARTBEAT_BYTES / 1024
                    ));
                } else if let Some(e) = beat.error.clone() {
                    problems.push(e);
                }
                let written = beat.ts.as_deref().and_then(|ts| {
                    let parsed = parse_ts(ts);
                    if parsed.is_none() {
                        problems.push(format!("heartbeat: ts {ts:?} is not a UTC ISO 8601 time"));
                    }
                    parsed
                });
                if let Some(ts) = written {
                    memory.insert(w.name.clone(), ts);
                }
                status.alive = if *expires {
                    true
                } else {
                    problems.push("heartbeat key has no expiry (written without EX)".into());
                    written.is_some_and(|ts| age_s(ts, now) <= HEARTBEAT_TTL_S)
                };
                if w.kind.is_none() {
                    status.kind = beat
                        .kind
                        .as_deref()
                        .map_or(WorkerKind::Unknown, WorkerKind::parse);
                }
                if let Some(name) = beat.name.as_deref().filter(|n| *n != w.name) {
                    problems.push(format!("heartbeat names another worker ({name:?})"));
                }
                if status.alive {
                    status.state = beat.state;
                    status.jobs_done = beat.jobs_done.unwrap_or(0);
                    status.jobs_failed = beat.jobs_failed.unwrap_or(0);
                    status.last_job_at = beat.last_job_at;
                    if status.kind == WorkerKind::Watcher && watcher_mode.is_none() {
                        watcher_mode = beat.mode;
                    }
                }
            }
        }
        let beat = memory.get(&w.name).copied();
        status.last_beat_age_s = beat.map(|b| age_s(b, now));
        if !problems.is_empty() {
            status.error = Some(problems.join("; "));
        }
        workers.push(status);
        beat_at.push(beat);
    }
    let links = watched
        .iter()
        .zip(&workers)
        .filter_map(|(w, status)| link_for(status, queue_host, &w.pulls_from))
        .collect();
    Aggregate {
        nodes: Nodes {
            redis_ok: true,
            paused: reading.paused,
            paused_reason: paused_reason(reading.paused, watcher_mode.as_deref()),
            generated_at: iso(now),
            workers,
            links,
            hosts: vec![],
        },
        beat_at,
    }
}

fn take(value: &Result<u64, String>, what: &str, problems: &mut Vec<String>) -> u64 {
    value.clone().unwrap_or_else(|e| {
        problems.push(format!("{what}: {e}"));
        0
    })
}

/// Contract 2's time format: UTC, seconds, `Z`.
pub fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn age_s(beat: DateTime<Utc>, now: DateTime<Utc>) -> u64 {
    // A beat from a clock running ahead reads as "just now", not as a negative age.
    (now - beat).num_seconds().max(0) as u64
}

/// A heartbeat `ts`: RFC 3339 (`...Z` or with an offset), or a naive ISO time taken as UTC.
pub fn parse_ts(ts: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(ts)
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            NaiveDateTime::parse_from_str(ts, "%Y-%m-%dT%H:%M:%S%.f")
                .ok()
                .map(|t| t.and_utc())
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::seed_topology;
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
                })
                .collect(),
            scans: vec![],
            commands: 0,
        }
    }

    fn seed_watched() -> Vec<Watched> {
        watched_workers(&seed_topology(), std::iter::empty())
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
        let watched = watched_workers(&seed_topology(), ["ai_trade", "gpu-9"].into_iter());
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
    fn in_flight_lists_go_to_the_longest_matching_queue() {
        let watched = vec![
            Watched {
                name: "a".into(),
                kind: Some(WorkerKind::Render),
                host: None,
                queue: Some("queue:a".into()),
                pulls_from: String::new(),
            },
            Watched {
                name: "a:b".into(),
                kind: Some(WorkerKind::Render),
                host: None,
                queue: Some("queue:a:b".into()),
                pulls_from: String::new(),
            },
        ];
        let lists = [
            "processing:queue:a:1".to_owned(),
            "processing:queue:a:b:1".to_owned(),
            "processing:queue:ab:1".to_owned(),
        ];
        let keys = keys_for(&watched, lists.iter());
        assert_eq!(keys[0].processing, ["processing:queue:a:1"]);
        assert_eq!(keys[1].processing, ["processing:queue:a:b:1"]);
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
        assert!(a.same_state(&b), "only time passed");
        let c = aggregate(&watched, "nas", &reading(true, beats), later, &mut memory);
        assert!(!a.same_state(&c));
        let stale = a.stale(later);
        assert!(!stale.nodes.redis_ok);
        assert_eq!(stale.nodes.workers[0].last_beat_age_s, Some(8));
    }

    #[test]
    fn timestamps() {
        assert!(parse_ts("2026-06-29T00:00:00Z").is_some());
        assert!(parse_ts("2026-06-29T09:00:00+09:00").is_some());
        assert_eq!(
            parse_ts("2026-06-29T00:00:00.5"),
            parse_ts("2026-06-29T00:00:00.5Z")
        );
        assert!(parse_ts("yesterday").is_none());
    }
}
