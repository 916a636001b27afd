//! `POST /api/agent-office/workers/{name}/{action}`: quiet, restart or stop a worker. [`plan`]
//! decides everything from the snapshot (pure); [`act`] sends, remembers and answers.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, SecondsFormat, Utc};
use pulseboard_shared::agent::{AgentAction, Request};
use pulseboard_shared::answer::{ApiError, Conflict};
use pulseboard_shared::command::{Action, Command};
use pulseboard_shared::recovery::{AuditEntry, AuditWhat, LastAction, Override, Route};
use pulseboard_shared::WorkerStatus;
use serde::Serialize;

use super::auth::authorize;
use super::{known_worker, queue_override, Admin, Refused};
use crate::alerts::history::{Record, RecordKind};
use crate::client_ip::ClientIp;
use crate::ledger::events;
use crate::recovery::send;

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

/// What an accepted request will do.
#[derive(Debug, PartialEq)]
pub struct Plan {
    /// The command, with its id, who asked and when.
    pub command: Command,
    /// How it travels: on the worker's own list, or through its host agent.
    pub route: Route,
    /// The host whose agent takes it (for [`Route::Agent`]).
    pub host: Option<String>,
    /// The action's name as the guard and the answer spell it.
    pub action_name: &'static str,
}

/// Decides what `by` asking `action` of worker `name` does, given the `workers` of the latest
/// snapshot, at `now`; `agent_requests`: whether this server holds the agent key (else a
/// restart that needs the host agent is refused).
pub fn plan(
    workers: &[WorkerStatus],
    name: &str,
    action: &str,
    by: &str,
    now: DateTime<Utc>,
    agent_requests: bool,
) -> Result<Plan, Refused> {
    let action = match action {
        "quiet" => Action::Quiet,
        "restart" => Action::Restart,
        "stop" => Action::Stop,
        _ => return Err(Refused::UnknownAction),
    };
    let worker = known_worker(workers, name)?;
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
        return Err(Refused::Conflict(Conflict::InFlight {
            id: last.id.clone(),
            by: last.by.clone(),
        }));
    }
    if route == Route::Agent && worker.host.is_none() {
        return Err(Refused::Conflict(Conflict::NoRoute));
    }
    if route == Route::Agent && !agent_requests {
        return Err(Refused::Conflict(Conflict::NoAgentKey));
    }
    Ok(Plan {
        command: Command {
            id: format!("c-{}", now.timestamp_micros()),
            action,
            by: by.to_owned(),
            at: now.to_rfc3339_opts(SecondsFormat::Millis, true),
        },
        route,
        host: worker.host.clone(),
        action_name,
    })
}

/// Ask a worker to quiet, restart or stop (`Authorization: Bearer <admin token>`).
#[utoipa::path(post, path = "/api/agent-office/workers/{name}/{action}", tag = "admin",
    params(("name" = String, Path, description = "The worker"),
           ("action" = String, Path, description = "quiet, restart or stop")),
    responses(
        (status = 202, description = "Queued for the worker's next beat and logged", body = Accepted),
        (status = 401, description = "No or a wrong bearer token", body = ApiError),
        (status = 403, description = "Actions are off (no PULSEBOARD_ADMIN_TOKENS)", body = ApiError),
        (status = 429, description = "Too many wrong tokens from this address; `Retry-After` says when to try again", body = ApiError),
        (status = 404, description = "No such worker or action", body = ApiError),
        (status = 409, description = "The same action is in flight, or the worker cannot be reached (no host, or no agent key)", body = ApiError),
        (status = 503, description = "Redis cannot be written", body = ApiError),
    ))]
pub(crate) async fn act(
    State(admin): State<Admin>,
    client: ClientIp,
    Path((name, action)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, Refused> {
    let by = authorize(&admin, client, &headers, &format!("{name}/{action}"))?;
    let accepted = perform(&admin, &name, &action, &by).await?;
    Ok((StatusCode::ACCEPTED, Json(accepted)).into_response())
}

/// Asks worker `name` to do `action` for `by` (already authorised): sends the command (or the
/// agent request), tells the guard, records it; what the handler and a Telegram button share.
pub async fn perform(
    admin: &Admin,
    name: &str,
    action: &str,
    by: &str,
) -> Result<Accepted, Refused> {
    let (name, by) = (name.to_owned(), by.to_owned());
    let now = Utc::now();
    let workers = &admin.hub.latest().nodes.workers;
    let plan = plan(workers, &name, action, &by, now, admin.agent_key.is_some())?;
    let Plan {
        command,
        route,
        host,
        action_name,
    } = plan;
    let sent = match (route, host, &admin.agent_key) {
        (Route::Agent, Some(host), Some(keys)) => {
            let request = Request {
                id: command.id.clone(),
                host: host.clone(),
                worker: name.clone(),
                action: AgentAction::ResetAndRestart,
                by: by.clone(),
                at: command.at.clone(),
                sig: String::new(),
            };
            send::request(&admin.store, keys, &host, request).await
        }
        (Route::Agent, _, _) => Err(send::SendError::NoAgentKey),
        _ => send::command(&admin.store, &name, &command).await,
    };
    if let Err(e) = sent {
        tracing::warn!(worker = ?name, error = %e, "command not queued");
        return Err(Refused::NotQueued(format!("command not queued: {e}")));
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
        dead_letters: None,
        rescue: None,
    }];
    if command.action != Action::Quiet {
        let last = LastAction {
            id: command.id.clone(),
            action: action_name.to_owned(),
            route,
            by: by.clone(),
            at: now.timestamp().max(0) as u64,
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
            tracing::warn!(worker = ?name, error = %e, "command sent but the guard was not told");
        }
    }
    if let Err(e) = events::append(&admin.store, &records, admin.history_max).await {
        tracing::warn!(worker = ?name, error = %e, "command queued but not written to the event log");
    }
    tracing::info!(worker = ?name, action = action_name, by, id = %command.id, "command queued");
    Ok(Accepted {
        id: command.id,
        worker: name,
        action: action_name.to_owned(),
        by,
    })
}
