//! The heartbeat task: contract 1 every `interval`, with what the worker declares about itself
//! (phase, reason, checks, current job), and a final beat when it stops. With each beat it takes
//! the commands pulseboard left for the worker (`quiet`, `restart`, `stop`, see
//! [`pulseboard_shared::command`]): [`Handle::wishes`] tells the worker's code, and the beats say
//! it is draining and why.
//!
//! The worker's own code only touches a [`Handle`]: its methods update shared state and nudge
//! the task, and never wait for Redis. Every Redis call is bounded by a timeout; while Redis is
//! away the task keeps trying, and beats resume by themselves when it returns.
//!
//! ```no_run
//! # async fn demo() -> Result<(), pulseboard_worker::heartbeat::Error> {
//! use pulseboard_worker::heartbeat::{start, Options};
//!
//! let beat = start("gpu-1", "render", "redis://127.0.0.1:6379", Options::default())?;
//! // ... load models, open connections ...
//! beat.ready();
//! beat.job_started("job-42");
//! // ... the job ...
//! beat.job_done();
//! beat.stop().await; // the final `stopped` beat: a clean stop, not a crash
//! # Ok(()) }
//! ```

mod declared;
mod write;

pub use self::declared::resolve_program;
use self::write::write;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{SecondsFormat, Utc};
use pulseboard_shared::command::{Action, Command, COMMANDS_PER_BEAT};
use pulseboard_shared::heartbeat::{heartbeat_key, Declared, HEARTBEAT_INTERVAL_S};
use pulseboard_shared::lifecycle::{CurrentJob, Phase};
use pulseboard_shared::parts::part_beat_key;
use pulseboard_shared::Heartbeat;
use tokio::sync::{oneshot, watch, Notify};

/// Why the task could not start.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The Redis URL is not one.
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
}

/// How the worker beats.
#[derive(Debug, Clone)]
pub struct Options {
    /// The beat period it promises (written as `interval_s`); keys expire after three.
    pub interval: Duration,
    /// Its version, shown on the dashboard.
    pub version: Option<String>,
    /// The program it runs, absolute and resolved (default: this process's own).
    pub executable: Option<String>,
    /// Its first phase: `Starting` until [`Handle::ready`] (or `Ready` at once).
    pub phase: Phase,
    /// The part of its worker this process is (`[[workers]] parts`): it beats under
    /// `worker:<name>:part:<part>:beat` and takes no commands (they are the whole worker's).
    pub part: Option<String>,
    /// The longest one Redis call may take.
    pub timeout: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(HEARTBEAT_INTERVAL_S),
            version: None,
            executable: None,
            phase: Phase::Starting,
            part: None,
            timeout: Duration::from_secs(2),
        }
    }
}

/// What the next beat says.
#[derive(Debug, Clone)]
struct State {
    beat: Heartbeat,
    /// The final beat's exit code, once the worker is stopping.
    finish: Option<i32>,
}

struct Shared {
    state: Mutex<State>,
    nudge: Notify,
    /// The strongest action asked of the worker so far.
    wish: watch::Sender<Option<Action>>,
}

/// The worker's side of the heartbeat; cheap to clone, never blocks on Redis.
#[derive(Clone)]
pub struct Handle {
    shared: Arc<Shared>,
    done: Arc<Mutex<Option<oneshot::Receiver<()>>>>,
}

/// Starts beating for worker `name` of `kind` into the Redis at `redis_url`.
pub fn start(name: &str, kind: &str, redis_url: &str, options: Options) -> Result<Handle, Error> {
    let client = redis::Client::open(redis_url)?;
    let now = iso_now();
    let beat = Heartbeat {
        name: name.to_owned(),
        kind: kind.to_owned(),
        state: declared::idle_state(kind).to_owned(),
        ts: now.clone(),
        declared: Declared {
            interval_s: Some(options.interval.as_secs().max(1)),
            phase: Some(options.phase),
            started_at: Some(now),
            pid: Some(std::process::id()),
            version: options.version.clone(),
            executable: options.executable.clone().or_else(declared::own_executable),
            ..Declared::default()
        },
        ..Heartbeat::default()
    };
    let shared = Arc::new(Shared {
        state: Mutex::new(State { beat, finish: None }),
        nudge: Notify::new(),
        wish: watch::Sender::new(None),
    });
    let (done_tx, done_rx) = oneshot::channel();
    tokio::spawn(run(client, shared.clone(), options, done_tx));
    Ok(Handle {
        shared,
        done: Arc::new(Mutex::new(Some(done_rx))),
    })
}

impl Handle {
    fn update(&self, change: impl FnOnce(&mut Heartbeat), beat_now: bool) {
        change(&mut self.shared.state.lock().expect("state lock").beat);
        if beat_now {
            self.shared.nudge.notify_one();
        }
    }

    fn set_phase(&self, phase: Phase, reason: Option<String>) {
        self.update(
            |b| {
                b.declared.phase = Some(phase);
                b.declared.reason = reason;
            },
            true,
        );
    }

    /// Ready to take work.
    pub fn ready(&self) {
        self.set_phase(Phase::Ready, None);
    }

    /// Alive but not fit to work, and why.
    pub fn unhealthy(&self, reason: &str) {
        self.set_phase(Phase::Unhealthy, Some(reason.to_owned()));
    }

    /// The watcher's mode (`trading`, ...): why the queues are paused.
    pub fn set_mode(&self, mode: &str) {
        self.update(|b| b.mode = Some(mode.to_owned()), false);
    }

    /// Its own words on how it is (sd_notify's `STATUS=`), without changing its phase.
    pub fn set_reason(&self, reason: &str) {
        self.update(|b| b.declared.reason = Some(reason.to_owned()), true);
    }

    /// Finishing its jobs before a stop; takes no new ones.
    pub fn draining(&self, reason: &str) {
        self.set_phase(Phase::Draining, Some(reason.to_owned()));
    }

    /// The kind's own state (`idle`, `busy`, `paused`, `trading`, ...).
    pub fn set_state(&self, state: &str) {
        self.update(|b| b.state = state.to_owned(), true);
    }

    /// The result of one of its own dependency checks; a failing one makes it unhealthy.
    pub fn set_check(&self, name: &str, ok: bool) {
        self.update(
            |b| {
                let checks = b.declared.checks.get_or_insert_with(BTreeMap::new);
                checks.insert(name.to_owned(), ok);
            },
            true,
        );
    }

    /// A job began: busy, with the job shown until it ends.
    pub fn job_started(&self, id: &str) {
        self.update(
            |b| {
                b.state = "busy".into();
                b.declared.current_job = Some(CurrentJob {
                    id: id.to_owned(),
                    started_at: iso_now(),
                });
            },
            true,
        );
    }

    /// The current job succeeded.
    pub fn job_done(&self) {
        self.update(|b| finish_job(b, true), true);
    }

    /// The current job failed.
    pub fn job_failed(&self) {
        self.update(|b| finish_job(b, false), true);
    }

    /// What pulseboard asked of the worker so far (the strongest: stop, restart, quiet), changing
    /// as commands arrive. The worker obeys between jobs: on `quiet` it takes no new jobs; on
    /// `restart` it finishes its job, calls [`Handle::stop`] (a restart asked for is no crash)
    /// and exits with [`RESTART_EXIT_CODE`](pulseboard_shared::command::RESTART_EXIT_CODE) for
    /// its supervisor to start it again; on `stop` it finishes its job, calls [`Handle::stop`]
    /// and exits 0. `examples/render_worker.rs` shows the loop.
    pub fn wishes(&self) -> watch::Receiver<Option<Action>> {
        self.shared.wish.subscribe()
    }

    /// Writes the final `stopped` beat (no expiry: the dashboard says "stopped N min ago" until
    /// the worker starts again) and ends the task. A clean stop, never reported as a crash.
    pub async fn stop(&self) {
        self.finish(0).await;
    }

    /// Writes a final beat saying the worker ended with `exit_code` (non-zero: it is down at
    /// once, without waiting for its key to expire) and ends the task.
    pub async fn crashed(&self, exit_code: i32) {
        self.finish(exit_code).await;
    }

    async fn finish(&self, exit_code: i32) {
        self.shared.state.lock().expect("state lock").finish = Some(exit_code);
        self.shared.nudge.notify_one();
        let done = self.done.lock().expect("done lock").take();
        if let Some(done) = done {
            let _ = done.await;
        }
    }
}

fn finish_job(b: &mut Heartbeat, ok: bool) {
    if ok {
        b.jobs_done += 1;
    } else {
        b.jobs_failed += 1;
    }
    b.last_job_at = Some(iso_now());
    b.declared.current_job = None;
    if b.state == "busy" {
        b.state = "idle".into();
    }
}

/// The task: a beat every interval or at once when nudged; the final beat, then it ends.
async fn run(
    client: redis::Client,
    shared: Arc<Shared>,
    options: Options,
    done: oneshot::Sender<()>,
) {
    let ttl_s = options.interval.as_secs().max(1) * 3;
    let name = shared.state.lock().expect("state lock").beat.name.clone();
    let key = match &options.part {
        Some(part) => part_beat_key(&name, part),
        None => heartbeat_key(&name),
    };
    let mut conn = None;
    let mut failures = 0u64;
    loop {
        let (beat, finish) = {
            let mut state = shared.state.lock().expect("state lock");
            state.beat.ts = iso_now();
            if let Some(code) = state.finish {
                state.beat.declared.exit_code = Some(code);
                state.beat.declared.current_job = None;
                if code == 0 {
                    state.beat.declared.phase = Some(Phase::Stopped);
                }
            }
            (state.beat.clone(), state.finish)
        };
        // A clean stop's beat stays (no expiry); every other beat expires after three intervals.
        let expiry = (finish != Some(0)).then_some(ttl_s);
        let take = if finish.is_none() && options.part.is_none() {
            COMMANDS_PER_BEAT
        } else {
            0
        };
        let written = write(
            &client,
            &mut conn,
            &key,
            &beat,
            expiry,
            take,
            options.timeout,
        )
        .await;
        match &written {
            // The first failure and then one a minute or so: an outage is not a log flood.
            Err(e) if failures.checked_rem(60) == Some(0) => {
                failures += 1;
                tracing::warn!(worker = %beat.name, error = %e, failures, "heartbeat not written; retrying");
            }
            Err(_) => failures += 1,
            Ok(_) if failures > 0 => {
                tracing::info!(worker = %beat.name, failures, "heartbeat written again");
                failures = 0;
            }
            Ok(_) => {}
        }
        if let Ok(commands) = &written {
            obey(&shared, &beat.name, commands);
        }
        if finish.is_some() {
            // One more try for the final beat if Redis failed, then give up: the worker is leaving.
            if written.is_err() {
                let _ = write(&client, &mut conn, &key, &beat, expiry, 0, options.timeout).await;
            }
            break;
        }
        let wait = if written.is_ok() {
            options.interval
        } else {
            options.interval.min(Duration::from_secs(1))
        };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = shared.nudge.notified() => {}
        }
    }
    let _ = done.send(());
}

/// Takes `commands` (their JSON as found in the list): the strongest wish is published, and a
/// restart or a stop makes the next beats say the worker is draining and why. Anything that is
/// not a command is dropped with a warning.
fn obey(shared: &Shared, worker: &str, commands: &[String]) {
    for text in commands {
        let command = match Command::parse(text) {
            Ok(command) => command,
            Err(why) => {
                tracing::warn!(worker, %why, "a command was refused");
                continue;
            }
        };
        tracing::info!(worker, id = %command.id, action = command.action.as_str(), by = %command.by, "command received");
        shared.wish.send_modify(|wish| {
            *wish = Some(wish.map_or(command.action, |w| w.stronger(command.action)));
        });
        let mut state = shared.state.lock().expect("state lock");
        let declared = &mut state.beat.declared;
        declared.phase = Some(Phase::Draining);
        declared.reason = Some(command.reason());
        drop(state);
        shared.nudge.notify_one();
    }
}

fn iso_now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    /// A Redis URL nothing listens on (port 1 is never a Redis).
    const NOWHERE: &str = "redis://127.0.0.1:1";

    fn quick() -> Options {
        Options {
            interval: Duration::from_secs(1),
            timeout: Duration::from_millis(200),
            ..Options::default()
        }
    }

    fn next_beat(h: &Handle) -> Heartbeat {
        h.shared.state.lock().unwrap().beat.clone()
    }

    #[tokio::test]
    async fn the_first_beat_declares_interval_phase_pid_and_start() {
        let options = Options {
            version: Some("1.2.3".into()),
            ..quick()
        };
        let h = start("gpu-1", "render", NOWHERE, options).unwrap();
        let b = next_beat(&h);
        assert_eq!((b.name.as_str(), b.kind.as_str()), ("gpu-1", "render"));
        assert_eq!(b.state, "idle");
        assert_eq!(b.declared.interval_s, Some(1));
        assert_eq!(b.declared.phase, Some(Phase::Starting));
        assert_eq!(b.declared.pid, Some(std::process::id()));
        assert_eq!(b.declared.version.as_deref(), Some("1.2.3"));
        let started = b.declared.started_at.unwrap();
        assert!(chrono::DateTime::parse_from_rfc3339(&started).is_ok());
        assert!(started.ends_with('Z'), "UTC, seconds: {started}");
        assert_eq!(
            next_beat(&start("w", "watcher", NOWHERE, quick()).unwrap()).state,
            "free"
        );
    }

    #[tokio::test]
    async fn handle_calls_shape_the_next_beat() {
        let h = start("gpu-1", "render", NOWHERE, quick()).unwrap();
        h.ready();
        assert_eq!(next_beat(&h).declared.phase, Some(Phase::Ready));
        h.job_started("job-1");
        let b = next_beat(&h);
        assert_eq!(b.state, "busy");
        assert_eq!(b.declared.current_job.as_ref().unwrap().id, "job-1");
        h.job_done();
        h.job_started("job-2");
        h.job_failed();
        let b = next_beat(&h);
        assert_eq!((b.jobs_done, b.jobs_failed), (1, 1));
        assert_eq!(b.state, "idle");
        assert!(b.declared.current_job.is_none() && b.last_job_at.is_some());
        h.set_check("gpu", false);
        h.unhealthy("gpu lost");
        let b = next_beat(&h);
        assert_eq!(b.declared.phase, Some(Phase::Unhealthy));
        assert_eq!(b.declared.reason.as_deref(), Some("gpu lost"));
        assert!(!b.declared.checks.unwrap()["gpu"]);
        h.ready();
        assert_eq!(
            next_beat(&h).declared.reason,
            None,
            "ready clears the reason"
        );
        h.draining("deploy");
        assert_eq!(next_beat(&h).declared.phase, Some(Phase::Draining));
        h.set_state("paused");
        assert_eq!(next_beat(&h).state, "paused");
    }

    #[tokio::test]
    async fn no_redis_never_blocks_the_worker_and_stop_is_bounded() {
        let h = start("gpu-1", "render", NOWHERE, quick()).unwrap();
        let t = Instant::now();
        for i in 0..10_000 {
            h.job_started(&format!("job-{i}"));
            h.job_done();
        }
        assert!(
            t.elapsed() < Duration::from_secs(1),
            "20 000 calls took {:?}",
            t.elapsed()
        );
        // The final beat is tried twice, each bounded by the timeout, then the task ends.
        let t = Instant::now();
        h.stop().await;
        assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
        // A second stop (a clone's) returns at once.
        tokio::time::timeout(Duration::from_millis(100), h.clone().stop())
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn a_bad_url_is_refused_at_start() {
        assert!(start("w", "render", "not a url", quick()).is_err());
    }
}
