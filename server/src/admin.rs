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
//! Off unless `PULSEBOARD_ADMIN_TOKENS` names someone: then 403 says how to turn it on. A
//! read-only server (`--read-only`) refuses every action with 403, whoever asks. A missing or
//! wrong `Authorization: Bearer` token is 401 (and after ten from one address in a minute, 429 for
//! that address); a worker pulseboard does not know is 404.
//! Nothing from the request reaches a shell: the path names a worker and an action, no more.
//!
//! Layout: [`auth`] (who asks, [`throttle`] wrong tokens per address), [`act`] (commands: a
//! pure [`plan`], then send and log), [`guard`] (guard changes: [`plan_change`], [`plan_reset`], then queue and log), [`refused`]
//! (every refusal with its status and words).

mod act;
pub(crate) mod auth;
mod guard;
mod refused;
pub(crate) mod throttle;

#[cfg(test)]
mod tests;

use axum::routing::post;
use axum::Router;
use pulseboard_shared::agent::key::AgentKeys;
use pulseboard_shared::recovery::Override;
use pulseboard_shared::WorkerStatus;

use crate::config::admin::AdminTokens;
use crate::ledger::store::{Store, StoreError};
use crate::snapshot::Hub;

pub(crate) use act::{__path_act, act};
pub use act::{plan, Accepted, Plan};
pub(crate) use guard::{__path_reset_guard, __path_set_guard, reset_guard, set_guard};
pub use guard::{plan_change, plan_reset, GuardAccepted, GuardChange, GuardPlan, MAX_HOLD_S};
pub use refused::Refused;

/// What the admin routes need.
#[derive(Clone)]
pub struct Admin {
    /// Who may act.
    pub tokens: AdminTokens,
    /// A read-only server (`--read-only`): every action is refused, whoever asks.
    pub read_only: bool,
    /// The latest snapshot, to know the worker.
    pub hub: Hub,
    /// Redis, for the command lists and the event log.
    pub store: Store,
    /// The event log's length cap.
    pub history_max: u64,
    /// Wrong tokens by address.
    pub throttle: std::sync::Arc<throttle::Throttle>,
    /// The key requests to host agents are signed with; without one, a restart that needs an
    /// agent is refused (409 `no_agent_key`).
    pub agent_key: Option<AgentKeys>,
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

/// The worker `name` among the latest snapshot's `workers`.
fn known_worker<'a>(workers: &'a [WorkerStatus], name: &str) -> Result<&'a WorkerStatus, Refused> {
    workers
        .iter()
        .find(|w| w.name == name)
        .ok_or(Refused::UnknownWorker)
}

/// Puts an override on the decider's queue.
async fn queue_override(store: &Store, o: &Override) -> Result<(), StoreError> {
    let mut conn = store.conn().await?;
    redis::cmd("RPUSH")
        .arg(store.keys.recovery_overrides())
        .arg(serde_json::to_string(o).expect("an override serialises"))
        .query_async::<()>(&mut conn)
        .await?;
    Ok(())
}

/// A Telegram alert's Restart button restarts through the same path as
/// `POST .../workers/{name}/restart` (planned, sent, audited, refused alike).
impl crate::alerts::engine::Restarter for Admin {
    fn restart<'a>(
        &'a self,
        worker: &'a str,
        by: &'a str,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = crate::alerts::engine::Restarted> + Send + 'a>,
    > {
        use crate::alerts::engine::Restarted;
        Box::pin(async move {
            match act::perform(self, worker, "restart", by).await {
                Ok(accepted) => Restarted::Queued(accepted.id),
                Err(refused) => Restarted::Refused(refused.to_string()),
            }
        })
    }
}
