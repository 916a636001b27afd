//! `POST /api/agent-office/telegram/presses`: Telegram's webhook, in webhook mode
//! (`[alerts.telegram] webhook_url`). Any process may receive it (replicas behind a load
//! balancer); each acts on the press through the alerts' own press handling, the one
//! `getUpdates` feeds in polling mode, so allowed users, answers, edits, acknowledgements and
//! restarts behave alike.
//!
//! The `X-Telegram-Bot-Api-Secret-Token` header must carry `webhook_secret`, compared in constant
//! time; a wrong or missing one is 401 and changes nothing, and counts toward the admin API's
//! per-address throttle of wrong tokens. Only then is the body read, up to [`MAX_BODY`], and
//! parsed as one Telegram `Update`. Off (404) unless webhook mode is on in a process that runs
//! the alerts (not `--read-only`).

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use pulseboard_shared::answer::ApiError;

use crate::admin::throttle::Throttle;
use crate::admin::Refused;
use crate::alerts::telegram::Update;
use crate::alerts::AlertsHandle;
use crate::client_ip::ClientIp;
use crate::config::admin::constant_time_eq;
use crate::snapshot::Hub;

/// Where Telegram posts the presses.
pub const PATH: &str = "/api/agent-office/telegram/presses";

/// The most bytes of an update read: a press with its message is a few KiB.
pub const MAX_BODY: usize = 64 * 1024;

/// The header Telegram puts `secret_token` in.
const SECRET_HEADER: &str = "x-telegram-bot-api-secret-token";

/// What the route needs.
#[derive(Clone)]
pub struct Presses {
    /// The running alerts (none in a read-only process, or with alerts off).
    pub alerts: Option<AlertsHandle>,
    /// The latest snapshot (how many workers, for the acknowledgement).
    pub hub: Hub,
    /// Wrong secrets by address: the admin API's, so guesses at either count together.
    pub throttle: Arc<Throttle>,
}

/// The webhook route.
pub fn router(state: Presses) -> Router {
    Router::new().route(PATH, post(press)).with_state(state)
}

fn refuse(status: StatusCode, words: impl Into<String>) -> Response {
    (status, Json(ApiError::new(words.into()))).into_response()
}

/// Telegram's webhook in webhook mode: one `Update` (`{"update_id": N, "callback_query":
/// {...}}`); a press is acted on as a polled one is, anything else is ignored.
#[utoipa::path(post, path = "/api/agent-office/telegram/presses", tag = "alerts",
    request_body(content = Object, description = "A Telegram Update: `update_id` and `callback_query` (the press)", content_type = "application/json"),
    params(("X-Telegram-Bot-Api-Secret-Token" = String, Header, description = "`[alerts.telegram] webhook_secret`")),
    responses(
        (status = 200, description = "The press was handled (answered in Telegram), or the update is not a press and was ignored"),
        (status = 400, description = "The body is not a Telegram update", body = ApiError),
        (status = 401, description = "No or a wrong secret token; nothing changed", body = ApiError),
        (status = 404, description = "Webhook mode is off in this process", body = ApiError),
        (status = 413, description = "The body is over 64 KiB", body = ApiError),
        (status = 429, description = "Too many wrong tokens from this address lately", body = ApiError),
    ))]
pub(crate) async fn press(
    State(state): State<Presses>,
    client: ClientIp,
    request: Request,
) -> Response {
    let Some(alerts) = state.alerts.filter(|a| a.press_secret().is_some()) else {
        return refuse(
            StatusCode::NOT_FOUND,
            "Telegram presses are not received here: webhook mode is off \
             ([alerts.telegram] webhook_url), or this process runs no alerts",
        );
    };
    let now = Instant::now();
    if let Err(wait) = state.throttle.check(client.0, now) {
        let retry_after_s = wait.as_secs().max(1);
        return Refused::TooManyFailures { retry_after_s }.into_response();
    }
    let presented = request.headers().get(SECRET_HEADER);
    let secret = alerts.press_secret().expect("webhook mode, checked above");
    let right =
        presented.is_some_and(|p| constant_time_eq(secret.expose().as_bytes(), p.as_bytes()));
    if !right {
        state.throttle.failed(client.0, now);
        tracing::warn!(
            client = %client.0,
            "Telegram webhook: a POST without the right secret token refused; nothing changes"
        );
        return refuse(
            StatusCode::UNAUTHORIZED,
            "X-Telegram-Bot-Api-Secret-Token is missing or wrong",
        );
    }
    let Ok(body) = axum::body::to_bytes(request.into_body(), MAX_BODY).await else {
        return refuse(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "the body is over {MAX_BODY} bytes (or was cut short): not one Telegram update"
            ),
        );
    };
    let update: Update = match serde_json::from_slice(&body) {
        Ok(update) => update,
        Err(e) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                format!("the body is not a Telegram update ({{\"update_id\": N, \"callback_query\": {{...}}}}): {e}"),
            )
        }
    };
    let Some(press) = update.callback_query else {
        tracing::debug!(
            update = update.update_id,
            "Telegram webhook: not a press; ignored"
        );
        return StatusCode::OK.into_response();
    };
    let workers = state.hub.latest().nodes.workers.len();
    // On a task of its own: a request cut off (its timeout, Telegram hanging up) must not leave
    // a press half done, acknowledged but unanswered.
    match tokio::spawn(async move { alerts.press(press, workers).await }).await {
        Ok(()) => StatusCode::OK.into_response(),
        Err(e) => {
            tracing::error!(error = %e, "Telegram webhook: handling a press failed");
            refuse(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the press could not be handled",
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use tower::ServiceExt;

    use super::*;

    #[tokio::test]
    async fn without_webhook_mode_the_route_is_not_found() {
        let app = router(Presses {
            alerts: None,
            hub: Hub::default(),
            throttle: Arc::default(),
        });
        let request = axum::http::Request::post(PATH)
            .header(SECRET_HEADER, "anything")
            .body(Body::from(r#"{"update_id": 1}"#))
            .unwrap();
        let response = app.oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        let body = axum::body::to_bytes(response.into_body(), 4096)
            .await
            .unwrap();
        assert!(
            String::from_utf8_lossy(&body).contains("webhook_url"),
            "{body:?}"
        );
    }
}
