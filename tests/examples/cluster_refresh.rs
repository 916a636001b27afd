//! Benchmark: what a refresh costs on a Redis Cluster of three primaries, measured by the
//! primaries themselves (`total_commands_processed` before and after a window, divided by the
//! refreshes pulseboard counted in it): commands per refresh on each primary, round trips per
//! refresh, and the refresh time. Prints a table; asserts nothing.
//!
//!     cargo run --release -p pulseboard-tests --example cluster_refresh -- [WORKERS...]
//!
//! Defaults: 6 and 1,000 workers, a 10 s window each.

use std::time::{Duration, Instant};

use pulseboard_server::redis_server::RedisServer;
use pulseboard_tests::cluster::Cluster;
use pulseboard_tests::{beat, heartbeat, Stack};

async fn commands_processed(node: &RedisServer) -> u64 {
    let mut conn = redis::Client::open(node.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let info: String = redis::cmd("INFO")
        .arg("stats")
        .query_async(&mut conn)
        .await
        .unwrap();
    info.lines()
        .find_map(|l| l.strip_prefix("total_commands_processed:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap()
}

async fn refreshes(stack: &Stack) -> f64 {
    let text = stack.get("/metrics").await.1;
    text.lines()
        .find_map(|l| l.strip_prefix("pulseboard_refresh_duration_seconds_count "))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

#[tokio::main]
async fn main() {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let sizes = if sizes.is_empty() {
        vec![6, 1000]
    } else {
        sizes
    };
    println!("| workers | primary | commands per refresh | round trips per refresh | refresh ms |");
    println!("|---|---|---|---|---|");
    for workers in sizes {
        let mut cluster = Cluster::start().await;
        let mut r = cluster.conn().await;
        for i in 0..workers {
            beat(&mut r, &heartbeat(&format!("w{i:04}"), "render", "idle")).await;
        }
        let seed = cluster.nodes.remove(0);
        let seed_url = seed.url();
        let stack = Stack::launch(seed, |c| {
            c.redis_cluster = true;
            c.refresh = Duration::from_millis(1000);
            c.discovery_every = Duration::from_millis(5000);
        })
        .await;
        stack
            .wait_nodes("every worker", |n| {
                n.workers.iter().filter(|w| w.alive).count() >= workers
            })
            .await;
        let others: Vec<&RedisServer> = cluster.nodes.iter().collect();
        let mut before = vec![commands_processed(&stack.redis).await];
        for node in &others {
            before.push(commands_processed(node).await);
        }
        let refreshes_before = refreshes(&stack).await;
        let start = Instant::now();
        tokio::time::sleep(Duration::from_secs(10)).await;
        let mut after = vec![commands_processed(&stack.redis).await];
        for node in &others {
            after.push(commands_processed(node).await);
        }
        let counted = refreshes(&stack).await - refreshes_before;
        let readyz: serde_json::Value =
            serde_json::from_str(&stack.get("/readyz").await.1).unwrap();
        let urls: Vec<String> = std::iter::once(seed_url.clone())
            .chain(others.iter().map(|n| n.url()))
            .collect();
        for (i, url) in urls.iter().enumerate() {
            // The probes of this benchmark (INFO, twice) are not pulseboard's.
            let per_refresh = (after[i] - before[i]).saturating_sub(2) as f64 / counted.max(1.0);
            println!(
                "| {workers} | {} | {per_refresh:.1} | {} | {:.1} |",
                url.trim_start_matches("redis://"),
                readyz["redis_round_trips_per_refresh"],
                readyz["refresh_ms"].as_f64().unwrap_or(0.0)
            );
        }
        eprintln!(
            "({counted} refreshes in {:.1} s)",
            start.elapsed().as_secs_f64()
        );
        stack.stop().await;
    }
}
