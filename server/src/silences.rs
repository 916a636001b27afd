//! Silences and maintenance: `POST /api/agent-office/silences` (admin token) silences the alerts
//! about a worker, a host or a kind for a while; `GET` lists the ones in force; `DELETE
//! .../silences/{id}` ends one early. They expire by themselves.
//!
//! The alerts' judge reads them with every snapshot: an alert they cover is recorded in the
//! event log as silenced and not sent, and one still true when its silence ends (expired or
//! ended) is sent then (the alerts' `silenced` step): nothing is lost. Stored by the [`ledger`](crate::ledger);
//! `pulseboard silence` calls this API through [`client`].

pub mod client;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use axum::{Json, Router};
use pulseboard_shared::answer::ApiError;
use pulseboard_shared::silence::{covering, NewSilence, Silence, SilenceMark, MAX_SILENCES};
use pulseboard_shared::WorkerStatus;
use serde::Serialize;

use crate::admin::auth::authorize;
use crate::admin::{Admin, Refused};
use crate::aggregate::unix_now;
use crate::client_ip::ClientIp;
use crate::ledger::silences::{self as store, Changed};

/// The silence routes.
pub fn router(admin: Admin) -> Router {
    Router::new()
        .route("/api/agent-office/silences", get(list).post(add))
        .route("/api/agent-office/silences/{id}", delete(end))
        .with_state(admin)
}

/// Why a silence request failed.
#[derive(Debug)]
pub enum Failed {
    /// Refused before anything was done (token, read-only).
    Refused(Refused),
    /// The body is not a valid silence.
    BadBody(String),
    /// `MAX_SILENCES` are in force.
    Full,
    /// No silence in force has this id.
    NotFound,
    /// Redis did not answer, or refused.
    Redis(String),
}

impl IntoResponse for Failed {
    fn into_response(self) -> Response {
        let (status, words) = match self {
            Self::Refused(refused) => return refused.into_response(),
            Self::BadBody(why) => (StatusCode::BAD_REQUEST, why),
            Self::Full => (
                StatusCode::CONFLICT,
                format!("{MAX_SILENCES} silences are in force already: end one first"),
            ),
            Self::NotFound => (
                StatusCode::NOT_FOUND,
                "no silence in force has this id (it may have ended)".to_owned(),
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

/// The silences in force.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SilenceList {
    /// Soonest to end first.
    pub silences: Vec<Silence>,
}

/// The silences in force, soonest to end first (no token: they say what is silenced and why,
/// as the page does).
#[utoipa::path(get, path = "/api/agent-office/silences", tag = "silences",
    responses(
        (status = 200, description = "The silences in force", body = SilenceList),
        (status = 503, description = "Redis cannot be read", body = ApiError),
    ))]
pub(crate) async fn list(State(admin): State<Admin>) -> Result<Json<SilenceList>, Failed> {
    let now = unix_now();
    let mut silences = store::read(&admin.store)
        .await
        .map_err(|e| Failed::Redis(format!("cannot read the silences: {e}")))?;
    silences.retain(|s| s.active(now));
    silences.sort_by_key(|s| s.until);
    Ok(Json(SilenceList { silences }))
}

/// Silences the alerts about a worker, a host or a kind for `for_s` seconds (`Authorization:
/// Bearer <admin token>`); `maintenance: true` marks planned work.
#[utoipa::path(post, path = "/api/agent-office/silences", tag = "silences",
    request_body = NewSilence,
    responses(
        (status = 201, description = "In force until `until`", body = Silence),
        (status = 400, description = "Not a valid silence (the message names the field)", body = ApiError),
        (status = 401, description = "No or a wrong bearer token", body = ApiError),
        (status = 403, description = "Actions are off, or this server is read-only", body = ApiError),
        (status = 409, description = "Too many silences in force", body = ApiError),
        (status = 503, description = "Redis cannot be written", body = ApiError),
    ))]
pub(crate) async fn add(
    State(admin): State<Admin>,
    client: ClientIp,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Failed> {
    let by = authorize(&admin, client, &headers, "silences")?;
    if body.len() > 4096 {
        return Err(Failed::BadBody("the body is over 4 KiB".into()));
    }
    let asked: NewSilence = serde_json::from_slice(&body).map_err(|e| {
        Failed::BadBody(format!(
            "expected {{\"match\": {{\"worker\"|\"host\"|\"kind\": NAME}}, \"for_s\": N, \
             \"reason\": TEXT, \"maintenance\": BOOL}}: {e}"
        ))
    })?;
    let now = unix_now();
    let id = format!("s-{:016x}", rand::random::<u64>());
    let silence = asked
        .into_silence(id, &by, now)
        .map_err(|e| Failed::BadBody(e.to_string()))?;
    match store::add(&admin.store, &silence, now).await {
        Ok(Changed::Done(_)) => {}
        Ok(Changed::Full) => return Err(Failed::Full),
        Ok(Changed::NotFound) => unreachable!("adding ends nothing"),
        Err(e) => return Err(Failed::Redis(format!("the silence was not set: {e}"))),
    }
    tracing::info!(id = %silence.id, matches = ?silence.matches, until = silence.until, maintenance = silence.maintenance, by = %silence.by, reason = %silence.reason.escape_debug(), "silence set");
    Ok((StatusCode::CREATED, Json(silence)).into_response())
}

/// What ending a silence answers.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Ended {
    /// The silence ended.
    pub id: String,
    /// Who ended it.
    pub by: String,
}

/// Ends a silence now (`Authorization: Bearer <admin token>`); an alert it held that is still
/// true goes out at the next snapshot.
#[utoipa::path(delete, path = "/api/agent-office/silences/{id}", tag = "silences",
    params(("id" = String, Path, description = "The silence")),
    responses(
        (status = 200, description = "Ended", body = Ended),
        (status = 401, description = "No or a wrong bearer token", body = ApiError),
        (status = 403, description = "Actions are off, or this server is read-only", body = ApiError),
        (status = 404, description = "No silence in force has this id", body = ApiError),
        (status = 503, description = "Redis cannot be written", body = ApiError),
    ))]
pub(crate) async fn end(
    State(admin): State<Admin>,
    client: ClientIp,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Ended>, Failed> {
    let by = authorize(&admin, client, &headers, "silences")?;
    let valid =
        id.len() == 18 && id.starts_with("s-") && id[2..].bytes().all(|b| b.is_ascii_hexdigit());
    if !valid {
        return Err(Failed::NotFound);
    }
    match store::end(&admin.store, &id, unix_now()).await {
        Ok(Changed::Done(_)) => {}
        Ok(Changed::NotFound) => return Err(Failed::NotFound),
        Ok(Changed::Full) => unreachable!("ending adds nothing"),
        Err(e) => return Err(Failed::Redis(format!("the silence was not ended: {e}"))),
    }
    tracing::info!(%id, %by, "silence ended");
    Ok(Json(Ended { id, by }))
}

/// Puts contract 2's `silence` on each of `workers` a silence in `silences` covers at `now`.
pub fn attach_marks(workers: &mut [WorkerStatus], silences: &[Silence], now: u64) {
    if silences.is_empty() {
        return;
    }
    for w in workers {
        let who = (w.name.as_str(), w.kind.as_str(), w.host.as_deref());
        w.silence = covering(silences, now, who).map(SilenceMark::from);
    }
}
