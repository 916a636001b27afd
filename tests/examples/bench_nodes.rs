//! Benchmark: `GET /api/agent-office/nodes` latency over one keep-alive connection, and Redis
//! commands per refresh / per request, for pulseboard and, when `SEED_DIR` names the seed's folder
//! (its `app.py`, run with uvicorn), for the seed's aggregator on the same Redis, with 0 and with
//! 100,000 unrelated keys. Prints a table; asserts nothing.
//!
//!     cargo run --release -p pulseboard-tests --example bench_nodes
//!     SEED_DIR=../shared/peers/seed_python cargo run --release -p pulseboard-tests --example bench_nodes
//!
//! The seed lives outside this repository and needs `pip install fastapi uvicorn redis`; without
//! `SEED_DIR` (or without those packages) only pulseboard is measured, with a note saying so.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use pulseboard_server::config::Config;
use pulseboard_server::redis_server::{free_port, RedisServer};
use pulseboard_tests::{beat, heartbeat};
use redis::AsyncCommands;
use tokio::net::TcpListener;
use tokio::process::Command;

struct Figures {
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    requests: usize,
}

async fn measure(client: &reqwest::Client, url: &str, requests: usize) -> Figures {
    let mut times = Vec::with_capacity(requests);
    for _ in 0..requests {
        let start = Instant::now();
        let body = client.get(url).send().await.unwrap().bytes().await.unwrap();
        assert!(body.starts_with(b"{"), "a JSON answer from {url}");
        times.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    let at = |q: f64| times[((times.len() as f64 - 1.0) * q).round() as usize];
    Figures {
        p50_ms: at(0.5),
        p99_ms: at(0.99),
        max_ms: at(1.0),
        requests,
    }
}

async fn commands_processed(conn: &mut redis::aio::MultiplexedConnection) -> u64 {
    let info: String = redis::cmd("INFO")
        .arg("stats")
        .query_async(conn)
        .await
        .unwrap();
    info.lines()
        .find_map(|l| l.strip_prefix("total_commands_processed:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap()
}

async fn seed_fleet(conn: &mut redis::aio::MultiplexedConnection) {
    for (name, kind, state) in [
        ("music-render", "render", "busy"),
        ("video-render", "render", "idle"),
        ("image-render", "render", "idle"),
        ("insta-render", "render", "paused"),
        ("task-watcher", "watcher", "free"),
        ("ai_trade", "trader", "market_open"),
    ] {
        beat(conn, &heartbeat(name, kind, state)).await;
    }
    let _: () = conn.rpush("queue:music-render", &["a", "b"]).await.unwrap();
    let _: () = conn
        .rpush("dead_letter:queue:video-render", "x")
        .await
        .unwrap();
    let _: () = conn
        .rpush("processing:queue:music-render:1", "j")
        .await
        .unwrap();
}

async fn add_unrelated_keys(conn: &mut redis::aio::MultiplexedConnection, n: usize) {
    for chunk in 0..n / 10_000 {
        let mut pipe = redis::pipe();
        for i in 0..10_000 {
            pipe.set(format!("unrelated:{chunk}:{i}"), i).ignore();
        }
        let _: () = pipe.query_async(conn).await.unwrap();
    }
}

async fn start_seed(redis_url: &str) -> Option<(tokio::process::Child, String)> {
    let Some(dir) = std::env::var_os("SEED_DIR").map(PathBuf::from) else {
        eprintln!("SEED_DIR is not set: measuring pulseboard only (set it to the seed's folder to compare)");
        return None;
    };
    if !dir.join("app.py").is_file() {
        eprintln!(
            "no app.py in SEED_DIR={}: measuring pulseboard only",
            dir.display()
        );
        return None;
    }
    let port = free_port().unwrap();
    let child = Command::new("python3")
        .args([
            "-m",
            "uvicorn",
            "app:app",
            "--port",
            &port.to_string(),
            "--log-level",
            "warning",
        ])
        .current_dir(&dir)
        .env("REDIS_URL", redis_url)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .ok()?;
    let url = format!("http://127.0.0.1:{port}/api/agent-office/nodes");
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if client
            .get(&url)
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return Some((child, url));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    eprintln!("the seed aggregator did not start (pip install fastapi uvicorn redis?)");
    None
}

#[tokio::main]
async fn main() {
    let redis = RedisServer::start().await.unwrap();
    let mut conn = redis::Client::open(redis.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    seed_fleet(&mut conn).await;

    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let ours = format!(
        "http://{}/api/agent-office/nodes",
        listener.local_addr().unwrap()
    );
    let readyz = ours.replace("/api/agent-office/nodes", "/readyz");
    let (stop, rx) = pulseboard_server::shutdown::channel();
    let config = Config {
        redis_url: redis.url(),
        ..Config::default()
    };
    let server = tokio::spawn(pulseboard_server::serve(config, listener, rx));
    let seed = start_seed(&redis.url()).await;
    let client = reqwest::Client::new(); // one keep-alive connection per target
    while client
        .get(&readyz)
        .send()
        .await
        .map(|r| r.status().as_u16())
        .unwrap_or(0)
        != 200
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    println!(
        "| keys in Redis | aggregator | requests | p50 ms | p99 ms | max ms | Redis commands |"
    );
    println!("|---|---|---|---|---|---|---|");
    for unrelated in [0usize, 100_000] {
        if unrelated > 0 {
            add_unrelated_keys(&mut conn, unrelated).await;
        }
        let keys: u64 = redis::cmd("DBSIZE").query_async(&mut conn).await.unwrap();
        // pulseboard: requests touch no Redis; the refresher costs a fixed amount per second.
        let before = commands_processed(&mut conn).await;
        let window = Instant::now();
        let f = measure(&client, &ours, 2_000).await;
        tokio::time::sleep(Duration::from_secs(3)).await; // a window of whole refreshes to count
        let spent = commands_processed(&mut conn).await - before - 1;
        let refreshes = window.elapsed().as_secs_f64(); // one refresh per second
        let ready: serde_json::Value = serde_json::from_str(
            &client
                .get(&readyz)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap(),
        )
        .unwrap();
        println!(
            "| {keys} | pulseboard | {} | {:.3} | {:.3} | {:.3} | {:.1}/s measured, {} per refresh (1 round trip), 0 per request |",
            f.requests, f.p50_ms, f.p99_ms, f.max_ms, spent as f64 / refreshes, ready["redis_commands_per_refresh"]
        );
        if let Some((_, seed_url)) = &seed {
            let seed_client = reqwest::Client::new();
            let requests = if unrelated > 0 { 3 } else { 200 };
            let before = commands_processed(&mut conn).await;
            let f = measure(&seed_client, seed_url, requests).await;
            let spent = commands_processed(&mut conn).await - before - 1;
            println!(
                "| {keys} | seed (python) | {} | {:.3} | {:.3} | {:.3} | {:.0} per request |",
                f.requests,
                f.p50_ms,
                f.p99_ms,
                f.max_ms,
                spent as f64 / requests as f64
            );
        }
    }
    stop.stop();
    server.await.unwrap().unwrap();
}
