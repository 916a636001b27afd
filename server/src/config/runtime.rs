//! The `[runtime]` section: what each worker should run, so drift is caught (seed 004: "make the
//! runtime path contracts explicit, validated and drift-detectable").
//!
//! ```toml
//! [runtime.render]                # every render worker
//! version = "1.4.2"
//! executable = "/opt/render/bin/render"
//! [runtime.workers.ai_trade]      # one worker, over its kind's
//! config_hash = "sha256:9f2c..."
//! ```
//! A field nobody configures is expected to be what most workers of the kind report.

use std::collections::BTreeMap;

use pulseboard_shared::drift::Expected;
use pulseboard_shared::nodes::{WorkerKind, WorkerStatus};
use serde::Deserialize;

use super::error::{invalid, ConfigError};

/// `[runtime]`, resolved.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuntimeSettings {
    /// Per worker kind.
    pub kinds: BTreeMap<&'static str, Expected>,
    /// Per worker, its kind's fields filled in where it says nothing.
    pub workers: BTreeMap<String, Expected>,
}

impl RuntimeSettings {
    /// What is configured for `w`, if anything.
    pub fn expected(&self, w: &WorkerStatus) -> Option<&Expected> {
        self.workers
            .get(&w.name)
            .or_else(|| self.kinds.get(w.kind.as_str()))
    }
}

/// One expectation in the TOML file.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileExpected {
    version: Option<String>,
    executable: Option<String>,
    config_hash: Option<String>,
}

/// `[runtime]` in the TOML file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileRuntime {
    render: Option<FileExpected>,
    watcher: Option<FileExpected>,
    trader: Option<FileExpected>,
    #[serde(default)]
    workers: BTreeMap<String, FileExpected>,
}

fn check(key: &str, e: FileExpected) -> Result<Expected, ConfigError> {
    for (field, value) in [
        ("version", &e.version),
        ("executable", &e.executable),
        ("config_hash", &e.config_hash),
    ] {
        if value
            .as_ref()
            .is_some_and(|v| v.trim().is_empty() || v.len() > 512)
        {
            return Err(invalid(format!("{key}.{field}"), "must be 1 to 512 bytes"));
        }
    }
    if e.executable.as_ref().is_some_and(|p| !p.starts_with('/')) {
        return Err(invalid(
            format!("{key}.executable"),
            "must be an absolute path (/opt/app/bin/app)",
        ));
    }
    Ok(Expected {
        version: e.version,
        executable: e.executable,
        config_hash: e.config_hash,
    })
}

/// Resolves `[runtime]`; `kind_of` names a configured worker's kind.
pub(super) fn resolve(
    file: Option<FileRuntime>,
    kind_of: impl Fn(&str) -> Option<WorkerKind>,
) -> Result<RuntimeSettings, ConfigError> {
    let file = file.unwrap_or_default();
    let mut kinds = BTreeMap::new();
    for (kind, e) in [
        (WorkerKind::Render, file.render),
        (WorkerKind::Watcher, file.watcher),
        (WorkerKind::Trader, file.trader),
    ] {
        if let Some(e) = e {
            kinds.insert(
                kind.as_str(),
                check(&format!("runtime.{}", kind.as_str()), e)?,
            );
        }
    }
    let mut workers = BTreeMap::new();
    for (name, e) in file.workers {
        let key = format!("runtime.workers.{name}");
        let Some(kind) = kind_of(&name) else {
            return Err(invalid(&key, "names no worker of [[workers]]"));
        };
        let mut own = check(&key, e)?;
        if let Some(k) = kinds.get(kind.as_str()) {
            let k: &Expected = k;
            own.version = own.version.or_else(|| k.version.clone());
            own.executable = own.executable.or_else(|| k.executable.clone());
            own.config_hash = own.config_hash.or_else(|| k.config_hash.clone());
        }
        workers.insert(name, own);
    }
    Ok(RuntimeSettings { kinds, workers })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<RuntimeSettings, ConfigError> {
        resolve(Some(toml::from_str(text).unwrap()), |name| {
            (name == "r0").then_some(WorkerKind::Render)
        })
    }

    #[test]
    fn a_worker_takes_its_kinds_fields_where_it_says_nothing() {
        let s = parse(
            "[render]\nversion = \"2\"\nexecutable = \"/opt/r\"\n[workers.r0]\nversion = \"3\"",
        )
        .unwrap();
        let mut w = WorkerStatus::new("r0", WorkerKind::Render);
        let e = s.expected(&w).unwrap();
        assert_eq!(
            (e.version.as_deref(), e.executable.as_deref()),
            (Some("3"), Some("/opt/r"))
        );
        w.name = "r1".into();
        assert_eq!(s.expected(&w).unwrap().version.as_deref(), Some("2"));
        w.kind = WorkerKind::Trader;
        assert!(s.expected(&w).is_none());
    }

    #[test]
    fn mistakes_name_their_key() {
        for (text, key) in [
            (
                "[render]\nexecutable = \"bin/r\"",
                "runtime.render.executable",
            ),
            (
                "[workers.nobody]\nversion = \"1\"",
                "runtime.workers.nobody",
            ),
            ("[trader]\nversion = \" \"", "runtime.trader.version"),
        ] {
            let err = parse(text).unwrap_err().to_string();
            assert!(err.contains(key), "{text:?}: {err}");
        }
    }
}
