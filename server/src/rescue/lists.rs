//! One orphaned in-flight list moved in one Redis script: every job goes back to the end of the
//! queue that consumers take next, or, orphaned once more than `max_rescues` times within the
//! window, to the dead letters; the list is gone. A job is in exactly one list at every instant,
//! so racing the consumer's own start-up rescue, or a second pulseboard, moves each job once.

use pulseboard_worker::queue::dead_letter_key;
use redis::Script;

use crate::ledger::store::{Store, StoreError};

/// KEYS: the in-flight list, the queue, the dead letters, the rescue counts. ARGV: max_rescues,
/// window_s. Jobs are counted by their payload's SHA-1 (the seed's jobs carry no id).
const RESCUE: &str = r"
local jobs = redis.call('LRANGE', KEYS[1], 0, -1)
local moved, quarantined = 0, 0
for _, job in ipairs(jobs) do
  local times = redis.call('HINCRBY', KEYS[4], redis.sha1hex(job), 1)
  if times > tonumber(ARGV[1]) then
    redis.call('LPUSH', KEYS[3], job)
    quarantined = quarantined + 1
  else
    redis.call('RPUSH', KEYS[2], job)
    moved = moved + 1
  end
end
redis.call('DEL', KEYS[1])
if #jobs > 0 then redis.call('EXPIRE', KEYS[4], ARGV[2]) end
return {moved, quarantined}
";

/// Where a queue's rescues are counted: beside its dead letters (one hash tag with the queue on
/// a cluster when the queue is named with one).
pub fn counts_key(queue: &str) -> String {
    format!("{}:rescues", dead_letter_key(queue))
}

/// Moves the jobs of in-flight list `list` back onto `queue` (or to its dead letters); the jobs
/// moved and quarantined.
pub async fn rescue(
    store: &Store,
    list: &str,
    queue: &str,
    max_rescues: u32,
    window_s: u64,
) -> Result<(u64, u64), StoreError> {
    let mut conn = store.conn().await?;
    let (moved, quarantined): (u64, u64) = Script::new(RESCUE)
        .key(list)
        .key(queue)
        .key(dead_letter_key(queue))
        .key(counts_key(queue))
        .arg(max_rescues)
        .arg(window_s)
        .invoke_async(&mut conn)
        .await?;
    Ok((moved, quarantined))
}
