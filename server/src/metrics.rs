//! `GET /metrics`: the fleet and pulseboard itself in the OpenMetrics text format, for
//! Prometheus, with the Prometheus project's own client (`prometheus-client`).
//!
//! Everything is read from the latest snapshot and the process's own counters: a scrape never
//! touches Redis. Series are per worker and per link, so their number follows the fleet; label
//! values (worker names come from Redis) are escaped by the encoder.

use std::fmt;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;
use pulseboard_shared::{Condition, LinkStatus, WorkerStatus};

use crate::alerts::engine::SinkFigures;
use crate::alerts::AlertsHandle;
use crate::snapshot::Snapshot;

/// The content type of the OpenMetrics text format.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// What a scrape reads besides the snapshot.
pub struct Process<'a> {
    /// Refresh durations since start.
    pub refreshes: &'a Histogram,
    /// Live streams open now.
    pub streams_open: usize,
    /// The alerts, when enabled.
    pub alerts: Option<&'a AlertsHandle>,
}

/// The whole exposition for `snapshot` and `process`.
pub fn render(snapshot: &std::sync::Arc<Snapshot>, process: Process<'_>) -> String {
    let mut registry = Registry::default();
    registry.register_collector(Box::new(Fleet(snapshot.clone())));
    registry.register(
        "pulseboard_refresh_duration_seconds",
        "How long a refresh takes: one Redis round trip, the judgement, serialising",
        process.refreshes.clone(),
    );
    registry.register_collector(Box::new(Own {
        commands: snapshot.commands as u64,
        redis_ok: snapshot.nodes.redis_ok,
        streams_open: process.streams_open as u64,
        alerts: process.alerts.map(AlertsHandle::sink_figures),
        sender: process.alerts.map(AlertsHandle::is_sender),
    }));
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &registry)
        .expect("writing to a String cannot fail");
    text
}

/// The fleet's series, from one snapshot.
#[derive(Debug)]
struct Fleet(std::sync::Arc<Snapshot>);

impl Collector for Fleet {
    fn encode(&self, mut encoder: DescriptorEncoder) -> fmt::Result {
        let nodes = &self.0.nodes;
        let workers = &nodes.workers;
        let name_of = |w: &WorkerStatus| [("worker", w.name.clone())];
        let e = &mut encoder;

        gauge_family(
            e,
            "pulseboard_worker_up",
            "1 while the worker's heartbeat key exists (contract 2's alive), else 0",
            workers.iter().map(|w| {
                let labels = [
                    ("worker", w.name.clone()),
                    ("kind", w.kind.as_str().to_owned()),
                    ("host", w.host.clone().unwrap_or_default()),
                ];
                (labels, i64::from(w.alive))
            }),
        )?;
        gauge_family(
            e,
            "pulseboard_worker_condition",
            "1 for the worker's one condition, the most urgent thing true of it",
            workers.iter().map(|w| {
                let labels = [
                    ("worker", w.name.clone()),
                    ("condition", Condition::of(w).as_str().to_owned()),
                ];
                (labels, 1)
            }),
        )?;
        gauge_family(
            e,
            "pulseboard_worker_lifecycle",
            "1 for the worker's lifecycle state (starting, ready, unhealthy, late, stalled, draining, stopped, failed, down)",
            workers.iter().filter_map(|w| {
                let l = w.lifecycle.as_ref()?;
                Some(([("worker", w.name.clone()), ("state", l.state.as_str().into())], 1))
            }),
        )?;
        for (name, help, value) in [
            (
                "pulseboard_worker_queue_depth",
                "Jobs waiting in the worker's queue",
                (|w| w.queue_depth) as fn(&WorkerStatus) -> u64,
            ),
            (
                "pulseboard_worker_processing",
                "Jobs in flight (the worker's in-flight lists)",
                |w| w.processing,
            ),
            (
                "pulseboard_worker_dead_letter",
                "Jobs in the worker's dead-letter list",
                |w| w.dead_letter,
            ),
        ] {
            let series = workers.iter().map(|w| (name_of(w), value(w) as i64));
            gauge_family(e, name, help, series)?;
        }
        gauge_family(
            e,
            "pulseboard_worker_last_beat_age_seconds",
            "Seconds since the worker's last heartbeat (absent when never seen)",
            workers
                .iter()
                .filter_map(|w| Some((name_of(w), w.last_beat_age_s? as i64))),
        )?;
        for (name, help, value) in [
            (
                "pulseboard_worker_jobs_done",
                "Jobs the worker says it finished (resets when it restarts)",
                (|w| w.jobs_done) as fn(&WorkerStatus) -> u64,
            ),
            (
                "pulseboard_worker_jobs_failed",
                "Jobs the worker says failed (resets when it restarts)",
                |w| w.jobs_failed,
            ),
        ] {
            let series = workers.iter().map(|w| (name_of(w), value(w)));
            counter_family(e, name, help, series)?;
        }
        let summary = pulseboard_shared::Summary::of(workers);
        gauge_family(
            e,
            "pulseboard_workers",
            "Workers per condition",
            Condition::ALL
                .into_iter()
                .map(|c| ([("condition", c.as_str())], summary.count(c) as i64)),
        )?;
        gauge_family(
            e,
            "pulseboard_link_status",
            "1 for each link's status (healthy, paused, down, degraded)",
            nodes.links.iter().map(|link| {
                let labels = [
                    ("from", link.from.clone()),
                    ("to", link.to.clone()),
                    ("status", link_status_name(link.status).to_owned()),
                ];
                (labels, 1)
            }),
        )?;
        gauge_family(
            e,
            "pulseboard_worker_recovery",
            "1 for the recovery guard's state of a worker it has something to say about (waiting, backoff, acting, recommending, blocked, held, circuit_open); the attempts in its window as a second series",
            workers.iter().filter_map(|w| {
                let r = w.recovery.as_ref()?;
                Some(([("worker", w.name.clone()), ("state", r.state.as_str().into())], 1))
            }),
        )?;
        gauge_family(
            e,
            "pulseboard_worker_recovery_attempts",
            "Restarts the recovery guard asked for in the current window",
            workers.iter().filter_map(|w| {
                let r = w.recovery.as_ref()?;
                Some((name_of(w), i64::from(r.attempts)))
            }),
        )?;
        gauge(
            e,
            "pulseboard_queues_paused",
            "1 while the global queue:paused flag is set",
            i64::from(nodes.paused),
        )?;
        let ignored = nodes.summary.as_ref().and_then(|s| s.ignored_workers);
        gauge(
            e,
            "pulseboard_workers_ignored",
            "Heartbeat keys discovery found and never read (bad names, beyond max_unregistered)",
            ignored.map_or(0, |i| i.count as i64),
        )
    }
}

/// A gauge family: its descriptor, then one series per `(labels, value)` (none is fine: the
/// descriptor is still written).
fn gauge_family<L: EncodeLabelSet>(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    series: impl IntoIterator<Item = (L, i64)>,
) -> fmt::Result {
    let mut family = encoder.encode_descriptor(name, help, None, MetricType::Gauge)?;
    for (labels, value) in series {
        ConstGauge::new(value).encode(family.encode_family(&labels)?)?;
    }
    Ok(())
}

/// A counter family (`_total` is added by the encoder): its descriptor, then one series per
/// `(labels, value)`.
fn counter_family<L: EncodeLabelSet>(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    series: impl IntoIterator<Item = (L, u64)>,
) -> fmt::Result {
    let mut family = encoder.encode_descriptor(name, help, None, MetricType::Counter)?;
    for (labels, value) in series {
        ConstCounter::new(value).encode(family.encode_family(&labels)?)?;
    }
    Ok(())
}

/// A gauge without labels: its descriptor and its one value.
fn gauge(encoder: &mut DescriptorEncoder, name: &str, help: &str, value: i64) -> fmt::Result {
    let family = encoder.encode_descriptor(name, help, None, MetricType::Gauge)?;
    ConstGauge::new(value).encode(family)
}

fn link_status_name(status: LinkStatus) -> &'static str {
    match status {
        LinkStatus::Healthy => "healthy",
        LinkStatus::Paused => "paused",
        LinkStatus::Down => "down",
        LinkStatus::Degraded => "degraded",
    }
}

/// pulseboard's own series.
#[derive(Debug)]
struct Own {
    commands: u64,
    redis_ok: bool,
    streams_open: u64,
    alerts: Option<Vec<SinkFigures>>,
    sender: Option<bool>,
}

impl Collector for Own {
    fn encode(&self, mut encoder: DescriptorEncoder) -> fmt::Result {
        let e = &mut encoder;
        gauge(
            e,
            "pulseboard_redis_ok",
            "1 when the last refresh could read Redis",
            i64::from(self.redis_ok),
        )?;
        gauge(
            e,
            "pulseboard_redis_commands_per_refresh",
            "Redis commands of the last refresh (sent in one round trip)",
            self.commands as i64,
        )?;
        gauge(
            e,
            "pulseboard_stream_clients",
            "Live streams open now",
            self.streams_open as i64,
        )?;
        use std::sync::atomic::Ordering::Relaxed;
        for (name, help, value) in [
            (
                "pulseboard_jobs_rescued",
                "Jobs left by a consumer that is gone put back on their queue by this process",
                crate::rescue::RESCUED.load(Relaxed),
            ),
            (
                "pulseboard_jobs_quarantined",
                "Orphaned jobs sent to the dead letters instead (orphaned too often)",
                crate::rescue::QUARANTINED.load(Relaxed),
            ),
        ] {
            let none: [(&str, String); 0] = [];
            counter_family(e, name, help, [(none, value)])?;
        }
        let Some(sinks) = &self.alerts else {
            return Ok(());
        };
        gauge(
            e,
            "pulseboard_alerts_sender",
            "1 when this process holds the alerts' lease (sends them)",
            i64::from(self.sender == Some(true)),
        )?;
        for (name, help, value, kind) in [
            (
                "pulseboard_alerts_sent",
                "Alerts delivered, per sink",
                (|s| s.delivered) as fn(&SinkFigures) -> u64,
                MetricType::Counter,
            ),
            (
                "pulseboard_alerts_failed",
                "Delivery attempts that failed (and were retried), per sink",
                |s| s.failed_attempts,
                MetricType::Counter,
            ),
            (
                "pulseboard_alerts_given_up",
                "Alerts given up after retrying, per sink",
                |s| s.given_up,
                MetricType::Counter,
            ),
            (
                "pulseboard_alerts_waiting",
                "Alerts waiting in the sink's outbox",
                |s| s.waiting,
                MetricType::Gauge,
            ),
        ] {
            let series = sinks
                .iter()
                .map(|s| ([("sink", s.name.as_str())], value(s)));
            match kind {
                MetricType::Counter => counter_family(e, name, help, series)?,
                _ => gauge_family(e, name, help, series.map(|(l, v)| (l, v as i64)))?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use pulseboard_shared::mock::mock_fleet;

    use super::*;

    fn scrape(snapshot: Snapshot) -> String {
        let refreshes = crate::snapshot::refresh_histogram();
        refreshes.observe(0.004);
        render(
            &Arc::new(snapshot),
            Process {
                refreshes: &refreshes,
                streams_open: 3,
                alerts: None,
            },
        )
    }

    /// `name{labels} value` of every series, checking each line is well formed.
    fn series(text: &str) -> Vec<(String, f64)> {
        assert!(text.ends_with("# EOF\n"), "OpenMetrics ends with # EOF");
        text.lines()
            .filter(|l| !l.starts_with('#'))
            .map(|l| {
                let (key, value) = l.rsplit_once(' ').unwrap_or_else(|| panic!("{l}"));
                let value: f64 = value.parse().unwrap_or_else(|_| panic!("{l}"));
                (key.to_owned(), value)
            })
            .collect()
    }

    fn value(text: &str, key: &str) -> Option<f64> {
        series(text)
            .into_iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }

    #[test]
    fn the_fleet_is_exposed_per_worker_and_per_condition() {
        // 24 s into the mock script, video-render is down.
        let text = scrape(Snapshot::new(mock_fleet(24, 6), 1));
        let up = |name: &str| {
            series(&text)
                .into_iter()
                .find(|(k, _)| k.starts_with(&format!("pulseboard_worker_up{{worker=\"{name}\"")))
                .map(|(_, v)| v)
        };
        assert_eq!(up("music-render"), Some(1.0));
        assert_eq!(up("video-render"), Some(0.0));
        assert_eq!(
            value(
                &text,
                r#"pulseboard_worker_condition{worker="video-render",condition="down"}"#
            ),
            Some(1.0)
        );
        assert_eq!(
            value(&text, r#"pulseboard_workers{condition="down"}"#),
            Some(1.0)
        );
        assert_eq!(
            value(&text, r#"pulseboard_workers{condition="healthy"}"#),
            Some(5.0)
        );
        assert!(value(
            &text,
            r#"pulseboard_worker_jobs_done_total{worker="music-render"}"#
        )
        .is_some());
        assert_eq!(value(&text, "pulseboard_stream_clients"), Some(3.0));
        assert_eq!(
            value(&text, "pulseboard_refresh_duration_seconds_count"),
            Some(1.0)
        );
        assert_eq!(
            value(
                &text,
                r#"pulseboard_link_status{from="nas",to="video-render",status="down"}"#
            ),
            Some(1.0)
        );
        // No alert series without alerts.
        assert!(!text.contains("pulseboard_alerts_"));
    }

    #[test]
    fn names_from_redis_are_escaped_in_label_values() {
        let mut nodes = mock_fleet(0, 6);
        nodes.workers[0].name = "evil\"} 1\nfake_metric{x=\"\\".into();
        let text = scrape(Snapshot::new(nodes, 1));
        assert!(
            text.contains(r#"worker="evil\"} 1\nfake_metric{x=\"\\""#),
            "{text}"
        );
        // Every line still parses, and no series was injected.
        assert!(series(&text)
            .iter()
            .all(|(k, _)| !k.starts_with("fake_metric")));
    }

    #[test]
    fn series_grow_with_the_fleet_only() {
        let small = series(&scrape(Snapshot::new(mock_fleet(0, 6), 1))).len();
        let large = series(&scrape(Snapshot::new(mock_fleet(0, 60), 1))).len();
        // Per worker: up, condition, lifecycle, 3 lists, age, 2 counters, and a link for renders.
        assert!(large - small <= 54 * 11, "{small} -> {large}");
        assert!(large > small);
    }
}
