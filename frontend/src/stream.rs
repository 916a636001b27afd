//! The live feed: the latest [`Nodes`], where it comes from and how fresh it is, as signals.
//!
//! Three sources, chosen once when the page opens:
//! - the server's SSE stream (the normal case): the whole snapshot first, then patches of what
//!   changed, applied in place (`pulseboard_shared::patch`); a patch that does not follow the
//!   version held makes the page reopen the stream, which starts with the whole snapshot again.
//!   The browser retries a dropped stream by itself,
//!   but gives up for good when the server answers with anything other than an event stream
//!   (a 502 from a proxy, a restart that serves 503): then the page reopens it itself, backing
//!   off from 1 s to 15 s;
//! - polling `/api/agent-office/nodes` every 3 s, only where the browser has no `EventSource`;
//! - the mock script (`?mock`, or `?mock=<second>` to start it that far in; `&workers=<n>` for a
//!   bigger fleet, up to 10,000; `&hold` to stay at that second), computed in the page, no
//!   server needed.
//!
//! Everything (stream, timers) is released when the owner is cleaned up.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use leptos::prelude::*;
use pulseboard_shared::mock::mock_fleet;
use pulseboard_shared::patch::{apply, Patch};
use pulseboard_shared::{Nodes, Summary, WorkerStatus};
use wasm_bindgen::{closure::Closure, JsCast, JsValue};
use web_sys::{Event, EventSource, MessageEvent};

use crate::page::{fetch_text, now_ms, query_param};

/// Where the server streams `/api/agent-office/nodes` (absolute, so the `/infra/` page works).
pub const NODES_STREAM: &str = "/api/agent-office/nodes/stream";
/// The plain snapshot, for polling.
pub const NODES: &str = "/api/agent-office/nodes";
const POLL_EVERY: Duration = Duration::from_secs(3);
const MAX_BACKOFF_MS: u32 = 15_000;

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

#[derive(Clone, Copy)]
struct Setters {
    nodes_read: ReadSignal<Option<Nodes>>,
    nodes: WriteSignal<Option<Nodes>>,
    connection: WriteSignal<Connection>,
    received_at: WriteSignal<f64>,
}

impl Setters {
    fn publish(&self, nodes: Nodes) {
        self.received_at.set(now_ms());
        self.nodes.set(Some(nodes));
    }

    fn publish_json(&self, text: &str) -> bool {
        // A snapshot we cannot read is skipped: the last good one stays on screen.
        match serde_json::from_str::<Nodes>(text) {
            Ok(nodes) => {
                self.publish(nodes);
                true
            }
            Err(err) => {
                leptos::logging::warn!("skipping an unreadable nodes snapshot: {err}");
                false
            }
        }
    }

    /// Applies a patch to the snapshot held at version `held`; false when it does not follow
    /// (the stream must start again from a whole snapshot).
    fn apply_patch_json(&self, held: Option<u64>, text: &str) -> bool {
        let patch = match serde_json::from_str::<Patch>(text) {
            Ok(patch) => patch,
            Err(err) => {
                leptos::logging::warn!("unreadable patch, resyncing: {err}");
                return false;
            }
        };
        let Some(held) = held else { return false };
        if self.nodes_read.with_untracked(Option::is_none) {
            return false;
        }
        let mut applied = Ok(());
        self.nodes.update(|nodes| {
            if let Some(nodes) = nodes {
                applied = apply(nodes, held, &patch);
            }
        });
        match applied {
            Ok(()) => {
                self.received_at.set(now_ms());
                true
            }
            Err(why) => {
                leptos::logging::warn!("patch does not follow ({why:?}), resyncing");
                false
            }
        }
    }
}

/// Opens the feed the page's address asks for, for the lifetime of the current owner.
pub fn open() -> Feed {
    let (nodes, set_nodes) = signal(None::<Nodes>);
    let (connection, set_connection) = signal(Connection::Connecting);
    let (received_at, set_received_at) = signal(now_ms());
    let (now, set_now) = signal(now_ms());
    let set = Setters {
        nodes_read: nodes,
        nodes: set_nodes,
        connection: set_connection,
        received_at: set_received_at,
    };
    let mut timers = vec![set_interval_with_handle(
        move || set_now.set(now_ms()),
        Duration::from_secs(1),
    )];

    if let Some(mock) = query_param("mock") {
        let offset = mock.parse::<u64>().unwrap_or(0);
        let size = query_param("workers")
            .and_then(|n| n.parse().ok())
            .unwrap_or(6usize)
            .clamp(1, 10_000);
        let start = now_ms();
        // `&hold`: the script stays at its second (screenshots, tests).
        let hold = query_param("hold").is_some();
        let tick = move || {
            let moved = if hold {
                0
            } else {
                ((now_ms() - start) / 1000.0) as u64
            };
            let elapsed = offset + moved;
            let mut nodes = mock_fleet(elapsed, size);
            nodes.workers.truncate(size);
            nodes.summary = Some(Summary::of(&nodes.workers));
            set.publish(nodes);
        };
        tick();
        set_connection.set(Connection::Mock);
        timers.push(set_interval_with_handle(tick, Duration::from_secs(1)));
    } else if has_event_source() && query_param("poll").is_none() {
        let sse = Rc::new(Sse::default());
        sse.open(set);
        let sse = StoredValue::new_local(sse);
        on_cleanup(move || sse.with_value(|sse| sse.close()));
    } else {
        set_connection.set(Connection::Polling);
        let poll = move || leptos::task::spawn_local(poll_once(set));
        poll();
        timers.push(set_interval_with_handle(poll, POLL_EVERY));
    }
    on_cleanup(move || timers.iter().flatten().for_each(IntervalHandle::clear));
    expose_for_tests(nodes);
    Feed {
        nodes,
        connection,
        received_at,
        now,
    }
}

fn has_event_source() -> bool {
    js_sys::Reflect::has(&window(), &JsValue::from_str("EventSource")).unwrap_or(false)
}

async fn poll_once(set: Setters) {
    match fetch_text(NODES).await {
        Ok(text) => {
            set.connection.set(Connection::Polling);
            let _ = set.publish_json(&text);
        }
        Err(_) => set.connection.set(Connection::Reconnecting),
    }
}

type Handler = Closure<dyn FnMut(Event)>;

/// The `EventSource`, its handlers, and the reopening the browser does not do by itself.
#[derive(Default)]
struct Sse {
    source: RefCell<Option<EventSource>>,
    /// The handlers with the event each listens to.
    handlers: RefCell<Vec<(&'static str, Handler)>>,
    /// The snapshot version held (the last event's id).
    version: Cell<Option<u64>>,
    retry: Cell<Option<TimeoutHandle>>,
    failures: Cell<u32>,
    closed: Cell<bool>,
}

impl Sse {
    fn open(self: &Rc<Self>, set: Setters) {
        if self.closed.get() {
            return;
        }
        let source = match EventSource::new(NODES_STREAM) {
            Ok(source) => source,
            Err(err) => {
                leptos::logging::error!("cannot open {NODES_STREAM}: {err:?}");
                self.reopen_later(set);
                return;
            }
        };
        let me = Rc::downgrade(self);
        let on_open = Closure::<dyn FnMut(Event)>::new(move |_| {
            set.connection.set(Connection::Live);
            if let Some(me) = me.upgrade() {
                me.failures.set(0);
            }
        });
        let me = Rc::downgrade(self);
        let on_error = Closure::<dyn FnMut(Event)>::new(move |_| {
            set.connection.set(Connection::Reconnecting);
            let Some(me) = me.upgrade() else { return };
            let gave_up = me
                .source
                .borrow()
                .as_ref()
                .is_some_and(|s| s.ready_state() == EventSource::CLOSED);
            if gave_up {
                me.reopen_later(set);
            }
        });
        let me = Rc::downgrade(self);
        let on_snapshot = Closure::<dyn FnMut(Event)>::new(move |event: Event| {
            let Some((id, text)) = message(&event) else {
                return;
            };
            let Some(me) = me.upgrade() else { return };
            set.connection.set(Connection::Live);
            if set.publish_json(&text) {
                me.version.set(id);
            }
        });
        let me = Rc::downgrade(self);
        let on_patch = Closure::<dyn FnMut(Event)>::new(move |event: Event| {
            let Some((id, text)) = message(&event) else {
                return;
            };
            let Some(me) = me.upgrade() else { return };
            set.connection.set(Connection::Live);
            if set.apply_patch_json(me.version.get(), &text) {
                me.version.set(id);
            } else {
                me.resync(set);
            }
        });
        let handlers: Vec<(&'static str, Handler)> = vec![
            ("open", on_open),
            ("error", on_error),
            ("snapshot", on_snapshot),
            ("patch", on_patch),
        ];
        for (kind, handler) in &handlers {
            let _ = source.add_event_listener_with_callback(kind, handler.as_ref().unchecked_ref());
        }
        self.detach();
        *self.source.borrow_mut() = Some(source);
        *self.handlers.borrow_mut() = handlers;
    }

    /// Reopens after 1, 2, 4, 8, 15, 15… seconds (with jitter, so a restarted server is not
    /// hit by every page at once).
    fn reopen_later(self: &Rc<Self>, set: Setters) {
        if self.closed.get() {
            return;
        }
        if let Some(source) = self.source.borrow().as_ref() {
            source.close();
        }
        let failures = self.failures.get();
        self.failures.set(failures + 1);
        let backoff = (1000u32 << failures.min(4)).min(MAX_BACKOFF_MS);
        let jitter = (js_sys::Math::random() * 300.0) as u32;
        let me = Rc::downgrade(self);
        let handle = set_timeout_with_handle(
            move || {
                if let Some(me) = me.upgrade() {
                    me.open(set);
                }
            },
            Duration::from_millis(u64::from(backoff + jitter)),
        );
        self.retry.set(handle.ok());
    }

    /// Starts again from a whole snapshot: a new stream begins with one. Opened from a timer,
    /// never from inside a handler the reopening drops.
    fn resync(self: &Rc<Self>, set: Setters) {
        self.version.set(None);
        if let Some(source) = self.source.borrow().as_ref() {
            source.close();
        }
        let me = Rc::downgrade(self);
        let handle = set_timeout_with_handle(
            move || {
                if let Some(me) = me.upgrade() {
                    me.open(set);
                }
            },
            Duration::ZERO,
        );
        self.retry.set(handle.ok());
    }

    fn detach(&self) {
        if let Some(source) = self.source.borrow_mut().take() {
            source.close();
            for (kind, handler) in self.handlers.borrow().iter() {
                let _ = source
                    .remove_event_listener_with_callback(kind, handler.as_ref().unchecked_ref());
            }
        }
    }

    fn close(&self) {
        self.closed.set(true);
        if let Some(retry) = self.retry.take() {
            retry.clear();
        }
        self.detach();
        self.handlers.borrow_mut().clear();
    }
}

/// A server-sent event's id (the version it brings) and data.
fn message(event: &Event) -> Option<(Option<u64>, String)> {
    let event = event.dyn_ref::<MessageEvent>()?;
    let id = event.last_event_id().parse().ok();
    Some((id, event.data().as_string()?))
}

/// `window.pulseboardNodes()`: the snapshot the page holds, as JSON, so a test can compare what
/// the patches built with the server's whole snapshot. Read-only; set once per page.
fn expose_for_tests(nodes: ReadSignal<Option<Nodes>>) {
    let read = Closure::<dyn Fn() -> JsValue>::new(move || {
        nodes
            .with_untracked(|n| serde_json::to_string(n).ok())
            .map_or(JsValue::NULL, |json| JsValue::from_str(&json))
    });
    let _ = js_sys::Reflect::set(
        &window(),
        &JsValue::from_str("pulseboardNodes"),
        read.as_ref(),
    );
    // It lives as long as the page.
    read.forget();
}
