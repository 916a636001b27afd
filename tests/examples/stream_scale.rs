//! Benchmark: the live stream at fleet scale. A private `redis-server`, N workers beating every
//! 15 s (spread evenly over the interval; every beat changes `jobs_done` and flips `state` between
//! busy and idle, as real workers do), the real `pulseboard serve` binary, and K viewers of
//! `/api/agent-office/nodes/stream?patches=fields` (as the page reads it; `records` for the
//! format older clients read) reading everything sent. Prints the server's CPU (of one core)
//! with no viewer and then with K, the refresh duration p50/p99 (sampled from `/readyz`), bytes per
//! second per viewer after its first snapshot, memory, `/api/agent-office/nodes` latency and how
//! long discovery took to find every worker. Asserts nothing.
//!
//! ```text
//! cargo run --release -p pulseboard-tests --example stream_scale -- [WORKERS] [VIEWERS] [SECONDS] [fields|records]
//! ```
//! Defaults: 10,000 workers, 200 viewers, 20 s, fields. Linux only (it reads `/proc`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use pulseboard_server::aggregate::iso;
use pulseboard_server::redis_server::{free_port, RedisServer};
use pulseboard_shared::heartbeat::heartbeat_key;
use pulseboard_tests::process_usage::{clock_ticks_per_second, cpu_ticks, mb, memory};
use pulseboard_tests::{heartbeat, pulseboard_bin};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const BEAT_EVERY: Duration = Duration::from_secs(15);

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let workers: usize = args.next().map_or(Ok(10_000), |a| a.parse())?;
    let viewers: usize = args.next().map_or(Ok(200), |a| a.parse())?;
    let seconds: u64 = args.next().map_or(Ok(20), |a| a.parse())?;
    let patches = args.next().unwrap_or_else(|| "fields".into());
    anyhow::ensure!(
        ["fields", "records"].contains(&patches.as_str()),
        "the patch format is fields or records"
    );
    let request = format!(
        "GET /api/agent-office/nodes/stream?patches={patches} HTTP/1.1\r\nHost: bench\r\n\r\n"
    );

    // Built (if stale) before the clock starts and before the first beats, which a long build
    // would let expire.
    let bin = pulseboard_bin();
    let mut redis = RedisServer::start().await?;
    let client = redis::Client::open(redis.url())?;
    let mut conn = client.get_multiplexed_async_connection().await?;
    let names: Vec<String> = (0..workers).map(|i| format!("w{i:05}")).collect();
    for chunk in names.chunks(1000) {
        beat_all(&mut conn, chunk, 0).await?;
    }

    // Every worker of the fleet is unregistered, every viewer on one address: room for all.
    let config = std::env::temp_dir().join(format!("stream_scale-{}.toml", std::process::id()));
    let limits = format!(
        "max_unregistered = {}\n[http]\nmax_streams_per_client = {}\n",
        workers + 100,
        viewers + 10
    );
    std::fs::write(&config, limits)?;
    let port = free_port()?;
    let base = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    let mut server = tokio::process::Command::new(bin)
        .args(["serve", "--redis", &redis.url(), "--listen"])
        .arg(format!("127.0.0.1:{port}"))
        .arg("--config")
        .arg(&config)
        // `RUST_LOG=pulseboard_server=debug` shows each refresh's phases.
        .env(
            "RUST_LOG",
            std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into()),
        )
        .kill_on_drop(true)
        .spawn()?;
    let pid = server.id().expect("the server runs");
    let http = reqwest::Client::new();
    let nodes_url = format!("{base}/api/agent-office/nodes");
    let found = loop {
        let count = match http.get(&nodes_url).send().await {
            Ok(r) => serde_json::from_slice::<serde_json::Value>(&r.bytes().await?)?["workers"]
                .as_array()
                .map_or(0, Vec::len),
            Err(_) => 0,
        };
        if count >= workers {
            break started.elapsed();
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(60),
            "only {count} workers found"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };

    // The fleet beats on: every worker once per 15 s, a slice every 100 ms.
    let beating = tokio::spawn({
        let names = names.clone();
        let mut conn = conn.clone();
        async move {
            let slices = (BEAT_EVERY.as_millis() / 100) as usize;
            let per_slice = names.len().div_ceil(slices);
            let mut tick = tokio::time::interval(Duration::from_millis(100));
            for round in 1.. {
                for slice in names.chunks(per_slice) {
                    tick.tick().await;
                    if beat_all(&mut conn, slice, round).await.is_err() {
                        return;
                    }
                }
            }
        }
    });

    // No viewer yet: what the refresh alone costs. (The line lets a profiler attach: `perf record
    // -p PID` over this window.)
    eprintln!("idle window: {seconds} s, server pid {pid}");
    let idle = measure(&http, &base, pid, Duration::from_secs(seconds)).await?;

    // The viewers, joining a hundred at a time.
    let received: Arc<Vec<AtomicU64>> = Arc::new((0..viewers).map(|_| AtomicU64::new(0)).collect());
    let mut tasks = Vec::new();
    for i in 0..viewers {
        let received = received.clone();
        let request = request.clone();
        tasks.push(tokio::spawn(async move {
            let mut stream = TcpStream::connect(("127.0.0.1", port)).await?;
            stream.write_all(request.as_bytes()).await?;
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                let n = stream.read(&mut buf).await?;
                if n == 0 {
                    return Ok::<_, std::io::Error>(());
                }
                received[i].fetch_add(n as u64, Ordering::Relaxed);
            }
        }));
        if i % 100 == 99 {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    let snapshot_size = http.get(&nodes_url).send().await?.bytes().await?.len() as u64;
    let all_in = Instant::now();
    while received
        .iter()
        .any(|r| r.load(Ordering::Relaxed) < snapshot_size)
    {
        anyhow::ensure!(
            all_in.elapsed() < Duration::from_secs(120),
            "not every viewer got its first snapshot"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let joined_in = all_in.elapsed();

    // The window.
    let total = |r: &[AtomicU64]| r.iter().map(|b| b.load(Ordering::Relaxed)).sum::<u64>();
    let bytes_start = total(&received);
    let watched = measure(&http, &base, pid, Duration::from_secs(seconds)).await?;
    let window = watched.window;
    let bytes = total(&received) - bytes_start;
    let (rss, peak) = memory(pid)?;
    let quantiles = |ms: &[f64]| {
        let mut sorted = ms.to_vec();
        sorted.sort_by(f64::total_cmp);
        let at = |q: f64| sorted[((sorted.len() as f64 - 1.0) * q).round() as usize];
        (at(0.5), at(0.99), at(1.0), sorted.len())
    };
    let refresh = refresh_ms(&http, &base).await;

    println!("stream at scale: {workers} workers beating every 15 s (each beat changes jobs_done and state), {viewers} viewers, {window:.0} s windows");
    println!(
        "  discovery: every worker found {:.1} s after start",
        found.as_secs_f64()
    );
    println!("  whole snapshot: {snapshot_size} B (each viewer's first event); all {viewers} had it {:.1} s after joining", joined_in.as_secs_f64());
    println!(
        "  stream ({patches}): {:.1} KB/s per viewer on average ({:.2} MB/s for all)",
        bytes as f64 / window / viewers as f64 / 1000.0,
        bytes as f64 / window / 1e6
    );
    println!(
        "  server CPU: {:.1}% of one core with no viewer, {:.1}% with {viewers}",
        idle.cpu_percent, watched.cpu_percent
    );
    println!(
        "  refresh (/readyz refresh_ms): p50 {:.0} ms, p99 {:.0} ms with no viewer; p50 {:.0} ms, p99 {:.0} ms with {viewers}",
        idle.refresh_at(0.5),
        idle.refresh_at(0.99),
        watched.refresh_at(0.5),
        watched.refresh_at(0.99)
    );
    println!(
        "  server memory: RSS {:.0} MB, peak {:.0} MB",
        mb(rss),
        mb(peak)
    );
    for (how, ms) in [
        ("plain", &watched.nodes_ms),
        ("as a browser asks (gzip)", &watched.nodes_compressed_ms),
    ] {
        let (p50, p99, max, n) = quantiles(ms);
        println!(
            "  GET /nodes {how}: p50 {p50:.2} ms, p99 {p99:.2} ms, max {max:.2} ms ({n} requests)"
        );
    }
    if let Some((mean, count)) = refresh {
        println!("  refresh (/metrics): {mean:.1} ms mean over {count} refreshes");
    }

    beating.abort();
    for task in tasks {
        task.abort();
    }
    server.kill().await?;
    redis.stop().await;
    std::fs::remove_file(&config)?;
    Ok(())
}

/// One measuring window: the server's CPU, the refresh durations it reported and `/nodes` latency.
struct Window {
    window: f64,
    cpu_percent: f64,
    refresh_ms: Vec<f64>,
    nodes_ms: Vec<f64>,
    /// The same asked as a browser does (`Accept-Encoding: gzip, deflate, br`).
    nodes_compressed_ms: Vec<f64>,
}

impl Window {
    fn refresh_at(&self, q: f64) -> f64 {
        let mut sorted = self.refresh_ms.clone();
        sorted.sort_by(f64::total_cmp);
        sorted
            .get(((sorted.len().max(1) - 1) as f64 * q).round() as usize)
            .copied()
            .unwrap_or(f64::NAN)
    }
}

/// Polls `/nodes` every 50 ms (in turn plain and as a browser asks, compressed) and `/readyz`
/// every 200 ms for `length`, counting the server's CPU.
async fn measure(
    http: &reqwest::Client,
    base: &str,
    pid: u32,
    length: Duration,
) -> anyhow::Result<Window> {
    let cpu_start = cpu_ticks(pid)?;
    let start = Instant::now();
    let (mut refresh_ms, mut nodes_ms, mut nodes_compressed_ms) = (vec![], vec![], vec![]);
    let mut last_refresh = None;
    while start.elapsed() < length {
        if nodes_ms.len() % 4 == 0 {
            let readyz: serde_json::Value = serde_json::from_slice(
                &http
                    .get(format!("{base}/readyz"))
                    .send()
                    .await?
                    .bytes()
                    .await?,
            )?;
            // `/readyz` tells the last refresh; a new value is a new refresh (near enough).
            let ms = readyz["refresh_ms"].as_f64();
            if ms.is_some() && ms != last_refresh {
                refresh_ms.extend(ms);
                last_refresh = ms;
            }
        }
        let compressed = nodes_ms.len() > nodes_compressed_ms.len();
        let mut request = http.get(format!("{base}/api/agent-office/nodes"));
        if compressed {
            request = request.header("accept-encoding", "gzip, deflate, br");
        }
        let t = Instant::now();
        let response = request.send().await?;
        let encoded = response.headers().contains_key("content-encoding");
        let body = response.bytes().await?;
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        if compressed {
            anyhow::ensure!(encoded, "a compressed answer");
            nodes_compressed_ms.push(ms);
        } else {
            anyhow::ensure!(body.starts_with(b"{"), "a JSON answer");
            nodes_ms.push(ms);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let window = start.elapsed().as_secs_f64();
    let cpu_s = (cpu_ticks(pid)? - cpu_start) as f64 / clock_ticks_per_second() as f64;
    Ok(Window {
        window,
        cpu_percent: cpu_s / window * 100.0,
        refresh_ms,
        nodes_ms,
        nodes_compressed_ms,
    })
}

/// Writes a fresh heartbeat for each of `names` in one round trip; `round` sets `jobs_done` and
/// flips `state`, so every beat changes what the page shows.
async fn beat_all(
    conn: &mut redis::aio::MultiplexedConnection,
    names: &[String],
    round: u64,
) -> redis::RedisResult<()> {
    let mut pipe = redis::pipe();
    let ts = iso(Utc::now());
    for name in names {
        let state = if round.is_multiple_of(2) {
            "idle"
        } else {
            "busy"
        };
        let mut beat = heartbeat(name, "render", state);
        beat.jobs_done = round;
        beat.ts = ts.clone();
        pipe.set_ex(heartbeat_key(name), beat.to_json(), 45)
            .ignore();
    }
    pipe.query_async(conn).await
}

/// The mean refresh duration in ms and the number of refreshes, from the server's `/metrics`.
async fn refresh_ms(http: &reqwest::Client, base: &str) -> Option<(f64, u64)> {
    let text = http
        .get(format!("{base}/metrics"))
        .send()
        .await
        .ok()?
        .text()
        .await
        .ok()?;
    // `pulseboard_refresh_duration_seconds_sum 1.23` (labels, if any, ignored).
    let value = |suffix: &str| {
        text.lines().find_map(|l| {
            let (name, value) = l.split_once(' ')?;
            let name = name.split('{').next()?;
            (name.starts_with("pulseboard_refresh") && name.ends_with(suffix))
                .then(|| value.split(' ').next()?.parse::<f64>().ok())?
        })
    };
    let sum = value("_sum")?;
    let count = value("_count")?;
    (count > 0.0).then(|| (sum / count * 1000.0, count as u64))
}
