//! Guarded recovery: pulseboard decides, the worker or its supervisor acts, every step bounded
//! and audited. The rules are pure, in [`pulseboard_shared::recovery`]; here is their I/O.
//!
//! - [`stored`]: the guard's memory in Redis (one JSON value, written by the decider only).
//! - [`reading`]: what every refresh reads for it (that memory, the host agents' beats) and puts
//!   on the snapshot (`agents`, `workers[].recovery`), in every process alike.
//! - [`load`]: what a decision round reads first (that memory and the waiting overrides, each
//!   bounded, one script).
//! - [`engine`]: the decider, in the process holding the guard's lease: applies operators'
//!   overrides, settles answered actions, decides, and only then sends.
//! - [`commit`]: its seat: its own lease (one decider of several processes, with or without the
//!   alerts), and memory + alerts + audit records committed in one fenced script.
//! - [`send`]: how an action travels: a command on the worker's own list (it still beats) or a
//!   request on its host agent's stream (it is gone), signed with the agent key.
//! - [`answers`]: the agents' results read back, bounded, and taken only when signed and
//!   matching the action's id, host and worker.
//!
//! The guard decides whether or not the alerts are on (`alerts.enabled`): its lease is its own.
//! With the alerts off, its alerts are only recorded in the event log.

pub mod answers;
pub mod commit;
pub mod engine;
pub mod load;
pub mod reading;
pub mod send;
pub mod stored;
