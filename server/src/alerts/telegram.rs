//! The Telegram Bot API beyond `sendMessage`: the buttons under an alert that wants a person,
//! and what reading their presses needs (`getUpdates` long polling or `setWebhook`,
//! `answerCallbackQuery`, `editMessageText`). Replies are read with a bound; errors never carry
//! the bot token.

use std::time::Duration;

use serde::Deserialize;
use serde_json::{json, Value};

use super::alert::Alert;
use super::sinks::SendError;
use crate::config::alerts::{Language, PressWebhook, TelegramSettings};

/// The most bytes of a `getUpdates` reply read (at most [`BATCH`] updates of a few KiB each).
const MAX_REPLY: usize = 1 << 20;
/// Updates asked for at once.
const BATCH: u32 = 20;

/// What a button does, as its `callback_data` says (`ack:<id>`, `mute:<id>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Button {
    /// Acknowledge the alert.
    Ack,
    /// Acknowledge it and silence its workers for an hour.
    Mute,
    /// Restart its worker (through the admin API's path), when the admin API is on.
    Restart,
}

impl Button {
    fn prefix(self) -> &'static str {
        match self {
            Self::Ack => "ack:",
            Self::Mute => "mute:",
            Self::Restart => "restart:",
        }
    }

    fn label(self, language: Language) -> &'static str {
        match (self, language) {
            (Self::Ack, Language::English) => "✅ Acknowledge",
            (Self::Ack, Language::Korean) => "✅ 확인",
            (Self::Mute, Language::English) => "🔕 Silence 1 h",
            (Self::Mute, Language::Korean) => "🔕 1시간 무음",
            (Self::Restart, Language::English) => "🔄 Restart",
            (Self::Restart, Language::Korean) => "🔄 재시작",
        }
    }

    /// The button and the alert id a `callback_data` names, if it is one of ours.
    pub fn parse(data: &str) -> Option<(Self, &str)> {
        [Self::Ack, Self::Mute, Self::Restart]
            .into_iter()
            .find_map(|b| data.strip_prefix(b.prefix()).map(|id| (b, id)))
    }
}

/// The inline keyboard under `alert`: Acknowledge and Silence 1 h, when it wants a person and
/// someone is allowed to press; and Restart for one worker's alert when `restart` (the admin
/// API is on).
pub fn keyboard(
    t: &TelegramSettings,
    language: Language,
    restart: bool,
    alert: &Alert,
) -> Option<Value> {
    let id = alert.incident.as_deref()?;
    if !t.buttons() || !alert.kind.wants_a_person() {
        return None;
    }
    let restart = (restart && alert.worker.is_some()).then_some(Button::Restart);
    let row: Vec<Value> = [Button::Ack, Button::Mute]
        .into_iter()
        .chain(restart)
        .map(|b| json!({"text": b.label(language), "callback_data": format!("{}{id}", b.prefix())}))
        .collect();
    Some(json!({ "inline_keyboard": [row] }))
}

/// A button press, as `getUpdates` or the webhook gives it (what pulseboard reads of it).
#[derive(Debug, Clone, Deserialize)]
pub struct Press {
    /// The press's id, for `answerCallbackQuery`.
    pub id: String,
    /// Who pressed.
    pub from: User,
    /// The button's `callback_data`.
    #[serde(default)]
    pub data: Option<String>,
    /// The message the button is under.
    #[serde(default)]
    pub message: Option<Message>,
}

/// A Telegram user.
#[derive(Debug, Clone, Deserialize)]
pub struct User {
    /// Their id (what `allowed_user_ids` lists).
    pub id: i64,
    /// Their @name, if they have one.
    #[serde(default)]
    pub username: Option<String>,
    /// Their first name.
    #[serde(default)]
    pub first_name: String,
}

impl User {
    /// How the event log and the edited message name them: `@name (id)`.
    pub fn name(&self) -> String {
        let shown = match &self.username {
            Some(u) => format!("@{u}"),
            None => self.first_name.clone(),
        };
        pulseboard_shared::ack::clean_name(&format!(
            "{} ({})",
            shown.chars().take(40).collect::<String>(),
            self.id
        ))
    }
}

/// The message a button is under.
#[derive(Debug, Clone, Deserialize)]
pub struct Message {
    /// Its id in its chat.
    pub message_id: i64,
    /// The chat.
    pub chat: Chat,
    /// Its text.
    #[serde(default)]
    pub text: Option<String>,
}

/// A chat.
#[derive(Debug, Clone, Deserialize)]
pub struct Chat {
    /// Its id.
    pub id: i64,
}

/// One update, from `getUpdates` or POSTed to the webhook; only presses are asked for, and
/// anything else is skipped.
#[derive(Debug, Deserialize)]
pub struct Update {
    /// Its number, increasing.
    pub update_id: i64,
    /// The press, if it is one.
    #[serde(default)]
    pub callback_query: Option<Press>,
}

/// A bot's calls, bounded in time.
pub struct Bot<'a> {
    /// The sink's settings.
    pub settings: &'a TelegramSettings,
    /// The client (its timeout must exceed a long poll).
    pub client: &'a reqwest::Client,
}

impl Bot<'_> {
    async fn call(&self, method: &str, body: &Value) -> Result<Value, SendError> {
        let t = self.settings;
        let url = format!("{}/bot{}/{method}", t.api_url, t.bot_token.expose());
        let mut response =
            self.client
                .post(url)
                .json(body)
                .send()
                .await
                .map_err(|e| SendError {
                    retry: true,
                    message: format!("{method}: {}", e.without_url()),
                    status: None,
                })?;
        let status = response.status();
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| SendError {
            retry: true,
            message: format!("{method}: {}", e.without_url()),
            status: None,
        })? {
            bytes.extend_from_slice(&chunk);
            if bytes.len() > MAX_REPLY {
                return Err(SendError {
                    retry: false,
                    message: format!("{method}: the reply is over {MAX_REPLY} bytes"),
                    status: Some(status.as_u16()),
                });
            }
        }
        let mut reply: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        if !status.is_success() || reply["ok"] != json!(true) {
            let said: String = reply["description"]
                .as_str()
                .unwrap_or("")
                .chars()
                .take(200)
                .collect();
            return Err(SendError {
                retry: status.is_server_error() || status.as_u16() == 429,
                message: format!("{method}: HTTP {status}: {said}"),
                status: Some(status.as_u16()),
            });
        }
        Ok(reply["result"].take())
    }

    /// The presses after `offset` (which confirms the ones before), waiting up to `wait` for one;
    /// the next offset comes back with them. Other updates are skipped.
    pub async fn presses(
        &self,
        offset: i64,
        wait: Duration,
    ) -> Result<(Vec<Press>, i64), SendError> {
        let body = json!({
            "offset": offset,
            "limit": BATCH,
            "timeout": wait.as_secs(),
            "allowed_updates": ["callback_query"],
        });
        let result = self.call("getUpdates", &body).await?;
        let updates: Vec<Value> = serde_json::from_value(result).unwrap_or_default();
        let mut next = offset;
        let mut presses = Vec::new();
        for raw in updates {
            let Ok(update) = serde_json::from_value::<Update>(raw) else {
                continue;
            };
            next = next.max(update.update_id + 1);
            presses.extend(update.callback_query);
        }
        Ok((presses, next))
    }

    /// Asks Telegram to POST presses (and nothing else) to `hook.url`, with its secret in
    /// `X-Telegram-Bot-Api-Secret-Token`; `getUpdates` answers 409 from then on.
    pub async fn set_webhook(&self, hook: &PressWebhook) -> Result<(), SendError> {
        let body = json!({
            "url": hook.url,
            "secret_token": hook.secret.expose(),
            "allowed_updates": ["callback_query"],
        });
        self.call("setWebhook", &body).await.map(drop)
    }

    /// Answers press `id` with a short notice the presser sees.
    pub async fn answer(&self, id: &str, text: &str) -> Result<(), SendError> {
        self.call(
            "answerCallbackQuery",
            &json!({"callback_query_id": id, "text": text}),
        )
        .await
        .map(drop)
    }

    /// Replaces the text of `message` (its buttons go).
    pub async fn edit(&self, message: &Message, text: &str) -> Result<(), SendError> {
        let body = json!({
            "chat_id": message.chat.id,
            "message_id": message.message_id,
            "text": text,
            "disable_web_page_preview": true,
        });
        self.call("editMessageText", &body).await.map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerts::alert::AlertKind;
    use crate::config::alerts::Secret;

    #[test]
    fn buttons_go_under_alerts_that_want_a_person_when_someone_may_press() {
        let mut t = TelegramSettings {
            bot_token: Secret::new("t"),
            chat_id: "1".into(),
            api_url: "http://x".into(),
            allowed_user_ids: vec![42],
            webhook: None,
        };
        let mut alert = Alert {
            id: "a-1".into(),
            at: String::new(),
            kind: AlertKind::Down,
            worker: Some("r0".into()),
            count: None,
            context: None,
            text: String::new(),
            runbook: None,
            silenced: None,
            incident: Some("a-1".into()),
            grouped: false,
            follow_up: None,
        };
        let keys = keyboard(&t, Language::English, false, &alert).unwrap();
        assert_eq!(keys["inline_keyboard"][0][0]["callback_data"], "ack:a-1");
        assert_eq!(keys["inline_keyboard"][0][1]["callback_data"], "mute:a-1");
        assert!(
            keys["inline_keyboard"][0][2].is_null(),
            "no admin API, no restart"
        );
        let keys = keyboard(&t, Language::English, true, &alert).unwrap();
        assert_eq!(
            keys["inline_keyboard"][0][2]["callback_data"],
            "restart:a-1"
        );
        assert_eq!(Button::parse("mute:a-1"), Some((Button::Mute, "a-1")));
        assert_eq!(Button::parse("restart:a-1"), Some((Button::Restart, "a-1")));
        assert_eq!(Button::parse("delete:a-1"), None);
        alert.kind = AlertKind::Recovered;
        assert!(keyboard(&t, Language::English, true, &alert).is_none());
        alert.kind = AlertKind::Down;
        t.allowed_user_ids.clear();
        assert!(
            keyboard(&t, Language::English, true, &alert).is_none(),
            "nobody may press"
        );
    }

    #[test]
    fn an_update_is_read_with_its_press_or_without_one() {
        let update: Update = serde_json::from_str(
            r#"{"update_id": 9, "callback_query": {"id": "q1", "from": {"id": 7, "is_bot": false,
                "first_name": "Alice", "username": "alice"}, "data": "ack:a-1",
                "message": {"message_id": 3, "chat": {"id": 42}, "text": "down", "date": 1}},
                "unknown": true}"#,
        )
        .unwrap();
        assert_eq!(update.update_id, 9);
        let press = update.callback_query.unwrap();
        assert_eq!((press.id.as_str(), press.from.id), ("q1", 7));
        assert_eq!(press.from.name(), "@alice (7)");
        assert_eq!(
            press.data.as_deref().and_then(Button::parse),
            Some((Button::Ack, "a-1"))
        );
        let message = press.message.unwrap();
        assert_eq!((message.message_id, message.chat.id), (3, 42));

        let other: Update =
            serde_json::from_str(r#"{"update_id": 10, "message": {"text": "hi"}}"#).unwrap();
        assert!(other.callback_query.is_none(), "not a press: ignored");
        for bad in [
            r#"{"callback_query": null}"#,
            r#"{"update_id": "ten"}"#,
            r#"{"update_id": 11, "callback_query": {"id": "q"}}"#,
            "[1, 2]",
        ] {
            assert!(serde_json::from_str::<Update>(bad).is_err(), "{bad}");
        }
    }
}
