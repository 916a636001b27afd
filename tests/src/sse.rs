//! A client of the live stream as the page is one: it reads server-sent events off the wire and
//! keeps the fleet by applying them (a whole snapshot, then patches).

use pulseboard_shared::patch::{apply, Patch};
use pulseboard_shared::Nodes;

/// One server-sent event.
#[derive(Debug, Clone)]
pub struct SseEvent {
    /// `event:` (`snapshot` or `patch`).
    pub event: String,
    /// `id:`, the version the event brings.
    pub id: Option<String>,
    /// `data:`, the lines joined.
    pub data: String,
}

/// An open stream.
pub struct SseClient {
    response: reqwest::Response,
    buffer: String,
    /// Bytes received so far (event text, keep-alives included).
    pub bytes: usize,
}

impl SseClient {
    /// Opens `url`, sending `Last-Event-ID` when given.
    pub async fn connect(url: &str, last_event_id: Option<&str>) -> Self {
        let mut request = reqwest::Client::new().get(url);
        if let Some(id) = last_event_id {
            request = request.header("last-event-id", id);
        }
        let response = request.send().await.expect("the stream answers");
        assert_eq!(response.status(), 200, "{url}");
        Self {
            response,
            buffer: String::new(),
            bytes: 0,
        }
    }

    /// The next event, or `None` when none comes within `crate::PATIENCE`.
    pub async fn next(&mut self) -> Option<SseEvent> {
        tokio::time::timeout(crate::PATIENCE, self.next_event())
            .await
            .ok()
            .flatten()
    }

    /// The next event, or `None` when nothing comes within `wait`.
    pub async fn next_within(&mut self, wait: std::time::Duration) -> Option<SseEvent> {
        tokio::time::timeout(wait, self.next_event())
            .await
            .ok()
            .flatten()
    }

    async fn next_event(&mut self) -> Option<SseEvent> {
        loop {
            while let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                if let Some(event) = parse(&block) {
                    return Some(event);
                }
            }
            let chunk = self.response.chunk().await.ok()??;
            self.bytes += chunk.len();
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    }
}

fn parse(block: &str) -> Option<SseEvent> {
    let mut event = SseEvent {
        event: "message".into(),
        id: None,
        data: String::new(),
    };
    let mut has_data = false;
    for line in block.lines() {
        if let Some(v) = line.strip_prefix("event:") {
            event.event = v.trim_start().to_owned();
        } else if let Some(v) = line.strip_prefix("id:") {
            event.id = Some(v.trim_start().to_owned());
        } else if let Some(v) = line.strip_prefix("data:") {
            if has_data {
                event.data.push('\n');
            }
            event.data.push_str(v.strip_prefix(' ').unwrap_or(v));
            has_data = true;
        }
    }
    has_data.then_some(event)
}

/// The fleet as a viewer of the stream holds it.
pub struct Follower {
    /// The stream.
    pub client: SseClient,
    /// What the events built so far.
    pub nodes: Option<Nodes>,
    /// The version held.
    pub version: Option<u64>,
    /// The kinds of the events received, in order.
    pub kinds: Vec<String>,
    /// The size of each event's data, in order.
    pub sizes: Vec<usize>,
    /// How many workers came as their changed fields (`?patches=fields`), over all patches.
    pub changes: usize,
}

impl Follower {
    /// Opens the stream at `url`.
    pub async fn open(url: &str) -> Self {
        Self {
            client: SseClient::connect(url, None).await,
            nodes: None,
            version: None,
            kinds: vec![],
            sizes: vec![],
            changes: 0,
        }
    }

    /// Reads and applies one event; false when none came.
    pub async fn step(&mut self) -> bool {
        let Some(event) = self.client.next().await else {
            return false;
        };
        self.absorb(event);
        true
    }

    /// Applies `event` (panics on one that cannot be applied: the server must never send it).
    pub fn absorb(&mut self, event: SseEvent) {
        let id = event.id.as_deref().and_then(|v| v.parse().ok());
        match event.event.as_str() {
            "snapshot" => {
                self.nodes = Some(serde_json::from_str(&event.data).expect("contract 2"));
            }
            "patch" => {
                let patch: Patch = serde_json::from_str(&event.data).expect("a patch");
                self.changes += patch.change.len();
                let nodes = self.nodes.as_mut().expect("a patch after a snapshot");
                apply(nodes, self.version.expect("a version"), &patch).expect("the patch follows");
            }
            other => panic!("unexpected event {other:?}"),
        }
        self.version = id;
        self.kinds.push(event.event);
        self.sizes.push(event.data.len());
    }
}
