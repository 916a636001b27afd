//! A simulated fleet: real Redis clients that behave like the seed's workers, built on the
//! worker SDK (`pulseboard-worker`), so the demo shows what real workers on it show.
//!
//! Each worker starts (`starting`, then `ready`), beats (contract 1 with its lifecycle), and
//! works: a render worker claims jobs from `queue:<w>` into its in-flight list through the
//! reliable queue, finishes or fails them into `dead_letter:queue:<w>`, and stands still while
//! `queue:paused` is set. The watcher toggles the pause flag, the trader follows market hours, a
//! producer feeds the queues, an operator now and then empties a dead-letter list, and from time
//! to time a worker crashes (down at once, with its exit code) or is stopped cleanly for a while.

use std::time::Duration;

use pulseboard_shared::{Phase, WorkerKind};
use pulseboard_worker::heartbeat::{self, Handle};
use pulseboard_worker::queue::ReliableQueue;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use redis::aio::MultiplexedConnection;
use redis::AsyncCommands;
use tokio::time::{sleep, Instant};

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
    /// Chance per beat interval that a worker goes away for a while (a crash or a clean stop).
    pub outage_chance: f64,
}

/// Runs the fleet until `shutdown`. Redis errors are logged and retried, never fatal.
pub async fn run(options: SimOptions, shutdown: Shutdown) -> anyhow::Result<()> {
    let client = redis::Client::open(options.redis_url.as_str())?;
    let Some(conn) = connect(&client, &shutdown).await? else {
        return Ok(());
    };
    let mut tasks = Vec::new();
    for (i, spec) in options.workers.iter().enumerate() {
        let worker = SimWorker {
            queue: spec
                .queue
                .as_deref()
                .map(|q| ReliableQueue::new(conn.clone(), q, "1")),
            spec: spec.clone(),
            conn: conn.clone(),
            rng: StdRng::seed_from_u64(options.seed.wrapping_add(i as u64)),
            redis_url: options.redis_url.clone(),
            interval: options.beat_interval,
            outage_chance: options.outage_chance,
            others: Vec::new(),
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

struct SimWorker {
    spec: WorkerSpec,
    queue: Option<ReliableQueue>,
    conn: MultiplexedConnection,
    rng: StdRng,
    redis_url: String,
    interval: Duration,
    outage_chance: f64,
    /// A worker of several processes: the beats of its parts after the first (which does the
    /// work).
    others: Vec<Handle>,
}

impl SimWorker {
    /// One life after another: start, work until an outage (or the shutdown), rest, again.
    async fn run(mut self, shutdown: Shutdown) {
        while !shutdown.is_stopping() {
            let beat = match self.start().await {
                Ok(beat) => beat,
                Err(e) => {
                    tracing::warn!(worker = %self.spec.name, error = %e, "simulator: cannot start");
                    return;
                }
            };
            let outage = self.live(&beat, &shutdown).await;
            let Some(rest) = outage else {
                self.stop_others().await;
                beat.stop().await; // the demo is over: a clean stop
                return;
            };
            let _ = tokio::time::timeout(rest, shutdown.wait()).await;
        }
    }

    /// Starts beating (`starting`), loads for a moment, then says ready (each part of a worker
    /// of several processes on its own key, the later ones a moment later).
    async fn start(&mut self) -> Result<Handle, heartbeat::Error> {
        let start = |part: Option<&String>| {
            let options = heartbeat::Options {
                interval: self.interval,
                version: Some(env!("CARGO_PKG_VERSION").to_owned()),
                phase: Phase::Starting,
                part: part.cloned(),
                ..heartbeat::Options::default()
            };
            let (name, kind) = (&self.spec.name, self.spec.kind.as_str());
            heartbeat::start(name, kind, &self.redis_url, options)
        };
        let mut parts = self.spec.parts.iter();
        let beat = start(parts.next())?;
        let others = parts
            .map(|p| start(Some(p)))
            .collect::<Result<Vec<_>, _>>()?;
        if let Some(q) = &mut self.queue {
            let _ = q.recover_leftovers().await;
        }
        sleep(Duration::from_millis(self.rng.random_range(500..2500))).await;
        beat.ready();
        for other in &others {
            sleep(Duration::from_millis(self.rng.random_range(300..1500))).await;
            other.ready();
        }
        self.others = others;
        Ok(beat)
    }

    /// The other parts stop cleanly (the whole worker is stopping).
    async fn stop_others(&mut self) {
        for other in std::mem::take(&mut self.others) {
            other.stop().await;
        }
    }

    /// Works until an outage (returns how long it lasts) or the shutdown (returns `None`).
    async fn live(&mut self, beat: &Handle, shutdown: &Shutdown) -> Option<Duration> {
        let mut next_roll = Instant::now() + self.interval;
        while !shutdown.is_stopping() {
            if Instant::now() >= next_roll {
                next_roll = Instant::now() + self.interval;
                if self.rng.random_bool(self.outage_chance) {
                    let rest = self.interval * self.rng.random_range(4..8);
                    if self.rng.random_bool(0.5) {
                        tracing::info!(worker = %self.spec.name, ?rest, "simulator: worker crashes");
                        // A worker of parts loses its last part; the rest stop with it.
                        match self.others.pop() {
                            Some(part) => {
                                part.crashed(1).await;
                                self.stop_others().await;
                                beat.stop().await;
                            }
                            None => beat.crashed(1).await,
                        }
                    } else {
                        tracing::info!(worker = %self.spec.name, ?rest, "simulator: worker stopped for a deploy");
                        beat.draining("deploy");
                        sleep(Duration::from_millis(500)).await;
                        self.stop_others().await;
                        beat.stop().await;
                    }
                    return Some(rest);
                }
            }
            let step = match self.spec.kind {
                WorkerKind::Render => self.render_step(beat).await,
                WorkerKind::Watcher => self.watcher_step(beat).await,
                _ => self.trader_step(beat).await,
            };
            if let Err(e) = step {
                tracing::warn!(worker = %self.spec.name, error = %e, "simulator: redis error");
            }
            let pause = Duration::from_millis(self.rng.random_range(300..900));
            let _ = tokio::time::timeout(pause, shutdown.wait()).await;
        }
        None
    }

    /// Claims one job (or rests while paused) through the reliable queue.
    async fn render_step(&mut self, beat: &Handle) -> anyhow::Result<()> {
        let Some(queue) = &mut self.queue else {
            return Ok(());
        };
        if queue.paused().await? {
            beat.set_state("paused");
            return Ok(());
        }
        let Some(job) = queue.claim(Duration::from_millis(200)).await? else {
            beat.set_state("idle");
            return Ok(());
        };
        beat.job_started(&job.payload);
        sleep(Duration::from_millis(self.rng.random_range(800..4000))).await;
        if self.rng.random_bool(0.12) {
            queue.fail(&job).await?;
            beat.job_failed();
        } else {
            queue.ack(&job).await?;
            beat.job_done();
        }
        // The operator requeues the dead letters now and then.
        if self.rng.random_bool(0.05) {
            let dead = format!(
                "dead_letter:{}",
                self.spec.queue.as_deref().unwrap_or_default()
            );
            let _: i64 = self.conn.del(dead).await?;
        }
        Ok(())
    }

    /// Trading hours come and go; while trading, the render queues are paused.
    async fn watcher_step(&mut self, beat: &Handle) -> anyhow::Result<()> {
        let cycle = (self.interval * 15).as_secs().max(1);
        let trading = chrono::Utc::now().timestamp() as u64 % cycle >= cycle * 2 / 3;
        let mode = if trading { "trading" } else { "free" };
        if trading {
            let _: () = self.conn.set_ex(PAUSED_KEY, "1", cycle).await?;
        } else {
            let _: i64 = self.conn.del(PAUSED_KEY).await?;
        }
        beat.set_mode(mode);
        beat.set_state(mode);
        Ok(())
    }

    async fn trader_step(&mut self, beat: &Handle) -> anyhow::Result<()> {
        let paused: Option<String> = self.conn.get(PAUSED_KEY).await?;
        beat.set_state(if paused.is_some() {
            "market_open"
        } else {
            "market_closed"
        });
        Ok(())
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
