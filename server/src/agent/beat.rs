//! The agent's heartbeat: `SET pulseboard:agent:<host>:heartbeat <Beat> EX 45` every interval on
//! a connection of its own (the requests' connection sits in a blocking read), and `DEL` on the
//! way out, so the server knows at once that the host can no longer act.

use std::time::Duration;

use pulseboard_shared::agent::{beat_key, Beat};
use pulseboard_shared::heartbeat::HEARTBEAT_TTL_S;
use redis::aio::MultiplexedConnection;

use super::outage::Outage;
use super::stream::{bounded, StreamError, EXCHANGE_TIMEOUT};
use crate::shutdown::Shutdown;

/// Beats for `host` every `interval` until `stop`, then deletes the beat.
pub async fn run(
    client: redis::Client,
    host: String,
    workers: Vec<String>,
    interval: Duration,
    stop: Shutdown,
) {
    let key = beat_key(&host);
    let mut conn: Option<MultiplexedConnection> = None;
    let mut outage = Outage::new("beat");
    let mut beat = Beat {
        name: format!("agent@{host}"),
        kind: "agent".into(),
        host,
        workers,
        ts: String::new(),
        pid: std::process::id(),
        version: env!("CARGO_PKG_VERSION").into(),
    };
    while !stop.is_stopping() {
        beat.ts = super::now();
        let written = exchange(&client, &mut conn, |mut c| {
            let mut cmd = redis::cmd("SET");
            cmd.arg(&key)
                .arg(serde_json::to_string(&beat).expect("a beat serialises"))
                .arg("EX")
                .arg(HEARTBEAT_TTL_S);
            async move { cmd.query_async::<()>(&mut c).await }
        })
        .await;
        // After a failure, try again soon (bounded by the interval): the key may be expiring.
        let wait = match written {
            Ok(()) => {
                outage.succeeded();
                interval
            }
            Err(e) => outage.failed(&e).min(interval),
        };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stop.wait() => {}
        }
    }
    let deleted = exchange(&client, &mut conn, |mut c| {
        let mut cmd = redis::cmd("DEL");
        cmd.arg(&key);
        async move { cmd.query_async::<()>(&mut c).await }
    })
    .await;
    match deleted {
        Ok(()) => tracing::info!(key, "beat deleted"),
        Err(e) => tracing::warn!(key, error = %e, "beat not deleted; it expires by itself"),
    }
}

/// One bounded exchange on `conn` (opened when missing, dropped after a failure).
async fn exchange<F, Fut>(
    client: &redis::Client,
    conn: &mut Option<MultiplexedConnection>,
    send: F,
) -> Result<(), StreamError>
where
    F: FnOnce(MultiplexedConnection) -> Fut,
    Fut: std::future::Future<Output = redis::RedisResult<()>>,
{
    if conn.is_none() {
        *conn = Some(bounded(EXCHANGE_TIMEOUT, client.get_multiplexed_async_connection()).await?);
    }
    // A multiplexed connection is a cheap handle: the clone shares the socket.
    let c = conn.clone().expect("just opened");
    let answer = bounded(EXCHANGE_TIMEOUT, send(c)).await;
    if answer.is_err() {
        *conn = None;
    }
    answer
}
