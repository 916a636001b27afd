//! The dead-letter list in Redis: a page read in one script, and replay or delete in one script,
//! so a job is in exactly one list at every instant and a second replay of the same id (from this
//! process or another) finds nothing to move.

use pulseboard_shared::dead_letters::{DeadLetterAction, MAX_JSON_BYTES};
use redis::{Script, Value};

use crate::ledger::read_only;
use crate::ledger::store::{Store, StoreError};

/// Replay and delete look for ids among this many of the newest dead letters: the script runs
/// inside Redis, which serves nobody else meanwhile (about 1 µs per entry).
pub const MAX_SCAN: u64 = 100_000;

/// The total, then per entry its id, size and first bytes.
const PAGE: &str = r"
local out = {redis.call('LLEN', KEYS[1])}
for _, v in ipairs(redis.call('LRANGE', KEYS[1], ARGV[1], ARGV[2])) do
  out[#out + 1] = string.sub(redis.sha1hex(v), 1, 16)
  out[#out + 1] = #v
  out[#out + 1] = string.sub(v, 1, tonumber(ARGV[3]))
end
return out
";

/// ARGV: replay|delete, all|ids, the scan bound, ids... KEYS: the dead letters, the queue (on
/// replay). Answers the jobs moved or removed, then the ids found.
const TAKE: &str = r"
local dead, replay = KEYS[1], ARGV[1] == 'replay'
if ARGV[2] == 'all' then
  local n = 0
  if replay then
    -- newest first onto the end consumers take from: the oldest is taken first
    while redis.call('LMOVE', dead, KEYS[2], 'LEFT', 'RIGHT') do n = n + 1 end
  else
    n = redis.call('LLEN', dead)
    redis.call('DEL', dead)
  end
  return {n}
end
local wanted = {}
for i = 4, #ARGV do wanted[ARGV[i]] = true end
local found = {}
for _, v in ipairs(redis.call('LRANGE', dead, 0, tonumber(ARGV[3]) - 1)) do
  local id = string.sub(redis.sha1hex(v), 1, 16)
  if wanted[id] then found[id] = v; wanted[id] = nil end
end
local out = {0}
for id, v in pairs(found) do
  local copies = redis.call('LREM', dead, 0, v)
  if replay then
    for _ = 1, copies do redis.call('RPUSH', KEYS[2], v) end
  end
  out[1] = out[1] + copies
  out[#out + 1] = id
end
return out
";

/// One entry as read: its id, size and at most [`MAX_JSON_BYTES`] of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Raw {
    /// The payload's id (the first 16 hex digits of its SHA-1).
    pub id: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its first bytes.
    pub head: Vec<u8>,
}

/// The list `key`'s length and `count` (at least 1) entries from `offset` (0 = newest).
pub async fn page(
    store: &Store,
    key: &str,
    offset: u64,
    count: u64,
) -> Result<(u64, Vec<Raw>), StoreError> {
    let mut conn = store.conn().await?;
    // Read-only, so a read-only server (whose Redis user may only read) lists them too.
    let last = offset + count.max(1) - 1;
    let args = [
        offset.to_string(),
        last.to_string(),
        MAX_JSON_BYTES.to_string(),
    ];
    let reply: Vec<Value> = read_only::invoke(&mut conn, PAGE, &[key], &args).await?;
    let mut values = reply.into_iter();
    let total = values.next().map_or(0, as_u64);
    let mut items = Vec::new();
    while let (Some(id), Some(size), Some(head)) = (values.next(), values.next(), values.next()) {
        items.push(Raw {
            id: String::from_utf8_lossy(&as_bytes(id)).into_owned(),
            size: as_u64(size),
            head: as_bytes(head),
        });
    }
    Ok((total, items))
}

/// Replays (onto `queue`) or deletes the dead letters of `key` named by `ids`, or all of them;
/// the jobs moved or removed and the ids found.
pub async fn take(
    store: &Store,
    action: DeadLetterAction,
    key: &str,
    queue: &str,
    ids: Option<&[String]>,
) -> Result<(u64, Vec<String>), StoreError> {
    let mut conn = store.conn().await?;
    let script = Script::new(TAKE);
    let mut invocation = script.key(key);
    if action == DeadLetterAction::Replay {
        invocation.key(queue);
    }
    invocation
        .arg(match action {
            DeadLetterAction::Replay => "replay",
            DeadLetterAction::Delete => "delete",
        })
        .arg(if ids.is_some() { "ids" } else { "all" })
        .arg(MAX_SCAN);
    for id in ids.unwrap_or_default() {
        invocation.arg(id);
    }
    let reply: Vec<Value> = invocation.invoke_async(&mut conn).await?;
    let mut values = reply.into_iter();
    let count = values.next().map_or(0, as_u64);
    let found = values
        .map(|v| String::from_utf8_lossy(&as_bytes(v)).into_owned())
        .collect();
    Ok((count, found))
}

fn as_u64(value: Value) -> u64 {
    match value {
        Value::Int(n) => n.max(0) as u64,
        _ => 0,
    }
}

fn as_bytes(value: Value) -> Vec<u8> {
    match value {
        Value::BulkString(bytes) => bytes,
        Value::SimpleString(text) => text.into_bytes(),
        _ => Vec::new(),
    }
}
