//! The event log: every transition and every delivery attempt, in a capped Redis stream, served
//! newest first at `GET /api/agent-office/events?limit=N&before=ID` for the dashboard's timeline,
//! the newest entries from a cache read once per refresh ([`cache`]).

pub mod cache;

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use redis::Value;
use serde::{Deserialize, Serialize};

use super::alert::Alert;
use crate::config::alerts::Language;
use crate::ledger::events::stream_entries;
use crate::ledger::store::{Store, StoreError};

/// What an entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    /// A transition raised an alert (`alert` holds it).
    Transition,
    /// A sink accepted the alert.
    Delivered,
    /// A sink failed; it will be retried.
    Failed,
    /// A sink failed for good, or for too long: the alert is dropped for that sink.
    GaveUp,
    /// A worker was asked to act (`command` holds what, for whom and by whom).
    Command,
    /// The recovery guard or an operator acted on a worker's guard (`recovery` holds what).
    Recovery,
    /// An operator replayed or deleted dead letters (`dead_letters` holds what, never the
    /// payloads: the event log is public).
    DeadLetters,
    /// Orphaned jobs were put back on their queue, or would be (`rescue` holds what).
    Rescue,
}

/// One entry of the event log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Record {
    /// When, UTC ISO 8601.
    pub at: String,
    /// A transition, or the outcome of one delivery attempt.
    #[serde(rename = "type")]
    pub kind: RecordKind,
    /// Which alert: a transition and its deliveries share it.
    pub alert_id: String,
    /// The alert, on a transition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alert: Option<Alert>,
    /// The sink, on a delivery record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sink: Option<String>,
    /// Which attempt (1 = first), on a delivery record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempt: Option<u32>,
    /// Why it failed, free of secrets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The worker a command was for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worker: Option<String>,
    /// The command, on a command record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub command: Option<pulseboard_shared::command::Command>,
    /// The guard's entry, on a recovery record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub recovery: Option<pulseboard_shared::recovery::AuditEntry>,
    /// What was done to dead letters, on a dead-letters record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub dead_letters: Option<pulseboard_shared::dead_letters::DeadLetterOutcome>,
    /// What was done with an orphaned in-flight list, on a rescue record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub rescue: Option<pulseboard_shared::rescue::Rescued>,
}

impl Record {
    /// A record of `kind` about `worker`, now, its id `<prefix>-<microseconds>`; nothing else set.
    fn about(kind: RecordKind, worker: &str, prefix: &str) -> Self {
        let at = chrono::Utc::now();
        Self {
            at: crate::aggregate::iso(at),
            kind,
            alert_id: format!("{prefix}-{}", at.timestamp_micros()),
            alert: None,
            sink: None,
            attempt: None,
            error: None,
            worker: Some(worker.to_owned()),
            command: None,
            recovery: None,
            dead_letters: None,
            rescue: None,
        }
    }

    /// A recovery record about `worker`, now (its id the entry's own, when it has one).
    pub fn recovery(worker: &str, entry: pulseboard_shared::recovery::AuditEntry) -> Self {
        let record = Self::about(RecordKind::Recovery, worker, "g");
        Self {
            alert_id: entry.id.clone().unwrap_or(record.alert_id),
            recovery: Some(entry),
            ..record
        }
    }

    /// The record of `outcome`, now.
    pub fn dead_letters(outcome: pulseboard_shared::dead_letters::DeadLetterOutcome) -> Self {
        let record = Self::about(RecordKind::DeadLetters, &outcome.worker, "d");
        Self {
            dead_letters: Some(outcome),
            ..record
        }
    }

    /// The record of a rescue, now.
    pub fn rescue(rescued: pulseboard_shared::rescue::Rescued) -> Self {
        let record = Self::about(RecordKind::Rescue, &rescued.worker, "r");
        Self {
            rescue: Some(rescued),
            ..record
        }
    }
}

/// The largest page.
pub const MAX_LIMIT: usize = 500;

/// Up to `limit` entries older than `before` (or the newest), newest first, each with its
/// stream id; and the id to pass as `before` for the next page, if there may be one.
pub async fn page(
    store: &Store,
    limit: usize,
    before: Option<&str>,
) -> Result<(Vec<Entry>, Option<String>), StoreError> {
    let mut conn = store.conn().await?;
    let end = before.map_or_else(|| "+".to_owned(), |id| format!("({id}"));
    let reply: Value = redis::cmd("XREVRANGE")
        .arg(store.keys.events())
        .arg(end)
        .arg("-")
        .arg("COUNT")
        .arg(limit)
        .query_async(&mut conn)
        .await?;
    let mut events = Vec::new();
    let mut last = None;
    for (id, text) in stream_entries(reply, "record") {
        match text.and_then(|text| serde_json::from_str::<Record>(&text).ok()) {
            Some(record) => events.push(Entry {
                id: id.clone(),
                record,
            }),
            None => tracing::debug!(%id, "skipping an event-log entry that is not a record"),
        }
        last = Some(id);
    }
    let next = if events.len() == limit { last } else { None };
    Ok((events, next))
}

/// An entry as served: the record and its id in the stream.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Entry {
    /// The entry's stream id (`1700000000000-0`): pass it as `before` for older ones.
    pub id: String,
    /// What it records.
    #[serde(flatten)]
    pub record: Record,
}

/// A page of the event log.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EventPage {
    /// Newest first.
    pub events: Vec<Entry>,
    /// The `before` of the next page, when there may be one.
    #[schema(required = true)]
    pub next_before: Option<String>,
}

/// Why a request failed: a contract, in `shared` beside the others.
pub use pulseboard_shared::answer::ApiError;

/// `?limit=&before=`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Entries per page, 1 to 500 (default 50).
    limit: Option<usize>,
    /// Only entries older than this id.
    before: Option<String>,
    /// Word the alerts in this language (`en` or `ko`) rather than the configured one: each is
    /// stored as structure (kind, worker, count, context) and worded again for its reader.
    lang: Option<String>,
}

/// The event-log route, with its own state: `store`'s log, its newest entries read at most once
/// per `refresh`.
pub fn router(store: Store, refresh: std::time::Duration) -> Router {
    Router::new()
        .route("/api/agent-office/events", get(events))
        .with_state(Arc::new(cache::Cached::new(store, refresh)))
}

/// The event log, newest first.
#[utoipa::path(get, path = "/api/agent-office/events", tag = "alerts", params(PageQuery), responses(
    (status = 200, description = "A page of the event log", body = EventPage),
    (status = 400, description = "A bad `limit` or `before`", body = ApiError),
    (status = 503, description = "Redis cannot be read", body = ApiError),
))]
pub(crate) async fn events(
    State(log): State<Arc<cache::Cached>>,
    Query(q): Query<PageQuery>,
) -> Response {
    let limit = q.limit.unwrap_or(50);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return bad_request(format!("limit must be 1..={MAX_LIMIT}, got {limit}"));
    }
    if let Some(before) = &q.before {
        if !is_stream_id(before) {
            return bad_request(format!(
                "before must be an event id like 1700000000000-0, got {before:?}"
            ));
        }
    }
    let language = match q.lang.as_deref() {
        None => None,
        Some("en") => Some(Language::English),
        Some("ko") => Some(Language::Korean),
        Some(other) => return bad_request(format!("lang must be en or ko, got {other:?}")),
    };
    match log.page(limit, q.before.as_deref()).await {
        Ok((mut events, next_before)) => Json(EventPage {
            events: {
                if let Some(language) = language {
                    let alerts = events.iter_mut().filter_map(|e| e.record.alert.as_mut());
                    alerts.for_each(|a| super::messages::reword(a, language));
                }
                events
            },
            next_before,
        })
        .into_response(),
        Err(error) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(ApiError::new(format!("event log unavailable: {error}"))),
        )
            .into_response(),
    }
}

fn bad_request(message: String) -> Response {
    (StatusCode::BAD_REQUEST, Json(ApiError::new(message))).into_response()
}

fn is_stream_id(text: &str) -> bool {
    let mut parts = text.split('-');
    let digits = |p: Option<&str>| {
        p.is_some_and(|p| !p.is_empty() && p.len() <= 20 && p.bytes().all(|b| b.is_ascii_digit()))
    };
    digits(parts.next()) && digits(parts.next()) && parts.next().is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_stream_ids_page() {
        assert!(is_stream_id("1700000000000-0"));
        assert!(!is_stream_id("1700000000000"));
        assert!(!is_stream_id("+"));
        assert!(!is_stream_id("1-2-3"));
        assert!(!is_stream_id("a-1"));
    }
}
