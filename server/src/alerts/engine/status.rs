//! What the running alerts report in `/readyz`: whether this process is the sender, and per sink
//! its deliveries, what waits and the last failure.

use std::sync::Arc;

use serde_json::json;

use super::Shared;

/// One sink's figures since start-up; the couriers keep them.
#[derive(Debug, Clone, Default)]
pub(super) struct SinkStatus {
    pub delivered: u64,
    pub failed_attempts: u64,
    pub given_up: u64,
    /// In the sink's outbox in Redis, as last counted.
    pub waiting: u64,
    pub last_delivered_at: Option<String>,
    pub last_error: Option<String>,
    pub last_error_at: Option<String>,
}

/// One alert sink's figures since start-up, for `/metrics`.
#[derive(Debug, Clone)]
pub struct SinkFigures {
    /// `telegram` or `webhook`.
    pub name: String,
    /// Alerts delivered.
    pub delivered: u64,
    /// Attempts that failed (retried).
    pub failed_attempts: u64,
    /// Alerts given up after retrying.
    pub given_up: u64,
    /// Alerts waiting in its outbox.
    pub waiting: u64,
}

/// A handle on the running alerts: their status for `/readyz`.
#[derive(Clone)]
pub struct AlertsHandle {
    pub(super) shared: Arc<Shared>,
}

impl AlertsHandle {
    pub(super) fn new(shared: Arc<Shared>) -> Self {
        Self { shared }
    }

    /// Per sink, what `/metrics` counts.
    pub fn sink_figures(&self) -> Vec<SinkFigures> {
        let s = &self.shared;
        let status = s.status.lock().expect("status lock").clone();
        s.sinks
            .iter()
            .zip(status)
            .zip(&s.offline)
            .map(|((sink, st), offline)| SinkFigures {
                name: sink.name().to_owned(),
                delivered: st.delivered,
                failed_attempts: st.failed_attempts,
                given_up: st.given_up,
                waiting: st.waiting + offline.lock().expect("offline lock").len() as u64,
            })
            .collect()
    }

    /// The sinks' names (each has its own outbox), for the recovery guard's alerts.
    pub fn sink_names(&self) -> Vec<&'static str> {
        self.shared.sinks.iter().map(super::Sink::name).collect()
    }

    /// Tells the couriers that new alerts wait in their outboxes.
    pub fn wake(&self) {
        for wake in &self.shared.wake {
            wake.notify_one();
        }
    }

    /// Whether this process holds the alerts' lease.
    pub fn is_sender(&self) -> bool {
        self.shared.lease.held()
    }

    /// The alerts' part of `/readyz`: role, and per sink deliveries and the last failure.
    pub fn status_json(&self) -> serde_json::Value {
        let s = &self.shared;
        let status = s.status.lock().expect("status lock").clone();
        let sinks: Vec<_> = s
            .sinks
            .iter()
            .zip(status)
            .zip(&s.offline)
            .map(|((sink, st), offline)| {
                json!({
                    "name": sink.name(),
                    "delivered": st.delivered,
                    "failed_attempts": st.failed_attempts,
                    "given_up": st.given_up,
                    "waiting": st.waiting + offline.lock().expect("offline lock").len() as u64,
                    "last_delivered_at": st.last_delivered_at,
                    "last_error": st.last_error,
                    "last_error_at": st.last_error_at,
                })
            })
            .collect();
        json!({
            "enabled": s.settings.enabled,
            "sender": s.lease.held(),
            "sinks": sinks,
            "redis_error": *s.redis_error.lock().expect("error lock"),
        })
    }
}
