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
//!
//! In `stream/`: `feed.rs` (what components read), `publish.rs` (where every source writes),
//! `sse.rs`, `poll.rs` and `mock.rs` (the three sources), `test_hook.rs`
//! (`window.pulseboardNodes()`).

mod feed;
mod mock;
mod poll;
mod publish;
mod sse;
mod test_hook;

use std::rc::Rc;
use std::time::Duration;

use leptos::prelude::*;
use pulseboard_shared::Nodes;

pub use feed::{feed, Connection, Feed};
use publish::Setters;
use sse::Sse;

use crate::page::{now_ms, query_param};

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
        timers.push(mock::start(set, &mock));
    } else if sse::has_event_source() && query_param("poll").is_none() {
        let sse = Rc::new(Sse::default());
        sse.open(set);
        let sse = StoredValue::new_local(sse);
        on_cleanup(move || sse.with_value(|sse| sse.close()));
    } else {
        timers.push(poll::start(set));
    }
    on_cleanup(move || timers.iter().flatten().for_each(IntervalHandle::clear));
    test_hook::expose_for_tests(nodes);
    Feed {
        nodes,
        connection,
        received_at,
        now,
    }
}
