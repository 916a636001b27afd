//! What pulseboard keeps in Redis for the alerts and the recovery guard alike, owned by neither:
//! the keys and the connection, the leases that make one process of several act, the fenced
//! script that commits a decision (state, outbox, event log) in one go, and the event log's
//! writer. The alerts and the guard build on it; it knows neither.
//!
//! - [`store`]: the keys (one prefix, one hash tag on a cluster) and one shared connection.
//! - [`lease`]: one holder of a role among several processes, and its fencing check.
//! - [`keeper`]: the task that renews (or takes) a lease and lets it go on shutdown.
//! - [`acks`]: who acknowledged which alert (a Telegram press, the admin API).
//! - [`commit`]: the fenced commit script: state, a trimmed list, queued entries, the event log.
//! - [`events`]: appending to the event log, and reading stream entries back.
//! - [`silences`]: the silences in force (set by the admin API, read by every refresh).
//! - [`read_only`]: read-only scripts (`EVALSHA_RO`), which a read-only Redis user may run.

pub mod acks;
pub mod commit;
pub mod events;
pub mod keeper;
pub mod lease;
pub mod read_only;
pub mod silences;
pub mod store;
