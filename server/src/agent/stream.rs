//! The agent's Redis side: its requests stream through the consumer group, the set of started
//! requests, and the results stream. One connection, opened lazily and dropped after any
//! failure; every exchange is bounded by a timeout, so a Redis that stops answering is a failure
//! like a Redis that is gone.

use std::time::Duration;

use pulseboard_shared::agent::{
    requests_key, started_key, AgentResult, GROUP, RESULTS_KEY, RESULTS_MAX,
};
use redis::aio::MultiplexedConnection;
use redis::Value;

use super::admission::StreamEntry;

/// How long one exchange (beyond a read's own BLOCK) may take.
pub const EXCHANGE_TIMEOUT: Duration = Duration::from_secs(5);

/// How many entries one read takes: a flood is taken ten at a time, each refused in turn.
const COUNT: usize = 10;

/// How many of the latest entries the agent reads at start to learn the request ids already
/// handled (the stream keeps about as many, see the server's `REQUESTS_MAX`).
const RECENT: usize = 1000;

/// Why an exchange with Redis failed.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    /// Redis said no, or the connection failed.
    #[error("{0}")]
    Redis(#[from] redis::RedisError),
    /// Redis did not answer in time.
    #[error("redis did not answer within {0:?}")]
    Timeout(Duration),
    /// A reply of a shape XREADGROUP never gives.
    #[error("unexpected XREADGROUP reply: {0}")]
    Reply(String),
}

/// Where a read starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadFrom {
    /// This consumer's own pending entries: delivered before, never acknowledged.
    Pending,
    /// New entries, waiting up to this long for one.
    New(Duration),
}

/// One host's requests, started set and results, on one Redis.
pub struct Stream {
    client: redis::Client,
    conn: Option<MultiplexedConnection>,
    host: String,
    requests: String,
    started: String,
}

impl Stream {
    /// The stream of `host`'s agent on `client`'s Redis (nothing is opened yet).
    pub fn new(client: redis::Client, host: &str) -> Self {
        Self {
            client,
            conn: None,
            host: host.to_owned(),
            requests: requests_key(host),
            started: started_key(host),
        }
    }

    /// A connection, opened (and the consumer group made sure of) when there is none: a Redis
    /// that restarted empty gets its group back.
    async fn conn(&mut self) -> Result<&mut MultiplexedConnection, StreamError> {
        if self.conn.is_none() {
            let mut conn = bounded(
                EXCHANGE_TIMEOUT,
                self.client.get_multiplexed_async_connection(),
            )
            .await?;
            let created = bounded(
                EXCHANGE_TIMEOUT,
                redis::cmd("XGROUP")
                    .arg("CREATE")
                    .arg(&self.requests)
                    .arg(GROUP)
                    .arg("$")
                    .arg("MKSTREAM")
                    .query_async::<()>(&mut conn),
            )
            .await;
            match created {
                Ok(()) => {
                    tracing::info!(stream = %self.requests, group = GROUP, "consumer group created")
                }
                Err(StreamError::Redis(e)) if e.code() == Some("BUSYGROUP") => {}
                Err(e) => return Err(e),
            }
            self.conn = Some(conn);
        }
        Ok(self.conn.as_mut().expect("just opened"))
    }

    /// Runs `cmd`, allowing `extra` beyond the usual timeout; a failure drops the connection.
    async fn query<T: redis::FromRedisValue>(
        &mut self,
        cmd: &redis::Cmd,
        extra: Duration,
    ) -> Result<T, StreamError> {
        let conn = self.conn().await?;
        let answer = bounded(EXCHANGE_TIMEOUT + extra, cmd.query_async(conn)).await;
        if answer.is_err() {
            self.conn = None;
        }
        answer
    }

    /// Up to ten entries: this consumer's pending ones, or new ones (then delivered to it).
    pub async fn read(&mut self, from: ReadFrom) -> Result<Vec<StreamEntry>, StreamError> {
        let mut cmd = redis::cmd("XREADGROUP");
        cmd.arg("GROUP")
            .arg(GROUP)
            .arg(&self.host)
            .arg("COUNT")
            .arg(COUNT);
        let (id, block) = match from {
            ReadFrom::Pending => ("0", Duration::ZERO),
            ReadFrom::New(block) => {
                cmd.arg("BLOCK").arg(block.as_millis().max(1) as u64);
                (">", block)
            }
        };
        cmd.arg("STREAMS").arg(&self.requests).arg(id);
        let reply: Value = self.query(&cmd, block).await?;
        parse_read(reply).map_err(StreamError::Reply)
    }

    /// The latest entries of the stream (at most [`RECENT`]), oldest first, whoever they were
    /// delivered to: what the agent reads at start to remember the request ids it handled
    /// within the window.
    pub async fn recent(&mut self) -> Result<Vec<StreamEntry>, StreamError> {
        let mut cmd = redis::cmd("XREVRANGE");
        cmd.arg(&self.requests)
            .arg("+")
            .arg("-")
            .arg("COUNT")
            .arg(RECENT);
        let reply: Value = self.query(&cmd, Duration::ZERO).await?;
        let mut entries = parse_entries(reply).map_err(StreamError::Reply)?;
        entries.reverse();
        Ok(entries)
    }

    /// Records that request `id` is about to run; false when it was recorded before (the agent
    /// stopped while running it).
    pub async fn mark_started(&mut self, id: &str) -> Result<bool, StreamError> {
        let added: i64 = self
            .query(
                redis::cmd("SADD").arg(&self.started).arg(id),
                Duration::ZERO,
            )
            .await?;
        Ok(added == 1)
    }

    /// Writes `result`, acknowledges entry `entry_id` and (when `started`) forgets that the
    /// request was started, in one transaction: a request is answered and taken off the pending
    /// list together.
    pub async fn finish(
        &mut self,
        entry_id: &str,
        result: &AgentResult,
        started: bool,
    ) -> Result<(), StreamError> {
        let mut pipe = redis::pipe();
        pipe.atomic()
            .cmd("XADD")
            .arg(RESULTS_KEY)
            .arg("MAXLEN")
            .arg("~")
            .arg(RESULTS_MAX)
            .arg("*")
            .arg("result")
            .arg(result.to_json())
            .ignore()
            .cmd("XACK")
            .arg(&self.requests)
            .arg(GROUP)
            .arg(entry_id)
            .ignore();
        if started {
            pipe.cmd("SREM").arg(&self.started).arg(&result.id).ignore();
        }
        let conn = self.conn().await?;
        let answer = bounded(EXCHANGE_TIMEOUT, pipe.query_async::<()>(conn)).await;
        if answer.is_err() {
            self.conn = None;
        }
        answer
    }
}

/// `work`, failing after `limit`.
pub async fn bounded<T>(
    limit: Duration,
    work: impl std::future::Future<Output = redis::RedisResult<T>>,
) -> Result<T, StreamError> {
    match tokio::time::timeout(limit, work).await {
        Ok(answer) => Ok(answer?),
        Err(_) => Err(StreamError::Timeout(limit)),
    }
}

/// The entries of an XREADGROUP reply on one stream (nil: none came).
fn parse_read(reply: Value) -> Result<Vec<StreamEntry>, String> {
    let streams = match reply {
        Value::Nil => return Ok(vec![]),
        Value::Array(streams) => streams
            .into_iter()
            .map(|stream| match stream {
                Value::Array(mut pair) if pair.len() == 2 => Ok(pair.remove(1)),
                other => Err(format!("a stream as {other:?}")),
            })
            .collect::<Result<Vec<_>, _>>()?,
        Value::Map(streams) => streams.into_iter().map(|(_, entries)| entries).collect(),
        other => return Err(format!("{other:?}")),
    };
    let mut out = Vec::new();
    for entries in streams {
        out.extend(parse_entries(entries)?);
    }
    Ok(out)
}

/// The entries of one stream (an XRANGE reply, or one stream of an XREADGROUP reply).
fn parse_entries(entries: Value) -> Result<Vec<StreamEntry>, String> {
    let Value::Array(entries) = entries else {
        return Err(format!("entries as {entries:?}"));
    };
    let mut out = Vec::with_capacity(entries.len());
    for entry in entries {
        let Value::Array(mut parts) = entry else {
            return Err(format!("an entry as {entry:?}"));
        };
        if parts.len() != 2 {
            return Err(format!("an entry of {} parts", parts.len()));
        }
        let fields = parts.pop().expect("two parts");
        let id = text(parts.pop().expect("two parts")).ok_or("an entry id")?;
        out.push(StreamEntry {
            id: String::from_utf8_lossy(&id).into_owned(),
            fields: parse_fields(fields)?,
        });
    }
    Ok(out)
}

/// An entry's fields: a flat list, a map, or nil for an entry deleted while pending.
fn parse_fields(fields: Value) -> Result<Vec<(String, Vec<u8>)>, String> {
    let pairs: Vec<(Value, Value)> = match fields {
        Value::Nil => vec![],
        Value::Array(flat) if flat.len() % 2 == 0 => {
            let mut flat = flat.into_iter();
            std::iter::from_fn(|| Some((flat.next()?, flat.next()?))).collect()
        }
        Value::Map(pairs) => pairs,
        other => return Err(format!("fields as {other:?}")),
    };
    pairs
        .into_iter()
        .map(|(name, value)| {
            let name = text(name).ok_or("a field name")?;
            let value = text(value).ok_or("a field value")?;
            Ok((String::from_utf8_lossy(&name).into_owned(), value))
        })
        .collect()
}

fn text(value: Value) -> Option<Vec<u8>> {
    match value {
        Value::BulkString(bytes) => Some(bytes),
        Value::SimpleString(s) => Some(s.into_bytes()),
        Value::VerbatimString { text, .. } => Some(text.into_bytes()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(s: &str) -> Value {
        Value::BulkString(s.as_bytes().to_vec())
    }

    #[test]
    fn replies_of_both_protocols_and_deleted_entries() {
        assert_eq!(parse_read(Value::Nil), Ok(vec![]));
        let entries = Value::Array(vec![
            Value::Array(vec![
                bulk("1-0"),
                Value::Array(vec![bulk("request"), bulk("{}")]),
            ]),
            Value::Array(vec![bulk("2-0"), Value::Nil]),
        ]);
        let expected = vec![
            StreamEntry {
                id: "1-0".into(),
                fields: vec![("request".into(), b"{}".to_vec())],
            },
            StreamEntry {
                id: "2-0".into(),
                fields: vec![],
            },
        ];
        let resp2 = Value::Array(vec![Value::Array(vec![bulk("k"), entries.clone()])]);
        assert_eq!(parse_read(resp2), Ok(expected.clone()));
        let resp3 = Value::Map(vec![(bulk("k"), entries)]);
        assert_eq!(parse_read(resp3), Ok(expected));
        assert!(parse_read(Value::Int(3)).is_err());
        let odd = Value::Array(vec![Value::Array(vec![
            bulk("k"),
            Value::Array(vec![Value::Array(vec![
                bulk("1-0"),
                Value::Array(vec![bulk("request")]),
            ])]),
        ])]);
        assert!(parse_read(odd).is_err());
    }
}
