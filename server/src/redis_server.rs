//! A private `redis-server` on a free loopback port, owned by this process: the demo's store and
//! the tests' real Redis. It is killed when dropped.

use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};

/// Why a private Redis could not be started.
#[derive(Debug, thiserror::Error)]
pub enum RedisServerError {
    /// The binary could not be run.
    #[error("cannot run {binary} ({cause}); install it with `apt-get install redis-server` or set PULSEBOARD_REDIS_SERVER")]
    Spawn {
        /// The binary tried.
        binary: String,
        /// Why.
        cause: std::io::Error,
    },
    /// It ran but never answered PING.
    #[error("redis-server on port {0} did not answer PING within 10 s")]
    NotReady(u16),
    /// No free port could be found.
    #[error("no free loopback port: {0}")]
    Port(std::io::Error),
}

/// A running private Redis.
pub struct RedisServer {
    binary: String,
    port: u16,
    extra_args: Vec<String>,
    child: Option<Child>,
}

impl RedisServer {
    /// Starts `redis-server` (or `$PULSEBOARD_REDIS_SERVER`) on a free port, without persistence,
    /// and waits until it answers.
    pub async fn start() -> Result<Self, RedisServerError> {
        Self::start_with_args(vec![]).await
    }

    /// Same, with more `redis-server` arguments (a TLS port, ACL users); readiness is still
    /// checked on the plain port.
    pub async fn start_with_args(extra_args: Vec<String>) -> Result<Self, RedisServerError> {
        let binary =
            std::env::var("PULSEBOARD_REDIS_SERVER").unwrap_or_else(|_| "redis-server".into());
        let port = free_port().map_err(RedisServerError::Port)?;
        let mut server = Self {
            binary,
            port,
            extra_args,
            child: None,
        };
        server.restart().await?;
        Ok(server)
    }

    /// `redis://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Kills it and waits for it to exit (its data is gone: there is no persistence).
    pub async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill().await;
        }
    }

    /// Starts it again on the same port (after [`stop`](Self::stop)), empty.
    pub async fn restart(&mut self) -> Result<(), RedisServerError> {
        self.stop().await;
        let child = Command::new(&self.binary)
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--logfile", ""])
            .arg("--dir")
            .arg(std::env::temp_dir())
            .args(&self.extra_args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(|cause| RedisServerError::Spawn {
                binary: self.binary.clone(),
                cause,
            })?;
        self.child = Some(child);
        self.wait_ready().await
    }

    async fn wait_ready(&mut self) -> Result<(), RedisServerError> {
        let client = redis::Client::open(self.url()).expect("a valid URL");
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(mut conn) = client.get_multiplexed_async_connection().await {
                if redis::cmd("PING")
                    .query_async::<String>(&mut conn)
                    .await
                    .is_ok()
                {
                    return Ok(());
                }
            }
            if let Some(child) = &mut self.child {
                if let Ok(Some(_)) = child.try_wait() {
                    break; // it exited (e.g. the port was taken)
                }
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Err(RedisServerError::NotReady(self.port))
    }
}

/// A loopback port nobody listens on right now.
pub fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}
