//! Contract 2: the JSON served at `GET /api/agent-office/nodes` (and on its SSE stream).
//!
//! Field names and value spellings are the seed's, locked. Fields pulseboard adds are optional
//! and left out when they carry their default, so the seed's example round-trips unchanged.

use serde::{Deserialize, Serialize};

pub use crate::condition::Condition;

use crate::guard::RecoveryView;
use crate::heartbeat::Declared;
use crate::lifecycle::Lifecycle;
use crate::orphans::RescueView;
use crate::silence::SilenceMark;

/// The whole answer of `/api/agent-office/nodes`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Nodes {
    /// Whether the aggregator could read Redis on its last refresh.
    pub redis_ok: bool,
    /// The global `queue:paused` flag.
    pub paused: bool,
    /// Why the queues are paused (the watcher's mode); null unless `paused`.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub paused_reason: Option<String>,
    /// When this snapshot was built, UTC ISO 8601 ending in `Z`.
    pub generated_at: String,
    /// One record per worker, configured ones first, in configuration order.
    pub workers: Vec<WorkerStatus>,
    /// The pipeline's links and their health.
    pub links: Vec<Link>,
    /// Additive: the configured hosts with the names the page shows for them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hosts: Vec<HostInfo>,
    /// Additive: counts per condition and queue totals over every worker.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<Summary>,
    /// Additive: the host agents of the configured hosts (`pulseboard agent`), beating or not.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub agents: Vec<HostAgent>,
    /// Additive: where the operator publishes the runbook (`[alerts] runbook_url`), so the page
    /// links a worker's trouble to its section (`#down`, `#drift`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runbook_url: Option<String>,
}

/// A configured host's agent, as its beat says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HostAgent {
    /// The host.
    pub host: String,
    /// Whether its beat key exists: the host can act.
    pub alive: bool,
    /// The workers its allow-list names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub workers: Vec<String>,
}

impl Nodes {
    /// What the page calls host `name`: its configured label, else the name itself.
    pub fn host_label<'a>(&'a self, name: &'a str) -> &'a str {
        self.hosts
            .iter()
            .find(|h| h.name == name)
            .map_or(name, |h| h.label.as_str())
    }
}

/// A host as configured: its short name (used in links and `workers[].host`) and its label.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HostInfo {
    /// Short name (`nas`).
    pub name: String,
    /// What the page shows (`NAS (gateway)`); the name when none is configured.
    pub label: String,
}

/// A worker's kind, which decides its states and its link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum WorkerKind {
    /// Pulls jobs from its own Redis list.
    Render,
    /// Sets the global pause flag during trading hours.
    Watcher,
    /// Pulls from the NAS over HTTP.
    Trader,
    /// An unregistered worker whose heartbeat named no known kind.
    #[serde(other)]
    Unknown,
}

impl WorkerKind {
    /// The kind named by a heartbeat's `kind` field.
    pub fn parse(text: &str) -> Self {
        match text {
            "render" => Self::Render,
            "watcher" => Self::Watcher,
            "trader" => Self::Trader,
            _ => Self::Unknown,
        }
    }

    /// The kind as spelled in both contracts (the same as its serde form; a test checks).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Render => "render",
            Self::Watcher => "watcher",
            Self::Trader => "trader",
            Self::Unknown => "unknown",
        }
    }
}

/// One worker's record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WorkerStatus {
    /// The worker's name.
    pub name: String,
    /// The worker's kind.
    pub kind: WorkerKind,
    /// Whether its heartbeat key exists.
    pub alive: bool,
    /// The state from its heartbeat; null when dead or unreadable.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub state: Option<String>,
    /// Seconds since its last heartbeat was written; null when never seen.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub last_beat_age_s: Option<u64>,
    /// Jobs waiting in `queue:<worker>`.
    pub queue_depth: u64,
    /// Jobs in `dead_letter:queue:<worker>`.
    pub dead_letter: u64,
    /// Jobs in flight, summed over `processing:queue:<worker>:*`.
    pub processing: u64,
    /// From the heartbeat.
    pub jobs_done: u64,
    /// From the heartbeat.
    pub jobs_failed: u64,
    /// From the heartbeat.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub last_job_at: Option<String>,
    /// Additive: the host the worker runs on (from the configuration).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Additive: false for a worker found by its heartbeat but absent from the configuration.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub registered: bool,
    /// Additive: what was wrong with its heartbeat, if anything.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Additive: its lifecycle state, judged from its own signal first and time second.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifecycle: Option<Lifecycle>,
    /// Additive: what its last beat declared (checks, pid, version, current job), if anything.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub declared: Option<Declared>,
    /// Additive: the recovery guard's state and advice, when it has any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery: Option<RecoveryView>,
    /// Additive: its orphaned in-flight lists and the jobs rescued within the window, when any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rescue: Option<RescueView>,
    /// Additive: the silence in force over it (its alerts are held), when one is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub silence: Option<SilenceMark>,
    /// Additive: what it runs that differs from what is expected of it (`[runtime]`, or most of
    /// its kind), when anything does.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub drift: Vec<crate::drift::Drift>,
    /// Additive: each part judged alone, for a worker of several processes (`[[workers]]
    /// parts`); its `lifecycle` is then the worst part's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parts: Vec<crate::parts::PartStatus>,
}

impl WorkerStatus {
    /// A registered worker of `kind` with nothing known yet: not alive, no beat, empty lists.
    pub fn new(name: impl Into<String>, kind: WorkerKind) -> Self {
        Self {
            name: name.into(),
            kind,
            alive: false,
            state: None,
            last_beat_age_s: None,
            queue_depth: 0,
            dead_letter: 0,
            processing: 0,
            jobs_done: 0,
            jobs_failed: 0,
            last_job_at: None,
            host: None,
            registered: true,
            error: None,
            lifecycle: None,
            declared: None,
            recovery: None,
            rescue: None,
            silence: None,
            drift: Vec::new(),
            parts: Vec::new(),
        }
    }

    /// Whether the recovery guard's circuit is open on it (it gave up restarting it).
    pub fn circuit_open(&self) -> bool {
        self.recovery
            .as_ref()
            .is_some_and(|r| r.state == crate::guard::GuardState::CircuitOpen)
    }
}

fn yes() -> bool {
    true
}

fn is_true(value: &bool) -> bool {
    *value
}

/// A link of the pipeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Link {
    /// Where the link starts (`nas`, or the trader's name).
    pub from: String,
    /// Where it ends (a worker, or the trader's HTTP source).
    pub to: String,
    /// How the work travels.
    #[serde(rename = "type")]
    pub link_type: LinkType,
    /// Its health.
    pub status: LinkStatus,
}

/// How work travels along a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum LinkType {
    /// Through a Redis list.
    RedisQueue,
    /// The worker pulls over HTTP.
    HttpPull,
}

/// A link's health.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum LinkStatus {
    /// Work flows.
    Healthy,
    /// The global pause flag holds the work back.
    Paused,
    /// The worker is dead.
    Down,
    /// Alive, but jobs are piling up in its dead-letter list.
    Degraded,
}

/// Counts per condition and totals over the fleet (contract 2's additive `summary`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Summary {
    /// Workers in all.
    pub workers: u64,
    /// Workers with a problem (see [`Condition::is_problem`]).
    pub problems: u64,
    /// Workers per condition, most urgent first; conditions nobody is in are left out.
    pub conditions: Vec<ConditionCount>,
    /// Jobs waiting, over every queue.
    pub queue_depth: u64,
    /// Jobs in flight.
    pub processing: u64,
    /// Jobs in dead letters.
    pub dead_letter: u64,
    /// Additive: heartbeat keys discovery found and did not read (none: left out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignored_workers: Option<IgnoredWorkers>,
}

/// Heartbeat keys found by discovery and never read, so a junk flood costs nothing and is seen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IgnoredWorkers {
    /// All ignored keys (`bad_name + over_limit`).
    pub count: u64,
    /// Keys whose name breaks the name rule (`heartbeat::check_name`).
    pub bad_name: u64,
    /// Unregistered workers found beyond `max_unregistered`.
    pub over_limit: u64,
    /// The configured `max_unregistered`.
    pub max_unregistered: u64,
    /// In-flight lists (`processing:*`) skipped: over 64 for one queue, or over
    /// `max_unregistered` that no watched worker's queue owns. Not part of `count`.
    #[serde(default)]
    pub in_flight_lists: u64,
}

/// How many workers are in one condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConditionCount {
    /// The condition.
    pub condition: Condition,
    /// How many workers are in it.
    pub count: u64,
}

impl Summary {
    /// How many workers are in `condition`.
    pub fn count(&self, condition: Condition) -> u64 {
        self.conditions
            .iter()
            .find(|c| c.condition == condition)
            .map_or(0, |c| c.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    /// The seed's example response (contract 2), completed with real timestamps.
    const SEED_EXAMPLE: &str = r#"{ "redis_ok": true, "paused": false, "paused_reason": "trading", "generated_at": "2026-06-29T00:00:03Z",
      "workers": [{"name":"image-render","kind":"render","alive":true,"state":"idle",
        "last_beat_age_s":3,"queue_depth":0,"dead_letter":0,"processing":0,
        "jobs_done":42,"jobs_failed":1,"last_job_at":"2026-06-28T23:59:00Z"}],
      "links": [{"from":"nas","to":"image-render","type":"redis-queue","status":"healthy"}] }"#;

    #[test]
    fn seed_example_round_trips_unchanged() {
        let nodes: Nodes = serde_json::from_str(SEED_EXAMPLE).unwrap();
        assert!(nodes.workers[0].registered);
        assert_eq!(nodes.links[0].link_type, LinkType::RedisQueue);
        let again: Value = serde_json::to_value(&nodes).unwrap();
        let original: Value = serde_json::from_str(SEED_EXAMPLE).unwrap();
        assert_eq!(again, original);
    }

    #[test]
    fn additive_fields_appear_only_when_set() {
        let mut nodes: Nodes = serde_json::from_str(SEED_EXAMPLE).unwrap();
        let worker = &mut nodes.workers[0];
        worker.registered = false;
        worker.error = Some("heartbeat is not valid JSON".into());
        worker.host = Some("windows".into());
        let json = serde_json::to_value(&nodes).unwrap();
        assert_eq!(json["workers"][0]["registered"], false);
        assert_eq!(json["workers"][0]["host"], "windows");
        assert_eq!(json["workers"][0]["error"], "heartbeat is not valid JSON");
        assert!(json.get("hosts").is_none());
        nodes.hosts = vec![HostInfo {
            name: "nas".into(),
            label: "NAS (gateway)".into(),
        }];
        let json = serde_json::to_value(&nodes).unwrap();
        assert_eq!(json["hosts"][0]["label"], "NAS (gateway)");
        assert_eq!(nodes.host_label("nas"), "NAS (gateway)");
        assert_eq!(nodes.host_label("windows"), "windows");
    }

    #[test]
    fn enums_are_the_seed_spellings() {
        let json = |v: serde_json::Value| v.to_string();
        assert_eq!(
            json(serde_json::to_value(LinkType::HttpPull).unwrap()),
            "\"http-pull\""
        );
        assert_eq!(
            json(serde_json::to_value(LinkStatus::Degraded).unwrap()),
            "\"degraded\""
        );
        assert_eq!(
            json(serde_json::to_value(WorkerKind::Trader).unwrap()),
            "\"trader\""
        );
        assert_eq!(
            serde_json::from_str::<WorkerKind>("\"gpu\"").unwrap(),
            WorkerKind::Unknown
        );
        assert_eq!(WorkerKind::parse("watcher"), WorkerKind::Watcher);
    }

    #[test]
    fn hand_spellings_equal_the_serde_ones() {
        let serde_name = |v: serde_json::Value| v.as_str().unwrap().to_owned();
        use WorkerKind::*;
        for kind in [Render, Watcher, Trader, Unknown] {
            assert_eq!(
                serde_name(serde_json::to_value(kind).unwrap()),
                kind.as_str()
            );
            if kind != Unknown {
                assert_eq!(WorkerKind::parse(kind.as_str()), kind);
            }
        }
        use LinkStatus::*;
        for status in [Healthy, Paused, Down, Degraded] {
            assert_eq!(
                serde_name(serde_json::to_value(status).unwrap()),
                status.as_str()
            );
        }
    }
}
