//! The task that decides whether this process holds a [`Lease`]: it renews (or takes) it a few
//! times per lease period, and releases it on shutdown so another process takes over at once
//! instead of after the lease runs out.

use tokio::time::{Instant, MissedTickBehavior};

use super::lease::Lease;
use crate::shutdown::Shutdown;

/// Keeps `lease` until `shutdown`. After Redis returns, a process that did not hold it waits one
/// period, so the holder that saw the outage (it may report its end) keeps its role.
pub async fn run(lease: Lease, shutdown: Shutdown) {
    let period = lease.period();
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
        match lease.hold().await {
            Ok(held) if outage && held && !lease.held() => {
                // Just back; give the previous holder its period before competing. (The lease
                // was vacant; hand it back by not renewing it.)
                outage = false;
                let _ = lease.release().await;
                hold_off_until = Some(Instant::now() + period);
            }
            Ok(held) => {
                outage = false;
                hold_off_until = None;
                lease.set_held(held);
            }
            Err(_) => outage = true, // keep the role: nobody else can take it without Redis
        }
    }
    if lease.held() {
        let _ = lease.release().await;
    }
}
