//! The page's one hook for tests.

use leptos::prelude::*;
use pulseboard_shared::Nodes;
use wasm_bindgen::{closure::Closure, JsValue};

/// `window.pulseboardNodes()`: the snapshot the page holds, as JSON, so a test can compare what
/// the patches built with the server's whole snapshot. Read-only; set once per page.
pub(super) fn expose_for_tests(nodes: ReadSignal<Option<Nodes>>) {
    let read = Closure::<dyn Fn() -> JsValue>::new(move || {
        nodes
            .with_untracked(|n| serde_json::to_string(n).ok())
            .map_or(JsValue::NULL, |json| JsValue::from_str(&json))
    });
    let _ = js_sys::Reflect::set(
        &window(),
        &JsValue::from_str("pulseboardNodes"),
        read.as_ref(),
    );
    // It lives as long as the page.
    read.forget();
}
