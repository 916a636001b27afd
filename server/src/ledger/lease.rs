//! One sender among several pulseboard processes on the same Redis: a key holding the sender's
//! id with an expiry, renewed well before it runs out. Whoever holds it judges transitions and
//! delivers; the others wait, and take over when it lapses (the holder died or lost Redis).
//!
//! Every write of the alerts (state, outbox) is fenced by the same check in its script, so a
//! process that lost the lease without knowing it cannot send or record anything twice.

use redis::Script;

use super::store::{Store, StoreError};

/// Keeps (renews) the lease if this process holds it, takes it if nobody does.
const HOLD: &str = r"
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if not holder then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
";

/// Lets the lease go, if held, so another process takes over at once (on shutdown).
const RELEASE: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
";

/// Renews or takes the lease for `me`; true when this process holds it now.
pub async fn hold(store: &Store, me: &str, lease_ms: u64) -> Result<bool, StoreError> {
    let mut conn = store.conn().await?;
    let held: i64 = Script::new(HOLD)
        .key(store.keys.lease())
        .arg(me)
        .arg(lease_ms)
        .invoke_async(&mut conn)
        .await?;
    Ok(held == 1)
}

/// Gives the lease up if `me` holds it.
pub async fn release(store: &Store, me: &str) -> Result<(), StoreError> {
    let mut conn = store.conn().await?;
    let _: i64 = Script::new(RELEASE)
        .key(store.keys.lease())
        .arg(me)
        .invoke_async(&mut conn)
        .await?;
    Ok(())
}
