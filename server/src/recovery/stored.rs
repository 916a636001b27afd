//! The guard's memory as Redis keeps it: one JSON value at
//! [`Keys::recovery`](crate::ledger::store::Keys::recovery), holding only the workers with
//! something to remember, and where the agents' results were read up to.

use std::collections::BTreeMap;

use pulseboard_shared::recovery::Memory;
use serde::{Deserialize, Serialize};

/// The stored value.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Stored {
    /// Per worker, what the guard remembers (workers with nothing to remember are left out).
    pub workers: BTreeMap<String, Memory>,
    /// The last entry of the agents' results stream already read (`0` before any).
    pub results_cursor: String,
}

impl Stored {
    /// Reads the stored bytes; missing or unreadable bytes (logged) give an empty memory, so a
    /// bad value costs the guard its past, never its function.
    pub fn parse(bytes: Option<&[u8]>) -> Self {
        let Some(bytes) = bytes else {
            return Self::default();
        };
        serde_json::from_slice(bytes).unwrap_or_else(|e| {
            tracing::warn!(error = %e, "recovery: stored memory is unreadable; starting afresh");
            Self::default()
        })
    }

    /// The value to store.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("the guard's memory serialises")
    }

    /// Sets `worker`'s memory, leaving out an empty one.
    pub fn set(&mut self, worker: &str, memory: Memory) {
        if memory.is_empty() {
            self.workers.remove(worker);
        } else {
            self.workers.insert(worker.to_owned(), memory);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_gives_an_empty_memory_and_empty_memories_are_left_out() {
        assert_eq!(Stored::parse(Some(b"{nope")), Stored::default());
        assert_eq!(Stored::parse(None), Stored::default());
        let mut s = Stored::default();
        s.set(
            "a",
            Memory {
                attempts: vec![1],
                ..Memory::default()
            },
        );
        s.set("b", Memory::default());
        assert_eq!(s.workers.len(), 1);
        assert_eq!(Stored::parse(Some(s.to_json().as_bytes())), s);
    }
}
