//! pulseboard's page, served at `/infra/`: the fleet live, as a 3D pipeline (three-d on WebGL2)
//! or as a grid of cards, fed by the server's `/api/agent-office/nodes/stream` (or, with `?mock`,
//! by a script running in the page). A Leptos CSR app, built for `wasm32` by trunk.
//!
//! # Layout
//! - [`stream`]: where snapshots come from, as signals shared with every component by context
//!   (`stream/`: the feed the page reads, publishing a snapshot or a patch, the SSE stream with
//!   its reopening, polling, the mock script, the hook for tests).
//! - [`page`]: what the page learns from the browser (address, language, screen, saved view).
//! - [`app`]: the page (header, summary, warnings, the view, the detail panel).
//! - [`glance`]: the summary bar (counts that filter, totals, search, grouping) and the lens it
//!   sets for both views.
//! - [`board`]: the 2D view: cards, or past a hundred-odd workers a windowed list of rows.
//! - [`scene`]: the 3D view (component; `scene/`: GL lifecycle, label placement and picking,
//!   node labels, frame loop, frame figures).
//! - [`renderer`]: the three-d objects of the scene. [`orbit`]: the camera.
//! - [`card`]: one worker's card (2D). [`detail`]: every field of one worker.
//! - [`recovery`]: the detail panel's recovery section; [`guard_mark`]: the 🔧/⛔ marks on
//!   labels, cards and rows; [`admin`]: the admin API's requests from the page and the tab's
//!   admin token. [`dead_letters`]: the panel's dead letters (list, replay, delete).
//! - [`text`]: every word of the page in Korean and English, and the language by context.
//! - [`timeline`]: the alert timeline from the event log.
//! - [`json`]: reading the server's JSON (as `serde_json` does; structs from objects only, enums
//!   from strings only).
//!
//! What the data means (link status, labels, colours, the scene's layout, the mock script) lives
//! in `pulseboard-shared`, so the views and the server cannot disagree.

mod ack;
mod admin;
mod app;
mod board;
mod card;
mod dead_letters;
mod detail;
mod glance;
mod guard_mark;
mod json;
mod orbit;
mod page;
mod recovery;
mod renderer;
mod scene;
mod silences;
mod sparkline;
mod stream;
mod text;
mod throughput;
mod timeline;
mod token_gate;

fn main() {
    leptos::mount::mount_to_body(app::App);
}
