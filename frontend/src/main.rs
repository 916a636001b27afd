//! pulseboard's page, served at `/infra/`: a live grid of worker cards fed by the server's
//! `/api/agent-office/nodes/stream`. A Leptos CSR app, built for `wasm32` by trunk.
//!
//! # Layout
//! - [`stream`]: the `EventSource` and the signals it feeds.
//! - [`app`]: the page (header, warnings, grid).
//! - [`card`]: one worker's card.
//!
//! What the data means (link status, labels, colours) lives in `pulseboard-shared`, so the
//! cards and the server cannot disagree.

mod app;
mod card;
mod stream;

fn main() {
    leptos::mount::mount_to_body(app::App);
}
