//! What a worker declares beside its phase: the consumers it runs (contract 1 `consumers`:
//! pulseboard then knows which in-flight lists are in use and which are leftovers it may
//! rescue), the program it runs (contract 1 `executable`, for drift), its idle state, and the
//! end of a reason that no longer holds.

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

/// The state a kind is in when it does nothing.
pub(super) fn idle_state(kind: &str) -> &'static str {
    match kind {
        "watcher" => "free",
        "trader" => "market_closed",
        _ => "idle",
    }
}

/// This process's program: absolute, symlinks resolved (what `executable` says by default).
pub(super) fn own_executable() -> Option<String> {
    let path = std::env::current_exe().ok()?;
    let path = std::fs::canonicalize(&path).unwrap_or(path);
    path.to_str().map(str::to_owned)
}

/// `program` as the system would run it: found on `PATH` when it has no `/`, then made absolute
/// with symlinks resolved, so the same file named two ways is one path (`pulseboard run` declares
/// it as the wrapped program's `executable`). `None` when it cannot be found.
pub fn resolve_program(program: &str) -> Option<String> {
    let path = std::path::Path::new(program);
    let found = if program.contains('/') {
        Some(path.to_path_buf())
    } else {
        let dirs = std::env::var_os("PATH")?;
        std::env::split_paths(&dirs)
            .map(|dir| dir.join(program))
            .find(|candidate| candidate.is_file())
    }?;
    std::fs::canonicalize(found)
        .ok()?
        .to_str()
        .map(str::to_owned)
}
