//! Benchmark: 1,000 orphaned in-flight lists in a fleet of 10,000 workers (a rolling restart's
//! leftovers: each worker beats and declares its new consumer, its old consumer's list still
//! holds 3 jobs). How long from the lists' creation until every one is empty and its jobs are on
//! their queues, at the defaults (`[rescue] after_s = 30`, refresh 1 s, discovery every 5 s),
//! and how many refreshes the rescue took once the lists were due; the refresh's own duration
//! meanwhile. Prints; asserts nothing.
//!
//! ```text
//! cargo run --release -p pulseboard-tests --example rescue_scale -- [WORKERS] [LISTS]
//! ```

use std::time::{Duration, Instant};

use pulseboard_server::aggregate::iso;
use pulseboard_server::config::Config;
use pulseboard_server::redis_server::RedisServer;
use pulseboard_shared::heartbeat::{heartbeat_key, Declared};
use pulseboard_shared::Heartbeat;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let workers: usize = args.next().map_or(Ok(10_000), |a| a.parse())?;
    let lists: usize = args.next().map_or(Ok(1_000), |a| a.parse())?;
    let mut redis = RedisServer::start().await?;
    let names: Vec<String> = (0..workers).map(|n| format!("w{n}")).collect();
    let config = Config {
        redis_url: redis.url(),
        topology: pulseboard_tests::one_host("gpu", &names),
        ..Config::default()
    };
    let refresh = config.refresh;
    let after_s = config.rescue.after_s;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let (stop, shutdown) = pulseboard_server::shutdown::channel();
    let server = tokio::spawn(pulseboard_server::serve(config, listener, shutdown));
    let mut r = redis::Client::open(redis.url())?
        .get_multiplexed_async_connection()
        .await?;

    // Every worker beats (for an hour) and declares its new consumer.
    let mut pipe = redis::pipe();
    for name in &names {
        let beat = Heartbeat {
            name: name.clone(),
            kind: "render".into(),
            state: "idle".into(),
            ts: iso(chrono::Utc::now()),
            declared: Declared {
                consumers: Some(vec!["new".into()]),
                ..Declared::default()
            },
            ..Heartbeat::default()
        };
        pipe.cmd("SET")
            .arg(heartbeat_key(name))
            .arg(beat.to_json())
            .arg("EX")
            .arg(3600)
            .ignore();
    }
    let _: () = pipe.query_async(&mut r).await?;
    // The first `lists` workers have their old consumer's list, 3 jobs each.
    let old = |n: usize| format!("processing:queue:w{n}:old");
    let mut pipe = redis::pipe();
    for n in 0..lists {
        pipe.cmd("RPUSH")
            .arg(old(n))
            .arg(format!("job-{n}-a"))
            .arg(format!("job-{n}-b"))
            .arg(format!("job-{n}-c"))
            .ignore();
    }
    let _: () = pipe.query_async(&mut r).await?;
    let created = Instant::now();
    println!(
        "{workers} workers, {lists} orphaned lists of 3 jobs; refresh {} ms, after_s {after_s}",
        refresh.as_millis()
    );

    let http = reqwest::Client::new();
    let (mut first_moved, mut refresh_ms) = (None, Vec::new());
    let all_gone = loop {
        let mut pipe = redis::pipe();
        for n in 0..lists {
            pipe.cmd("EXISTS").arg(old(n));
        }
        let left: Vec<u8> = pipe.query_async(&mut r).await?;
        let left = left.iter().filter(|e| **e == 1).count();
        if left < lists && first_moved.is_none() {
            first_moved = Some(created.elapsed());
        }
        if let Ok(ready) = http.get(format!("{base}/readyz")).send().await {
            if let Ok(v) = ready.json::<serde_json::Value>().await {
                refresh_ms.extend(v["refresh_ms"].as_f64());
            }
        }
        if left == 0 {
            break created.elapsed();
        }
        anyhow::ensure!(
            created.elapsed() < Duration::from_secs(600),
            "{left} lists still there after 10 min"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let first = first_moved.unwrap_or(all_gone);
    let mut queued = 0u64;
    for n in 0..lists {
        queued += redis::cmd("LLEN")
            .arg(format!("queue:w{n}"))
            .query_async::<u64>(&mut r)
            .await?;
    }
    refresh_ms.sort_by(f64::total_cmp);
    let median = refresh_ms.get(refresh_ms.len() / 2).copied().unwrap_or(0.0);
    let spread = all_gone.saturating_sub(first);
    println!(
        "first list emptied {:.1} s after creation (due at {after_s} s + discovery)",
        first.as_secs_f64()
    );
    println!("all {lists} emptied {:.1} s after creation: {:.1} s from the first to the last = {} refresh(es)", all_gone.as_secs_f64(), spread.as_secs_f64(), 1 + spread.as_millis() / refresh.as_millis().max(1));
    println!("jobs back on their queues: {queued} of {}", 3 * lists);
    println!(
        "refresh meanwhile: median {median:.1} ms, worst {:.1} ms ({} samples)",
        refresh_ms.last().copied().unwrap_or(0.0),
        refresh_ms.len()
    );
    stop.stop();
    server.await??;
    redis.stop().await;
    Ok(())
}
