//! A worker's dead letters as the API serves them (`GET .../workers/{name}/dead-letters`) and
//! what an operator may do with them (replay onto the queue, delete), shared by the server that
//! answers and the page that shows them.

use serde::{Deserialize, Serialize};

/// How many dead letters one page may list at most (`limit` is clamped to it).
pub const MAX_PAGE: u64 = 100;
/// A preview shows at most this many bytes of a payload.
pub const PREVIEW_BYTES: usize = 2048;
/// A payload up to this size is also served parsed (`json`); a longer one only as its preview.
pub const MAX_JSON_BYTES: usize = 16 * 1024;
/// How many ids one replay or delete may name at most.
pub const MAX_IDS: usize = 1000;

/// One page of a worker's dead letters, newest first (the list's head).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeadLetterPage {
    /// How many dead letters the worker has in all.
    pub total: u64,
    /// The page asked for.
    pub items: Vec<DeadLetter>,
}

/// One dead letter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeadLetter {
    /// Names the payload: the same for the same bytes, whatever its position (what replay and
    /// delete take).
    pub id: String,
    /// Its position in the list when read (0 = newest).
    pub index: u64,
    /// The payload's size in bytes.
    pub size: u64,
    /// The payload's start, at most [`PREVIEW_BYTES`]: pretty JSON when it parses, with the
    /// configured secret keys masked; else the text as it is.
    pub preview: String,
    /// The payload parsed, secrets masked, when it is JSON of at most [`MAX_JSON_BYTES`].
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub json: Option<serde_json::Value>,
}

/// Which dead letters a replay or delete takes: some by id, or all of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeadLetterChoice {
    /// Ids from a listing (every copy of each payload is taken).
    #[serde(default)]
    pub ids: Vec<String>,
    /// Everything in the list.
    #[serde(default)]
    pub all: bool,
}

/// What an operator did to dead letters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum DeadLetterAction {
    /// Moved back onto the worker's queue, to be taken next.
    Replay,
    /// Removed for good.
    Delete,
}

/// The answer to a replay or delete, and its record in the event log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeadLetterOutcome {
    /// What was done.
    pub action: DeadLetterAction,
    /// The worker whose dead letters they were.
    pub worker: String,
    /// How many jobs were moved or removed (copies of one payload count each).
    pub count: u64,
    /// The ids taken.
    pub ids: Vec<String>,
    /// The ids asked for that were not there (already replayed or deleted, by anyone).
    pub missing: Vec<String>,
    /// Who asked (the admin token's name).
    pub by: String,
}
