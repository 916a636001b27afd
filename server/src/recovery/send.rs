//! How an action travels, and how its answer comes back.
//!
//! - A worker that still beats gets a [`Command`] on its own list (it takes it with its next
//!   beat; see [`pulseboard_shared::command`]).
//! - A worker that is gone needs its supervisor: its host agent gets a [`Request`] on the host's
//!   stream, signed with the agent key for that host, and answers on the results stream (read
//!   back by [`super::answers`]; see [`pulseboard_shared::agent`]). Without the key, nothing
//!   goes to an agent.
//!
//! Nothing here runs anything: a message names a worker and an action, never a program.

use pulseboard_shared::agent::key::AgentKeys;
use pulseboard_shared::agent::sign::sign_request;
use pulseboard_shared::agent::{requests_key, AgentAction, Request};
use pulseboard_shared::command::{commands_key, Action, Command};
use pulseboard_shared::recovery::Route;

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
    /// An action through the host agent, and no agent key to sign it with.
    #[error("agent requests are off: no agent key (PULSEBOARD_AGENT_KEY)")]
    NoAgentKey,
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

/// Puts `request` on `host`'s agent stream, for that host and signed with `keys`.
pub async fn request(
    store: &Store,
    keys: &AgentKeys,
    host: &str,
    mut request: Request,
) -> Result<(), SendError> {
    request.host = host.to_owned();
    sign_request(keys, &mut request);
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

/// Sends the guard's restart `out` by its route (through an agent: signed with `keys`).
pub async fn deliver(
    store: &Store,
    keys: Option<&AgentKeys>,
    out: &Outgoing,
) -> Result<(), SendError> {
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
            let keys = keys.ok_or(SendError::NoAgentKey)?;
            let restart = Request {
                id: out.id.clone(),
                host: host.to_owned(),
                worker: out.worker.clone(),
                action: AgentAction::ResetAndRestart,
                by: "auto".into(),
                at: out.at.clone(),
                sig: String::new(),
            };
            request(store, keys, host, restart).await
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
