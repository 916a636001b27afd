//! Alerts on worker transitions (down, recovered, dead at start-up, dead letters grew, flapping,
//! Redis lost and back), sent to Telegram and webhooks exactly once, and kept in an event log.
//!
//! They follow the live snapshots (no polling of their own), so an alert leaves one refresh after
//! a heartbeat key expires. Everything that must survive lives in Redis: the last judged state,
//! the undelivered alerts, the event log and the lease that makes one process of several the
//! sender.
//!
//! # Layout
//! Their settings are the `[alerts]` section of [`crate::config::alerts`].
//!
//! - [`alert`]: what one alert is.
//! - [`acknowledge`]: acknowledging an open alert (a Telegram press, the admin API).
//! - [`transitions`]: snapshots to transitions; pure, the clock passed in.
//! - [`messages`]: the texts, Korean (the seed's) or English.
//! - [`runbook`]: each alert's link to its section of `docs/runbook.md`.
//! - [`incidents`]: a host's downs (and recoveries) within a window as one incident: the first
//!   alert at once, one summary after.
//! - [`pages`]: alerts that want a person: re-sent until acknowledged, threaded to their end.
//! - [`silenced`]: silences applied: covered alerts recorded, not sent; owed ones sent at the end.
//! - [`sinks`]: Telegram `sendMessage` and a JSON webhook.
//! - [`telegram`]: the buttons under an alert, and reading their presses.
//! - [`outbox`]: undelivered alerts and the atomic commit of a transition.
//! - [`history`]: the event log and `GET /api/agent-office/events`.
//! - [`engine`]: the tasks that tie them together (judge, couriers) and their status for
//!   `/readyz`.
//!
//! Their keys, connection, lease and fenced commit script are the [`crate::ledger`]'s, shared
//! with the recovery guard.

pub mod acknowledge;
pub mod alert;
pub mod engine;
pub mod history;
pub mod incidents;
pub mod messages;
pub mod outbox;
pub mod pages;
pub mod runbook;
pub mod silenced;
pub mod sinks;
pub mod telegram;
pub mod transitions;

pub use engine::AlertsHandle;
