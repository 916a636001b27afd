//! Measures how fast lifecycle signals reach an operator, over several runs at the default
//! refresh (1 s), and prints each run, the median and the worst:
//!
//! - readiness: a worker's `ready` beat (after `starting`) -> the stream the page reads says ready;
//! - clean stop: its final `stopped` beat -> the stream says stopped (the seed's design: the key
//!   expires 45 s later, the worker turns red and a false down alert goes out);
//! - crash: a final beat with a non-zero exit code (what `pulseboard run` writes when its child
//!   dies) -> the down alert reaches a local Telegram stand-in (no wait for the key to expire);
//! - the same through the real wrapper: `pulseboard run` around a program that exits 3 -> the
//!   down alert (timed from the wrapper's own exit, just after its final beat), and around a
//!   program that creates its `--ready-file` -> the stream says ready.
//!
//! ```text
//! cargo run --release -p pulseboard-tests --example lifecycle_latency -- [RUNS] [REFRESH_MS]
//! ```
//! The server, a private `redis-server` and the stand-in run in this process. Each signal is
//! written at a random point of the refresh cycle, so the figures spread over one refresh.

use std::time::{Duration, Instant};

use pulseboard_server::aggregate::iso;
use pulseboard_server::alerts::transitions::Memory;
use pulseboard_server::config::alerts::Language;
use pulseboard_server::config::Config;
use pulseboard_server::redis_server::RedisServer;
use pulseboard_shared::heartbeat::{heartbeat_key, Declared};
use pulseboard_shared::{Heartbeat, Phase};
use pulseboard_tests::sse::Follower;
use pulseboard_tests::standin::StandIn;
use redis::aio::MultiplexedConnection;

const WORKER: &str = "music-render";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let runs: usize = args.next().map_or(Ok(10), |a| a.parse())?;
    let refresh_ms: u64 = args.next().map_or(Ok(1000), |a| a.parse())?;

    let mut redis = RedisServer::start().await?;
    let standin = StandIn::start().await?;
    let mut config = Config {
        redis_url: redis.url(),
        refresh: Duration::from_millis(refresh_ms),
        ..Config::default()
    };
    config.alerts.language = Language::English;
    config.alerts.flap_max = 1000;
    config.alerts.telegram = Some(standin.telegram());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let (stop, shutdown) = pulseboard_server::shutdown::channel();
    let server = tokio::spawn(pulseboard_server::serve(config, listener, shutdown));
    let mut conn = redis::Client::open(redis.url())?
        .get_multiplexed_async_connection()
        .await?;
    let mut stream = Stream::open(&base).await?;

    let (mut ready, mut stopped, mut crashed) = (vec![], vec![], vec![]);
    for run in 1..=runs {
        write(&mut conn, Phase::Starting, None).await?;
        stream.until_state("starting").await?;
        jitter(refresh_ms).await;
        let t = Instant::now();
        write(&mut conn, Phase::Ready, None).await?;
        stream.until_state("ready").await?;
        ready.push(t.elapsed());

        jitter(refresh_ms).await;
        let t = Instant::now();
        write(&mut conn, Phase::Stopped, Some(0)).await?;
        stream.until_state("stopped").await?;
        stopped.push(t.elapsed());

        write(&mut conn, Phase::Ready, None).await?;
        stream.until_state("ready").await?;
        // The alerts judge the same snapshots: let them store the worker as running again.
        wait_judged_running(&mut conn).await?;
        let skip = standin.received().len();
        jitter(refresh_ms).await;
        let t = Instant::now();
        write(&mut conn, Phase::Ready, Some(3)).await?;
        let down = standin
            .wait_for(
                &format!("[{WORKER}] worker down"),
                skip,
                Duration::from_secs(30),
            )
            .await
            .ok_or_else(|| anyhow::anyhow!("run {run}: no down alert"))?;
        crashed.push(down.at.saturating_duration_since(t));
        println!(
            "run {run:2}: ready {:4} ms  stopped {:4} ms  crash->alert {:4} ms",
            ready[run - 1].as_millis(),
            stopped[run - 1].as_millis(),
            crashed[run - 1].as_millis()
        );
        write(&mut conn, Phase::Ready, None).await?;
        standin
            .wait_for(
                &format!("[{WORKER}] worker recovered"),
                skip,
                Duration::from_secs(30),
            )
            .await
            .ok_or_else(|| anyhow::anyhow!("run {run}: no recovered alert"))?;
    }
    let (mut wrapped_ready, mut wrapped_crash) = (vec![], vec![]);
    let flag = std::env::temp_dir().join(format!("pb-latency-{}", std::process::id()));
    for run in 1..=runs {
        let _ = std::fs::remove_file(&flag);
        let script = format!(
            "import sys, time; time.sleep(1); open({:?}, 'w').close(); time.sleep(2); sys.exit(3)",
            flag.display()
        );
        let skip = standin.received().len();
        let mut wrapper = tokio::process::Command::new(pulseboard_tests::pulseboard_bin())
            .args([
                "run",
                "--name",
                WORKER,
                "--interval",
                "15",
                "--redis",
                &redis.url(),
            ])
            .arg("--ready-file")
            .arg(&flag)
            .args(["--", "python3", "-c", &script])
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()?;
        stream.until_state("starting").await?;
        while !flag.exists() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let t = Instant::now();
        stream.until_state("ready").await?;
        wrapped_ready.push(t.elapsed());
        wait_judged_running(&mut conn).await?;
        let status = wrapper.wait().await?;
        let exited = Instant::now();
        anyhow::ensure!(status.code() == Some(3), "the wrapper passes the code on");
        let down = standin
            .wait_for(
                &format!("[{WORKER}] worker down"),
                skip,
                Duration::from_secs(30),
            )
            .await
            .ok_or_else(|| anyhow::anyhow!("wrapped run {run}: no down alert"))?;
        wrapped_crash.push(down.at.saturating_duration_since(exited));
        println!(
            "wrapped run {run:2}: ready file -> stream {:4} ms  exit 3 -> alert {:4} ms",
            wrapped_ready[run - 1].as_millis(),
            wrapped_crash[run - 1].as_millis()
        );
    }
    let _ = std::fs::remove_file(&flag);
    for (what, figures) in [
        ("ready beat -> stream", &mut ready),
        ("stopped beat -> stream", &mut stopped),
        ("crash beat -> down alert", &mut crashed),
        ("run: ready file -> stream", &mut wrapped_ready),
        ("run: exit 3 -> down alert", &mut wrapped_crash),
    ] {
        figures.sort();
        println!(
            "{what:26} refresh {refresh_ms} ms, {runs} runs: median {} ms, worst {} ms",
            figures[runs / 2].as_millis(),
            figures[runs - 1].as_millis()
        );
    }
    stop.stop();
    drop(stream);
    server.await??;
    redis.stop().await;
    Ok(())
}

/// Waits until the alert sender has stored the worker as running (not stopped, not down).
async fn wait_judged_running(conn: &mut MultiplexedConnection) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        let text: Option<String> = redis::cmd("GET")
            .arg("pulseboard:alerts:state")
            .query_async(conn)
            .await?;
        let memory: Memory = text
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default();
        if memory.workers.get(WORKER).and_then(|w| w.alive) == Some(true) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    anyhow::bail!("{WORKER} never judged running")
}

/// A random point of the refresh cycle (a sampling offset, not a wait for anything).
async fn jitter(refresh_ms: u64) {
    tokio::time::sleep(Duration::from_millis(rand::random_range(0..refresh_ms))).await;
}

/// Writes the worker's beat: `phase`, and for a final beat its exit code (a clean stop has no
/// expiry, as the SDK and `pulseboard run` write it).
async fn write(
    conn: &mut MultiplexedConnection,
    phase: Phase,
    exit_code: Option<i32>,
) -> anyhow::Result<()> {
    let beat = Heartbeat {
        name: WORKER.into(),
        kind: "render".into(),
        state: "idle".into(),
        ts: iso(chrono::Utc::now()),
        declared: Declared {
            interval_s: Some(15),
            phase: Some(phase),
            exit_code,
            ..Default::default()
        },
        ..Default::default()
    };
    let mut set = redis::cmd("SET");
    set.arg(heartbeat_key(WORKER)).arg(beat.to_json());
    if phase != Phase::Stopped {
        set.arg("EX").arg(45);
    }
    let _: () = set.query_async(conn).await?;
    Ok(())
}

/// The page's live stream, read as the page reads it: a snapshot, then patches applied to it.
struct Stream(Follower);

impl Stream {
    async fn open(base: &str) -> anyhow::Result<Self> {
        let url = format!("{base}/api/agent-office/nodes/stream");
        Ok(Self(Follower::open(&url).await))
    }

    /// Reads events until the fleet they built says the worker's lifecycle state is `state`.
    async fn until_state(&mut self, state: &str) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let found = self.0.nodes.as_ref().is_some_and(|n| {
                n.workers.iter().any(|w| {
                    w.name == WORKER
                        && w.lifecycle.as_ref().is_some_and(|l| {
                            serde_json::to_value(l.state)
                                .ok()
                                .as_ref()
                                .and_then(|v| v.as_str())
                                == Some(state)
                        })
                })
            });
            if found {
                return Ok(());
            }
            anyhow::ensure!(Instant::now() < deadline, "the stream never said {state}");
            anyhow::ensure!(self.0.step().await, "no event in time");
        }
    }
}
