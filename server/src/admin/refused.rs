//! Why an admin request was refused before anything was done, and the answer that says so.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use pulseboard_shared::answer::{ApiError, Conflict};

/// A request refused before anything was done (or, for [`Refused::NotQueued`], when Redis
/// could not take it). Each variant is one status and one message.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    /// No admin tokens are configured.
    #[error("actions are off: set PULSEBOARD_ADMIN_TOKENS (name:token pairs) to enable them")]
    ActionsOff,
    /// This server is read-only (`--read-only`): it writes nothing to Redis.
    #[error("this pulseboard is read-only (--read-only): act through one that may write to Redis")]
    ReadOnly,
    /// No bearer token, or one nobody holds.
    #[error("a valid Authorization: Bearer token is required")]
    BadToken,
    /// This address presented too many wrong tokens lately.
    #[error("too many wrong tokens from this address: try again in {retry_after_s} s")]
    TooManyFailures {
        /// When it may try again.
        retry_after_s: u64,
    },
    /// The snapshot has no worker of that name.
    #[error("no worker of that name")]
    UnknownWorker,
    /// The path names no action.
    #[error("the action must be quiet, restart or stop")]
    UnknownAction,
    /// The same action is in flight, or there is no way to reach the worker.
    #[error("{}", .0.words())]
    Conflict(Conflict),
    /// The guard change's body is not the JSON it should be.
    #[error("the body must be JSON: {{\"mode\": \"off|recommend|auto|default\", \"hold_for_s\": N, \"reason\": \"...\"}}")]
    BadBody,
    /// The guard change names no known mode.
    #[error("mode must be off, recommend, auto or default")]
    BadMode,
    /// A hold longer than pulseboard can count.
    #[error(
        "hold_for_s must be at most {} (ten years)",
        crate::admin::guard::MAX_HOLD_S
    )]
    HoldTooLong,
    /// The guard change changes nothing.
    #[error("nothing to change: give mode or hold_for_s")]
    NothingToChange,
    /// Redis did not take the command or the change (the words say which and why).
    #[error("{0}")]
    NotQueued(String),
}

impl Refused {
    /// The HTTP status of this refusal.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::ActionsOff | Self::ReadOnly => StatusCode::FORBIDDEN,
            Self::BadToken => StatusCode::UNAUTHORIZED,
            Self::TooManyFailures { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::UnknownWorker | Self::UnknownAction => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::BadBody | Self::BadMode | Self::HoldTooLong | Self::NothingToChange => {
                StatusCode::BAD_REQUEST
            }
            Self::NotQueued(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        let status = self.status();
        let retry_after = match &self {
            Self::TooManyFailures { retry_after_s } => Some(retry_after_s.to_string()),
            _ => None,
        };
        let answer = match self {
            Self::Conflict(conflict) => ApiError::from(conflict),
            other => ApiError::new(other.to_string()),
        };
        let mut response = (status, Json(answer)).into_response();
        if let Some(seconds) = retry_after.and_then(|s| s.parse().ok()) {
            response.headers_mut().insert(header::RETRY_AFTER, seconds);
        }
        response
    }
}
