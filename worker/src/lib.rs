//! `pulseboard-worker`: what a Rust program needs to be a well-behaved pulseboard worker.
//!
//! # Layout
//! - [`heartbeat`]: a background task that writes contract 1 (with readiness, checks, the current
//!   job and a final `stopped` beat) every interval, never blocking the worker's own work.
//! - [`queue`]: the seed's reliable queue: claim a job into the consumer's in-flight list, ack
//!   it, or fail it into the dead-letter list; leftovers of a previous run go back to the queue.
//!
//! A whole render worker on both: `examples/render_worker.rs`
//! (`cargo run -p pulseboard-worker --example render_worker -- redis://127.0.0.1:6379 image-render`).
//! Programs in other languages get the same with `pulseboard run` (no code change).

pub mod heartbeat;
pub mod queue;
