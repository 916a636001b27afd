//! The task that follows the hub's snapshots and, while this process is the sender, turns them
//! into transitions and commits them (state, outbox, event log) to Redis in one script, then
//! wakes the couriers.

use std::sync::Arc;

use tokio::sync::watch;

use super::{iso_ms, now_ms, Shared};
use crate::alerts::alert::{Alert, Transition};
use crate::alerts::history::{Record, RecordKind};
use crate::alerts::outbox::{self, Commit, Pending};
use crate::alerts::sinks::Sink;
use crate::alerts::transitions::{Rules, Tracker};
use crate::alerts::{incidents, messages, pages, runbook, silenced};
use crate::config::{AlertSettings, Config};
use crate::shutdown::Shutdown;
use crate::snapshot::Snapshot;

/// Runs until `shutdown` (or the hub is gone). A reloaded configuration's alert rules and
/// language apply from the next snapshot on.
pub(super) async fn run(
    shared: Arc<Shared>,
    mut snapshots: watch::Receiver<Arc<Snapshot>>,
    mut configs: watch::Receiver<Config>,
    shutdown: Shutdown,
) {
    let mut settings = configs.borrow_and_update().alerts.clone();
    let mut rules = Rules::from_settings(&settings);
    let sink_names: Vec<&'static str> = shared.sinks.iter().map(Sink::name).collect();
    let mut tracker: Option<Tracker> = None;
    // The last commit failed: the state must be stored even if nothing new happens.
    let mut dirty = false;
    loop {
        tokio::select! {
            changed = snapshots.changed() => if changed.is_err() { break },
            _ = shutdown.wait() => break,
        }
        let snapshot = snapshots.borrow_and_update().clone();
        if configs.has_changed().unwrap_or(false) {
            settings = configs.borrow_and_update().alerts.clone();
            rules = Rules::from_settings(&settings);
            if let Some(t) = &mut tracker {
                t.set_rules(rules);
            }
        }
        let s = &settings;
        if snapshot.version == 0 || !shared.lease.held() {
            tracker = None; // a sender-to-be reloads what the last sender stored
            continue;
        }
        let now = now_ms();
        let t = match &mut tracker {
            Some(t) => t,
            None => match outbox::load_memory(&shared.store, snapshot.nodes.workers.len()).await {
                Ok(memory) => tracker.insert(Tracker::new(rules, memory, now)),
                Err(e) => {
                    shared.note_redis(Some(e.to_string()));
                    continue;
                }
            },
        };
        let before = t.memory().clone();
        let transitions = t.observe(&snapshot.nodes, now);
        let unix_now = (now / 1000).max(0) as u64;
        let transitions = silenced::apply(
            t.held_mut(),
            transitions,
            &snapshot.nodes,
            &snapshot.silences,
            unix_now,
        );
        let window_ms = s.group_window.as_millis() as i64;
        let mut outgoing = incidents::group(t.incidents_mut(), transitions, window_ms, now);
        for o in outgoing.iter_mut() {
            messages::name_the_cause(o, &snapshot.nodes.agents, s.language);
        }
        let (pages, workers) = t.pages_mut();
        // Raised first, so a recovery finds the page it resolves before `follow` closes it.
        let mut alerts = raise_all(outgoing, pages, s, now);
        let whereabouts = |name: &str| {
            let w = snapshot.nodes.workers.iter().find(|w| w.name == name)?;
            Some((w.kind.as_str().to_owned(), w.host.clone()))
        };
        // While Redis is lost nothing is known to be still true: no reminders.
        let follow_ups = if !snapshot.nodes.redis_ok {
            Vec::new()
        } else {
            pages::follow(
                pages,
                &pages::Around {
                    workers,
                    acks: &snapshot.acks,
                    silences: &snapshot.silences,
                    whereabouts: &whereabouts,
                    now,
                    renotify_ms: s.renotify_after.as_millis() as i64,
                    language: s.language,
                },
            )
        };
        alerts.extend(raise_all(follow_ups, pages, s, now));
        if alerts.is_empty() && !dirty && *t.memory() == before {
            continue;
        }
        let committed = if snapshot.nodes.redis_ok {
            outbox::commit(Commit {
                lease: &shared.lease,
                state: (
                    shared.store.keys.state(),
                    serde_json::to_string(t.memory()).expect("memory serialises"),
                ),
                trim: (shared.store.keys.recovery_overrides(), 0),
                alerts: &alerts,
                records: &[],
                sinks: &sink_names,
                history_max: s.history_max,
            })
            .await
            .map_err(|e| e.to_string())
        } else {
            Err("redis unreachable".to_owned())
        };
        match committed {
            Ok(true) => {
                dirty = false;
                shared.note_redis(None);
                for wake in &shared.wake {
                    wake.notify_one();
                }
                shared.record(vec![]).await; // flush what waited for Redis
            }
            Ok(false) => {
                // Another process holds the lease: it judges from the stored state, which does
                // not hold these transitions, so it raises them itself.
                shared.lease.set_held(false);
                tracker = None;
            }
            Err(e) => {
                if snapshot.nodes.redis_ok {
                    shared.note_redis(Some(e));
                }
                dirty = true;
                keep_offline(&shared, alerts).await;
            }
        }
    }
}

/// The alerts for `outgoing` at `now` with their event-log records, noted in the open `pages`.
fn raise_all(
    outgoing: Vec<incidents::Outgoing>,
    pages: &mut Vec<pages::Page>,
    s: &AlertSettings,
    now: i64,
) -> Vec<(Pending, Record)> {
    outgoing
        .into_iter()
        .map(|o| {
            let (mut pending, mut record) = raise_unless(&o.transition, &o.silence, s, now);
            let alert = &mut pending.alert;
            alert.incident = o.incident;
            alert.grouped = o.grouped;
            if let Some(text) = o.text {
                alert.text = text;
            }
            alert.follow_up = o.follow_up;
            pages::note(pages, alert, &o.members, now);
            record.alert = Some(pending.alert.clone());
            (pending, record)
        })
        .collect()
}

/// The alert for transition `t` at `now` with its event-log record, recorded as silenced by
/// `silence` when one covers it.
pub fn raise_unless(
    t: &Transition,
    silence: &Option<String>,
    s: &AlertSettings,
    now: i64,
) -> (Pending, Record) {
    let (mut pending, mut record) = raise(t, s, now);
    if let Some(id) = silence {
        tracing::info!(kind = ?t.kind, worker = t.worker.as_deref().unwrap_or("-"), silence = %id, "alert silenced: recorded, not sent");
        pending.alert.silenced = Some(id.clone());
        record.alert = Some(pending.alert.clone());
    }
    (pending, record)
}

/// The alert for transition `t` at `now`, ready for the outbox, with its event-log record.
fn raise(t: &Transition, s: &AlertSettings, now: i64) -> (Pending, Record) {
    let alert = Alert {
        id: format!("{now}-{:08x}", rand::random::<u32>()),
        at: iso_ms(now),
        kind: t.kind,
        worker: t.worker.clone(),
        count: t.count,
        context: t.context.clone(),
        text: messages::render(t, s.language),
        runbook: s
            .runbook_url
            .as_deref()
            .map(|url| runbook::link(url, t.kind)),
        silenced: None,
        incident: None,
        grouped: false,
        follow_up: None,
    };
    tracing::info!(kind = ?alert.kind, worker = alert.worker.as_deref().unwrap_or("-"), text = %alert.text, "alert raised");
    let record = Record {
        at: alert.at.clone(),
        kind: RecordKind::Transition,
        alert_id: alert.id.clone(),
        alert: Some(alert.clone()),
        sink: None,
        attempt: None,
        error: None,
        worker: None,
        command: None,
        recovery: None,
        dead_letters: None,
        rescue: None,
    };
    (Pending::new(alert, now), record)
}

/// Redis could not store `alerts`: queues them in memory for every sink (the couriers send those
/// first) and keeps their records until Redis answers.
async fn keep_offline(shared: &Shared, alerts: Vec<(Pending, Record)>) {
    let mut records = Vec::new();
    for (pending, rec) in alerts {
        let sinks = if !pending.alert.is_sent() {
            0
        } else {
            shared.offline.len()
        };
        for (queue, wake) in shared.offline.iter().zip(&shared.wake).take(sinks) {
            queue
                .lock()
                .expect("offline lock")
                .push_back(pending.clone());
            wake.notify_one();
        }
        records.push(rec);
    }
    shared.record(records).await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerts::alert::AlertKind;
    use crate::config::alerts::Language;

    fn down() -> Transition {
        Transition {
            kind: AlertKind::Down,
            worker: Some("image-render".into()),
            count: None,
            context: None,
        }
    }

    #[test]
    fn an_alert_links_its_runbook_section_when_one_is_configured() {
        let mut s = AlertSettings {
            language: Language::English,
            ..AlertSettings::default()
        };
        let (plain, _) = raise(&down(), &s, 0);
        assert_eq!(plain.alert.runbook, None);
        assert_eq!(plain.alert.message(), "🔴 [image-render] worker down");

        s.runbook_url = Some("https://wiki.example/runbook.md".into());
        let (linked, record) = raise(&down(), &s, 0);
        let link = "https://wiki.example/runbook.md#down";
        assert_eq!(linked.alert.runbook.as_deref(), Some(link));
        assert_eq!(linked.alert.text, "🔴 [image-render] worker down");
        assert_eq!(
            linked.alert.message(),
            format!("🔴 [image-render] worker down\n📖 {link}")
        );
        assert_eq!(record.alert.unwrap().runbook.as_deref(), Some(link));
    }
}
