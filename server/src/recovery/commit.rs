//! What the recovery guard ([`crate::recovery`]) borrows from the alerts: the lease, so only one
//! process of several decides; the outbox, so its alerts are delivered like any other; and the
//! event log for its audit trail. Its memory, its alerts and its records are committed in the
//! same fenced script as a transition, before anything is sent to a worker or an agent.

use super::judge::raise;
use super::now_ms;
use crate::alerts::alert::Transition;
use crate::alerts::history::Record;
use crate::alerts::outbox::{self, Commit};
use crate::alerts::sinks::Sink;
use crate::alerts::store::Store;
use crate::alerts::AlertsHandle;

/// What the guard commits in one go.
pub struct GuardCommit<'a> {
    /// Its whole memory, as JSON.
    pub memory: String,
    /// How many overrides (from the head of their list) it applied.
    pub overrides_applied: usize,
    /// Alerts to raise.
    pub transitions: &'a [Transition],
    /// Audit records that raise no alert.
    pub records: &'a [Record],
}

impl AlertsHandle {
    /// Whether this process decides (holds the alerts' lease).
    pub fn decides(&self) -> bool {
        self.shared.is_sender()
    }

    /// The alerts' Redis (the guard's keys live beside theirs).
    pub fn store(&self) -> &Store {
        &self.shared.store
    }

    /// Commits `c` if this process still holds the lease; `Ok(false)` if another one took it
    /// (nothing was stored, and this process stops deciding).
    pub async fn commit_guard(&self, c: GuardCommit<'_>) -> Result<bool, String> {
        let s = &self.shared;
        let now = now_ms();
        let alerts: Vec<_> = c
            .transitions
            .iter()
            .map(|t| raise(t, &s.settings, now))
            .collect();
        let sinks: Vec<&'static str> = s.sinks.iter().map(Sink::name).collect();
        let stored = outbox::commit(
            &s.store,
            Commit {
                me: &s.me,
                lease_ms: s.settings.lease.as_millis() as u64,
                state: (s.store.keys.recovery(), c.memory),
                trim: (s.store.keys.recovery_overrides(), c.overrides_applied),
                alerts: &alerts,
                records: c.records,
                sinks: &sinks,
                history_max: s.settings.history_max,
            },
        )
        .await
        .map_err(|e| e.to_string())?;
        if stored {
            if !alerts.is_empty() {
                for wake in &s.wake {
                    wake.notify_one();
                }
            }
        } else {
            s.set_leader(false);
        }
        Ok(stored)
    }
}
