//! Where alerts go: Telegram's `sendMessage` and a generic JSON webhook.
//!
//! Errors are built so they never carry a secret: reqwest's own errors name the URL (which holds
//! the bot token), so the URL is stripped before anything is logged or recorded.

use std::time::Duration;

use serde_json::json;

use super::alert::Alert;
use crate::config::alerts::{AlertSettings, TelegramSettings, WebhookSettings};

/// A delivery that failed.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct SendError {
    /// Whether trying again may help (network errors, 5xx, 429), as opposed to a refusal.
    pub retry: bool,
    /// What went wrong, free of secrets.
    pub message: String,
}

/// One configured destination.
#[derive(Debug, Clone)]
pub enum Sink {
    /// Telegram Bot API.
    Telegram(TelegramSettings),
    /// A JSON webhook.
    Webhook(WebhookSettings),
}

impl Sink {
    /// The configured sinks.
    pub fn all(settings: &AlertSettings) -> Vec<Sink> {
        let mut sinks = Vec::new();
        if let Some(t) = &settings.telegram {
            sinks.push(Sink::Telegram(t.clone()));
        }
        if let Some(w) = &settings.webhook {
            sinks.push(Sink::Webhook(w.clone()));
        }
        sinks
    }

    /// Its name in keys, logs and the API.
    pub fn name(&self) -> &'static str {
        match self {
            Sink::Telegram(_) => "telegram",
            Sink::Webhook(_) => "webhook",
        }
    }

    /// Delivers `alert` once.
    pub async fn send(&self, client: &reqwest::Client, alert: &Alert) -> Result<(), SendError> {
        let request = match self {
            Sink::Telegram(t) => client
                .post(format!(
                    "{}/bot{}/sendMessage",
                    t.api_url,
                    t.bot_token.expose()
                ))
                .json(&json!({
                    "chat_id": t.chat_id,
                    "text": alert.text,
                    "disable_web_page_preview": true,
                })),
            Sink::Webhook(w) => {
                // The alert itself, plus the keys Slack (`text`) and Discord (`content`) read.
                let mut body = serde_json::to_value(alert).expect("alerts serialise");
                body["content"] = json!(alert.text);
                body["source"] = json!("pulseboard");
                client.post(w.url.expose()).json(&body)
            }
        };
        let response = request.send().await.map_err(|e| SendError {
            retry: true,
            message: e.without_url().to_string(),
        })?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        // Telegram explains a refusal in `description`; keep a short, token-free excerpt.
        let body = response.text().await.unwrap_or_default();
        let detail: String = serde_json::from_str::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v["description"].as_str().map(str::to_owned))
            .unwrap_or(body)
            .chars()
            .take(200)
            .collect();
        let retry = status.is_server_error()
            || status == reqwest::StatusCode::TOO_MANY_REQUESTS
            || status == reqwest::StatusCode::REQUEST_TIMEOUT;
        Err(SendError {
            retry,
            message: format!("HTTP {status}: {}", detail.trim()),
        })
    }
}

/// The HTTP client of every sink: bounded in time, so a hung receiver only delays its own sink.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(15))
        .build()
        .expect("a client with rustls builds")
}
