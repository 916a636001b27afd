//! One task per sink that delivers its alerts in order while this process is the sender: the
//! ones Redis could not store come first, then the sink's outbox. An alert is popped once the
//! sink accepted it, retried with backoff after a failure that may pass, and given up after a
//! refusal or after `give_up_after`. Each attempt is recorded in the event log.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use super::status::SinkStatus;
use super::{iso_ms, now_ms, Shared};
use crate::alerts::history::{Record, RecordKind};
use crate::alerts::outbox::{self, Head, Pending};
use crate::alerts::sinks::{SendError, Sink};
use crate::ledger::lease::until_held;
use crate::shutdown::Shutdown;

/// How long an idle courier waits for a wake-up before looking at the outbox again.
const IDLE: Duration = Duration::from_secs(1);
/// How long a courier waits before asking Redis again after it failed.
const REDIS_RETRY: Duration = Duration::from_millis(500);
/// How many delivered-but-not-popped alerts a courier remembers, so as not to resend them.
const SENT_MAX: usize = 100;

/// Where the alert being delivered came from.
enum Origin {
    /// The in-memory queue of alerts raised while Redis was unreachable.
    Memory,
    /// The sink's outbox, as stored (the fenced pop compares it).
    Redis(String),
}

/// What a courier does next.
enum Turn {
    /// Send this alert now.
    Send(Box<Pending>, Origin),
    /// Nothing is due: wait for a wake-up, at most this long.
    Wait(Duration),
    /// An entry was tidied away (unreadable, or sent already): look again at once.
    Again,
}

/// One sink's courier.
struct Courier {
    shared: Arc<Shared>,
    /// The sink's index in `shared`'s per-sink vectors.
    i: usize,
    sink: Sink,
    client: reqwest::Client,
    /// Sent, but not yet popped (Redis failed in between): pop without sending again.
    sent_ids: VecDeque<String>,
}

/// Delivers sink `i`'s alerts until `shutdown`.
pub(super) async fn run(
    shared: Arc<Shared>,
    i: usize,
    client: reqwest::Client,
    shutdown: Shutdown,
) {
    let mut leader = shared.lease.subscribe();
    let mut courier = Courier {
        sink: shared.sinks[i].clone(),
        shared,
        i,
        client,
        sent_ids: VecDeque::new(),
    };
    while !shutdown.is_stopping() {
        if !until_held(&mut leader, &shutdown).await {
            break;
        }
        courier.count_waiting().await;
        match courier.next().await {
            Turn::Send(pending, origin) => courier.deliver(*pending, origin).await,
            Turn::Wait(at_most) => {
                tokio::select! {
                    _ = courier.shared.wake[i].notified() => {}
                    _ = tokio::time::sleep(at_most) => {}
                    _ = shutdown.wait() => {}
                }
            }
            Turn::Again => {}
        }
    }
}

impl Courier {
    fn name(&self) -> &'static str {
        self.sink.name()
    }

    fn status(&self, update: impl FnOnce(&mut SinkStatus)) {
        update(&mut self.shared.status.lock().expect("status lock")[self.i]);
    }

    /// Refreshes the outbox's length for `/readyz` (left as it was if Redis does not answer).
    async fn count_waiting(&self) {
        if let Ok(n) = outbox::len(&self.shared.store, self.name()).await {
            self.status(|st| st.waiting = n);
        }
    }

    /// The oldest alert, if it is due.
    async fn next(&mut self) -> Turn {
        let offline = self.shared.offline[self.i]
            .lock()
            .expect("offline lock")
            .front()
            .cloned();
        let (pending, origin) = match offline {
            Some(p) => (Box::new(p), Origin::Memory),
            None => match outbox::head(&self.shared.store, self.name()).await {
                Ok(Head::Alert(raw, p)) => (p, Origin::Redis(raw)),
                Ok(Head::Unreadable(raw)) => {
                    tracing::warn!(
                        sink = self.name(),
                        "alerts: dropping an unreadable outbox entry"
                    );
                    let _ = outbox::pop(
                        &self.shared.store,
                        self.shared.lease.me(),
                        self.name(),
                        &raw,
                    )
                    .await;
                    return Turn::Again;
                }
                Ok(Head::Empty) => return Turn::Wait(IDLE),
                Err(_) => return Turn::Wait(REDIS_RETRY),
            },
        };
        if self.sent_ids.contains(&pending.alert.id)
            || !self
                .sink
                .wants(&pending.alert, &self.shared.settings.routes)
        {
            self.remove(&origin, &pending).await;
            return Turn::Again;
        }
        let now = now_ms();
        if pending.next_try_ms > now {
            let wait = Duration::from_millis((pending.next_try_ms - now) as u64);
            return Turn::Wait(wait.min(IDLE));
        }
        Turn::Send(pending, origin)
    }

    /// Sends `pending` once, then pops, requeues or gives it up, and records the attempt.
    async fn deliver(&mut self, pending: Pending, origin: Origin) {
        let attempt = pending.attempts + 1;
        let routes = &self.shared.settings.routes;
        let outcome = self.sink.send(&self.client, &pending.alert, routes).await;
        let now = now_ms();
        let mut record = Record {
            at: iso_ms(now),
            kind: RecordKind::Delivered,
            alert_id: pending.alert.id.clone(),
            alert: None,
            sink: Some(self.name().to_owned()),
            attempt: Some(attempt),
            error: None,
            worker: None,
            command: None,
            recovery: None,
            dead_letters: None,
            rescue: None,
        };
        match outcome {
            Ok(()) => self.delivered(&pending, &origin, attempt, &record.at).await,
            Err(error) => {
                record.error = Some(error.message.clone());
                record.kind = self
                    .failed(pending, &origin, attempt, error, now, &record.at)
                    .await;
            }
        }
        self.shared.record(vec![record]).await;
    }

    async fn delivered(&mut self, pending: &Pending, origin: &Origin, attempt: u32, at: &str) {
        tracing::info!(sink = self.name(), alert = %pending.alert.id, attempt, "alert delivered");
        self.sent_ids.push_back(pending.alert.id.clone());
        if self.sent_ids.len() > SENT_MAX {
            self.sent_ids.pop_front();
        }
        self.status(|st| {
            st.delivered += 1;
            st.last_delivered_at = Some(at.to_owned());
        });
        self.remove(origin, pending).await;
    }

    /// Retries `pending` later if the failure may pass and it is not too old, else gives it up;
    /// returns which of the two it was.
    async fn failed(
        &mut self,
        mut pending: Pending,
        origin: &Origin,
        attempt: u32,
        error: SendError,
        now: i64,
        at: &str,
    ) -> RecordKind {
        let s = &self.shared.settings;
        let too_old = now.saturating_sub(pending.raised_ms) >= s.give_up_after.as_millis() as i64;
        let retry = error.retry && !too_old;
        self.status(|st| {
            st.last_error = Some(error.message.clone());
            st.last_error_at = Some(at.to_owned());
            if retry {
                st.failed_attempts += 1;
            } else {
                st.given_up += 1;
            }
        });
        if !retry {
            tracing::error!(sink = self.name(), alert = %pending.alert.id, attempt, error = %error.message, "alert given up");
            self.remove(origin, &pending).await;
            return RecordKind::GaveUp;
        }
        let delay = backoff(s.retry_initial, s.retry_max, attempt);
        tracing::warn!(sink = self.name(), alert = %pending.alert.id, attempt, error = %error.message, retry_in_ms = delay.as_millis() as u64, "alert delivery failed; will retry");
        pending.attempts = attempt;
        pending.next_try_ms = now + delay.as_millis() as i64;
        pending.last_error = Some(error.message);
        self.requeue(origin, pending).await;
        RecordKind::Failed
    }

    /// Puts `pending` (with its new attempt count and time) back where it was, at the head.
    async fn requeue(&self, origin: &Origin, pending: Pending) {
        match origin {
            Origin::Memory => {
                let mut q = self.shared.offline[self.i].lock().expect("offline lock");
                if q.front().is_some_and(|p| p.alert.id == pending.alert.id) {
                    q[0] = pending;
                }
            }
            Origin::Redis(raw) => {
                let (store, me) = (&self.shared.store, self.shared.lease.me());
                let _ = outbox::replace(store, me, self.name(), raw, &pending).await;
            }
        }
    }

    /// Takes `pending` off the head of where it came from.
    async fn remove(&self, origin: &Origin, pending: &Pending) {
        match origin {
            Origin::Memory => {
                let mut q = self.shared.offline[self.i].lock().expect("offline lock");
                if q.front().is_some_and(|p| p.alert.id == pending.alert.id) {
                    q.pop_front();
                }
            }
            Origin::Redis(raw) => {
                if let Err(e) =
                    outbox::pop(&self.shared.store, self.shared.lease.me(), self.name(), raw).await
                {
                    tracing::warn!(sink = self.name(), error = %e, "alerts: could not pop a delivered alert; it will be skipped, not resent");
                }
            }
        }
    }
}

/// `initial`, doubled per failed attempt, at most `max`.
fn backoff(initial: Duration, max: Duration, attempt: u32) -> Duration {
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
