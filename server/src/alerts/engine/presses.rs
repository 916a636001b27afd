//! The buttons under Telegram alerts, when `[alerts.telegram] allowed_user_ids` names someone.
//! Their presses come one of two ways:
//!
//! - by default, `getUpdates` long polling ([`poll`], no public URL needed), by this process
//!   while it is the sender, so one bot has one reader;
//! - with `webhook_url` (webhook mode), Telegram POSTs each press to
//!   `/api/agent-office/telegram/presses` of whichever process its URL reaches
//!   ([`AlertsHandle::press`]); the sender tells it where with `setWebhook` each time it takes
//!   the lease ([`register`]), and nobody polls.
//!
//! Either way [`handle`] acts on it alike: a press from anyone not allowed is answered "not
//! allowed", logged, and changes nothing; an allowed one acknowledges the alert (and, for
//! "Silence 1 h", silences it), is answered, and its message is edited to say who did what; the
//! judge records it in the event log with the Telegram user.

mod handle;
mod register;

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::watch;

use self::handle::handle;
use super::{AlertsHandle, Shared};
use crate::alerts::telegram::{Bot, Press};
use crate::config::alerts::{Secret, TelegramSettings};
use crate::ledger::lease::until_held;
use crate::shutdown::Shutdown;
use crate::snapshot::Snapshot;

/// Who restarts a worker when its alert's Restart button is pressed (the admin API's path, so
/// the command is planned, sent, audited and refused alike); given to the alerts when the admin
/// API is on.
pub trait Restarter: Send + Sync {
    /// Asks worker `worker` to restart for `by`.
    fn restart<'a>(
        &'a self,
        worker: &'a str,
        by: &'a str,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Restarted> + Send + 'a>>;
}

/// What a restart asked from a button did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Restarted {
    /// The command was queued (its id).
    Queued(String),
    /// It was refused: why, in words for the presser.
    Refused(String),
}

/// How long one `getUpdates` waits for a press.
const LONG_POLL: Duration = Duration::from_secs(25);
/// The least time between two polls (a receiver that answers at once must not be hammered), and
/// the first wait after a failure (doubling up to a minute).
const PACE: Duration = Duration::from_secs(1);

/// The wait after the `failures`th failure in a row: [`PACE`] doubling, up to a minute.
fn backoff(failures: u32) -> Duration {
    (PACE * (1 << failures.min(6))).min(Duration::from_secs(60))
}

/// Reads presses (or, in webhook mode, keeps the webhook set) until `shutdown`; returns at once
/// when nobody may press.
pub(super) async fn run(
    shared: Arc<Shared>,
    snapshots: watch::Receiver<Arc<Snapshot>>,
    shutdown: Shutdown,
) {
    let Some(settings) = shared
        .settings
        .telegram
        .clone()
        .filter(TelegramSettings::buttons)
    else {
        return;
    };
    match settings.webhook.clone() {
        Some(hook) => register::run(&shared, &settings, &hook, &shutdown).await,
        None => poll(&shared, &settings, &snapshots, &shutdown).await,
    }
}

/// `getUpdates` long polling while this process is the sender.
async fn poll(
    shared: &Shared,
    settings: &TelegramSettings,
    snapshots: &watch::Receiver<Arc<Snapshot>>,
    shutdown: &Shutdown,
) {
    let client = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(5))
        .timeout(LONG_POLL + Duration::from_secs(15))
        .build()
        .expect("a client with rustls builds");
    let bot = Bot {
        settings,
        client: &client,
    };
    let language = shared.settings.language;
    tracing::info!(
        users = settings.allowed_user_ids.len(),
        "alerts: Telegram buttons on; reading presses with getUpdates while this process is the sender"
    );
    let mut leader = shared.lease.subscribe();
    let (mut offset, mut failures, mut told_conflict) = (0_i64, 0_u32, false);
    while !shutdown.is_stopping() {
        if !until_held(&mut leader, shutdown).await {
            break;
        }
        let asked = Instant::now();
        let polled = tokio::select! {
            polled = bot.presses(offset, LONG_POLL) => polled,
            _ = shutdown.wait() => break,
        };
        let pause = match polled {
            Ok((presses, next)) => {
                if failures > 0 {
                    tracing::info!("alerts: reading Telegram presses again");
                }
                (failures, told_conflict) = (0, false);
                offset = next;
                let workers = snapshots.borrow().nodes.workers.len();
                for press in presses {
                    handle(shared, &bot, language, workers, press).await;
                }
                PACE.saturating_sub(asked.elapsed())
            }
            // 409: Telegram refuses getUpdates while the bot has a webhook (or another program
            // polls it); said once, as it lasts until someone acts.
            Err(e) if e.status == Some(409) => {
                failures += 1;
                if !told_conflict {
                    told_conflict = true;
                    tracing::warn!(
                        error = %e.message,
                        "alerts: Telegram refuses getUpdates (409): this bot has a webhook set, or \
                         another program reads its updates. Set [alerts.telegram] webhook_url and \
                         webhook_secret to receive presses by webhook, or call the Bot API's \
                         deleteWebhook to poll; retrying meanwhile"
                    );
                }
                backoff(failures)
            }
            Err(e) => {
                failures += 1;
                if failures == 1 {
                    tracing::warn!(error = %e.message, "alerts: cannot read Telegram presses; retrying");
                }
                backoff(failures)
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            _ = shutdown.wait() => break,
        }
    }
}

impl AlertsHandle {
    /// In webhook mode, the secret Telegram sends with each update; `None`: presses are polled
    /// (or nobody may press), and the webhook route is off.
    pub fn press_secret(&self) -> Option<&Secret> {
        let telegram = self.shared.settings.telegram.as_ref()?;
        let hook = telegram.webhook.as_ref().filter(|_| telegram.buttons())?;
        Some(&hook.secret)
    }

    /// Acts on a press that came by the webhook exactly as on a polled one (`workers`: how many
    /// the latest snapshot has). Does nothing outside webhook mode.
    pub async fn press(&self, press: Press, workers: usize) {
        let shared = &self.shared;
        let Some(settings) =
            (shared.settings.telegram.as_ref()).filter(|_| self.press_secret().is_some())
        else {
            return;
        };
        let bot = Bot {
            settings,
            client: &shared.client,
        };
        handle(shared, &bot, shared.settings.language, workers, press).await;
    }
}
