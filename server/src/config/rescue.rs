//! The `[rescue]` section: what happens to jobs left in the in-flight list of a consumer that is
//! gone (see `pulseboard_shared::rescue`).

use std::collections::BTreeMap;

use pulseboard_shared::rescue::RescueMode;
use serde::Deserialize;

use super::error::{invalid, ConfigError};

/// `[rescue]`, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RescueSettings {
    /// `auto` (jobs go back on their queue), `recommend` (reported only) or `off`.
    pub mode: RescueMode,
    /// The mode of the workers of a kind, over `mode`.
    pub modes_by_kind: BTreeMap<String, RescueMode>,
    /// The mode of one worker, over its kind's.
    pub modes_by_worker: BTreeMap<String, RescueMode>,
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
            modes_by_kind: BTreeMap::new(),
            modes_by_worker: BTreeMap::new(),
            after_s: 30,
            max_rescues: 2,
            window_s: 86_400,
        }
    }
}

impl RescueSettings {
    /// The mode for worker `name` of `kind`: its own, else its kind's, else `mode`.
    pub fn mode_for(&self, name: &str, kind: &str) -> RescueMode {
        self.modes_by_worker
            .get(name)
            .or_else(|| self.modes_by_kind.get(kind))
            .copied()
            .unwrap_or(self.mode)
    }

    /// Whether no worker's mode looks at anything.
    pub fn all_off(&self) -> bool {
        self.mode == RescueMode::Off
            && self.modes_by_kind.values().all(|m| *m == RescueMode::Off)
            && self.modes_by_worker.values().all(|m| *m == RescueMode::Off)
    }
}

/// `[rescue]` in the TOML file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileRescue {
    mode: Option<String>,
    modes_by_kind: Option<BTreeMap<String, String>>,
    modes_by_worker: Option<BTreeMap<String, String>>,
    after_s: Option<u64>,
    max_rescues: Option<u32>,
    window_s: Option<u64>,
}

/// Resolves `[rescue]` over the defaults.
pub(super) fn resolve(file: Option<FileRescue>) -> Result<RescueSettings, ConfigError> {
    let file = file.unwrap_or_default();
    let defaults = RescueSettings::default();
    let parse = |key: String, text: &str| {
        RescueMode::parse(text)
            .ok_or_else(|| invalid(&key, format!("{text:?} is not auto, recommend or off")))
    };
    let mode = match file.mode.as_deref() {
        None => defaults.mode,
        Some(text) => parse("rescue.mode".into(), text)?,
    };
    let modes = |table: Option<BTreeMap<String, String>>, what: &str| {
        table
            .unwrap_or_default()
            .into_iter()
            .map(|(name, text)| {
                let mode = parse(format!("rescue.{what}.{name}"), &text)?;
                Ok((name, mode))
            })
            .collect::<Result<BTreeMap<_, _>, ConfigError>>()
    };
    let window_s = file.window_s.unwrap_or(defaults.window_s);
    if window_s == 0 {
        return Err(invalid("rescue.window_s", "must be at least 1"));
    }
    Ok(RescueSettings {
        mode,
        modes_by_kind: modes(file.modes_by_kind, "modes_by_kind")?,
        modes_by_worker: modes(file.modes_by_worker, "modes_by_worker")?,
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
        let file: FileRescue = toml::from_str(
            "mode = \"off\"\nmodes_by_kind = { render = \"auto\" }\nmodes_by_worker = { r2 = \"recommend\" }",
        )
        .unwrap();
        let s = resolve(Some(file)).unwrap();
        assert_eq!(s.mode_for("r1", "render"), RescueMode::Auto);
        assert_eq!(s.mode_for("r2", "render"), RescueMode::Recommend);
        assert_eq!(s.mode_for("t", "trader"), RescueMode::Off);
        assert!(!s.all_off());
        let file: FileRescue = toml::from_str("modes_by_worker = { r2 = \"maybe\" }").unwrap();
        let err = resolve(Some(file)).unwrap_err().to_string();
        assert!(err.contains("rescue.modes_by_worker.r2"), "{err}");
        let file: FileRescue = toml::from_str("mode = \"sometimes\"").unwrap();
        let err = resolve(Some(file)).unwrap_err().to_string();
        assert!(err.contains("rescue.mode"), "{err}");
    }
}
