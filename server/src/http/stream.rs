//! `GET /api/agent-office/nodes/stream`: the fleet live, as server-sent events.
//!
//! The first event is the whole snapshot (`event: snapshot`, contract 2); after it, each change is
//! a patch (`event: patch`, [`pulseboard_shared::patch::Patch`]) of what changed, so a viewer of
//! 10,000 workers receives kilobytes a second, not the fleet. Every event's `id` is the version it
//! brings the viewer to. A viewer that fell behind (its connection too slow for a version) gets a
//! whole snapshot again; one that reconnects with `Last-Event-ID` gets only what it lacks.
//!
//! An event's data is the snapshot's (or patch's) JSON serialised once for every viewer and shared
//! by reference: a thousand viewers cost a thousand reference counts, not a thousand copies.
//!
//! Patches come in two formats ([`pulseboard_shared::patch`]): by default a changed worker is
//! sent whole, as every client reads it; a client that asks with `?patches=fields` gets only the
//! fields that changed (a beat that moves one counter: tens of bytes, not ~300).
//!
//! Filters, for clients that show a part: `?host=H` (workers on host H), `?problems=1` (workers
//! that need attention, see [`Condition::is_problem`]). The summary stays the whole fleet's. The
//! viewers of one filter share its part and patches ([`super::filtered`]).

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use futures::{stream, Stream, StreamExt};
use pulseboard_shared::{Condition, Nodes};
use serde::Deserialize;
use tokio_stream::wrappers::{IntervalStream, WatchStream};

use super::filtered::Parts;
use super::AppState;
use crate::client_ip::ClientIp;
use crate::snapshot::{PatchFormat, Snapshot};

/// The stream's query.
#[derive(Debug, Default, Clone, PartialEq, Eq, Hash, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Filter {
    /// Only workers on this host.
    pub host: Option<String>,
    /// Only workers that need attention (`problems=1` or `problems=true`).
    #[serde(default, deserialize_with = "flag")]
    #[param(value_type = Option<String>)]
    pub problems: bool,
}

/// The patch format a viewer reads: the stream's query `patches`.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Format {
    /// `records` (the default: a changed worker whole) or `fields` (only its changed fields,
    /// in the patch's `change`).
    #[serde(default)]
    #[param(value_type = Option<String>)]
    pub patches: PatchFormat,
}

/// A query flag: `1`, `true`, `yes` or empty (`?problems`) are on.
fn flag<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    let text = String::deserialize(d)?;
    Ok(matches!(text.as_str(), "" | "1" | "true" | "yes"))
}

impl Filter {
    fn is_empty(&self) -> bool {
        self.host.is_none() && !self.problems
    }

    /// `nodes` with only the workers this filter shows, and their links.
    pub fn apply(&self, nodes: &Nodes) -> Nodes {
        let mut part = nodes.clone();
        part.workers.retain(|w| {
            self.host
                .as_ref()
                .is_none_or(|h| w.host.as_ref() == Some(h))
                && (!self.problems || Condition::of(w).is_problem())
        });
        let shown: std::collections::HashSet<&str> =
            part.workers.iter().map(|w| w.name.as_str()).collect();
        part.links
            .retain(|l| shown.contains(l.from.as_str()) || shown.contains(l.to.as_str()));
        part
    }
}

/// What one viewer holds, to know what to send it next.
enum Held {
    /// Nothing yet.
    Nothing,
    /// The whole fleet at a version.
    Whole(u64),
    /// A filtered part at a version (the part itself is shared: [`super::filtered`]).
    Part(u64),
}

/// The handler. Past `http.max_streams` open streams, 503; past `http.max_streams_per_client`
/// from one address, 429 for that address only.
#[utoipa::path(get, path = "/api/agent-office/nodes/stream", tag = "fleet", params(Filter, Format), responses(
    (status = 200, description = "Server-sent events. The first, `event: snapshot`, carries the whole fleet (schema `Nodes`); each later `event: patch` carries what changed (schema `Patch`). Each event's `id` is the version it brings; send it back as `Last-Event-ID` to resume.", content_type = "text/event-stream", body = String),
    (status = 429, description = "Too many open streams from this address (`http.max_streams_per_client`)", content_type = "text/plain", body = String),
    (status = 503, description = "Too many open streams (`http.max_streams`)", content_type = "text/plain", body = String),
))]
pub async fn stream(
    State(state): State<AppState>,
    client: ClientIp,
    Query(filter): Query<Filter>,
    Query(Format { patches }): Query<Format>,
    headers: HeaderMap,
) -> Response {
    let Some(slot) = state.per_client.try_open(client.0) else {
        return too_many_from(client);
    };
    let Ok(permit) = state.streams.clone().try_acquire_owned() else {
        return too_many_streams();
    };
    let last_event_id = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let mut held = match last_event_id {
        Some(version) if filter.is_empty() => Held::Whole(version),
        _ => Held::Nothing,
    };
    let shutdown = state.shutdown.clone();
    let parts = state.parts.clone();
    let events = WatchStream::new(state.hub.subscribe()).filter_map(move |snapshot| {
        // The permit and the slot live as long as the stream: released when the viewer goes.
        let _held = (&permit, &slot);
        std::future::ready(next_event(&mut held, &filter, patches, &parts, &snapshot))
    });
    // A comment line every 15 s keeps proxies from closing a quiet stream.
    let mut keep_alive = tokio::time::interval(Duration::from_secs(15));
    keep_alive.reset();
    let keep_alive = IntervalStream::new(keep_alive).map(|_| Frame::KeepAlive);
    let frames = stream::select(events, keep_alive)
        .flat_map(|frame| stream::iter(frame.chunks()))
        .map(Ok::<_, Infallible>)
        .take_until(async move { shutdown.wait().await });
    sse_response(frames)
}

/// One server-sent event, its data shared.
#[derive(Debug)]
pub enum Frame {
    /// `event: <kind>`, `id: <version>`, `data: <json>`.
    Event {
        /// `snapshot` or `patch`.
        kind: &'static str,
        /// The version it brings the viewer to.
        id: u64,
        /// One line of JSON (serde_json never writes a newline in compact form).
        data: Bytes,
    },
    /// `:` (a comment), to keep the connection open.
    KeepAlive,
}

impl Frame {
    fn event(kind: &'static str, id: u64, data: Bytes) -> Self {
        Self::Event { kind, id, data }
    }

    /// The bytes on the wire, the data not copied.
    fn chunks(self) -> Vec<Bytes> {
        match self {
            Self::Event { kind, id, data } => vec![
                Bytes::from(format!("event: {kind}\nid: {id}\ndata: ")),
                data,
                Bytes::from_static(b"\n\n"),
            ],
            Self::KeepAlive => vec![Bytes::from_static(b":\n\n")],
        }
    }
}

fn sse_response(
    frames: impl Stream<Item = Result<Bytes, Infallible>> + Send + 'static,
) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/event-stream"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            // nginx and friends: pass events through as they come.
            (
                HeaderName::from_static("x-accel-buffering"),
                HeaderValue::from_static("no"),
            ),
        ],
        Body::from_stream(frames),
    )
        .into_response()
}

/// The event that brings a viewer holding `held` to `snapshot`, if it lacks anything.
fn next_event(
    held: &mut Held,
    filter: &Filter,
    format: PatchFormat,
    parts: &Parts,
    snapshot: &Arc<Snapshot>,
) -> Option<Frame> {
    let version = snapshot.version;
    match held {
        Held::Whole(v) | Held::Part(v) if *v == version => None,
        Held::Whole(v) => {
            let patch = snapshot.patch.as_ref().filter(|p| p.from == *v);
            let sent = match patch {
                Some(patch) => Frame::event("patch", version, patch.bytes(format).clone()),
                None => Frame::event("snapshot", version, snapshot.json.clone()),
            };
            *held = Held::Whole(version);
            Some(sent)
        }
        Held::Nothing if filter.is_empty() => {
            *held = Held::Whole(version);
            Some(Frame::event("snapshot", version, snapshot.json.clone()))
        }
        Held::Part(v) => {
            let part = parts.get(filter, snapshot);
            let sent = match part.patch.as_ref().filter(|p| p.from == *v) {
                Some(patch) => Frame::event("patch", version, patch.bytes(format).clone()),
                _ => Frame::event("snapshot", version, part.json.clone()),
            };
            *held = Held::Part(version);
            Some(sent)
        }
        Held::Nothing => {
            let part = parts.get(filter, snapshot);
            *held = Held::Part(version);
            Some(Frame::event("snapshot", version, part.json.clone()))
        }
    }
}

fn too_many_streams() -> Response {
    tracing::warn!("live stream refused: http.max_streams reached");
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            ),
            (header::RETRY_AFTER, HeaderValue::from_static("5")),
        ],
        "pulseboard: too many open live streams (http.max_streams); try again shortly, or read \
         /api/agent-office/nodes\n",
    )
        .into_response()
}

fn too_many_from(client: ClientIp) -> Response {
    tracing::warn!(client = %client.0, "live stream refused: http.max_streams_per_client reached");
    (
        StatusCode::TOO_MANY_REQUESTS,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            ),
            (header::RETRY_AFTER, HeaderValue::from_static("15")),
        ],
        "pulseboard: too many open live streams from your address \
         (http.max_streams_per_client); close a tab, or read /api/agent-office/nodes\n",
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use pulseboard_shared::mock::mock_fleet;
    use pulseboard_shared::patch::{apply, Patch};

    use pulseboard_shared::patch::diff;

    use super::*;
    use crate::snapshot::SnapshotPatch;

    /// Snapshot `version` of the mock fleet at second `t`, with the patch from `previous`.
    fn snapshot(version: u64, t: u64, previous: Option<&Snapshot>) -> Arc<Snapshot> {
        let mut s = Snapshot::new(mock_fleet(t, 60), version);
        s.patch = previous.map(|p| {
            let patch = diff(&p.nodes, &s.nodes, p.version, version);
            Arc::new(SnapshotPatch::new(&patch, &s.nodes))
        });
        Arc::new(s)
    }

    /// The event's name and data, read back from its wire form.
    fn read(frame: Frame) -> (String, String) {
        let wire: Vec<u8> = frame.chunks().concat();
        let text = String::from_utf8(wire).unwrap();
        assert!(text.ends_with("\n\n"), "{text}");
        let field = |name: &str| {
            text.lines()
                .filter_map(|l| l.strip_prefix(name))
                .collect::<Vec<_>>()
                .join("\n")
        };
        (field("event: "), field("data: "))
    }

    #[test]
    fn a_viewer_gets_the_whole_fleet_once_then_patches_that_rebuild_it() {
        let parts = Parts::default();
        let filter = Filter::default();
        let mut held = Held::Nothing;
        let first = snapshot(10, 0, None);
        let (kind, data) =
            read(next_event(&mut held, &filter, PatchFormat::Records, &parts, &first).unwrap());
        assert_eq!(kind, "snapshot");
        let mut nodes: Nodes = serde_json::from_str(&data).unwrap();
        assert!(
            next_event(&mut held, &filter, PatchFormat::Records, &parts, &first).is_none(),
            "nothing new"
        );
        // One worker's dead letters grow: the patch carries that worker and its link.
        let mut changed = Nodes::clone(&first.nodes);
        changed.workers[7].dead_letter += 1;
        changed.links = pulseboard_shared::links_for(&changed.workers);
        changed.summary = Some(pulseboard_shared::Summary::of(&changed.workers));
        let mut second = Snapshot::new(changed, 11);
        let patch = diff(&first.nodes, &second.nodes, 10, 11);
        second.patch = Some(Arc::new(SnapshotPatch::new(&patch, &second.nodes)));
        let second = Arc::new(second);
        // A viewer that asked for field-level patches, at the same point, gets only the count.
        let mut fields_held = Held::Whole(10);
        let event = next_event(
            &mut fields_held,
            &filter,
            PatchFormat::Fields,
            &parts,
            &second,
        );
        let (_, fields) = read(event.unwrap());
        let mut from_fields: Nodes = serde_json::from_str(&data).unwrap();
        apply(
            &mut from_fields,
            10,
            &serde_json::from_str(&fields).unwrap(),
        )
        .unwrap();
        assert_eq!(from_fields, *second.nodes);
        let name = &second.nodes.workers[7].name;
        let dead = second.nodes.workers[7].dead_letter;
        assert!(
            fields.contains(&format!(
                r#""change":[{{"name":"{name}","dead_letter":{dead}}}]"#
            )),
            "{fields}"
        );
        let (kind, data) =
            read(next_event(&mut held, &filter, PatchFormat::Records, &parts, &second).unwrap());
        assert_eq!(kind, "patch");
        let patch: Patch = serde_json::from_str(&data).unwrap();
        apply(&mut nodes, 10, &patch).unwrap();
        assert_eq!(nodes, *second.nodes);
        assert!(
            data.len() < second.json.len() / 10,
            "{} of {}",
            data.len(),
            second.json.len()
        );
    }

    #[test]
    fn a_viewer_that_fell_behind_gets_the_whole_fleet_again() {
        let parts = Parts::default();
        let filter = Filter::default();
        let first = snapshot(10, 0, None);
        let second = snapshot(11, 9, Some(&first));
        let third = snapshot(12, 17, Some(&second));
        let mut held = Held::Whole(10);
        let (kind, data) =
            read(next_event(&mut held, &filter, PatchFormat::Records, &parts, &third).unwrap());
        assert_eq!(kind, "snapshot");
        assert_eq!(serde_json::from_str::<Nodes>(&data).unwrap(), *third.nodes);
    }

    #[test]
    fn a_filtered_viewer_sees_only_its_part_and_the_whole_summary() {
        let parts = Parts::default();
        let filter = Filter {
            host: None,
            problems: true,
        };
        let mut held = Held::Nothing;
        // 24 s into the mock: a worker is down.
        let first = snapshot(10, 24, None);
        let (_, data) =
            read(next_event(&mut held, &filter, PatchFormat::Records, &parts, &first).unwrap());
        let mut part: Nodes = serde_json::from_str(&data).unwrap();
        assert!(!part.workers.is_empty());
        assert!(part.workers.iter().all(|w| Condition::of(w).is_problem()));
        assert_eq!(
            part.summary, first.nodes.summary,
            "the whole fleet's summary"
        );
        // 8 s later, it is back: the patch removes it.
        let second = snapshot(11, 48, Some(&first));
        let (kind, data) =
            read(next_event(&mut held, &filter, PatchFormat::Records, &parts, &second).unwrap());
        assert_eq!(kind, "patch");
        let patch: Patch = serde_json::from_str(&data).unwrap();
        apply(&mut part, 10, &patch).unwrap();
        assert_eq!(part, filter.apply(&second.nodes));
    }
}
