//! What aggregation keeps from one refresh to the next.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use pulseboard_shared::HeartbeatRead;

use super::Watched;

/// Per worker: when its last heartbeat was written, and what its last heartbeat's bytes read as.
#[derive(Debug, Default)]
pub struct BeatMemory {
    /// When each worker's last heartbeat was written, as last seen; kept so a dead worker can
    /// still say how long ago it beat.
    written: HashMap<String, DateTime<Utc>>,
    /// Each worker's last heartbeat bytes and their reading. Between two beats a worker's key
    /// reads the same bytes at every refresh (14 of 15 refreshes at the seed's 15 s beat), and
    /// parsing them again was the largest part of judging 10,000 workers.
    /// Shared, not copied: a reading is handed on at every refresh.
    parsed: HashMap<String, (Vec<u8>, Arc<HeartbeatRead>)>,
}

impl BeatMemory {
    /// Nothing remembered yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Where a part's beat is remembered: its worker's name and its own, split by a character
    /// no name may hold, so it never meets a worker's name.
    pub fn part_key(name: &str, part: &str) -> String {
        format!("{name}\u{1}{part}")
    }

    /// What `bytes`, `name`'s heartbeat, read as: parsed only when they changed.
    pub fn read(&mut self, name: &str, bytes: &[u8]) -> Arc<HeartbeatRead> {
        match self.parsed.get_mut(name) {
            Some((seen, read)) if seen.as_slice() == bytes => read.clone(),
            Some((seen, read)) => {
                *read = Arc::new(HeartbeatRead::parse(bytes));
                seen.clear();
                seen.extend_from_slice(bytes);
                read.clone()
            }
            None => {
                let read = Arc::new(HeartbeatRead::parse(bytes));
                self.parsed
                    .insert(name.to_owned(), (bytes.to_vec(), read.clone()));
                read
            }
        }
    }

    /// `name`'s heartbeat was written at `ts`.
    pub fn wrote(&mut self, name: &str, ts: DateTime<Utc>) {
        match self.written.get_mut(name) {
            Some(at) => *at = ts,
            None => {
                self.written.insert(name.to_owned(), ts);
            }
        }
    }

    /// When `name`'s last heartbeat seen was written.
    pub fn written(&self, name: &str) -> Option<DateTime<Utc>> {
        self.written.get(name).copied()
    }

    /// Forgets the readings and write times of workers (and parts) not in `watched` (a stranger
    /// whose key is gone and who is no longer shown), when there are more than `watched` has
    /// beats: a fleet whose unregistered workers come and go keeps a bounded memory.
    pub fn keep_readings_of(&mut self, watched: &[Watched]) {
        let n = watched.iter().map(|w| w.parts.len().max(1)).sum();
        if self.parsed.len() > n || self.written.len() > n {
            let parts: Vec<String> = watched
                .iter()
                .flat_map(|w| w.parts.iter().map(|p| Self::part_key(&w.name, p)))
                .collect();
            let watched: HashSet<&str> = watched
                .iter()
                .map(|w| w.name.as_str())
                .chain(parts.iter().map(String::as_str))
                .collect();
            self.parsed
                .retain(|name, _| watched.contains(name.as_str()));
            self.written
                .retain(|name, _| watched.contains(name.as_str()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reading_follows_the_bytes_and_strangers_are_forgotten() {
        let mut memory = BeatMemory::new();
        let busy = br#"{"name":"a","state":"busy"}"#;
        let idle = br#"{"name":"a","state":"idle"}"#;
        assert_eq!(memory.read("a", busy).state.as_deref(), Some("busy"));
        assert_eq!(memory.read("a", busy).state.as_deref(), Some("busy"));
        assert_eq!(memory.read("a", idle).state.as_deref(), Some("idle"));
        assert!(memory.read("b", b"garbage").error.is_some());
        let at = Utc::now();
        memory.wrote("a", at);
        memory.wrote("b", at);
        let watched = |name: &str| Watched {
            name: name.into(),
            kind: None,
            host: None,
            queue: None,
            pulls_from: String::new(),
            rules: Default::default(),
            parts: vec![],
            part_down: Default::default(),
        };
        memory.keep_readings_of(&[watched("a")]);
        assert_eq!(memory.parsed.keys().collect::<Vec<_>>(), ["a"]);
        assert_eq!((memory.written("a"), memory.written("b")), (Some(at), None));
    }
}
