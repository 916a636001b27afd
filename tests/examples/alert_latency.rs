//! Measures the delay from a heartbeat key's expiry to the down alert reaching a local Telegram
//! stand-in, over several runs, and prints each run, the median and the worst.
//!
//! ```text
//! cargo run --release --example alert_latency -p pulseboard-tests -- [RUNS] [REFRESH_MS]
//! ```
//! Defaults: 12 runs at the default refresh (1000 ms). The server, a private `redis-server` and
//! the stand-in run in this process; the worker is a key written with `PX 1000` at a random point
//! of the refresh cycle. Expect a delay spread over one refresh interval, plus delivery.

use std::time::{Duration, Instant};

use pulseboard_server::aggregate::iso;
use pulseboard_server::alerts::transitions::Memory;
use pulseboard_server::config::alerts::Language;
use pulseboard_server::config::{Config, Host, Topology, WorkerSpec};
use pulseboard_server::redis_server::RedisServer;
use pulseboard_shared::heartbeat::heartbeat_key;
use pulseboard_shared::{Heartbeat, WorkerKind};
use pulseboard_tests::standin::StandIn;
use redis::AsyncCommands;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let runs: usize = args.next().map_or(Ok(12), |a| a.parse())?;
    let refresh_ms: u64 = args.next().map_or(Ok(1000), |a| a.parse())?;

    let mut redis = RedisServer::start().await?;
    let standin = StandIn::start().await?;
    let mut config = Config {
        redis_url: redis.url(),
        refresh: Duration::from_millis(refresh_ms),
        discovery_every: Duration::from_millis(refresh_ms.max(5000)),
        topology: Topology {
            queue_host: "nas".into(),
            hosts: vec![Host {
                name: "nas".into(),
                label: None,
            }],
            workers: vec![WorkerSpec {
                name: "w1".into(),
                kind: WorkerKind::Render,
                host: "nas".into(),
                queue: Some("queue:w1".into()),
                pulls_from: "nas-stock".into(),
                parts: vec![],
                part_down: Default::default(),
            }],
        },
        ..Config::default()
    };
    config.alerts.language = Language::English;
    config.alerts.flap_max = 1000; // every run is a down/up pair; do not call it flapping
    config.alerts.telegram = Some(standin.telegram());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let (stop, shutdown) = pulseboard_server::shutdown::channel();
    let server = tokio::spawn(pulseboard_server::serve(config, listener, shutdown));

    let mut conn = redis::Client::open(redis.url())?
        .get_multiplexed_async_connection()
        .await?;
    let mut delays = Vec::with_capacity(runs);
    for run in 1..=runs {
        beat(&mut conn, 45_000).await?;
        wait_judged_alive(&mut conn, true).await?;
        // The expiry falls at a random point of the refresh cycle (a sampling offset, not a wait
        // for anything): right after a refresh is the worst case, one whole refresh.
        tokio::time::sleep(Duration::from_millis(rand::random_range(0..refresh_ms))).await;
        let skip = standin.received().len();
        let expiry = Instant::now() + Duration::from_millis(1000);
        beat(&mut conn, 1000).await?;
        let down = standin
            .wait_for("[w1] worker down", skip, Duration::from_secs(30))
            .await
            .ok_or_else(|| anyhow::anyhow!("run {run}: no down alert"))?;
        let delay = down.at.saturating_duration_since(expiry);
        println!("run {run:2}: {:4} ms", delay.as_millis());
        delays.push(delay);
        beat(&mut conn, 45_000).await?;
        standin
            .wait_for("[w1] worker recovered", skip, Duration::from_secs(30))
            .await
            .ok_or_else(|| anyhow::anyhow!("run {run}: no recovered alert"))?;
    }
    delays.sort();
    let median = if runs % 2 == 1 {
        delays[runs / 2]
    } else {
        (delays[runs / 2 - 1] + delays[runs / 2]) / 2
    };
    println!(
        "refresh {refresh_ms} ms, {runs} runs: median {} ms, worst {} ms, best {} ms",
        median.as_millis(),
        delays[runs - 1].as_millis(),
        delays[0].as_millis()
    );
    stop.stop();
    server.await??;
    redis.stop().await;
    Ok(())
}

async fn beat(conn: &mut redis::aio::MultiplexedConnection, ttl_ms: u64) -> anyhow::Result<()> {
    let beat = Heartbeat {
        name: "w1".into(),
        kind: "render".into(),
        state: "idle".into(),
        ts: iso(chrono::Utc::now()),
        last_job_at: None,
        jobs_done: 0,
        jobs_failed: 0,
        mode: None,
        ..Default::default()
    };
    let _: () = redis::cmd("SET")
        .arg(heartbeat_key("w1"))
        .arg(beat.to_json())
        .arg("PX")
        .arg(ttl_ms)
        .query_async(conn)
        .await?;
    Ok(())
}

/// Waits until the sender has stored w1 as alive (so the expiry that follows is a transition).
async fn wait_judged_alive(
    conn: &mut redis::aio::MultiplexedConnection,
    alive: bool,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        let text: Option<String> = conn.get("pulseboard:alerts:state").await?;
        let memory: Memory = text
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default();
        if memory.workers.get("w1").and_then(|w| w.alive) == Some(alive) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    anyhow::bail!("w1 never judged alive")
}
