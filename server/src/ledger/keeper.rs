//! The task that decides whether this process is the sender: it renews (or takes) the
//! [lease](crate::alerts::lease) a few times per lease period, and releases it on shutdown so
//! another process takes over at once instead of after the lease runs out.

use std::sync::Arc;

use tokio::time::{Instant, MissedTickBehavior};

use super::Shared;
use crate::alerts::lease;
use crate::shutdown::Shutdown;

/// Runs until `shutdown`. After Redis returns, a process that was not the sender waits one
/// period, so the sender that saw the outage reports its end.
pub(super) async fn run(shared: Arc<Shared>, shutdown: Shutdown) {
    let period = shared.settings.lease;
    let lease_ms = period.as_millis() as u64;
    let mut tick = tokio::time::interval(period / 3);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut outage = false;
    let mut hold_off_until = None;
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = shutdown.wait() => break,
        }
        if hold_off_until.is_some_and(|t| Instant::now() < t) {
            continue;
        }
        match lease::hold(&shared.store, &shared.me, lease_ms).await {
            Ok(held) if outage && held && !shared.is_sender() => {
                // Just back; give the previous sender its period before competing. (The lease
                // was vacant; hand it back by not renewing it.)
                outage = false;
                let _ = lease::release(&shared.store, &shared.me).await;
                hold_off_until = Some(Instant::now() + period);
            }
            Ok(held) => {
                outage = false;
                hold_off_until = None;
                shared.set_leader(held);
            }
            Err(_) => outage = true, // keep the role: nobody else can take it without Redis
        }
    }
    if shared.is_sender() {
        let _ = lease::release(&shared.store, &shared.me).await;
    }
}
