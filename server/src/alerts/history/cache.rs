//! The newest page of the event log, read from Redis at most once per refresh however many
//! viewers ask: the timeline is public, so a request must not cost a Redis round trip. An append
//! by this process (an admin action, an alert, the guard) makes the next read fresh. Only a
//! page older than the newest [`MAX_LIMIT`] entries goes to Redis, and at most
//! [`DEEP_READS`] such reads at once.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{Mutex, Semaphore};

use super::{page, Entry, MAX_LIMIT};
use crate::ledger::store::{Store, StoreError};

/// Concurrent reads of old pages at most; the others wait their turn.
pub const DEEP_READS: usize = 2;

/// The newest entries and when they were read.
#[derive(Default)]
struct Newest {
    read_at: Option<Instant>,
    /// This process's appends to the log when it was read.
    written: u64,
    /// Newest first, at most [`MAX_LIMIT`].
    entries: Arc<Vec<Entry>>,
}

/// The event log's reader with its cache of the newest entries.
pub struct Cached {
    store: Store,
    fresh_for: Duration,
    newest: Mutex<Newest>,
    deep: Semaphore,
}

impl Cached {
    /// Reads `store`'s log, the newest entries at most once per `fresh_for` (the refresh).
    pub fn new(store: Store, fresh_for: Duration) -> Self {
        Self {
            store,
            fresh_for,
            newest: Mutex::new(Newest::default()),
            deep: Semaphore::new(DEEP_READS),
        }
    }

    /// Up to `limit` entries older than `before` (or the newest), newest first, and the
    /// `before` of the next page if there may be one.
    pub async fn page(
        &self,
        limit: usize,
        before: Option<&str>,
    ) -> Result<(Vec<Entry>, Option<String>), StoreError> {
        let newest = self.newest().await?;
        if let Some(found) = from_newest(&newest, limit, before) {
            return Ok(found);
        }
        let _turn = self.deep.acquire().await.expect("never closed");
        page(&self.store, limit, before).await
    }

    /// The newest entries, read again when older than a refresh or after this process wrote to
    /// the log (one reader; the others wait
    /// for its answer rather than ask Redis too).
    async fn newest(&self) -> Result<Arc<Vec<Entry>>, StoreError> {
        let mut newest = self.newest.lock().await;
        let written = self.store.events_written.load(Ordering::Relaxed);
        let fresh = newest
            .read_at
            .is_some_and(|at| at.elapsed() < self.fresh_for);
        if fresh && newest.written == written {
            return Ok(newest.entries.clone());
        }
        let (entries, _) = page(&self.store, MAX_LIMIT, None).await?;
        *newest = Newest {
            read_at: Some(Instant::now()),
            written,
            entries: Arc::new(entries),
        };
        Ok(newest.entries.clone())
    }
}

/// The page from the newest entries, when they hold it: all of it, or the log's end.
fn from_newest(
    newest: &[Entry],
    limit: usize,
    before: Option<&str>,
) -> Option<(Vec<Entry>, Option<String>)> {
    let start = match before {
        None => 0,
        Some(before) => {
            let before = id_key(before)?;
            newest
                .iter()
                .position(|e| id_key(&e.id).is_some_and(|id| id < before))
                .unwrap_or(newest.len())
        }
    };
    let whole_log = newest.len() < MAX_LIMIT;
    let rest = &newest[start..];
    if rest.len() < limit && !whole_log {
        return None; // older than the cache holds
    }
    let events: Vec<Entry> = rest.iter().take(limit).cloned().collect();
    let next = (events.len() == limit).then(|| events.last().map(|e| e.id.clone()));
    Some((events, next.flatten()))
}

/// A stream id (`1700000000000-0`) as a pair that orders as Redis does.
fn id_key(id: &str) -> Option<(u64, u64)> {
    let (ms, seq) = id.split_once('-')?;
    Some((ms.parse().ok()?, seq.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::super::{Record, RecordKind};
    use super::*;

    fn entries(n: u64) -> Vec<Entry> {
        // Newest first: ids n..1.
        (1..=n)
            .rev()
            .map(|i| Entry {
                id: format!("{}-0", 1000 + i),
                record: Record {
                    at: "2026-12-02T00:00:00Z".into(),
                    kind: RecordKind::Delivered,
                    alert_id: format!("a-{i}"),
                    alert: None,
                    sink: None,
                    attempt: None,
                    error: None,
                    worker: None,
                    command: None,
                    recovery: None,
                    dead_letters: None,
                    rescue: None,
                },
            })
            .collect()
    }

    fn ids(page: &[Entry]) -> Vec<&str> {
        page.iter().map(|e| e.id.as_str()).collect()
    }

    #[test]
    fn pages_of_a_short_log_come_from_the_cache_to_its_end() {
        let log = entries(5);
        let (first, next) = from_newest(&log, 2, None).unwrap();
        assert_eq!(ids(&first), ["1005-0", "1004-0"]);
        assert_eq!(next.as_deref(), Some("1004-0"));
        let (second, next) = from_newest(&log, 2, next.as_deref()).unwrap();
        assert_eq!(ids(&second), ["1003-0", "1002-0"]);
        let (last, next) = from_newest(&log, 2, next.as_deref()).unwrap();
        assert_eq!(ids(&last), ["1001-0"]);
        assert_eq!(next, None, "the end of the log");
        // An id between entries (one trimmed away meanwhile) still pages by order.
        let (page, _) = from_newest(&log, 1, Some("1003-5")).unwrap();
        assert_eq!(ids(&page), ["1003-0"]);
    }

    #[test]
    fn a_page_older_than_a_full_cache_goes_to_redis() {
        let log = entries(MAX_LIMIT as u64);
        assert!(from_newest(&log, 50, None).is_some());
        let last_in_cache = log[MAX_LIMIT - 10].id.clone();
        assert!(
            from_newest(&log, 50, Some(&last_in_cache)).is_none(),
            "only 9 cached entries are older: the rest is in Redis"
        );
    }
}
