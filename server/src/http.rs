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

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use axum::body::Body;
    use axum::http::Request;
    use pulseboard_shared::mock::mock_nodes;
    use tower::ServiceExt;

    use super::*;
    use crate::shutdown;
    use crate::snapshot::Snapshot;

    fn router(hub: &Hub, dist: PathBuf) -> Router {
        let (_trigger, shutdown) = shutdown::channel();
        let state = AppState {
            hub: hub.clone(),
            refresh: Duration::from_secs(1),
            shutdown,
            alerts: None,
        };
        app(state, dist)
    }

    async fn get(router: Router, path: &str) -> (StatusCode, String, String) {
        let response = router
            .oneshot(Request::get(path).body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .map_or(String::new(), |v| v.to_str().unwrap().to_owned());
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        (
            status,
            content_type,
            String::from_utf8(body.to_vec()).unwrap(),
        )
    }

    fn no_bundle() -> PathBuf {
        std::env::temp_dir().join(format!("pulseboard-no-bundle-{}", std::process::id()))
    }

    #[tokio::test]
    async fn readyz_is_503_until_redis_has_answered() {
        let hub = Hub::default();
        let (status, _, body) = get(router(&hub, no_bundle()), "/readyz").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        let body: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(body["ready"], false);
        assert_eq!(body["reasons"][0], "redis has not answered yet");
    }

    #[tokio::test]
    async fn readyz_is_200_on_a_fresh_snapshot_and_names_a_failed_read() {
        let hub = Hub::default();
        let mut snapshot = Snapshot::new(mock_nodes(0), 1);
        snapshot.redis_ok_at = Some(Instant::now());
        hub.publish(snapshot);
        let (status, _, body) = get(router(&hub, no_bundle()), "/readyz").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let body: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(body["ready"], true);
        assert_eq!(body["workers"], 6);

        let mut snapshot = Snapshot::new(mock_nodes(0), 2);
        snapshot.redis_ok_at = Some(Instant::now());
        snapshot.redis_error = Some("connection refused".into());
        hub.publish(snapshot);
        let (status, _, body) = get(router(&hub, no_bundle()), "/readyz").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(
            body.contains("last read failed: connection refused"),
            "{body}"
        );
    }

    #[tokio::test]
    async fn a_missing_bundle_says_how_to_build_it_while_the_api_answers() {
        let hub = Hub::default();
        hub.publish(Snapshot::new(mock_nodes(0), 1));
        let (status, content_type, body) = get(router(&hub, no_bundle()), "/infra/").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(content_type.starts_with("text/plain"), "{content_type}");
        assert!(body.contains("trunk build --release --offline"), "{body}");
        assert!(body.contains("--dist DIR"), "{body}");

        let (status, content_type, body) =
            get(router(&hub, no_bundle()), "/api/agent-office/nodes").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(content_type, "application/json");
        let nodes: pulseboard_shared::Nodes = serde_json::from_str(&body).unwrap();
        assert_eq!(nodes, mock_nodes(0));
    }

    #[tokio::test]
    async fn the_root_redirects_to_the_dashboard() {
        let response = router(&Hub::default(), no_bundle())
            .oneshot(Request::get("/").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::TEMPORARY_REDIRECT);
        assert_eq!(response.headers()[header::LOCATION], "/infra/");
    }
}
