//! Read-only Lua scripts, run with `EVALSHA_RO` (Redis 7). `EVALSHA` counts every key it is
//! given as written, so a Redis user whose key is read-only (`%R~`: the server's on the agents'
//! results stream, a viewer's on everything) is refused a script that only reads it. A script run
//! here must not write; Redis refuses it if it tries.

use redis::aio::ConnectionLike;
use redis::{ErrorKind, FromRedisValue, RedisResult, Script};

/// Runs `source` on `keys` and `args` as a read-only script (loaded on first use).
pub async fn invoke<T: FromRedisValue>(
    conn: &mut impl ConnectionLike,
    source: &str,
    keys: &[&str],
    args: &[String],
) -> RedisResult<T> {
    let hash = Script::new(source).get_hash().to_owned();
    let call = |name: &str, body: &str| {
        let mut cmd = redis::cmd(name);
        cmd.arg(body).arg(keys.len()).arg(keys).arg(args);
        cmd
    };
    match call("EVALSHA_RO", &hash).query_async(conn).await {
        // Not loaded yet (or Redis restarted): load it and run it again. The roles grant
        // `SCRIPT LOAD` and `EVALSHA_RO`, not `EVAL_RO`, which would run any text sent.
        Err(e) if e.kind() == ErrorKind::NoScriptError => {
            let _: String = redis::cmd("SCRIPT")
                .arg("LOAD")
                .arg(source)
                .query_async(conn)
                .await?;
            call("EVALSHA_RO", &hash).query_async(conn).await
        }
        reply => reply,
    }
}
