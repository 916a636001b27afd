//! Guarded recovery: pulseboard decides, the worker or its supervisor acts, every step bounded
//! and audited. The rules are pure, in [`pulseboard_shared::recovery`]; here is their I/O.
//!
//! - [`stored`]: the guard's memory in Redis (one JSON value, written by the decider only).
//! - [`reading`]: what every refresh reads for it (that memory, the host agents' beats) and puts
//!   on the snapshot (`agents`, `workers[].recovery`), in every process alike.
//! - [`engine`]: the decider, in the process holding the alerts' lease: applies operators'
//!   overrides, settles answered actions, decides, commits memory + alerts + audit records in one
//!   fenced script, and only then sends.
//! - [`send`]: how an action travels: a command on the worker's own list (it still beats) or a
//!   request on its host agent's stream (it is gone); and the agents' results read back.
//!
//! Without the alerts (`alerts.enabled = false`) there is no lease and nobody decides: the page
//! and the API still show what the guard would recommend.

pub mod engine;
pub mod reading;
pub mod send;
pub mod stored;
