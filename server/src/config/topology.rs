//! The pipeline's shape: hosts and registered workers, the seed's six by default, and the
//! checks a configured topology must pass.

use std::collections::HashSet;

use pulseboard_shared::parts::{check_part_name, PartDown, MAX_PARTS};
use pulseboard_shared::rules::{DEFAULT_PULLS_FROM, DEFAULT_QUEUE_HOST};
use pulseboard_shared::{HostInfo, WorkerKind};
use pulseboard_worker::queue::queue_key;
use serde::Deserialize;

use super::error::{invalid, ConfigError};

/// Hosts and workers, as drawn on the dashboard.
#[derive(Debug, Clone, PartialEq)]
pub struct Topology {
    /// The host that holds Redis (the left end of every `redis-queue` link).
    pub queue_host: String,
    /// Machines, in drawing order.
    pub hosts: Vec<Host>,
    /// Registered workers, in display order.
    pub workers: Vec<WorkerSpec>,
}

impl Topology {
    /// The hosts as contract 2 lists them, each with the label the page shows.
    pub fn host_infos(&self) -> Vec<HostInfo> {
        self.hosts
            .iter()
            .map(|h| HostInfo {
                name: h.name.clone(),
                label: h.label.clone().unwrap_or_else(|| h.name.clone()),
            })
            .collect()
    }
}

/// A machine that runs workers or holds the queues.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Host {
    /// Short name used in links (`nas`).
    pub name: String,
    /// What the dashboard shows (`NAS (gateway)`).
    #[serde(default)]
    pub label: Option<String>,
}

/// A registered worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerSpec {
    /// Its name, the `<name>` of `worker:<name>:heartbeat`.
    pub name: String,
    /// Its kind.
    pub kind: WorkerKind,
    /// The host it runs on.
    pub host: String,
    /// Its pending-jobs list (render workers): `queue:<name>` by default.
    pub queue: Option<String>,
    /// What a trader pulls from over HTTP (`nas-stock` by default).
    pub pulls_from: String,
    /// Its processes, when it is several (`parts = ["server", "ui"]`): each beats under its own
    /// key and the worker is as well as its worst part. Empty: one process.
    pub parts: Vec<String>,
    /// What a part gone makes of the worker: down (the default) or unhealthy.
    pub part_down: PartDown,
}

/// The seed's six workers on its two machines.
pub fn seed_topology() -> Topology {
    let worker = |name: &str, kind| WorkerSpec {
        name: name.to_owned(),
        kind,
        host: "windows".to_owned(),
        queue: (kind == WorkerKind::Render).then(|| queue_key(name)),
        pulls_from: DEFAULT_PULLS_FROM.to_owned(),
        parts: vec![],
        part_down: PartDown::Down,
    };
    Topology {
        queue_host: DEFAULT_QUEUE_HOST.to_owned(),
        hosts: vec![
            Host {
                name: "nas".into(),
                label: Some("NAS (gateway)".into()),
            },
            Host {
                name: "windows".into(),
                label: Some("Windows PC (GPU)".into()),
            },
        ],
        workers: vec![
            worker("music-render", WorkerKind::Render),
            worker("video-render", WorkerKind::Render),
            worker("image-render", WorkerKind::Render),
            worker("insta-render", WorkerKind::Render),
            worker("task-watcher", WorkerKind::Watcher),
            worker("ai_trade", WorkerKind::Trader),
        ],
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileWorker {
    name: String,
    kind: FileKind,
    host: Option<String>,
    queue: Option<String>,
    pulls_from: Option<String>,
    #[serde(default)]
    parts: Vec<String>,
    part_down: Option<FilePartDown>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
enum FilePartDown {
    Down,
    Unhealthy,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
enum FileKind {
    Render,
    Watcher,
    Trader,
}

pub(super) fn topology(
    queue_host: Option<String>,
    hosts: Option<Vec<Host>>,
    workers: Option<Vec<FileWorker>>,
) -> Result<Topology, ConfigError> {
    let seed = seed_topology();
    let hosts = hosts.unwrap_or(seed.hosts);
    let mut host_names = HashSet::new();
    for (i, host) in hosts.iter().enumerate() {
        check_name(&format!("hosts[{i}].name"), &host.name)?;
        if !host_names.insert(host.name.as_str()) {
            return Err(invalid(
                format!("hosts[{i}].name"),
                format!("{:?} appears twice", host.name),
            ));
        }
    }
    let queue_host = queue_host.unwrap_or(seed.queue_host);
    if !host_names.contains(queue_host.as_str()) {
        return Err(invalid(
            "queue_host",
            format!("{queue_host:?} is not one of the hosts"),
        ));
    }
    let Some(workers) = workers else {
        return Ok(Topology {
            queue_host,
            hosts,
            workers: seed.workers,
        });
    };
    let default_host = hosts.last().map(|h| h.name.clone()).unwrap_or_default();
    let mut names = HashSet::new();
    let mut specs = Vec::with_capacity(workers.len());
    for (i, w) in workers.into_iter().enumerate() {
        let key = |field: &str| format!("workers[{i}].{field}");
        check_name(&key("name"), &w.name)?;
        if !names.insert(w.name.clone()) {
            return Err(invalid(key("name"), format!("{:?} appears twice", w.name)));
        }
        let host = w.host.unwrap_or_else(|| default_host.clone());
        if !host_names.contains(host.as_str()) {
            return Err(invalid(
                key("host"),
                format!("{host:?} is not one of the hosts"),
            ));
        }
        let kind = match w.kind {
            FileKind::Render => WorkerKind::Render,
            FileKind::Watcher => WorkerKind::Watcher,
            FileKind::Trader => WorkerKind::Trader,
        };
        if kind != WorkerKind::Render && w.queue.is_some() {
            return Err(invalid(key("queue"), "only render workers have a queue"));
        }
        if kind != WorkerKind::Trader && w.pulls_from.is_some() {
            return Err(invalid(key("pulls_from"), "only traders pull over HTTP"));
        }
        let queue =
            (kind == WorkerKind::Render).then(|| w.queue.unwrap_or_else(|| queue_key(&w.name)));
        check_parts(&key("parts"), &w.parts)?;
        if w.parts.is_empty() && w.part_down.is_some() {
            return Err(invalid(
                key("part_down"),
                "only a worker with parts has one",
            ));
        }
        specs.push(WorkerSpec {
            host,
            kind,
            queue,
            pulls_from: w
                .pulls_from
                .unwrap_or_else(|| DEFAULT_PULLS_FROM.to_owned()),
            name: w.name,
            parts: w.parts,
            part_down: match w.part_down {
                None | Some(FilePartDown::Down) => PartDown::Down,
                Some(FilePartDown::Unhealthy) => PartDown::Unhealthy,
            },
        });
    }
    Ok(Topology {
        queue_host,
        hosts,
        workers: specs,
    })
}

/// Part names end up in Redis keys: short, plain, each once.
fn check_parts(key: &str, parts: &[String]) -> Result<(), ConfigError> {
    if parts.len() > MAX_PARTS {
        return Err(invalid(key, format!("at most {MAX_PARTS} parts")));
    }
    if parts.len() == 1 {
        return Err(invalid(key, "one part is no parts: leave it out"));
    }
    let mut seen = HashSet::new();
    for part in parts {
        if let Err(why) = check_part_name(part) {
            return Err(invalid(key, format!("{part:?}: {why}")));
        }
        if !seen.insert(part) {
            return Err(invalid(key, format!("{part:?} appears twice")));
        }
    }
    Ok(())
}

/// Names end up in Redis keys and on the page: one rule for configured and discovered names
/// ([`pulseboard_shared::heartbeat::check_name`]).
fn check_name(key: &str, name: &str) -> Result<(), ConfigError> {
    pulseboard_shared::heartbeat::check_name(name).map_err(|why| {
        invalid(
            key,
            format!("{name:?} {why} (names are 1-100 bytes without spaces or * ? [ ])"),
        )
    })
}
