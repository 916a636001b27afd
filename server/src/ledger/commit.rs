//! The fenced commit: a decision stored in one script, all of it or none, and only by the holder
//! of its [`Lease`] (a vacant lease is taken: Redis came back empty). The alerts commit their
//! transitions this way, the recovery guard its memory, alerts and audit records.

use redis::Script;

use super::lease::Lease;
use super::store::StoreError;

/// Takes the lease if it is vacant, refuses if another process holds it; then stores the state,
/// drops the first ARGV[5] entries of the list KEYS[4] (the guard's applied overrides), queues
/// each entry on every outbox (none when passed as '') and records it in the event log.
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

/// One entry of a commit, as JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// What every outbox receives; `None` for an entry that is only recorded.
    pub queued: Option<String>,
    /// Its event-log record.
    pub record: String,
}

/// What [`commit`] stores.
pub struct Commit<'a> {
    /// The lease that fences it.
    pub lease: &'a Lease,
    /// Where the state goes, and the state after the decision (JSON).
    pub state: (String, String),
    /// A list to drop the head of (the guard's overrides it applied), and how many.
    pub trim: (String, usize),
    /// The entries, in order.
    pub entries: &'a [Entry],
    /// The outboxes' keys: each gets its own copy of every queued entry.
    pub outboxes: &'a [String],
    /// The event log's cap.
    pub history_max: u64,
}

/// Stores `c` atomically; false when another process holds the lease (nothing was stored).
pub async fn commit(c: Commit<'_>) -> Result<bool, StoreError> {
    let store = c.lease.store();
    let mut conn = store.conn().await?;
    let script = Script::new(COMMIT);
    let mut invocation = script.key(c.lease.key());
    invocation
        .key(c.state.0)
        .key(store.keys.events())
        .key(c.trim.0)
        .arg(c.lease.me())
        .arg(c.lease.period_ms())
        .arg(c.state.1)
        .arg(c.history_max)
        .arg(c.trim.1);
    for outbox in c.outboxes {
        invocation.key(outbox);
    }
    for entry in c.entries {
        invocation
            .arg(entry.queued.as_deref().unwrap_or(""))
            .arg(&entry.record);
    }
    let stored: i64 = invocation.invoke_async(&mut conn).await?;
    store
        .events_written
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    Ok(stored == 1)
}
