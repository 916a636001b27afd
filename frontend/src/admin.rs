//! Acting on a worker from the page: the admin API's requests (restart, quiet, hold, reset), the
//! admin token kept for the tab only (`sessionStorage`, never `localStorage`, never in the
//! address), and what the server answered, as data the panel words in the page's language.

use pulseboard_shared::answer::Conflict;
use serde::Deserialize;
use wasm_bindgen::JsValue;

use crate::page::{ask, window_session};

/// Where the tab keeps the admin token (gone when the tab closes).
const TOKEN_KEY: &str = "pulseboard.admin-token";
/// How long "hold 1 h" holds.
pub const HOLD_S: u64 = 3600;

/// What a person may ask of a worker from the panel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminAction {
    /// Drain and exit for the supervisor to start it again.
    Restart,
    /// Stop taking jobs.
    Quiet,
    /// No automatic action for [`HOLD_S`].
    Hold,
    /// End a hold.
    LiftHold,
    /// Forget the attempts, close the circuit.
    Reset,
}

impl AdminAction {
    /// A stable spelling for the DOM (`data-action`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Restart => "restart",
            Self::Quiet => "quiet",
            Self::Hold => "hold",
            Self::LiftHold => "lift-hold",
            Self::Reset => "reset",
        }
    }

    /// The route and the JSON body (if any) for `worker`.
    fn request(self, worker: &str) -> (String, Option<String>) {
        let base = format!(
            "/api/agent-office/workers/{}",
            String::from(js_sys::encode_uri_component(worker))
        );
        match self {
            Self::Restart => (format!("{base}/restart"), None),
            Self::Quiet => (format!("{base}/quiet"), None),
            Self::Hold => (
                format!("{base}/recovery"),
                Some(format!("{{\"hold_for_s\":{HOLD_S}}}")),
            ),
            Self::LiftHold => (
                format!("{base}/recovery"),
                Some("{\"hold_for_s\":0}".into()),
            ),
            Self::Reset => (format!("{base}/recovery/reset"), None),
        }
    }
}

/// How a request ended, for the panel to say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// On its way.
    Sending,
    /// 202: queued (`id` for a command), asked by the token's `by`.
    Accepted {
        /// The command's id; none for a change of the guard.
        id: Option<String>,
        /// The token's name.
        by: String,
    },
    /// 401: the token was refused (and forgotten).
    Refused,
    /// 403: the server has no admin tokens.
    Off,
    /// 404: no such worker (any more).
    NotFound,
    /// 409: the server's reason (the same action in flight, or no way to reach the worker), as
    /// a structure; its words from a server that sends only words.
    Conflict(Option<Conflict>, String),
    /// Any other answer: the status and the server's message.
    Failed(u16, String),
    /// No answer at all.
    Network,
}

impl Outcome {
    /// A stable spelling for the DOM (`data-outcome`).
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Sending => "sending",
            Self::Accepted { .. } => "accepted",
            Self::Refused => "refused",
            Self::Off => "off",
            Self::NotFound => "not-found",
            Self::Conflict(..) => "conflict",
            Self::Failed(..) => "failed",
            Self::Network => "network",
        }
    }
}

/// The token this tab holds, if any.
pub fn stored_token() -> Option<String> {
    window_session()?
        .get_item(TOKEN_KEY)
        .ok()
        .flatten()
        .filter(|t| !t.is_empty())
}

/// Keeps `token` for this tab.
pub fn store_token(token: &str) {
    if let Some(s) = window_session() {
        let _ = s.set_item(TOKEN_KEY, token);
    }
}

/// Forgets the token.
pub fn forget_token() {
    if let Some(s) = window_session() {
        let _ = s.remove_item(TOKEN_KEY);
    }
}

/// The server's answer body: a command's or a guard change's acceptance, or an error.
#[derive(Debug, Default, Deserialize)]
struct Answer {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    by: Option<String>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    conflict: Option<Conflict>,
}

/// Asks `action` of `worker` with `token`; a refused token is forgotten.
pub async fn send(action: AdminAction, worker: &str, token: &str) -> Outcome {
    let (path, body) = action.request(worker);
    request("POST", &path, body.as_deref(), token).await
}

/// Acknowledges the alert `incident` (as its Telegram button does) with `token`; `Accepted`
/// names whoever was first, `NotFound` means it is resolved.
pub async fn acknowledge(incident: &str, token: &str) -> Outcome {
    let id = String::from(js_sys::encode_uri_component(incident));
    request(
        "POST",
        &format!("/api/agent-office/alerts/{id}/ack"),
        None,
        token,
    )
    .await
}

/// `method path` on an admin route with `body` and `token`; a refused token is forgotten.
pub async fn request(method: &str, path: &str, body: Option<&str>, token: &str) -> Outcome {
    let (status, text) = match ask(method, path, Some(token), body).await {
        Ok(answer) => answer,
        Err(err) => {
            leptos::logging::warn!("admin request failed: {}", describe(&err));
            return Outcome::Network;
        }
    };
    let answer: Answer = crate::json::from_str(&text).unwrap_or_default();
    let message = answer.error.unwrap_or_default();
    match status {
        200..=299 => Outcome::Accepted {
            id: answer.id,
            by: answer.by.unwrap_or_default(),
        },
        401 => {
            forget_token();
            Outcome::Refused
        }
        403 => Outcome::Off,
        404 => Outcome::NotFound,
        409 => Outcome::Conflict(answer.conflict, message),
        other => Outcome::Failed(other, message),
    }
}

fn describe(err: &JsValue) -> String {
    err.as_string().unwrap_or_else(|| format!("{err:?}"))
}
