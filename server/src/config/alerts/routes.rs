//! `[[alerts.routes]]`: which sinks (and which Telegram chat) an alert goes to, by its worker,
//! host, worker kind or alert kind. The first route that matches wins; an alert no route matches
//! goes to every sink (a last route without match keys is the default route instead).

use pulseboard_shared::alert_kind::AlertKind;
use serde::Deserialize;

use crate::config::error::{invalid, ConfigError};

/// The sinks a route may name.
pub const SINKS: [&str; 2] = ["telegram", "webhook"];

/// One route, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// The worker it matches, if it asks.
    pub worker: Option<String>,
    /// The host.
    pub host: Option<String>,
    /// The worker kind (`render`).
    pub kind: Option<String>,
    /// The alert kind (`dead_letters`).
    pub alert: Option<AlertKind>,
    /// Where its alerts go (an empty list drops them: recorded in the event log only).
    pub sinks: Vec<String>,
    /// The Telegram chat instead of `[alerts.telegram] chat_id`.
    pub chat_id: Option<String>,
}

impl Route {
    /// Whether it covers an alert of `alert` kind about `worker` of `kind` on `host` (each key it
    /// sets must match; one it does not set matches anything).
    pub fn matches(
        &self,
        alert: AlertKind,
        worker: Option<&str>,
        kind: Option<&str>,
        host: Option<&str>,
    ) -> bool {
        let is = |want: &Option<String>, got: Option<&str>| {
            want.as_deref().is_none_or(|w| got == Some(w))
        };
        self.alert.is_none_or(|a| a == alert)
            && is(&self.worker, worker)
            && is(&self.kind, kind)
            && is(&self.host, host)
    }
}

/// `[[alerts.routes]]` in the TOML file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileRoute {
    worker: Option<String>,
    host: Option<String>,
    kind: Option<String>,
    alert: Option<String>,
    sinks: Option<Vec<String>>,
    chat_id: Option<String>,
}

/// Resolves the routes, naming the route and key of the first mistake.
pub fn resolve(file: Vec<FileRoute>) -> Result<Vec<Route>, ConfigError> {
    file.into_iter()
        .enumerate()
        .map(|(n, r)| {
            let key = |k: &str| format!("alerts.routes[{n}].{k}");
            let alert = match &r.alert {
                None => None,
                Some(name) => Some(
                    serde_json::from_value(serde_json::Value::String(name.clone())).map_err(
                        |_| invalid(key("alert"), format!("{name:?} is not an alert kind (down, dead_letters, ...; see docs/runbook.md)")),
                    )?,
                ),
            };
            let sinks = r.sinks.ok_or_else(|| {
                invalid(key("sinks"), "is required: [\"telegram\"], [\"webhook\"], both, or [] to only record")
            })?;
            if let Some(bad) = sinks.iter().find(|s| !SINKS.contains(&s.as_str())) {
                return Err(invalid(key("sinks"), format!("{bad:?} is not \"telegram\" or \"webhook\"")));
            }
            if r.chat_id.is_some() && !sinks.iter().any(|s| s == "telegram") {
                return Err(invalid(key("chat_id"), "is for Telegram: add \"telegram\" to sinks"));
            }
            Ok(Route {
                worker: r.worker,
                host: r.host,
                kind: r.kind,
                alert,
                sinks,
                chat_id: r.chat_id,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn routes(text: &str) -> Result<Vec<Route>, ConfigError> {
        #[derive(Deserialize)]
        struct F {
            routes: Vec<FileRoute>,
        }
        resolve(toml::from_str::<F>(text).unwrap().routes)
    }

    #[test]
    fn a_route_matches_every_key_it_sets() {
        let r = &routes("[[routes]]\nkind = \"render\"\nalert = \"down\"\nsinks = [\"webhook\"]")
            .unwrap()[0];
        assert!(r.matches(AlertKind::Down, Some("r0"), Some("render"), None));
        assert!(!r.matches(AlertKind::Recovered, Some("r0"), Some("render"), None));
        assert!(!r.matches(AlertKind::Down, Some("t0"), Some("trade"), None));
        let any = &routes("[[routes]]\nsinks = []").unwrap()[0];
        assert!(
            any.matches(AlertKind::RedisLost, None, None, None),
            "the default route"
        );
    }

    #[test]
    fn mistakes_name_the_route_and_key() {
        let cases = [
            (
                "[[routes]]\nalert = \"exploded\"\nsinks = []",
                "alerts.routes[0].alert",
            ),
            ("[[routes]]\nworker = \"w\"", "alerts.routes[0].sinks"),
            (
                "[[routes]]\nsinks = []\n[[routes]]\nsinks = [\"email\"]",
                "alerts.routes[1].sinks",
            ),
            (
                "[[routes]]\nsinks = [\"webhook\"]\nchat_id = \"1\"",
                "alerts.routes[0].chat_id",
            ),
        ];
        for (text, key) in cases {
            let err = routes(text).unwrap_err().to_string();
            assert!(err.contains(key), "{text:?}: {err}");
        }
    }
}
