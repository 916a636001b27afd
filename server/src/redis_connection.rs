//! How pulseboard opens a Redis connection: one rule for the refresher and the alerts.

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use crate::config::{ConfigError, RedisTls};

/// A client for `url` (`redis://`, or `rediss://` for TLS), trusting the CA of `tls` and showing
/// its client certificate when given, else the system's trust store.
pub fn client(url: &str, tls: &RedisTls) -> Result<redis::Client, ConfigError> {
    let built = if tls.is_set() {
        redis::Client::build_with_tls(url, tls.certificates()?)
    } else {
        redis::Client::open(url)
    };
    built.map_err(|e| ConfigError::Invalid {
        key: "redis_url".into(),
        message: format!("{}: {e}", crate::config::redact(url)),
    })
}

/// A connection to `client`'s Redis that reconnects by itself after Redis returns.
///
/// Every exchange is bounded by `timeout`, and a failed one is not retried here: the caller
/// (a refresh, an alert commit) reports the failure at once and tries again on its own schedule.
pub async fn connect(
    client: &redis::Client,
    timeout: Duration,
) -> redis::RedisResult<ConnectionManager> {
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(timeout)
        .set_response_timeout(timeout)
        .set_number_of_retries(0)
        .set_max_delay(timeout.as_millis() as u64);
    ConnectionManager::new_with_config(client.clone(), config).await
}
