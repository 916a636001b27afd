//! Runtime drift: the program a worker runs is not the one it should. Each live worker's declared
//! `version`, `executable` and `config_hash` are compared with what is expected of it: the
//! configured `[runtime]` for its name or kind, else what most workers of its kind report (ten
//! render workers, one on an old build: that one drifts). Paths are compared after lexical
//! normalisation (`/bin/../usr/bin/sleep` is `/usr/bin/sleep`; symlinks are resolved on the
//! worker's host, where they exist), so the same file by another path is no drift. The data;
//! the judgement is in the `runtime` module.

use serde::{Deserialize, Serialize};

/// A field that can drift.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum DriftField {
    /// `version`.
    Version,
    /// `executable` (compared normalised).
    Executable,
    /// `config_hash`.
    ConfigHash,
}

impl DriftField {
    /// Every field, in the order they are shown.
    pub const ALL: [Self; 3] = [Self::Version, Self::Executable, Self::ConfigHash];

    /// Its name in contract 1 and in `[runtime]`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Version => "version",
            Self::Executable => "executable",
            Self::ConfigHash => "config_hash",
        }
    }
}

/// One field of contract 2's `workers[].drift`: what was expected and what the worker runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Drift {
    /// Which field.
    pub field: DriftField,
    /// What was expected (configured, or what most of its kind run).
    pub expected: String,
    /// What it reports.
    pub actual: String,
    /// Whether the expectation is the majority of its kind (not configured).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub by_majority: bool,
}

/// What `[runtime]` expects of a worker (each field optional).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expected {
    /// Its version.
    pub version: Option<String>,
    /// Its program's path.
    pub executable: Option<String>,
    /// Its configuration's digest.
    pub config_hash: Option<String>,
}

impl Expected {
    /// The value expected of `field`, if configured.
    pub fn get(&self, field: DriftField) -> Option<&str> {
        match field {
            DriftField::Version => self.version.as_deref(),
            DriftField::Executable => self.executable.as_deref(),
            DriftField::ConfigHash => self.config_hash.as_deref(),
        }
    }
}

/// `path` with `.` and `..` resolved and repeated `/` dropped, without touching any file system.
pub fn normalise(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    let joined = parts.join("/");
    if path.starts_with('/') {
        format!("/{joined}")
    } else {
        joined
    }
}
