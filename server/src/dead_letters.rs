//! A worker's dead letters, opened: `GET /api/agent-office/workers/{name}/dead-letters` lists
//! them (newest first, previews with secrets masked), `POST .../dead-letters/replay` moves some
//! or all back onto the worker's queue and `POST .../dead-letters/delete` removes them.
//!
//! Payloads can hold customer data: listing needs an admin token unless `[dead_letters] public
//! = true`; replay and delete always do (and a read-only server refuses them). Each replay or
//! delete is one Redis script ([`lists`]): a job is in exactly one list at every instant, and an
//! id replayed twice, by this process or another, is moved once and answered as missing after.
//! Every replay and delete lands in the event log with who asked, how many and which ids (never
//! the payloads: the event log is public).
//!
//! On a Redis Cluster a replay needs the queue and its dead letters in one slot: name the queue
//! with a hash tag (`queue = "queue:{render-1}"`, whose dead letters are
//! `dead_letter:queue:{render-1}`); otherwise Redis refuses the script and the answer says so.

pub mod lists;
pub mod shown;

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use pulseboard_shared::answer::ApiError;
use pulseboard_shared::dead_letters::{
    DeadLetterAction, DeadLetterChoice, DeadLetterOutcome, DeadLetterPage, MAX_IDS, MAX_PAGE,
};
use pulseboard_worker::queue::{dead_letter_key, queue_key};
use serde::Deserialize;

use crate::admin::auth::{authorize, identify};
use crate::admin::{Admin, Refused};
use crate::alerts::history::Record;
use crate::client_ip::ClientIp;
use crate::config::dead_letters::DeadLetterSettings;
use crate::ledger::events;

/// What the dead-letter routes need.
#[derive(Clone)]
pub struct DeadLetters {
    /// Who may act, the snapshot, Redis and the event log.
    pub admin: Admin,
    /// Who may list, and what is masked.
    pub settings: DeadLetterSettings,
    /// The configured workers' queues (`None`: the worker has none); a worker found by its
    /// heartbeat alone has `queue:<name>`.
    pub queues: Arc<HashMap<String, Option<String>>>,
}

/// The dead-letter routes.
pub fn router(state: DeadLetters) -> Router {
    Router::new()
        .route("/api/agent-office/workers/{name}/dead-letters", get(list))
        .route(
            "/api/agent-office/workers/{name}/dead-letters/replay",
            post(replay),
        )
        .route(
            "/api/agent-office/workers/{name}/dead-letters/delete",
            post(delete),
        )
        .with_state(state)
}

/// Why a dead-letter request failed.
#[derive(Debug)]
pub enum Failed {
    /// Refused before anything was read or done (token, read-only, unknown worker).
    Refused(Refused),
    /// Listing is private and no admin token is configured to present.
    Private,
    /// The worker has no queue, so no dead letters.
    NoQueue,
    /// The body is not the JSON it should be.
    BadBody(String),
    /// Redis did not answer, or refused (the words say why).
    Redis(String),
}

impl IntoResponse for Failed {
    fn into_response(self) -> Response {
        let (status, words) = match self {
            Self::Refused(refused) => return refused.into_response(),
            Self::Private => (
                StatusCode::FORBIDDEN,
                "dead letters can hold customer data: configure PULSEBOARD_ADMIN_TOKENS and \
                 present one, or set [dead_letters] public = true"
                    .to_owned(),
            ),
            Self::NoQueue => (
                StatusCode::NOT_FOUND,
                "this worker has no queue, so no dead letters".to_owned(),
            ),
            Self::BadBody(why) => (StatusCode::BAD_REQUEST, why),
            Self::Redis(why) => (StatusCode::SERVICE_UNAVAILABLE, why),
        };
        (status, Json(ApiError::new(words))).into_response()
    }
}

impl From<Refused> for Failed {
    fn from(refused: Refused) -> Self {
        Self::Refused(refused)
    }
}

impl DeadLetters {
    /// The worker's queue and dead-letter keys, if pulseboard knows the worker and it has a queue.
    fn keys(&self, name: &str) -> Result<(String, String), Failed> {
        let latest = self.admin.hub.latest();
        if !latest.nodes.workers.iter().any(|w| w.name == name) {
            return Err(Refused::UnknownWorker.into());
        }
        let queue = match self.queues.get(name) {
            Some(configured) => configured.clone().ok_or(Failed::NoQueue)?,
            None => queue_key(name),
        };
        let dead = dead_letter_key(&queue);
        Ok((queue, dead))
    }
}

/// `?limit=50&offset=0`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct Window {
    /// How many, 1 to 100 (default 50).
    pub limit: Option<u64>,
    /// How many of the newest to skip (default 0).
    pub offset: Option<u64>,
}

/// A worker's dead letters, newest first (`Authorization: Bearer <admin token>` unless
/// `[dead_letters] public = true`).
#[utoipa::path(get, path = "/api/agent-office/workers/{name}/dead-letters", tag = "admin",
    params(("name" = String, Path, description = "The worker"), Window),
    responses(
        (status = 200, description = "A page of dead letters, secrets masked", body = DeadLetterPage),
        (status = 401, description = "No or a wrong bearer token", body = ApiError),
        (status = 403, description = "Private, and no admin tokens are configured", body = ApiError),
        (status = 404, description = "No such worker, or it has no queue", body = ApiError),
        (status = 429, description = "Too many wrong tokens from this address", body = ApiError),
        (status = 503, description = "Redis cannot be read", body = ApiError),
    ))]
pub(crate) async fn list(
    State(state): State<DeadLetters>,
    client: ClientIp,
    Path(name): Path<String>,
    Query(window): Query<Window>,
    headers: HeaderMap,
) -> Result<Json<DeadLetterPage>, Failed> {
    if !state.settings.public {
        if !state.admin.tokens.enabled() {
            return Err(Failed::Private);
        }
        identify(
            &state.admin,
            client,
            &headers,
            &format!("{name}/dead-letters"),
        )?;
    }
    let (_, dead) = state.keys(&name)?;
    let limit = window.limit.unwrap_or(50).clamp(1, MAX_PAGE);
    let offset = window.offset.unwrap_or(0);
    let (total, raws) = lists::page(&state.admin.store, &dead, offset, limit)
        .await
        .map_err(|e| Failed::Redis(format!("cannot read {dead}: {e}")))?;
    let items = raws
        .into_iter()
        .zip(offset..)
        .map(|(raw, index)| shown::show(raw, index, &state.settings.redact))
        .collect();
    Ok(Json(DeadLetterPage { total, items }))
}

/// Moves dead letters back onto the worker's queue, to be taken next (`Authorization: Bearer
/// <admin token>`; body `{"ids": [...]}` or `{"all": true}`).
#[utoipa::path(post, path = "/api/agent-office/workers/{name}/dead-letters/replay", tag = "admin",
    params(("name" = String, Path, description = "The worker")),
    request_body = DeadLetterChoice,
    responses(
        (status = 200, description = "Moved (ids not found are listed as missing) and logged", body = DeadLetterOutcome),
        (status = 400, description = "The body is not {\"ids\": [...]} or {\"all\": true}", body = ApiError),
        (status = 401, description = "No or a wrong bearer token", body = ApiError),
        (status = 403, description = "Actions are off, or this server is read-only", body = ApiError),
        (status = 404, description = "No such worker, or it has no queue", body = ApiError),
        (status = 503, description = "Redis cannot be written", body = ApiError),
    ))]
pub(crate) async fn replay(
    state: State<DeadLetters>,
    client: ClientIp,
    name: Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<DeadLetterOutcome>, Failed> {
    take(state, client, name, headers, body, DeadLetterAction::Replay).await
}

/// Removes dead letters for good (`Authorization: Bearer <admin token>`; body `{"ids": [...]}`
/// or `{"all": true}`).
#[utoipa::path(post, path = "/api/agent-office/workers/{name}/dead-letters/delete", tag = "admin",
    params(("name" = String, Path, description = "The worker")),
    request_body = DeadLetterChoice,
    responses(
        (status = 200, description = "Removed (ids not found are listed as missing) and logged", body = DeadLetterOutcome),
        (status = 400, description = "The body is not {\"ids\": [...]} or {\"all\": true}", body = ApiError),
        (status = 401, description = "No or a wrong bearer token", body = ApiError),
        (status = 403, description = "Actions are off, or this server is read-only", body = ApiError),
        (status = 404, description = "No such worker, or it has no queue", body = ApiError),
        (status = 503, description = "Redis cannot be written", body = ApiError),
    ))]
pub(crate) async fn delete(
    state: State<DeadLetters>,
    client: ClientIp,
    name: Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<DeadLetterOutcome>, Failed> {
    take(state, client, name, headers, body, DeadLetterAction::Delete).await
}

async fn take(
    State(state): State<DeadLetters>,
    client: ClientIp,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
    action: DeadLetterAction,
) -> Result<Json<DeadLetterOutcome>, Failed> {
    let by = authorize(
        &state.admin,
        client,
        &headers,
        &format!("{name}/dead-letters"),
    )?;
    let choice = parse_choice(&body)?;
    let (queue, dead) = state.keys(&name)?;
    let ids = (!choice.all).then_some(choice.ids.as_slice());
    let (count, found) = lists::take(&state.admin.store, action, &dead, &queue, ids)
        .await
        .map_err(|e| Failed::Redis(format!("nothing was moved: {e}")))?;
    let missing = choice
        .ids
        .iter()
        .filter(|id| !found.contains(id))
        .cloned()
        .collect();
    let outcome = DeadLetterOutcome {
        action,
        worker: name,
        count,
        ids: found,
        missing,
        by,
    };
    tracing::info!(worker = %outcome.worker.escape_debug(), action = ?action, count, by = %outcome.by, "dead letters taken");
    let record = Record::dead_letters(outcome.clone());
    if let Err(e) = events::append(&state.admin.store, &[record], state.admin.history_max).await {
        tracing::warn!(error = %e, "dead letters taken but not written to the event log");
    }
    Ok(Json(outcome))
}

/// `{"ids": [...]}` (ids as listed: 16 hex digits) or `{"all": true}`, never both or neither.
pub fn parse_choice(body: &[u8]) -> Result<DeadLetterChoice, Failed> {
    const SHAPE: &str = r#"the body must be {"ids": ["<id>", ...]} or {"all": true}"#;
    let choice: DeadLetterChoice =
        serde_json::from_slice(body).map_err(|e| Failed::BadBody(format!("{SHAPE}: {e}")))?;
    if choice.all != choice.ids.is_empty() {
        return Err(Failed::BadBody(SHAPE.to_owned()));
    }
    if choice.ids.len() > MAX_IDS {
        return Err(Failed::BadBody(format!("at most {MAX_IDS} ids at once")));
    }
    if let Some(bad) = choice
        .ids
        .iter()
        .find(|id| id.len() != 16 || !id.bytes().all(|b| b.is_ascii_hexdigit()))
    {
        return Err(Failed::BadBody(format!(
            "{:?} is not an id (16 hex digits, as listed)",
            bad.escape_debug().to_string()
        )));
    }
    Ok(choice)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_choice_is_ids_or_all_never_both_or_neither() {
        let ok = parse_choice(br#"{"ids": ["0123456789abcdef"]}"#).unwrap();
        assert_eq!((ok.ids.len(), ok.all), (1, false));
        assert!(parse_choice(br#"{"all": true}"#).unwrap().all);
        for bad in [
            &br#"{}"#[..],
            br#"{"all": true, "ids": ["0123456789abcdef"]}"#,
            br#"{"ids": ["../../etc"]}"#,
            br#"not json"#,
        ] {
            assert!(matches!(parse_choice(bad), Err(Failed::BadBody(_))));
        }
    }
}
