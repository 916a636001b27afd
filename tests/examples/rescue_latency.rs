//! Benchmark: a consumer crashes holding a job; how long until the job is back on its queue, at
//! the defaults (`[rescue] after_s = 30`, refresh 1 s, discovery every 5 s), in two ways:
//!
//! - with a crash beat: `pulseboard run --consumer c1` around a program that claims the job and
//!   exits 1 (the wrapper's final beat says down at once);
//! - without one: the same wrapper killed with SIGKILL (no final beat: the key must expire, three
//!   beat intervals of 15 s).
//!
//! Sidekiq Pro's `super_fetch` for comparison: orphans are found at the next process start, and
//! checked at most hourly. Prints each time; asserts nothing.
//!
//! ```text
//! cargo run --release -p pulseboard-tests --example rescue_latency
//! ```

use std::process::Stdio;
use std::time::{Duration, Instant};

use pulseboard_server::config::Config;
use pulseboard_server::redis_server::RedisServer;
use pulseboard_tests::pulseboard_bin;
use redis::AsyncCommands;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let bin = pulseboard_bin();
    let mut redis = RedisServer::start().await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let config = Config {
        redis_url: redis.url(),
        ..Config::default()
    };
    let (stop, shutdown) = pulseboard_server::shutdown::channel();
    let server = tokio::spawn(pulseboard_server::serve(config, listener, shutdown));
    let mut r = redis::Client::open(redis.url())?
        .get_multiplexed_async_connection()
        .await?;

    for (how, kill) in [
        ("with a crash beat", false),
        ("killed, no final beat", true),
    ] {
        let _: () = r.del("queue:music-render").await?;
        let _: () = r.lpush("queue:music-render", "job-1").await?;
        // The wrapped program claims the job as a consumer does (BLMOVE into its in-flight
        // list), then dies holding it.
        let claim = format!(
            "redis-cli -u {} BLMOVE queue:music-render processing:queue:music-render:c1 RIGHT LEFT 5 >/dev/null; sleep 1; exit 1",
            redis.url()
        );
        let mut run = tokio::process::Command::new(bin)
            .args([
                "run",
                "--name",
                "music-render",
                "--kind",
                "render",
                "--consumer",
                "c1",
            ])
            .args(["--redis", &redis.url()])
            .args(["--", "sh", "-c", &claim])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()?;
        // The job is held once it left the queue.
        while r.llen::<_, u64>("processing:queue:music-render:c1").await? == 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        if kill {
            run.start_kill()?;
        }
        run.wait().await?;
        let crashed = Instant::now();
        while r.llen::<_, u64>("queue:music-render").await? == 0 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        println!(
            "{how}: job back on its queue {:.1} s after the consumer died",
            crashed.elapsed().as_secs_f64()
        );
        // The worker must come back as a live one before the next round's crash counts.
        let _: () = r.del("worker:music-render:heartbeat").await?;
    }
    stop.stop();
    server.await??;
    redis.stop().await;
    Ok(())
}
