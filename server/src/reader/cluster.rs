//! Redis Cluster: the same refresh, one pipelined round trip per primary, sent to all at once.
//!
//! Each command goes to the primary that owns its key's slot (the slot map comes from
//! `CLUSTER SLOTS`, read again after a `MOVED`/`ASK` reply or a failed read). A discovery sweep
//! runs on every primary: one logical SCAN step is a SCAN on each primary not yet done, with a
//! cursor per primary kept here; the sweep's cursor is 0 only when every primary is done. The
//! replies are put back in the order of the single-server pipeline, so the rest of the reader
//! does not know it talked to a cluster.

use std::time::Duration;

use futures::future::join_all;
use redis::aio::ConnectionManager;
use redis::{ConnectionAddr, ConnectionInfo, IntoConnectionInfo, Value};

use super::{build_pipeline, parse_replies, ReadError, Reading, WorkerKeys};
use crate::config::RedisTls;
use crate::discovery::{Pattern, ScanStep};
use crate::redis_connection;

/// The number of hash slots.
const SLOTS: u16 = 16384;

/// One primary.
struct Node {
    addr: String,
    client: redis::Client,
    conn: Option<ConnectionManager>,
    /// Per discovery pattern, this node's cursor (`None`: done with the current sweep).
    cursors: Vec<(Pattern, Option<u64>)>,
}

/// A reader of a Redis Cluster.
pub struct ClusterSource {
    seed: ConnectionInfo,
    tls: RedisTls,
    timeout: Duration,
    nodes: Vec<Node>,
    /// `slot_owner[slot]` is an index into `nodes`.
    slot_owner: Vec<usize>,
    stale: bool,
    /// Per node, the commands of the last refresh (for figures and logs).
    pub last_commands: Vec<(String, usize)>,
}

impl ClusterSource {
    /// A reader starting from the node at `url`; nothing is connected until the first read.
    pub fn new(url: &str, tls: RedisTls, timeout: Duration) -> Result<Self, ReadError> {
        Ok(Self {
            seed: url.into_connection_info()?,
            tls,
            timeout,
            nodes: vec![],
            slot_owner: vec![],
            stale: true,
            last_commands: vec![],
        })
    }

    /// Reads everything for `workers` and the `scans` due: one round trip per primary.
    pub async fn read(
        &mut self,
        workers: &[WorkerKeys],
        values: &[super::BoundedKey],
        scans: &[ScanStep],
    ) -> Result<Reading, ReadError> {
        if self.stale {
            self.load_slots().await?;
        }
        let keyed = build_pipeline(workers, values, &[]);
        let mut per_node: Vec<Vec<usize>> = vec![vec![]; self.nodes.len()];
        let mut pipes: Vec<redis::Pipeline> =
            (0..self.nodes.len()).map(|_| redis::pipe()).collect();
        for (i, cmd) in keyed.cmd_iter().enumerate() {
            let key = cmd.args_iter().nth(1).and_then(|a| match a {
                redis::Arg::Simple(bytes) => Some(bytes),
                redis::Arg::Cursor => None,
            });
            let node = self.slot_owner[usize::from(slot(key.unwrap_or_default()))];
            per_node[node].push(i);
            pipes[node].add_command(cmd.clone());
        }
        // Discovery: a SCAN on every primary whose sweep is not done.
        let mut scan_slots: Vec<Vec<(usize, usize)>> = vec![vec![]; scans.len()];
        for (s, step) in scans.iter().enumerate() {
            for (n, node) in self.nodes.iter_mut().enumerate() {
                let cursor = node.cursor(step.pattern, step.cursor == 0);
                if let Some(cursor) = cursor {
                    pipes[n]
                        .cmd("SCAN")
                        .arg(cursor)
                        .arg("MATCH")
                        .arg(step.pattern.glob())
                        .arg("COUNT")
                        .arg(step.count);
                    scan_slots[s].push((n, pipes[n].len() - 1));
                }
            }
        }
        let timeout = self.timeout;
        let sends = self
            .nodes
            .iter_mut()
            .zip(&pipes)
            .map(|(node, pipe)| async move {
                if pipe.is_empty() {
                    return Ok(vec![]);
                }
                let conn = match &mut node.conn {
                    Some(conn) => conn,
                    None => {
                        let conn = redis_connection::connect(&node.client, timeout).await?;
                        node.conn.insert(conn)
                    }
                };
                conn.send_packed_commands(pipe, 0, pipe.len()).await
            });
        let replies = tokio::time::timeout(self.timeout, join_all(sends))
            .await
            .map_err(|_| ReadError::Timeout(self.timeout))?;
        let mut replies: Vec<Vec<Value>> = match replies.into_iter().collect() {
            Ok(replies) => replies,
            Err(e) => {
                self.stale = true;
                return Err(ReadError::Redis(e));
            }
        };
        self.last_commands = self
            .nodes
            .iter()
            .zip(&pipes)
            .map(|(n, p)| (n.addr.clone(), p.len()))
            .collect();
        // Back in the single-server order.
        let mut ordered = vec![Value::Nil; keyed.len()];
        for (n, indices) in per_node.iter().enumerate() {
            for (j, &i) in indices.iter().enumerate() {
                let reply = std::mem::replace(&mut replies[n][j], Value::Nil);
                if is_redirect(&reply) {
                    self.stale = true;
                }
                ordered[i] = reply;
            }
        }
        for (s, step) in scans.iter().enumerate() {
            let mut keys = Vec::new();
            for &(n, at) in &scan_slots[s] {
                let reply = std::mem::replace(&mut replies[n][at], Value::Nil);
                let (next, found) = super::scan_parts(reply)?;
                keys.extend(found);
                self.nodes[n].set_cursor(step.pattern, next);
            }
            let done = self.nodes.iter().all(|n| n.done(step.pattern));
            let cursor = if done { 0 } else { 1 };
            ordered.push(Value::Array(vec![
                Value::BulkString(cursor.to_string().into_bytes()),
                Value::Array(
                    keys.into_iter()
                        .map(|k| Value::BulkString(k.into_bytes()))
                        .collect(),
                ),
            ]));
        }
        let commands = pipes.iter().map(redis::Pipeline::len).sum();
        let mut reading =
            parse_replies(workers, values, scans, ordered, keyed.len() + scans.len())?;
        reading.commands = commands;
        reading.round_trips = pipes.iter().filter(|p| !p.is_empty()).count();
        Ok(reading)
    }

    /// Reads `CLUSTER SLOTS` from a known node (the seed first) and connects to each primary.
    async fn load_slots(&mut self) -> Result<(), ReadError> {
        let mut candidates = vec![self.seed.clone()];
        candidates.extend(
            self.nodes
                .iter()
                .filter_map(|n| n.client.get_connection_info().clone().into()),
        );
        let mut last_error = None;
        for info in candidates {
            match self.slots_from(info).await {
                Ok(()) => {
                    self.stale = false;
                    return Ok(());
                }
                Err(e) => last_error = Some(e),
            }
        }
        Err(last_error.unwrap_or_else(|| ReadError::Protocol("no cluster node to ask".into())))
    }

    async fn slots_from(&mut self, info: ConnectionInfo) -> Result<(), ReadError> {
        let client = self.client_for(info)?;
        let mut conn =
            tokio::time::timeout(self.timeout, client.get_multiplexed_async_connection())
                .await
                .map_err(|_| ReadError::Timeout(self.timeout))??;
        let reply: Value = tokio::time::timeout(
            self.timeout,
            redis::cmd("CLUSTER").arg("SLOTS").query_async(&mut conn),
        )
        .await
        .map_err(|_| ReadError::Timeout(self.timeout))??;
        let Value::Array(ranges) = reply else {
            return Err(ReadError::Protocol("CLUSTER SLOTS: not an array".into()));
        };
        let mut owner = vec![usize::MAX; usize::from(SLOTS)];
        let mut nodes: Vec<Node> = vec![];
        for range in ranges {
            let Value::Array(parts) = range else { continue };
            let (Some(Value::Int(start)), Some(Value::Int(end)), Some(Value::Array(primary))) =
                (parts.first(), parts.get(1), parts.get(2))
            else {
                continue;
            };
            let host = match primary.first() {
                Some(Value::BulkString(h)) => String::from_utf8_lossy(h).into_owned(),
                _ => continue,
            };
            let Some(Value::Int(port)) = primary.get(1) else {
                continue;
            };
            let addr = format!("{host}:{port}");
            let index = match nodes.iter().position(|n| n.addr == addr) {
                Some(i) => i,
                None => {
                    let mut info = self.seed.clone();
                    info.addr = with_host(&self.seed.addr, host, *port as u16);
                    let previous = self.nodes.iter_mut().position(|n| n.addr == addr);
                    let node = match previous {
                        Some(p) => self.nodes.swap_remove(p),
                        None => Node {
                            addr: addr.clone(),
                            client: self.client_for(info)?,
                            conn: None,
                            cursors: vec![],
                        },
                    };
                    nodes.push(node);
                    nodes.len() - 1
                }
            };
            for slot in *start..=*end {
                if let Some(s) = owner.get_mut(slot as usize) {
                    *s = index;
                }
            }
        }
        if nodes.is_empty() || owner.contains(&usize::MAX) {
            return Err(ReadError::Protocol(
                "the cluster does not cover every slot (CLUSTER SLOTS)".into(),
            ));
        }
        self.nodes = nodes;
        self.slot_owner = owner;
        Ok(())
    }

    fn client_for(&self, info: ConnectionInfo) -> Result<redis::Client, ReadError> {
        if self.tls.is_set() {
            Ok(redis::Client::build_with_tls(
                info,
                self.tls.certificates()?,
            )?)
        } else {
            Ok(redis::Client::open(info)?)
        }
    }
}

impl Node {
    /// The cursor to send for `pattern`, if this node's sweep is not done; `restart`: a new
    /// sweep begins.
    fn cursor(&mut self, pattern: Pattern, restart: bool) -> Option<u64> {
        let entry = match self.cursors.iter_mut().find(|(p, _)| *p == pattern) {
            Some(entry) => entry,
            None => {
                self.cursors.push((pattern, Some(0)));
                self.cursors.last_mut().expect("just pushed")
            }
        };
        if restart {
            entry.1 = Some(0);
        }
        entry.1
    }

    fn set_cursor(&mut self, pattern: Pattern, next: u64) {
        if let Some(entry) = self.cursors.iter_mut().find(|(p, _)| *p == pattern) {
            entry.1 = (next != 0).then_some(next);
        }
    }

    fn done(&self, pattern: Pattern) -> bool {
        self.cursors
            .iter()
            .find(|(p, _)| *p == pattern)
            .is_none_or(|(_, c)| c.is_none())
    }
}

/// The same kind of address (TCP or TLS) at `host:port`.
fn with_host(seed: &ConnectionAddr, host: String, port: u16) -> ConnectionAddr {
    match seed {
        ConnectionAddr::TcpTls {
            insecure,
            tls_params,
            ..
        } => ConnectionAddr::TcpTls {
            host,
            port,
            insecure: *insecure,
            tls_params: tls_params.clone(),
        },
        _ => ConnectionAddr::Tcp(host, port),
    }
}

fn is_redirect(reply: &Value) -> bool {
    matches!(reply, Value::ServerError(e) if matches!(e.code(), "MOVED" | "ASK"))
}

/// A key's hash slot: CRC16 (XMODEM) of the key, or of its `{hash tag}` when it has one.
pub fn slot(key: &[u8]) -> u16 {
    let tagged = key
        .iter()
        .position(|&b| b == b'{')
        .and_then(|open| {
            let rest = &key[open + 1..];
            rest.iter()
                .position(|&b| b == b'}')
                .filter(|&close| close > 0)
                .map(|close| &rest[..close])
        })
        .unwrap_or(key);
    crc16(tagged) % SLOTS
}

fn crc16(bytes: &[u8]) -> u16 {
    let mut crc: u16 = 0;
    for &b in bytes {
        crc ^= u16::from(b) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_redis_cluster_slots() {
        // Values from `CLUSTER KEYSLOT` on a real cluster.
        assert_eq!(slot(b"foo"), 12182);
        assert_eq!(slot(b"bar"), 5061);
        assert_eq!(slot(b"{user1000}.following"), slot(b"user1000"));
        assert_eq!(slot(b"foo{}{bar}"), slot(b"foo{}{bar}"));
        assert_eq!(
            slot(b"{}x"),
            crc16(b"{}x") % SLOTS,
            "an empty tag is no tag"
        );
    }
}
