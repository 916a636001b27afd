//! The harness of pulseboard's end-to-end tests: a private `redis-server` on a free port, the
//! real server (router and refresher) on another, and helpers that await conditions instead of
//! sleeping.

pub mod bin;
pub mod browser;
pub mod cluster;
pub mod process_usage;
pub mod sse;
pub mod standin;
pub mod tls;

pub use bin::{pulseboard_bin, pulseboard_run};

use std::future::Future;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::Utc;
use pulseboard_server::aggregate::iso;
use pulseboard_server::config::Config;
use pulseboard_server::redis_server::RedisServer;
use pulseboard_shared::heartbeat::heartbeat_key;
use pulseboard_shared::{Heartbeat, Nodes};
use redis::aio::MultiplexedConnection;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// How long any awaited condition may take before the test fails.
pub const PATIENCE: Duration = Duration::from_secs(15);

/// A private Redis plus the real server reading it.
pub struct Stack {
    /// The private Redis.
    pub redis: RedisServer,
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// An HTTP client (keep-alive).
    pub http: reqwest::Client,
    shutdown: pulseboard_server::shutdown::Trigger,
    /// The server task; its error as text.
    server: JoinHandle<Result<(), String>>,
}

impl Stack {
    /// Redis and a server refreshing every 100 ms, serving the bundle embedded in the server (or
    /// the one in `$PULSEBOARD_DIST` when set).
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// Same, with the configuration adjusted by `adjust`.
    pub async fn start_with(adjust: impl FnOnce(&mut Config)) -> Self {
        let redis = RedisServer::start().await.expect("start redis-server");
        let stack = Self::launch(redis, adjust).await;
        stack.wait_nodes("the first refresh", |n| n.redis_ok).await;
        stack
    }

    /// The server on `redis` (its URL and TLS files as `adjust` sets them), not waiting for a
    /// first refresh: for setups where Redis may refuse it.
    pub async fn launch(redis: RedisServer, adjust: impl FnOnce(&mut Config)) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let mut config = Config {
            redis_url: redis.url(),
            refresh: Duration::from_millis(100),
            discovery_every: Duration::from_millis(200),
            dist: std::env::var_os("PULSEBOARD_DIST").map(PathBuf::from),
            ..Config::default()
        };
        adjust(&mut config);
        let (shutdown, rx) = pulseboard_server::shutdown::channel();
        let server = tokio::spawn(async move {
            pulseboard_server::serve(config, listener, rx)
                .await
                .map_err(|e| format!("{e:#}"))
        });
        Self {
            redis,
            base,
            http: reqwest::Client::new(),
            shutdown,
            server,
        }
    }

    /// A fresh connection to the private Redis.
    pub async fn conn(&self) -> MultiplexedConnection {
        redis::Client::open(self.redis.url())
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .expect("connect to the private redis")
    }

    /// `GET path`, as status and body text.
    pub async fn get(&self, path: &str) -> (u16, String) {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"));
        (response.status().as_u16(), response.text().await.unwrap())
    }

    /// `GET /api/agent-office/nodes`.
    pub async fn nodes(&self) -> Nodes {
        let (status, body) = self.get("/api/agent-office/nodes").await;
        assert_eq!(status, 200, "{body}");
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("contract 2 JSON: {e}: {body}"))
    }

    /// Polls `/nodes` until `ready` holds, failing with the last answer after [`PATIENCE`].
    pub async fn wait_nodes(&self, what: &str, ready: impl Fn(&Nodes) -> bool) -> Nodes {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let nodes = self.nodes().await;
            if ready(&nodes) {
                return nodes;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; last answer: {nodes:#?}"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Stops the server cleanly and starts a new one on the same Redis (its configuration
    /// adjusted by `adjust`), as a restart or an upgrade does; waits for its first refresh.
    pub async fn restart(mut self, adjust: impl FnOnce(&mut Config)) -> Self {
        self.drain().await;
        let stack = Self::launch(self.redis, adjust).await;
        stack.wait_nodes("the first refresh", |n| n.redis_ok).await;
        stack
    }

    /// Stops the server (drain) and Redis.
    pub async fn stop(mut self) {
        self.drain().await;
        self.redis.stop().await;
    }

    /// Stops the server and waits until it has drained and exited cleanly.
    async fn drain(&mut self) {
        self.shutdown.stop();
        let outcome = tokio::time::timeout(PATIENCE, &mut self.server)
            .await
            .expect("the server drains in time")
            .expect("the server task does not panic");
        assert_eq!(outcome, Ok(()));
    }
}

/// Sends signal `name` (`TERM`, `KILL`, `USR1`, ...) to `child`, as an operator's `kill` would.
pub fn signal(child: &tokio::process::Child, name: &str) {
    let sent = std::process::Command::new("kill")
        .args([&format!("-{name}"), &child.id().unwrap().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
}

/// `child`'s exit code, waiting at most [`PATIENCE`]; a death by signal fails the test.
pub async fn exit_code(child: &mut tokio::process::Child) -> i32 {
    tokio::time::timeout(PATIENCE, child.wait())
        .await
        .expect("the process exits in time")
        .unwrap()
        .code()
        .expect("an exit code, not a signal")
}

/// Calls `probe` every 25 ms until it returns `Some`, for at most [`PATIENCE`].
pub async fn eventually<T, F, Fut>(what: &str, mut probe: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Some(value) = probe().await {
            return Some(value);
        }
        if Instant::now() > deadline {
            eprintln!("gave up waiting for {what}");
            return None;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// The dashboard bundle's wasm and JS, gzipped (-9), in bytes: what a visit downloads.
pub fn bundle_gzip_sizes() -> (usize, usize) {
    let (mut wasm, mut js) = (0, 0);
    for entry in std::fs::read_dir(dist_dir()).expect("the bundle is built") {
        let path = entry.expect("a readable dist/").path();
        let gz = std::process::Command::new("gzip")
            .arg("-9c")
            .arg(&path)
            .output()
            .expect("gzip runs")
            .stdout
            .len();
        match path.extension().and_then(|e| e.to_str()) {
            Some("wasm") => wasm += gz,
            Some("js") => js += gz,
            _ => {}
        }
    }
    (wasm, js)
}

/// A contract-1 heartbeat written now.
pub fn heartbeat(name: &str, kind: &str, state: &str) -> Heartbeat {
    Heartbeat {
        name: name.into(),
        kind: kind.into(),
        state: state.into(),
        ts: iso(Utc::now()),
        last_job_at: None,
        jobs_done: 42,
        jobs_failed: 1,
        mode: (kind == "watcher").then(|| state.into()),
        ..Default::default()
    }
}

/// Writes `beat` as a worker does: `SET worker:<name>:heartbeat <json> EX 45`.
pub async fn beat(conn: &mut impl redis::aio::ConnectionLike, beat: &Heartbeat) {
    let _: () = redis::cmd("SET")
        .arg(heartbeat_key(&beat.name))
        .arg(beat.to_json())
        .arg("EX")
        .arg(45)
        .query_async(conn)
        .await
        .unwrap();
}

/// The dashboard bundle: `$PULSEBOARD_DIST`, else `dist/` at the repository root.
pub fn dist_dir() -> PathBuf {
    std::env::var_os("PULSEBOARD_DIST")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../dist"))
}

/// Serves only the bundle, at /infra/: no API, no Redis.
pub async fn static_bundle() -> (String, tokio::task::JoinHandle<()>) {
    use tower_http::services::{ServeDir, ServeFile};
    let dist = dist_dir();
    let app = axum::Router::new().nest_service(
        "/infra",
        ServeDir::new(&dist).fallback(ServeFile::new(dist.join("index.html"))),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (base, server)
}

/// Writes `count` junk `worker:*:heartbeat` keys (`x`, never a beat) in Lua batches of 10,000, a
/// few ms each, so Redis is never stalled; every third name is 150 bytes long, refused by the
/// name rule.
pub async fn write_junk_heartbeats(conn: &mut impl redis::aio::ConnectionLike, count: u64) {
    const FLOOD: &str = r"
local bad = string.rep('j', 150)
for i = tonumber(ARGV[1]), tonumber(ARGV[2]) do
  if i % 3 == 0 then
    redis.call('SET', 'worker:' .. bad .. i .. ':heartbeat', 'x')
  else
    redis.call('SET', 'worker:junk-' .. i .. ':heartbeat', 'x')
  end
end
return 1";
    const BATCH: u64 = 10_000;
    for first in (1..=count).step_by(BATCH as usize) {
        let _: i64 = redis::cmd("EVAL")
            .arg(FLOOD)
            .arg(0)
            .arg(first)
            .arg((first + BATCH - 1).min(count))
            .query_async(conn)
            .await
            .unwrap();
    }
}

/// `names`, render workers each with its queue `queue:<name>`, all on host `host` (the queues on
/// `nas`): a fleet on one machine, for the benches.
pub fn one_host(host: &str, names: &[String]) -> pulseboard_server::config::Topology {
    use pulseboard_server::config::{Host, Topology, WorkerSpec};
    Topology {
        queue_host: "nas".into(),
        hosts: vec![Host {
            name: host.into(),
            label: None,
        }],
        workers: names
            .iter()
            .map(|name| WorkerSpec {
                name: name.clone(),
                kind: pulseboard_shared::WorkerKind::Render,
                host: host.into(),
                queue: Some(format!("queue:{name}")),
                pulls_from: "nas-stock".into(),
                parts: vec![],
                part_down: Default::default(),
            })
            .collect(),
    }
}
