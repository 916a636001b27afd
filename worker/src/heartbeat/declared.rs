//! What a worker declares beside its phase: the consumers it runs (contract 1 `consumers`:
//! pulseboard then knows which in-flight lists are in use and which are leftovers it may
//! rescue), and the end of a reason that no longer holds.

use super::Handle;

impl Handle {
    /// Declares consumer `id` (the last segment of its in-flight list,
    /// `processing:<queue>:<id>`) from the next beat on; the queue's `declare_on`
    /// does it for a queue. An id pulseboard cannot read (spaces, `:`) is left out by the server.
    pub fn declare_consumer(&self, id: &str) {
        self.update(
            |b| {
                let ids = b.declared.consumers.get_or_insert_with(Vec::new);
                if !ids.iter().any(|known| known == id) {
                    ids.push(id.to_owned());
                }
            },
            true,
        );
    }

    /// Drops the reason from the next beat on (a final beat then says only its exit code).
    pub fn clear_reason(&self) {
        self.update(|b| b.declared.reason = None, false);
    }
}
