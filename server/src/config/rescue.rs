//! The `[rescue]` section: what happens to jobs left in the in-flight list of a consumer that is
//! gone (see `pulseboard_shared::rescue`).

use pulseboard_shared::rescue::RescueMode;
use serde::Deserialize;

use super::error::{invalid, ConfigError};

/// `[rescue]`, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RescueSettings {
    /// `auto` (jobs go back on their queue), `recommend` (reported only) or `off`.
    pub mode: RescueMode,
    /// How long a list must be orphaned, in a row, before its jobs move.
    pub after_s: u64,
    /// How often one job may be rescued within `window_s`; the next time it goes to the dead
    /// letters instead (a job that kills its consumer every time).
    pub max_rescues: u32,
    /// How long a job's rescues are counted.
    pub window_s: u64,
}

impl Default for RescueSettings {
    fn default() -> Self {
        Self {
            mode: RescueMode::Auto,
            after_s: 30,
            max_rescues: 2,
            window_s: 86_400,
        }
    }
}

/// `[rescue]` in the TOML file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileRescue {
    mode: Option<String>,
    after_s: Option<u64>,
    max_rescues: Option<u32>,
    window_s: Option<u64>,
}

/// Resolves `[rescue]` over the defaults.
pub(super) fn resolve(file: Option<FileRescue>) -> Result<RescueSettings, ConfigError> {
    let file = file.unwrap_or_default();
    let defaults = RescueSettings::default();
    let mode = match file.mode.as_deref() {
        None => defaults.mode,
        Some(text) => RescueMode::parse(text).ok_or_else(|| {
            invalid(
                "rescue.mode",
                format!("{text:?} is not auto, recommend or off"),
            )
        })?,
    };
    let window_s = file.window_s.unwrap_or(defaults.window_s);
    if window_s == 0 {
        return Err(invalid("rescue.window_s", "must be at least 1"));
    }
    Ok(RescueSettings {
        mode,
        after_s: file.after_s.unwrap_or(defaults.after_s),
        max_rescues: file.max_rescues.unwrap_or(defaults.max_rescues),
        window_s,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mode_must_be_named_right() {
        let file: FileRescue = toml::from_str("mode = \"recommend\"\nafter_s = 5").unwrap();
        let s = resolve(Some(file)).unwrap();
        assert_eq!(
            (s.mode, s.after_s, s.max_rescues),
            (RescueMode::Recommend, 5, 2)
        );
        let file: FileRescue = toml::from_str("mode = \"sometimes\"").unwrap();
        let err = resolve(Some(file)).unwrap_err().to_string();
        assert!(err.contains("rescue.mode"), "{err}");
    }
}
