//! The `[lifecycle]` section: how long a worker may start, and how long one job may run before
//! the worker counts as stalled, per kind.

use std::collections::BTreeMap;

use pulseboard_shared::lifecycle::LifecycleRules;
use pulseboard_shared::WorkerKind;
use serde::Deserialize;

use super::error::{invalid, ConfigError};

/// Lifecycle limits, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LifecycleSettings {
    /// Seconds a worker may say `starting` before it has failed to start.
    pub ready_timeout_s: u64,
    /// Seconds one job may run before its worker is stalled, for kinds without their own limit;
    /// `None`: never.
    pub stall_after_s: Option<u64>,
    /// Per-kind limits (`render = 1800`).
    pub stall_after_s_by_kind: BTreeMap<String, u64>,
}

impl Default for LifecycleSettings {
    fn default() -> Self {
        Self {
            ready_timeout_s: LifecycleRules::default().ready_timeout_s,
            // An hour on one job is stuck for most job queues; long renders set their own.
            stall_after_s: Some(3600),
            stall_after_s_by_kind: BTreeMap::new(),
        }
    }
}

impl LifecycleSettings {
    /// The rules for a worker of `kind` (unknown for unregistered workers).
    pub fn rules_for(&self, kind: Option<WorkerKind>) -> LifecycleRules {
        let own = kind.and_then(|k| self.stall_after_s_by_kind.get(k.as_str()));
        let stall_after_s = match own {
            Some(0) => None,
            Some(s) => Some(*s),
            None => self.stall_after_s,
        };
        LifecycleRules {
            ready_timeout_s: self.ready_timeout_s,
            stall_after_s,
        }
    }
}

/// `[lifecycle]` in the TOML file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileLifecycle {
    ready_timeout_s: Option<u64>,
    /// 0 turns stall detection off.
    stall_after_s: Option<u64>,
    stall_after_s_by_kind: Option<BTreeMap<String, u64>>,
}

/// Resolves `[lifecycle]` over the defaults.
pub(super) fn resolve(file: Option<FileLifecycle>) -> Result<LifecycleSettings, ConfigError> {
    let file = file.unwrap_or_default();
    let defaults = LifecycleSettings::default();
    let ready_timeout_s = file.ready_timeout_s.unwrap_or(defaults.ready_timeout_s);
    if ready_timeout_s == 0 {
        return Err(invalid("lifecycle.ready_timeout_s", "must be at least 1"));
    }
    let by_kind = file.stall_after_s_by_kind.unwrap_or_default();
    for kind in by_kind.keys() {
        if WorkerKind::parse(kind) == WorkerKind::Unknown {
            return Err(invalid(
                format!("lifecycle.stall_after_s_by_kind.{kind}"),
                "is not a kind (render, watcher, trader)",
            ));
        }
    }
    Ok(LifecycleSettings {
        ready_timeout_s,
        stall_after_s: match file.stall_after_s {
            Some(0) => None,
            Some(s) => Some(s),
            None => defaults.stall_after_s,
        },
        stall_after_s_by_kind: by_kind,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<LifecycleSettings, ConfigError> {
        resolve(Some(toml::from_str(text).expect("valid TOML")))
    }

    #[test]
    fn kinds_can_have_their_own_stall_limit_or_none() {
        let s =
            parse("stall_after_s = 600\nstall_after_s_by_kind = { render = 7200, watcher = 0 }")
                .unwrap();
        assert_eq!(
            s.rules_for(Some(WorkerKind::Render)).stall_after_s,
            Some(7200)
        );
        assert_eq!(s.rules_for(Some(WorkerKind::Watcher)).stall_after_s, None);
        assert_eq!(
            s.rules_for(Some(WorkerKind::Trader)).stall_after_s,
            Some(600)
        );
        assert_eq!(s.rules_for(None).stall_after_s, Some(600));
        assert_eq!(parse("stall_after_s = 0").unwrap().stall_after_s, None);
    }

    #[test]
    fn bad_values_name_their_key() {
        let err = parse("ready_timeout_s = 0").unwrap_err().to_string();
        assert!(err.contains("lifecycle.ready_timeout_s"), "{err}");
        let err = parse("stall_after_s_by_kind = { gpu = 5 }")
            .unwrap_err()
            .to_string();
        assert!(err.contains("lifecycle.stall_after_s_by_kind.gpu"), "{err}");
    }
}
