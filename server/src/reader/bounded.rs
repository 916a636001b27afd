//! Values read from Redis with a bound: `GETRANGE key 0 max` returns at most `max + 1` bytes, in
//! the same pipeline slot a `GET` took, so a 50 MB value costs one round trip and 64 KiB, not
//! 50 MB read and parsed every refresh. A value that reaches `max + 1` bytes is garbage: it is
//! reported as [`Bounded::TooLarge`] and never parsed. (`GETRANGE` of a missing key is `""`.)

use redis::Value;

/// Bytes kept of a heartbeat: a real beat is a few hundred bytes, a few KiB with every
/// lifecycle field a worker may declare; 64 KiB leaves room for any of those.
pub const MAX_HEARTBEAT_BYTES: usize = 64 * 1024;

/// Bytes kept of a host agent's beat: it lists the agent's allow-list, so 64 KiB holds more
/// than 500 worker names of the longest allowed length (100 bytes) and their JSON.
pub const MAX_AGENT_BEAT_BYTES: usize = 64 * 1024;

/// The guard's memory per worker: attempts in a window, the last action, a hold with its
/// reason (cut to 200 characters by the admin API) come to under 1 KiB; 2 KiB leaves room.
pub const GUARD_MEMORY_BYTES_PER_WORKER: usize = 2 * 1024;

/// The alerts' memory per worker: the state last judged and a few times (under 200 bytes), an
/// open page (its alert's first line, up to 300 characters of up to 4 bytes, and its context:
/// under 1.6 KiB) and a held alert (under 1 KiB); 4 KiB leaves room.
pub const ALERT_MEMORY_BYTES_PER_WORKER: usize = 4 * 1024;

/// The orphan rescue's memory per worker: an orphaned list (worker, consumer, key, jobs, since)
/// under 300 bytes, a batch under 100; a worker rarely has more than a couple of each.
pub const RESCUE_MEMORY_BYTES_PER_WORKER: usize = 1024;

/// The bound of a memory holding one entry per worker, for a fleet of `workers`: 64 KiB plus
/// `per_worker` each (20 MiB at 10,000 workers and 2 KiB each).
pub fn memory_bound(per_worker: usize, workers: usize) -> usize {
    per_worker.saturating_mul(workers).saturating_add(64 * 1024)
}

/// The bound of the guard's memory for a fleet of `workers`.
pub fn guard_memory_bound(workers: usize) -> usize {
    memory_bound(GUARD_MEMORY_BYTES_PER_WORKER, workers)
}

/// A key to read and the most bytes it may hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoundedKey {
    /// The key.
    pub key: String,
    /// The most bytes a sound value has.
    pub max: usize,
}

/// A value read with a bound.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bounded {
    /// Missing, empty, or unreadable (a key of another type).
    Absent,
    /// The whole value.
    Value(Vec<u8>),
    /// Longer than its bound: garbage, not parsed.
    TooLarge {
        /// The bound it broke.
        max: usize,
    },
}

impl Bounded {
    /// The bytes of a sound value.
    pub fn bytes(&self) -> Option<&[u8]> {
        match self {
            Self::Value(bytes) => Some(bytes),
            _ => None,
        }
    }

    /// The first `max` entries of a sound JSON array that parse as `T`; none when the value is
    /// absent, over its bound or not an array (an empty array is `{}` to Redis's Lua, so that is
    /// none too). Entries that do not parse are skipped.
    pub fn json_items<T: serde::de::DeserializeOwned>(&self, max: usize) -> Vec<T> {
        let Some(bytes) = self.bytes() else {
            return Vec::new();
        };
        let Ok(entries) = serde_json::from_slice::<Vec<serde_json::Value>>(bytes) else {
            return Vec::new();
        };
        entries
            .into_iter()
            .filter_map(|v| serde_json::from_value(v).ok())
            .take(max)
            .collect()
    }
}

/// Adds `GETRANGE key 0 max` to `pipe`: one byte more than a sound value may hold, which is how a
/// longer one is told.
pub fn get_bounded(pipe: &mut redis::Pipeline, key: &str, max: usize) {
    pipe.cmd("GETRANGE").arg(key).arg(0).arg(max);
}

/// Judges `reply` to [`get_bounded`] against `max`.
pub fn judge(reply: Value, max: usize) -> Bounded {
    match reply {
        Value::BulkString(bytes) if bytes.len() > max => Bounded::TooLarge { max },
        Value::BulkString(bytes) if !bytes.is_empty() => Bounded::Value(bytes),
        _ => Bounded::Absent,
    }
}

/// A bound in words, for an `error` (`64 KiB`).
pub fn describe(max: usize) -> String {
    if max.is_multiple_of(1024) {
        format!("{} KiB", max / 1024)
    } else {
        format!("{max} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_reaching_its_bound_is_garbage_and_a_missing_one_is_absent() {
        let bulk = |n: usize| Value::BulkString(vec![b'x'; n]);
        assert_eq!(judge(bulk(10), 10), Bounded::Value(vec![b'x'; 10]));
        assert_eq!(judge(bulk(11), 10), Bounded::TooLarge { max: 10 });
        assert_eq!(judge(bulk(0), 10), Bounded::Absent, "GETRANGE of no key");
        assert_eq!(judge(Value::Nil, 10), Bounded::Absent);
        assert_eq!(judge(bulk(11), 10).bytes(), None);
        assert_eq!(describe(MAX_HEARTBEAT_BYTES), "64 KiB");
        assert_eq!(describe(1000), "1000 bytes");
    }

    #[test]
    fn the_pipeline_asks_for_one_byte_more_than_the_bound() {
        let mut pipe = redis::pipe();
        get_bounded(&mut pipe, "k", 64);
        let packed = String::from_utf8(pipe.get_packed_pipeline()).unwrap();
        assert!(
            packed.contains("GETRANGE\r\n$1\r\nk\r\n$1\r\n0\r\n$2\r\n64\r\n"),
            "{packed}"
        );
    }

    #[test]
    fn the_guard_memory_grows_with_the_fleet() {
        assert_eq!(guard_memory_bound(0), 64 * 1024);
        assert_eq!(guard_memory_bound(10_000), 64 * 1024 + 20_000 * 1024);
        assert_eq!(guard_memory_bound(usize::MAX), usize::MAX);
    }
}
