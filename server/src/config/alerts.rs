//! The `[alerts]` section of the config file, its environment variables, and what they resolve to.
//!
//! Secrets (the bot token, the Telegram webhook's secret, a webhook URL that carries its own
//! token) are held in [`Secret`], whose `Debug` prints `***`, so a logged or printed config never
//! shows them.

use std::time::Duration;

use serde::Deserialize;

use pulseboard_shared::heartbeat::HEARTBEAT_TTL_S;

use super::error::{invalid, ConfigError};

mod routes;
mod telegram;
pub use self::routes::{FileRoute, Route};
pub use self::telegram::{FileTelegram, PressWebhook, TelegramSettings};

/// A value that must never be printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps `value`.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

/// The language of alert messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Language {
    /// The seed's Korean.
    #[default]
    Korean,
    /// English.
    English,
}

/// A generic JSON webhook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookSettings {
    /// Where the event is POSTed; secret, since such URLs usually embed a token.
    pub url: Secret,
}

/// Alerting, resolved from all layers.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertSettings {
    /// Whether transitions are tracked at all (recorded in the event log, sent to the sinks).
    pub enabled: bool,
    /// The messages' language.
    pub language: Language,
    /// How long a configured worker may go without a heartbeat after start-up (or after Redis
    /// comes back) before it is reported dead: one heartbeat TTL by default.
    pub startup_grace: Duration,
    /// More than this many downs within `flap_window` is flapping.
    pub flap_max: u32,
    /// The flapping window; a flapping worker has settled when it has not gone down for this long.
    pub flap_window: Duration,
    /// How long a worker may be unhealthy (its own word or checks) before an alert.
    pub unhealthy_after: Duration,
    /// Down (and recovered) alerts of one host within this window are one incident: the first
    /// at once, one summary when it closes. Zero: every alert on its own.
    pub group_window: Duration,
    /// An alert that wants a person (down, failed to start, unhealthy, stalled, a host down),
    /// still true and not acknowledged this long after it was sent, is sent again. Zero: never.
    pub renotify_after: Duration,
    /// Whether an overdue beat (`late`) is alerted; by default it is only shown.
    pub alert_late: bool,
    /// Where the operator publishes `docs/runbook.md`: each alert then links its section
    /// (`<url>#down`), in its text and its JSON.
    pub runbook_url: Option<String>,
    /// The first retry's delay; it doubles on each failure.
    pub retry_initial: Duration,
    /// The longest delay between two retries.
    pub retry_max: Duration,
    /// An alert not delivered this long after it was raised is given up (and logged as such).
    pub give_up_after: Duration,
    /// How long the sender's lease lasts without renewal; another process takes over after it.
    pub lease: Duration,
    /// How many entries the event log keeps (approximately; Redis trims in whole nodes).
    pub history_max: u64,
    /// Which sinks (and Telegram chat) an alert goes to; first match wins, none: every sink.
    pub routes: Vec<Route>,
    /// Telegram, if configured.
    pub telegram: Option<TelegramSettings>,
    /// A webhook, if configured.
    pub webhook: Option<WebhookSettings>,
}

impl Default for AlertSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            language: Language::Korean,
            startup_grace: Duration::from_secs(HEARTBEAT_TTL_S),
            flap_max: 5,
            flap_window: Duration::from_secs(600),
            unhealthy_after: Duration::from_secs(60),
            group_window: Duration::from_secs(30),
            renotify_after: Duration::from_secs(4 * 3600),
            alert_late: false,
            runbook_url: None,
            retry_initial: Duration::from_secs(1),
            retry_max: Duration::from_secs(60),
            give_up_after: Duration::from_secs(24 * 3600),
            lease: Duration::from_secs(10),
            history_max: 1000,
            routes: Vec::new(),
            telegram: None,
            webhook: None,
        }
    }
}

impl AlertSettings {
    /// Whether any sink is configured (otherwise transitions are only recorded).
    pub fn has_sink(&self) -> bool {
        self.telegram.is_some() || self.webhook.is_some()
    }
}

/// `[alerts]` in the TOML file, every key optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileAlerts {
    enabled: Option<bool>,
    language: Option<String>,
    startup_grace_s: Option<u64>,
    flap_max: Option<u32>,
    flap_window_s: Option<u64>,
    unhealthy_after_s: Option<u64>,
    group_window_s: Option<u64>,
    renotify_after_s: Option<u64>,
    alert_late: Option<bool>,
    runbook_url: Option<String>,
    retry_initial_ms: Option<u64>,
    retry_max_ms: Option<u64>,
    give_up_after_s: Option<u64>,
    lease_ms: Option<u64>,
    history_max: Option<u64>,
    telegram: Option<FileTelegram>,
    webhook: Option<FileWebhook>,
    routes: Option<Vec<FileRoute>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileWebhook {
    url: Option<String>,
}

/// The environment's say on alerts (read by `main`, so tests can pass their own).
#[derive(Debug, Default, Clone)]
pub struct AlertOverrides {
    /// `TELEGRAM_BOT_TOKEN`.
    pub telegram_bot_token: Option<String>,
    /// `TELEGRAM_CHAT_ID`.
    pub telegram_chat_id: Option<String>,
    /// `PULSEBOARD_TELEGRAM_API_URL`.
    pub telegram_api_url: Option<String>,
    /// `PULSEBOARD_TELEGRAM_ALLOWED_USERS` (comma-separated user ids).
    pub telegram_allowed_users: Option<String>,
    /// `PULSEBOARD_TELEGRAM_WEBHOOK_SECRET` (Telegram's `secret_token` in webhook mode).
    pub telegram_webhook_secret: Option<String>,
    /// `PULSEBOARD_WEBHOOK_URL`.
    pub webhook_url: Option<String>,
    /// `PULSEBOARD_ALERTS_LANG` (`ko` or `en`).
    pub language: Option<String>,
}

impl AlertOverrides {
    /// Reads the variables above; empty ones count as unset.
    pub fn from_env() -> Self {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        Self {
            telegram_bot_token: var("TELEGRAM_BOT_TOKEN"),
            telegram_chat_id: var("TELEGRAM_CHAT_ID"),
            telegram_api_url: var("PULSEBOARD_TELEGRAM_API_URL"),
            telegram_allowed_users: var("PULSEBOARD_TELEGRAM_ALLOWED_USERS"),
            telegram_webhook_secret: var("PULSEBOARD_TELEGRAM_WEBHOOK_SECRET"),
            webhook_url: var("PULSEBOARD_WEBHOOK_URL"),
            language: var("PULSEBOARD_ALERTS_LANG"),
        }
    }
}

fn http_url(key: &str, url: &str) -> Result<(), ConfigError> {
    let ok = ["http://", "https://"]
        .iter()
        .any(|scheme| url.starts_with(scheme) && url.len() > scheme.len());
    if ok {
        Ok(())
    } else {
        // Not echoed: the URL may carry a token.
        Err(invalid(key, "must be an http:// or https:// URL"))
    }
}

/// Resolves `[alerts]` with the environment on top.
pub fn resolve(
    file: Option<FileAlerts>,
    env: &AlertOverrides,
) -> Result<AlertSettings, ConfigError> {
    let file = file.unwrap_or_default();
    let d = AlertSettings::default();
    let language = match env.language.clone().or(file.language).as_deref() {
        None | Some("ko") => Language::Korean,
        Some("en") => Language::English,
        Some(other) => {
            return Err(invalid(
                "alerts.language",
                format!("{other:?} is not \"ko\" or \"en\""),
            ))
        }
    };
    let ms = |v: Option<u64>, default: Duration| v.map_or(default, Duration::from_millis);
    let s = |v: Option<u64>, default: Duration| v.map_or(default, Duration::from_secs);
    let settings_flap_max = file.flap_max.unwrap_or(d.flap_max);
    if settings_flap_max == 0 {
        return Err(invalid("alerts.flap_max", "must be at least 1"));
    }
    let retry_initial = ms(file.retry_initial_ms, d.retry_initial);
    let retry_max = ms(file.retry_max_ms, d.retry_max);
    if retry_initial.is_zero() || retry_max < retry_initial {
        return Err(invalid(
            "alerts.retry_max_ms",
            "retries need 0 < retry_initial_ms <= retry_max_ms",
        ));
    }
    let lease = ms(file.lease_ms, d.lease);
    if lease < Duration::from_millis(300) {
        return Err(invalid("alerts.lease_ms", "must be at least 300"));
    }
    let flap_window = s(file.flap_window_s, d.flap_window);
    if flap_window.is_zero() {
        return Err(invalid("alerts.flap_window_s", "must be at least 1"));
    }
    let history_max = file.history_max.unwrap_or(d.history_max);
    if history_max == 0 {
        return Err(invalid("alerts.history_max", "must be at least 1"));
    }

    if let Some(url) = &file.runbook_url {
        http_url("alerts.runbook_url", url)?;
        if url.contains('#') {
            return Err(invalid(
                "alerts.runbook_url",
                "must have no #fragment: each alert adds its own section's",
            ));
        }
    }

    let telegram = telegram::resolve(file.telegram.unwrap_or_default(), env)?;
    let webhook = match env
        .webhook_url
        .clone()
        .or(file.webhook.unwrap_or_default().url)
    {
        Some(url) => {
            http_url("alerts.webhook.url", &url)?;
            Some(WebhookSettings {
                url: Secret::new(url),
            })
        }
        None => None,
    };
    Ok(AlertSettings {
        enabled: file.enabled.unwrap_or(d.enabled),
        language,
        startup_grace: s(file.startup_grace_s, d.startup_grace),
        flap_max: settings_flap_max,
        flap_window,
        unhealthy_after: s(file.unhealthy_after_s, d.unhealthy_after),
        group_window: s(file.group_window_s, d.group_window),
        renotify_after: s(file.renotify_after_s, d.renotify_after),
        alert_late: file.alert_late.unwrap_or(d.alert_late),
        runbook_url: file.runbook_url,
        retry_initial,
        retry_max,
        give_up_after: s(file.give_up_after_s, d.give_up_after),
        lease,
        history_max,
        routes: routes::resolve(file.routes.unwrap_or_default())?,
        telegram,
        webhook,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<AlertSettings, ConfigError> {
        let file: FileAlerts = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: "<text>".into(),
            message: e.to_string(),
        })?;
        resolve(Some(file), &AlertOverrides::default())
    }

    #[test]
    fn defaults_have_no_sink_and_one_ttl_of_grace() {
        let s = resolve(None, &AlertOverrides::default()).unwrap();
        assert!(!s.has_sink());
        assert_eq!(s.startup_grace, Duration::from_secs(45));
        assert_eq!(s.language, Language::Korean);
    }

    #[test]
    fn environment_wins_over_the_file_and_secrets_stay_hidden() {
        let file: FileAlerts = toml::from_str(
            "[telegram]\nbot_token = \"file-token\"\nchat_id = \"1\"\n[webhook]\nurl = \"http://hook/x\"",
        )
        .unwrap();
        let env = AlertOverrides {
            telegram_bot_token: Some("env-token".into()),
            telegram_api_url: Some("http://127.0.0.1:9/".into()),
            language: Some("en".into()),
            ..Default::default()
        };
        let s = resolve(Some(file), &env).unwrap();
        let t = s.telegram.as_ref().unwrap();
        assert_eq!(t.bot_token.expose(), "env-token");
        assert_eq!(t.api_url, "http://127.0.0.1:9");
        assert_eq!(s.language, Language::English);
        let printed = format!("{s:?}");
        assert!(
            !printed.contains("env-token") && !printed.contains("hook/x"),
            "{printed}"
        );
    }

    #[test]
    fn bad_values_name_their_key() {
        let cases = [
            ("language = \"fr\"", "alerts.language"),
            ("flap_max = 0", "alerts.flap_max"),
            ("lease_ms = 10", "alerts.lease_ms"),
            (
                "retry_initial_ms = 500\nretry_max_ms = 100",
                "alerts.retry_max_ms",
            ),
            ("[telegram]\nbot_token = \"t\"", "alerts.telegram.chat_id"),
            ("[telegram]\nchat_id = \"1\"", "alerts.telegram.bot_token"),
            ("[webhook]\nurl = \"ftp://x\"", "alerts.webhook.url"),
            ("runbook_url = \"docs/runbook.md\"", "alerts.runbook_url"),
            (
                "runbook_url = \"https://wiki/runbook#down\"",
                "alerts.runbook_url",
            ),
        ];
        for (text, key) in cases {
            let err = parse(text).unwrap_err().to_string();
            assert!(err.contains(key), "{text:?}: {err} should name {key}");
        }
        let err = parse("[telegram]\ntoken = \"t\"").unwrap_err().to_string();
        assert!(err.contains("token"), "{err}");
    }
}
