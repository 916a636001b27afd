//! The running alerts: three kinds of task around the pure [`Tracker`].
//!
//! - the lease keeper decides whether this process is the sender;
//! - the judge follows the hub's snapshots, and when this process is the sender, turns them into
//!   transitions and commits them (state, outbox, event log) to Redis in one script;
//! - one courier per sink takes the oldest undelivered alert, sends it, and pops it, or retries
//!   it with backoff until it is given up.
//!
//! While Redis is unreachable nothing can be committed: the "Redis lost" alert (the only one
//! raised then) goes to an in-memory queue that the couriers send first, and the event-log
//! records wait in memory until Redis answers again.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use serde_json::json;
use tokio::sync::{watch, Notify};
use tokio::task::JoinSet;

use super::alert::{Alert, Transition};
use super::history::{self, Record, RecordKind};
use super::lease;
use super::messages;
use super::outbox::{self, Commit, Pending};
use super::sinks::{self, Sink};
use super::store::Store;
use super::transitions::{Rules, Tracker};
use crate::aggregate::iso;
use crate::config::AlertSettings;
use crate::shutdown::Shutdown;
use crate::snapshot::Hub;

/// At most this many event-log records wait in memory for Redis; older ones are dropped.
const UNRECORDED_MAX: usize = 1000;

/// Milliseconds since the epoch: the alerts' clock.
pub fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

fn iso_ms(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).map_or_else(String::new, iso)
}

/// A sink's figures, for `/readyz`.
#[derive(Debug, Clone, Default)]
struct SinkStatus {
    delivered: u64,
    failed_attempts: u64,
    given_up: u64,
    waiting: u64,
    last_delivered_at: Option<String>,
    last_error: Option<String>,
    last_error_at: Option<String>,
}

/// What the tasks share.
struct Shared {
    settings: AlertSettings,
    store: Store,
    me: String,
    sinks: Vec<Sink>,
    leader: watch::Sender<bool>,
    /// One per sink: new alerts are in the outbox.
    wake: Vec<Notify>,
    /// One per sink: alerts raised while Redis could not store them, oldest first.
    offline: Vec<Mutex<VecDeque<Pending>>>,
    unrecorded: tokio::sync::Mutex<Vec<Record>>,
    status: Mutex<Vec<SinkStatus>>,
    redis_error: Mutex<Option<String>>,
}

/// A handle on the running alerts: their status for `/readyz`.
#[derive(Clone)]
pub struct AlertsHandle {
    shared: Arc<Shared>,
}

impl AlertsHandle {
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
            "sender": *s.leader.borrow(),
            "sinks": sinks,
            "redis_error": *s.redis_error.lock().expect("error lock"),
        })
    }

    /// Whether this process is the sender now.
    pub fn is_sender(&self) -> bool {
        *self.shared.leader.borrow()
    }
}

/// Starts the alerts' tasks on `hub`'s snapshots into `tasks`; they end after `shutdown`.
pub fn start(
    settings: AlertSettings,
    store: Store,
    hub: &Hub,
    shutdown: Shutdown,
    tasks: &mut JoinSet<()>,
) -> AlertsHandle {
    let sinks = Sink::all(&settings);
    let me = format!(
        "{}-{}-{:08x}",
        std::env::var("HOSTNAME").unwrap_or_else(|_| "host".into()),
        std::process::id(),
        rand::random::<u32>()
    );
    if sinks.is_empty() {
        tracing::info!("alerts: no sink configured (set TELEGRAM_BOT_TOKEN and TELEGRAM_CHAT_ID, or PULSEBOARD_WEBHOOK_URL); transitions are only recorded in the event log");
    } else {
        let names: Vec<_> = sinks.iter().map(Sink::name).collect();
        tracing::info!(sinks = ?names, "alerts: on");
    }
    let shared = Arc::new(Shared {
        wake: sinks.iter().map(|_| Notify::new()).collect(),
        offline: sinks.iter().map(|_| Mutex::new(VecDeque::new())).collect(),
        status: Mutex::new(vec![SinkStatus::default(); sinks.len()]),
        sinks,
        settings,
        store,
        me,
        leader: watch::Sender::new(false),
        unrecorded: tokio::sync::Mutex::new(Vec::new()),
        redis_error: Mutex::new(None),
    });
    tasks.spawn(keep_lease(shared.clone(), shutdown.clone()));
    tasks.spawn(judge(shared.clone(), hub.subscribe(), shutdown.clone()));
    let client = sinks::client();
    for i in 0..shared.sinks.len() {
        tasks.spawn(courier(shared.clone(), i, client.clone(), shutdown.clone()));
    }
    AlertsHandle { shared }
}

fn set_leader(shared: &Shared, leading: bool) {
    let was = shared.leader.send_replace(leading);
    if was != leading {
        if leading {
            tracing::info!(id = %shared.me, "alerts: this process is the sender");
        } else {
            tracing::info!(id = %shared.me, "alerts: another process is the sender");
        }
    }
}

fn note_redis(shared: &Shared, error: Option<String>) {
    let mut last = shared.redis_error.lock().expect("error lock");
    match (&*last, &error) {
        (None, Some(e)) => tracing::warn!(error = %e, "alerts: redis unavailable"),
        (Some(_), None) => tracing::info!("alerts: redis available again"),
        _ => {}
    }
    *last = error;
}

/// Renews the lease a few times per lease period; after Redis returns, a process that was not
/// the sender waits one period, so the sender that saw the outage reports its end.
async fn keep_lease(shared: Arc<Shared>, shutdown: Shutdown) {
    let period = shared.settings.lease;
    let lease_ms = period.as_millis() as u64;
    let mut tick = tokio::time::interval(period / 3);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut outage = false;
    let mut hold_off_until = None;
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = shutdown.wait() => break,
        }
        if hold_off_until.is_some_and(|t| tokio::time::Instant::now() < t) {
            continue;
        }
        match lease::hold(&shared.store, &shared.me, lease_ms).await {
            Ok(held) if outage && held && !*shared.leader.borrow() => {
                // Just back; give the previous sender its period before competing. (The lease
                // was vacant; hand it back by not renewing it.)
                outage = false;
                let _ = lease::release(&shared.store, &shared.me).await;
                hold_off_until = Some(tokio::time::Instant::now() + period);
            }
            Ok(held) => {
                outage = false;
                hold_off_until = None;
                set_leader(&shared, held);
            }
            Err(_) => outage = true, // keep the role: nobody else can take it without Redis
        }
    }
    if *shared.leader.borrow() {
        let _ = lease::release(&shared.store, &shared.me).await;
    }
}

/// Follows the snapshots; while this process is the sender, judges and commits transitions.
async fn judge(
    shared: Arc<Shared>,
    mut snapshots: watch::Receiver<Arc<crate::snapshot::Snapshot>>,
    shutdown: Shutdown,
) {
    let s = &shared.settings;
    let rules = Rules {
        grace_ms: s.startup_grace.as_millis() as i64,
        flap_max: s.flap_max,
        flap_window_ms: s.flap_window.as_millis() as i64,
    };
    let sink_names: Vec<&'static str> = shared.sinks.iter().map(Sink::name).collect();
    let mut tracker: Option<Tracker> = None;
    let mut dirty = false;
    loop {
        tokio::select! {
            changed = snapshots.changed() => if changed.is_err() { break },
            _ = shutdown.wait() => break,
        }
        let snapshot = snapshots.borrow_and_update().clone();
        if snapshot.version == 0 || !*shared.leader.borrow() {
            tracker = None; // a sender-to-be reloads what the last sender stored
            continue;
        }
        let now = now_ms();
        let t = match &mut tracker {
            Some(t) => t,
            None => match outbox::load_memory(&shared.store).await {
                Ok(memory) => tracker.insert(Tracker::new(rules, memory, now)),
                Err(e) => {
                    note_redis(&shared, Some(e.to_string()));
                    continue;
                }
            },
        };
        let before = t.memory().clone();
        let transitions = t.observe(&snapshot.nodes, now);
        if transitions.is_empty() && !dirty && *t.memory() == before {
            continue;
        }
        let alerts: Vec<(Pending, Record)> = transitions
            .iter()
            .map(|tr| {
                let alert = to_alert(tr, s, now);
                tracing::info!(kind = ?alert.kind, worker = alert.worker.as_deref().unwrap_or("-"), text = %alert.text, "alert raised");
                let record = Record {
                    at: alert.at.clone(),
                    kind: RecordKind::Transition,
                    alert_id: alert.id.clone(),
                    alert: Some(alert.clone()),
                    sink: None,
                    attempt: None,
                    error: None,
                };
                (Pending::new(alert, now), record)
            })
            .collect();
        let committed = if snapshot.nodes.redis_ok {
            outbox::commit(
                &shared.store,
                Commit {
                    me: &shared.me,
                    lease_ms: s.lease.as_millis() as u64,
                    memory: t.memory(),
                    alerts: &alerts,
                    sinks: &sink_names,
                    history_max: s.history_max,
                },
            )
            .await
            .map_err(|e| e.to_string())
        } else {
            Err("redis unreachable".to_owned())
        };
        match committed {
            Ok(true) => {
                dirty = false;
                note_redis(&shared, None);
                for wake in &shared.wake {
                    wake.notify_one();
                }
                record(&shared, vec![]).await; // flush what waited for Redis
            }
            Ok(false) => {
                // Another process holds the lease: it judges from the stored state, which does
                // not hold these transitions, so it raises them itself.
                set_leader(&shared, false);
                tracker = None;
            }
            Err(e) => {
                if snapshot.nodes.redis_ok {
                    note_redis(&shared, Some(e));
                }
                dirty = true;
                let mut records = Vec::new();
                for (pending, rec) in alerts {
                    for (queue, wake) in shared.offline.iter().zip(&shared.wake) {
                        queue
                            .lock()
                            .expect("offline lock")
                            .push_back(pending.clone());
                        wake.notify_one();
                    }
                    records.push(rec);
                }
                record(&shared, records).await;
            }
        }
    }
}

fn to_alert(t: &Transition, s: &AlertSettings, now: i64) -> Alert {
    Alert {
        id: format!("{now}-{:08x}", rand::random::<u32>()),
        at: iso_ms(now),
        kind: t.kind,
        worker: t.worker.clone(),
        count: t.count,
        context: t.context.clone(),
        text: messages::render(t, s.language),
    }
}

/// Appends `records` (after any that waited) to the event log, or keeps them for later.
async fn record(shared: &Shared, records: Vec<Record>) {
    let mut waiting = shared.unrecorded.lock().await;
    waiting.extend(records);
    if waiting.is_empty() {
        return;
    }
    if history::append(&shared.store, &waiting, shared.settings.history_max)
        .await
        .is_ok()
    {
        waiting.clear();
    } else if waiting.len() > UNRECORDED_MAX {
        let excess = waiting.len() - UNRECORDED_MAX;
        waiting.drain(..excess);
    }
}

/// Where the alert being delivered came from.
enum Origin {
    Memory,
    Redis(String),
}

/// Delivers sink `i`'s alerts in order while this process is the sender.
async fn courier(shared: Arc<Shared>, i: usize, client: reqwest::Client, shutdown: Shutdown) {
    let sink = shared.sinks[i].clone();
    let name = sink.name();
    let s = &shared.settings;
    let mut leader = shared.leader.subscribe();
    // Sent, but not yet popped (Redis failed in between): pop without sending again.
    let mut sent_ids: VecDeque<String> = VecDeque::new();
    loop {
        if shutdown.is_stopping() {
            break;
        }
        if !*leader.borrow_and_update() {
            tokio::select! {
                _ = leader.changed() => {}
                _ = shutdown.wait() => break,
            }
            continue;
        }
        if let Ok(n) = outbox::len(&shared.store, name).await {
            shared.status.lock().expect("status lock")[i].waiting = n;
        }
        let offline = shared.offline[i]
            .lock()
            .expect("offline lock")
            .front()
            .cloned();
        let (mut pending, origin) = match offline {
            Some(p) => (p, Origin::Memory),
            None => match outbox::head(&shared.store, name).await {
                Ok(Some(Ok((raw, p)))) => (p, Origin::Redis(raw)),
                Ok(Some(Err(raw))) => {
                    tracing::warn!(sink = name, "alerts: dropping an unreadable outbox entry");
                    let _ = outbox::pop(&shared.store, &shared.me, name, &raw).await;
                    continue;
                }
                Ok(None) => {
                    pause(&shared.wake[i], Duration::from_secs(1), &shutdown).await;
                    continue;
                }
                Err(_) => {
                    pause(&shared.wake[i], Duration::from_millis(500), &shutdown).await;
                    continue;
                }
            },
        };
        if sent_ids.contains(&pending.alert.id) {
            remove(&shared, i, name, &origin, &pending).await;
            continue;
        }
        let now = now_ms();
        if pending.next_try_ms > now {
            let wait = Duration::from_millis((pending.next_try_ms - now) as u64);
            pause(&shared.wake[i], wait.min(Duration::from_secs(1)), &shutdown).await;
            continue;
        }
        let attempt = pending.attempts + 1;
        let outcome = sink.send(&client, &pending.alert).await;
        let now = now_ms();
        let mut rec = Record {
            at: iso_ms(now),
            kind: RecordKind::Delivered,
            alert_id: pending.alert.id.clone(),
            alert: None,
            sink: Some(name.to_owned()),
            attempt: Some(attempt),
            error: None,
        };
        match outcome {
            Ok(()) => {
                tracing::info!(sink = name, alert = %pending.alert.id, attempt, "alert delivered");
                sent_ids.push_back(pending.alert.id.clone());
                if sent_ids.len() > 100 {
                    sent_ids.pop_front();
                }
                {
                    let mut st = shared.status.lock().expect("status lock");
                    st[i].delivered += 1;
                    st[i].last_delivered_at = Some(rec.at.clone());
                }
                remove(&shared, i, name, &origin, &pending).await;
            }
            Err(error) => {
                let too_old =
                    now.saturating_sub(pending.raised_ms) >= s.give_up_after.as_millis() as i64;
                rec.error = Some(error.message.clone());
                {
                    let mut st = shared.status.lock().expect("status lock");
                    st[i].last_error = Some(error.message.clone());
                    st[i].last_error_at = Some(rec.at.clone());
                    if error.retry && !too_old {
                        st[i].failed_attempts += 1;
                    } else {
                        st[i].given_up += 1;
                    }
                }
                if error.retry && !too_old {
                    let delay = backoff(s.retry_initial, s.retry_max, attempt);
                    tracing::warn!(sink = name, alert = %pending.alert.id, attempt, error = %error.message, retry_in_ms = delay.as_millis() as u64, "alert delivery failed; will retry");
                    rec.kind = RecordKind::Failed;
                    pending.attempts = attempt;
                    pending.next_try_ms = now + delay.as_millis() as i64;
                    pending.last_error = Some(error.message);
                    match &origin {
                        Origin::Memory => {
                            let mut q = shared.offline[i].lock().expect("offline lock");
                            if q.front().is_some_and(|p| p.alert.id == pending.alert.id) {
                                q[0] = pending.clone();
                            }
                        }
                        Origin::Redis(raw) => {
                            let _ = outbox::replace(&shared.store, &shared.me, name, raw, &pending)
                                .await;
                        }
                    }
                } else {
                    tracing::error!(sink = name, alert = %pending.alert.id, attempt, error = %error.message, "alert given up");
                    rec.kind = RecordKind::GaveUp;
                    remove(&shared, i, name, &origin, &pending).await;
                }
            }
        }
        record(&shared, vec![rec]).await;
    }
}

async fn remove(shared: &Shared, i: usize, name: &str, origin: &Origin, pending: &Pending) {
    match origin {
        Origin::Memory => {
            let mut q = shared.offline[i].lock().expect("offline lock");
            if q.front().is_some_and(|p| p.alert.id == pending.alert.id) {
                q.pop_front();
            }
        }
        Origin::Redis(raw) => {
            if let Err(e) = outbox::pop(&shared.store, &shared.me, name, raw).await {
                tracing::warn!(sink = name, error = %e, "alerts: could not pop a delivered alert; it will be skipped, not resent");
            }
        }
    }
}

async fn pause(wake: &Notify, at_most: Duration, shutdown: &Shutdown) {
    tokio::select! {
        _ = wake.notified() => {}
        _ = tokio::time::sleep(at_most) => {}
        _ = shutdown.wait() => {}
    }
}

/// `initial`, doubled per failed attempt, at most `max`.
pub fn backoff(initial: Duration, max: Duration, attempt: u32) -> Duration {
    let factor = 1u32 << attempt.saturating_sub(1).min(20);
    initial.saturating_mul(factor).min(max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let ms = Duration::from_millis;
        let got: Vec<_> = (1..=6).map(|a| backoff(ms(100), ms(1000), a)).collect();
        assert_eq!(
            got,
            [ms(100), ms(200), ms(400), ms(800), ms(1000), ms(1000)]
        );
        assert_eq!(backoff(ms(100), ms(1000), 500), ms(1000));
    }
}
