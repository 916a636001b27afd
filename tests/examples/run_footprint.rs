//! Measures what `pulseboard run` itself costs while it beats: the wrapper's resident memory
//! (`VmRSS`, and its peak `VmHWM`, from `/proc/<pid>/status`) and the CPU it uses (`utime` +
//! `stime` from `/proc/<pid>/stat`, the wrapper alone, not its program) over a window of beating
//! into a private `redis-server`, around a program that only sleeps.
//!
//! ```text
//! cargo run --release -p pulseboard-tests --example run_footprint -- [SECONDS] [INTERVAL_S]
//! ```
//! Defaults: 60 s of beating, one beat a second (the heaviest setting; the contract's default is
//! 15). Linux only (it reads `/proc`).

use std::process::Stdio;
use std::time::{Duration, Instant};

use pulseboard_server::redis_server::RedisServer;
use pulseboard_shared::heartbeat::heartbeat_key;
use pulseboard_tests::process_usage::{clock_ticks_per_second, cpu_ticks, mb, memory};
use pulseboard_tests::pulseboard_bin;
use redis::AsyncCommands;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let seconds: u64 = args.next().map_or(Ok(60), |a| a.parse())?;
    let interval: u64 = args.next().map_or(Ok(1), |a| a.parse())?;

    let mut redis = RedisServer::start().await?;
    let mut conn = redis::Client::open(redis.url())?
        .get_multiplexed_async_connection()
        .await?;
    let mut wrapper = tokio::process::Command::new(pulseboard_bin())
        .args(["run", "--name", "footprint", "--kind", "render"])
        .args(["--interval", &interval.to_string(), "--redis", &redis.url()])
        .args(["--", "sleep", "100000"])
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .spawn()?;
    let pid = wrapper.id().expect("the wrapper runs");
    let key = heartbeat_key("footprint");

    // Settled: its first beat is in Redis.
    let deadline = Instant::now() + Duration::from_secs(20);
    while !conn.exists::<_, bool>(&key).await? {
        anyhow::ensure!(Instant::now() < deadline, "no first beat within 20 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let tick = clock_ticks_per_second();
    let (rss_start, _) = memory(pid)?;
    let cpu_start = cpu_ticks(pid)?;
    let started = Instant::now();
    let mut rss_max = rss_start;
    let mut beats = 0u64;
    let mut last_ts = String::new();
    // Sample every 100 ms; count distinct beats by their `ts` (second resolution, so at one beat a
    // second this is a floor).
    while started.elapsed() < Duration::from_secs(seconds) {
        tokio::time::sleep(Duration::from_millis(100)).await;
        rss_max = rss_max.max(memory(pid)?.0);
        if let Some(json) = conn.get::<_, Option<String>>(&key).await? {
            let v: serde_json::Value = serde_json::from_str(&json)?;
            let ts = v["ts"].as_str().unwrap_or_default().to_owned();
            if ts != last_ts {
                beats += 1;
                last_ts = ts;
            }
        }
    }
    let window = started.elapsed();
    let cpu_ms = (cpu_ticks(pid)? - cpu_start) as f64 * 1000.0 / tick as f64;
    let (rss_end, hwm) = memory(pid)?;
    let secs = window.as_secs_f64();
    println!("pulseboard run, one beat every {interval} s, {secs:.1} s window (pid {pid}):");
    println!("  beats seen:   {beats}");
    println!(
        "  RSS:          {:.1} MB at start, {:.1} MB at end, {:.1} MB max sampled, {:.1} MB peak (VmHWM)",
        mb(rss_start),
        mb(rss_end),
        mb(rss_max),
        mb(hwm)
    );
    println!(
        "  CPU:          {cpu_ms:.0} ms over the window = {:.0} ms per minute = {:.3} % of one core (clock tick {} ms)",
        cpu_ms * 60.0 / secs,
        cpu_ms / (secs * 10.0),
        1000 / tick
    );

    // Leave cleanly: SIGTERM, a clean stop.
    let sent = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()?;
    anyhow::ensure!(sent.success(), "kill -TERM failed");
    let status = tokio::time::timeout(Duration::from_secs(40), wrapper.wait()).await??;
    println!("  wrapper exit: {status} after SIGTERM");
    redis.stop().await;
    Ok(())
}
