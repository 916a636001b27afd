//! Benchmark: the refresh time (`/readyz` `refresh_ms`) at 10,000 configured, beating workers,
//! before and after 300,000 junk heartbeat keys land in Redis (a third with names the name rule
//! refuses, the rest beyond `max_unregistered`). Prints a table; asserts nothing.
//!
//!     cargo run --release -p pulseboard-tests --example junk_refresh -- [WORKERS] [JUNK]
//!
//! Defaults: 10,000 workers, 300,000 junk keys, a 1 s refresh, 15 samples of `/readyz` a second
//! apart in each phase. The workers beat every 15 s (`SET ... EX 45`) from this process, as real
//! ones do; the server, its Redis and the workers all run on this machine.

use std::time::{Duration, Instant};

use pulseboard_server::config::{Host, Topology, WorkerSpec};
use pulseboard_shared::WorkerKind;
use pulseboard_tests::{heartbeat, write_junk_heartbeats, Stack};

const SAMPLES: usize = 15;

fn name(i: usize) -> String {
    format!("w{i:05}")
}

/// Every worker's beat, in one pipeline.
async fn beat_all(conn: &mut redis::aio::MultiplexedConnection, workers: usize) {
    let mut pipe = redis::pipe();
    for i in 0..workers {
        let beat = heartbeat(&name(i), "render", "idle");
        pipe.cmd("SET")
            .arg(pulseboard_shared::heartbeat::heartbeat_key(&beat.name))
            .arg(beat.to_json())
            .arg("EX")
            .arg(45)
            .ignore();
    }
    let _: () = pipe.query_async(conn).await.unwrap();
}

/// `/readyz` sampled once a second: median and worst `refresh_ms`, and the last answer.
async fn sample(stack: &Stack) -> (f64, f64, serde_json::Value) {
    let mut times = Vec::with_capacity(SAMPLES);
    let mut last = serde_json::Value::Null;
    for _ in 0..SAMPLES {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let (status, body) = stack.get("/readyz").await;
        last = serde_json::from_str(&body).unwrap();
        if status != 200 {
            println!("(/readyz {status}: {})", last["reasons"]);
        }
        times.push(last["refresh_ms"].as_f64().unwrap());
    }
    times.sort_by(f64::total_cmp);
    (times[SAMPLES / 2], times[SAMPLES - 1], last)
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse::<usize>().ok());
    let workers = args.next().unwrap_or(10_000);
    let junk = args.next().unwrap_or(300_000);
    let stack = Stack::start_with(|c| {
        c.refresh = Duration::from_millis(1000);
        c.discovery_every = Duration::from_millis(5000);
        c.topology = Topology {
            queue_host: "nas".into(),
            hosts: vec![Host {
                name: "nas".into(),
                label: None,
            }],
            workers: (0..workers)
                .map(|i| WorkerSpec {
                    name: name(i),
                    kind: WorkerKind::Render,
                    host: "nas".into(),
                    queue: Some(format!("queue:{}", name(i))),
                    pulls_from: "nas-stock".into(),
                    parts: vec![],
                    part_down: Default::default(),
                })
                .collect(),
        };
    })
    .await;
    let mut conn = stack.conn().await;
    beat_all(&mut conn, workers).await;
    let mut beating = stack.conn().await;
    let beats = tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(15)).await;
            beat_all(&mut beating, workers).await;
        }
    });
    stack
        .wait_nodes("every worker alive", |n| {
            n.workers.iter().filter(|w| w.alive).count() == workers
        })
        .await;

    println!("| junk keys | workers read | ignored | commands per refresh | round trips | refresh ms (median) | refresh ms (worst) |");
    println!("|---|---|---|---|---|---|---|");
    let row = |keys: usize, (median, worst, last): (f64, f64, serde_json::Value)| {
        println!(
            "| {keys} | {} | {} | {} | {} | {median:.1} | {worst:.1} |",
            last["workers"],
            last["ignored_workers"],
            last["redis_commands_per_refresh"],
            last["redis_round_trips_per_refresh"],
        );
    };
    row(0, sample(&stack).await);

    write_junk_heartbeats(&mut conn, junk as u64).await;
    // Until a whole sweep has been through the flood (one SCAN step of 10,000 keys a refresh).
    let counted = junk.saturating_sub(1000) as u64;
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let nodes = stack.nodes().await;
        let ignored = nodes.summary.as_ref().and_then(|s| s.ignored_workers);
        if ignored.is_some_and(|i| i.count >= counted) {
            break;
        }
        assert!(Instant::now() < deadline, "the flood was never counted");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    row(junk, sample(&stack).await);
    beats.abort();
    stack.stop().await;
}
