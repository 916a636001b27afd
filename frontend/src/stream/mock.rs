//! The mock script played in the page (`?mock`, `?mock=<second>`, `&workers=<n>`, `&hold`): no
//! server needed.

use std::time::Duration;

use leptos::prelude::*;
use pulseboard_shared::mock::mock_fleet;
use pulseboard_shared::Summary;
use wasm_bindgen::JsValue;

use super::publish::Setters;
use super::Connection;
use crate::page::{now_ms, query_param};

/// Plays the script from second `mock` (the `?mock` value) now and every second; the timer is
/// the caller's to clear.
pub(super) fn start(set: Setters, mock: &str) -> Result<IntervalHandle, JsValue> {
    let offset = mock.parse::<u64>().unwrap_or(0);
    let size = query_param("workers")
        .and_then(|n| n.parse().ok())
        .unwrap_or(6usize)
        .clamp(1, 10_000);
    let start = now_ms();
    // `&hold`: the script stays at its second (screenshots, tests).
    let hold = query_param("hold").is_some();
    let tick = move || {
        let moved = if hold {
            0
        } else {
            ((now_ms() - start) / 1000.0) as u64
        };
        let elapsed = offset + moved;
        let mut nodes = mock_fleet(elapsed, size);
        nodes.workers.truncate(size);
        nodes.summary = Some(Summary::of(&nodes.workers));
        set.publish(nodes);
    };
    tick();
    set.connection.set(Connection::Mock);
    set_interval_with_handle(tick, Duration::from_secs(1))
}
