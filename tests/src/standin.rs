//! A local stand-in for the Telegram Bot API and for webhook receivers: it accepts any POST,
//! records it, and can be told to fail. The alert tests and the latency example point pulseboard
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

    /// From now on answer `status` (e.g. 500) to every POST, or accept again with `None`.
    pub fn fail_with(&self, status: Option<u16>) {
        self.inner
            .fail_with
            .store(status.unwrap_or(0), Ordering::SeqCst);
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
    let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
    inner.received.lock().expect("lock").push(Received {
        at,
        path: uri.path().to_owned(),
        body,
    });
    inner.arrived.notify_waiters();
    (StatusCode::OK, Json(json!({"ok": true, "result": {}})))
}
