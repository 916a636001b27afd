//! `GET /api/openapi.json`: an OpenAPI 3.1 description of every route, generated (utoipa) from
//! the same Rust types and handlers that serve the answers, so it cannot say one thing while the
//! server does another. Built once, served as bytes.

use std::sync::OnceLock;

use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use utoipa::OpenApi;

use crate::alerts::history;
use crate::http;

/// The document's source.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "pulseboard",
        description = "Live health of a fleet of job workers, from their Redis heartbeats and queues. \
                       Every answer is read from the latest snapshot; none touches Redis."
    ),
    paths(
        http::nodes,
        http::stream::stream,
        http::healthz,
        http::readyz,
        http::metrics,
        history::events,
        crate::acks::ack,
        crate::presses::press,
        crate::admin::act,
        crate::admin::set_guard,
        crate::admin::reset_guard,
        crate::dead_letters::list,
        crate::dead_letters::replay,
        crate::dead_letters::delete,
        crate::history::history,
        crate::history::sparklines::sparklines,
        crate::silences::list,
        crate::silences::add,
        crate::silences::end,
        document,
    ),
    components(schemas(pulseboard_shared::patch::Patch)),
    tags(
        (name = "fleet", description = "The workers, their queues and links (contract 2)"),
        (name = "alerts", description = "The alerts' event log, and acknowledging an alert"),
        (name = "health", description = "pulseboard's own health and figures"),
        (name = "admin", description = "Actions on workers, for holders of an admin token"),
        (name = "silences", description = "Silences and maintenance: alerts held for a while"),
    )
)]
pub struct ApiDoc;

/// The document as JSON.
pub fn json() -> &'static str {
    static JSON: OnceLock<String> = OnceLock::new();
    JSON.get_or_init(|| {
        ApiDoc::openapi()
            .to_pretty_json()
            .expect("the document serialises")
    })
}

/// `GET /api/openapi.json`, merged into the HTTP surface by whoever serves it (the document
/// names the HTTP handlers, so the route lives here and not in `http`).
pub fn router() -> Router {
    Router::new().route("/api/openapi.json", get(document))
}

/// This document.
#[utoipa::path(get, path = "/api/openapi.json", tag = "health", responses(
    (status = 200, description = "The OpenAPI 3.1 description of this server", content_type = "application/json", body = Object),
))]
pub(crate) async fn document() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], json()).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_is_openapi_3_1_and_describes_contract_2() {
        let doc: serde_json::Value = serde_json::from_str(json()).unwrap();
        assert!(
            doc["openapi"].as_str().unwrap().starts_with("3.1"),
            "{}",
            doc["openapi"]
        );
        let nodes = &doc["components"]["schemas"]["Nodes"];
        let required: Vec<&str> = nodes["required"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        for field in [
            "redis_ok",
            "paused",
            "paused_reason",
            "generated_at",
            "workers",
            "links",
        ] {
            assert!(
                required.contains(&field),
                "{field} not required: {required:?}"
            );
        }
        for optional in ["hosts", "summary"] {
            assert!(!required.contains(&optional), "{optional} must be optional");
        }
    }
}
