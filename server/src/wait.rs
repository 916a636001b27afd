//! `pulseboard wait --ready NAME...`: blocks until every named worker is ready in a life that
//! began at or after `since`, reading their heartbeats straight from Redis (no pulseboard server
//! needed), for `ExecStartPost=`, deploy scripts and smoke tests. Each worker's standing is
//! judged by [`pulseboard_shared::wait::standing`], on the same lifecycle judgement as the
//! dashboard; a line goes to the log each time one changes.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use pulseboard_shared::heartbeat::heartbeat_key;
use pulseboard_shared::lifecycle::LifecycleRules;
use pulseboard_shared::parts::part_beat_key;
use pulseboard_shared::wait::{standing, Life, Standing};
use pulseboard_shared::HeartbeatRead;

use crate::aggregate::{observe, parse_ts};
use crate::reader::bounded::{get_bounded, judge, MAX_HEARTBEAT_BYTES};

/// What to wait for.
#[derive(Debug, Clone)]
pub struct Options {
    /// Redis, one server (a plain URL, `redis://` or `rediss://`).
    pub redis_url: String,
    /// The workers that must all be ready.
    pub names: Vec<String>,
    /// The parts each of them is made of (`[[workers]] parts`), each awaited alone; empty:
    /// workers of one process.
    pub parts: Vec<String>,
    /// Lives that began before this do not count (the instance being replaced).
    pub since: DateTime<Utc>,
    /// How long to wait at most.
    pub timeout: Duration,
    /// How often to read the beats.
    pub poll: Duration,
    /// The lifecycle limits (how long `starting` may last).
    pub rules: LifecycleRules,
}

/// Why the wait ended without every worker ready.
#[derive(Debug, thiserror::Error)]
pub enum WaitError {
    /// One worker's new life ended or failed before it was ready.
    #[error("{name} will not be ready: {words}")]
    Failed {
        /// The worker.
        name: String,
        /// Its state and why.
        words: String,
    },
    /// The time ran out.
    #[error("not ready after {after_s} s: {waiting}")]
    Timeout {
        /// The timeout.
        after_s: u64,
        /// The workers not ready, each with where it stands.
        waiting: String,
    },
    /// The Redis URL cannot be used.
    #[error("--redis: {0}")]
    RedisUrl(redis::RedisError),
}

/// A worker's newest beat as this process saw it.
#[derive(Debug, Default)]
struct Seen {
    /// Its `ts` and when this process first read that `ts` (beat ages on our clock).
    beat: Option<(String, Instant)>,
    /// The beat, read.
    read: Option<HeartbeatRead>,
    /// Whether its key existed at the last read.
    key_exists: bool,
}

/// Waits; `Ok` once every worker is ready. Redis going away is logged and waited out (until
/// the timeout).
pub async fn run(o: Options) -> Result<(), WaitError> {
    let client = redis::Client::open(o.redis_url.as_str()).map_err(WaitError::RedisUrl)?;
    let deadline = Instant::now() + o.timeout;
    let (labels, keys) = targets(&o.names, &o.parts);
    let mut seen: HashMap<&str, Seen> = labels
        .iter()
        .map(|n| (n.as_str(), Seen::default()))
        .collect();
    let mut said: HashMap<&str, String> = HashMap::new();
    let mut conn = None;
    let mut redis_error: Option<String> = None;
    loop {
        match read(&client, &mut conn, &keys).await {
            Ok(values) => {
                if redis_error.take().is_some() {
                    tracing::info!("redis answers again");
                }
                let now = Instant::now();
                for (name, value) in labels.iter().zip(values) {
                    let s = seen.get_mut(name.as_str()).expect("every name is seen");
                    s.key_exists = value.is_some();
                    if let Some(read) = value {
                        let ts = read.ts.clone().unwrap_or_default();
                        if s.beat.as_ref().is_none_or(|(old, _)| *old != ts) {
                            s.beat = Some((ts, now));
                        }
                        s.read = Some(read);
                    }
                }
            }
            Err(e) => {
                conn = None;
                if redis_error.as_deref() != Some(e.to_string().as_str()) {
                    tracing::warn!(error = %e, "redis unreachable; retrying until the timeout");
                    redis_error = Some(e.to_string());
                }
            }
        }
        let mut all_ready = true;
        let mut waiting = Vec::new();
        for name in &labels {
            let now_standing = judge_one(&seen[name.as_str()], o.since, &o.rules);
            let words = words(&now_standing);
            if said.get(name.as_str()) != Some(&words) {
                tracing::info!(worker = %name, "{words}");
                said.insert(name, words.clone());
            }
            match now_standing {
                Standing::Ready => {}
                Standing::Failed(_) => {
                    return Err(WaitError::Failed {
                        name: name.clone(),
                        words,
                    })
                }
                _ => {
                    all_ready = false;
                    waiting.push(format!("{name} ({words})"));
                }
            }
        }
        if all_ready {
            return Ok(());
        }
        if Instant::now() >= deadline {
            if let Some(e) = redis_error {
                waiting.push(format!("redis unreachable: {e}"));
            }
            return Err(WaitError::Timeout {
                after_s: o.timeout.as_secs(),
                waiting: waiting.join(", "),
            });
        }
        tokio::time::sleep(o.poll.min(deadline - Instant::now())).await;
    }
}

/// What is awaited, each as it is logged and the key its beat is under: every worker, or every
/// part of every worker.
fn targets(names: &[String], parts: &[String]) -> (Vec<String>, Vec<String>) {
    if parts.is_empty() {
        return (
            names.to_vec(),
            names.iter().map(|n| heartbeat_key(n)).collect(),
        );
    }
    names
        .iter()
        .flat_map(|n| parts.iter().map(move |p| (n, p)))
        .map(|(n, p)| (format!("{n} (part {p})"), part_beat_key(n, p)))
        .unzip()
}

/// Each beat under `keys` (bounded; `None`: no key), in one round trip.
async fn read(
    client: &redis::Client,
    conn: &mut Option<redis::aio::MultiplexedConnection>,
    keys: &[String],
) -> Result<Vec<Option<HeartbeatRead>>, redis::RedisError> {
    let c = match conn {
        Some(c) => c,
        None => conn.insert(client.get_multiplexed_async_connection().await?),
    };
    let mut pipe = redis::pipe();
    for key in keys {
        get_bounded(&mut pipe, key, MAX_HEARTBEAT_BYTES);
    }
    let replies: Vec<redis::Value> = pipe.query_async(c).await?;
    Ok(replies
        .into_iter()
        .map(|reply| {
            let value = judge(reply, MAX_HEARTBEAT_BYTES);
            match value.bytes() {
                Some(bytes) => Some(HeartbeatRead::parse(bytes)),
                // Larger than a beat: a key, but nothing that says the worker is ready.
                None if matches!(value, crate::reader::Bounded::TooLarge { .. }) => {
                    Some(HeartbeatRead::default())
                }
                None => None,
            }
        })
        .collect())
}

/// Where one worker stands, from what was seen of it.
fn judge_one(s: &Seen, since: DateTime<Utc>, rules: &LifecycleRules) -> Standing {
    let Some((ts, first_read)) = &s.beat else {
        return Standing::NoBeat;
    };
    let declared = s.read.as_ref().map(|r| &r.declared);
    let life = match declared.and_then(|d| d.started_at.as_deref()).map(parse_ts) {
        Some(Some(started)) if started >= since => Life::New,
        Some(Some(_)) => Life::Old,
        _ => Life::Unknown,
    };
    let age = first_read.elapsed().as_secs();
    let o = observe(s.key_exists, Some(age), parse_ts(ts), declared);
    standing(&o, life, rules)
}

/// A standing in words, for the log and the error.
fn words(s: &Standing) -> String {
    match s {
        Standing::NoBeat => "no heartbeat yet".into(),
        Standing::OldLife => "only the old instance beats (started before --since)".into(),
        Standing::Ready => "ready".into(),
        Standing::NotYet(l) | Standing::Failed(l) => match &l.reason_code {
            Some(why) => format!("{}: {}", l.state.as_str(), why.words()),
            None => l.state.as_str().to_owned(),
        },
    }
}
