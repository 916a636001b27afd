//! Undelivered alerts, kept in Redis until delivered or given up: one list per sink, oldest
//! first, so a sink receives its alerts in order and a restart (or another process taking over)
//! resumes where the last sender stopped.
//!
//! A transition is committed in one script together with the state that follows from it and its
//! event-log entry: either all of it is stored or none, and only by the lease holder.

use redis::Script;
use serde::{Deserialize, Serialize};

use super::alert::Alert;
use super::history::Record;
use super::store::{Store, StoreError};
use super::transitions::Memory;

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

/// Takes the lease if it is vacant (Redis came back empty), refuses if another process holds it;
/// then stores the state, drops the first ARGV[5] entries of the list KEYS[4] (the guard's
/// applied overrides), queues each alert for every sink (a quiet one or a bare record, passed as
/// '', for none) and records it.
const COMMIT: &str = r"
local holder = redis.call('GET', KEYS[1])
if not holder then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
elseif holder ~= ARGV[1] then
  return 0
end
redis.call('SET', KEYS[2], ARGV[3])
if tonumber(ARGV[5]) > 0 then
  redis.call('LTRIM', KEYS[4], ARGV[5], -1)
end
local i = 6
while i < #ARGV do
  if ARGV[i] ~= '' then
    for k = 5, #KEYS do
      redis.call('RPUSH', KEYS[k], ARGV[i])
    end
  end
  redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[4], '*', 'record', ARGV[i + 1])
  i = i + 2
end
return 1
";

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
    /// The lease holder's id.
    pub me: &'a str,
    /// The lease's length, should the commit take a vacant lease.
    pub lease_ms: u64,
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

/// Stores `c` atomically; false when another process holds the lease (nothing was stored).
pub async fn commit(store: &Store, c: Commit<'_>) -> Result<bool, StoreError> {
    let mut conn = store.conn().await?;
    let keys = &store.keys;
    let script = Script::new(COMMIT);
    let mut invocation = script.key(keys.lease());
    invocation
        .key(c.state.0)
        .key(keys.events())
        .key(c.trim.0)
        .arg(c.me)
        .arg(c.lease_ms)
        .arg(c.state.1)
        .arg(c.history_max)
        .arg(c.trim.1);
    for sink in c.sinks {
        invocation.key(keys.outbox(sink));
    }
    for (pending, record) in c.alerts {
        let queued = if pending.alert.kind.is_quiet() {
            String::new() // recorded only: a clean stop is not news
        } else {
            serde_json::to_string(pending).expect("alerts serialise")
        };
        invocation
            .arg(queued)
            .arg(serde_json::to_string(record).expect("records serialise"));
    }
    for record in c.records {
        invocation
            .arg("")
            .arg(serde_json::to_string(record).expect("records serialise"));
    }
    let stored: i64 = invocation.invoke_async(&mut conn).await?;
    Ok(stored == 1)
}

/// The remembered state, or an empty one on first run (or after Redis lost its data).
pub async fn load_memory(store: &Store) -> Result<Memory, StoreError> {
    let mut conn = store.conn().await?;
    let text: Option<String> = redis::cmd("GET")
        .arg(store.keys.state())
        .query_async(&mut conn)
        .await?;
    Ok(match text {
        Some(text) => serde_json::from_str(&text).unwrap_or_else(|e| {
            tracing::warn!(error = %e, "alerts: stored state is unreadable; starting afresh");
            Memory::default()
        }),
        None => Memory::default(),
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
