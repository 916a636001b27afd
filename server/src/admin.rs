//! The admin API: an operator asks a worker to `quiet`, `restart` or `stop`
//! (`POST /api/agent-office/workers/{name}/{action}`), or sets its recovery guard
//! (`POST .../recovery`: mode, hold; `POST .../recovery/reset`). A command goes on the worker's
//! list in Redis (the worker takes it with its next beat, see [`pulseboard_shared::command`]); a
//! restart for a worker that no longer beats goes to its host agent instead. Everything lands in
//! the event log with who asked: the admin token's name. The guard's memory has one writer, the
//! decider ([`crate::recovery::engine`]): these routes queue an override it applies within a
//! refresh. A manual action skips the backoff but is refused (409) while the same one is in
//! flight.
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
use pulseboard_shared::agent::{AgentAction, Request};
use pulseboard_shared::command::{Action, Command};
use pulseboard_shared::recovery::{AuditEntry, AuditWhat, LastAction, Mode, Override, Route};
use pulseboard_shared::WorkerStatus;
use serde::{Deserialize, Serialize};

use crate::alerts::history::{ApiError, Record, RecordKind};
use crate::config::admin::AdminTokens;
use crate::ledger::events;
use crate::ledger::store::Store;
use crate::recovery::send;
use crate::snapshot::Hub;
use pulseboard_shared::answer::Conflict;

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
        .route("/api/agent-office/workers/{name}/recovery", post(set_guard))
        .route(
            "/api/agent-office/workers/{name}/recovery/reset",
            post(reset_guard),
        )
        .with_state(admin)
}

/// The token's name, or the answer refusing the request.
fn authorize(admin: &Admin, headers: &HeaderMap, what: &str) -> Result<String, Refused> {
    if !admin.tokens.enabled() {
        return Err(Refused(
            StatusCode::FORBIDDEN,
            "actions are off: set PULSEBOARD_ADMIN_TOKENS (name:token pairs) to enable them",
        ));
    }
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match presented.and_then(|t| admin.tokens.name_of(t.trim())) {
        Some(by) => Ok(by.to_owned()),
        None => {
            tracing::warn!(request = %what, "admin request refused: no or a wrong token");
            Err(Refused(
                StatusCode::UNAUTHORIZED,
                "a valid Authorization: Bearer token is required",
            ))
        }
    }
}

/// The worker `name` as the latest snapshot has it.
fn known_worker(admin: &Admin, name: &str) -> Result<WorkerStatus, Refused> {
    admin
        .hub
        .latest()
        .nodes
        .workers
        .iter()
        .find(|w| w.name == name)
        .cloned()
        .ok_or(Refused(StatusCode::NOT_FOUND, "no worker of that name"))
}

/// A request refused before anything was done.
struct Refused(StatusCode, &'static str);

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        error(self.0, self.1)
    }
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
    let by = match authorize(&admin, &headers, &format!("{name}/{action}")) {
        Ok(by) => by,
        Err(refused) => return refused.into_response(),
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
    let worker = match known_worker(&admin, &name) {
        Ok(w) => w,
        Err(missing) => return missing.into_response(),
    };
    // A worker that no longer beats cannot read its list: its supervisor restarts it, through
    // the host agent.
    let route = if action == Action::Restart && !worker.alive {
        Route::Agent
    } else {
        Route::Heartbeat
    };
    let action_name = match route {
        Route::Agent => AgentAction::ResetAndRestart.as_str(),
        Route::Heartbeat => action.as_str(),
    };
    let in_flight = worker
        .recovery
        .as_ref()
        .and_then(|r| r.last_action.as_ref())
        .filter(|l| l.result.is_none() && l.action == action_name);
    if let Some(last) = in_flight {
        let conflict = Conflict::InFlight {
            id: last.id.clone(),
            by: last.by.clone(),
        };
        return (StatusCode::CONFLICT, Json(ApiError::from(conflict))).into_response();
    }
    let at = Utc::now();
    let command = Command {
        id: format!("c-{}", at.timestamp_micros()),
        action,
        by: by.clone(),
        at: at.to_rfc3339_opts(SecondsFormat::Millis, true),
    };
    let sent = match (route, worker.host.as_deref()) {
        (Route::Heartbeat, _) => send::command(&admin.store, &name, &command).await,
        (Route::Agent, Some(host)) => {
            let request = Request {
                id: command.id.clone(),
                worker: name.clone(),
                action: AgentAction::ResetAndRestart,
                by: by.clone(),
                at: command.at.clone(),
            };
            send::request(&admin.store, host, &request).await
        }
        (Route::Agent, None) => {
            return (
                StatusCode::CONFLICT,
                Json(ApiError::from(Conflict::NoRoute)),
            )
                .into_response()
        }
    };
    if let Err(e) = sent {
        tracing::warn!(worker = %name, error = %e, "command not queued");
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            &format!("command not queued: {e}"),
        );
    }
    let mut records = vec![Record {
        at: command.at.clone(),
        kind: RecordKind::Command,
        alert_id: command.id.clone(),
        alert: None,
        sink: None,
        attempt: None,
        error: None,
        worker: Some(name.clone()),
        command: Some(command.clone()),
        recovery: None,
    }];
    if action != Action::Quiet {
        let last = LastAction {
            id: command.id.clone(),
            action: action_name.to_owned(),
            route,
            by: by.clone(),
            at: at.timestamp().max(0) as u64,
            result: None,
            outcome: None,
            ok: None,
        };
        records.push(Record::recovery(
            &name,
            AuditEntry {
                detail: "by hand".into(),
                ..AuditEntry::about(AuditWhat::Acted, &last)
            },
        ));
        let acted = Override::Acted {
            worker: name.clone(),
            last,
        };
        if let Err(e) = queue_override(&admin.store, &acted).await {
            tracing::warn!(worker = %name, error = %e, "command sent but the guard was not told");
        }
    }
    if let Err(e) = events::append(&admin.store, &records, admin.history_max).await {
        tracing::warn!(worker = %name, error = %e, "command queued but not written to the event log");
    }
    tracing::info!(worker = %name, action = action_name, by, id = %command.id, "command queued");
    (
        StatusCode::ACCEPTED,
        Json(Accepted {
            id: command.id,
            worker: name,
            action: action_name.to_owned(),
            by,
        }),
    )
        .into_response()
}

/// A change to a worker's recovery guard.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GuardChange {
    /// `off`, `recommend`, `auto`, or `default` for the configured one.
    #[serde(default)]
    pub mode: Option<String>,
    /// Hold automatic actions for this many seconds from now; 0 lifts a hold.
    #[serde(default)]
    pub hold_for_s: Option<u64>,
    /// Why (kept with the hold and in the event log).
    #[serde(default)]
    pub reason: Option<String>,
}

/// Set a worker's recovery mode or hold it (`Authorization: Bearer <admin token>`).
#[utoipa::path(post, path = "/api/agent-office/workers/{name}/recovery", tag = "admin",
    params(("name" = String, Path, description = "The worker")),
    request_body = GuardChange,
    responses(
        (status = 202, description = "Applied by the decider within a refresh, and logged", body = GuardAccepted),
        (status = 400, description = "Nothing to change, or a bad mode", body = ApiError),
        (status = 401, description = "No or a wrong bearer token", body = ApiError),
        (status = 403, description = "Actions are off (no PULSEBOARD_ADMIN_TOKENS)", body = ApiError),
        (status = 404, description = "No such worker", body = ApiError),
        (status = 503, description = "Redis cannot be written", body = ApiError),
    ))]
pub(crate) async fn set_guard(
    State(admin): State<Admin>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Result<Json<GuardChange>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let by = match authorize(&admin, &headers, &format!("{name}/recovery")) {
        Ok(by) => by,
        Err(refused) => return refused.into_response(),
    };
    let Ok(Json(change)) = body else {
        return error(
            StatusCode::BAD_REQUEST,
            "the body must be JSON: {\"mode\": \"off|recommend|auto|default\", \"hold_for_s\": N, \"reason\": \"...\"}",
        );
    };
    if let Err(missing) = known_worker(&admin, &name) {
        return missing.into_response();
    }
    let reason = change
        .reason
        .as_deref()
        .map(|r| r.chars().take(200).collect::<String>());
    let mut overrides = Vec::new();
    let mut entries = Vec::new();
    if let Some(mode) = &change.mode {
        let parsed = match mode.as_str() {
            "default" => None,
            m => match Mode::parse(m) {
                Some(m) => Some(m),
                None => {
                    return error(
                        StatusCode::BAD_REQUEST,
                        "mode must be off, recommend, auto or default",
                    )
                }
            },
        };
        overrides.push(Override::Mode {
            worker: name.clone(),
            mode: parsed,
        });
        entries.push(AuditEntry {
            detail: format!("mode {mode}"),
            mode: Some(mode.clone()),
            ..AuditEntry::new(AuditWhat::Mode, &by)
        });
    }
    if let Some(secs) = change.hold_for_s {
        let until = (secs > 0).then(|| Utc::now().timestamp().max(0) as u64 + secs);
        let why = match &reason {
            Some(r) => format!("{by}: {r}"),
            None => by.clone(),
        };
        overrides.push(Override::Hold {
            worker: name.clone(),
            until,
            reason: Some(why),
        });
        entries.push(match until {
            Some(_) => AuditEntry {
                detail: format!("hold for {secs} s"),
                hold_s: Some(secs),
                ..AuditEntry::new(AuditWhat::Hold, &by)
            },
            None => AuditEntry {
                detail: "hold lifted".into(),
                ..AuditEntry::new(AuditWhat::HoldLifted, &by)
            },
        });
    }
    if overrides.is_empty() {
        return error(
            StatusCode::BAD_REQUEST,
            "nothing to change: give mode or hold_for_s",
        );
    }
    guard_overrides(&admin, &name, &by, overrides, entries, reason).await
}

/// Forget a worker's attempts and close its circuit (`Authorization: Bearer <admin token>`).
#[utoipa::path(post, path = "/api/agent-office/workers/{name}/recovery/reset", tag = "admin",
    params(("name" = String, Path, description = "The worker")),
    responses(
        (status = 202, description = "Applied by the decider within a refresh, and logged", body = GuardAccepted),
        (status = 401, description = "No or a wrong bearer token", body = ApiError),
        (status = 403, description = "Actions are off (no PULSEBOARD_ADMIN_TOKENS)", body = ApiError),
        (status = 404, description = "No such worker", body = ApiError),
        (status = 503, description = "Redis cannot be written", body = ApiError),
    ))]
pub(crate) async fn reset_guard(
    State(admin): State<Admin>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Response {
    let by = match authorize(&admin, &headers, &format!("{name}/recovery/reset")) {
        Ok(by) => by,
        Err(refused) => return refused.into_response(),
    };
    if let Err(missing) = known_worker(&admin, &name) {
        return missing.into_response();
    }
    let reset = Override::Reset {
        worker: name.clone(),
    };
    let entries = vec![AuditEntry {
        detail: "attempts forgotten, circuit closed".into(),
        ..AuditEntry::new(AuditWhat::Reset, &by)
    }];
    guard_overrides(&admin, &name, &by, vec![reset], entries, None).await
}

/// The answer to an accepted change of the guard.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct GuardAccepted {
    /// The worker.
    pub worker: String,
    /// What changes (`mode`, `hold`, `hold_lifted`, `reset`).
    pub changes: Vec<String>,
    /// Who asked (the token's name).
    pub by: String,
}

async fn guard_overrides(
    admin: &Admin,
    name: &str,
    by: &str,
    overrides: Vec<Override>,
    entries: Vec<AuditEntry>,
    reason: Option<String>,
) -> Response {
    for o in &overrides {
        if let Err(e) = queue_override(&admin.store, o).await {
            tracing::warn!(worker = %name, error = %e, "guard change not queued");
            return error(
                StatusCode::SERVICE_UNAVAILABLE,
                &format!("guard change not queued: {e}"),
            );
        }
    }
    let changes: Vec<String> = entries.iter().map(|e| e.what.as_str().to_owned()).collect();
    let records: Vec<Record> = entries
        .into_iter()
        .map(|mut entry| {
            if let Some(r) = &reason {
                entry.detail = format!("{}: {r}", entry.detail);
                entry.reason = Some(r.clone());
            }
            Record::recovery(name, entry)
        })
        .collect();
    if let Err(e) = events::append(&admin.store, &records, admin.history_max).await {
        tracing::warn!(worker = %name, error = %e, "guard change queued but not written to the event log");
    }
    tracing::info!(worker = %name, by, ?changes, "guard change queued");
    (
        StatusCode::ACCEPTED,
        Json(GuardAccepted {
            worker: name.to_owned(),
            changes,
            by: by.to_owned(),
        }),
    )
        .into_response()
}

async fn queue_override(store: &Store, o: &Override) -> Result<(), String> {
    let mut conn = store.conn().await.map_err(|e| e.to_string())?;
    redis::cmd("RPUSH")
        .arg(store.keys.recovery_overrides())
        .arg(serde_json::to_string(o).expect("an override serialises"))
        .query_async::<()>(&mut conn)
        .await
        .map_err(|e| e.to_string())
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(ApiError::new(message))).into_response()
}
