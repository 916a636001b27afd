//! `pulseboard agent --host H`: the host agent. It runs on each worker host (itself under
//! systemd or launchd) and lets pulseboard restart a worker whose process is gone and whose
//! supervisor gave up, by running the supervisor's own restart command, nothing else.
//!
//! # Design
//! - **Nothing from Redis becomes a command.** A request names a worker and an action
//!   (`restart`, `reset_and_restart`); the argv comes from the agent's allow-list, a file on the
//!   host ([`allow_list`]), checked at start-up. Programs run directly, never through a shell
//!   ([`runner`], [`execute`]). Anything else on the stream is refused, logged and answered
//!   ([`admission`]).
//! - **Only the server can ask.** Every request must be signed with the agent key (which Redis
//!   never sees), for this host, within the window, and must not be a copy of one taken before
//!   ([`memory::Seen`]); a worker is restarted at most `--max-restarts-per-hour` times an hour
//!   whatever the requests say ([`memory::Churn`]). A refusal is answered `refused` with its
//!   typed reason, and logged once per reason and minute ([`crate::log_gate`]), not once per
//!   entry of a flood. Results are signed with the same key. Entries are read ten at a time,
//!   and one larger than 4 KiB is refused unparsed.
//! - **Restarts forget nothing that matters.** At start the agent reads the latest thousand
//!   entries of its stream and remembers the signed request ids within the window, so a copy
//!   of a request it handled before it restarted is still refused as replayed.
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
pub mod execute;
pub mod memory;
pub mod outage;
pub mod runner;
pub mod stream;

use std::time::{Duration, Instant};

use chrono::{SecondsFormat, Utc};
use pulseboard_shared::agent::key::AgentKeys;
use pulseboard_shared::agent::sign::{sign_result, time_ms};
use pulseboard_shared::agent::{AgentResult, Outcome, Refusal, RefusalKind};

use self::admission::{admit, Admission, Judge, StreamEntry};
use self::allow_list::AllowList;
use self::memory::{Churn, Seen};
use self::outage::Outage;
use self::stream::{ReadFrom, Stream, StreamError};
use crate::log_gate::LogGate;
use crate::shutdown::{self, Shutdown};

/// How many times an hour a worker may be restarted when `--max-restarts-per-hour` is not
/// given.
pub const DEFAULT_MAX_RESTARTS_PER_HOUR: u32 = 6;

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
    /// The keys shared with the server: requests must be signed with one, results are signed
    /// with the first.
    pub keys: AgentKeys,
    /// How many times an hour one worker may be restarted, whatever the requests say.
    pub max_restarts_per_hour: u32,
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
    tracing::info!(
        host,
        ?workers,
        key = %options.keys.fingerprint(),
        keys = options.keys.count(),
        max_restarts_per_hour = options.max_restarts_per_hour,
        "agent ready; only requests signed with the agent key are taken"
    );
    let mut agent = Agent {
        stream: Stream::new(client, &host),
        list: options.allow_list,
        host,
        keys: options.keys,
        seen: Seen::default(),
        churn: Churn::new(options.max_restarts_per_hour),
        refusals: LogGate::default(),
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
    keys: AgentKeys,
    seen: Seen,
    churn: Churn,
    refusals: LogGate<RefusalKind>,
    outage: Outage,
}

impl Agent {
    /// Reads and handles requests until `shutdown`: first the ids already handled (see
    /// [`Agent::recall`]), then its own pending entries (at start and after every failure),
    /// then new ones.
    async fn work(&mut self, shutdown: &Shutdown) {
        while !shutdown.is_stopping() {
            match self.recall().await {
                Ok(()) => break,
                Err(e) => pause(self.outage.failed(&e), shutdown).await,
            }
        }
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

    /// Remembers the signed request ids of the stream's latest entries that are still within
    /// the window: an agent that restarted still refuses a copy of one it handled.
    async fn recall(&mut self) -> Result<(), StreamError> {
        let entries = self.stream.recent().await?;
        self.outage.succeeded();
        let now_ms = Utc::now().timestamp_millis();
        for entry in &entries {
            let Some(request) = admission::signed(entry, &self.keys, &self.host, now_ms) else {
                continue;
            };
            let at_ms = time_ms(&request.at).unwrap_or(now_ms);
            self.seen.remember(&request.id, &entry.id, at_ms, now_ms);
        }
        tracing::info!(
            entries = entries.len(),
            remembered = self.seen.len(),
            "recent request ids remembered (a copy of one is refused)"
        );
        Ok(())
    }

    /// Answers one entry: refused, interrupted, or run and answered with how it went.
    async fn handle(
        &mut self,
        entry: &StreamEntry,
        shutdown: &Shutdown,
    ) -> Result<(), StreamError> {
        let now = Instant::now();
        let now_ms = Utc::now().timestamp_millis();
        let judge = Judge {
            host: &self.host,
            keys: &self.keys,
            list: &self.list,
            seen: &self.seen,
            churn: &self.churn,
            now_ms,
            now,
        };
        let (request, listed) = match admit(entry, &judge) {
            Admission::Refuse { id, worker, reason } => {
                self.log_refusal(&entry.id, &id, &worker, &reason, now);
                let mut result = self.result(id, worker, Outcome::Refused, reason.to_string());
                result.refused = Some(reason.kind());
                sign_result(&self.keys, &mut result);
                // Forgetting a started id is harmless when there is none; a refused request
                // found started (too old by the time the agent came back) leaves the set.
                return self.stream.finish(&entry.id, &result, true).await;
            }
            Admission::Act { request, entry } => (request, entry.clone()),
        };
        let at_ms = time_ms(&request.at).unwrap_or(now_ms);
        self.seen.remember(&request.id, &entry.id, at_ms, now_ms);
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
            let mut result = self.result(
                request.id.clone(),
                request.worker.clone(),
                Outcome::Interrupted,
                "the agent stopped while running it; not run again".into(),
            );
            sign_result(&self.keys, &mut result);
            return self.stream.finish(&entry.id, &result, true).await;
        }
        self.churn.record(&request.worker, now);
        let started = self.result(
            request.id.clone(),
            request.worker.clone(),
            Outcome::Done,
            String::new(),
        );
        let mut result = execute::run(&request, &listed, started).await;
        sign_result(&self.keys, &mut result);
        self.deliver(&entry.id, &result, shutdown).await;
        Ok(())
    }

    /// Logs a refusal: the first of its kind in a minute, with how many were not logged since
    /// the last line (a flood of forged entries is a line a minute, not one per entry). What
    /// the entry says is logged escaped.
    fn log_refusal(&mut self, entry: &str, id: &str, worker: &str, why: &Refusal, now: Instant) {
        let Some(not_logged) = self.refusals.pass(why.kind(), now) else {
            return;
        };
        tracing::warn!(
            entry,
            id = ?id,
            worker = ?worker,
            reason = ?why.to_string(),
            kind = why.kind().as_str(),
            not_logged,
            "request refused; nothing run"
        );
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
            refused: None,
            at: now(),
            sig: String::new(),
        }
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
    fn times_are_utc_seconds_with_z() {
        let t = now();
        assert!(t.ends_with('Z') && t.len() == 20, "{t}");
    }
}
