//! `/api/openapi.json` against the real server: every JSON answer, in every state we can put the
//! server in, validates against the schema the document gives for its path and status; the
//! document and the README's route table name the same routes.

use std::collections::BTreeSet;

use pulseboard_shared::heartbeat::heartbeat_key;
use pulseboard_tests::sse::SseClient;
use pulseboard_tests::{beat, eventually, heartbeat, Stack};
use redis::AsyncCommands;
use serde_json::{json, Value};

/// The document, fetched from the server.
async fn document(stack: &Stack) -> Value {
    let (status, body) = stack.get("/api/openapi.json").await;
    assert_eq!(status, 200);
    let doc: Value = serde_json::from_str(&body).unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    doc
}

/// Fails naming every way `instance` breaks `schema` (a schema of the document, its `$ref`s
/// resolved against the whole document).
fn check(doc: &Value, schema: &Value, instance: &Value, what: &str) {
    let mut root = doc.clone();
    root["allOf"] = json!([schema]);
    let validator = jsonschema::validator_for(&root).expect("the document's schemas compile");
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{what} does not match the document: {errors:#?}\n{instance:#}"
    );
}

/// The schema the document gives for a JSON answer of `GET path` with `status`.
fn response_schema<'a>(doc: &'a Value, path: &str, status: u16) -> &'a Value {
    let schema = &doc["paths"][path]["get"]["responses"][status.to_string()]["content"]
        ["application/json"]["schema"];
    assert!(!schema.is_null(), "no JSON schema for GET {path} {status}");
    schema
}

async fn answer_matches(stack: &Stack, doc: &Value, path: &str) -> (u16, Value) {
    let (status, body) = stack.get(path).await;
    let value: Value =
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {e}: {body}"));
    let route = path.split('?').next().unwrap();
    check(
        doc,
        response_schema(doc, route, status),
        &value,
        &format!("GET {path} ({status})"),
    );
    (status, value)
}

#[tokio::test]
async fn every_answer_validates_against_the_document() {
    let mut stack = Stack::start().await;
    let doc = document(&stack).await;
    let mut r = stack.conn().await;

    // Healthy, busy, dead letters, a stranger, garbage, a worker declaring its lifecycle.
    beat(&mut r, &heartbeat("music-render", "render", "busy")).await;
    beat(&mut r, &heartbeat("image-render", "render", "idle")).await;
    beat(&mut r, &heartbeat("stranger", "render", "idle")).await;
    let _: () = r
        .rpush("dead_letter:queue:image-render", "x")
        .await
        .unwrap();
    let _: () = r
        .set(heartbeat_key("video-render"), "not json")
        .await
        .unwrap();
    let mut declaring = heartbeat("insta-render", "render", "busy");
    declaring.declared.phase = Some(pulseboard_shared::Phase::Unhealthy);
    declaring.declared.reason = Some("gpu lost".into());
    declaring.declared.checks = Some([("gpu".to_owned(), false)].into());
    declaring.declared.pid = Some(4242);
    beat(&mut r, &declaring).await;
    stack
        .wait_nodes("every case in place", |n| {
            n.workers.iter().any(|w| w.name == "stranger")
                && n.workers.iter().any(|w| w.error.is_some())
                && n.workers.iter().any(|w| w.declared.is_some())
        })
        .await;
    let (_, nodes) = answer_matches(&stack, &doc, "/api/agent-office/nodes").await;
    assert!(nodes["summary"].is_object());
    answer_matches(&stack, &doc, "/healthz").await;
    let (status, _) = answer_matches(&stack, &doc, "/readyz").await;
    assert_eq!(status, 200);

    // The stream's events: the whole snapshot is a Nodes, a change is a Patch.
    let schema = |name: &str| json!({ "$ref": format!("#/components/schemas/{name}") });
    let mut events = SseClient::connect(
        &format!("{}/api/agent-office/nodes/stream", stack.base),
        None,
    )
    .await;
    let first = events.next().await.unwrap();
    assert_eq!(first.event, "snapshot");
    check(
        &doc,
        &schema("Nodes"),
        &serde_json::from_str(&first.data).unwrap(),
        "a snapshot event",
    );
    // A death: an alert recorded in the event log, and a patch on the stream.
    let _: () = r.del(heartbeat_key("music-render")).await.unwrap();
    let patch = events.next().await.unwrap();
    assert_eq!(patch.event, "patch");
    check(
        &doc,
        &schema("Patch"),
        &serde_json::from_str(&patch.data).unwrap(),
        "a patch event",
    );
    eventually("the death in the event log", || async {
        let (_, body) = stack.get("/api/agent-office/events").await;
        let page: Value = serde_json::from_str(&body).ok()?;
        (!page["events"].as_array()?.is_empty()).then_some(())
    })
    .await
    .expect("the death recorded");
    let (_, page) = answer_matches(&stack, &doc, "/api/agent-office/events?limit=5").await;
    assert!(page["events"][0]["alert"].is_object() || page["events"][0]["type"].is_string());
    let (status, _) = answer_matches(&stack, &doc, "/api/agent-office/events?limit=0").await;
    assert_eq!(status, 400);
    let sparklines = "/api/agent-office/history/sparklines?workers=music-render+stranger";
    let (status, _) = answer_matches(&stack, &doc, sparklines).await;
    assert_eq!(status, 200);

    // Redis gone: the answers say so, in the documented shapes.
    stack.redis.stop().await;
    stack.wait_nodes("redis lost", |n| !n.redis_ok).await;
    answer_matches(&stack, &doc, "/api/agent-office/nodes").await;
    let (status, _) = answer_matches(&stack, &doc, "/readyz").await;
    assert_eq!(status, 503);
    let (status, _) = answer_matches(&stack, &doc, "/api/agent-office/events").await;
    assert_eq!(status, 503);
    let (status, _) = answer_matches(&stack, &doc, sparklines).await;
    assert_eq!(status, 503);
}

#[tokio::test]
async fn an_answer_of_the_wrong_shape_is_caught() {
    let stack = Stack::start().await;
    let doc = document(&stack).await;
    let mut nodes: Value =
        serde_json::from_str(&stack.get("/api/agent-office/nodes").await.1).unwrap();
    let schema = json!({ "$ref": "#/components/schemas/Nodes" });
    check(&doc, &schema, &nodes, "the real answer");
    nodes["workers"][0]["queue_depth"] = json!("three");
    let mut root = doc.clone();
    root["allOf"] = json!([schema]);
    let validator = jsonschema::validator_for(&root).unwrap();
    assert!(!validator.is_valid(&nodes), "a string queue_depth passed");
    nodes["workers"][0]["queue_depth"] = json!(3);
    nodes.as_object_mut().unwrap().remove("links");
    assert!(
        !validator.is_valid(&nodes),
        "a missing required field passed"
    );
    stack.stop().await;
}

#[tokio::test]
async fn the_document_and_the_readme_name_the_same_routes() {
    let stack = Stack::start().await;
    let doc = document(&stack).await;
    let documented: BTreeSet<String> = doc["paths"].as_object().unwrap().keys().cloned().collect();
    let readme = include_str!("../../README.md");
    // The README's HTTP table: "| `GET /path` | ... |" (or POST, DELETE), the page's aside.
    let listed: BTreeSet<String> = readme
        .lines()
        .filter_map(|l| {
            l.strip_prefix("| `GET /")
                .or_else(|| l.strip_prefix("| `POST /"))
                .or_else(|| l.strip_prefix("| `DELETE /"))
        })
        .filter_map(|l| l.split('`').next())
        .map(|p| format!("/{}", p.split('?').next().unwrap()))
        .filter(|p| !p.starts_with("/infra"))
        .collect();
    assert_eq!(documented, listed, "documented vs the README's table");
    // And each documented route that can be read answers (the admin action: 403 without
    // tokens, see admin.rs); a route that only takes POSTs (Telegram's webhook) has no HEAD, and
    // one with a required parameter (the sparklines' workers) is asked with none.
    let readable = |p: &&String| {
        let get = &doc["paths"][p.as_str()]["get"];
        let needs = get["parameters"]
            .as_array()
            .is_some_and(|ps| ps.iter().any(|p| p["required"] == true));
        !p.contains('{') && get.is_object() && !needs
    };
    for path in documented.iter().filter(readable) {
        let status = stack
            .http
            .head(format!("{}{path}", stack.base))
            .send()
            .await
            .unwrap()
            .status();
        assert!(status.is_success(), "{path}: {status}");
    }
    stack.stop().await;
}
