//! Polling the plain snapshot every 3 s, only where the browser has no `EventSource` (or `?poll`).

use std::time::Duration;

use leptos::prelude::*;
use wasm_bindgen::JsValue;

use super::publish::Setters;
use super::Connection;
use crate::page::fetch_text;

/// The plain snapshot, for polling.
pub const NODES: &str = "/api/agent-office/nodes";
const POLL_EVERY: Duration = Duration::from_secs(3);

/// Polls now and every [`POLL_EVERY`]; the timer is the caller's to clear.
pub(super) fn start(set: Setters) -> Result<IntervalHandle, JsValue> {
    set.connection.set(Connection::Polling);
    let poll = move || leptos::task::spawn_local(poll_once(set));
    poll();
    set_interval_with_handle(poll, POLL_EVERY)
}

async fn poll_once(set: Setters) {
    match fetch_text(NODES).await {
        Ok(text) => {
            set.connection.set(Connection::Polling);
            let _ = set.publish_json(&text);
        }
        Err(_) => set.connection.set(Connection::Reconnecting),
    }
}
