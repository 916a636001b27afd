//! The admin API: an operator asks a worker to `quiet`, `restart` or `stop`
//! (`POST /api/agent-office/workers/{name}/{action}`). The command goes on the worker's list in
//! Redis (the worker takes it with its next beat, see [`pulseboard_shared::command`]) and into
//! the event log with who asked: the admin token's name.
//!
//! Off unless `PULSEBOARD_ADMIN_TOKENS` names someone: then 403 says how to turn it on. A missing
//! or wrong `Authorization: Bearer` token is 401; a worker pulseboard does not know is 404.
//! Nothing from the request reaches a shell: the path names a worker and an action, no more.

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use chrono::{SecondsFormat, Utc};
use pulseboard_shared::command::{commands_key, Action, Command};
use serde::Serialize;

use crate::alerts::history::{self, ApiError, Record, RecordKind};
use crate::alerts::store::Store;
use crate::config::admin::AdminTokens;
use crate::snapshot::Hub;

/// What the admin routes need.
#[derive(Clone)]
pub struct Admin {
    /// Who may act.
    pub tokens: AdminTokens,
    /// The latest snapshot, to know the worker.
    pub hub: Hub,
    /// Redis, for the command lists and the event log.
    pub store: Store,
    /// The event log's length cap.
    pub history_max: u64,
}

/// The answer to an accepted command.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Accepted {
    /// The command's id (in the event log and the worker's beat).
    pub id: String,
    /// The worker.
    pub worker: String,
    /// What it was asked.
    pub action: String,
    /// Who asked (the token's name).
    pub by: String,
}

/// The admin routes.
pub fn router(admin: Admin) -> Router {
    Router::new()
        .route("/api/agent-office/workers/{name}/{action}", post(act))
        .with_state(admin)
}

/// Ask a worker to quiet, restart or stop (`Authorization: Bearer <admin token>`).
#[utoipa::path(post, path = "/api/agent-office/workers/{name}/{action}", tag = "admin",
    params(("name" = String, Path, description = "The worker"),
           ("action" = String, Path, description = "quiet, restart or stop")),
    responses(
        (status = 202, description = "Queued for the worker's next beat and logged", body = Accepted),
        (status = 401, description = "No or a wrong bearer token", body = ApiError),
        (status = 403, description = "Actions are off (no PULSEBOARD_ADMIN_TOKENS)", body = ApiError),
        (status = 404, description = "No such worker or action", body = ApiError),
        (status = 503, description = "Redis cannot be written", body = ApiError),
    ))]
pub(crate) async fn act(
    State(admin): State<Admin>,
    Path((name, action)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if !admin.tokens.enabled() {
        return error(
            StatusCode::FORBIDDEN,
            "actions are off: set PULSEBOARD_ADMIN_TOKENS (name:token pairs) to enable them",
        );
    }
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let Some(by) = presented.and_then(|t| admin.tokens.name_of(t.trim())) else {
        tracing::warn!(worker = %name, action = %action, "admin request refused: no or a wrong token");
        return error(
            StatusCode::UNAUTHORIZED,
            "a valid Authorization: Bearer token is required",
        );
    };
    let action = match action.as_str() {
        "quiet" => Action::Quiet,
        "restart" => Action::Restart,
        "stop" => Action::Stop,
        _ => {
            return error(
                StatusCode::NOT_FOUND,
                "the action must be quiet, restart or stop",
            )
        }
    };
    let known = admin
        .hub
        .latest()
        .nodes
        .workers
        .iter()
        .any(|w| w.name == name);
    if !known {
        return error(StatusCode::NOT_FOUND, "no worker of that name");
    }
    let at = Utc::now();
    let command = Command {
        id: format!("c-{}", at.timestamp_micros()),
        action,
        by: by.to_owned(),
        at: at.to_rfc3339_opts(SecondsFormat::Millis, true),
    };
    if let Err(e) = push(&admin.store, &name, &command).await {
        tracing::warn!(worker = %name, error = %e, "command not queued");
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            &format!("command not queued: {e}"),
        );
    }
    let record = Record {
        at: command.at.clone(),
        kind: RecordKind::Command,
        alert_id: command.id.clone(),
        alert: None,
        sink: None,
        attempt: None,
        error: None,
        worker: Some(name.clone()),
        command: Some(command.clone()),
    };
    if let Err(e) = history::append(&admin.store, &[record], admin.history_max).await {
        tracing::warn!(worker = %name, error = %e, "command queued but not written to the event log");
    }
    tracing::info!(worker = %name, action = action.as_str(), by, id = %command.id, "command queued");
    (
        StatusCode::ACCEPTED,
        Json(Accepted {
            id: command.id,
            worker: name,
            action: action.as_str().to_owned(),
            by: by.to_owned(),
        }),
    )
        .into_response()
}

async fn push(store: &Store, worker: &str, command: &Command) -> Result<(), String> {
    let mut conn = store.conn().await.map_err(|e| e.to_string())?;
    redis::cmd("RPUSH")
        .arg(commands_key(worker))
        .arg(command.to_json())
        .query_async::<()>(&mut conn)
        .await
        .map_err(|e| e.to_string())
}

fn error(status: StatusCode, message: &str) -> Response {
    (
        status,
        Json(ApiError {
            error: message.to_owned(),
        }),
    )
        .into_response()
}
