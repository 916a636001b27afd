//! What pulseboard may ask of a worker that still beats: a per-worker list in Redis
//! (`worker:<name>:commands`) that the worker reads on every beat (the way Sidekiq's Quiet and
//! Stop buttons reach a process). A command names an action, never a program to run.
//!
//! - `quiet`: take no new jobs (finish the current one, keep beating).
//! - `restart`: drain, then exit with [`RESTART_EXIT_CODE`] so the supervisor starts it again
//!   (the worker never restarts itself).
//! - `stop`: drain, then exit 0 with a final `stopped` beat (a clean stop, not a crash).

use serde::{Deserialize, Serialize};

/// The exit code of a worker leaving because a restart was asked for: `EX_TEMPFAIL` (75), which
/// `Restart=on-failure` (systemd), `KeepAlive` (launchd) and `restart: on-failure` (Docker) all
/// restart; `RestartForceExitStatus=75` makes systemd restart it under any `Restart=` setting.
pub const RESTART_EXIT_CODE: i32 = 75;

/// How many commands a worker takes per beat at most (the rest wait for the next one).
pub const COMMANDS_PER_BEAT: usize = 8;

/// The Redis list a worker reads its commands from.
pub fn commands_key(worker: &str) -> String {
    format!("worker:{worker}:commands")
}

/// What a worker is asked to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Action {
    /// Take no new jobs.
    Quiet,
    /// Drain, then exit for the supervisor to restart it.
    Restart,
    /// Drain, then stop cleanly.
    Stop,
}

impl Action {
    /// A stable spelling (logs, the API's paths).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Quiet => "quiet",
            Self::Restart => "restart",
            Self::Stop => "stop",
        }
    }

    /// Which of two wishes wins: stop over restart over quiet (a later quiet never cancels a
    /// restart that is under way).
    pub fn stronger(self, other: Self) -> Self {
        let rank = |a: Self| match a {
            Self::Quiet => 0,
            Self::Restart => 1,
            Self::Stop => 2,
        };
        if rank(other) > rank(self) {
            other
        } else {
            self
        }
    }
}

/// One command, as pushed to a worker's list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Command {
    /// Unique id, for the audit trail.
    pub id: String,
    /// What to do.
    pub action: Action,
    /// Who asked: an admin token's name, or `auto` (the guard).
    pub by: String,
    /// When, UTC ISO 8601.
    pub at: String,
}

/// Why an entry of a command list is not a command.
#[derive(Debug)]
pub enum CommandError {
    /// Not JSON of a command (garbage, a field too many, a program to run).
    NotACommand(serde_json::Error),
    /// Its id is empty or longer than 64 characters.
    BadId,
}

impl std::fmt::Display for CommandError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NotACommand(e) => write!(f, "not a command: {e}"),
            Self::BadId => f.write_str("a command's id must be 1 to 64 characters"),
        }
    }
}

impl std::error::Error for CommandError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::NotACommand(e) => Some(e),
            Self::BadId => None,
        }
    }
}

impl Command {
    /// Reads one entry of a command list; anything else (garbage, a field too many, a program
    /// to run) is refused with why.
    pub fn parse(text: &str) -> Result<Self, CommandError> {
        let command: Self = serde_json::from_str(text).map_err(CommandError::NotACommand)?;
        if command.id.is_empty() || command.id.len() > 64 {
            return Err(CommandError::BadId);
        }
        Ok(command)
    }

    /// The command as its list stores it.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a command serialises")
    }

    /// What a worker obeying it says in its beat's `reason`: "restart asked by ops (c-17)".
    pub fn reason(&self) -> String {
        format!(
            "{} asked by {} ({})",
            self.action.as_str(),
            self.by,
            self.id
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_round_trip_and_anything_else_is_refused() {
        let c = Command {
            id: "c-17".into(),
            action: Action::Restart,
            by: "ops".into(),
            at: "2026-12-01T00:00:00Z".into(),
        };
        assert_eq!(Command::parse(&c.to_json()).unwrap(), c.clone());
        assert_eq!(c.reason(), "restart asked by ops (c-17)");
        for bad in [
            "",
            "restart",
            r#"{"id":"x","action":"reboot","by":"a","at":"t"}"#,
            r#"{"id":"x","action":"restart","by":"a","at":"t","argv":["rm","-rf","/"]}"#,
            r#"{"id":"","action":"stop","by":"a","at":"t"}"#,
        ] {
            assert!(Command::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn stop_outranks_restart_outranks_quiet() {
        use Action::*;
        assert_eq!(Quiet.stronger(Restart), Restart);
        assert_eq!(Restart.stronger(Quiet), Restart);
        assert_eq!(Restart.stronger(Stop), Stop);
        assert_eq!(Stop.stronger(Quiet), Stop);
        assert_eq!(commands_key("gpu-1"), "worker:gpu-1:commands");
    }
}
