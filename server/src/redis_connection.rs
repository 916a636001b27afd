//! How pulseboard opens a Redis connection: one rule for the refresher and the alerts. The
//! client itself (URL and TLS files) comes from the configuration (`Config::redis_client`).

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

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
