//! How an action travels, and how its answer comes back.
//!
//! - A worker that still beats gets a [`Command`] on its own list (it takes it with its next
//!   beat; see [`pulseboard_shared::command`]).
//! - A worker that is gone needs its supervisor: its host agent gets a [`Request`] on the host's
//!   stream and answers on the results stream (see [`pulseboard_shared::agent`]).
//!
//! Nothing here runs anything: a message names a worker and an action, never a program.

use pulseboard_shared::agent::{requests_key, AgentAction, AgentResult, Request, RESULTS_KEY};
use pulseboard_shared::command::{commands_key, Action, Command};
use pulseboard_shared::recovery::Route;

use crate::ledger::events::stream_entries;
use crate::ledger::store::{Store, StoreError};

/// Why an action or its answer did not travel.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// Redis refused or could not be reached.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// An action through the host agent for a worker that names no host.
    #[error("the worker has no host")]
    NoHost,
}

impl From<redis::RedisError> for SendError {
    fn from(e: redis::RedisError) -> Self {
        Self::Store(StoreError::Redis(e))
    }
}

/// How long an untaken command waits on a worker's list (a worker gone for a day has a new
/// life when it returns; it should not find old orders).
const COMMANDS_TTL_S: u64 = 24 * 3600;

/// How many requests a host's stream keeps (answered ones are history only).
const REQUESTS_MAX: usize = 1000;

/// Puts `command` on `worker`'s list.
pub async fn command(store: &Store, worker: &str, command: &Command) -> Result<(), SendError> {
    let mut conn = store.conn().await?;
    let key = commands_key(worker);
    redis::pipe()
        .atomic()
        .cmd("RPUSH")
        .arg(&key)
        .arg(command.to_json())
        .ignore()
        .cmd("EXPIRE")
        .arg(&key)
        .arg(COMMANDS_TTL_S)
        .ignore()
        .query_async::<()>(&mut conn)
        .await?;
    Ok(())
}

/// Puts `request` on `host`'s agent stream.
pub async fn request(store: &Store, host: &str, request: &Request) -> Result<(), SendError> {
    let mut conn = store.conn().await?;
    redis::cmd("XADD")
        .arg(requests_key(host))
        .arg("MAXLEN")
        .arg("~")
        .arg(REQUESTS_MAX)
        .arg("*")
        .arg("request")
        .arg(request.to_json())
        .query_async::<String>(&mut conn)
        .await?;
    Ok(())
}

/// The agents' results after `cursor` (an entry id; empty: from the start), at most 100, and
/// the cursor after them. Unreadable entries are skipped (logged).
pub async fn results(
    store: &Store,
    cursor: &str,
) -> Result<(Vec<AgentResult>, String), StoreError> {
    let mut conn = store.conn().await?;
    let start = if cursor.is_empty() {
        "-".to_owned()
    } else {
        format!("({cursor}")
    };
    let reply: redis::Value = redis::cmd("XRANGE")
        .arg(RESULTS_KEY)
        .arg(start)
        .arg("+")
        .arg("COUNT")
        .arg(100)
        .query_async(&mut conn)
        .await?;
    let mut next = cursor.to_owned();
    let mut found = Vec::new();
    for (id, text) in stream_entries(reply, "result") {
        match text.as_deref().map(serde_json::from_str::<AgentResult>) {
            Some(Ok(result)) => found.push(result),
            _ => tracing::warn!(entry = %id, "recovery: unreadable agent result skipped"),
        }
        next = id;
    }
    Ok((found, next))
}

/// An action decided and committed, to send.
pub struct Outgoing {
    /// The worker.
    pub worker: String,
    /// Its host (for the agent route).
    pub host: Option<String>,
    /// How it travels.
    pub route: Route,
    /// The action's id.
    pub id: String,
    /// When it was decided (RFC 3339).
    pub at: String,
}

/// Sends the guard's restart `out` by its route.
pub async fn deliver(store: &Store, out: &Outgoing) -> Result<(), SendError> {
    match out.route {
        Route::Heartbeat => {
            let restart = Command {
                id: out.id.clone(),
                action: Action::Restart,
                by: "auto".into(),
                at: out.at.clone(),
            };
            command(store, &out.worker, &restart).await
        }
        Route::Agent => {
            let host = out.host.as_deref().ok_or(SendError::NoHost)?;
            let restart = Request {
                id: out.id.clone(),
                worker: out.worker.clone(),
                action: AgentAction::ResetAndRestart,
                by: "auto".into(),
                at: out.at.clone(),
            };
            request(store, host, &restart).await
        }
    }
}

/// What a restart by `route` is called in the audit trail.
pub fn action_name(route: Route) -> &'static str {
    match route {
        Route::Heartbeat => Action::Restart.as_str(),
        Route::Agent => AgentAction::ResetAndRestart.as_str(),
    }
}
