//! The admin API against the real server, a real Redis and a worker on the SDK: off without
//! tokens (403), a missing or wrong token refused (401), an unknown worker or action 404; a good
//! token queues the command once, the worker takes it with its next beat, and the event log says
//! who asked.

use std::time::Duration;

use pulseboard_server::config::admin::AdminTokens;
use pulseboard_shared::command::{commands_key, Action, Command};
use pulseboard_shared::Phase;
use pulseboard_tests::{Stack, PATIENCE};
use pulseboard_worker::heartbeat::{start, Options};
use redis::AsyncCommands;
use serde_json::Value;

const OPS: &str = "ops-token-0123456789";

async fn post(stack: &Stack, path: &str, token: Option<&str>) -> (u16, Value) {
    let mut request = reqwest::Client::new().post(format!("{}{path}", stack.base));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn without_tokens_actions_are_off_and_say_how_to_turn_them_on() {
    let stack = Stack::start().await;
    let (status, body) = post(
        &stack,
        "/api/agent-office/workers/music-render/restart",
        Some(OPS),
    )
    .await;
    assert_eq!(status, 403);
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("PULSEBOARD_ADMIN_TOKENS"),
        "{body}"
    );
    let mut r = stack.conn().await;
    let queued: usize = r.llen(commands_key("music-render")).await.unwrap();
    assert_eq!(queued, 0);
    stack.stop().await;
}

#[tokio::test]
async fn a_good_token_restarts_a_worker_through_its_heartbeat_and_the_log_names_who() {
    let stack = Stack::start_with(|c| {
        c.admin_tokens = AdminTokens::parse(&format!("ops:{OPS},ci:ci-token-0123456789")).unwrap();
    })
    .await;
    let options = Options {
        interval: Duration::from_secs(1),
        phase: Phase::Ready,
        ..Options::default()
    };
    let beat = start("image-render", "render", &stack.redis.url(), options).unwrap();
    let mut wishes = beat.wishes();
    stack
        .wait_nodes("the worker alive", |n| {
            n.workers
                .iter()
                .any(|w| w.name == "image-render" && w.alive)
        })
        .await;

    let path = "/api/agent-office/workers/image-render/restart";
    assert_eq!(post(&stack, path, None).await.0, 401);
    assert_eq!(
        post(&stack, path, Some("wrong-token-0123456789")).await.0,
        401
    );
    let unknown = "/api/agent-office/workers/nobody/restart";
    assert_eq!(post(&stack, unknown, Some(OPS)).await.0, 404);
    let reboot = "/api/agent-office/workers/image-render/reboot";
    assert_eq!(post(&stack, reboot, Some(OPS)).await.0, 404);
    let mut r = stack.conn().await;
    let queued: usize = r.llen(commands_key("image-render")).await.unwrap();
    assert_eq!(queued, 0, "nothing refused was queued");

    let (status, accepted) = post(&stack, path, Some(OPS)).await;
    assert_eq!(status, 202, "{accepted}");
    assert_eq!(accepted["by"], "ops");
    assert_eq!(accepted["action"], "restart");
    let id = accepted["id"].as_str().unwrap().to_owned();
    tokio::time::timeout(PATIENCE, wishes.wait_for(|w| *w == Some(Action::Restart)))
        .await
        .expect("the worker takes the restart with its next beat")
        .unwrap();
    let reason = format!("restart asked by ops ({id})");
    stack
        .wait_nodes("the worker draining for the restart", |n| {
            n.workers.iter().any(|w| {
                w.name == "image-render"
                    && w.lifecycle.as_ref().and_then(|l| l.reason.as_deref()) == Some(&reason)
            })
        })
        .await;

    let (status, log) = {
        let r = reqwest::get(format!("{}/api/agent-office/events?limit=10", stack.base))
            .await
            .unwrap();
        (r.status().as_u16(), r.json::<Value>().await.unwrap())
    };
    assert_eq!(status, 200);
    let commands: Vec<&Value> = log["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "command")
        .collect();
    assert_eq!(commands.len(), 1, "once: {log}");
    let logged: Command = serde_json::from_value(commands[0]["command"].clone()).unwrap();
    assert_eq!(
        (logged.id.as_str(), logged.by.as_str()),
        (id.as_str(), "ops")
    );
    assert_eq!(commands[0]["worker"], "image-render");
    assert!(!log.to_string().contains(OPS), "the token is never written");
    beat.stop().await;
    stack.stop().await;
}
