//! `pulseboard serve --mock`: the dashboard's mock script served from the server, with no Redis.
//!
//! The same pure scenario the page runs with `?mock` ([`pulseboard_shared::mock`]) is published
//! into the [`Hub`] once a second in place of the Redis refresher, so the API, the SSE stream and
//! the dashboard all behave as in production while nothing else is installed.

use std::time::{Duration, Instant};

use pulseboard_shared::mock::mock_nodes;
use tokio::net::TcpListener;

use crate::bundle::Bundle;
use crate::config::Config;
use crate::http::{self, AppState};
use crate::serve::connections;
use crate::shutdown::Shutdown;
use crate::snapshot::{Hub, Snapshot};

/// How often the scenario advances.
pub const TICK: Duration = Duration::from_secs(1);

/// Publishes the scenario into `hub` every `every` (the script's clock runs in real seconds)
/// until `shutdown`.
pub async fn publish(hub: Hub, every: Duration, shutdown: Shutdown) {
    let start = Instant::now();
    let mut tick = tokio::time::interval(every);
    let mut version = 0;
    let mut redis_ok_at = None;
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = shutdown.wait() => break,
        }
        let nodes = mock_nodes(start.elapsed().as_secs());
        if nodes.redis_ok {
            redis_ok_at = Some(Instant::now());
        }
        version += 1;
        let mut snapshot = Snapshot::new(nodes, version);
        snapshot.redis_ok_at = redis_ok_at;
        if !snapshot.nodes.redis_ok {
            snapshot.redis_error = Some("mock: the script's Redis-lost act".into());
        }
        hub.publish(snapshot);
    }
}

/// Serves the API and the dashboard on `listener` with the mock scenario as the only source,
/// until `shutdown`.
pub async fn serve(
    config: Config,
    listener: TcpListener,
    shutdown: Shutdown,
) -> anyhow::Result<()> {
    let hub = Hub::default();
    let publisher = tokio::spawn(publish(hub.clone(), TICK, shutdown.clone()));
    let state = AppState::new(hub, TICK, shutdown.clone(), &config.http);
    let bundle = Bundle::from_option(config.dist.clone());
    let app = http::app(state, &bundle, crate::openapi::router());
    connections::serve_until(listener, app, &config.http, shutdown).await?;
    publisher.await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shutdown;

    #[tokio::test]
    async fn the_scenario_advances_once_a_tick() {
        let hub = Hub::default();
        let (stop, rx) = shutdown::channel();
        let every = Duration::from_millis(20);
        let task = tokio::spawn(publish(hub.clone(), every, rx));
        tokio::time::sleep(every * 5).await;
        let latest = hub.latest();
        assert!(latest.version >= 3);
        assert_eq!(latest.nodes.workers.len(), 6);
        assert!(latest.nodes.redis_ok && latest.redis_ok_at.is_some());
        stop.stop();
        task.await.unwrap();
    }
}
