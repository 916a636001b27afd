//! The one word that says how a worker is (contract 2's `summary.conditions`, the page's order
//! and filters, the runbook section a worker's panel links).

use serde::{Deserialize, Serialize};

/// The one word that says how a worker is, most urgent first (the order problems are listed in).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Condition {
    /// Gone without a word (key expired, crashed).
    Down,
    /// Never became ready.
    Failed,
    /// Busy on one job for too long.
    Stalled,
    /// Its own checks fail.
    Unhealthy,
    /// Jobs pile up in its dead letters.
    Degraded,
    /// It runs another version, program or configuration than expected.
    Drift,
    /// Its beat is overdue.
    Late,
    /// Loading; not ready yet.
    Starting,
    /// Finishing its jobs before a stop.
    Draining,
    /// Held back by the pause flag (or says it is paused).
    Paused,
    /// Stopped cleanly.
    Stopped,
    /// Working on jobs.
    Busy,
    /// Fine and idle.
    Healthy,
}

impl Condition {
    /// Every condition, most urgent first.
    pub const ALL: [Self; 13] = [
        Self::Down,
        Self::Failed,
        Self::Stalled,
        Self::Unhealthy,
        Self::Degraded,
        Self::Drift,
        Self::Late,
        Self::Starting,
        Self::Draining,
        Self::Paused,
        Self::Stopped,
        Self::Busy,
        Self::Healthy,
    ];

    /// Whether an operator should look: down, failed, stalled, unhealthy, degraded, drift or
    /// late.
    pub fn is_problem(self) -> bool {
        self <= Self::Late
    }

    /// The runbook section for a worker in this condition (`docs/runbook.md`, anchored by
    /// the alert it raises), for the problems only.
    pub fn runbook_anchor(self) -> Option<&'static str> {
        Some(match self {
            Self::Down => "down",
            Self::Failed => "failed_to_start",
            Self::Stalled => "stalled",
            Self::Unhealthy => "unhealthy",
            Self::Degraded => "dead_letters",
            Self::Drift => "drift",
            Self::Late => "late",
            _ => return None,
        })
    }

    /// A stable spelling (JSON, the DOM, the stream's filter).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Down => "down",
            Self::Failed => "failed",
            Self::Stalled => "stalled",
            Self::Unhealthy => "unhealthy",
            Self::Degraded => "degraded",
            Self::Drift => "drift",
            Self::Late => "late",
            Self::Starting => "starting",
            Self::Draining => "draining",
            Self::Paused => "paused",
            Self::Stopped => "stopped",
            Self::Busy => "busy",
            Self::Healthy => "healthy",
        }
    }

    /// The condition spelled `text`, if any.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == text)
    }
}
