//! What an alert says happened: the `kind` of every alert in the event log, the outbox and a
//! webhook's body, and the anchor of its runbook section. Shared, so the configuration can route
//! by it and the page can read it.

use serde::{Deserialize, Serialize};

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum AlertKind {
    /// A worker that was alive stopped beating.
    Down,
    /// A worker that was down beats again.
    Recovered,
    /// A configured worker had no heartbeat by the end of the start-up grace period.
    DeadAtStart,
    /// A worker's dead-letter list grew (`count` is the new length).
    DeadLetters,
    /// pulseboard lost Redis: the workers' state is unknown, not bad.
    RedisLost,
    /// pulseboard reaches Redis again.
    RedisBack,
    /// A worker went down more than the allowed number of times in the window (`count`); its
    /// down/recovered alerts are held until it settles.
    Flapping,
    /// A flapping worker has not gone down for a whole window; its state now is in `context`.
    Settled,
    /// A worker stopped cleanly (its last beat said so): recorded, never sent.
    Stopped,
    /// A worker that had stopped cleanly beats again: recorded, never sent.
    Started,
    /// A worker still said `starting` after the ready timeout.
    FailedToStart,
    /// A worker has been unhealthy by its own word or checks for longer than allowed.
    Unhealthy,
    /// A worker has been busy on one job for longer than its kind's limit.
    Stalled,
    /// A worker's beat is overdue (only when `alerts.alert_late` is on).
    Late,
    /// The recovery guard asked for a restart (`count`: the attempt in the window; `reason`:
    /// how).
    RecoveryActed,
    /// A restart the guard or a person asked for failed or went unanswered (`reason`: why).
    RecoveryFailed,
    /// The guard reached its attempts' limit (`count`): no more automatic actions.
    CircuitOpen,
    /// An operator holds the guard for a worker (`reason`: until when, who, why).
    HoldSet,
    /// A hold ended (lifted by hand or run out).
    HoldLifted,
    /// Orphaned jobs went back on the worker's queue (`count`; `reason`: from which consumers).
    JobsRescued,
    /// Jobs orphaned more than `[rescue] max_rescues` times went to the dead letters instead
    /// (`count`): they kill the worker that takes them.
    JobsQuarantined,
    /// Orphaned jobs wait and `[rescue] mode` is `recommend` (`count`; `reason`: where).
    JobsOrphaned,
    /// The summary of a host's incident: `count` workers went down within the group window
    /// (`context.host`; `context.reason`: which).
    HostDown,
    /// The summary of a host's recoveries within the group window, likewise.
    HostRecovered,
    /// Someone acknowledged an alert that wants a person (`incident`: which; the text says who).
    Acknowledged,
    /// An alert that wants a person is still true and nobody acknowledged it after `[alerts]
    /// renotify_after_s` (`incident`: which).
    StillOpen,
    /// A worker runs another version, program or configuration than expected (`context.reason`:
    /// which, expected and actual).
    Drift,
    /// A drifted worker runs what is expected again.
    DriftCleared,
}

impl AlertKind {
    /// Every kind, in declaration order.
    pub const ALL: [Self; 28] = [
        Self::Down,
        Self::Recovered,
        Self::DeadAtStart,
        Self::DeadLetters,
        Self::RedisLost,
        Self::RedisBack,
        Self::Flapping,
        Self::Settled,
        Self::Stopped,
        Self::Started,
        Self::FailedToStart,
        Self::Unhealthy,
        Self::Stalled,
        Self::Late,
        Self::RecoveryActed,
        Self::RecoveryFailed,
        Self::CircuitOpen,
        Self::HoldSet,
        Self::HoldLifted,
        Self::JobsRescued,
        Self::JobsQuarantined,
        Self::JobsOrphaned,
        Self::HostDown,
        Self::HostRecovered,
        Self::Acknowledged,
        Self::StillOpen,
        Self::Drift,
        Self::DriftCleared,
    ];

    /// Whether it wants a person: it carries buttons, is sent again until acknowledged, and the
    /// page offers to acknowledge it.
    pub fn wants_a_person(self) -> bool {
        matches!(
            self,
            Self::Down
                | Self::DeadAtStart
                | Self::FailedToStart
                | Self::Unhealthy
                | Self::Stalled
                | Self::HostDown
                | Self::CircuitOpen
                | Self::StillOpen
        )
    }

    /// [`Self::wants_a_person`] of the kind `name` spells as JSON does: the page reads kinds as
    /// text, so a kind from a newer server is no error, only no button.
    pub fn name_wants_a_person(name: &str) -> bool {
        matches!(
            name,
            "down"
                | "dead_at_start"
                | "failed_to_start"
                | "unhealthy"
                | "stalled"
                | "host_down"
                | "circuit_open"
                | "still_open"
        )
    }

    /// Whether it is only recorded in the event log and never sent: a clean stop and start are
    /// the operator's own doing, not news.
    pub fn is_quiet(self) -> bool {
        matches!(self, Self::Stopped | Self::Started)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_and_the_server_agree_on_who_wants_a_person() {
        for kind in AlertKind::ALL {
            let name = serde_json::to_value(kind).unwrap();
            let name = name.as_str().unwrap();
            assert_eq!(
                AlertKind::name_wants_a_person(name),
                kind.wants_a_person(),
                "{name}"
            );
        }
    }
}
