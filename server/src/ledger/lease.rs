//! One holder of a role among several pulseboard processes on the same Redis: a key holding the
//! holder's id with an expiry, renewed well before it runs out (by [`super::keeper`]). Whoever
//! holds it acts; the others wait, and take over when it lapses (the holder died or lost Redis).
//!
//! Every write of the holder is fenced by the same check in its script (see [`super::commit`]),
//! so a process that lost the lease without knowing it cannot act or record anything twice.

use std::sync::Arc;
use std::time::Duration;

use redis::Script;
use tokio::sync::watch;

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

/// A lease on one key: this process's id in it, and whether it holds it now. Cloning shares it.
#[derive(Clone)]
pub struct Lease {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    key: String,
    me: String,
    period: Duration,
    /// What holding it means, for the log (`"alerts: this process is the sender"`).
    held_means: &'static str,
    released_means: &'static str,
    held: watch::Sender<bool>,
}

impl Lease {
    /// A lease on `key` of `store` lasting `period`, not held yet. `held_means` and
    /// `released_means` are logged when this process takes it and when it lets it go.
    pub fn new(
        store: Store,
        key: String,
        period: Duration,
        held_means: &'static str,
        released_means: &'static str,
    ) -> Self {
        let me = format!(
            "{}-{}-{:08x}",
            std::env::var("HOSTNAME").unwrap_or_else(|_| "host".into()),
            std::process::id(),
            rand::random::<u32>()
        );
        Self {
            inner: Arc::new(Inner {
                store,
                key,
                me,
                period,
                held_means,
                released_means,
                held: watch::Sender::new(false),
            }),
        }
    }

    /// The Redis it lives in.
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// Its key.
    pub fn key(&self) -> &str {
        &self.inner.key
    }

    /// This process's id in it.
    pub fn me(&self) -> &str {
        &self.inner.me
    }

    /// How long it lasts without renewal.
    pub fn period(&self) -> Duration {
        self.inner.period
    }

    /// [`Self::period`] in milliseconds, as the scripts take it.
    pub fn period_ms(&self) -> u64 {
        self.inner.period.as_millis() as u64
    }

    /// Whether this process holds it now.
    pub fn held(&self) -> bool {
        *self.inner.held.borrow()
    }

    /// Follows [`Self::held`].
    pub fn subscribe(&self) -> watch::Receiver<bool> {
        self.inner.held.subscribe()
    }

    /// Records whether this process holds it, logging only the changes. A fenced write that
    /// found another holder calls it with `false`.
    pub fn set_held(&self, held: bool) {
        let was = self.inner.held.send_replace(held);
        if was != held {
            let means = if held {
                self.inner.held_means
            } else {
                self.inner.released_means
            };
            tracing::info!(id = %self.inner.me, "{means}");
        }
    }

    /// Renews or takes it; true when this process holds it now.
    pub async fn hold(&self) -> Result<bool, StoreError> {
        let mut conn = self.store().conn().await?;
        let held: i64 = Script::new(HOLD)
            .key(self.key())
            .arg(self.me())
            .arg(self.period_ms())
            .invoke_async(&mut conn)
            .await?;
        Ok(held == 1)
    }

    /// Gives it up if this process holds it.
    pub async fn release(&self) -> Result<(), StoreError> {
        let mut conn = self.store().conn().await?;
        let _: i64 = Script::new(RELEASE)
            .key(self.key())
            .arg(self.me())
            .invoke_async(&mut conn)
            .await?;
        Ok(())
    }
}

/// Waits until `held` (a [`Lease::subscribe`]) says this process holds the lease; false when
/// `shutdown` comes first. For the tasks that work only while their process leads.
pub async fn until_held(
    held: &mut watch::Receiver<bool>,
    shutdown: &crate::shutdown::Shutdown,
) -> bool {
    while !*held.borrow_and_update() {
        tokio::select! {
            _ = held.changed() => {}
            _ = shutdown.wait() => return false,
        }
    }
    true
}
