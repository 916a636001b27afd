//! `pulseboard serve`: the refresher, the alerts, the recovery guard and the HTTP server wired
//! together, until the shutdown; then every task is awaited, so none is cut off on its way out.
//! Read-only (`--read-only`), only the refresher and the HTTP server run: the alerts, the guard
//! and the admin actions are what write to Redis.
//!
//! - [`connections`]: the accept loop, with its header timeout and connection cap.

pub mod connections;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::bundle::Bundle;
use crate::config::Config;
use crate::http::AppState;
use crate::ledger::store::Store;
use crate::refresher::Refresher;
use crate::shutdown::Shutdown;
use crate::snapshot::Hub;
use crate::{alerts, http};

/// Serves `config` on `listener` until `shutdown`, then drains, waits for every background task
/// (the refresher, the alerts) to finish its way out, and returns.
pub async fn serve(
    config: Config,
    listener: TcpListener,
    shutdown: Shutdown,
) -> anyhow::Result<()> {
    serve_live(watch::channel(config).1, listener, shutdown).await
}

/// [`serve`] with a configuration that may change while it runs (see [`crate::reload`]): the
/// refresher and the alerts apply each new one; the listener, Redis and the sinks stay.
pub async fn serve_live(
    configs: watch::Receiver<Config>,
    listener: TcpListener,
    shutdown: Shutdown,
) -> anyhow::Result<()> {
    let config = configs.borrow().clone();
    let hub = Hub::default();
    let mut tasks = JoinSet::new();
    let refresher = Refresher::new(configs.clone(), hub.clone())?;
    tasks.spawn(refresher.run(shutdown.clone()));
    let alert_store = if config.redis_cluster {
        Store::new_cluster(
            config.redis_client()?,
            &config.redis_tls,
            config.redis_timeout(),
        )?
    } else {
        Store::new(config.redis_client()?, config.redis_timeout())?
    };
    if config.read_only {
        tracing::info!("read-only: no alerts, no recovery guard, no admin actions; nothing is written to Redis");
    }
    let writes = !config.read_only;
    let admin_state = crate::admin::Admin {
        tokens: config.admin_tokens.clone(),
        read_only: config.read_only,
        hub: hub.clone(),
        store: alert_store.clone(),
        history_max: config.alerts.history_max,
        throttle: Default::default(),
        agent_key: config.agent_key.clone(),
    };
    // Restart from a Telegram button only where the admin API acts.
    let restarter = (writes && config.admin_tokens.enabled()).then(|| {
        std::sync::Arc::new(admin_state.clone()) as std::sync::Arc<dyn alerts::engine::Restarter>
    });
    let alerts = (writes && config.alerts.enabled).then(|| {
        alerts::engine::start(
            configs.clone(),
            alert_store.clone(),
            &hub,
            restarter,
            shutdown.clone(),
            &mut tasks,
        )
    });
    let guard = writes.then(|| {
        crate::recovery::engine::start(
            alert_store.clone(),
            alerts.clone(),
            &hub,
            configs.clone(),
            shutdown.clone(),
            &mut tasks,
        )
    });
    if let Some(lease) = &guard {
        crate::history::start(
            alert_store.clone(),
            lease.clone(),
            &hub,
            configs.clone(),
            shutdown.clone(),
            &mut tasks,
        );
        crate::rescue::start(
            lease.clone(),
            alerts.clone(),
            &hub,
            configs.clone(),
            shutdown.clone(),
            &mut tasks,
        );
    }

    let dead_letters = crate::dead_letters::router(crate::dead_letters::DeadLetters {
        admin: admin_state.clone(),
        settings: config.dead_letters.clone(),
        queues: std::sync::Arc::new(
            config
                .topology
                .workers
                .iter()
                .map(|w| (w.name.clone(), w.queue.clone()))
                .collect(),
        ),
    });
    let silences = crate::silences::router(admin_state.clone());
    let acks = crate::acks::router(admin_state.clone());
    let history = crate::history::router(crate::history::HistoryState {
        store: alert_store.clone(),
        settings: config.history.clone(),
        hub: hub.clone(),
    });
    // Any process receives Telegram's presses in webhook mode, the sender or not.
    let presses = crate::presses::router(crate::presses::Presses {
        alerts: alerts.clone(),
        hub: hub.clone(),
        throttle: admin_state.throttle.clone(),
    });
    let admin = crate::admin::router(admin_state)
        .merge(dead_letters)
        .merge(silences)
        .merge(acks)
        .merge(history)
        .merge(presses);
    if config.admin_tokens.enabled() {
        tracing::info!(tokens = ?config.admin_tokens, "admin actions on");
    }
    log_agent_requests(&config);
    let state = AppState::new(hub, config.refresh, shutdown.clone(), &config.http);
    let state = AppState {
        alerts,
        guard,
        ..state
    };
    let bundle = Bundle::from_option(config.dist.clone());
    let more = alerts::history::router(alert_store, config.refresh)
        .merge(admin)
        .merge(crate::openapi::router());
    let app = http::app(state, &bundle, more);
    connections::serve_until(listener, app, &config.http, shutdown).await?;
    join_all(tasks).await
}

/// Says at start-up whether host agents can be asked, and why not.
fn log_agent_requests(config: &Config) {
    match &config.agent_key {
        Some(keys) => tracing::info!(
            key = %keys.fingerprint(),
            keys = keys.count(),
            "agent requests on: signed with the agent key (the agents must hold the same)"
        ),
        None => tracing::warn!(
            "agent requests off: no agent key (set PULSEBOARD_AGENT_KEY, --agent-key-file or \
             agent_key_file; make one with `openssl rand -hex 32`); a worker that is gone \
             cannot be restarted through its host agent"
        ),
    }
}

/// Awaits every task of `tasks`; a task that panicked is an error.
async fn join_all(mut tasks: JoinSet<()>) -> anyhow::Result<()> {
    while let Some(done) = tasks.join_next().await {
        done?;
    }
    Ok(())
}
