//! The decider: follows the snapshots in the process that holds the guard's lease (see
//! [`super::commit`]; with or without the alerts). Each time:
//!
//! 1. reads the guard's memory and the operators' overrides (one round trip), and the agents'
//!    results when an action through an agent is in flight (only signed ones, matched by id,
//!    host and worker: [`super::answers`]);
//! 2. applies the overrides, settles answered actions, and decides for every worker that needs
//!    it ([`decide`], [`remember`]);
//! 3. commits the new memory, its alerts and its audit records in one script fenced by the lease,
//!    so a second process or a restarted one never decides the same action twice;
//! 4. only then sends the actions. A crash between 3 and 4 leaves an action recorded as in flight
//!    and never sent: it times out (`answer_timeout_s`) and counts as a failed attempt, which
//!    is the safe side (never a doubled restart).

use std::collections::HashMap;

use chrono::{SecondsFormat, Utc};
use pulseboard_shared::agent::key::AgentKeys;
use pulseboard_shared::recovery::{
    decide, remember, settle, Advice, AuditEntry, AuditWhat, Block, Decision, Fleet, LastAction,
    Override, Route,
};
use pulseboard_shared::{LifecycleState, WorkerStatus};
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::answers::{self, Answers, Skipped};
use super::commit::{GuardCommit, Seat};
use super::load::load;
use super::send::{action_name, deliver, Outgoing};
use crate::alerts::alert::AlertKind;
use crate::alerts::history::Record;
use crate::alerts::transitions::about;
use crate::alerts::AlertsHandle;
use crate::config::{AlertSettings, Config, RecoverySettings};
use crate::ledger::keeper;
use crate::ledger::lease::Lease;
use crate::ledger::store::{Store, StoreError};
use crate::shutdown::Shutdown;
use crate::snapshot::{next, Hub, Snapshot};

/// Starts the guard's lease keeper and the decider on `hub`'s snapshots, in every process on
/// `store`: one of them decides. Its alerts go to `alerts`' sinks when this process has them on.
/// Both end after `shutdown`. Returns the lease, to show whether this process decides. The
/// agent key is the start-up configuration's (a new one needs a restart): without one, no
/// agent is asked anything and the route through an agent is blocked.
pub fn start(
    store: Store,
    alerts: Option<AlertsHandle>,
    hub: &Hub,
    configs: watch::Receiver<Config>,
    shutdown: Shutdown,
    tasks: &mut JoinSet<()>,
) -> Lease {
    // The alerts' lease period serves the guard too: one setting for "how fast another process
    // takes over".
    let period = configs.borrow().alerts.lease;
    let lease = Lease::new(
        store.clone(),
        store.keys.recovery_lease(),
        period,
        "recovery: this process decides",
        "recovery: another process decides",
    );
    tasks.spawn(keeper::run(lease.clone(), shutdown.clone()));
    let seat = Seat {
        lease: lease.clone(),
        alerts,
    };
    let keys = configs.borrow().agent_key.clone();
    tasks.spawn(run(seat, hub.subscribe(), configs, keys, shutdown));
    lease
}

/// What the decider remembers between rounds for its log and audit trail.
#[derive(Default)]
struct Notes {
    /// Per worker, the blocked or recommended decision last recorded.
    noted: HashMap<String, String>,
    /// The agents' results ignored, logged once per reason and minute.
    skipped: Skipped,
}

async fn run(
    seat: Seat,
    mut snapshots: watch::Receiver<std::sync::Arc<Snapshot>>,
    configs: watch::Receiver<Config>,
    keys: Option<AgentKeys>,
    shutdown: Shutdown,
) {
    let mut notes = Notes::default();
    let mut last_error: Option<String> = None;
    while let Some(snapshot) = next(&mut snapshots, &shutdown).await {
        // Redis lost: the view cannot be trusted and nothing could be recorded; wait.
        if snapshot.version == 0 || !snapshot.nodes.redis_ok || !seat.decides() {
            continue;
        }
        let (settings, alert_settings) = {
            let config = configs.borrow();
            (config.recovery.clone(), config.alerts.clone())
        };
        let outcome = round(
            &seat,
            &snapshot,
            (&settings, &alert_settings),
            keys.as_ref(),
            &mut notes,
        )
        .await;
        match (outcome, &last_error) {
            (Err(e), None) => {
                tracing::warn!(error = %e, "recovery: could not decide; retrying with the next snapshot");
                last_error = Some(e.to_string());
            }
            (Ok(()), Some(_)) => {
                tracing::info!("recovery: deciding again");
                last_error = None;
            }
            _ => {}
        }
    }
}

/// One decision over the whole snapshot.
async fn round(
    seat: &Seat,
    snapshot: &Snapshot,
    (settings, alert_settings): (&RecoverySettings, &AlertSettings),
    keys: Option<&AgentKeys>,
    notes: &mut Notes,
) -> Result<(), StoreError> {
    let store = seat.store();
    let now_dt = Utc::now();
    let now = now_dt.timestamp().max(0) as u64;
    let (mut stored, overrides) = load(store, snapshot.nodes.workers.len()).await?;
    let before = stored.clone();
    let mut records = Vec::new();
    let mut transitions = Vec::new();
    let nodes = &snapshot.nodes;
    let worker = |name: &str| nodes.workers.iter().find(|w| w.name == name);

    for raw in &overrides {
        let Ok(o) = serde_json::from_str::<Override>(raw) else {
            let entry: String = raw.chars().take(200).collect();
            tracing::warn!(entry = %entry.escape_debug(), "recovery: unreadable override dropped");
            continue;
        };
        let mut m = stored.workers.get(o.worker()).cloned().unwrap_or_default();
        o.apply(&mut m);
        if let (Override::Hold { until, reason, .. }, Some(w)) = (&o, worker(o.worker())) {
            let kind = match until {
                Some(u) if *u > now => AlertKind::HoldSet,
                _ => AlertKind::HoldLifted,
            };
            let mut t = about(w, kind, None);
            if let Some(c) = &mut t.context {
                c.reason = reason.clone();
            }
            transitions.push(t);
        }
        stored.set(o.worker(), m);
    }

    // The agents' word on what they were asked.
    let waiting_on_agent = stored
        .workers
        .values()
        .any(|m| m.in_flight && m.last.as_ref().is_some_and(|l| l.route == Route::Agent));
    let mut answers = Answers::default();
    if let (true, Some(keys)) = (waiting_on_agent, keys) {
        let cursor = &stored.results_cursor;
        let (read, next) = answers::read(store, keys, cursor, &mut notes.skipped).await?;
        stored.results_cursor = next;
        answers = read;
    }

    let mut outgoing = Vec::new();
    let fleet = Fleet::new(nodes)
        .agent_requests(keys.is_some())
        .silences(&snapshot.silences);
    for w in &nodes.workers {
        let policy = settings.policy_for(&w.name, w.kind.as_str());
        let mut memory = stored.workers.get(&w.name).cloned().unwrap_or_default();
        let Some(lifecycle) = &w.lifecycle else {
            continue;
        };
        let triggered = policy.triggers.iter().any(|t| t.state == lifecycle.state);
        if !triggered && memory.is_empty() {
            continue;
        }
        let Some(s) = fleet.situation(w, now) else {
            continue;
        };
        let answer = memory
            .last
            .as_ref()
            .and_then(|l| answers.take(&l.id, &w.name, w.host.as_deref(), &mut notes.skipped));
        if settle(&policy, &mut memory, triggered, answer, now) {
            if let Some(last) = &memory.last {
                let ok = last.ok == Some(true);
                records.push(audit(w, AuditEntry::about(AuditWhat::Result, last)));
                if !ok {
                    let mut t = about(w, AlertKind::RecoveryFailed, None);
                    if let Some(c) = &mut t.context {
                        c.reason = last.result.clone();
                    }
                    transitions.push(t);
                }
                tracing::info!(worker = %w.name, id = %last.id, ok, result = last.result.as_deref().unwrap_or(""), "recovery: action answered");
            }
        }
        let decision = decide(&policy, &memory, &s);
        let mut sent = None;
        match &decision {
            Decision::Act(route) => {
                let id = format!(
                    "r-{}-{:04x}",
                    now_dt.timestamp_millis(),
                    rand::random::<u16>()
                );
                let last = LastAction {
                    id: id.clone(),
                    action: action_name(*route).to_owned(),
                    route: *route,
                    by: "auto".into(),
                    at: now,
                    result: None,
                    outcome: None,
                    ok: None,
                };
                let attempt = memory.attempts.len() as u64 + 1;
                records.push(audit(w, AuditEntry::about(AuditWhat::Acted, &last)));
                let mut t = about(w, AlertKind::RecoveryActed, Some(attempt));
                if let Some(c) = &mut t.context {
                    c.reason = Some(format!("{} · {}", route_name(*route), id));
                }
                transitions.push(t);
                tracing::info!(worker = %w.name, %id, route = route_name(*route), attempt, "recovery: restart decided");
                outgoing.push(Outgoing {
                    worker: w.name.clone(),
                    host: w.host.clone(),
                    route: *route,
                    id,
                    at: now_dt.to_rfc3339_opts(SecondsFormat::Millis, true),
                });
                sent = Some(last);
            }
            Decision::OpenCircuit(route) => {
                let count = memory.attempts.len() as u64;
                let advice = Advice::CrashLoop { route: *route };
                records.push(audit(
                    w,
                    AuditEntry {
                        detail: advice.words(&w.name),
                        advice: Some(advice.clone()),
                        ..AuditEntry::new(AuditWhat::CircuitOpen, "auto")
                    },
                ));
                // Its alert is the alerts judge's, from the view this leaves on the snapshot.
                tracing::warn!(worker = %w.name, attempts = count, "recovery: circuit open; no more automatic restarts");
            }
            _ => {}
        }
        // Blocked and recommended decisions are recorded once each time they change.
        let note = match &decision {
            Decision::Blocked(
                b @ (Block::RedisLost
                | Block::Paused
                | Block::AgentUnreachable(_)
                | Block::HostDown(_)
                | Block::NotAllowListed(_)
                | Block::NoAgentKey),
            ) => Some(AuditEntry {
                detail: b.words(),
                blocked: Some(b.clone()),
                ..AuditEntry::new(AuditWhat::Blocked, "auto")
            }),
            Decision::Recommend(route) => {
                let advice = Advice::Restart { route: *route };
                Some(AuditEntry {
                    detail: advice.words(&w.name),
                    advice: Some(advice),
                    ..AuditEntry::new(AuditWhat::Recommend, "auto")
                })
            }
            _ => None,
        };
        match note {
            Some(entry) if notes.noted.get(&w.name) != Some(&entry.detail) => {
                notes.noted.insert(w.name.clone(), entry.detail.clone());
                records.push(audit(w, entry));
            }
            Some(_) => {}
            None => {
                notes.noted.remove(&w.name);
            }
        }
        let healthy = lifecycle.state == LifecycleState::Ready;
        let mut next = remember(&policy, &memory, &decision, healthy, now);
        if memory.circuit_open_at.is_some() && next.circuit_open_at.is_none() {
            records.push(audit(
                w,
                AuditEntry {
                    detail: format!("healthy for {} s", policy.healthy_reset_s),
                    healthy_s: Some(policy.healthy_reset_s),
                    ..AuditEntry::new(AuditWhat::CircuitClosed, "auto")
                },
            ));
        }
        if memory.hold_until.is_some() && next.hold_until.is_none() {
            transitions.push(about(w, AlertKind::HoldLifted, None));
        }
        if let Some(last) = sent {
            next.last = Some(last);
        }
        stored.set(&w.name, next);
    }

    if stored == before && overrides.is_empty() && records.is_empty() && transitions.is_empty() {
        return Ok(());
    }
    let committed = seat
        .commit(
            alert_settings,
            GuardCommit {
                memory: stored.to_json(),
                overrides_applied: overrides.len(),
                transitions: &transitions,
                records: &records,
                snapshot,
            },
        )
        .await?;
    if !committed {
        tracing::info!("recovery: another process decides now; nothing sent");
        return Ok(());
    }
    for out in outgoing {
        if let Err(e) = deliver(store, keys, &out).await {
            tracing::warn!(worker = %out.worker, id = %out.id, error = %e, "recovery: action decided but not sent; it will time out and count as failed");
        } else {
            tracing::info!(worker = %out.worker, id = %out.id, "recovery: action sent");
        }
    }
    Ok(())
}

fn route_name(route: Route) -> &'static str {
    match route {
        Route::Heartbeat => "heartbeat",
        Route::Agent => "agent",
    }
}

/// An audit record about `w`.
fn audit(w: &WorkerStatus, entry: AuditEntry) -> Record {
    Record::recovery(&w.name, entry)
}
