//! `pulseboard run -- CMD ARGS...`: any program becomes a worker. The wrapper starts the program
//! in its own process group, beats contract 1 for it while it lives (starting until it is ready,
//! then ready), forwards SIGTERM / SIGINT / SIGHUP to its group, and when it exits writes the
//! final beat (`stopped` after a requested stop or exit 0, else its exit code) and exits with
//! the program's code, so the supervisor (systemd, launchd) decides about restarts. pulseboard
//! never restarts anything itself.
//!
//! Commands from pulseboard (taken with each beat, see [`pulseboard_shared::command`]) are
//! obeyed for the program: `quiet` sends its `--quiet-signal` (if it has one); `restart` stops
//! it like SIGTERM does, then the wrapper exits with
//! [`RESTART_EXIT_CODE`](pulseboard_shared::command::RESTART_EXIT_CODE) (75) for the supervisor
//! to start it again; `stop` stops it and the wrapper exits 0.
//!
//! - [`readiness`]: how the program says it is ready (file, HTTP, a log line, sd_notify).
//! - [`child`]: the process group: start, signals, exit code.

pub mod child;
pub mod readiness;

use std::time::Duration;

use pulseboard_shared::Phase;
use pulseboard_worker::heartbeat::{self, Handle};

use self::child::{Child, Exit, OsSignal, OsSignals, QuietSignal};
use self::readiness::{Readiness, Signal};
use pulseboard_shared::command::{Action, RESTART_EXIT_CODE};

/// What `pulseboard run` was asked to do.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The worker's name (`worker:<name>:heartbeat`).
    pub name: String,
    /// The part of the worker it is, if the worker is several processes.
    pub part: Option<String>,
    /// Its kind (`render`, `watcher`, `trader`, or any word).
    pub kind: String,
    /// The Redis to beat into.
    pub redis_url: String,
    /// The beat period.
    pub interval: Duration,
    /// The program's version, shown on the dashboard.
    pub version: Option<String>,
    /// How readiness is known: every condition must hold (none: ready once started).
    pub readiness: Vec<Readiness>,
    /// How long the program may take to stop after SIGTERM before its group is killed.
    pub stop_timeout: Duration,
    /// The signal that tells the program to take no new jobs (`quiet`), if it has one.
    pub quiet_signal: Option<QuietSignal>,
    /// The consumer ids it runs, declared in its beats.
    pub consumers: Vec<String>,
    /// The program and its arguments (never run through a shell).
    pub command: Vec<String>,
}

/// Runs the program to its end; returns the exit code the wrapper must exit with.
pub async fn run(options: RunOptions) -> anyhow::Result<i32> {
    let first = if options.readiness.is_empty() {
        Phase::Ready
    } else {
        Phase::Starting
    };
    let beat = heartbeat::start(
        &options.name,
        &options.kind,
        &options.redis_url,
        heartbeat::Options {
            interval: options.interval,
            version: options.version.clone(),
            // The wrapped program's, not the wrapper's: that is what must not drift.
            executable: options
                .command
                .first()
                .and_then(|p| heartbeat::resolve_program(p)),
            phase: first,
            part: options.part.clone(),
            ..heartbeat::Options::default()
        },
    )?;
    for id in &options.consumers {
        beat.declare_consumer(id);
    }
    let (said_tx, mut said) = tokio::sync::mpsc::unbounded_channel();
    let notify = readiness::prepare(&options.readiness)?;
    // The socket's folder goes when the program does (the listening task is never joined).
    let notify_dir = notify
        .as_ref()
        .and_then(|n| n.path().parent().map(std::path::Path::to_owned));
    let mut os = OsSignals::new()?;
    let mut child = match Child::spawn(
        &options.command,
        &options.readiness,
        &notify,
        said_tx.clone(),
    ) {
        Ok(child) => child,
        Err(e) => {
            // It never ran: say so at once (a shell's 127), rather than leave a `starting` beat.
            beat.crashed(127).await;
            eprintln!("pulseboard: {e:#}");
            return Ok(127);
        }
    };
    tracing::info!(worker = %options.name, part = options.part.as_deref(), pid = child.pid(), command = ?options.command, "started");
    readiness::watch(&options.readiness, notify, &said_tx);
    let mut stopping = false;
    let mut said_so = Said::new(&options.readiness);
    if !options.readiness.is_empty() {
        said_so.wait(&beat);
    }
    let mut wishes = beat.wishes();
    let mut asked: Option<Action> = None;
    let exit = loop {
        tokio::select! {
            exit = child.wait() => break exit?,
            Ok(()) = wishes.changed() => {
                let wish = *wishes.borrow_and_update();
                match wish {
                    Some(Action::Quiet) if asked.is_none() => {
                        asked = wish;
                        match options.quiet_signal {
                            Some(q) => child.forward(OsSignal::Quiet(q)),
                            None => tracing::warn!(worker = %options.name, "quiet asked, but the program has no --quiet-signal: it keeps taking jobs"),
                        }
                    }
                    Some(action @ (Action::Restart | Action::Stop)) if !stopping => {
                        // The beat already says draining and who asked.
                        stopping = true;
                        asked = wish;
                        tracing::info!(worker = %options.name, action = action.as_str(), "stopping the program as asked");
                        child.stop_group(OsSignal::Term, options.stop_timeout);
                    }
                    _ => {}
                }
            }
            Some(signal) = said.recv() => said_so.apply(&beat, signal, stopping),
            sig = os.recv() => {
                if sig.stops() && !stopping {
                    stopping = true;
                    beat.draining(&format!("{} received", sig.name()));
                    child.stop_group(sig, options.stop_timeout);
                } else {
                    child.forward(sig);
                }
            }
        }
    };
    child.drain_output().await;
    let code = match asked {
        // A restart asked for: the supervisor starts it again, whatever the program's own code.
        Some(Action::Restart) => RESTART_EXIT_CODE,
        Some(Action::Stop) => 0,
        _ => exit.code(),
    };
    if said_so.waiting {
        // "waiting for ..." was the wrapper's word, not the program's: its exit code says why.
        beat.clear_reason();
    }
    match exit {
        Exit::Code(0) => beat.stop().await,
        _ if stopping => beat.stop().await,
        _ => beat.crashed(code).await,
    }
    if let Some(dir) = notify_dir {
        let _ = std::fs::remove_dir_all(dir);
    }
    tracing::info!(worker = %options.name, part = options.part.as_deref(), code, clean = stopping || code == 0, "exited");
    Ok(code)
}

/// What the program has said about itself so far.
#[derive(Debug, Default)]
struct Said {
    /// The readiness conditions, and which hold.
    conditions: Vec<Readiness>,
    met: Vec<bool>,
    ready: bool,
    stopping: bool,
    /// The beat's reason is the wrapper's own "waiting for ...", not the program's words.
    waiting: bool,
}

impl Said {
    fn new(conditions: &[Readiness]) -> Self {
        Self {
            conditions: conditions.to_vec(),
            met: vec![false; conditions.len()],
            ..Self::default()
        }
    }

    /// Puts the conditions still missing on the beat, as its reason.
    fn wait(&mut self, beat: &Handle) {
        beat.set_reason(&readiness::waiting_for(&self.conditions, &self.met));
        self.waiting = true;
    }

    /// Puts what the program said onto the beat. Once it is stopping (`STOPPING=1` or a stop
    /// signal) it stays draining; a watchdog ping after a miss makes it ready again only if it
    /// had said so before.
    fn apply(&mut self, beat: &Handle, signal: Signal, stop_requested: bool) {
        let draining = self.stopping || stop_requested;
        match signal {
            Signal::Status(text) => {
                self.waiting = false;
                beat.set_reason(&text);
            }
            Signal::Stopping => {
                self.stopping = true;
                if !stop_requested {
                    beat.draining("the program is stopping");
                }
            }
            _ if draining => {}
            Signal::Ready | Signal::Met(_) => {
                let n = match signal {
                    Signal::Met(n) => Some(n),
                    // READY=1: the sd_notify condition.
                    _ => {
                        (self.conditions.iter()).position(|r| matches!(r, Readiness::Notify { .. }))
                    }
                };
                if let Some(met) = n.and_then(|n| self.met.get_mut(n)) {
                    *met = true;
                }
                if self.met.contains(&false) {
                    self.wait(beat);
                } else if !self.ready {
                    self.ready = true;
                    self.waiting = false;
                    beat.ready();
                }
            }
            Signal::WatchdogMissed => beat.unhealthy("watchdog missed"),
            Signal::WatchdogOk if self.ready => beat.ready(),
            Signal::WatchdogOk => {}
        }
    }
}
