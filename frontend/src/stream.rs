//! The live feed: one `EventSource` on the nodes stream, turned into two signals (the latest
//! [`Nodes`] and the state of the connection) and closed when its owner is cleaned up.

use leptos::prelude::*;
use pulseboard_shared::Nodes;
use wasm_bindgen::{closure::Closure, JsCast};
use web_sys::{Event, EventSource, MessageEvent};

/// Where the server streams `/api/agent-office/nodes` (absolute, so the `/infra/` page works).
pub const NODES_STREAM: &str = "/api/agent-office/nodes/stream";

/// The state of the connection, as far as the `EventSource` tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connection {
    /// Not opened yet.
    Connecting,
    /// Open: events flow.
    Live,
    /// Lost; the browser is retrying on its own.
    Reconnecting,
    /// The browser gave up (the server answered, but not with an event stream).
    Offline,
}

impl Connection {
    /// The indicator's text.
    pub fn label(self) -> &'static str {
        match self {
            Self::Connecting => "connecting…",
            Self::Live => "live",
            Self::Reconnecting => "reconnecting…",
            Self::Offline => "offline",
        }
    }

    /// A stable spelling for the DOM (`data-state`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Connecting => "connecting",
            Self::Live => "live",
            Self::Reconnecting => "reconnecting",
            Self::Offline => "offline",
        }
    }
}

/// What the page reads from the stream.
#[derive(Debug, Clone, Copy)]
pub struct Feed {
    /// The latest snapshot; `None` until the first event.
    pub nodes: ReadSignal<Option<Nodes>>,
    /// The connection indicator's state.
    pub connection: ReadSignal<Connection>,
}

/// The `EventSource` and the handlers it calls; the handlers live exactly as long as it does.
struct Subscription {
    source: EventSource,
    _on_open: Closure<dyn FnMut(Event)>,
    _on_error: Closure<dyn FnMut(Event)>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
}

impl Subscription {
    fn close(&self) {
        self.source.close();
        self.source.set_onopen(None);
        self.source.set_onerror(None);
        self.source.set_onmessage(None);
    }
}

/// Subscribes to `url` for the lifetime of the current reactive owner.
pub fn subscribe(url: &str) -> Feed {
    let (nodes, set_nodes) = signal(None::<Nodes>);
    let (connection, set_connection) = signal(Connection::Connecting);
    let feed = Feed { nodes, connection };

    let source = match EventSource::new(url) {
        Ok(source) => source,
        Err(err) => {
            leptos::logging::error!("cannot open {url}: {err:?}");
            set_connection.set(Connection::Offline);
            return feed;
        }
    };

    let on_open = Closure::<dyn FnMut(Event)>::new(move |_| set_connection.set(Connection::Live));
    let on_error = {
        let source = source.clone();
        Closure::<dyn FnMut(Event)>::new(move |_| {
            let state = if source.ready_state() == EventSource::CLOSED {
                Connection::Offline
            } else {
                Connection::Reconnecting
            };
            set_connection.set(state);
        })
    };
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        let Some(text) = event.data().as_string() else {
            return;
        };
        // A snapshot we cannot read is skipped: the last good one stays on screen.
        match serde_json::from_str::<Nodes>(&text) {
            Ok(snapshot) => set_nodes.set(Some(snapshot)),
            Err(err) => leptos::logging::warn!("skipping an unreadable nodes event: {err}"),
        }
    });
    source.set_onopen(Some(on_open.as_ref().unchecked_ref()));
    source.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    source.set_onmessage(Some(on_message.as_ref().unchecked_ref()));

    let subscription = StoredValue::new_local(Subscription {
        source,
        _on_open: on_open,
        _on_error: on_error,
        _on_message: on_message,
    });
    // Cleanups run before the owner drops its values, so the source is still here to close.
    on_cleanup(move || subscription.with_value(Subscription::close));
    feed
}
