//! The running alerts: three kinds of task around the pure
//! [`Tracker`](super::transitions::Tracker), and the state they share.
//!
//! - the [lease keeper](crate::ledger::keeper) decides whether this process is the sender;
//! - [`judge`]: follows the hub's snapshots, and when this process is the sender, turns them
//!   into transitions and commits them (state, outbox, event log) to Redis in one script;
//! - [`courier`]: one per sink, takes the oldest undelivered alert, sends it, and pops it, or
//!   retries it with backoff until it is given up;
//! - `presses`: reads presses of the buttons under Telegram alerts (acknowledge, silence,
//!   restart), by `getUpdates` or, in webhook mode, as POSTed to any process;
//! - [`status`]: what they report in `/readyz`.
//!
//! While Redis is unreachable nothing can be committed: the "Redis lost" alert (the only one
//! raised then) goes to an in-memory queue that the couriers send first, and the event-log
//! records wait in memory until Redis answers again.

mod courier;
mod judge;
mod presses;
mod status;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use chrono::Utc;
use tokio::sync::{watch, Notify};
use tokio::task::JoinSet;

pub use self::judge::raise_unless;
pub use self::presses::{Restarted, Restarter};
use self::status::SinkStatus;
pub use self::status::{AlertsHandle, SinkFigures};
use super::history::Record;
use super::outbox::Pending;
use super::sinks::{self, Sink};
use crate::aggregate::iso;
use crate::config::{AlertSettings, Config};
use crate::ledger::lease::Lease;
use crate::ledger::store::Store;
use crate::ledger::{events, keeper};
use crate::shutdown::Shutdown;
use crate::snapshot::Hub;

/// At most this many event-log records wait in memory for Redis; older ones are dropped.
const UNRECORDED_MAX: usize = 1000;

/// Milliseconds since the epoch: the alerts' clock.
fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

fn iso_ms(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).map_or_else(String::new, iso)
}

/// What the tasks share.
struct Shared {
    settings: AlertSettings,
    store: Store,
    /// Who sends: this process when it holds it.
    lease: Lease,
    sinks: Vec<Sink>,
    /// One per sink: new alerts are in the outbox.
    wake: Vec<Notify>,
    /// One per sink: alerts raised while Redis could not store them, oldest first.
    offline: Vec<Mutex<VecDeque<Pending>>>,
    unrecorded: tokio::sync::Mutex<Vec<Record>>,
    status: Mutex<Vec<SinkStatus>>,
    redis_error: Mutex<Option<String>>,
    /// Who restarts a worker from its alert's button (the admin API is on).
    restarter: Option<Arc<dyn Restarter>>,
    /// The sinks' HTTP client, also for answering presses and setting the webhook.
    client: reqwest::Client,
}

/// Starts the alerts' tasks on `hub`'s snapshots into `tasks`; they end after `shutdown`. With a
/// `restarter`, Telegram alerts about one worker carry a Restart button.
pub fn start(
    configs: watch::Receiver<Config>,
    store: Store,
    hub: &Hub,
    restarter: Option<Arc<dyn Restarter>>,
    shutdown: Shutdown,
    tasks: &mut JoinSet<()>,
) -> AlertsHandle {
    let settings = configs.borrow().alerts.clone();
    let sinks = Sink::all(&settings, restarter.is_some());
    let lease = Lease::new(
        store.clone(),
        store.keys.lease(),
        settings.lease,
        "alerts: this process is the sender",
        "alerts: another process is the sender",
    );
    if sinks.is_empty() {
        tracing::info!("alerts: no sink configured (set TELEGRAM_BOT_TOKEN and TELEGRAM_CHAT_ID, or PULSEBOARD_WEBHOOK_URL); transitions are only recorded in the event log");
    } else {
        let names: Vec<_> = sinks.iter().map(Sink::name).collect();
        tracing::info!(sinks = ?names, "alerts: on");
    }
    let client = sinks::client();
    let shared = Arc::new(Shared {
        client: client.clone(),
        wake: sinks.iter().map(|_| Notify::new()).collect(),
        offline: sinks.iter().map(|_| Mutex::new(VecDeque::new())).collect(),
        status: Mutex::new(vec![SinkStatus::default(); sinks.len()]),
        sinks,
        settings,
        store,
        lease: lease.clone(),
        unrecorded: tokio::sync::Mutex::new(Vec::new()),
        redis_error: Mutex::new(None),
        restarter,
    });
    tasks.spawn(keeper::run(lease, shutdown.clone()));
    tasks.spawn(judge::run(
        shared.clone(),
        hub.subscribe(),
        configs,
        shutdown.clone(),
    ));
    tasks.spawn(presses::run(
        shared.clone(),
        hub.subscribe(),
        shutdown.clone(),
    ));
    for i in 0..shared.sinks.len() {
        tasks.spawn(courier::run(
            shared.clone(),
            i,
            client.clone(),
            shutdown.clone(),
        ));
    }
    AlertsHandle::new(shared)
}

impl Shared {
    /// Remembers the last Redis failure (`None`: Redis answers), logging only the changes.
    fn note_redis(&self, error: Option<String>) {
        let mut last = self.redis_error.lock().expect("error lock");
        match (&*last, &error) {
            (None, Some(e)) => tracing::warn!(error = %e, "alerts: redis unavailable"),
            (Some(_), None) => tracing::info!("alerts: redis available again"),
            _ => {}
        }
        *last = error;
    }

    /// Appends `records` (after any that waited) to the event log, or keeps them for later.
    async fn record(&self, records: Vec<Record>) {
        let mut waiting = self.unrecorded.lock().await;
        waiting.extend(records);
        if waiting.is_empty() {
            return;
        }
        if events::append(&self.store, &waiting, self.settings.history_max)
            .await
            .is_ok()
        {
            waiting.clear();
        } else if waiting.len() > UNRECORDED_MAX {
            let excess = waiting.len() - UNRECORDED_MAX;
            waiting.drain(..excess);
        }
    }
}
