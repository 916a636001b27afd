//! `POST .../recovery` (mode, hold) and `POST .../recovery/reset`: changes to a worker's guard.
//! The guard's memory has one writer, the decider: these queue overrides it applies within a
//! refresh. [`plan_change`] and [`plan_reset`] decide (pure); the handlers queue and log.

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::Utc;
use pulseboard_shared::answer::ApiError;
use pulseboard_shared::recovery::{AuditEntry, AuditWhat, Mode, Override};
use serde::{Deserialize, Serialize};

use super::auth::authorize;
use super::{known_worker, queue_override, Admin, Refused};
use crate::alerts::history::Record;
use crate::client_ip::ClientIp;
use crate::ledger::events;

/// The longest hold: ten years (a longer one is surely a mistake, and it keeps `now + hold` far
/// from overflowing).
pub const MAX_HOLD_S: u64 = 10 * 365 * 24 * 3600;

/// A change to a worker's recovery guard.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GuardChange {
    /// `off`, `recommend`, `auto`, or `default` for the configured one.
    #[serde(default)]
    pub mode: Option<String>,
    /// Hold automatic actions for this many seconds from now (at most ten years); 0 lifts a hold.
    #[serde(default)]
    pub hold_for_s: Option<u64>,
    /// Why (kept with the hold and in the event log).
    #[serde(default)]
    pub reason: Option<String>,
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

/// What an accepted guard change does: the overrides for the decider, the event log's entries.
#[derive(Debug)]
pub struct GuardPlan {
    /// For the decider, in order.
    pub overrides: Vec<Override>,
    /// For the event log, one per change.
    pub entries: Vec<AuditEntry>,
}

/// Decides what `by`'s `change` of worker `name`'s guard does, `now_s` seconds after the epoch.
pub fn plan_change(
    change: &GuardChange,
    name: &str,
    by: &str,
    now_s: u64,
) -> Result<GuardPlan, Refused> {
    let reason = change
        .reason
        .as_deref()
        .map(|r| r.chars().take(200).collect::<String>());
    let mut overrides = Vec::new();
    let mut entries = Vec::new();
    if let Some(mode) = &change.mode {
        let parsed = match mode.as_str() {
            "default" => None,
            m => Some(Mode::parse(m).ok_or(Refused::BadMode)?),
        };
        overrides.push(Override::Mode {
            worker: name.to_owned(),
            mode: parsed,
        });
        entries.push(AuditEntry {
            detail: format!("mode {mode}"),
            mode: Some(mode.clone()),
            ..AuditEntry::new(AuditWhat::Mode, by)
        });
    }
    if let Some(secs) = change.hold_for_s {
        if secs > MAX_HOLD_S {
            return Err(Refused::HoldTooLong);
        }
        let until = (secs > 0).then_some(now_s + secs);
        let why = match &reason {
            Some(r) => format!("{by}: {r}"),
            None => by.to_owned(),
        };
        overrides.push(Override::Hold {
            worker: name.to_owned(),
            until,
            reason: Some(why),
        });
        entries.push(match until {
            Some(_) => AuditEntry {
                detail: format!("hold for {secs} s"),
                hold_s: Some(secs),
                ..AuditEntry::new(AuditWhat::Hold, by)
            },
            None => AuditEntry {
                detail: "hold lifted".into(),
                ..AuditEntry::new(AuditWhat::HoldLifted, by)
            },
        });
    }
    if overrides.is_empty() {
        return Err(Refused::NothingToChange);
    }
    if let Some(r) = &reason {
        for entry in &mut entries {
            entry.detail = format!("{}: {r}", entry.detail);
            entry.reason = Some(r.clone());
        }
    }
    Ok(GuardPlan { overrides, entries })
}

/// What `by`'s reset of worker `name`'s guard does.
pub fn plan_reset(name: &str, by: &str) -> GuardPlan {
    GuardPlan {
        overrides: vec![Override::Reset {
            worker: name.to_owned(),
        }],
        entries: vec![AuditEntry {
            detail: "attempts forgotten, circuit closed".into(),
            ..AuditEntry::new(AuditWhat::Reset, by)
        }],
    }
}

/// Set a worker's recovery mode or hold it (`Authorization: Bearer <admin token>`).
#[utoipa::path(post, path = "/api/agent-office/workers/{name}/recovery", tag = "admin",
    params(("name" = String, Path, description = "The worker")),
    request_body = GuardChange,
    responses(
        (status = 202, description = "Applied by the decider within a refresh, and logged", body = GuardAccepted),
        (status = 400, description = "Nothing to change, a bad mode or a hold too long", body = ApiError),
        (status = 401, description = "No or a wrong bearer token", body = ApiError),
        (status = 403, description = "Actions are off (no PULSEBOARD_ADMIN_TOKENS)", body = ApiError),
        (status = 429, description = "Too many wrong tokens from this address; `Retry-After` says when to try again", body = ApiError),
        (status = 404, description = "No such worker", body = ApiError),
        (status = 503, description = "Redis cannot be written", body = ApiError),
    ))]
pub(crate) async fn set_guard(
    State(admin): State<Admin>,
    client: ClientIp,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Result<Json<GuardChange>, JsonRejection>,
) -> Result<Response, Refused> {
    let by = authorize(&admin, client, &headers, &format!("{name}/recovery"))?;
    let Json(change) = body.map_err(|_| Refused::BadBody)?;
    known_worker(&admin.hub.latest().nodes.workers, &name)?;
    let plan = plan_change(&change, &name, &by, Utc::now().timestamp().max(0) as u64)?;
    apply(&admin, &name, &by, plan).await
}

/// Forget a worker's attempts and close its circuit (`Authorization: Bearer <admin token>`).
#[utoipa::path(post, path = "/api/agent-office/workers/{name}/recovery/reset", tag = "admin",
    params(("name" = String, Path, description = "The worker")),
    responses(
        (status = 202, description = "Applied by the decider within a refresh, and logged", body = GuardAccepted),
        (status = 401, description = "No or a wrong bearer token", body = ApiError),
        (status = 403, description = "Actions are off (no PULSEBOARD_ADMIN_TOKENS)", body = ApiError),
        (status = 429, description = "Too many wrong tokens from this address; `Retry-After` says when to try again", body = ApiError),
        (status = 404, description = "No such worker", body = ApiError),
        (status = 503, description = "Redis cannot be written", body = ApiError),
    ))]
pub(crate) async fn reset_guard(
    State(admin): State<Admin>,
    client: ClientIp,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Result<Response, Refused> {
    let by = authorize(&admin, client, &headers, &format!("{name}/recovery/reset"))?;
    known_worker(&admin.hub.latest().nodes.workers, &name)?;
    apply(&admin, &name, &by, plan_reset(&name, &by)).await
}

/// Queues the plan's overrides for the decider and logs its entries.
async fn apply(admin: &Admin, name: &str, by: &str, plan: GuardPlan) -> Result<Response, Refused> {
    for o in &plan.overrides {
        if let Err(e) = queue_override(&admin.store, o).await {
            tracing::warn!(worker = ?name, error = %e, "guard change not queued");
            return Err(Refused::NotQueued(format!("guard change not queued: {e}")));
        }
    }
    let changes: Vec<String> = plan
        .entries
        .iter()
        .map(|e| e.what.as_str().to_owned())
        .collect();
    let records: Vec<Record> = plan
        .entries
        .into_iter()
        .map(|entry| Record::recovery(name, entry))
        .collect();
    if let Err(e) = events::append(&admin.store, &records, admin.history_max).await {
        tracing::warn!(worker = ?name, error = %e, "guard change queued but not written to the event log");
    }
    tracing::info!(worker = ?name, by, ?changes, "guard change queued");
    let accepted = GuardAccepted {
        worker: name.to_owned(),
        changes,
        by: by.to_owned(),
    };
    Ok((StatusCode::ACCEPTED, Json(accepted)).into_response())
}
