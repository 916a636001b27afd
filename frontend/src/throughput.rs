//! The fleet's throughput strip under the summary: jobs done (and failed) per step over the last
//! hour, from the fleet's series of `GET /api/agent-office/history`, fetched on start and every
//! 30 s (one small read for the whole fleet, however many workers). Nothing shows until the
//! decider has written a point, nor in mock mode.

use std::time::Duration;

use leptos::prelude::*;
use serde::Deserialize;

use crate::page::{fetch_text, query_param};
use crate::text::{lang, throughput_line};

/// The last hour of the fleet's points (at the default step of a minute).
const HISTORY: &str = "/api/agent-office/history?minutes=60";
const REFETCH_EVERY: Duration = Duration::from_secs(30);
/// The drawing's width and height in its own units (it is stretched to the strip).
const W: f64 = 120.0;
const H: f64 = 20.0;

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
struct Point {
    done: u64,
    failed: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
struct Series {
    step_s: u64,
    points: Vec<Point>,
}

/// The strip (absent until the fleet's series has a point).
#[component]
pub fn Throughput() -> impl IntoView {
    let lang = lang();
    let (series, set_series) = signal(Series::default());
    if query_param("mock").is_none() {
        leptos::task::spawn_local(fetch(set_series));
        let timer = set_interval_with_handle(
            move || leptos::task::spawn_local(fetch(set_series)),
            REFETCH_EVERY,
        );
        on_cleanup(move || {
            if let Ok(timer) = timer {
                timer.clear();
            }
        });
    }
    let line = move |pick: fn(&Point) -> u64| move || series.with(|s| polyline(&s.points, pick));
    let caption = move || {
        series.with(|s| {
            let done = s.points.iter().map(|p| p.done).sum();
            let failed = s.points.iter().map(|p| p.failed).sum();
            let minutes = (s.points.len() as u64 * s.step_s).div_ceil(60).max(1);
            throughput_line(lang.get(), minutes, done, failed)
        })
    };
    view! {
        <Show when=move || series.with(|s| !s.points.is_empty())>
            <figure id="throughput" class="throughput">
                <svg viewBox=format!("0 0 {W} {H}") preserveAspectRatio="none" aria-hidden="true">
                    <line class="base" x1="0" y1=H - 0.5 x2=W y2=H - 0.5/>
                    <polyline class="done" points=line(|p| p.done)/>
                    <polyline class="failed" points=line(|p| p.failed)/>
                </svg>
                <figcaption>{caption}</figcaption>
            </figure>
        </Show>
    }
}

async fn fetch(set: WriteSignal<Series>) {
    let Ok(text) = fetch_text(HISTORY).await else {
        return;
    };
    match crate::json::from_str::<Series>(&text) {
        Ok(series) => set.set(series),
        Err(err) => leptos::logging::warn!("skipping an unreadable history: {err}"),
    }
}

/// `points` (oldest first) as an SVG polyline's points: the newest at the right edge, each step
/// one sixtieth of the width, the largest value of either series at the top.
fn polyline(points: &[Point], pick: fn(&Point) -> u64) -> String {
    let top = points
        .iter()
        .map(|p| p.done.max(p.failed))
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let step = W / 59.0;
    let first = W - step * (points.len().saturating_sub(1)) as f64;
    let mut out = String::with_capacity(points.len() * 12);
    for (i, p) in points.iter().enumerate() {
        let x = first + step * i as f64;
        let y = H - pick(p) as f64 / top * (H - 1.0) - 0.5;
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&format!("{x:.1},{y:.1}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_newest_point_is_at_the_right_edge_and_the_largest_at_the_top() {
        let points = [Point { done: 0, failed: 0 }, Point { done: 4, failed: 1 }];
        let done = polyline(&points, |p| p.done);
        let right = format!("{:.1},{:.1}", W, 0.5);
        assert!(done.ends_with(&right), "{done}");
        let failed = polyline(&points, |p| p.failed);
        assert!(
            failed.starts_with(&format!("{:.1},{:.1}", W - W / 59.0, H - 0.5)),
            "{failed}"
        );
        assert_eq!(polyline(&[], |p| p.done), "");
    }
}
