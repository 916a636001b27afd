//! How the wrapped program says it is ready: a file appearing, an HTTP URL answering 2xx, a
//! line on its output, or sd_notify (`READY=1`, `STATUS=`, `STOPPING=1`, `WATCHDOG=1`) on a
//! `NOTIFY_SOCKET` the wrapper creates. Several conditions may be given (of one kind or mixed):
//! it is ready when all of them hold, and until then its reason names the ones missing. Without
//! any, it is ready once started.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::net::UnixDatagram;
use tokio::sync::mpsc::UnboundedSender;

/// One readiness condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Readiness {
    /// Ready once this file exists.
    File(PathBuf),
    /// Ready once this URL answers 2xx.
    Http(String),
    /// Ready once a line of its output matches this regular expression.
    Log(String),
    /// sd_notify on a socket; a watchdog period when `WATCHDOG=1` is expected.
    Notify {
        /// `WATCHDOG_USEC` handed to the program; a missed ping makes it unhealthy.
        watchdog: Option<Duration>,
    },
}

impl Readiness {
    /// The condition in a few words, for the reason of a worker still starting.
    pub fn describe(&self) -> String {
        match self {
            Self::File(path) => format!("file {}", path.display()),
            Self::Http(url) => format!("{url} to answer 2xx"),
            Self::Log(pattern) => format!("a line matching /{pattern}/"),
            Self::Notify { .. } => "READY=1".to_owned(),
        }
    }
}

/// The reason of a worker still starting: the conditions of `all` not `met` yet.
pub fn waiting_for(all: &[Readiness], met: &[bool]) -> String {
    let missing: Vec<String> = all
        .iter()
        .zip(met)
        .filter(|(_, met)| !**met)
        .map(|(r, _)| r.describe())
        .collect();
    format!("waiting for {}", missing.join(", "))
}

/// What the program said (or failed to say) about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signal {
    /// Readiness condition number N (of the conditions given) holds.
    Met(usize),
    /// `READY=1` (sd_notify): the notify condition holds.
    Ready,
    /// `STATUS=`: its own words.
    Status(String),
    /// `STOPPING=1`.
    Stopping,
    /// No `WATCHDOG=1` within the period.
    WatchdogMissed,
    /// A `WATCHDOG=1` after a miss.
    WatchdogOk,
}

/// The sd_notify socket, in a directory of its own removed on drop.
pub struct NotifySocket {
    socket: UnixDatagram,
    path: PathBuf,
    watchdog: Option<Duration>,
}

impl NotifySocket {
    /// Where the program sends to (`NOTIFY_SOCKET`).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The watchdog period, if any.
    pub fn watchdog(&self) -> Option<Duration> {
        self.watchdog
    }
}

impl Drop for NotifySocket {
    fn drop(&mut self) {
        if let Some(dir) = self.path.parent() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// What must exist before the program starts: the notify socket, if a condition is sd_notify.
pub fn prepare(all: &[Readiness]) -> std::io::Result<Option<NotifySocket>> {
    let Some(watchdog) = all.iter().find_map(|r| match r {
        Readiness::Notify { watchdog } => Some(watchdog),
        _ => None,
    }) else {
        return Ok(None);
    };
    let dir = std::env::temp_dir().join(format!(
        "pulseboard-run-{}-{:08x}",
        std::process::id(),
        rand::random::<u32>()
    ));
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("notify.sock");
    Ok(Some(NotifySocket {
        socket: UnixDatagram::bind(&path)?,
        path,
        watchdog: *watchdog,
    }))
}

/// Watches every condition of `all` (and, with sd_notify, everything else the program says),
/// telling `said`. Log lines are read by the child's output pumps instead.
pub fn watch(all: &[Readiness], mut notify: Option<NotifySocket>, said: &UnboundedSender<Signal>) {
    for (n, readiness) in all.iter().enumerate() {
        let notify = match readiness {
            Readiness::Notify { .. } => notify.take(),
            _ => None,
        };
        tokio::spawn(readiness.clone().watch(n, notify, said.clone()));
    }
}

impl Readiness {
    /// Watches this condition, number `n`, and tells `said` once it holds.
    async fn watch(self, n: usize, notify: Option<NotifySocket>, said: UnboundedSender<Signal>) {
        let poll = Duration::from_millis(100);
        match self {
            Self::Log(_) => {}
            Self::File(path) => {
                while !path.exists() {
                    tokio::time::sleep(poll).await;
                }
                let _ = said.send(Signal::Met(n));
            }
            Self::Http(url) => {
                let client = reqwest::Client::builder()
                    .timeout(Duration::from_secs(2))
                    .build()
                    .expect("an HTTP client");
                loop {
                    let answer = client.get(&url).send().await;
                    if answer.is_ok_and(|r| r.status().is_success()) {
                        let _ = said.send(Signal::Met(n));
                        break;
                    }
                    tokio::time::sleep(poll * 2).await;
                }
            }
            Self::Notify { .. } => {
                if let Some(socket) = notify {
                    listen(socket, said).await;
                }
            }
        }
    }
}

/// Reads sd_notify datagrams until the program is gone (the socket is dropped with the task).
async fn listen(n: NotifySocket, said: UnboundedSender<Signal>) {
    let mut buffer = vec![0u8; 4096];
    // As systemd does, the watchdog runs from READY=1 on: a slow start is `starting`, not
    // unhealthy.
    let mut deadline = None;
    let mut missed = false;
    loop {
        let wake = async {
            match deadline {
                Some(d) => tokio::time::sleep_until(d).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            got = n.socket.recv(&mut buffer) => {
                let Ok(len) = got else { break };
                for signal in parse(&String::from_utf8_lossy(&buffer[..len])) {
                    if signal == Signal::Ready && deadline.is_none() && !missed {
                        deadline = n.watchdog.map(|w| tokio::time::Instant::now() + w);
                    }
                    if signal == Signal::WatchdogOk {
                        deadline = n.watchdog.map(|w| tokio::time::Instant::now() + w);
                        if !std::mem::take(&mut missed) {
                            continue;
                        }
                    }
                    if said.send(signal).is_err() {
                        return;
                    }
                }
            }
            _ = wake => {
                missed = true;
                deadline = None; // one miss is reported once, until the next ping
                if said.send(Signal::WatchdogMissed).is_err() {
                    return;
                }
            }
        }
    }
}

/// The signals in one sd_notify message (`KEY=VALUE` lines).
pub fn parse(message: &str) -> Vec<Signal> {
    message
        .lines()
        .filter_map(|line| match line.split_once('=')? {
            ("READY", "1") => Some(Signal::Ready),
            ("STOPPING", "1") => Some(Signal::Stopping),
            ("WATCHDOG", "1") => Some(Signal::WatchdogOk),
            ("STATUS", text) => Some(Signal::Status(text.chars().take(200).collect())),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sd_notify_messages_are_read_line_by_line() {
        assert_eq!(
            parse("READY=1\nSTATUS=warming the cache\nMAINPID=42\nWATCHDOG=1"),
            [
                Signal::Ready,
                Signal::Status("warming the cache".into()),
                Signal::WatchdogOk
            ]
        );
        assert_eq!(parse("STOPPING=1"), [Signal::Stopping]);
        assert!(parse("READY=0\ngarbage").is_empty());
    }
}
