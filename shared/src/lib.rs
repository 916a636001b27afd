//! pulseboard's contracts and the pure rules on them, shared by the server and the page.
//!
//! Nothing here does I/O; it builds for native and `wasm32` alike and is tested natively.
//!
//! # Layout
//! - [`heartbeat`]: contract 1, the value a worker writes to `worker:<name>:heartbeat`, and a
//!   lenient reader that survives anything found under that key.
//! - [`nodes`]: contract 2, the JSON of `GET /api/agent-office/nodes`.
//! - [`lifecycle`]: a worker's lifecycle state from its own signal first and time second.
//! - [`patch`]: what changed between two snapshots, for the live stream; applied by the page.
//! - [`guard`]: the recovery guard as the API shows it: mode, state, last action, block, advice.
//! - [`recovery`]: the recovery guard: act, wait or hold back, bounded by backoff and a circuit.
//! - [`rescue`]: whether a consumer's in-flight list is in use or orphaned (its jobs left behind).
//! - [`orphans`]: contract 2's `workers[].rescue` and the rescue's memory it is drawn from.
//! - [`history`]: throughput over time: a step's point and how it is stored.
//! - [`silence`]: silences: what a silence covers and until when.
//! - [`rules`]: link status, state labels and colours: the meaning of a worker's record.
//! - [`summary`]: one condition per worker, counted: the fleet at a glance.
//! - [`arrange`]: the list's order: filtered, grouped, problems first; the labels' order.
//! - [`command`]: what pulseboard may ask of a worker through its heartbeat (quiet, restart,
//!   stop).
//! - [`dead_letters`]: a worker's dead letters as the API lists them, and replay or delete.
//! - [`answer`]: the API's error answer ([`answer::ApiError`]), with a typed 409 conflict.
//! - [`agent`]: what pulseboard may ask of a host agent (a supervisor's restart), and its answers.
//! - [`layout`]: where hosts, the bus, workers and links go in the 3D scene.
//! - [`mock`]: a scripted fleet cycling through every state, for mock mode.
//! - [`sort`]: the one stable sort the page's lists share (one copy of it in the wasm).

pub mod ack;
pub mod agent;
pub mod alert_kind;
pub mod answer;
pub mod arrange;
pub mod command;
pub mod condition;
pub mod dead_letters;
pub mod drift;
pub mod guard;
pub mod heartbeat;
pub mod history;
pub mod layout;
pub mod lifecycle;
pub mod mock;
pub mod nodes;
pub mod orphans;
pub mod parts;
pub mod patch;
pub mod recovery;
pub mod rescue;
pub mod rules;
pub mod runtime;
pub mod silence;
pub mod sort;
pub mod summary;
pub mod wait;

pub use heartbeat::{Heartbeat, HeartbeatRead};
pub use lifecycle::{Lifecycle, LifecycleState, Phase};
pub use nodes::{
    HostAgent, HostInfo, IgnoredWorkers, Link, LinkStatus, LinkType, Nodes, WorkerKind,
    WorkerStatus,
};
pub use rules::{link_status, links_for, state_label, Lang};
pub use summary::{Condition, Summary};
