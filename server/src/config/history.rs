//! The `[history]` section: how finely and how long throughput is kept (the `history` module).

use serde::Deserialize;

use super::error::{invalid, ConfigError};

/// `[history]`, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistorySettings {
    /// Whether the decider writes it at all.
    pub enabled: bool,
    /// Seconds per fine point (a minute); a coarse point is 60 of them (an hour).
    pub step_s: u64,
    /// Fine points kept per series (a day of minutes).
    pub keep_fine: u64,
    /// Coarse points kept per series (30 days of hours).
    pub keep_coarse: u64,
}

impl Default for HistorySettings {
    fn default() -> Self {
        Self {
            enabled: true,
            step_s: 60,
            keep_fine: 1440,
            keep_coarse: 720,
        }
    }
}

/// `[history]` in the TOML file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileHistory {
    enabled: Option<bool>,
    step_s: Option<u64>,
    keep_minutes: Option<u64>,
    keep_hours: Option<u64>,
}

/// Resolves `[history]` over the defaults.
pub(super) fn resolve(file: Option<FileHistory>) -> Result<HistorySettings, ConfigError> {
    let file = file.unwrap_or_default();
    let d = HistorySettings::default();
    let step_s = file.step_s.unwrap_or(d.step_s);
    if !(1..=3600).contains(&step_s) {
        return Err(invalid("history.step_s", "must be 1 to 3600 seconds"));
    }
    let keep_fine = file.keep_minutes.unwrap_or(d.keep_fine);
    let keep_coarse = file.keep_hours.unwrap_or(d.keep_coarse);
    if !(1..=10_080).contains(&keep_fine) || !(1..=8_760).contains(&keep_coarse) {
        return Err(invalid(
            "history.keep_minutes",
            "keep_minutes must be 1 to 10080 and keep_hours 1 to 8760",
        ));
    }
    Ok(HistorySettings {
        enabled: file.enabled.unwrap_or(d.enabled),
        step_s,
        keep_fine,
        keep_coarse,
    })
}
