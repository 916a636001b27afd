//! Undelivered alerts, kept in Redis until delivered or given up: one list per sink, oldest
//! first, so a sink receives its alerts in order and a restart (or another process taking over)
//! resumes where the last sender stopped.
//!
//! A transition is committed in one script together with the state that follows from it and its
//! event-log entry (the fenced [`ledger::commit`]): either all of it is stored or none, and only
//! by the lease holder.

use redis::Script;
use serde::{Deserialize, Serialize};

use super::alert::Alert;
use super::history::Record;
use super::transitions::Memory;
use crate::ledger;
use crate::ledger::commit::Entry;
use crate::ledger::lease::Lease;
use crate::ledger::store::{Store, StoreError};
use crate::reader::bounded::{self, Bounded};

/// An alert waiting for one sink.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pending {
    /// What the sink receives.
    pub alert: Alert,
    /// Failed attempts so far.
    pub attempts: u32,
    /// When it was raised (ms since the epoch); it is given up a configured time after.
    pub raised_ms: i64,
    /// Not before (ms since the epoch): the backoff.
    pub next_try_ms: i64,
    /// The last failure, free of secrets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

impl Pending {
    /// A fresh entry for `alert` raised at `now`.
    pub fn new(alert: Alert, now: i64) -> Self {
        Self {
            alert,
            attempts: 0,
            raised_ms: now,
            next_try_ms: now,
            last_error: None,
        }
    }
}

/// Pops the head of a sink's list if it is still `raw` and `me` holds the lease.
const POP: &str = r"
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if redis.call('LINDEX', KEYS[2], 0) ~= ARGV[2] then return 0 end
redis.call('LPOP', KEYS[2])
return 1
";

/// Replaces the head of a sink's list (after a failed attempt), under the same conditions.
const REPLACE: &str = r"
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if redis.call('LINDEX', KEYS[2], 0) ~= ARGV[2] then return 0 end
redis.call('LSET', KEYS[2], 0, ARGV[3])
return 1
";

/// What [`commit`] stores.
pub struct Commit<'a> {
    /// The lease that fences it (the alerts' own, or the guard's).
    pub lease: &'a Lease,
    /// Where the state goes, and the state after the transitions (JSON).
    pub state: (String, String),
    /// A list to drop the head of (the guard's overrides it applied), and how many.
    pub trim: (String, usize),
    /// The alerts, each with its event-log record.
    pub alerts: &'a [(Pending, Record)],
    /// Event-log records that raise no alert (the guard's audit trail).
    pub records: &'a [Record],
    /// The sinks, by name: each gets its own copy of every alert.
    pub sinks: &'a [&'static str],
    /// The event log's cap.
    pub history_max: u64,
}

/// Stores `c` atomically (see [`ledger::commit`]); false when another process holds the lease
/// (nothing was stored).
pub async fn commit(c: Commit<'_>) -> Result<bool, StoreError> {
    let record = |r: &Record| serde_json::to_string(r).expect("records serialise");
    let entries: Vec<Entry> = c
        .alerts
        .iter()
        .map(|(pending, r)| Entry {
            // recorded only: a clean stop is not news, a silenced alert waits for its end, a
            // grouped one is in its incident's summary
            queued: pending
                .alert
                .is_sent()
                .then(|| serde_json::to_string(pending).expect("alerts serialise")),
            record: record(r),
        })
        .chain(c.records.iter().map(|r| Entry {
            queued: None,
            record: record(r),
        }))
        .collect();
    let keys = &c.lease.store().keys;
    let outboxes: Vec<String> = c.sinks.iter().map(|sink| keys.outbox(sink)).collect();
    ledger::commit::commit(ledger::commit::Commit {
        lease: c.lease,
        state: c.state,
        trim: c.trim,
        entries: &entries,
        outboxes: &outboxes,
        history_max: c.history_max,
    })
    .await
}

/// The remembered state, or an empty one on first run (or after Redis lost its data). Read with
/// a bound for a fleet of `workers`: a larger value is garbage (anyone who writes Redis can write
/// it), so the alerts start afresh and the next commit overwrites it.
pub async fn load_memory(store: &Store, workers: usize) -> Result<Memory, StoreError> {
    let mut conn = store.conn().await?;
    let max = bounded::memory_bound(bounded::ALERT_MEMORY_BYTES_PER_WORKER, workers);
    let mut pipe = redis::pipe();
    bounded::get_bounded(&mut pipe, &store.keys.state(), max);
    let (reply,): (redis::Value,) = pipe.query_async(&mut conn).await?;
    Ok(match bounded::judge(reply, max) {
        Bounded::Value(bytes) => serde_json::from_slice(&bytes).unwrap_or_else(|e| {
            tracing::warn!(error = %e, "alerts: stored state is unreadable; starting afresh");
            Memory::default()
        }),
        Bounded::TooLarge { max } => {
            tracing::warn!(
                max,
                "alerts: stored state is over its bound; starting afresh"
            );
            Memory::default()
        }
        Bounded::Absent => Memory::default(),
    })
}

/// The head of a sink's list: the oldest undelivered alert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Head {
    /// Nothing waits.
    Empty,
    /// An alert, as stored (for the fenced [`pop`] and [`replace`]) and parsed.
    Alert(String, Box<Pending>),
    /// An entry that does not parse, as stored, to be dropped.
    Unreadable(String),
}

/// The oldest undelivered alert of `sink`.
pub async fn head(store: &Store, sink: &str) -> Result<Head, StoreError> {
    let mut conn = store.conn().await?;
    let raw: Option<String> = redis::cmd("LINDEX")
        .arg(store.keys.outbox(sink))
        .arg(0)
        .query_async(&mut conn)
        .await?;
    Ok(match raw {
        None => Head::Empty,
        Some(raw) => match serde_json::from_str(&raw) {
            Ok(pending) => Head::Alert(raw, Box::new(pending)),
            Err(_) => Head::Unreadable(raw),
        },
    })
}

/// How many alerts wait for `sink`.
pub async fn len(store: &Store, sink: &str) -> Result<u64, StoreError> {
    let mut conn = store.conn().await?;
    Ok(redis::cmd("LLEN")
        .arg(store.keys.outbox(sink))
        .query_async(&mut conn)
        .await?)
}

/// Removes the head `raw` of `sink`'s list; false if it changed or the lease is not `me`'s.
pub async fn pop(store: &Store, me: &str, sink: &str, raw: &str) -> Result<bool, StoreError> {
    let mut conn = store.conn().await?;
    let done: i64 = Script::new(POP)
        .key(store.keys.lease())
        .key(store.keys.outbox(sink))
        .arg(me)
        .arg(raw)
        .invoke_async(&mut conn)
        .await?;
    Ok(done == 1)
}

/// Replaces the head `raw` of `sink`'s list by `next`; false as for [`pop`].
pub async fn replace(
    store: &Store,
    me: &str,
    sink: &str,
    raw: &str,
    next: &Pending,
) -> Result<bool, StoreError> {
    let mut conn = store.conn().await?;
    let done: i64 = Script::new(REPLACE)
        .key(store.keys.lease())
        .key(store.keys.outbox(sink))
        .arg(me)
        .arg(raw)
        .arg(serde_json::to_string(next).expect("alerts serialise"))
        .invoke_async(&mut conn)
        .await?;
    Ok(done == 1)
}
