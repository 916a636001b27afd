//! `pulseboard agent --host H`: the host agent. It runs on each worker host (itself under
//! systemd or launchd) and lets pulseboard restart a worker whose process is gone and whose
//! supervisor gave up, by running the supervisor's own restart command, nothing else.
//!
//! # Design
//! - **Nothing from Redis becomes a command.** A request names a worker and an action
//!   (`restart`, `reset_and_restart`); the argv comes from the agent's allow-list, a file on the
//!   host ([`allow_list`]), checked at start-up. Programs run directly, never through a shell
//!   ([`runner`]). Anything else on the stream is refused, logged and answered ([`admission`]).
//! - **At most once.** Requests arrive on `pulseboard:agent:<host>:requests` through the consumer
//!   group `agents`, this host being the consumer ([`stream`]). Before running anything the agent
//!   adds the request id to `pulseboard:agent:<host>:started`; a request it finds there (it was
//!   killed mid-command and read its pending entries again) is answered `interrupted` and not run
//!   again, for a restart run twice may do harm where one not run is only reported.
//! - **Answered and acknowledged together.** The result (`XADD pulseboard:agent:results MAXLEN ~
//!   10000`), the `XACK` and the `SREM` of the started id go in one `MULTI`/`EXEC`: the started set
//!   holds only the request in hand (at most one, as requests run one at a time), so it never
//!   grows, and a request is never answered twice. An acknowledged entry is never delivered again.
//! - **One at a time, to the end.** A command runs to its exit or its timeout (its process group
//!   is then killed). SIGTERM or Ctrl-C lets the running command finish and its result be
//!   written, then the beat is deleted and the agent exits 0; requests not yet started stay
//!   pending for the next start.
//! - **Redis is allowed to go away.** Every failure is logged once per outage, retried with
//!   backoff ([`outage`]), and after it the agent reads its own pending entries first, so a reply
//!   lost on the way is handled. A result that cannot be written is kept and retried; if the agent
//!   must stop first, the next start answers that request `interrupted`.
//! - **A beat says the host can act** ([`beat`]): `agent@<host>`, kind `agent`, the allow-listed
//!   workers, every `--beat-interval-ms`, expiring after the heartbeat TTL (45 s).
//!
//! The contract (keys, [`Request`], [`AgentResult`], [`Beat`](pulseboard_shared::agent::Beat)) is
//! `pulseboard_shared::agent`.

pub mod admission;
pub mod allow_list;
pub mod beat;
pub mod outage;
pub mod runner;
pub mod stream;

use std::time::{Duration, Instant};

use chrono::{SecondsFormat, Utc};
use pulseboard_shared::agent::{tail, AgentResult, Outcome, Request, STDERR_TAIL_BYTES};

use self::admission::{admit, Admission, StreamEntry};
use self::allow_list::{AllowList, Entry};
use self::outage::Outage;
use self::runner::Ran;
use self::stream::{ReadFrom, Stream, StreamError};
use crate::shutdown::{self, Shutdown};

/// How long a read waits for a new request: also how soon an idle agent notices a stop.
pub const BLOCK: Duration = Duration::from_millis(1000);

/// How long, once stopping, the agent keeps trying to write the result of a command it ran.
const LAST_WRITE_PATIENCE: Duration = Duration::from_secs(10);

/// What `pulseboard agent` was asked to do.
#[derive(Debug, Clone)]
pub struct Options {
    /// The host this agent acts on (its stream, its beat; the consumer's name).
    pub host: String,
    /// The workers it may act for, and how.
    pub allow_list: AllowList,
    /// The Redis the requests come through.
    pub redis_url: String,
    /// The beat period.
    pub beat_interval: Duration,
}

/// Why the agent cannot start.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// The host name cannot be used in keys.
    #[error("--host {0:?}: use 1 to 100 letters, digits, '.', '_' or '-'")]
    Host(String),
    /// The Redis URL is not one.
    #[error("--redis: {0}")]
    RedisUrl(redis::RedisError),
}

/// Serves requests until `shutdown`, then deletes the beat. Fails only at start-up.
pub async fn run(options: Options, shutdown: Shutdown) -> Result<(), AgentError> {
    let host = options.host;
    let valid = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    if host.is_empty() || host.len() > 100 || !host.chars().all(valid) {
        return Err(AgentError::Host(host));
    }
    let client = redis::Client::open(options.redis_url.as_str()).map_err(AgentError::RedisUrl)?;
    let workers = options.allow_list.names();
    if workers.is_empty() {
        tracing::warn!("the allow-list names no worker: every request will be refused");
    }
    let (stop_beat, beat_stop) = shutdown::channel();
    let beat = tokio::spawn(beat::run(
        client.clone(),
        host.clone(),
        workers.clone(),
        options.beat_interval,
        beat_stop,
    ));
    tracing::info!(host, ?workers, "agent ready");
    let mut agent = Agent {
        stream: Stream::new(client, &host),
        list: options.allow_list,
        host,
        outage: Outage::new("requests"),
    };
    agent.work(&shutdown).await;
    stop_beat.stop();
    let _ = beat.await;
    tracing::info!("agent stopped");
    Ok(())
}

/// The request loop's state.
struct Agent {
    stream: Stream,
    list: AllowList,
    host: String,
    outage: Outage,
}

impl Agent {
    /// Reads and handles requests until `shutdown`: its own pending entries first (at start and
    /// after every failure), then new ones.
    async fn work(&mut self, shutdown: &Shutdown) {
        let mut pending = true;
        while !shutdown.is_stopping() {
            let from = if pending {
                ReadFrom::Pending
            } else {
                ReadFrom::New(BLOCK)
            };
            let entries = match self.stream.read(from).await {
                Ok(entries) => entries,
                Err(e) => {
                    pending = true;
                    pause(self.outage.failed(&e), shutdown).await;
                    continue;
                }
            };
            self.outage.succeeded();
            if entries.is_empty() {
                pending = false;
            }
            for entry in &entries {
                if shutdown.is_stopping() {
                    break; // the rest stay pending for the next start
                }
                if let Err(e) = self.handle(entry, shutdown).await {
                    // The entry stays pending: it is read again once Redis answers.
                    pending = true;
                    pause(self.outage.failed(&e), shutdown).await;
                    break;
                }
            }
        }
    }

    /// Answers one entry: refused, interrupted, or run and answered with how it went.
    async fn handle(
        &mut self,
        entry: &StreamEntry,
        shutdown: &Shutdown,
    ) -> Result<(), StreamError> {
        let (request, listed) = match admit(entry, &self.list) {
            Admission::Refuse { id, worker, reason } => {
                tracing::warn!(entry = %entry.id, id, worker, %reason, "request refused; nothing run");
                let result = self.result(id, worker, Outcome::Refused, reason);
                return self.stream.finish(&entry.id, &result, false).await;
            }
            Admission::Act { request, entry } => (request, entry),
        };
        tracing::info!(
            id = %request.id,
            worker = %request.worker,
            action = request.action.as_str(),
            by = %request.by,
            "request received"
        );
        if !self.stream.mark_started(&request.id).await? {
            tracing::warn!(
                id = %request.id,
                worker = %request.worker,
                "request interrupted: it was started before the agent stopped; not run again"
            );
            let result = self.result(
                request.id.clone(),
                request.worker.clone(),
                Outcome::Interrupted,
                "the agent stopped while running it; not run again".into(),
            );
            return self.stream.finish(&entry.id, &result, true).await;
        }
        let result = self.execute(&request, listed.clone()).await;
        self.deliver(&entry.id, &result, shutdown).await;
        Ok(())
    }

    /// Runs the action's commands in order, stopping at the first that does not exit 0.
    async fn execute(&self, request: &Request, listed: Entry) -> AgentResult {
        let began = Instant::now();
        let mut result = self.result(
            request.id.clone(),
            request.worker.clone(),
            Outcome::Done,
            String::new(),
        );
        for step in listed.steps(request.action) {
            tracing::info!(id = %request.id, worker = %request.worker, step = step.name, argv = ?step.argv, "running");
            let ran = runner::run(step.argv, listed.timeout, STDERR_TAIL_BYTES).await;
            if ran.succeeded() {
                result.exit_code = Some(0);
                continue;
            }
            result.outcome = Outcome::Failed;
            (result.exit_code, result.detail) = failure(ran);
            tracing::warn!(
                id = %request.id,
                worker = %request.worker,
                step = step.name,
                exit_code = result.exit_code,
                detail = ?result.detail,
                "request failed"
            );
            break;
        }
        result.duration_ms = began.elapsed().as_millis() as u64;
        result.at = now();
        if result.outcome == Outcome::Done {
            tracing::info!(id = %request.id, worker = %request.worker, duration_ms = result.duration_ms, "request done");
        }
        result
    }

    /// Writes the result of a command that ran, retrying while Redis is away: running it again is
    /// not an option. Once stopping, gives up after [`LAST_WRITE_PATIENCE`].
    async fn deliver(&mut self, entry_id: &str, result: &AgentResult, shutdown: &Shutdown) {
        let mut stopping_since = None;
        loop {
            match self.stream.finish(entry_id, result, true).await {
                Ok(()) => {
                    self.outage.succeeded();
                    return;
                }
                Err(e) => {
                    let wait = self.outage.failed(&e);
                    if shutdown.is_stopping() {
                        let since = *stopping_since.get_or_insert_with(Instant::now);
                        if since.elapsed() > LAST_WRITE_PATIENCE {
                            tracing::error!(
                                id = %result.id,
                                outcome = ?result.outcome,
                                "result not written before stopping; the next start reports the request interrupted"
                            );
                            return;
                        }
                    }
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }

    /// A result of this host, now, that took no time.
    fn result(&self, id: String, worker: String, outcome: Outcome, detail: String) -> AgentResult {
        AgentResult {
            id,
            host: self.host.clone(),
            worker,
            outcome,
            exit_code: None,
            duration_ms: 0,
            detail,
            at: now(),
        }
    }
}

/// A failed command's exit code (when it exited) and what to say about it.
fn failure(ran: Ran) -> (Option<i32>, String) {
    match ran {
        Ran::Exited { code, stderr } => (Some(code), tail(&stderr, STDERR_TAIL_BYTES)),
        Ran::Killed { signal, stderr } => {
            let head = format!("killed by signal {signal}");
            let room = STDERR_TAIL_BYTES.saturating_sub(head.len() + 2);
            let end = tail(&stderr, room);
            let detail = if end.is_empty() {
                head
            } else {
                format!("{head}: {end}")
            };
            (None, detail)
        }
        Ran::TimedOut { after } => (None, format!("timed out after {} s", after.as_secs_f64())),
        Ran::NotStarted(why) => (None, why),
    }
}

/// Waits `wait`, or less if the stop comes first.
async fn pause(wait: Duration, shutdown: &Shutdown) {
    tokio::select! {
        _ = tokio::time::sleep(wait) => {}
        _ = shutdown.wait() => {}
    }
}

/// Now, as the contract writes times: UTC, whole seconds, `Z`.
fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_say_what_happened() {
        assert_eq!(
            failure(Ran::Exited {
                code: 5,
                stderr: b"unit not found\n".to_vec()
            }),
            (Some(5), "unit not found\n".into())
        );
        assert_eq!(
            failure(Ran::TimedOut {
                after: Duration::from_secs(60)
            }),
            (None, "timed out after 60 s".into())
        );
        assert_eq!(
            failure(Ran::Killed {
                signal: 9,
                stderr: vec![]
            }),
            (None, "killed by signal 9".into())
        );
        let (_, long) = failure(Ran::Killed {
            signal: 15,
            stderr: vec![b'x'; 10_000],
        });
        assert!(long.starts_with("killed by signal 15: x"));
        assert!(long.len() <= STDERR_TAIL_BYTES, "{}", long.len());
        assert_eq!(
            failure(Ran::NotStarted("cannot start /x: gone".into())),
            (None, "cannot start /x: gone".into())
        );
    }

    #[test]
    fn times_are_utc_seconds_with_z() {
        let t = now();
        assert!(t.ends_with('Z') && t.len() == 20, "{t}");
    }
}
