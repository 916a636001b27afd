//! `pulseboard demo`: a private Redis, the simulated fleet and the server, in one process tree.

use std::path::PathBuf;
use std::time::Duration;

use tokio::net::TcpListener;

use crate::config::Config;
use crate::redis_server::RedisServer;
use crate::simulate::{self, SimOptions};

/// What the demo needs to know.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// Where to listen; if taken, a free port is used instead.
    pub listen: std::net::SocketAddr,
    /// A dashboard bundle to serve instead of the embedded one.
    pub dist: Option<PathBuf>,
    /// The simulated workers' heartbeat interval.
    pub beat_interval: Duration,
}

/// Runs the demo until SIGTERM or Ctrl-C, then stops the server, the simulator and Redis.
pub async fn run(options: DemoOptions) -> anyhow::Result<()> {
    let mut redis = RedisServer::start().await?;
    let shutdown = crate::shutdown::Shutdown::on_signals();
    let mut config = Config {
        redis_url: redis.url(),
        listen: options.listen,
        dist: options.dist,
        ..Config::default()
    };
    // One worker of two processes, to show parts: when its ui part crashes, it is down naming it.
    if let Some(w) = config
        .topology
        .workers
        .iter_mut()
        .find(|w| w.name == "insta-render")
    {
        w.parts = vec!["server".into(), "ui".into()];
    }
    let listener = match TcpListener::bind(options.listen).await {
        Ok(listener) => listener,
        Err(e) => {
            tracing::warn!(listen = %options.listen, error = %e, "address taken; using a free port");
            TcpListener::bind((options.listen.ip(), 0)).await?
        }
    };
    let sim = tokio::spawn(simulate::run(
        SimOptions {
            redis_url: redis.url(),
            beat_interval: options.beat_interval,
            workers: config.topology.workers.clone(),
            seed: rand::random(),
            outage_chance: 0.03,
        },
        shutdown.clone(),
    ));
    let addr = listener.local_addr()?;
    println!();
    println!("  pulseboard demo is running");
    println!("  dashboard:  http://{addr}/infra/");
    println!("  API:        http://{addr}/api/agent-office/nodes");
    println!(
        "  Redis:      {} (private, gone when the demo stops)",
        redis.url()
    );
    println!("  Ctrl-C stops everything.");
    println!();
    let served = crate::serve::serve(config, listener, shutdown).await;
    sim.await??;
    redis.stop().await;
    served
}
