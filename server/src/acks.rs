//! `POST /api/agent-office/alerts/{id}/ack` (admin token): acknowledges an open alert that wants
//! a person, as the Acknowledge button under its Telegram message does. The id is the alert's
//! `incident` in the event log (or its `id`; a webhook's `incident_id`). The alerts' judge
//! announces it once and stops re-sending it ([`crate::alerts::pages`]).

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use pulseboard_shared::ack::{valid_id, Ack, AckVia};
use pulseboard_shared::answer::ApiError;
use serde::Serialize;

use crate::admin::auth::authorize;
use crate::admin::{Admin, Refused};
use crate::aggregate::unix_now;
use crate::alerts::acknowledge::{acknowledge, Outcome};
use crate::client_ip::ClientIp;

/// The acknowledgement route.
pub fn router(admin: Admin) -> Router {
    Router::new()
        .route("/api/agent-office/alerts/{id}/ack", post(ack))
        .with_state(admin)
}

/// Why an acknowledgement failed.
#[derive(Debug)]
pub enum Failed {
    /// Refused before anything was done (token, read-only).
    Refused(Refused),
    /// No open alert has this id.
    NotOpen,
    /// Redis did not answer, or refused.
    Redis(String),
}

impl IntoResponse for Failed {
    fn into_response(self) -> Response {
        let (status, words) = match self {
            Self::Refused(refused) => return refused.into_response(),
            Self::NotOpen => (
                StatusCode::NOT_FOUND,
                "no open alert that wants a person has this id (it may be resolved)".to_owned(),
            ),
            Self::Redis(why) => (StatusCode::SERVICE_UNAVAILABLE, why),
        };
        (status, Json(ApiError::new(words))).into_response()
    }
}

impl From<Refused> for Failed {
    fn from(refused: Refused) -> Self {
        Self::Refused(refused)
    }
}

/// What acknowledging answers.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Acknowledgement {
    /// The alert.
    pub id: String,
    /// Who acknowledged it first (you, or whoever was before you).
    pub by: String,
    /// Whether this request was the first.
    pub first: bool,
}

/// Acknowledges the open alert `id` (`Authorization: Bearer <admin token>`): it is no longer
/// re-sent, and the event log and webhooks say who.
#[utoipa::path(post, path = "/api/agent-office/alerts/{id}/ack", tag = "alerts",
    params(("id" = String, Path, description = "The alert's incident (or id)")),
    responses(
        (status = 200, description = "Acknowledged (by you, or by whoever was first)", body = Acknowledgement),
        (status = 401, description = "No or a wrong bearer token", body = ApiError),
        (status = 403, description = "Actions are off, or this server is read-only", body = ApiError),
        (status = 404, description = "No open alert has this id", body = ApiError),
        (status = 503, description = "Redis cannot be written", body = ApiError),
    ))]
pub(crate) async fn ack(
    State(admin): State<Admin>,
    client: ClientIp,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Acknowledgement>, Failed> {
    let by = authorize(&admin, client, &headers, "alerts")?;
    if !valid_id(&id) {
        return Err(Failed::NotOpen);
    }
    let ack = Ack {
        id: id.clone(),
        by: by.clone(),
        via: AckVia::Api,
        at: unix_now(),
        silenced: false,
    };
    let workers = admin.hub.latest().nodes.workers.len();
    match acknowledge(&admin.store, workers, &ack).await {
        Ok(Outcome::Done(_)) => Ok(Json(Acknowledgement {
            id,
            by,
            first: true,
        })),
        Ok(Outcome::Already(first)) => Ok(Json(Acknowledgement {
            id,
            by: first.by,
            first: false,
        })),
        Ok(Outcome::NotOpen) => Err(Failed::NotOpen),
        Err(e) => Err(Failed::Redis(format!(
            "the acknowledgement was not stored: {e}"
        ))),
    }
}
