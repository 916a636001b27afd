//! What each role may run and touch: the commands its code sends (each list says where) and the
//! keys, from the same key functions that code uses. A command sent inside a Lua script counts:
//! Redis checks a script's every call against the caller's user.

use pulseboard_shared::agent::{beat_key, requests_key, started_key, RESULTS_KEY};
use pulseboard_shared::command::commands_key;
use pulseboard_shared::heartbeat::heartbeat_key;
use pulseboard_shared::parts::part_beat_key;
use pulseboard_worker::queue::{dead_letter_key, in_flight_key, queue_key, PAUSED_KEY};

use super::glob;
use super::{Access, Grant, KeyRule};
use crate::config::Topology;
use crate::ledger::store::Keys;

/// Every role: `SELECT` for a `redis://host:6379/DB` URL (keys are checked alike in every
/// database). AUTH and HELLO need no grant.
const CONNECTION: &[&str] = &["select"];

/// The worker SDK's beat (`worker/src/heartbeat.rs`, which `pulseboard run` uses): `SET` of the
/// beat with `EX`, `LPOP` of up to 8 commands, in one pipeline.
const WORKER_BEAT: &[&str] = &["set", "lpop"];

/// The reliable queue (`worker/src/queue.rs`): `BLMOVE` (claim), `LREM` (ack), the fail script
/// (`EVALSHA`, `SCRIPT LOAD` when Redis lacks it; inside: `LREM`, `LPUSH`), `LMOVE` (leftovers
/// back on the queue), `GET` of the pause flag.
const WORKER_QUEUE: &[&str] = &[
    "blmove",
    "lmove",
    "lrem",
    "lpush",
    "get",
    "evalsha",
    "script|load",
];

/// A worker that sets and clears the pause flag (the watcher): `SETEX` (or `SET`, granted for
/// the beat), `DEL`.
const WORKER_PAUSE: &[&str] = &["setex", "del"];

/// The host agent (`server/src/agent/`): the beat (`SET` with `EX`, `DEL` on the way out,
/// `beat.rs`), the consumer group (`XGROUP CREATE ... MKSTREAM`, `XREADGROUP`), the ids it took
/// before a restart (`XREVRANGE` at start), the started set (`SADD`), and the answer in one
/// transaction (`MULTI`, `XADD` of the result, `XACK`, `SREM`, `EXEC`; `stream.rs`).
const AGENT: &[&str] = &[
    "set",
    "del",
    "xgroup|create",
    "xreadgroup",
    "xrevrange",
    "xack",
    "sadd",
    "srem",
    "xadd",
    "multi",
    "exec",
];

/// What every refresh reads (`reader.rs`, `reader/cluster.rs`, `recovery/reading.rs`): `GET`
/// (pause flag, the guard's memory, agents' beats), `GETRANGE` and `PTTL` of beats, `LLEN` of
/// lists, `SCAN` (discovery); on a cluster `CLUSTER SLOTS` and `PING`. And the event log's page
/// (`alerts/history.rs`): `XREVRANGE`. Read-only scripts (`EVALSHA_RO`, `SCRIPT LOAD`: the
/// agents' results, a page of dead letters; `ledger/read_only.rs`; inside: `XRANGE`, `LLEN`,
/// `LRANGE`).
const READ: &[&str] = &[
    "get",
    "getrange",
    "pttl",
    "llen",
    "scan",
    "xrevrange",
    "evalsha_ro",
    "script|load",
    "cluster|slots",
    "ping",
];

/// What the server writes with, beyond [`READ`]: the ledger's scripts (`EVALSHA`, `SCRIPT LOAD`;
/// inside: `GET`, `SET`, `PEXPIRE`, `DEL`, `LTRIM`, `RPUSH`, `XADD`, `LINDEX`, `LPOP`, `LSET`:
/// `ledger/`, `alerts/outbox.rs`), the event log (`XADD`), the alerts' outboxes (`LINDEX`,
/// `LLEN`), the guard (`LRANGE` of overrides, `XRANGE` of agents' results: `recovery/`), a
/// command on a worker's list (`MULTI`, `RPUSH`, `EXPIRE`, `EXEC`) or a request on an agent's
/// stream (`XADD`: `recovery/send.rs`), an operator's override (`RPUSH`: `admin.rs`), dead
/// letters replayed or deleted (a script of `LRANGE`, `LREM`, `RPUSH`, `LMOVE`, `DEL`:
/// `dead_letters/lists.rs`), orphaned jobs rescued (a script of `LRANGE`, `HINCRBY`, `RPUSH`,
/// `LPUSH`, `DEL`, `EXPIRE`: `rescue/lists.rs`).
const WRITE: &[&str] = &[
    "lmove",
    "lrem",
    "hincrby",
    "lpush",
    "evalsha",
    "script|load",
    "set",
    "pexpire",
    "del",
    "ltrim",
    "rpush",
    "xadd",
    "lindex",
    "lpop",
    "lset",
    "lrange",
    "xrange",
    "expire",
    "multi",
    "exec",
];

/// A worker's role: its name, its queue and, optionally, its one consumer.
#[derive(Debug, Clone)]
pub struct WorkerRole {
    /// The worker's name (`worker:<name>:heartbeat`).
    pub name: String,
    /// Its pending-jobs list (`queue:<name>` unless configured otherwise).
    pub queue: String,
    /// Its one consumer: only `processing:<queue>:<consumer>`, not every in-flight list of the
    /// queue (`processing:<queue>:*`).
    pub consumer: Option<String>,
    /// It sets and clears the pause flag (the watcher).
    pub may_pause: bool,
}

fn rule(pattern: String, access: Access) -> KeyRule {
    KeyRule { pattern, access }
}

fn commands(lists: &[&[&'static str]]) -> Vec<&'static str> {
    let mut all: Vec<&'static str> = Vec::new();
    for name in lists.iter().flat_map(|list| list.iter()) {
        if !all.contains(name) {
            all.push(name);
        }
    }
    all
}

/// A worker: writes its own beat, takes its own commands, moves jobs in its own queue's lists,
/// reads the pause flag (sets it too with `may_pause`). Nothing else.
pub fn worker(w: &WorkerRole) -> Grant {
    let in_flight = in_flight_key(&w.queue, w.consumer.as_deref().unwrap_or("*"));
    let pause = if w.may_pause {
        Access::ReadWrite
    } else {
        Access::Read
    };
    let extra: &[&'static str] = if w.may_pause { WORKER_PAUSE } else { &[] };
    Grant {
        commands: commands(&[WORKER_BEAT, WORKER_QUEUE, extra, CONNECTION]),
        keys: vec![
            rule(heartbeat_key(&w.name), Access::Write),
            rule(part_beat_key(&w.name, "*"), Access::Write),
            rule(commands_key(&w.name), Access::ReadWrite),
            rule(w.queue.clone(), Access::ReadWrite),
            rule(in_flight, Access::ReadWrite),
            rule(dead_letter_key(&w.queue), Access::ReadWrite),
            rule(PAUSED_KEY.to_owned(), pause),
        ],
    }
}

/// A host agent: its own request stream through the consumer group, its started set, its beat,
/// and results appended to the shared results stream. Nothing else.
pub fn agent(host: &str) -> Grant {
    Grant {
        commands: commands(&[AGENT, CONNECTION]),
        keys: vec![
            rule(requests_key(host), Access::ReadWrite),
            rule(started_key(host), Access::Write),
            rule(beat_key(host), Access::Write),
            rule(RESULTS_KEY.to_owned(), Access::Write),
        ],
    }
}

/// The keys every refresh reads: beats, queues (and the pause flag), dead letters, in-flight
/// lists, agents' beats; and each configured queue not named `queue:*`.
fn fleet_reads(topology: &Topology) -> Vec<KeyRule> {
    let mut keys = vec![
        rule(heartbeat_key("*"), Access::Read),
        rule(part_beat_key("*", "*"), Access::Read),
        rule(queue_key("*"), Access::Read),
        rule(dead_letter_key("*"), Access::Read),
        rule(in_flight_key("*", "*"), Access::Read),
        rule(beat_key("*"), Access::Read),
    ];
    for queue in topology.workers.iter().filter_map(|w| w.queue.as_ref()) {
        if !keys.iter().any(|k| glob::matches(&k.pattern, queue)) {
            keys.push(rule(queue.clone(), Access::Read));
        }
    }
    keys
}

/// The ledger's keys on one server and on a cluster (`{pulseboard:alerts}:...`).
fn ledgers() -> [Keys; 2] {
    [Keys::for_cluster(false), Keys::for_cluster(true)]
}

/// `pulseboard serve`: reads the fleet, keeps its own `pulseboard:alerts:*` keys (leases, state,
/// outboxes, the event log, the guard's memory and overrides), writes commands on workers' lists
/// and requests on agents' streams, reads agents' results, replays dead letters onto the
/// configured queues or deletes them. No administrative command.
pub fn server(topology: &Topology) -> Grant {
    let mut keys = fleet_reads(topology);
    keys.extend(ledgers().map(|k| rule(k.all(), Access::ReadWrite)));
    keys.push(rule(RESULTS_KEY.to_owned(), Access::Read));
    keys.push(rule(commands_key("*"), Access::Write));
    keys.push(rule(requests_key("*"), Access::Write));
    // Dead letters replayed onto the configured queues (not `queue:*`, which holds the pause
    // flag) or deleted; orphaned in-flight lists emptied onto them, poison counted beside the
    // dead letters.
    keys.push(rule(dead_letter_key("*"), Access::ReadWrite));
    if let Some(lists) = keys
        .iter_mut()
        .find(|k| k.pattern == in_flight_key("*", "*"))
    {
        lists.access = Access::ReadWrite;
    }
    for queue in topology.workers.iter().filter_map(|w| w.queue.as_ref()) {
        match keys.iter_mut().find(|k| &k.pattern == queue) {
            Some(read) => read.access = Access::ReadWrite,
            None => keys.push(rule(queue.clone(), Access::Write)),
        }
    }
    Grant {
        commands: commands(&[READ, WRITE, CONNECTION]),
        keys,
    }
}

/// `pulseboard serve --read-only`: reads what a refresh reads, the guard's and the rescue's
/// memories, the silences and the event log. Writes nothing.
pub fn viewer(topology: &Topology) -> Grant {
    let mut keys = fleet_reads(topology);
    for k in ledgers() {
        keys.push(rule(k.recovery(), Access::Read));
        keys.push(rule(k.rescue(), Access::Read));
        keys.push(rule(k.silences(), Access::Read));
        keys.push(rule(k.acks(), Access::Read));
        keys.push(rule(k.histories(), Access::Read));
        keys.push(rule(k.events(), Access::Read));
    }
    Grant {
        commands: commands(&[READ, CONNECTION]),
        keys,
    }
}
