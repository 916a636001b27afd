//! Redis in: everything one refresh needs, read in a single pipelined round trip (the workers'
//! commands are built once and kept while their keys stay the same).
//!
//! Per worker: `GETRANGE` of its heartbeat (bounded, so a huge value costs nothing), `PTTL` of the
//! same key (existence, and whether it was written with an expiry), `LLEN` of its queue and
//! dead-letter list, `LLEN` of each in-flight list discovery found, the same two reads of each
//! part's beat (a worker of several processes); once: `GET queue:paused` and
//! a bounded `GETRANGE` of each extra value asked for (the recovery guard's memory, the host
//! agents' beats: see [`bounded`]); and the discovery SCAN steps due. A key of the wrong type
//! fails only its own command.

use std::time::Duration;

use redis::aio::ConnectionManager;
use redis::Value;

use crate::discovery::{Pattern, ScanStep};
use crate::redis_connection;

pub use bounded::{Bounded, BoundedKey, MAX_HEARTBEAT_BYTES};
/// The global pause flag (`"1"` = paused), as the worker SDK's queue defines it.
pub use pulseboard_worker::queue::PAUSED_KEY;

/// Why a refresh could not read Redis at all.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// Connecting or talking to Redis failed.
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    /// Redis did not answer in time.
    #[error("redis did not answer within {0:?}")]
    Timeout(Duration),
    /// Redis answered something this reader cannot have asked for.
    #[error("unexpected reply from redis: {0}")]
    Protocol(String),
    /// The client could not be built (a bad URL or TLS file).
    #[error(transparent)]
    Client(#[from] crate::config::ConfigError),
}

/// What to read for one worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerKeys {
    /// `worker:<name>:heartbeat`.
    pub heartbeat: String,
    /// Its pending and dead-letter lists (render workers).
    pub queue: Option<QueueKeys>,
    /// Its in-flight lists, as found by discovery.
    pub processing: Vec<String>,
    /// Its parts' beats, when it is several processes (`worker:<name>:part:<part>:beat`).
    pub parts: Vec<String>,
}

/// A render worker's lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueKeys {
    /// `queue:<worker>`.
    pub pending: String,
    /// `dead_letter:queue:<worker>`.
    pub dead_letter: String,
}

/// The heartbeat key as found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeartbeatValue {
    /// No such key: the worker is dead (or never started).
    Missing,
    /// The key exists.
    Present {
        /// Its value, at most [`MAX_HEARTBEAT_BYTES`]; empty when `truncated`.
        bytes: Vec<u8>,
        /// Whether the value was longer than [`MAX_HEARTBEAT_BYTES`]: garbage, not to be parsed.
        truncated: bool,
        /// Whether the key has an expiry (contract 1 says `EX 45`).
        expires: bool,
    },
    /// Redis refused to read it (e.g. the key holds a list).
    Error(String),
}

/// Why one count (an `LLEN`) could not be read; the rest of the reading stands.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CountError {
    /// Redis answered this command with an error (a key of the wrong type, say).
    #[error("{0}")]
    Redis(String),
    /// Redis answered something that is not a count (shown as received).
    #[error("unexpected reply {0}")]
    Unexpected(String),
}

/// One worker's reading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerReading {
    /// The heartbeat.
    pub heartbeat: HeartbeatValue,
    /// `LLEN` of the pending list.
    pub queue_depth: Result<u64, CountError>,
    /// `LLEN` of the dead-letter list.
    pub dead_letter: Result<u64, CountError>,
    /// Sum of `LLEN` over the in-flight lists.
    pub processing: Result<u64, CountError>,
    /// Each part's beat, in the order asked.
    pub parts: Vec<HeartbeatValue>,
}

/// A SCAN reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanReply {
    /// The sweep it advances.
    pub pattern: Pattern,
    /// The cursor to continue from (0: sweep done).
    pub next_cursor: u64,
    /// Keys matching the pattern in this step.
    pub keys: Vec<String>,
}

/// Everything one refresh read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reading {
    /// Whether `queue:paused` is `"1"`.
    pub paused: bool,
    /// One per requested worker, in order.
    pub workers: Vec<WorkerReading>,
    /// One per requested extra value, in order.
    pub values: Vec<Bounded>,
    /// The SCAN replies, one per requested step.
    pub scans: Vec<ScanReply>,
    /// Commands sent.
    pub commands: usize,
    /// Round trips they took (1 on one server; one per primary on a cluster, in parallel).
    pub round_trips: usize,
}

pub mod bounded;
pub mod cluster;
mod pipeline;

use pipeline::{build_pipeline, push_head, push_scans, push_workers};

/// The seam between the aggregator and Redis: one connection, reconnected by itself, or a
/// cluster's primaries.
pub struct RedisSource {
    client: redis::Client,
    conn: Option<ConnectionManager>,
    timeout: Duration,
    cluster: Option<cluster::ClusterSource>,
    fleet: Option<FleetPipeline>,
}

/// The workers' part of the pipeline, kept while their keys stay the same (between discovery
/// finding a worker or an in-flight list): building its 40,000 commands at 10,000 workers took
/// 10 ms of every refresh, comparing the keys takes under 1.
struct FleetPipeline {
    keys: Vec<WorkerKeys>,
    pipe: redis::Pipeline,
}

impl RedisSource {
    /// A source reading through `client`; nothing is connected until the first read. `timeout`
    /// bounds each read.
    pub fn new(client: redis::Client, timeout: Duration) -> Result<Self, ReadError> {
        Ok(Self {
            client,
            conn: None,
            timeout,
            cluster: None,
            fleet: None,
        })
    }

    /// A source for the Redis Cluster that the node at `url` belongs to.
    pub fn cluster(
        client: redis::Client,
        url: &str,
        tls: crate::config::RedisTls,
        timeout: Duration,
    ) -> Result<Self, ReadError> {
        Ok(Self {
            cluster: Some(cluster::ClusterSource::new(url, tls, timeout)?),
            ..Self::new(client, timeout)?
        })
    }

    /// Reads everything for `workers`, the `values` and the `scans` due, in one round trip.
    pub async fn read(
        &mut self,
        workers: &[WorkerKeys],
        values: &[BoundedKey],
        scans: &[ScanStep],
    ) -> Result<Reading, ReadError> {
        if let Some(cluster) = &mut self.cluster {
            return cluster.read(workers, values, scans).await;
        }
        // The workers' commands (kept from the last refresh when their keys are the same) and
        // the rest (the pause flag, the values, the SCANs) go out together on the one
        // connection, one round trip; the replies are put back in `build_pipeline`'s order.
        if !self.fleet.as_ref().is_some_and(|f| f.keys == workers) {
            let mut pipe = redis::pipe();
            push_workers(&mut pipe, workers);
            let keys = workers.to_vec();
            self.fleet = Some(FleetPipeline { keys, pipe });
        }
        let mut head = redis::pipe();
        push_head(&mut head, values);
        let heads = head.len();
        push_scans(&mut head, scans);
        let mut conn = self.connection().await?;
        let mut second = conn.clone();
        let fleet = &self.fleet.as_ref().expect("set above").pipe;
        // `send_packed_commands` keeps each command's error in its own reply, where
        // `Pipeline::query_async` would fail the whole refresh for one mistyped key.
        let both = async {
            tokio::try_join!(conn.send_packed_commands(&head, 0, head.len()), async {
                // No worker yet (a new install): nothing to send, nothing to wait for.
                if fleet.is_empty() {
                    return Ok(vec![]);
                }
                second.send_packed_commands(fleet, 0, fleet.len()).await
            })
        };
        let (mut rest, fleet_replies) = tokio::time::timeout(self.timeout, both)
            .await
            .map_err(|_| ReadError::Timeout(self.timeout))??;
        let commands = head.len() + fleet.len();
        if rest.len() != head.len() {
            let words = format!("{} replies to {} commands", rest.len(), head.len());
            return Err(ReadError::Protocol(words));
        }
        let scan_replies = rest.split_off(heads);
        let mut replies = rest;
        replies.extend(fleet_replies);
        replies.extend(scan_replies);
        parse_replies(workers, values, scans, replies, commands)
    }

    /// The connection, opened on first use (and reconnected by itself after).
    async fn connection(&mut self) -> Result<ConnectionManager, ReadError> {
        if let Some(conn) = &self.conn {
            return Ok(conn.clone());
        }
        let conn = redis_connection::connect(&self.client, self.timeout).await?;
        Ok(self.conn.insert(conn).clone())
    }
}

fn parse_replies(
    workers: &[WorkerKeys],
    values: &[BoundedKey],
    scans: &[ScanStep],
    replies: Vec<Value>,
    commands: usize,
) -> Result<Reading, ReadError> {
    if replies.len() != commands {
        return Err(ReadError::Protocol(format!(
            "{} replies to {commands} commands",
            replies.len()
        )));
    }
    let mut replies = replies.into_iter();
    let mut next = || replies.next().expect("length checked above");
    let paused = matches!(next(), Value::BulkString(b) if b == b"1");
    let values = values
        .iter()
        .map(|value| bounded::judge(next(), value.max))
        .collect();
    let mut readings = Vec::with_capacity(workers.len());
    for w in workers {
        let range = next();
        let pttl = next();
        let heartbeat = heartbeat_value(range, pttl);
        let (queue_depth, dead_letter) = match &w.queue {
            Some(_) => (count(next()), count(next())),
            None => (Ok(0), Ok(0)),
        };
        let mut processing = Ok(0);
        for _ in &w.processing {
            processing = match (processing, count(next())) {
                (Ok(sum), Ok(n)) => Ok(sum + n),
                (Err(e), _) | (_, Err(e)) => Err(e),
            };
        }
        let parts = w
            .parts
            .iter()
            .map(|_| {
                let range = next();
                heartbeat_value(range, next())
            })
            .collect();
        readings.push(WorkerReading {
            heartbeat,
            queue_depth,
            dead_letter,
            processing,
            parts,
        });
    }
    let scans = scans
        .iter()
        .map(|step| scan_reply(step.pattern, next()))
        .collect::<Result<_, _>>()?;
    Ok(Reading {
        paused,
        workers: readings,
        values,
        scans,
        commands,
        round_trips: 1,
    })
}

fn heartbeat_value(range: Value, pttl: Value) -> HeartbeatValue {
    match (range, pttl) {
        (Value::ServerError(e), _) | (_, Value::ServerError(e)) => {
            HeartbeatValue::Error(redis::RedisError::from(e).to_string())
        }
        (_, Value::Int(-2)) => HeartbeatValue::Missing,
        (Value::BulkString(mut bytes), Value::Int(ttl)) => {
            let truncated = bytes.len() > MAX_HEARTBEAT_BYTES;
            if truncated {
                bytes = Vec::new(); // garbage: never parsed
            }
            HeartbeatValue::Present {
                bytes,
                truncated,
                expires: ttl >= 0,
            }
        }
        (range, pttl) => HeartbeatValue::Error(format!("unexpected replies {range:?} / {pttl:?}")),
    }
}

fn count(value: Value) -> Result<u64, CountError> {
    match value {
        Value::Int(n) => Ok(n.max(0) as u64),
        Value::ServerError(e) => Err(CountError::Redis(redis::RedisError::from(e).to_string())),
        other => Err(CountError::Unexpected(format!("{other:?}"))),
    }
}

fn scan_reply(pattern: Pattern, value: Value) -> Result<ScanReply, ReadError> {
    let (next_cursor, keys) = scan_parts(value)?;
    Ok(ScanReply {
        pattern,
        next_cursor,
        keys,
    })
}

/// A SCAN reply's next cursor and keys (keys that are not UTF-8 cannot be a name we report).
fn scan_parts(value: Value) -> Result<(u64, Vec<String>), ReadError> {
    let bad = |v: &Value| ReadError::Protocol(format!("SCAN replied {v:?}"));
    let Value::Array(parts) = &value else {
        return Err(bad(&value));
    };
    let [Value::BulkString(cursor), Value::Array(keys)] = parts.as_slice() else {
        return Err(bad(&value));
    };
    let next_cursor = std::str::from_utf8(cursor)
        .ok()
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| bad(&value))?;
    let keys = keys
        .iter()
        .filter_map(|k| match k {
            Value::BulkString(b) => String::from_utf8(b.clone()).ok(),
            _ => None,
        })
        .collect();
    Ok((next_cursor, keys))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(text: &str) -> Value {
        Value::BulkString(text.as_bytes().to_vec())
    }

    /// The error reply Redis sends for a command on a key of another type, as it arrives.
    fn wrongtype() -> Value {
        let reply = b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";
        let value = redis::parse_redis_value(reply).unwrap();
        assert!(matches!(value, Value::ServerError(_)), "{value:?}");
        value
    }

    fn render(name: &str, in_flight: usize) -> WorkerKeys {
        WorkerKeys {
            heartbeat: format!("worker:{name}:heartbeat"),
            queue: Some(QueueKeys {
                pending: format!("queue:{name}"),
                dead_letter: format!("dead_letter:queue:{name}"),
            }),
            processing: (0..in_flight)
                .map(|i| format!("processing:queue:{name}:{i}"))
                .collect(),
            parts: vec![],
        }
    }

    fn watcher() -> WorkerKeys {
        WorkerKeys {
            heartbeat: "worker:task-watcher:heartbeat".into(),
            queue: None,
            processing: vec![],
            parts: vec![],
        }
    }

    #[test]
    fn the_pipeline_and_its_replies_line_up_per_worker() {
        let workers = [render("a", 2), watcher()];
        let scans = [ScanStep {
            pattern: Pattern::Processing,
            cursor: 0,
            count: 100,
        }];
        // GET paused; a: GETRANGE, PTTL, 2 LLEN, 2 LLEN in flight; watcher: GETRANGE, PTTL; SCAN.
        assert_eq!(build_pipeline(&workers, &[], &scans).len(), 10);
        let replies = vec![
            bulk("1"),
            bulk(r#"{"name":"a"}"#),
            Value::Int(44_000),
            Value::Int(3),
            Value::Int(1),
            Value::Int(1),
            Value::Int(2),
            Value::Nil,
            Value::Int(-2),
            Value::Array(vec![
                bulk("17"),
                Value::Array(vec![bulk("processing:queue:a:9")]),
            ]),
        ];
        let reading = parse_replies(&workers, &[], &scans, replies, 10).unwrap();
        assert!(reading.paused);
        let a = &reading.workers[0];
        assert_eq!(
            a.heartbeat,
            HeartbeatValue::Present {
                bytes: br#"{"name":"a"}"#.to_vec(),
                truncated: false,
                expires: true,
            }
        );
        assert_eq!(
            (a.queue_depth.clone(), a.dead_letter.clone()),
            (Ok(3), Ok(1))
        );
        assert_eq!(a.processing, Ok(3), "in-flight lists are summed");
        assert_eq!(reading.workers[1].heartbeat, HeartbeatValue::Missing);
        assert_eq!(reading.workers[1].queue_depth, Ok(0));
        assert_eq!(reading.scans[0].next_cursor, 17);
        assert_eq!(reading.scans[0].keys, ["processing:queue:a:9"]);
        assert_eq!(reading.commands, 10);
    }

    #[test]
    fn a_key_of_the_wrong_type_fails_only_its_own_field() {
        let workers = [render("a", 1)];
        let replies = vec![
            Value::Nil,
            wrongtype(),
            Value::Int(-1),
            wrongtype(),
            Value::Int(0),
            wrongtype(),
        ];
        let reading = parse_replies(&workers, &[], &[], replies, 6).unwrap();
        assert!(!reading.paused);
        let a = &reading.workers[0];
        assert!(matches!(&a.heartbeat, HeartbeatValue::Error(e) if e.contains("WRONGTYPE")));
        assert!(a
            .queue_depth
            .as_ref()
            .is_err_and(|e| e.to_string().contains("WRONGTYPE")));
        assert_eq!(a.dead_letter, Ok(0));
        assert!(
            a.processing.is_err(),
            "one bad in-flight list marks the sum"
        );
    }

    #[test]
    fn a_heartbeat_without_expiry_or_longer_than_the_cap_is_flagged() {
        let long = "x".repeat(MAX_HEARTBEAT_BYTES + 1);
        let HeartbeatValue::Present {
            bytes,
            truncated,
            expires,
        } = heartbeat_value(bulk(&long), Value::Int(-1))
        else {
            panic!("present");
        };
        assert!(
            bytes.is_empty(),
            "a value over the bound is never handed on"
        );
        assert!(truncated && !expires);
    }

    #[test]
    fn replies_that_cannot_be_ours_are_protocol_errors() {
        let err = parse_replies(&[watcher()], &[], &[], vec![Value::Nil], 3).unwrap_err();
        assert!(err.to_string().contains("1 replies to 3 commands"), "{err}");
        let scans = [ScanStep {
            pattern: Pattern::Heartbeat,
            cursor: 5,
            count: 10,
        }];
        let err = parse_replies(&[], &[], &scans, vec![Value::Nil, Value::Int(3)], 2).unwrap_err();
        assert!(matches!(err, ReadError::Protocol(_)), "{err}");
    }
}
