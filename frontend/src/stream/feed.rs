//! What the page reads from the feed: the latest snapshot, the connection's state and the clocks
//! that make ages count up between snapshots, shared with every component by context.

use leptos::prelude::*;
use pulseboard_shared::{Nodes, WorkerStatus};

/// The state of the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connection {
    /// Not opened yet.
    Connecting,
    /// The stream is open.
    Live,
    /// Lost; retrying.
    Reconnecting,
    /// No SSE in this browser: polling.
    Polling,
    /// The in-page mock script.
    Mock,
}

impl Connection {
    /// A stable spelling for the DOM (`data-state`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Connecting => "connecting",
            Self::Live => "live",
            Self::Reconnecting => "reconnecting",
            Self::Polling => "polling",
            Self::Mock => "mock",
        }
    }
}

/// What the page reads from the feed.
#[derive(Debug, Clone, Copy)]
pub struct Feed {
    /// The latest snapshot; `None` until the first one.
    pub nodes: ReadSignal<Option<Nodes>>,
    /// The connection's state.
    pub connection: ReadSignal<Connection>,
    /// `performance.now()` when the latest snapshot arrived.
    pub received_at: ReadSignal<f64>,
    /// `performance.now()`, ticking once a second, so ages count up between snapshots.
    pub now: ReadSignal<f64>,
}

impl Feed {
    /// Whole seconds since the latest snapshot arrived.
    pub fn since_update_s(&self) -> u64 {
        ((self.now.get() - self.received_at.get()) / 1000.0).max(0.0) as u64
    }

    /// A heartbeat age from the latest snapshot, counted up to now.
    pub fn age_now(&self, age_s: Option<u64>) -> Option<u64> {
        age_s.map(|a| a + self.since_update_s())
    }

    /// `first`'s record in the newest snapshot; the last one seen while its view is on its way
    /// out.
    pub fn latest(self, first: WorkerStatus) -> Memo<WorkerStatus> {
        Memo::new(move |previous: Option<&WorkerStatus>| {
            let find = |n: &Option<Nodes>| {
                n.as_ref()?
                    .workers
                    .iter()
                    .find(|w| w.name == first.name)
                    .cloned()
            };
            self.nodes
                .with(find)
                .or_else(|| previous.cloned())
                .unwrap_or_else(|| first.clone())
        })
    }

    /// Shares this feed with every component below.
    pub fn provide(self) {
        provide_context(self);
    }
}

/// The page's feed, as provided by the app.
pub fn feed() -> Feed {
    expect_context()
}
