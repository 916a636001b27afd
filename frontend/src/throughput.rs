//! Throughput over time, drawn from `GET /api/agent-office/history`: the fleet's last hour as a
//! strip under the summary ([`Throughput`]), and one worker's last hour, day or month in its
//! panel ([`WorkerThroughput`]). Each is fetched when shown and every 30 s (one small read,
//! however many workers); nothing shows until the decider has written a point, nor in mock mode.

use std::time::Duration;

use leptos::prelude::*;
use serde::Deserialize;

use crate::page::{fetch_text, query_param};
use crate::text::{lang, t, throughput_line, Range, Text};

const HISTORY: &str = "/api/agent-office/history?";
const REFETCH_EVERY: Duration = Duration::from_secs(30);
/// The drawing's width and height in its own units (it is stretched to its box).
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

/// The history query for `range`.
fn query(range: Range) -> &'static str {
    match range {
        Range::Hour => "minutes=60",
        Range::Day => "hours=24",
        Range::Month => "hours=720",
    }
}

/// How many points fill a chart of `range` from edge to edge.
fn slots(range: Range) -> usize {
    match range {
        Range::Hour => 60,
        Range::Day => 24,
        Range::Month => 720,
    }
}

/// The fleet's strip under the summary (absent until its series has a point).
#[component]
pub fn Throughput() -> impl IntoView {
    let series = fetched(|| format!("{HISTORY}{}", query(Range::Hour)));
    view! {
        <Show when=move || series.with(|s| !s.points.is_empty())>
            <figure id="throughput" class="throughput">{chart(series, || Range::Hour)}</figure>
        </Show>
    }
}

/// A worker's chart in its panel, over the range its buttons choose.
#[component]
pub fn WorkerThroughput(name: String) -> impl IntoView {
    let lang = lang();
    let range = RwSignal::new(Range::Hour);
    let worker = String::from(js_sys::encode_uri_component(&name));
    let series = fetched(move || format!("{HISTORY}worker={worker}&{}", query(range.get())));
    let button = move |r: Range| {
        view! {
            <button class="control" aria-pressed=move || (range.get() == r).to_string()
                on:click=move |_| range.set(r)>
                {move || r.label(lang.get())}
            </button>
        }
    };
    view! {
        <section class="throughput worker-throughput">
            <h3>
                {move || t(lang.get(), Text::Throughput)}
                <span class="ranges">{button(Range::Hour)}{button(Range::Day)}{button(Range::Month)}</span>
            </h3>
            <Show when=move || series.with(|s| !s.points.is_empty())
                fallback=move || view! { <p class="hint">{move || t(lang.get(), Text::NothingYet)}</p> }>
                <figure>{chart(series, move || range.get())}</figure>
            </Show>
        </section>
    }
}

/// The series at `url` (followed as it changes), fetched now and every [`REFETCH_EVERY`].
fn fetched(url: impl Fn() -> String + Clone + Send + Sync + 'static) -> ReadSignal<Series> {
    let (series, set) = signal(Series::default());
    if query_param("mock").is_none() {
        let again = url.clone();
        Effect::new(move |_| leptos::task::spawn_local(fetch(url(), set)));
        let timer = set_interval_with_handle(
            move || leptos::task::spawn_local(fetch(again(), set)),
            REFETCH_EVERY,
        );
        on_cleanup(move || {
            if let Ok(timer) = timer {
                timer.clear();
            }
        });
    }
    series
}

/// The drawing and its caption.
fn chart(
    series: ReadSignal<Series>,
    range: impl Fn() -> Range + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let lang = lang();
    let line = move |pick: fn(&Point) -> u64| {
        move || series.with(|s| polyline(&s.points, slots(range()), pick))
    };
    let caption = move || {
        series.with(|s| {
            let done = s.points.iter().map(|p| p.done).sum();
            let failed = s.points.iter().map(|p| p.failed).sum();
            throughput_line(lang.get(), s.points.len() as u64 * s.step_s, done, failed)
        })
    };
    view! {
        <svg viewBox=format!("0 0 {W} {H}") preserveAspectRatio="none" aria-hidden="true">
            <line class="base" x1="0" y1=H - 0.5 x2=W y2=H - 0.5/>
            <polyline class="done" points=line(|p| p.done)/>
            <polyline class="failed" points=line(|p| p.failed)/>
        </svg>
        <figcaption>{caption}</figcaption>
    }
}

async fn fetch(url: String, set: WriteSignal<Series>) {
    let series = match fetch_text(&url).await {
        Ok(text) => crate::json::from_str::<Series>(&text).unwrap_or_else(|err| {
            leptos::logging::warn!("skipping an unreadable history: {err}");
            Series::default()
        }),
        // Not written yet, or a range the server keeps less of: nothing to draw.
        Err(_) => Series::default(),
    };
    set.set(series);
}

/// `points` (oldest first) as an SVG polyline's points: the newest at the right edge, each step
/// one `slots`-th of the width, the largest value of either series at the top.
fn polyline(points: &[Point], slots: usize, pick: fn(&Point) -> u64) -> String {
    let top = points
        .iter()
        .map(|p| p.done.max(p.failed))
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let step = W / slots.saturating_sub(1).max(1) as f64;
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
        let done = polyline(&points, 60, |p| p.done);
        let right = format!("{:.1},{:.1}", W, 0.5);
        assert!(done.ends_with(&right), "{done}");
        let failed = polyline(&points, 60, |p| p.failed);
        let left = format!("{:.1},{:.1}", W - W / 59.0, H - 0.5);
        assert!(failed.starts_with(&left), "{failed}");
        let day = polyline(&points, 24, |p| p.done);
        assert!(day.starts_with(&format!("{:.1},", W - W / 23.0)), "{day}");
        assert_eq!(polyline(&[], 60, |p| p.done), "");
    }
}
