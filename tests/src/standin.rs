//! A local stand-in for the Telegram Bot API and for webhook receivers: it accepts any POST,
//! records it, and can be told to fail. For Telegram's buttons it numbers the messages it takes
//! (`sendMessage` answers a `message_id`) and serves button presses queued by [`StandIn::press`]
//! to `getUpdates`, holding a poll up to a second for one as a long poll does ([`press_update`]
//! builds the same update for a test to POST in webhook mode; `setWebhook` is recorded like any
//! call). The alert tests and the latency example point pulseboard
//! at it (`PULSEBOARD_TELEGRAM_API_URL`, `PULSEBOARD_WEBHOOK_URL`); it lives here, not in the
//! server, so the release binary carries no test receiver.

use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::IntoResponse;
use axum::Json;
use serde_json::{json, Value};
use tokio::sync::Notify;

/// One accepted POST.
#[derive(Debug, Clone)]
pub struct Received {
    /// When it arrived.
    pub at: Instant,
    /// Its path (`/bot<token>/sendMessage` for Telegram).
    pub path: String,
    /// Its JSON body.
    pub body: Value,
}

impl Received {
    /// The message: Telegram's `text`, or a webhook's `text`.
    pub fn text(&self) -> &str {
        self.body["text"].as_str().unwrap_or("")
    }
}

#[derive(Default)]
struct Inner {
    received: Mutex<Vec<Received>>,
    fail_with: AtomicU16,
    refused: AtomicU64,
    arrived: Notify,
    /// Presses not yet fetched by `getUpdates`, and the next update id.
    updates: Mutex<(Vec<Value>, i64)>,
    pressed: Notify,
    /// `getUpdates` calls answered (they are not recorded with the rest).
    polls: AtomicU64,
}

/// A running stand-in on a free loopback port; it stops when dropped.
pub struct StandIn {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    inner: Arc<Inner>,
    task: tokio::task::JoinHandle<()>,
}

impl StandIn {
    /// Starts one on a free loopback port.
    pub async fn start() -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let inner = Arc::new(Inner::default());
        let app = axum::Router::new()
            .fallback(accept)
            .with_state(inner.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { url, inner, task })
    }

    /// The Telegram sink's settings pointing at it (a bench bot in chat 1, no buttons).
    pub fn telegram(&self) -> pulseboard_server::config::alerts::TelegramSettings {
        pulseboard_server::config::alerts::TelegramSettings {
            bot_token: pulseboard_server::config::alerts::Secret::new("bench"),
            chat_id: "1".into(),
            api_url: self.url.clone(),
            allowed_user_ids: vec![],
            webhook: None,
        }
    }

    /// From now on answer `status` (e.g. 500) to every POST, or accept again with `None`.
    pub fn fail_with(&self, status: Option<u16>) {
        self.inner
            .fail_with
            .store(status.unwrap_or(0), Ordering::SeqCst);
    }

    /// Queues a press of the button `data` under message `message_id` (whose text was `text`)
    /// by Telegram user `user`, for the next `getUpdates`.
    pub fn press(&self, user: i64, username: &str, data: &str, message_id: i64, text: &str) {
        let mut updates = self.inner.updates.lock().expect("lock");
        updates.1 += 1;
        let update = press_update(updates.1, user, username, data, message_id, text);
        updates.0.push(update);
        self.inner.pressed.notify_waiters();
    }

    /// The accepted calls of a Bot API method (`editMessageText`), in order.
    pub fn calls(&self, method: &str) -> Vec<Value> {
        self.received()
            .into_iter()
            .filter(|r| r.path.ends_with(&format!("/{method}")))
            .map(|r| r.body)
            .collect()
    }

    /// The `message_id` the stand-in answered for the first message containing `needle`.
    pub fn message_id(&self, needle: &str) -> i64 {
        let position = self
            .received()
            .iter()
            .position(|r| r.text().contains(needle));
        1 + position.unwrap_or_else(|| panic!("no message contains {needle:?}")) as i64
    }

    /// How many times `getUpdates` was called.
    pub fn polls(&self) -> u64 {
        self.inner.polls.load(Ordering::SeqCst)
    }

    /// How many POSTs were refused.
    pub fn refused(&self) -> u64 {
        self.inner.refused.load(Ordering::SeqCst)
    }

    /// Everything accepted so far, in order.
    pub fn received(&self) -> Vec<Received> {
        self.inner.received.lock().expect("lock").clone()
    }

    /// The accepted messages' texts, in order.
    pub fn texts(&self) -> Vec<String> {
        self.received()
            .iter()
            .map(|r| r.text().to_owned())
            .collect()
    }

    /// Waits until an accepted message's text contains `needle` (counting from the `skip`th
    /// message), for at most `patience`.
    pub async fn wait_for(
        &self,
        needle: &str,
        skip: usize,
        patience: Duration,
    ) -> Option<Received> {
        let deadline = Instant::now() + patience;
        loop {
            let arrived = self.inner.arrived.notified();
            if let Some(r) = self
                .received()
                .into_iter()
                .skip(skip)
                .find(|r| r.text().contains(needle))
            {
                return Some(r);
            }
            let left = deadline.checked_duration_since(Instant::now())?;
            let _ = tokio::time::timeout(left, arrived).await;
        }
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A Telegram update with a press of the button `data` under message `message_id` (whose text
/// was `text`) by user `user`: what `getUpdates` serves and what a webhook receives.
pub fn press_update(
    update_id: i64,
    user: i64,
    username: &str,
    data: &str,
    message_id: i64,
    text: &str,
) -> Value {
    json!({
        "update_id": update_id,
        "callback_query": {
            "id": format!("press-{update_id}"),
            "from": {"id": user, "is_bot": false, "first_name": username, "username": username},
            "data": data,
            "message": {"message_id": message_id, "chat": {"id": 42}, "text": text},
        },
    })
}

async fn accept(State(inner): State<Arc<Inner>>, uri: Uri, body: Bytes) -> impl IntoResponse {
    let at = Instant::now();
    let status = inner.fail_with.load(Ordering::SeqCst);
    if status != 0 {
        inner.refused.fetch_add(1, Ordering::SeqCst);
        let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        return (
            code,
            Json(json!({"ok": false, "description": "stand-in told to fail"})),
        );
    }
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let path = uri.path().to_owned();
    if path.ends_with("/getUpdates") {
        inner.polls.fetch_add(1, Ordering::SeqCst);
        return (StatusCode::OK, Json(updates(&inner, &body).await));
    }
    let result = {
        let mut received = inner.received.lock().expect("lock");
        received.push(Received { at, path, body });
        json!({"message_id": received.len(), "chat": {"id": 42}})
    };
    inner.arrived.notify_waiters();
    (StatusCode::OK, Json(json!({"ok": true, "result": result})))
}

/// `getUpdates`: the queued presses from `offset` on (dropping the ones before it, as Telegram
/// confirms them), waiting up to a second for one.
async fn updates(inner: &Inner, body: &Value) -> Value {
    let offset = body["offset"].as_i64().unwrap_or(0);
    let deadline = Instant::now() + Duration::from_secs(1);
    loop {
        let pressed = inner.pressed.notified();
        {
            let mut updates = inner.updates.lock().expect("lock");
            updates
                .0
                .retain(|u| u["update_id"].as_i64().unwrap_or(0) >= offset);
            if !updates.0.is_empty() {
                return json!({"ok": true, "result": updates.0.clone()});
            }
        }
        let Some(left) = deadline.checked_duration_since(Instant::now()) else {
            return json!({"ok": true, "result": []});
        };
        let _ = tokio::time::timeout(left, pressed).await;
    }
}
