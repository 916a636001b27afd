//! A simulated fleet: real Redis clients that behave like the seed's workers.
//!
//! Each render worker beats (contract 1), claims jobs from `queue:<w>` into its in-flight list
//! `processing:queue:<w>:<consumer>`, finishes them or fails them into `dead_letter:queue:<w>`,
//! and stands still while `queue:paused` is set. The watcher toggles the pause flag, the trader
//! follows market hours, a producer feeds the queues, an operator now and then empties a
//! dead-letter list, and from time to time a worker stops so its heartbeat key expires.

use std::time::Duration;

use chrono::Utc;
use pulseboard_shared::heartbeat::heartbeat_key;
use pulseboard_shared::{Heartbeat, WorkerKind};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use redis::aio::MultiplexedConnection;
use redis::AsyncCommands;
use tokio::time::{sleep, Instant};

use crate::aggregate::iso;
use crate::config::WorkerSpec;
use crate::reader::PAUSED_KEY;
use crate::shutdown::Shutdown;

/// How the simulation runs.
#[derive(Debug, Clone)]
pub struct SimOptions {
    /// Redis to write to.
    pub redis_url: String,
    /// Heartbeat interval; the key's TTL is three times this (contract 1: 15 s, EX 45).
    pub beat_interval: Duration,
    /// The workers to simulate.
    pub workers: Vec<WorkerSpec>,
    /// Seed of the random choices, for a repeatable run.
    pub seed: u64,
    /// Chance per beat that a worker stops for a while (its key then expires).
    pub outage_chance: f64,
}

/// Runs the fleet until `shutdown`. Redis errors are logged and retried, never fatal.
pub async fn run(options: SimOptions, shutdown: Shutdown) -> anyhow::Result<()> {
    let client = redis::Client::open(options.redis_url.as_str())?;
    let conn = connect(&client, &shutdown).await?;
    let Some(conn) = conn else { return Ok(()) };
    let mut tasks = Vec::new();
    for (i, spec) in options.workers.iter().enumerate() {
        let worker = SimWorker {
            spec: spec.clone(),
            conn: conn.clone(),
            rng: StdRng::seed_from_u64(options.seed.wrapping_add(i as u64)),
            interval: options.beat_interval,
            outage_chance: options.outage_chance,
            stats: Stats::default(),
        };
        tasks.push(tokio::spawn(worker.run(shutdown.clone())));
    }
    let queues: Vec<String> = options
        .workers
        .iter()
        .filter_map(|w| w.queue.clone())
        .collect();
    tasks.push(tokio::spawn(produce(
        conn,
        queues,
        StdRng::seed_from_u64(options.seed ^ 0x5eed),
        shutdown,
    )));
    for task in tasks {
        task.await?;
    }
    Ok(())
}

async fn connect(
    client: &redis::Client,
    shutdown: &Shutdown,
) -> anyhow::Result<Option<MultiplexedConnection>> {
    loop {
        match client.get_multiplexed_async_connection().await {
            Ok(conn) => return Ok(Some(conn)),
            Err(e) if !shutdown.is_stopping() => {
                tracing::warn!(error = %e, "simulator: redis unreachable, retrying");
                sleep(Duration::from_secs(1)).await;
            }
            Err(_) => return Ok(None),
        }
    }
}

#[derive(Debug, Default)]
struct Stats {
    jobs_done: u64,
    jobs_failed: u64,
    last_job_at: Option<String>,
}

struct SimWorker {
    spec: WorkerSpec,
    conn: MultiplexedConnection,
    rng: StdRng,
    interval: Duration,
    outage_chance: f64,
    stats: Stats,
}

impl SimWorker {
    async fn run(mut self, shutdown: Shutdown) {
        let mut next_beat = Instant::now();
        let mut down_until: Option<Instant> = None;
        while !shutdown.is_stopping() {
            let now = Instant::now();
            if down_until.is_some_and(|t| now < t) {
                let _ = tokio::time::timeout(Duration::from_millis(500), shutdown.wait()).await;
                continue;
            }
            if down_until.take().is_some() {
                tracing::info!(worker = %self.spec.name, "simulator: worker back");
            }
            if now >= next_beat {
                next_beat = now + self.interval;
                if self.rng.random_bool(self.outage_chance) {
                    // Silent death: no more beats until the key has expired and a while after.
                    let outage = self.interval * self.rng.random_range(4..8);
                    tracing::info!(worker = %self.spec.name, ?outage, "simulator: worker stops");
                    down_until = Some(now + outage);
                    continue;
                }
            }
            let step = match self.spec.kind {
                WorkerKind::Render => self.render_step().await,
                WorkerKind::Watcher => self.watcher_step().await,
                _ => self.trader_step().await,
            };
            if let Err(e) = step {
                tracing::warn!(worker = %self.spec.name, error = %e, "simulator: redis error");
            }
            let pause = Duration::from_millis(self.rng.random_range(300..900));
            let _ =
                tokio::time::timeout(pause.min(next_beat - Instant::now()), shutdown.wait()).await;
        }
    }

    async fn beat(&mut self, state: &str, mode: Option<&str>) -> redis::RedisResult<()> {
        let beat = Heartbeat {
            name: self.spec.name.clone(),
            kind: self.spec.kind.as_str().to_owned(),
            state: state.to_owned(),
            ts: iso(Utc::now()),
            last_job_at: self.stats.last_job_at.clone(),
            jobs_done: self.stats.jobs_done,
            jobs_failed: self.stats.jobs_failed,
            mode: mode.map(str::to_owned),
            ..Default::default()
        };
        let ttl = self.interval.as_secs().max(1) * 3;
        self.conn
            .set_ex(heartbeat_key(&self.spec.name), beat.to_json(), ttl)
            .await
    }

    /// Claim one job (or rest while paused), beating before and after.
    async fn render_step(&mut self) -> redis::RedisResult<()> {
        let queue = self.spec.queue.clone().unwrap_or_default();
        let paused: Option<String> = self.conn.get(PAUSED_KEY).await?;
        if paused.as_deref() == Some("1") {
            return self.beat("paused", None).await;
        }
        let processing = format!("processing:{queue}:1");
        let job: Option<String> = redis::cmd("LMOVE")
            .arg(&queue)
            .arg(&processing)
            .arg("RIGHT")
            .arg("LEFT")
            .query_async(&mut self.conn)
            .await?;
        let Some(job) = job else {
            return self.beat("idle", None).await;
        };
        self.beat("busy", None).await?;
        sleep(Duration::from_millis(self.rng.random_range(800..4000))).await;
        let _: i64 = self.conn.lrem(&processing, 1, &job).await?;
        if self.rng.random_bool(0.12) {
            let _: i64 = self
                .conn
                .lpush(format!("dead_letter:{queue}"), &job)
                .await?;
            self.stats.jobs_failed += 1;
        } else {
            self.stats.jobs_done += 1;
        }
        self.stats.last_job_at = Some(iso(Utc::now()));
        // The operator requeues the dead letters now and then.
        if self.rng.random_bool(0.05) {
            let _: i64 = self.conn.del(format!("dead_letter:{queue}")).await?;
        }
        self.beat("idle", None).await
    }

    /// Trading hours come and go; while trading, the render queues are paused.
    async fn watcher_step(&mut self) -> redis::RedisResult<()> {
        let cycle = (self.interval * 15).as_secs().max(1);
        let trading = Utc::now().timestamp() as u64 % cycle >= cycle * 2 / 3;
        let mode = if trading { "trading" } else { "free" };
        if trading {
            let _: () = self.conn.set_ex(PAUSED_KEY, "1", cycle).await?;
        } else {
            let _: i64 = self.conn.del(PAUSED_KEY).await?;
        }
        self.beat(mode, Some(mode)).await
    }

    async fn trader_step(&mut self) -> redis::RedisResult<()> {
        let paused: Option<String> = self.conn.get(PAUSED_KEY).await?;
        let state = if paused.is_some() {
            "market_open"
        } else {
            "market_closed"
        };
        self.beat(state, None).await
    }
}

/// Feeds the render queues with jobs, keeping each at most a few deep.
async fn produce(
    mut conn: MultiplexedConnection,
    queues: Vec<String>,
    mut rng: StdRng,
    shutdown: Shutdown,
) {
    let mut n: u64 = 0;
    while !shutdown.is_stopping() && !queues.is_empty() {
        let queue = &queues[rng.random_range(0..queues.len())];
        let depth: redis::RedisResult<u64> = conn.llen(queue).await;
        if depth.is_ok_and(|d| d < 8) {
            n += 1;
            let pushed: redis::RedisResult<i64> = conn.lpush(queue, format!("job-{n}")).await;
            if let Err(e) = pushed {
                tracing::warn!(error = %e, "simulator: cannot push a job");
            }
        }
        let pause = Duration::from_millis(rng.random_range(200..1200));
        let _ = tokio::time::timeout(pause, shutdown.wait()).await;
    }
}
