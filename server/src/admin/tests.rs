//! Every refusal of the admin API, through the router, with no Redis behind it: each is decided
//! before anything is sent (the store points at a closed port and is never opened).

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use pulseboard_shared::mock::{mock_nodes, ACT_S};
use pulseboard_shared::nodes::Nodes;
use tower::ServiceExt;

use super::*;
use crate::client_ip::ClientIp;
use crate::snapshot::Snapshot;

const TOKEN: &str = "0123456789abcdef";

/// The mock fleet in its lifecycle act: insta-render's restart is in flight.
fn fleet() -> Nodes {
    mock_nodes(7 * ACT_S + 1)
}

fn admin(tokens: &str, nodes: Nodes) -> Admin {
    let hub = Hub::default();
    hub.publish(Snapshot::new(nodes, 1));
    let client = redis::Client::open("redis://127.0.0.1:1").unwrap();
    Admin {
        tokens: AdminTokens::parse(tokens).unwrap(),
        read_only: false,
        hub,
        store: Store::new(client, Duration::from_millis(200)).unwrap(),
        history_max: 100,
        throttle: Default::default(),
        agent_key: None,
    }
}

/// POSTs `body` to `path` with `token`, answers the status and the JSON.
async fn post(
    admin: Admin,
    path: &str,
    token: Option<&str>,
    body: &str,
) -> (StatusCode, serde_json::Value) {
    let (status, _, json) = post_from(admin, ClientIp::UNKNOWN, path, token, body).await;
    (status, json)
}

/// [`post`] from the client address `client`; also answers `Retry-After`.
async fn post_from(
    admin: Admin,
    client: ClientIp,
    path: &str,
    token: Option<&str>,
    body: &str,
) -> (StatusCode, Option<String>, serde_json::Value) {
    let mut request = Request::post(path).header("content-type", "application/json");
    if let Some(t) = token {
        request = request.header("authorization", format!("Bearer {t}"));
    }
    let mut request = request.body(Body::from(body.to_owned())).unwrap();
    request.extensions_mut().insert(client);
    let response = router(admin).oneshot(request).await.unwrap();
    let status = response.status();
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    (status, retry_after, serde_json::from_slice(&bytes).unwrap())
}

#[tokio::test]
async fn actions_are_off_without_tokens() {
    let (status, body) = post(
        admin("", fleet()),
        "/api/agent-office/workers/insta-render/stop",
        Some(TOKEN),
        "",
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body["error"]
        .as_str()
        .unwrap()
        .contains("PULSEBOARD_ADMIN_TOKENS"));
}

#[tokio::test]
async fn a_read_only_server_refuses_every_action_whoever_asks() {
    for path in [
        "/api/agent-office/workers/insta-render/stop",
        "/api/agent-office/workers/insta-render/recovery",
        "/api/agent-office/workers/insta-render/recovery/reset",
    ] {
        let admin = Admin {
            read_only: true,
            ..admin(&format!("ops:{TOKEN}"), fleet())
        };
        let (status, body) = post(admin, path, Some(TOKEN), r#"{"mode":"off"}"#).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
        assert!(
            body["error"].as_str().unwrap().contains("read-only"),
            "{path}: {body}"
        );
    }
}

#[tokio::test]
async fn a_missing_or_wrong_token_is_401() {
    let path = "/api/agent-office/workers/insta-render/recovery/reset";
    for token in [None, Some("fedcba9876543210")] {
        let (status, _) = post(admin(&format!("ops:{TOKEN}"), fleet()), path, token, "").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "token {token:?}");
    }
}

/// What a `tracing` subscriber writes, kept for a test to read.
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn a_refused_path_with_a_newline_is_logged_on_one_line() {
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    // The test's runtime has one thread: the log of the request below is written here.
    let _log = tracing::subscriber::set_default(subscriber);
    let forged = "/api/agent-office/workers/x%0A2026-01-01T00:00:00Z%20INFO%20forged/stop";
    let (status, _) = post(admin(&format!("ops:{TOKEN}"), fleet()), forged, None, "").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert_eq!(text.lines().count(), 1, "one refusal, one line: {text}");
    assert!(
        text.contains(r"x\n2026-01-01T00:00:00Z INFO forged/stop"),
        "the decoded name, its newline escaped: {text}"
    );
}

#[tokio::test]
async fn an_address_guessing_tokens_gets_429_and_others_are_served() {
    let admin = admin(&format!("ops:{TOKEN}"), fleet());
    let guesser = ClientIp("192.0.2.66".parse().unwrap());
    let operator = ClientIp("192.0.2.1".parse().unwrap());
    let path = "/api/agent-office/workers/insta-render/stop";
    let mut statuses = Vec::new();
    for i in 0..30 {
        let guess = format!("guess-{i:011}");
        let (status, _, _) = post_from(admin.clone(), guesser, path, Some(&guess), "").await;
        statuses.push(status.as_u16());
    }
    assert_eq!(statuses[..10], [401; 10], "{statuses:?}");
    assert_eq!(statuses[10..], [429; 20], "{statuses:?}");
    // Even the right token waits, from that address: nothing is learnt by trying it there ...
    let (status, retry_after, body) =
        post_from(admin.clone(), guesser, path, Some(TOKEN), "").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    let wait: u64 = retry_after.expect("Retry-After").parse().unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    // ... while the operator, elsewhere, is served (here: refused only for want of Redis).
    let (status, _, body) = post_from(admin, operator, path, Some(TOKEN), "").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
}

#[tokio::test]
async fn an_unknown_worker_or_action_is_404() {
    let tokens = format!("ops:{TOKEN}");
    for path in [
        "/api/agent-office/workers/nobody/stop",
        "/api/agent-office/workers/insta-render/explode",
        "/api/agent-office/workers/nobody/recovery/reset",
    ] {
        let (status, body) = post(admin(&tokens, fleet()), path, Some(TOKEN), "").await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
    }
}

#[tokio::test]
async fn a_restart_already_in_flight_is_409_with_its_id_and_who_asked() {
    let (status, body) = post(
        admin(&format!("ops:{TOKEN}"), fleet()),
        "/api/agent-office/workers/insta-render/restart",
        Some(TOKEN),
        "",
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["conflict"]["conflict"], "in_flight", "{body}");
    assert_eq!(body["conflict"]["id"], "r-mock-1");
    assert_eq!(body["conflict"]["by"], "auto");
}

#[tokio::test]
async fn a_dead_worker_without_a_host_cannot_be_restarted_409() {
    let mut nodes = fleet();
    let w = nodes
        .workers
        .iter_mut()
        .find(|w| w.name == "task-watcher")
        .unwrap();
    w.alive = false;
    w.host = None;
    let (status, body) = post(
        admin(&format!("ops:{TOKEN}"), nodes),
        "/api/agent-office/workers/task-watcher/restart",
        Some(TOKEN),
        "",
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["conflict"]["conflict"], "no_route", "{body}");
}

#[tokio::test]
async fn a_bad_guard_change_is_400() {
    let path = "/api/agent-office/workers/insta-render/recovery";
    for body in [
        "not json",
        r#"{"mode": "sometimes"}"#,
        r#"{"reason": "nothing else"}"#,
        r#"{"hold_for_s": 18446744073709551615}"#,
        r#"{"colour": "red"}"#,
    ] {
        let (status, answer) = post(
            admin(&format!("ops:{TOKEN}"), fleet()),
            path,
            Some(TOKEN),
            body,
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
    }
}

#[test]
fn a_plan_routes_a_restart_of_a_live_worker_through_its_beat_and_of_a_dead_one_through_its_agent() {
    let mut nodes = mock_nodes(1);
    let now = chrono::Utc::now();
    let name = nodes.workers[0].name.clone();
    let live = plan(&nodes.workers, &name, "restart", "ops", now, true).unwrap();
    assert_eq!(
        (live.route, live.action_name),
        (pulseboard_shared::recovery::Route::Heartbeat, "restart")
    );
    assert_eq!(live.command.by, "ops");
    nodes.workers[0].alive = false;
    nodes.workers[0].host = Some("gpu-1".into());
    let dead = plan(&nodes.workers, &name, "restart", "ops", now, true).unwrap();
    assert_eq!(dead.route, pulseboard_shared::recovery::Route::Agent);
    assert_eq!(
        (dead.action_name, dead.host.as_deref()),
        ("reset_and_restart", Some("gpu-1"))
    );
    // Without the agent key, the agent cannot be asked: 409, saying why.
    let refused = plan(&nodes.workers, &name, "restart", "ops", now, false).unwrap_err();
    assert_eq!(
        refused,
        Refused::Conflict(pulseboard_shared::answer::Conflict::NoAgentKey)
    );
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    assert!(refused.to_string().contains("PULSEBOARD_AGENT_KEY"));
    let live_again = plan(
        &nodes.workers[1..],
        &nodes.workers[1].name,
        "quiet",
        "ops",
        now,
        false,
    );
    assert!(live_again.is_ok(), "the heartbeat route needs no key");
}

#[test]
fn a_hold_with_a_reason_is_one_override_and_one_entry_naming_it() {
    let change = GuardChange {
        mode: None,
        hold_for_s: Some(600),
        reason: Some("disk swap".into()),
    };
    let plan = plan_change(&change, "w1", "ops", 1_000).unwrap();
    assert_eq!(plan.overrides.len(), 1);
    assert!(matches!(
        &plan.overrides[0],
        Override::Hold {
            until: Some(1_600),
            ..
        }
    ));
    assert_eq!(plan.entries[0].detail, "hold for 600 s: disk swap");
    assert_eq!(plan.entries[0].hold_s, Some(600));
}
