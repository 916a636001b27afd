//! A host loses power: how many messages reach a person, and how soon the first. Forty workers of
//! one host stop beating together (their keys expire in the same instant), then come back
//! together; the bench counts what a local Telegram stand-in received and the delay from the
//! expiry to the first message, once without grouping (`group_window_s = 0`, every alert on its
//! own, as before incidents) and once at the default window.
//!
//! ```text
//! cargo run --release --example host_outage -p pulseboard-tests -- [WORKERS] [WINDOW_S]
//! ```
//! Defaults: 40 workers, a 30 s window (the run takes about two windows).

use std::time::{Duration, Instant};

use pulseboard_server::aggregate::iso;
use pulseboard_server::alerts::transitions::Memory;
use pulseboard_server::config::alerts::Language;
use pulseboard_server::config::Config;
use pulseboard_server::redis_server::RedisServer;
use pulseboard_shared::heartbeat::heartbeat_key;
use pulseboard_shared::Heartbeat;
use pulseboard_tests::standin::StandIn;
use redis::aio::MultiplexedConnection;
use redis::AsyncCommands;

const PATIENCE: Duration = Duration::from_secs(120);

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let workers: usize = args.next().map_or(Ok(40), |a| a.parse())?;
    let window_s: u64 = args.next().map_or(Ok(30), |a| a.parse())?;
    println!("{workers} workers of one host go down together, then come back");
    println!("| group_window_s | messages for the outage | for the recovery | first message after the expiry |");
    println!("|---|---|---|---|");
    for window in [0, window_s] {
        let (down, up, first) = outage(workers, window).await?;
        println!("| {window} | {down} | {up} | {} ms |", first.as_millis());
    }
    Ok(())
}

/// One outage and recovery with `window_s` of grouping: messages for each, and the first's delay.
async fn outage(workers: usize, window_s: u64) -> anyhow::Result<(usize, usize, Duration)> {
    let mut redis = RedisServer::start().await?;
    let standin = StandIn::start().await?;
    let names: Vec<String> = (0..workers).map(|n| format!("r{n}")).collect();
    let mut config = Config {
        redis_url: redis.url(),
        topology: pulseboard_tests::one_host("gpu-01", &names),
        ..Config::default()
    };
    config.alerts.language = Language::English;
    config.alerts.group_window = Duration::from_secs(window_s);
    config.alerts.telegram = Some(standin.telegram());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let (stop, shutdown) = pulseboard_server::shutdown::channel();
    let server = tokio::spawn(pulseboard_server::serve(config, listener, shutdown));
    let mut conn = redis::Client::open(redis.url())?
        .get_multiplexed_async_connection()
        .await?;

    beat_all(&mut conn, &names, 45_000).await?;
    until_judged(&mut conn, &names, true).await?;
    let expiry = Instant::now() + Duration::from_millis(1000);
    beat_all(&mut conn, &names, 1000).await?;
    let done = if window_s == 0 {
        format!("[r{}] worker down", workers - 1)
    } else {
        format!("{workers} workers down")
    };
    wait_all(&standin, "worker down", &done, workers, window_s, 0).await?;
    let first = standin.received()[0].at.saturating_duration_since(expiry);
    let down = standin.received().len();

    until_judged(&mut conn, &names, false).await?;
    beat_all(&mut conn, &names, 45_000).await?;
    let done = if window_s == 0 {
        format!("[r{}] worker recovered", workers - 1)
    } else {
        format!("{workers} workers recovered")
    };
    wait_all(&standin, "worker recovered", &done, workers, window_s, down).await?;
    let up = standin.received().len() - down;

    stop.stop();
    server.await??;
    redis.stop().await;
    Ok((down, up, first))
}

/// Waits for the last message of a phase: the summary, or without grouping every worker's own
/// (they arrive in no set order, so all of them are counted).
async fn wait_all(
    standin: &StandIn,
    each: &str,
    summary: &str,
    workers: usize,
    window_s: u64,
    skip: usize,
) -> anyhow::Result<()> {
    if window_s > 0 {
        standin
            .wait_for(summary, skip, PATIENCE)
            .await
            .ok_or_else(|| anyhow::anyhow!("no {summary:?}"))?;
        return Ok(());
    }
    let deadline = Instant::now() + PATIENCE;
    while standin
        .texts()
        .iter()
        .skip(skip)
        .filter(|t| t.contains(each))
        .count()
        < workers
    {
        anyhow::ensure!(Instant::now() < deadline, "not every {each:?} arrived");
        standin
            .wait_for(each, standin.received().len(), Duration::from_secs(1))
            .await;
    }
    Ok(())
}

async fn beat_all(
    conn: &mut MultiplexedConnection,
    names: &[String],
    ttl_ms: u64,
) -> anyhow::Result<()> {
    let mut pipe = redis::pipe();
    for name in names {
        let beat = Heartbeat {
            name: name.clone(),
            kind: "render".into(),
            state: "idle".into(),
            ts: iso(chrono::Utc::now()),
            ..Default::default()
        };
        pipe.cmd("SET")
            .arg(heartbeat_key(name))
            .arg(beat.to_json())
            .arg("PX")
            .arg(ttl_ms)
            .ignore();
    }
    let _: () = pipe.query_async(conn).await?;
    Ok(())
}

/// Waits until the sender has stored every worker as `alive` (or, for false, as down).
async fn until_judged(
    conn: &mut MultiplexedConnection,
    names: &[String],
    alive: bool,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let text: Option<String> = conn.get("pulseboard:alerts:state").await?;
        let memory: Memory = text
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default();
        let judged = |n: &String| memory.workers.get(n).and_then(|w| w.alive) == Some(alive);
        if names.iter().all(judged) {
            return Ok(());
        }
        anyhow::ensure!(Instant::now() < deadline, "never judged alive={alive}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
