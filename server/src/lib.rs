//! pulseboard's server: reads worker heartbeats and the reliable queue from Redis in the
//! background, and serves contract 2, a live stream of it, health checks and the dashboard.
//!
//! # Layout
//! - [`config`]: defaults (the seed's topology), TOML file, environment, flags; the Redis client
//!   (URL and TLS files, `config/redis_tls.rs`).
//! - [`redis_connection`]: how a Redis connection is opened (timeouts, reconnection).
//! - [`reader`]: Redis in. One pipelined round trip per refresh (`reader/cluster.rs`: one per
//!   primary of a Redis Cluster).
//! - [`discovery`]: amortised SCAN for in-flight lists and unregistered workers.
//! - [`aggregate`]: a reading to contract 2; pure.
//! - [`refresher`]: the loop that reads, aggregates and publishes every second.
//! - [`snapshot`]: the latest snapshot, pre-serialised, shared by all requests, and how long
//!   refreshes take.
//! - [`history`]: throughput over time, written by the decider, served by `GET /history`.
//! - [`http`]: the routes, with the security headers every answer carries; `http/stream.rs` the
//!   live stream (a whole snapshot, then patches).
//! - [`admin`]: `POST /api/agent-office/workers/{name}/{action}`: an operator asks a worker to
//!   quiet, restart or stop (bearer tokens, audited in the event log).
//! - [`client_ip`]: who asks, by address (`X-Forwarded-For` only from trusted proxies): what the
//!   per-client limits count by.
//! - [`metrics`]: `/metrics` for Prometheus, from the latest snapshot.
//! - [`openapi`]: `/api/openapi.json`, generated from the types that serve the answers; its own
//!   route, merged beside [`http`]'s (it names their handlers, so `http` does not name it).
//! - [`bundle`]: the dashboard bundle, embedded precompressed by `build.rs` (or `--dist DIR`),
//!   with its caching and its Content-Security-Policy.
//! - [`serve`]: the server's tasks wired together, and their shutdown; the accept loop with its
//!   header timeout and connection cap.
//! - [`simulate`]: a fleet of simulated workers writing real heartbeats and moving real jobs.
//! - [`redis_server`]: a private `redis-server` on a free port, for the demo and the tests.
//! - [`run`]: `pulseboard run`, any program as a worker (readiness, signals, final beat).
//! - [`agent`]: `pulseboard agent --host H`, the host agent: runs a worker's allow-listed
//!   supervisor restart when pulseboard asks (a request signed with the agent key), at most
//!   once, and answers how it went (signed too).
//! - [`dead_letters`]: a worker's dead letters listed (secrets masked), replayed onto its queue
//!   or deleted, each exactly once, by holders of an admin token.
//! - [`wait`]: `pulseboard wait --ready NAME...`, until a deploy's new instances are ready.
//! - [`acl`]: `pulseboard acl --role R`, least-privilege Redis users (worker, agent, server,
//!   viewer), built from the key functions the code uses.
//! - [`log_gate`]: one log line per reason and minute, for what anyone who writes Redis can
//!   flood (refused requests, ignored results).
//! - [`demo`]: Redis + simulator + server in one command.
//! - [`mock`]: `serve --mock`, the dashboard's mock script as the only source, no Redis.
//! - [`ledger`]: what the alerts and the recovery guard keep in Redis, owned by neither: the keys
//!   and connection, the leases (one actor among several processes), the fenced commit script and
//!   the event log's writer.
//! - [`alerts`]: transitions to Telegram and webhooks, exactly once, and the event log.
//! - [`recovery`]: the recovery guard's I/O: its memory, its view on the snapshot, the decider
//!   (under its own lease, with or without the alerts) and how actions reach a worker or its host
//!   agent.
//! - [`rescue`]: jobs left by a consumer that is gone put back on their queue (or, poison, in
//!   the dead letters), by the guard's decider.
//! - [`shutdown`]: the one stop signal every task watches.
//! - [`silences`]: silences and maintenance windows: the alerts they cover are held, not lost.
//! - [`acks`]: `POST /api/agent-office/alerts/{id}/ack`: someone is on it; the alert is not re-sent.
//! - [`presses`]: `POST /api/agent-office/telegram/presses`: Telegram's webhook for the alerts'
//!   buttons, in webhook mode (instead of `getUpdates`).
//! - [`units`]: `pulseboard check-units`: systemd units and launchd plists against `[runtime]`.
//! - [`reload`]: `SIGHUP` reads the configuration again; a bad file is refused.
//!
//! Data flows one way: Redis -> [`reader`] -> [`aggregate`] (with the pure rules of
//! `pulseboard-shared`) -> [`snapshot`] -> [`http`]; [`alerts`] and the [`recovery`] guard follow
//! the snapshots.
//!
//! # Lifecycle
//! Bootstrap (config, listen), serve, drain on SIGTERM or Ctrl-C (open streams end), then every
//! background task finishes its way out (the refresher stops, the alert sender releases its
//! lease) before the process exits 0. A failing request or an unreachable Redis never takes the
//! process down.

pub mod acks;
pub mod acl;
pub mod admin;
pub mod agent;
pub mod aggregate;
pub mod alerts;
pub mod bundle;
pub mod client_ip;
pub mod config;
pub mod dead_letters;
pub mod demo;
pub mod discovery;
pub mod history;
pub mod http;
pub mod ledger;
pub mod log_gate;
pub mod metrics;
pub mod mock;
pub mod openapi;
pub mod presses;
pub mod reader;
pub mod recovery;
pub mod redis_connection;
pub mod redis_server;
pub mod refresher;
pub mod reload;
pub mod rescue;
pub mod run;
pub mod serve;
pub mod shutdown;
pub mod silences;
pub mod simulate;
pub mod snapshot;
pub mod units;
pub mod wait;

pub use serve::{serve, serve_live};
