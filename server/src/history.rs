//! Throughput over time: per worker and for the fleet, a point a minute for a day and a point an
//! hour for 30 days (`[history]`): jobs done and failed, queue depth, jobs in flight, dead
//! letters and seconds down. Written by the decider ([`writer`]) into Redis, so the series
//! survive restarts and every replica serves the same; read by `GET /api/agent-office/history`.
//!
//! In Redis a point is a line of about 25 bytes: a day of minutes is 37 KB per worker, 30 days
//! of hours 20 KB (`MEMORY USAGE` on Redis 7).

pub mod sparklines;
pub mod writer;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use pulseboard_shared::answer::ApiError;
use pulseboard_shared::history::{History, HistoryPoint};
use serde::Deserialize;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::config::history::HistorySettings;
use crate::config::Config;
use crate::ledger::lease::Lease;
use crate::ledger::read_only;
use crate::ledger::store::Store;
use crate::shutdown::Shutdown;
use crate::snapshot::Hub;

/// Starts the writer on `hub`'s snapshots, writing while this process holds `lease`.
pub fn start(
    store: Store,
    lease: Lease,
    hub: &Hub,
    configs: watch::Receiver<Config>,
    shutdown: Shutdown,
    tasks: &mut JoinSet<()>,
) {
    tasks.spawn(writer::run(
        store,
        lease,
        hub.subscribe(),
        configs,
        shutdown,
    ));
}

/// What the route needs.
#[derive(Clone)]
pub struct HistoryState {
    /// Where the series are.
    pub store: Store,
    /// How they are kept.
    pub settings: HistorySettings,
    /// The latest snapshot, to know the worker.
    pub hub: Hub,
}

/// The history route.
pub fn router(state: HistoryState) -> Router {
    Router::new()
        .route("/api/agent-office/history", get(history))
        .route(
            "/api/agent-office/history/sparklines",
            get(sparklines::sparklines),
        )
        .with_state(state)
}

/// `?worker=NAME&minutes=60` (or `&hours=24`).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct Ask {
    /// The worker; the whole fleet when absent.
    pub worker: Option<String>,
    /// The last this many minutes (fine points), 1 to what is kept (default 60).
    pub minutes: Option<u64>,
    /// The last this many hours (coarse points) instead, 1 to what is kept.
    pub hours: Option<u64>,
}

/// The newest ARGV[1] + 1 points of each of KEYS, each at most 160 bytes (a longer entry is not
/// a point: anyone who writes Redis can write it, so it is dropped before it is sent).
const READ: &str = r"
local out = {}
for i, key in ipairs(KEYS) do
  local points = {}
  for _, line in ipairs(redis.call('LRANGE', key, 0, tonumber(ARGV[1]))) do
    if #line <= 160 then table.insert(points, line) end
  end
  out[i] = points
end
return out
";

/// The newest `count` points of each series in `keys`, newest first, in one round trip (none
/// for no key); a 503 answer when Redis cannot be read.
async fn read(
    store: &Store,
    keys: &[&str],
    count: u64,
) -> Result<Vec<Vec<HistoryPoint>>, Response> {
    if keys.is_empty() {
        return Ok(vec![]);
    }
    let args = [count.saturating_sub(1).to_string()];
    let series: Result<Vec<Vec<String>>, crate::ledger::store::StoreError> = async {
        let mut conn = store.conn().await?;
        Ok(read_only::invoke(&mut conn, READ, keys, &args).await?)
    }
    .await;
    let series = series.map_err(|e| {
        let words = format!("cannot read the history: {e}");
        refuse(StatusCode::SERVICE_UNAVAILABLE, words)
    })?;
    let points = |lines: Vec<String>| {
        let points = lines.iter().filter_map(|l| HistoryPoint::from_line(l));
        points.collect()
    };
    Ok(series.into_iter().map(points).collect())
}

fn refuse(status: StatusCode, words: String) -> Response {
    (status, Json(ApiError::new(words))).into_response()
}

/// A worker's (or the fleet's) throughput, queue depth, jobs in flight, dead letters and
/// downtime, a point a step, oldest first.
#[utoipa::path(get, path = "/api/agent-office/history", tag = "fleet",
    params(Ask),
    responses(
        (status = 200, description = "The series, oldest first", body = History),
        (status = 400, description = "Both minutes and hours, or a count out of range", body = ApiError),
        (status = 404, description = "No such worker", body = ApiError),
        (status = 503, description = "Redis cannot be read", body = ApiError),
    ))]
pub(crate) async fn history(State(state): State<HistoryState>, Query(ask): Query<Ask>) -> Response {
    let s = &state.settings;
    let (fine, count, keep, step_s) = match (ask.minutes, ask.hours) {
        (Some(_), Some(_)) => {
            return refuse(StatusCode::BAD_REQUEST, "minutes or hours, not both".into())
        }
        (None, Some(h)) => (false, h, s.keep_coarse, s.step_s * writer::COARSE),
        (m, None) => (true, m.unwrap_or(60), s.keep_fine, s.step_s),
    };
    if count == 0 || count > keep {
        let words = format!("ask for 1 to {keep} points of {step_s} s");
        return refuse(StatusCode::BAD_REQUEST, words);
    }
    if let Some(name) = &ask.worker {
        let known = state
            .hub
            .latest()
            .nodes
            .workers
            .iter()
            .any(|w| &w.name == name);
        if !known {
            return refuse(StatusCode::NOT_FOUND, "no such worker".into());
        }
    }
    let key = state.store.keys.history(fine, ask.worker.as_deref());
    match read(&state.store, &[&key], count).await {
        Ok(series) => {
            let mut points = series.into_iter().next().unwrap_or_default();
            points.reverse();
            Json(History {
                worker: ask.worker,
                step_s,
                points,
            })
            .into_response()
        }
        Err(answer) => answer,
    }
}
