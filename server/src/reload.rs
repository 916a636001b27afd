//! `SIGHUP` reloads the configuration file: a good file replaces the configuration of the running
//! parts (topology, lifecycle limits, refresh interval, alert rules), a bad one is refused with
//! its key named and the old configuration stays. Open streams are not touched.

use std::path::PathBuf;

use tokio::sync::watch;

use crate::config::{Config, ConfigError, Overrides};
use crate::shutdown::Shutdown;

/// Where the configuration comes from, so it can be read again.
#[derive(Debug, Clone, Default)]
pub struct Source {
    /// The TOML file, if any.
    pub path: Option<PathBuf>,
    /// Environment and flags, as read at start.
    pub overrides: Overrides,
}

impl Source {
    /// Reads every layer again.
    pub fn load(&self) -> Result<Config, ConfigError> {
        Config::load(self.path.as_deref(), &self.overrides)
    }
}

/// The configuration as it changes: starts as `initial`, then whatever a `SIGHUP` loads.
pub fn on_sighup(source: Source, initial: Config, shutdown: Shutdown) -> watch::Receiver<Config> {
    let (tx, rx) = watch::channel(initial);
    #[cfg(unix)]
    tokio::spawn(async move {
        use tokio::signal::unix::{signal, SignalKind};
        let Ok(mut hangups) = signal(SignalKind::hangup()) else {
            tracing::warn!("cannot listen for SIGHUP; the configuration will not be reloaded");
            return;
        };
        loop {
            tokio::select! {
                got = hangups.recv() => if got.is_none() { break },
                _ = shutdown.wait() => break,
            }
            let old = tx.borrow().clone();
            match source.load() {
                Err(error) => {
                    tracing::error!(%error, "SIGHUP: configuration refused; the old one stays")
                }
                Ok(new) if new == old => tracing::info!("SIGHUP: configuration unchanged"),
                Ok(new) => {
                    let (live, restart) = differences(&old, &new);
                    if !restart.is_empty() {
                        tracing::warn!(
                            sections = ?restart,
                            "SIGHUP: these changes take effect at the next restart"
                        );
                    }
                    tracing::info!(sections = ?live, "SIGHUP: configuration reloaded");
                    tx.send_replace(new);
                }
            }
        }
    });
    #[cfg(not(unix))]
    drop(shutdown);
    rx
}

/// The sections that differ: those applied live, and those that need a restart.
pub fn differences(old: &Config, new: &Config) -> (Vec<&'static str>, Vec<&'static str>) {
    let mut live = Vec::new();
    let mut restart = Vec::new();
    let mut note = |changed: bool, section, applied: bool| {
        if changed {
            if applied {
                live.push(section)
            } else {
                restart.push(section)
            }
        }
    };
    note(old.topology != new.topology, "hosts/workers", true);
    note(old.lifecycle != new.lifecycle, "lifecycle", true);
    note(old.refresh != new.refresh, "refresh_ms", true);
    let (a, b) = (&old.alerts, &new.alerts);
    let sinks_changed = a.telegram != b.telegram || a.webhook != b.webhook;
    let rules_changed = a != b && !sinks_changed;
    note(rules_changed, "alerts", true);
    note(
        sinks_changed || a.enabled != b.enabled,
        "alerts sinks",
        false,
    );
    note(old.redis_url != new.redis_url, "redis_url", false);
    // Every part (the decider, the admin API, the snapshots' views) signs with the key it
    // started with: a rotation restarts the server (see the README's rotation steps).
    note(
        old.agent_key != new.agent_key || old.agent_key_file != new.agent_key_file,
        "agent key",
        false,
    );
    note(old.listen != new.listen, "listen", false);
    note(old.dist != new.dist, "dist", false);
    note(old.http != new.http, "http", false);
    note(
        old.discovery_every != new.discovery_every
            || old.scan_count != new.scan_count
            || old.max_unregistered != new.max_unregistered,
        "discovery",
        false,
    );
    (live, restart)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn differences_say_what_applies_now_and_what_waits_for_a_restart() {
        let old = Config::default();
        let mut new = old.clone();
        assert_eq!(differences(&old, &new), (vec![], vec![]));
        new.topology.workers.pop();
        new.alerts.flap_max = 9;
        new.listen = "127.0.0.1:9999".parse().unwrap();
        assert_eq!(
            differences(&old, &new),
            (vec!["hosts/workers", "alerts"], vec!["listen"])
        );
    }
}
