//! HTTP out: the API, the live stream, health checks and the dashboard bundle.
//!
//! Every handler reads the latest [`Snapshot`](crate::snapshot::Snapshot); none touches Redis.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{middleware, Json, Router};
use serde::Serialize;
use tokio::sync::Semaphore;
use tower_http::timeout::TimeoutLayer;
use utoipa::ToSchema;

use crate::bundle::{csp, Accepted, Bundle};
use crate::config::HttpLimits;
use crate::shutdown::Shutdown;
use crate::snapshot::Encoding;
use crate::snapshot::Hub;

pub mod filtered;
pub mod per_client;
pub mod security_headers;
pub mod stream;

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
    /// The recovery guard's lease: whether this process decides (`None` in tests without one).
    pub guard: Option<crate::ledger::lease::Lease>,
    /// One permit per open live stream (`http.max_streams`).
    pub streams: Arc<Semaphore>,
    /// `http.max_streams`, to count the open ones.
    pub max_streams: usize,
    /// Open streams per client address (`http.max_streams_per_client`).
    pub per_client: Arc<per_client::PerClient>,
    /// The filtered streams' shared parts.
    pub parts: Arc<filtered::Parts>,
    /// Every request but the stream is answered within this (`http.request_timeout_s`).
    pub request_timeout: Duration,
}

impl AppState {
    /// The state of a server publishing into `hub` every `refresh`, within `limits`.
    pub fn new(hub: Hub, refresh: Duration, shutdown: Shutdown, limits: &HttpLimits) -> Self {
        Self {
            hub,
            refresh,
            shutdown,
            alerts: None,
            guard: None,
            streams: Arc::new(Semaphore::new(limits.max_streams)),
            max_streams: limits.max_streams,
            per_client: per_client::PerClient::new(limits.max_streams_per_client),
            parts: Arc::default(),
            request_timeout: limits.request_timeout,
        }
    }
}

/// The whole HTTP surface: the API, `more` routes (the event log, the admin API, the OpenAPI
/// document), the page from `bundle`, and the security headers on every answer.
pub fn app(state: AppState, bundle: &Bundle, more: Router) -> Router {
    let policy = csp::policy(bundle.index().as_deref());
    let bounded = Router::new()
        .route("/", get(|| async { Redirect::temporary("/infra/") }))
        .route("/api/agent-office/nodes", get(nodes))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/readyz", get(readyz))
        .with_state(state.clone())
        .merge(more)
        .nest_service("/infra", bundle.router())
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            state.request_timeout,
        ));
    // The stream is open for as long as the viewer looks: no request timeout.
    let streams = Router::new()
        .route("/api/agent-office/nodes/stream", get(stream::stream))
        .with_state(state);
    let policy = HeaderValue::from_str(&policy).expect("the policy is ASCII");
    bounded
        .merge(streams)
        .layer(middleware::map_response_with_state(
            policy,
            security_headers::add,
        ))
}

/// Contract 2: the whole fleet, from the latest snapshot.
#[utoipa::path(get, path = "/api/agent-office/nodes", tag = "fleet", responses(
    (status = 200, description = "The fleet (contract 2)", body = pulseboard_shared::Nodes),
))]
pub(crate) async fn nodes(State(state): State<AppState>, request: HeaderMap) -> Response {
    let snapshot = state.hub.latest();
    let accepted = Accepted::parse(&request);
    // gzip first: at 10,000 workers it takes 3.6 ms to brotli's 33 for 166 KB to 90 (release,
    // `examples/nodes_compression.rs`), and the first request of a snapshot waits for it.
    let encoding = if accepted.gzip {
        Some(Encoding::Gzip)
    } else if accepted.brotli {
        Some(Encoding::Brotli)
    } else {
        None
    };
    let headers = [
        (header::CONTENT_TYPE, "application/json"),
        (header::CACHE_CONTROL, "no-store"),
        (header::VARY, "accept-encoding"),
    ];
    match encoding {
        Some(encoding) => {
            let body = snapshot.compressed.get(&snapshot.json, encoding).await;
            let coding = [(header::CONTENT_ENCODING, encoding.name())];
            (headers, coding, body).into_response()
        }
        None => (headers, snapshot.json.clone()).into_response(),
    }
}

/// The fleet and pulseboard's own figures for Prometheus, from the latest snapshot.
#[utoipa::path(get, path = "/metrics", tag = "health", responses(
    (status = 200, description = "OpenMetrics text", content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8", body = String),
))]
pub(crate) async fn metrics(State(state): State<AppState>) -> Response {
    let snapshot = state.hub.latest();
    let text = crate::metrics::render(
        &snapshot,
        crate::metrics::Process {
            refreshes: state.hub.refreshes(),
            streams_open: state.max_streams - state.streams.available_permits(),
            alerts: state.alerts.as_ref(),
        },
    );
    (
        [
            (header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE),
            (header::CACHE_CONTROL, "no-store"),
        ],
        text,
    )
        .into_response()
}

/// Liveness: 200 while the process answers.
#[utoipa::path(get, path = "/healthz", tag = "health", responses(
    (status = 200, description = "The process answers", body = Health),
))]
pub(crate) async fn healthz() -> Json<Health> {
    Json(Health {
        status: "ok".into(),
    })
}

/// `/readyz`'s answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Readiness {
    /// Whether Redis answered within the last three refreshes and the snapshot is fresh.
    pub ready: bool,
    /// Contract 2's `redis_ok` of the latest snapshot.
    pub redis_ok: bool,
    /// How old the latest snapshot is.
    pub snapshot_age_ms: u64,
    /// Workers in the latest snapshot.
    pub workers: usize,
    /// Redis commands of the last refresh.
    pub redis_commands_per_refresh: usize,
    /// Round trips of the last refresh (1; one per primary on a cluster, sent in parallel).
    pub redis_round_trips_per_refresh: usize,
    /// How long the last refresh took.
    pub refresh_ms: f64,
    /// Heartbeat keys discovery found and never read (bad names, beyond `max_unregistered`).
    pub ignored_workers: u64,
    /// Why it is not ready (empty when it is).
    pub reasons: Vec<String>,
    /// The alerts' role and per-sink deliveries, when alerts are on.
    #[schema(value_type = Option<Object>)]
    #[schema(required = true)]
    pub alerts: Option<serde_json::Value>,
    /// The recovery guard at a glance.
    pub recovery: RecoverySummary,
}

/// The recovery guard over the whole fleet, for `/readyz`.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct RecoverySummary {
    /// Whether this process decides (holds the guard's lease); the others only show.
    pub decider: bool,
    /// Workers per guard state (`acting`, `backoff`, `circuit_open`, ...), idle ones left out.
    pub states: std::collections::BTreeMap<String, usize>,
    /// Workers whose circuit is open: a person must look.
    pub circuit_open: Vec<String>,
    /// Host agents beating.
    pub agents: Vec<String>,
}

impl RecoverySummary {
    fn of(nodes: &pulseboard_shared::Nodes, decider: bool) -> Self {
        use pulseboard_shared::recovery::GuardState;
        let mut summary = Self {
            decider,
            agents: nodes.agents.iter().map(|a| a.host.clone()).collect(),
            ..Self::default()
        };
        for (w, r) in nodes
            .workers
            .iter()
            .filter_map(|w| w.recovery.as_ref().map(|r| (w, r)))
        {
            *summary
                .states
                .entry(r.state.as_str().to_owned())
                .or_default() += 1;
            if r.state == GuardState::CircuitOpen {
                summary.circuit_open.push(w.name.clone());
            }
        }
        summary
    }
}

/// `/healthz`'s answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// Always `ok`: the process answers.
    pub status: String,
}

/// Ready when Redis answered recently and the snapshot is fresh; 503 with the reasons otherwise.
#[utoipa::path(get, path = "/readyz", tag = "health", responses(
    (status = 200, description = "Ready", body = Readiness),
    (status = 503, description = "Not ready; `reasons` says why", body = Readiness),
))]
pub(crate) async fn readyz(State(state): State<AppState>) -> Response {
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
    let body = Readiness {
        ready,
        redis_ok: snapshot.nodes.redis_ok,
        snapshot_age_ms: age.as_millis() as u64,
        workers: snapshot.nodes.workers.len(),
        redis_commands_per_refresh: snapshot.commands,
        redis_round_trips_per_refresh: snapshot.round_trips,
        refresh_ms: snapshot.refresh_took.as_secs_f64() * 1000.0,
        ignored_workers: (snapshot.nodes.summary.as_ref())
            .and_then(|s| s.ignored_workers)
            .map_or(0, |i| i.count),
        reasons,
        alerts: state.alerts.as_ref().map(|a| a.status_json()),
        recovery: RecoverySummary::of(
            &snapshot.nodes,
            state.guard.as_ref().is_some_and(|g| g.held()),
        ),
    };
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body)).into_response()
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use axum::body::Body;
    use axum::http::Request;
    use futures::StreamExt;
    use pulseboard_shared::mock::mock_nodes;
    use tower::ServiceExt;

    use super::*;
    use crate::shutdown;
    use crate::snapshot::Snapshot;

    fn router(hub: &Hub, bundle: Bundle) -> Router {
        let (_trigger, shutdown) = shutdown::channel();
        let limits = HttpLimits::default();
        let state = AppState::new(hub.clone(), Duration::from_secs(1), shutdown, &limits);
        app(state, &bundle, Router::new())
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

    fn no_bundle() -> Bundle {
        Bundle::Dir(
            std::env::temp_dir().join(format!("pulseboard-no-bundle-{}", std::process::id())),
        )
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
        assert!(body.contains("scripts/build-dashboard.sh"), "{body}");
        assert!(body.contains("--dist DIR"), "{body}");

        let (status, content_type, body) =
            get(router(&hub, no_bundle()), "/api/agent-office/nodes").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(content_type, "application/json");
        let nodes: pulseboard_shared::Nodes = serde_json::from_str(&body).unwrap();
        assert_eq!(nodes, mock_nodes(0));
    }

    #[tokio::test]
    async fn nodes_come_in_the_encoding_asked_for_and_the_same_bytes_for_one_snapshot() {
        let hub = Hub::default();
        hub.publish(Snapshot::new(mock_nodes(0), 1));
        let ask = |encoding: &'static str| {
            let router = router(&hub, no_bundle());
            async move {
                let request = Request::get("/api/agent-office/nodes")
                    .header(header::ACCEPT_ENCODING, encoding)
                    .body(Body::empty())
                    .unwrap();
                let response = router.oneshot(request).await.unwrap();
                let coding = response
                    .headers()
                    .get(header::CONTENT_ENCODING)
                    .map(|v| v.to_str().unwrap().to_owned());
                assert_eq!(response.headers()[header::VARY], "accept-encoding");
                let body = axum::body::to_bytes(response.into_body(), usize::MAX);
                (coding, body.await.unwrap())
            }
        };
        let json = hub.latest().json.clone();
        let (coding, br) = ask("br").await;
        assert_eq!(coding.as_deref(), Some("br"));
        let mut plain = Vec::new();
        brotli::BrotliDecompress(&mut &br[..], &mut plain).unwrap();
        assert_eq!(plain, json);
        let (_, again) = ask("br").await;
        assert_eq!(again.as_ptr(), br.as_ptr(), "compressed once per snapshot");
        let (coding, gzip) = ask("gzip, deflate, br").await;
        assert_eq!(coding.as_deref(), Some("gzip"));
        let mut plain = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gzip[..]), &mut plain)
            .unwrap();
        assert_eq!(plain, json);
        let (coding, body) = ask("identity").await;
        assert_eq!((coding, body), (None, json));
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

    #[tokio::test]
    async fn every_answer_carries_the_security_headers() {
        let hub = Hub::default();
        for path in [
            "/api/agent-office/nodes",
            "/readyz",
            "/infra/",
            "/no-such-page",
        ] {
            let response = router(&hub, no_bundle())
                .oneshot(Request::get(path).body(Body::empty()).unwrap())
                .await
                .unwrap();
            let headers = response.headers();
            let csp = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
            assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
            assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff", "{path}");
            assert_eq!(headers[header::REFERRER_POLICY], "no-referrer", "{path}");
            assert_eq!(headers[header::X_FRAME_OPTIONS], "DENY", "{path}");
        }
    }

    #[tokio::test]
    async fn head_is_answered_and_a_wrong_method_is_405_with_allow() {
        let hub = Hub::default();
        hub.publish(Snapshot::new(mock_nodes(0), 1));
        let response = router(&hub, no_bundle())
            .oneshot(
                Request::head("/api/agent-office/nodes")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        assert!(body.is_empty());

        for path in [
            "/api/agent-office/nodes",
            "/api/agent-office/nodes/stream",
            "/readyz",
        ] {
            let response = router(&hub, no_bundle())
                .oneshot(Request::post(path).body(Body::empty()).unwrap())
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED, "{path}");
            let allow = response.headers()[header::ALLOW].to_str().unwrap();
            assert!(
                allow.contains("GET") && allow.contains("HEAD"),
                "{path}: {allow}"
            );
        }
    }

    #[tokio::test]
    async fn streams_past_the_cap_get_503_and_a_freed_slot_is_reused() {
        let hub = Hub::default();
        hub.publish(Snapshot::new(mock_nodes(0), 1));
        let (_trigger, shutdown) = shutdown::channel();
        let limits = HttpLimits {
            max_streams: 2,
            ..HttpLimits::default()
        };
        let state = AppState::new(hub.clone(), Duration::from_secs(1), shutdown, &limits);
        let app = app(state, &no_bundle(), Router::new());
        let open = || {
            app.clone().oneshot(
                Request::get("/api/agent-office/nodes/stream")
                    .body(Body::empty())
                    .unwrap(),
            )
        };
        let first = open().await.unwrap();
        let second = open().await.unwrap();
        assert_eq!(first.status(), StatusCode::OK);
        assert_eq!(second.status(), StatusCode::OK);
        let third = open().await.unwrap();
        assert_eq!(third.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(third.headers()[header::RETRY_AFTER], "5");
        let body = axum::body::to_bytes(third.into_body(), usize::MAX)
            .await
            .unwrap();
        assert!(String::from_utf8_lossy(&body).contains("http.max_streams"));
        // The API still answers, and a viewer leaving frees its slot.
        let (status, _, _) = get(app.clone(), "/api/agent-office/nodes").await;
        assert_eq!(status, StatusCode::OK);
        drop(first);
        assert_eq!(open().await.unwrap().status(), StatusCode::OK);
    }

    #[tokio::test(start_paused = true)]
    async fn a_slow_answer_gets_408_but_the_stream_is_not_cut() {
        let hub = Hub::default();
        hub.publish(Snapshot::new(mock_nodes(0), 1));
        let (_trigger, shutdown) = shutdown::channel();
        let limits = HttpLimits::default();
        let state = AppState::new(hub.clone(), Duration::from_secs(1), shutdown, &limits);
        let slow = Router::new().route(
            "/slow",
            axum::routing::get(|| async {
                tokio::time::sleep(Duration::from_secs(60)).await;
                "too late"
            }),
        );
        let app = app(state, &no_bundle(), slow);
        let (status, _, _) = get(app.clone(), "/slow").await;
        assert_eq!(status, StatusCode::REQUEST_TIMEOUT);

        let response = app
            .oneshot(
                Request::get("/api/agent-office/nodes/stream")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        let mut body = response.into_body().into_data_stream();
        let mut seen = String::new();
        let mut read_until = async |what: &str, count: usize| {
            while seen.matches(what).count() < count {
                let chunk = body.next().await.expect("the stream is open").unwrap();
                seen.push_str(&String::from_utf8_lossy(&chunk));
            }
        };
        read_until("event: snapshot", 1).await;
        // Long past the request timeout, a change still arrives on the same stream.
        tokio::time::sleep(limits.request_timeout * 3).await;
        hub.publish(Snapshot::new(mock_nodes(1), 2));
        read_until("event: snapshot", 2).await;
    }
}
