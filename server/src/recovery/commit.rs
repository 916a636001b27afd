//! Where the guard decides and how it commits: its own [lease](crate::ledger::lease), so only one
//! process of several decides, whether or not that process sends alerts; and one fenced script
//! holding its memory, the overrides it applied, its alerts and its audit records, committed
//! before anything is sent to a worker or an agent. Its alerts are queued for this process's
//! sinks when the alerts are on, and only recorded in the event log when they are off.

use crate::alerts::alert::Transition;
use crate::alerts::engine::raise_unless;
use crate::alerts::history::Record;
use crate::alerts::outbox::{self, Commit};
use crate::alerts::silenced::covering_id;
use crate::alerts::AlertsHandle;
use crate::config::AlertSettings;
use crate::ledger::lease::Lease;
use crate::ledger::store::{Store, StoreError};
use crate::snapshot::Snapshot;

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
    /// The snapshot they were decided on, whose silences hold (record, not send) the alerts
    /// about the workers they cover.
    pub snapshot: &'a Snapshot,
}

/// The guard's seat: its lease, and this process's alerts (whose sinks get its alerts), if on.
#[derive(Clone)]
pub struct Seat {
    /// Who decides.
    pub lease: Lease,
    /// The running alerts, when enabled.
    pub alerts: Option<AlertsHandle>,
}

impl Seat {
    /// Whether this process decides (holds the guard's lease).
    pub fn decides(&self) -> bool {
        self.lease.held()
    }

    /// The guard's Redis.
    pub fn store(&self) -> &Store {
        self.lease.store()
    }

    /// Commits `c` if this process still holds the lease; `Ok(false)` if another one took it
    /// (nothing was stored, and this process stops deciding). `settings` word the alerts.
    pub async fn commit(
        &self,
        settings: &AlertSettings,
        c: GuardCommit<'_>,
    ) -> Result<bool, StoreError> {
        let key = self.store().keys.recovery();
        self.commit_to(key, settings, c).await
    }

    /// [`Seat::commit`] with the memory stored at `key` (the orphan rescue's, which shares the
    /// guard's seat).
    pub async fn commit_to(
        &self,
        key: String,
        settings: &AlertSettings,
        c: GuardCommit<'_>,
    ) -> Result<bool, StoreError> {
        let now = chrono::Utc::now().timestamp_millis();
        let unix_now = (now / 1000).max(0) as u64;
        let alerts: Vec<_> = c
            .transitions
            .iter()
            .map(|t| {
                let silence = covering_id(&c.snapshot.nodes, &c.snapshot.silences, t, unix_now);
                raise_unless(t, &silence, settings, now)
            })
            .collect();
        let sinks = self
            .alerts
            .as_ref()
            .map(AlertsHandle::sink_names)
            .unwrap_or_default();
        let keys = &self.store().keys;
        let stored = outbox::commit(Commit {
            lease: &self.lease,
            state: (key, c.memory),
            trim: (keys.recovery_overrides(), c.overrides_applied),
            alerts: &alerts,
            records: c.records,
            sinks: &sinks,
            history_max: settings.history_max,
        })
        .await?;
        if !stored {
            self.lease.set_held(false);
        } else if let (Some(handle), false) = (&self.alerts, alerts.is_empty()) {
            handle.wake();
        }
        Ok(stored)
    }
}
