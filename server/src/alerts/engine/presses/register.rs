//! Webhook mode: the sender tells Telegram where to POST presses (`setWebhook` with the URL, the
//! secret and only `callback_query` updates) once each time it takes the lease, retrying with
//! backoff until Telegram takes it. Nobody polls then: Telegram would refuse (409).

use tokio::sync::watch;

use super::super::Shared;
use super::backoff;
use crate::alerts::telegram::Bot;
use crate::config::alerts::{PressWebhook, TelegramSettings};
use crate::ledger::lease::until_held;
use crate::shutdown::Shutdown;

/// Sets the webhook on every gain of the lease until `shutdown`.
pub(super) async fn run(
    shared: &Shared,
    settings: &TelegramSettings,
    hook: &PressWebhook,
    shutdown: &Shutdown,
) {
    let bot = Bot {
        settings,
        client: &shared.client,
    };
    tracing::info!(
        users = settings.allowed_user_ids.len(),
        url = %hook.url,
        "alerts: Telegram buttons on; presses come by webhook (the sender sets it with setWebhook)"
    );
    let mut leader = shared.lease.subscribe();
    while until_held(&mut leader, shutdown).await {
        let mut failures = 0_u32;
        loop {
            let set = tokio::select! {
                set = bot.set_webhook(hook) => set,
                _ = shutdown.wait() => return,
            };
            match set {
                Ok(()) => {
                    tracing::info!(url = %hook.url, "alerts: Telegram webhook set; presses are POSTed there");
                    break;
                }
                Err(e) => {
                    failures += 1;
                    let wait = backoff(failures);
                    tracing::warn!(
                        error = %e.message,
                        attempt = failures,
                        retry_in_s = wait.as_secs(),
                        "alerts: setWebhook failed; Telegram delivers no presses until it succeeds"
                    );
                    tokio::select! {
                        _ = tokio::time::sleep(wait) => {}
                        _ = shutdown.wait() => return,
                    }
                    if !*leader.borrow() {
                        break; // another process is the sender now: it sets the webhook
                    }
                }
            }
        }
        if !until_lost(&mut leader, shutdown).await {
            return;
        }
    }
}

/// Waits until `held` says this process no longer holds the lease; false when `shutdown` comes
/// first.
async fn until_lost(held: &mut watch::Receiver<bool>, shutdown: &Shutdown) -> bool {
    while *held.borrow_and_update() {
        tokio::select! {
            changed = held.changed() => if changed.is_err() { return false },
            _ = shutdown.wait() => return false,
        }
    }
    true
}
