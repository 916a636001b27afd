//! HTTP out: the API, the live stream, health checks and the dashboard bundle.
//!
//! Every handler reads the latest [`Snapshot`](crate::snapshot::Snapshot); none touches Redis.

use std::convert::Infallible;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Json, Router};
use futures::{Stream, StreamExt};
use serde_json::json;
use tokio_stream::wrappers::WatchStream;
use tower_http::services::{ServeDir, ServeFile};

use crate::shutdown::Shutdown;
use crate::snapshot::Hub;

/// What the handlers share.
#[derive(Clone)]
pub struct AppState {
    /// The snapshots.
    pub hub: Hub,
    /// The refresh interval, to judge freshness.
    pub refresh: Duration,
    /// Fires when the server drains; open streams end then.
    pub shutdown: Shutdown,
    /// The alerts, when enabled (their status is part of `/readyz`, not of readiness).
    pub alerts: Option<crate::alerts::AlertsHandle>,
}

/// The whole HTTP surface, with the dashboard bundle served from `dist`.
pub fn app(state: AppState, dist: PathBuf) -> Router {
    let index = dist.join("index.html");
    let bundle = Router::new()
        .fallback_service(ServeDir::new(&dist).fallback(ServeFile::new(&index)))
        .layer(middleware::from_fn_with_state(
            Arc::new(dist),
            require_bundle,
        ));
    Router::new()
        .route("/", get(|| async { Redirect::temporary("/infra/") }))
        .route("/api/agent-office/nodes", get(nodes))
        .route("/api/agent-office/nodes/stream", get(stream))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .nest_service("/infra", bundle)
        .with_state(state)
}

async fn nodes(State(state): State<AppState>) -> Response {
    let snapshot = state.hub.latest();
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        snapshot.json.clone(),
    )
        .into_response()
}

/// Server-sent events: the current snapshot at once, then one event per change.
async fn stream(
    State(state): State<AppState>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let shutdown = state.shutdown.clone();
    let rx = state.hub.subscribe();
    let mut last_sent = None;
    let events = WatchStream::new(rx)
        .filter_map(move |snapshot| {
            let fresh = last_sent != Some(snapshot.version);
            last_sent = Some(snapshot.version);
            std::future::ready(fresh.then(|| {
                let data = String::from_utf8_lossy(&snapshot.json);
                Ok(Event::default().data(data))
            }))
        })
        .take_until(async move { shutdown.wait().await });
    Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

async fn healthz() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

/// Ready when Redis answered recently and the snapshot is fresh; 503 with the reasons otherwise.
async fn readyz(State(state): State<AppState>) -> Response {
    let snapshot = state.hub.latest();
    let limit = (state.refresh * 3).max(Duration::from_secs(3));
    let mut reasons = Vec::new();
    match snapshot.redis_ok_at {
        None => reasons.push("redis has not answered yet".to_owned()),
        Some(at) if at.elapsed() > limit => reasons.push(format!(
            "redis has not answered for {} s",
            at.elapsed().as_secs()
        )),
        Some(_) => {}
    }
    if let Some(error) = &snapshot.redis_error {
        reasons.push(format!("last read failed: {error}"));
    }
    let age = snapshot.built_at.elapsed();
    if age > limit {
        reasons.push(format!(
            "snapshot is {} ms old; the refresher is stalled",
            age.as_millis()
        ));
    }
    let ready = reasons.is_empty();
    let body = json!({
        "ready": ready,
        "redis_ok": snapshot.nodes.redis_ok,
        "snapshot_age_ms": age.as_millis() as u64,
        "workers": snapshot.nodes.workers.len(),
        "redis_commands_per_refresh": snapshot.commands,
        "reasons": reasons,
        "alerts": state.alerts.as_ref().map(|a| a.status_json()),
    });
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body)).into_response()
}

/// Where the bundle has not been built, say how to build it rather than answer a bare 404.
async fn require_bundle(
    State(dist): State<Arc<PathBuf>>,
    request: Request,
    next: Next,
) -> Response {
    if dist.join("index.html").is_file() {
        return next.run(request).await;
    }
    let message = format!(
        "pulseboard: the dashboard bundle is not built (no index.html in {}).\n\
         Build it at the repository root with:\n\n    trunk build --release --offline\n\n\
         or point the server at a built bundle with --dist DIR (PULSEBOARD_DIST).\n\
         The API is up meanwhile: /api/agent-office/nodes\n",
        dist.display()
    );
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        message,
    )
        .into_response()
}
