//! The server's live stream: an `EventSource` with its handlers, the patches applied as they come,
//! and the reopening (with backoff, or at once to resync) that the browser does not do by itself.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use leptos::prelude::*;
use wasm_bindgen::{closure::Closure, JsCast, JsValue};
use web_sys::{Event, EventSource, MessageEvent};

use super::publish::Setters;
use super::Connection;

/// Where the server streams `/api/agent-office/nodes` (absolute, so the `/infra/` page works),
/// asking for field-level patches (a server that predates them ignores the query).
pub const NODES_STREAM: &str = "/api/agent-office/nodes/stream?patches=fields";
const MAX_BACKOFF_MS: u32 = 15_000;

/// Whether this browser has `EventSource` (else the page polls).
pub(super) fn has_event_source() -> bool {
    js_sys::Reflect::has(&window(), &JsValue::from_str("EventSource")).unwrap_or(false)
}

type Handler = Closure<dyn FnMut(Event)>;

/// The `EventSource`, its handlers, and the reopening the browser does not do by itself.
#[derive(Default)]
pub(super) struct Sse {
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
    /// Opens the stream (unless closed), replacing the one before.
    pub(super) fn open(self: &Rc<Self>, set: Setters) {
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

    /// Closes the stream for good: no reopening after this.
    pub(super) fn close(&self) {
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
