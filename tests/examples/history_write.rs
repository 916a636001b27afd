//! Benchmark: what the throughput history costs at 10,000 workers: the CPU of folding one
//! snapshot into the step, the CPU and Redis time of closing a minute (one pipelined append of
//! every series), and the bytes in Redis after a day of minutes for one worker. Prints figures;
//! asserts nothing.
//!
//!     cargo run --release -p pulseboard-tests --example history_write -- [WORKERS]

use std::time::{Duration, Instant};

use pulseboard_server::config::history::HistorySettings;
use pulseboard_server::history::writer::{append, Writer};
use pulseboard_server::ledger::store::Store;
use pulseboard_server::redis_server::RedisServer;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let workers: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(10_000);
    let mut redis = RedisServer::start().await?;
    let store = Store::new(redis::Client::open(redis.url())?, Duration::from_secs(10))?;
    let settings = HistorySettings::default();
    let mut nodes = pulseboard_shared::mock::mock_fleet(0, workers);
    let t0: u64 = 1_800_000_000; // a whole hour
    let mut writer = Writer::new(t0, settings.step_s);

    // A minute of snapshots, one a second, each worker's counter moving.
    let started = Instant::now();
    for s in 0..60 {
        for w in &mut nodes.workers {
            w.jobs_done += 1;
        }
        writer.observe(&nodes, t0 + s);
    }
    let fold = started.elapsed() / 60;
    let started = Instant::now();
    let lines = writer.observe(&nodes, t0 + 60);
    let close = started.elapsed();
    let started = Instant::now();
    append(&store, &lines, &settings).await?;
    let write = started.elapsed();
    println!("workers: {workers}");
    println!(
        "fold one snapshot into the step: {:.2} ms",
        fold.as_secs_f64() * 1e3
    );
    println!(
        "close a minute: {:.2} ms CPU, {} points, appended in {:.1} ms ({} commands, one pipeline)",
        close.as_secs_f64() * 1e3,
        lines.len(),
        write.as_secs_f64() * 1e3,
        lines.len() * 3
    );

    // A day of minutes for one worker, as stored.
    let mut conn = redis::Client::open(redis.url())?
        .get_multiplexed_async_connection()
        .await?;
    let key = store.keys.history(true, Some(&nodes.workers[0].name));
    let mut day = Writer::new(t0, 60);
    let mut one = pulseboard_shared::mock::mock_fleet(0, 6);
    one.workers.truncate(1);
    for m in 1..=1440u64 {
        one.workers[0].jobs_done += 7;
        let lines = day.observe(&one, t0 + m * 60);
        append(&store, &lines, &settings).await?;
    }
    let bytes: u64 = redis::cmd("MEMORY")
        .arg("USAGE")
        .arg(&key)
        .query_async(&mut conn)
        .await?;
    let coarse = store.keys.history(false, Some(&nodes.workers[0].name));
    let coarse_bytes: u64 = redis::cmd("MEMORY")
        .arg("USAGE")
        .arg(&coarse)
        .query_async(&mut conn)
        .await?;
    println!(
        "one worker after a day: {:.1} KB of minutes, {:.1} KB of hours (24 of 720)",
        bytes as f64 / 1024.0,
        coarse_bytes as f64 / 1024.0
    );
    redis.stop().await;
    Ok(())
}
