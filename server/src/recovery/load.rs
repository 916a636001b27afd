//! What a decision round reads first: the guard's memory and the operators' waiting overrides,
//! in one script (one round trip), each bounded in Redis before it crosses the wire. Anyone who
//! writes Redis can push overrides, so a 50 MB entry, or a hundred of them, must not be read.

use redis::{Script, Value};

use super::stored::Stored;
use crate::ledger::store::{Store, StoreError};
use crate::reader::bounded::{self, Bounded};

/// At most this many overrides are applied per decision.
pub const OVERRIDES_PER_ROUND: usize = 100;

/// The most bytes of one override: a worker's name, a time, a reason of at most 200 characters
/// and who asked come to well under 1 KiB.
pub const MAX_OVERRIDE_BYTES: usize = 4 * 1024;

/// `GETRANGE KEYS[1] 0 ARGV[1]` (the memory, one byte over its bound at most), and the first
/// ARGV[2] entries of list KEYS[2] with every entry over ARGV[3] bytes replaced by `""`.
const LOAD: &str = r"
local memory = redis.call('GETRANGE', KEYS[1], 0, tonumber(ARGV[1]))
local overrides = redis.call('LRANGE', KEYS[2], 0, tonumber(ARGV[2]) - 1)
local max = tonumber(ARGV[3])
for i, entry in ipairs(overrides) do
  if #entry > max then overrides[i] = '' end
end
return {memory, overrides}
";

/// The guard's memory (bounded for a fleet of `workers`: a larger value is garbage, so the guard
/// starts afresh and overwrites it) and the waiting overrides (an oversized one comes back
/// empty, to be dropped as unreadable).
pub async fn load(store: &Store, workers: usize) -> Result<(Stored, Vec<String>), StoreError> {
    let mut conn = store.conn().await?;
    let max = bounded::guard_memory_bound(workers);
    let reply: (Value, Vec<String>) = Script::new(LOAD)
        .key(store.keys.recovery())
        .key(store.keys.recovery_overrides())
        .arg(max)
        .arg(OVERRIDES_PER_ROUND)
        .arg(MAX_OVERRIDE_BYTES)
        .invoke_async(&mut conn)
        .await?;
    let (memory, overrides) = reply;
    let memory = bounded::judge(memory, max);
    if memory == (Bounded::TooLarge { max }) {
        tracing::warn!(
            max,
            "recovery: stored memory is over its bound; starting afresh"
        );
    }
    Ok((Stored::parse(memory.bytes()), overrides))
}
