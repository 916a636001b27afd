//! `[alerts.telegram]`: where Telegram messages go, who may press their buttons, and whether
//! their presses are polled (`getUpdates`, the default) or POSTed to pulseboard (`webhook_url`).

use serde::Deserialize;

use super::{http_url, AlertOverrides, Secret};
use crate::config::error::{invalid, ConfigError};

/// Telegram Bot API: `sendMessage`, and with `allowed_user_ids` the buttons under down, failed,
/// unhealthy and stalled alerts (read by `getUpdates`, or received by `webhook`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TelegramSettings {
    /// The bot token (`123:ABC`).
    pub bot_token: Secret,
    /// The chat to write to.
    pub chat_id: String,
    /// The API's base URL, `https://api.telegram.org` unless pointed elsewhere (tests).
    pub api_url: String,
    /// The Telegram users whose button presses count (anyone else is answered "not allowed").
    /// Empty: messages carry no buttons and nobody's presses are read.
    pub allowed_user_ids: Vec<i64>,
    /// Presses come by webhook to this server instead of `getUpdates` long polling.
    pub webhook: Option<PressWebhook>,
}

/// Webhook mode: Telegram POSTs each press to `url`, with `secret` in a header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PressWebhook {
    /// The public URL Telegram posts to (this server's `/api/agent-office/telegram/presses`).
    pub url: String,
    /// Telegram's `secret_token`, sent back in `X-Telegram-Bot-Api-Secret-Token` with every
    /// update: the proof that a POST comes from Telegram.
    pub secret: Secret,
}

/// The longest `webhook_url` taken.
const MAX_URL: usize = 2048;

impl TelegramSettings {
    /// Whether messages carry buttons (and presses are read): someone is allowed to press.
    pub fn buttons(&self) -> bool {
        !self.allowed_user_ids.is_empty()
    }
}

/// `[alerts.telegram]` in the TOML file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileTelegram {
    bot_token: Option<String>,
    chat_id: Option<String>,
    api_url: Option<String>,
    allowed_user_ids: Option<Vec<i64>>,
    webhook_url: Option<String>,
    webhook_secret: Option<String>,
}

/// Resolves `[alerts.telegram]` with the environment on top: none when neither a token nor a
/// chat is set, an error naming the missing one when only one is.
pub fn resolve(
    file: FileTelegram,
    env: &AlertOverrides,
) -> Result<Option<TelegramSettings>, ConfigError> {
    let token = env.telegram_bot_token.clone().or(file.bot_token);
    let chat = env.telegram_chat_id.clone().or(file.chat_id);
    let api_url = env
        .telegram_api_url
        .clone()
        .or(file.api_url)
        .unwrap_or_else(|| "https://api.telegram.org".to_owned());
    http_url("alerts.telegram.api_url", &api_url)?;
    let allowed_user_ids = match &env.telegram_allowed_users {
        Some(list) => list
            .split(',')
            .map(str::trim)
            .filter(|id| !id.is_empty())
            .map(|id| {
                id.parse::<i64>().map_err(|_| {
                    invalid(
                        "alerts.telegram.allowed_user_ids",
                        format!("PULSEBOARD_TELEGRAM_ALLOWED_USERS: {id:?} is not a Telegram user id (a number)"),
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()?,
        None => file.allowed_user_ids.unwrap_or_default(),
    };
    let secret = env.telegram_webhook_secret.clone().or(file.webhook_secret);
    let webhook = press_webhook(file.webhook_url, secret, &allowed_user_ids)?;
    match (token, chat) {
        (Some(token), Some(chat_id)) => Ok(Some(TelegramSettings {
            bot_token: Secret::new(token),
            chat_id,
            api_url: api_url.trim_end_matches('/').to_owned(),
            allowed_user_ids,
            webhook,
        })),
        (None, None) if webhook.is_some() => Err(invalid(
            "alerts.telegram.webhook_url",
            "is set but no bot (set TELEGRAM_BOT_TOKEN and TELEGRAM_CHAT_ID, or bot_token and chat_id)",
        )),
        (None, None) => Ok(None),
        (Some(_), None) => Err(invalid(
            "alerts.telegram.chat_id",
            "a bot token is set but no chat id (set TELEGRAM_CHAT_ID or alerts.telegram.chat_id)",
        )),
        (None, Some(_)) => Err(invalid(
            "alerts.telegram.bot_token",
            "a chat id is set but no bot token (set TELEGRAM_BOT_TOKEN or alerts.telegram.bot_token)",
        )),
    }
}

/// Webhook mode from `webhook_url` and its secret: both or neither, and only when someone may
/// press (without `allowed_user_ids` messages carry no buttons, so nothing would come).
fn press_webhook(
    url: Option<String>,
    secret: Option<String>,
    allowed_user_ids: &[i64],
) -> Result<Option<PressWebhook>, ConfigError> {
    const URL: &str = "alerts.telegram.webhook_url";
    const SECRET: &str = "alerts.telegram.webhook_secret";
    let Some(url) = url else {
        return match secret {
            Some(_) => Err(invalid(
                URL,
                "webhook_secret is set but no webhook_url: set both for webhook mode, or neither \
                 to read presses with getUpdates",
            )),
            None => Ok(None),
        };
    };
    check_webhook_url(&url)?;
    if allowed_user_ids.is_empty() {
        return Err(invalid(
            URL,
            "needs allowed_user_ids: without anyone allowed to press, messages carry no buttons",
        ));
    }
    let Some(secret) = secret else {
        return Err(invalid(
            SECRET,
            "webhook_url is set but no secret (set PULSEBOARD_TELEGRAM_WEBHOOK_SECRET or \
             alerts.telegram.webhook_secret; make one with `openssl rand -hex 32`)",
        ));
    };
    // Telegram's own rule for secret_token; the value is never echoed.
    let ok = (1..=256).contains(&secret.len())
        && secret
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if !ok {
        return Err(invalid(
            SECRET,
            "must be 1 to 256 characters of A-Z, a-z, 0-9, _ and - (Telegram's secret_token)",
        ));
    }
    Ok(Some(PressWebhook {
        url,
        secret: Secret::new(secret),
    }))
}

/// Telegram posts only to https URLs; plain http is taken for a loopback host alone (tests, or a
/// local Bot API server on the same machine).
fn check_webhook_url(url: &str) -> Result<(), ConfigError> {
    const KEY: &str = "alerts.telegram.webhook_url";
    if url.len() > MAX_URL {
        return Err(invalid(KEY, format!("is over {MAX_URL} characters")));
    }
    let parsed =
        reqwest::Url::parse(url).map_err(|e| invalid(KEY, format!("is not a URL ({e})")))?;
    let Some(host) = parsed.host_str() else {
        return Err(invalid(KEY, "has no host"));
    };
    let loopback = host == "localhost"
        || (host.trim_matches(['[', ']']).parse::<std::net::IpAddr>())
            .is_ok_and(|ip| ip.is_loopback());
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        _ => Err(invalid(
            KEY,
            "must be an https:// URL (Telegram posts to nothing else; http:// only to a loopback host)",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A bot and a chat from the environment.
    fn env_bot() -> AlertOverrides {
        AlertOverrides {
            telegram_bot_token: Some("t".into()),
            telegram_chat_id: Some("1".into()),
            ..Default::default()
        }
    }

    fn env(users: &str) -> AlertOverrides {
        AlertOverrides {
            telegram_allowed_users: Some(users.into()),
            ..env_bot()
        }
    }

    #[test]
    fn allowed_users_come_from_the_environment_first_and_must_be_numbers() {
        let file: FileTelegram = toml::from_str("allowed_user_ids = [9]").unwrap();
        let t = resolve(file, &env("7, 8,")).unwrap().unwrap();
        assert_eq!(t.allowed_user_ids, [7, 8]);
        assert!(t.buttons());
        let err = resolve(FileTelegram::default(), &env("7,@bob")).unwrap_err();
        assert!(
            err.to_string().contains("alerts.telegram.allowed_user_ids"),
            "{err}"
        );
    }

    fn file(text: &str) -> FileTelegram {
        toml::from_str(text).unwrap()
    }

    const URL: &str =
        "webhook_url = \"https://board.example.com/api/agent-office/telegram/presses\"";

    #[test]
    fn webhook_mode_needs_allowed_users_and_a_secret_and_names_the_key() {
        let bot = env_bot();
        let refused =
            |text: &str, env: &AlertOverrides| resolve(file(text), env).unwrap_err().to_string();
        let err = refused(&format!("{URL}\nwebhook_secret = \"s3cret\""), &bot);
        assert!(
            err.contains("alerts.telegram.webhook_url") && err.contains("allowed_user_ids"),
            "{err}"
        );
        let err = refused(&format!("{URL}\nallowed_user_ids = [7]"), &bot);
        assert!(err.contains("alerts.telegram.webhook_secret"), "{err}");
        let err = refused("webhook_secret = \"s3cret\"\nallowed_user_ids = [7]", &bot);
        assert!(err.contains("alerts.telegram.webhook_url"), "{err}");
        let no_bot = AlertOverrides {
            telegram_webhook_secret: Some("s3cret".into()),
            ..Default::default()
        };
        let err = refused(&format!("{URL}\nallowed_user_ids = [7]"), &no_bot);
        assert!(err.contains("alerts.telegram.webhook_url"), "{err}");

        // The environment's secret, hidden when printed.
        let env = AlertOverrides {
            telegram_webhook_secret: Some("from-env_0123".into()),
            ..bot.clone()
        };
        let t = resolve(file(&format!("{URL}\nallowed_user_ids = [7]")), &env)
            .unwrap()
            .unwrap();
        let hook = t.webhook.as_ref().unwrap();
        assert_eq!(hook.secret.expose(), "from-env_0123");
        assert!(hook.url.ends_with("/api/agent-office/telegram/presses"));
        assert!(!format!("{t:?}").contains("from-env"), "{t:?}");
        let polling = resolve(file("allowed_user_ids = [7]"), &bot)
            .unwrap()
            .unwrap();
        assert_eq!(polling.webhook, None);
    }

    #[test]
    fn the_secret_is_telegrams_charset_and_the_url_https_unless_loopback() {
        let bot = env_bot();
        let with = |url: &str, secret: &str| {
            let text = format!(
                "webhook_url = {url:?}\nwebhook_secret = {secret:?}\nallowed_user_ids = [7]"
            );
            resolve(file(&text), &bot).map(|t| t.unwrap().webhook.unwrap())
        };
        let https = "https://board.example.com/api/agent-office/telegram/presses";
        assert!(with(https, "Az09_-").is_ok());
        assert!(with(https, &"a".repeat(256)).is_ok());
        for bad in ["", "has space", "semi;colon", "ünï", &"a".repeat(257)] {
            let err = with(https, bad).unwrap_err().to_string();
            assert!(
                err.contains("alerts.telegram.webhook_secret"),
                "{bad:?}: {err}"
            );
            assert!(err.contains("A-Z, a-z, 0-9"), "{err}");
            if bad.len() > 3 {
                assert!(!err.contains(bad), "the secret is never echoed: {err}");
            }
        }
        for ok in [
            "http://127.0.0.1:8080/api/agent-office/telegram/presses",
            "http://localhost/p",
            "http://[::1]:88/p",
        ] {
            assert!(with(ok, "s").is_ok(), "{ok}");
        }
        for bad in [
            "http://board.example.com/p",
            "ftp://board.example.com/p",
            "board.example.com/p",
            "https://",
        ] {
            let err = with(bad, "s").unwrap_err().to_string();
            assert!(err.contains("alerts.telegram.webhook_url"), "{bad}: {err}");
        }
    }
}
