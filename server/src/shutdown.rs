//! One stop signal for every task: SIGTERM, Ctrl-C, or a test's [`Trigger`].
//!
//! Tasks hold a [`Shutdown`] (cheap to clone) and `select!` on [`Shutdown::wait`] beside their
//! work; `serve` owns the tasks in a `JoinSet` and awaits them all before it returns, so what a
//! task does on its way out (a lease released, a final log line) is never cut off.

use tokio::sync::watch;

/// Tells whether, and when, the process is stopping.
#[derive(Debug, Clone)]
pub struct Shutdown {
    stop: watch::Receiver<bool>,
}

/// Starts the stop; dropping it without [`Trigger::stop`] does not stop anything.
#[derive(Debug)]
pub struct Trigger {
    stop: watch::Sender<bool>,
}

/// A new stop signal and the trigger that fires it.
pub fn channel() -> (Trigger, Shutdown) {
    let (tx, rx) = watch::channel(false);
    (Trigger { stop: tx }, Shutdown { stop: rx })
}

impl Trigger {
    /// Stops everything holding a [`Shutdown`] of this channel.
    pub fn stop(&self) {
        self.stop.send_replace(true);
    }
}

impl Shutdown {
    /// Whether the stop has begun.
    pub fn is_stopping(&self) -> bool {
        *self.stop.borrow()
    }

    /// Resolves once the stop has begun (at once if it has).
    pub async fn wait(&self) {
        let mut stop = self.stop.clone();
        // An error means every trigger is gone without stopping: then the stop never comes.
        if stop.wait_for(|stopping| *stopping).await.is_err() {
            std::future::pending::<()>().await;
        }
    }

    /// A signal that fires on SIGTERM or Ctrl-C (SIGINT).
    pub fn on_signals() -> Self {
        let (trigger, shutdown) = channel();
        tokio::spawn(async move {
            let ctrl_c = tokio::signal::ctrl_c();
            #[cfg(unix)]
            let term = async {
                use tokio::signal::unix::{signal, SignalKind};
                match signal(SignalKind::terminate()) {
                    Ok(mut s) => {
                        s.recv().await;
                    }
                    Err(_) => std::future::pending().await,
                }
            };
            #[cfg(not(unix))]
            let term = std::future::pending::<()>();
            tokio::select! {
                _ = ctrl_c => tracing::info!("Ctrl-C received"),
                _ = term => tracing::info!("SIGTERM received"),
            }
            trigger.stop();
        });
        shutdown
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn wait_resolves_after_stop_and_at_once_when_stopped() {
        let (trigger, shutdown) = channel();
        assert!(!shutdown.is_stopping());
        let waiter = tokio::spawn({
            let shutdown = shutdown.clone();
            async move { shutdown.wait().await }
        });
        trigger.stop();
        waiter.await.unwrap();
        assert!(shutdown.is_stopping());
        shutdown.wait().await; // already stopped: no wait
    }

    #[tokio::test]
    async fn a_dropped_trigger_does_not_stop() {
        let (trigger, shutdown) = channel();
        drop(trigger);
        let waited =
            tokio::time::timeout(std::time::Duration::from_millis(20), shutdown.wait()).await;
        assert!(waited.is_err(), "no stop was asked for");
        assert!(!shutdown.is_stopping());
    }
}
