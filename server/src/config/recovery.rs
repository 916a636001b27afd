//! The `[recovery]` section: what the recovery guard may do, when, and how often (see
//! [`pulseboard_shared::recovery`] for the rules and why the defaults are what they are).
//!
//! ```toml
//! [recovery]
//! mode = "recommend"            # off | recommend | auto
//! triggers = { down = 60, failed = 0, stalled = 0, unhealthy = 120, late = 60 }
//! backoff_start_s = 30
//! backoff_max_s = 600
//! max_attempts = 3
//! window_s = 1800
//! healthy_reset_s = 600
//! answer_timeout_s = 300
//! modes_by_kind = { render = "auto" }
//! modes_by_worker = { "video-render" = "off" }
//! ```

use std::collections::BTreeMap;

use pulseboard_shared::recovery::{Mode, Policy, Trigger};
use pulseboard_shared::LifecycleState;
use serde::Deserialize;

use super::error::{invalid, ConfigError};

/// The guard's settings, resolved.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RecoverySettings {
    /// The policy of every worker, but for its mode.
    pub policy: Policy,
    /// A kind's own mode.
    pub modes_by_kind: BTreeMap<String, Mode>,
    /// A worker's own mode (over its kind's).
    pub modes_by_worker: BTreeMap<String, Mode>,
}

impl RecoverySettings {
    /// The policy for worker `name` of `kind`.
    pub fn policy_for(&self, name: &str, kind: &str) -> Policy {
        let mode = self
            .modes_by_worker
            .get(name)
            .or_else(|| self.modes_by_kind.get(kind))
            .copied()
            .unwrap_or(self.policy.mode);
        Policy {
            mode,
            ..self.policy.clone()
        }
    }
}

/// `[recovery]` in the TOML file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileRecovery {
    mode: Option<String>,
    triggers: Option<BTreeMap<String, u64>>,
    backoff_start_s: Option<u64>,
    backoff_max_s: Option<u64>,
    max_attempts: Option<u32>,
    window_s: Option<u64>,
    healthy_reset_s: Option<u64>,
    answer_timeout_s: Option<u64>,
    modes_by_kind: Option<BTreeMap<String, String>>,
    modes_by_worker: Option<BTreeMap<String, String>>,
}

fn mode(key: String, text: &str) -> Result<Mode, ConfigError> {
    Mode::parse(text).ok_or_else(|| invalid(key, "must be off, recommend or auto"))
}

/// Resolves `[recovery]` over the defaults.
pub(super) fn resolve(file: Option<FileRecovery>) -> Result<RecoverySettings, ConfigError> {
    let file = file.unwrap_or_default();
    let d = Policy::default();
    let mut policy = Policy {
        mode: match &file.mode {
            Some(m) => mode("recovery.mode".into(), m)?,
            None => d.mode,
        },
        triggers: d.triggers.clone(),
        backoff_start_s: file.backoff_start_s.unwrap_or(d.backoff_start_s),
        backoff_max_s: file.backoff_max_s.unwrap_or(d.backoff_max_s),
        max_attempts: file.max_attempts.unwrap_or(d.max_attempts),
        window_s: file.window_s.unwrap_or(d.window_s),
        healthy_reset_s: file.healthy_reset_s.unwrap_or(d.healthy_reset_s),
        answer_timeout_s: file.answer_timeout_s.unwrap_or(d.answer_timeout_s),
    };
    if let Some(triggers) = file.triggers {
        policy.triggers = triggers
            .into_iter()
            .map(|(state, after_s)| {
                let parsed: Option<LifecycleState> =
                    serde_json::from_value(serde_json::Value::String(state.clone())).ok();
                match parsed {
                    Some(s @ (LifecycleState::Down
                    | LifecycleState::Failed
                    | LifecycleState::Stalled
                    | LifecycleState::Unhealthy
                    | LifecycleState::Late)) => Ok(Trigger { state: s, after_s }),
                    _ => Err(invalid(
                        format!("recovery.triggers.{state}"),
                        "is not a state that calls for a restart (down, failed, stalled, unhealthy, late)",
                    )),
                }
            })
            .collect::<Result<_, _>>()?;
    }
    for (key, value) in [
        ("recovery.backoff_start_s", policy.backoff_start_s),
        ("recovery.backoff_max_s", policy.backoff_max_s),
        ("recovery.max_attempts", u64::from(policy.max_attempts)),
        ("recovery.window_s", policy.window_s),
        ("recovery.answer_timeout_s", policy.answer_timeout_s),
    ] {
        if value == 0 {
            return Err(invalid(key, "must be at least 1"));
        }
    }
    if policy.backoff_max_s < policy.backoff_start_s {
        return Err(invalid(
            "recovery.backoff_max_s",
            "must be at least backoff_start_s",
        ));
    }
    let modes = |table: Option<BTreeMap<String, String>>, section: &str| {
        table
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| Ok((k.clone(), mode(format!("recovery.{section}.{k}"), &v)?)))
            .collect::<Result<BTreeMap<_, _>, ConfigError>>()
    };
    Ok(RecoverySettings {
        policy,
        modes_by_kind: modes(file.modes_by_kind, "modes_by_kind")?,
        modes_by_worker: modes(file.modes_by_worker, "modes_by_worker")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<RecoverySettings, ConfigError> {
        resolve(Some(toml::from_str(text).expect("valid TOML")))
    }

    #[test]
    fn recommend_by_default_and_modes_by_kind_then_worker() {
        let s = parse("").unwrap();
        assert_eq!(s.policy, Policy::default());
        assert_eq!(s.policy_for("render-1", "render").mode, Mode::Recommend);
        let s = parse(
            "mode = \"off\"\nmodes_by_kind = { render = \"auto\" }\nmodes_by_worker = { \"render-2\" = \"recommend\" }\ntriggers = { stalled = 5 }",
        )
        .unwrap();
        assert_eq!(s.policy_for("render-1", "render").mode, Mode::Auto);
        assert_eq!(s.policy_for("render-2", "render").mode, Mode::Recommend);
        assert_eq!(s.policy_for("trader", "trader").mode, Mode::Off);
        assert_eq!(s.policy.triggers.len(), 1);
    }

    #[test]
    fn bad_values_name_their_key() {
        for (text, key) in [
            ("mode = \"sometimes\"", "recovery.mode"),
            ("triggers = { ready = 5 }", "recovery.triggers.ready"),
            ("max_attempts = 0", "recovery.max_attempts"),
            ("backoff_max_s = 5", "recovery.backoff_max_s"),
            (
                "modes_by_kind = { render = \"yes\" }",
                "recovery.modes_by_kind.render",
            ),
        ] {
            let err = parse(text).unwrap_err().to_string();
            assert!(err.contains(key), "{text}: {err}");
        }
    }
}
