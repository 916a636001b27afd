//! What one alert is: the transition that raised it, its worker's context, and its text. The same
//! JSON is kept in the outbox, recorded in the event log and POSTed to webhooks.

use pulseboard_shared::ack::AckVia;
use serde::{Deserialize, Serialize};

pub use pulseboard_shared::alert_kind::AlertKind;

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
    /// Its kind (`render`), which `[[alerts.routes]]` may match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worker_kind: Option<String>,
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
    /// What a follow-up (`acknowledged`, `still_open`) says, as structure, so the event log
    /// words it in each reader's language.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub follow_up: Option<FollowUp>,
}

/// The alert a follow-up quotes: its kind, worker and count (its context is the follow-up's).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Quoted {
    /// What it said.
    pub kind: AlertKind,
    /// Its worker (none for a host's summary).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worker: Option<String>,
    /// Its count (a host summary's workers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
}

/// A follow-up of an alert that wants a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FollowUp {
    /// The alert it follows up.
    pub quotes: Quoted,
    /// Who acknowledged it, on `acknowledged`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    /// How, on `acknowledged`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<AckVia>,
    /// Whether the acknowledgement also silenced it for an hour.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub silenced: bool,
    /// How long it has been open unacknowledged, on `still_open` (seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_s: Option<u64>,
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
