//! The event log as Redis keeps it: a capped stream of JSON records, one field `record` per
//! entry. Here is how entries are appended and read back; what a record holds is the event-log
//! record type, which the alerts serve at `GET /api/agent-office/events`.

use redis::Value;
use serde::Serialize;

use super::store::{Store, StoreError};

/// Appends `records` in order, in one round trip, keeping about `max` entries.
pub async fn append<R: Serialize>(
    store: &Store,
    records: &[R],
    max: u64,
) -> Result<(), StoreError> {
    if records.is_empty() {
        return Ok(());
    }
    let mut conn = store.conn().await?;
    let mut pipe = redis::pipe();
    for record in records {
        pipe.cmd("XADD")
            .arg(store.keys.events())
            .arg("MAXLEN")
            .arg("~")
            .arg(max)
            .arg("*")
            .arg("record")
            .arg(serde_json::to_string(record).expect("records serialise"))
            .ignore();
    }
    pipe.query_async::<()>(&mut conn).await?;
    store
        .events_written
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    Ok(())
}

/// The entries of an `XRANGE` / `XREVRANGE` reply: each id with its `field`, if it has one.
pub fn stream_entries(reply: Value, field: &str) -> Vec<(String, Option<String>)> {
    let Value::Array(entries) = reply else {
        return vec![];
    };
    entries
        .into_iter()
        .filter_map(|entry| {
            let Value::Array(parts) = entry else {
                return None;
            };
            let [id, fields] = parts.as_slice() else {
                return None;
            };
            let id = redis::from_redis_value::<String>(id).ok()?;
            let fields: Vec<String> = redis::from_redis_value(fields).unwrap_or_default();
            let value = fields
                .chunks(2)
                .find(|kv| kv[0] == field)
                .and_then(|kv| kv.get(1).cloned());
            Some((id, value))
        })
        .collect()
}
