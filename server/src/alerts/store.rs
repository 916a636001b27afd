//! The alerts' Redis: their keys and one shared connection, opened on first use and reconnected
//! by itself, with every command bounded in time.

use std::sync::Arc;
use std::time::Duration;

use redis::aio::ConnectionManager;
use tokio::sync::OnceCell;

/// Why a Redis operation of the alerts failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Redis refused or could not be reached.
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    /// Redis did not answer in time.
    #[error("redis did not answer within {0:?}")]
    Timeout(Duration),
}

/// Every key the alerts use, under one prefix.
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
    /// The remembered state ([`Memory`](super::transitions::Memory)) as JSON.
    pub fn state(&self) -> String {
        format!("{}:state", self.prefix)
    }
    /// Who sends: a process id with an expiry.
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
    conn: Arc<OnceCell<ConnectionManager>>,
    timeout: Duration,
    /// Every key, under the one prefix.
    pub keys: Keys,
}

impl Store {
    /// A store through `client`; nothing is connected yet.
    pub fn new(client: redis::Client, timeout: Duration) -> Result<Self, StoreError> {
        Ok(Self {
            client,
            conn: Arc::new(OnceCell::new()),
            timeout,
            keys: Keys::default(),
        })
    }

    /// The connection, opened if need be.
    pub async fn conn(&self) -> Result<ConnectionManager, StoreError> {
        let open = self.conn.get_or_try_init(|| async {
            crate::redis_connection::connect(&self.client, self.timeout).await
        });
        match tokio::time::timeout(self.timeout * 2, open).await {
            Ok(conn) => Ok(conn?.clone()),
            Err(_) => Err(StoreError::Timeout(self.timeout * 2)),
        }
    }
}
