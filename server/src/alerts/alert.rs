//! What one alert is: the transition that raised it, its worker's context, and its text. The same
//! JSON is kept in the outbox, recorded in the event log and POSTed to webhooks.

use serde::{Deserialize, Serialize};

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
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
}

impl AlertKind {
    /// Every kind, in declaration order.
    pub const ALL: [Self; 26] = [
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
    ];

    /// Whether it is only recorded in the event log and never sent: a clean stop and start are
    /// the operator's own doing, not news.
    pub fn is_quiet(self) -> bool {
        matches!(self, Self::Stopped | Self::Started)
    }
}

/// The worker's figures when the alert was raised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WorkerContext {
    /// Whether it was beating.
    pub alive: bool,
    /// Seconds since its last heartbeat, if it ever beat.
    #[schema(required = true)]
    pub last_beat_age_s: Option<u64>,
    /// Jobs waiting.
    pub queue_depth: u64,
    /// Jobs in flight.
    pub processing: u64,
    /// Jobs in its dead-letter list.
    pub dead_letter: u64,
    /// Where it runs.
    #[schema(required = true)]
    pub host: Option<String>,
    /// Its lifecycle reason (the failing checks, the stalled job, the exit code), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A transition found in the snapshots, before it is given an id and a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    /// What happened.
    pub kind: AlertKind,
    /// To which worker (none for Redis).
    pub worker: Option<String>,
    /// Dead letters now, or downs in the window.
    pub count: Option<u64>,
    /// The worker's figures when it was raised (none for Redis).
    pub context: Option<WorkerContext>,
}

/// An alert as sent and recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Alert {
    /// Unique; the same in the outbox, the event log and every delivery record.
    pub id: String,
    /// When it was raised, UTC ISO 8601.
    pub at: String,
    /// What happened.
    pub kind: AlertKind,
    /// To which worker.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worker: Option<String>,
    /// Dead letters now, or downs in the window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
    /// The worker's figures when it was raised (none for Redis).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<WorkerContext>,
    /// The message, in the configured language.
    pub text: String,
    /// Its section of the runbook, when `[alerts] runbook_url` is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runbook: Option<String>,
    /// The silence that covered it: recorded, not sent (sent when the silence ends if still
    /// true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub silenced: Option<String>,
    /// The incident it is part of: a host's (its first alert, a grouped one, its summary), or
    /// the alert that wants a person it raised, follows up or resolves. Telegram's buttons and
    /// webhooks' `incident_id` name it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incident: Option<String>,
    /// Recorded, not sent: its incident's first alert said it, and its summary counts it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub grouped: bool,
}

impl Alert {
    /// Whether it goes to the sinks: not a quiet kind, not silenced, not grouped.
    pub fn is_sent(&self) -> bool {
        !self.kind.is_quiet() && self.silenced.is_none() && !self.grouped
    }
}

impl Alert {
    /// What a person reads in a chat: the message, then the runbook link on a line of its own.
    pub fn message(&self) -> std::borrow::Cow<'_, str> {
        match &self.runbook {
            Some(link) => format!("{}\n📖 {link}", self.text).into(),
            None => self.text.as_str().into(),
        }
    }
}
