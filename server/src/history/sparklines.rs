//! `GET /api/agent-office/history/sparklines`: the last hour of the workers a page has on screen,
//! in one request and one Redis round trip, two numbers a step (jobs done, queue depth) on one
//! grid of steps, so a list scrolled through 10,000 workers asks only for the rows it shows.

use std::collections::HashSet;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use pulseboard_shared::answer::ApiError;
use pulseboard_shared::history::Sparklines;
use serde::Deserialize;

use super::{read, refuse, HistoryState};

/// The most workers one request may name: a screen of rows or cards, with room to spare.
pub const MAX_WORKERS: usize = 100;

/// `?workers=a b c&minutes=60`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct Ask {
    /// The workers, separated by spaces (a worker's name holds none), at most 100.
    pub workers: String,
    /// The last this many minutes (fine points), 1 to what is kept (default 60).
    pub minutes: Option<u64>,
}

/// Jobs done and queue depth of several workers, a slot a minute, oldest first. Workers not in
/// the fleet, or with no point yet, are left out.
#[utoipa::path(get, path = "/api/agent-office/history/sparklines", tag = "fleet",
    params(Ask),
    responses(
        (status = 200, description = "The workers' slots on one grid", body = Sparklines),
        (status = 400, description = "No worker, more than 100, or minutes out of range", body = ApiError),
        (status = 503, description = "Redis cannot be read", body = ApiError),
    ))]
pub(crate) async fn sparklines(
    State(state): State<HistoryState>,
    Query(ask): Query<Ask>,
) -> Response {
    let s = &state.settings;
    let minutes = ask.minutes.unwrap_or(60);
    if minutes == 0 || minutes > s.keep_fine {
        let words = format!("ask for 1 to {} minutes", s.keep_fine);
        return refuse(StatusCode::BAD_REQUEST, words);
    }
    // Bounded before anything else looks at them: the count first, then each name.
    let asked: Vec<&str> = ask
        .workers
        .split_whitespace()
        .take(MAX_WORKERS + 1)
        .collect();
    if asked.is_empty() || asked.len() > MAX_WORKERS {
        let words = format!("name 1 to {MAX_WORKERS} workers, separated by spaces");
        return refuse(StatusCode::BAD_REQUEST, words);
    }
    let wanted: HashSet<&str> = asked.iter().copied().collect();
    let snapshot = state.hub.latest();
    let mut names: Vec<&str> = snapshot
        .nodes
        .workers
        .iter()
        .filter_map(|w| wanted.get(w.name.as_str()).copied())
        .collect();
    // In the order asked.
    names.sort_by_key(|n| asked.iter().position(|a| a == n));
    let keys: Vec<String> = names
        .iter()
        .map(|n| state.store.keys.history(true, Some(n)))
        .collect();
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    match read(&state.store, &keys, minutes).await {
        Ok(series) => {
            let series = names.iter().map(|n| (*n).to_owned()).zip(series).collect();
            let slots = usize::try_from(minutes).unwrap_or(usize::MAX);
            Json(Sparklines::on_grid(s.step_s, slots, series)).into_response()
        }
        Err(answer) => answer,
    }
}
