//! Where alerts go: Telegram's `sendMessage` (with buttons under the alerts that want a person)
//! and a generic JSON webhook (with `incident_id` and `state` to thread them).
//!
//! Errors are built so they never carry a secret: reqwest's own errors name the URL (which holds
//! the bot token), so the URL is stripped before anything is logged or recorded.

use std::time::Duration;

use serde_json::json;

use super::alert::{Alert, AlertKind};
use crate::config::alerts::{AlertSettings, Language, Route, TelegramSettings, WebhookSettings};

/// A delivery that failed.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct SendError {
    /// Whether trying again may help (network errors, 5xx, 429), as opposed to a refusal.
    pub retry: bool,
    /// What went wrong, free of secrets.
    pub message: String,
    /// The receiver's HTTP status, when it answered (Telegram's 409: a webhook is set).
    pub status: Option<u16>,
}

/// One configured destination.
#[derive(Debug, Clone)]
pub enum Sink {
    /// Telegram Bot API, its buttons labelled in the messages' language, with Restart when the
    /// admin API is on.
    Telegram(TelegramSettings, Language, bool),
    /// A JSON webhook.
    Webhook(WebhookSettings),
}

impl Sink {
    /// The configured sinks (`restart`: Telegram alerts may carry a Restart button).
    pub fn all(settings: &AlertSettings, restart: bool) -> Vec<Sink> {
        let mut sinks = Vec::new();
        if let Some(t) = &settings.telegram {
            sinks.push(Sink::Telegram(t.clone(), settings.language, restart));
        }
        if let Some(w) = &settings.webhook {
            sinks.push(Sink::Webhook(w.clone()));
        }
        sinks
    }

    /// Its name in keys, logs and the API.
    pub fn name(&self) -> &'static str {
        match self {
            Sink::Telegram(..) => "telegram",
            Sink::Webhook(_) => "webhook",
        }
    }

    /// Whether it takes `alert` by `routes` (the first that matches names its sinks; none
    /// matching: every sink). A Telegram chat is never told of an acknowledgement (the pressed
    /// message was edited to say it).
    pub fn wants(&self, alert: &Alert, routes: &[Route]) -> bool {
        if matches!(self, Sink::Telegram(..)) && alert.kind == AlertKind::Acknowledged {
            return false;
        }
        route(routes, alert).is_none_or(|r| r.sinks.iter().any(|s| s == self.name()))
    }

    /// Delivers `alert` once (to its route's Telegram chat, if it names one).
    pub async fn send(
        &self,
        client: &reqwest::Client,
        alert: &Alert,
        routes: &[Route],
    ) -> Result<(), SendError> {
        let request = match self {
            Sink::Telegram(t, language, restart) => {
                let chat = route(routes, alert).and_then(|r| r.chat_id.as_ref());
                let mut body = json!({
                    "chat_id": chat.unwrap_or(&t.chat_id),
                    "text": alert.message(),
                    "disable_web_page_preview": true,
                });
                if let Some(keys) = super::telegram::keyboard(t, *language, *restart, alert) {
                    body["reply_markup"] = keys;
                }
                client
                    .post(format!(
                        "{}/bot{}/sendMessage",
                        t.api_url,
                        t.bot_token.expose()
                    ))
                    .json(&body)
            }
            Sink::Webhook(w) => client.post(w.url.expose()).json(&webhook_body(alert)),
        };
        let response = request.send().await.map_err(|e| SendError {
            retry: true,
            message: e.without_url().to_string(),
            status: None,
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
            status: Some(status.as_u16()),
        })
    }
}

/// The first of `routes` that matches `alert`.
pub fn route<'a>(routes: &'a [Route], alert: &Alert) -> Option<&'a Route> {
    let c = alert.context.as_ref();
    let (host, kind) = (
        c.and_then(|c| c.host.as_deref()),
        c.and_then(|c| c.worker_kind.as_deref()),
    );
    routes
        .iter()
        .find(|r| r.matches(alert.kind, alert.worker.as_deref(), kind, host))
}

/// A webhook's body: the alert itself, plus the keys Slack (`text`) and Discord (`content`)
/// read, made inert: a worker name or a reason is written by whoever can write Redis, and must
/// not ping a whole channel. Slack's `text` has `&`, `<` and `>` escaped (so `<!channel>` is
/// shown, not obeyed); Discord gets `allowed_mentions` with nothing to parse (so `@everyone` is
/// shown, not pinged).
pub fn webhook_body(alert: &Alert) -> serde_json::Value {
    let mut body = serde_json::to_value(alert).expect("alerts serialise");
    // The chat keys carry the runbook line too; `runbook` is also a key of its own.
    let message = alert.message();
    body["text"] = json!(slack_escape(&message));
    body["content"] = json!(message);
    body["allowed_mentions"] = json!({ "parse": [] });
    body["source"] = json!("pulseboard");
    body["incident_id"] = json!(alert.incident.as_deref().unwrap_or(&alert.id));
    body["state"] = json!(state(alert.kind));
    body
}

/// Where an alert leaves its incident, for receivers that thread them.
fn state(kind: AlertKind) -> &'static str {
    match kind {
        AlertKind::Acknowledged => "acknowledged",
        AlertKind::Recovered
        | AlertKind::HostRecovered
        | AlertKind::Settled
        | AlertKind::RedisBack
        | AlertKind::HoldLifted
        | AlertKind::DriftCleared
        | AlertKind::Started => "resolved",
        _ => "firing",
    }
}

/// Slack's three control characters as entities (its own rule for text from elsewhere).
fn slack_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

/// The HTTP client of every sink: bounded in time, so a hung receiver only delays its own sink.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(15))
        .build()
        .expect("a client with rustls builds")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_text_pings_nobody() {
        let alert = Alert {
            id: "a-1".into(),
            at: "2026-12-02T00:00:00Z".into(),
            kind: AlertKind::Down,
            worker: Some("<!channel> @everyone & co".into()),
            count: None,
            context: None,
            text: "🔴 [<!channel> @everyone & co] down: <@U123>".into(),
            runbook: None,
            silenced: None,
            incident: None,
            grouped: false,
            follow_up: None,
        };
        let body = webhook_body(&alert);
        assert_eq!(
            body["text"],
            "🔴 [&lt;!channel&gt; @everyone &amp; co] down: &lt;@U123&gt;"
        );
        assert_eq!(
            body["content"], alert.text,
            "Discord shows it as written ..."
        );
        assert_eq!(
            body["allowed_mentions"],
            json!({ "parse": [] }),
            "... and pings nobody"
        );
        assert_eq!(
            body["worker"], "<!channel> @everyone & co",
            "the structure stays exact"
        );
        assert_eq!(body["source"], "pulseboard");
        assert_eq!(
            (&body["incident_id"], &body["state"]),
            (&json!("a-1"), &json!("firing"))
        );
    }
}
