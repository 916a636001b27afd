//! The seed's reliable queue, as its workers run it and pulseboard reads it:
//!
//! - pending jobs: list `queue:<worker>` (producers `LPUSH`, consumers take from the right);
//! - in flight: list `processing:queue:<worker>:<consumer>`, one per consumer: a claimed job
//!   moves there atomically, so a crash mid-job loses nothing;
//! - failed: list `dead_letter:queue:<worker>`;
//! - paused: string `queue:paused` = `"1"` (the watcher's trading hours).
//!
//! At start a consumer puts its own leftovers (jobs in its in-flight list from a run that died)
//! back on the queue. Every call is bounded by a timeout.

use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::Script;

/// The global pause flag.
pub const PAUSED_KEY: &str = "queue:paused";

/// A worker's pending-jobs list by default (a configured `queue` may name another).
pub fn queue_key(worker: &str) -> String {
    format!("queue:{worker}")
}

/// The in-flight list of consumer `consumer` of `queue`.
pub fn in_flight_key(queue: &str, consumer: &str) -> String {
    format!("processing:{queue}:{consumer}")
}

/// The dead letters of `queue`.
pub fn dead_letter_key(queue: &str) -> String {
    format!("dead_letter:{queue}")
}

/// What went wrong talking to the queue.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// Redis refused or the connection failed.
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    /// Redis did not answer in time.
    #[error("redis did not answer within {0:?}")]
    Timeout(Duration),
}

/// A claimed job: its payload, exactly as queued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// The payload (the seed's workers queue JSON).
    pub payload: String,
}

/// One consumer of one worker's queue.
#[derive(Clone)]
pub struct ReliableQueue {
    conn: MultiplexedConnection,
    pending: String,
    in_flight: String,
    dead_letter: String,
    timeout: Duration,
}

/// Moves one job from the in-flight list to the dead letters, both or neither.
const FAIL: &str = r"
if redis.call('LREM', KEYS[1], 1, ARGV[1]) == 1 then
  redis.call('LPUSH', KEYS[2], ARGV[1])
  return 1
end
return 0
";

impl ReliableQueue {
    /// Consumer `consumer` of the queue `queue` (e.g. `queue:image-render`).
    pub fn new(conn: MultiplexedConnection, queue: &str, consumer: &str) -> Self {
        Self {
            conn,
            pending: queue.to_owned(),
            in_flight: in_flight_key(queue, consumer),
            dead_letter: dead_letter_key(queue),
            timeout: Duration::from_secs(5),
        }
    }

    /// Its in-flight list's key.
    pub fn in_flight_key(&self) -> &str {
        &self.in_flight
    }

    /// Its consumer id (the in-flight list's last segment).
    pub fn consumer(&self) -> &str {
        self.in_flight.rsplit(':').next().unwrap_or_default()
    }

    /// Declares this consumer in the worker's beats, so pulseboard knows its in-flight list is
    /// in use: without it, pulseboard never touches the list while the worker is alive, and
    /// rescues it once the worker is gone.
    pub fn declare_on(&self, beat: &crate::heartbeat::Handle) {
        beat.declare_consumer(self.consumer());
    }

    async fn bounded<T>(
        &self,
        extra: Duration,
        call: impl std::future::Future<Output = redis::RedisResult<T>>,
    ) -> Result<T, QueueError> {
        let limit = self.timeout + extra;
        tokio::time::timeout(limit, call)
            .await
            .map_err(|_| QueueError::Timeout(limit))?
            .map_err(QueueError::from)
    }

    /// Takes the oldest job into this consumer's in-flight list, waiting up to `wait` for one.
    pub async fn claim(&mut self, wait: Duration) -> Result<Option<Job>, QueueError> {
        let mut conn = self.conn.clone();
        let mut cmd = redis::cmd("BLMOVE");
        cmd.arg(&self.pending)
            .arg(&self.in_flight)
            .arg("RIGHT")
            .arg("LEFT")
            .arg(wait.as_secs_f64());
        let payload: Option<String> = self.bounded(wait, cmd.query_async(&mut conn)).await?;
        Ok(payload.map(|payload| Job { payload }))
    }

    /// The job is done: it leaves the in-flight list.
    pub async fn ack(&mut self, job: &Job) -> Result<(), QueueError> {
        let mut conn = self.conn.clone();
        let mut cmd = redis::cmd("LREM");
        cmd.arg(&self.in_flight).arg(1).arg(&job.payload);
        self.bounded(Duration::ZERO, cmd.query_async::<i64>(&mut conn))
            .await
            .map(drop)
    }

    /// The job failed: it moves to the dead letters (atomically).
    pub async fn fail(&mut self, job: &Job) -> Result<(), QueueError> {
        let mut conn = self.conn.clone();
        let script = Script::new(FAIL);
        let mut invocation = script.key(&self.in_flight);
        invocation.key(&self.dead_letter).arg(&job.payload);
        self.bounded(Duration::ZERO, invocation.invoke_async::<i64>(&mut conn))
            .await
            .map(drop)
    }

    /// Puts this consumer's leftovers (claimed by a run that died) back at the head of the
    /// queue, oldest first; returns how many.
    pub async fn recover_leftovers(&mut self) -> Result<u64, QueueError> {
        let mut moved = 0;
        loop {
            let mut conn = self.conn.clone();
            let mut cmd = redis::cmd("LMOVE");
            cmd.arg(&self.in_flight)
                .arg(&self.pending)
                .arg("LEFT")
                .arg("RIGHT");
            let job: Option<String> = self
                .bounded(Duration::ZERO, cmd.query_async(&mut conn))
                .await?;
            if job.is_none() {
                return Ok(moved);
            }
            moved += 1;
        }
    }

    /// Whether the global pause flag is set.
    pub async fn paused(&mut self) -> Result<bool, QueueError> {
        let mut conn = self.conn.clone();
        let mut cmd = redis::cmd("GET");
        cmd.arg(PAUSED_KEY);
        let flag: Option<String> = self
            .bounded(Duration::ZERO, cmd.query_async(&mut conn))
            .await?;
        Ok(flag.as_deref() == Some("1"))
    }
}
