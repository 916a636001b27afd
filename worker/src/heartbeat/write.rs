//! One beat to Redis: the `SET` and the commands taken with it, in one bounded round trip.

use std::time::Duration;

use pulseboard_shared::command::commands_key;
use pulseboard_shared::Heartbeat;

/// Writes `beat` at `key` and takes up to `take` commands from the worker's list, in one round
/// trip.
pub(super) async fn write(
    client: &redis::Client,
    conn: &mut Option<redis::aio::MultiplexedConnection>,
    key: &str,
    beat: &Heartbeat,
    expiry_s: Option<u64>,
    take: usize,
    timeout: Duration,
) -> Result<Vec<String>, String> {
    let attempt = async {
        if conn.is_none() {
            *conn = Some(client.get_multiplexed_async_connection().await?);
        }
        let c = conn.as_mut().expect("just connected");
        let mut pipe = redis::pipe();
        let set = pipe.cmd("SET").arg(key).arg(beat.to_json());
        if let Some(s) = expiry_s {
            set.arg("EX").arg(s);
        }
        set.ignore();
        if take == 0 {
            pipe.query_async::<()>(c).await?;
            return Ok(vec![]);
        }
        pipe.cmd("LPOP").arg(commands_key(&beat.name)).arg(take);
        let (commands,): (Option<Vec<String>>,) = pipe.query_async(c).await?;
        Ok::<_, redis::RedisError>(commands.unwrap_or_default())
    };
    match tokio::time::timeout(timeout, attempt).await {
        Ok(Ok(commands)) => Ok(commands),
        Ok(Err(e)) => {
            *conn = None; // reconnect next time
            Err(e.to_string())
        }
        Err(_) => {
            *conn = None;
            Err(format!("redis did not answer within {timeout:?}"))
        }
    }
}
