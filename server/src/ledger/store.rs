//! The Redis of the alerts and the recovery guard: their keys and one shared connection, opened
//! on first use and reconnected by itself, with every command bounded in time.

use std::sync::Arc;
use std::time::Duration;

use redis::aio::ConnectionManager;
use tokio::sync::OnceCell;

/// Why a Redis operation of the alerts or the guard failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Redis refused or could not be reached.
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    /// Redis did not answer in time.
    #[error("redis did not answer within {0:?}")]
    Timeout(Duration),
}

/// Every key the alerts and the guard use, under one prefix (`pulseboard:alerts`, kept so stored
/// data survives an upgrade).
#[derive(Debug, Clone)]
pub struct Keys {
    prefix: String,
}

impl Default for Keys {
    fn default() -> Self {
        Self {
            prefix: "pulseboard:alerts".into(),
        }
    }
}

impl Keys {
    /// The keys of a single server, or of a Redis Cluster (one hash tag, so the scripts that
    /// touch several of them run on one node).
    pub fn for_cluster(cluster: bool) -> Self {
        if cluster {
            Self {
                prefix: "{pulseboard:alerts}".into(),
            }
        } else {
            Self::default()
        }
    }
    /// Every one of these keys, as a key pattern (`pulseboard:alerts:*`): what the server's
    /// Redis user may read and write (the `acl` roles).
    pub fn all(&self) -> String {
        format!("{}:*", self.prefix)
    }
    /// The recovery guard's memory (JSON), written by the lease holder only.
    pub fn recovery(&self) -> String {
        format!("{}:recovery", self.prefix)
    }
    /// A history series, `fine` (minutes) or coarse (hours), of a worker or (`None`) the fleet:
    /// a list of point lines, newest first.
    pub fn history(&self, fine: bool, worker: Option<&str>) -> String {
        let grain = if fine { "m" } else { "h" };
        match worker {
            Some(w) => format!("{}:history:{grain}:w:{w}", self.prefix),
            None => format!("{}:history:{grain}:fleet", self.prefix),
        }
    }
    /// Every history series, as a key pattern (what a viewer may read).
    pub fn histories(&self) -> String {
        format!("{}:history:*", self.prefix)
    }
    /// The silences in force (a JSON array), changed by the admin API's script.
    pub fn silences(&self) -> String {
        format!("{}:silences", self.prefix)
    }
    /// Acknowledged alerts (a JSON array), changed by a script from Telegram presses and the
    /// admin API.
    pub fn acks(&self) -> String {
        format!("{}:acks", self.prefix)
    }
    /// The orphan rescue's memory (JSON), written by the lease holder only.
    pub fn rescue(&self) -> String {
        format!("{}:rescue", self.prefix)
    }
    /// Operators' overrides of the guard (hold, reset, mode, a manual action), oldest first,
    /// applied by the lease holder.
    pub fn recovery_overrides(&self) -> String {
        format!("{}:recovery:overrides", self.prefix)
    }
    /// Who decides for the recovery guard: a process id with an expiry (its own lease, so the
    /// guard acts whether or not this process sends alerts).
    pub fn recovery_lease(&self) -> String {
        format!("{}:recovery:lease", self.prefix)
    }
    /// The alerts' remembered state (their transitions' memory) as JSON.
    pub fn state(&self) -> String {
        format!("{}:state", self.prefix)
    }
    /// Who sends the alerts: a process id with an expiry.
    pub fn lease(&self) -> String {
        format!("{}:lease", self.prefix)
    }
    /// A sink's undelivered alerts, oldest first.
    pub fn outbox(&self, sink: &str) -> String {
        format!("{}:outbox:{sink}", self.prefix)
    }
    /// The capped event log (a stream).
    pub fn events(&self) -> String {
        format!("{}:events", self.prefix)
    }
}

/// A lazily opened, shared connection.
#[derive(Clone)]
pub struct Store {
    client: redis::Client,
    /// On a Redis Cluster: a client that routes each command to its slot's primary.
    cluster: Option<redis::cluster::ClusterClient>,
    conn: Arc<OnceCell<StoreConn>>,
    timeout: Duration,
    /// Every key, under the one prefix.
    pub keys: Keys,
    /// Appends to the event log by this process (its cached newest page is then read again:
    /// an operator sees their own action at once).
    pub events_written: Arc<std::sync::atomic::AtomicU64>,
}

impl Store {
    /// A store through `client`; nothing is connected yet.
    pub fn new(client: redis::Client, timeout: Duration) -> Result<Self, StoreError> {
        Ok(Self {
            client,
            cluster: None,
            conn: Arc::new(OnceCell::new()),
            events_written: Arc::default(),
            timeout,
            keys: Keys::default(),
        })
    }

    /// A store on the Redis Cluster `client`'s node belongs to. Its keys share one hash tag
    /// (`{pulseboard:alerts}:...`), so the scripts that touch several of them run on one node.
    pub fn new_cluster(
        client: redis::Client,
        tls: &crate::config::RedisTls,
        timeout: Duration,
    ) -> Result<Self, StoreError> {
        let mut builder =
            redis::cluster::ClusterClient::builder(vec![client.get_connection_info().clone()])
                .connection_timeout(timeout)
                .response_timeout(timeout)
                .retries(1);
        if tls.is_set() {
            builder = builder.certs(tls.certificates().map_err(|e| {
                StoreError::Redis(redis::RedisError::from((
                    redis::ErrorKind::InvalidClientConfig,
                    "TLS files",
                    e.to_string(),
                )))
            })?);
        }
        Ok(Self {
            cluster: Some(builder.build()?),
            keys: Keys::for_cluster(true),
            ..Self::new(client, timeout)?
        })
    }

    /// The connection, opened if need be.
    pub async fn conn(&self) -> Result<StoreConn, StoreError> {
        let open = self.conn.get_or_try_init(|| async {
            Ok::<_, redis::RedisError>(match &self.cluster {
                Some(cluster) => StoreConn::Cluster(cluster.get_async_connection().await?),
                None => StoreConn::Single(
                    crate::redis_connection::connect(&self.client, self.timeout).await?,
                ),
            })
        });
        match tokio::time::timeout(self.timeout * 2, open).await {
            Ok(conn) => Ok(conn?.clone()),
            Err(_) => Err(StoreError::Timeout(self.timeout * 2)),
        }
    }
}

/// A connection to one Redis, or to a cluster (routing each command by its key).
#[derive(Clone)]
pub enum StoreConn {
    /// One server.
    Single(ConnectionManager),
    /// A Redis Cluster.
    Cluster(redis::cluster_async::ClusterConnection),
}

impl redis::aio::ConnectionLike for StoreConn {
    fn req_packed_command<'a>(
        &'a mut self,
        cmd: &'a redis::Cmd,
    ) -> redis::RedisFuture<'a, redis::Value> {
        match self {
            Self::Single(c) => c.req_packed_command(cmd),
            Self::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        cmd: &'a redis::Pipeline,
        offset: usize,
        count: usize,
    ) -> redis::RedisFuture<'a, Vec<redis::Value>> {
        match self {
            Self::Single(c) => c.req_packed_commands(cmd, offset, count),
            Self::Cluster(c) => c.req_packed_commands(cmd, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Self::Single(c) => c.get_db(),
            Self::Cluster(c) => c.get_db(),
        }
    }
}
