//! `[alerts.telegram]`: where Telegram messages go, and who may press their buttons.

use serde::Deserialize;

use super::{http_url, AlertOverrides, Secret};
use crate::config::error::{invalid, ConfigError};

/// Telegram Bot API: `sendMessage`, and with `allowed_user_ids` the buttons under down, failed,
/// unhealthy and stalled alerts (read by `getUpdates`).
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
}

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
    match (token, chat) {
        (Some(token), Some(chat_id)) => Ok(Some(TelegramSettings {
            bot_token: Secret::new(token),
            chat_id,
            api_url: api_url.trim_end_matches('/').to_owned(),
            allowed_user_ids,
        })),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn env(users: &str) -> AlertOverrides {
        AlertOverrides {
            telegram_bot_token: Some("t".into()),
            telegram_chat_id: Some("1".into()),
            telegram_allowed_users: Some(users.into()),
            ..Default::default()
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
}
