//! The last hour on every card and row: jobs done (green) and queue depth (amber) as two small
//! lines, from `GET /api/agent-office/history/sparklines`.
//!
//! Only what is on screen asks. A drawn [`Sparkline`] registers its worker while it is mounted
//! (the 2D list mounts only the rows in view), and one fetcher asks, once a second at most, for
//! the registered workers it has no fresh line for (older than a step of history, a minute),
//! up to 100 in one request. Lines of workers scrolled away are forgotten when they go stale.
//! However large the fleet, a screen of rows is one request a minute of about 20 KB (a worker's
//! hour is 350 to 600 bytes of JSON).

use std::collections::HashMap;
use std::time::Duration;

use leptos::prelude::*;
use pulseboard_shared::history::Sparklines;

use crate::page::{fetch_text, query_param};
use crate::text::{lang, spark_line};

const ASK: &str = "/api/agent-office/history/sparklines?minutes=60&workers=";
/// The most workers one request names (the server's bound).
const BATCH: usize = 100;
/// The drawing's width and height in its own units (it is stretched to its box).
const W: f64 = 100.0;
const H: f64 = 20.0;

/// One worker's last hour, a slot a step, `None` where nothing was written.
#[derive(Debug, Clone, Default, PartialEq)]
struct Line {
    done: Vec<Option<u64>>,
    queue_depth: Vec<Option<u64>>,
}

/// What the page knows of one worker's sparkline.
#[derive(Debug, Default)]
struct Entry {
    /// Mounted sparklines (a row re-rendered mounts its new one before or after the old one
    /// leaves).
    shown: u32,
    /// When it was last asked for (ms).
    asked: Option<f64>,
    /// The last answer; empty when the worker has no point yet.
    line: Option<Line>,
}

/// The page's sparklines: one map of workers (kept out of the reactive graph) and a counter
/// bumped when an answer changes their lines, which the drawings follow.
#[derive(Clone, Copy)]
pub struct Sparks {
    entries: StoredValue<HashMap<String, Entry>>,
    answered: RwSignal<u32>,
    step_s: StoredValue<u64>,
    busy: StoredValue<bool>,
}

impl Sparks {
    /// Provides the page's sparklines and starts their fetcher (none in mock mode: no server).
    pub fn provide() {
        let sparks = Self {
            entries: StoredValue::new(HashMap::new()),
            answered: RwSignal::new(0),
            step_s: StoredValue::new(60),
            busy: StoredValue::new(false),
        };
        provide_context(sparks);
        if query_param("mock").is_none() {
            // Leaks one timer for the page's life, as the page itself lives.
            let _ = set_interval_with_handle(move || sparks.tick(), Duration::from_secs(1));
        }
    }

    fn shown(self, name: &str, by: i32) {
        self.entries.update_value(|e| {
            let entry = e.entry(name.to_owned()).or_default();
            entry.shown = entry.shown.saturating_add_signed(by);
        });
    }

    /// Asks for the workers on screen that have no fresh line, and forgets stale lines of
    /// workers off screen.
    fn tick(self) {
        if self.busy.get_value() {
            return;
        }
        let now = js_sys::Date::now();
        // A line is asked for again after a step of history, when a new point may be there.
        let fresh_ms = self.step_s.get_value().max(1) as f64 * 1000.0;
        let stale = move |e: &Entry| e.asked.is_none_or(|at| now - at >= fresh_ms);
        let due = self.entries.try_update_value(|entries| {
            entries.retain(|_, e| e.shown > 0 || !stale(e));
            let mut due: Vec<String> = entries
                .iter()
                .filter(|(_, e)| stale(e))
                .map(|(name, _)| name.clone())
                .collect();
            due.truncate(BATCH);
            for name in &due {
                if let Some(e) = entries.get_mut(name) {
                    e.asked = Some(now);
                }
            }
            due
        });
        let Some(due) = due.filter(|d| !d.is_empty()) else {
            return;
        };
        self.busy.set_value(true);
        leptos::task::spawn_local(async move {
            self.fetch(due).await;
            self.busy.set_value(false);
        });
    }

    async fn fetch(self, names: Vec<String>) {
        let url = format!("{ASK}{}", js_sys::encode_uri_component(&names.join(" ")));
        // Not answered: asked again in a step; meanwhile the last lines stay.
        let Ok(text) = fetch_text(&url).await else {
            return;
        };
        let answer = match crate::json::from_str::<Sparklines>(&text) {
            Ok(answer) => answer,
            Err(e) => return leptos::logging::warn!("skipping unreadable sparklines: {e}"),
        };
        self.step_s.set_value(answer.step_s);
        self.entries.update_value(|entries| {
            // A worker left out has no point yet: an empty line, not a missing one.
            for name in names {
                entries.entry(name).or_default().line = Some(Line::default());
            }
            for w in answer.workers {
                let line = Line {
                    done: w.done,
                    queue_depth: w.queue_depth,
                };
                entries.entry(w.worker).or_default().line = Some(line);
            }
        });
        self.answered.update(|n| *n = n.wrapping_add(1));
    }

    /// `read` of `name`'s line, followed as answers come.
    fn with_line<T>(self, name: &str, read: impl FnOnce(&Line) -> T) -> Option<T> {
        self.answered.track();
        self.entries
            .with_value(|e| e.get(name).and_then(|e| e.line.as_ref()).map(read))
    }
}

/// A worker's last hour, as two lines and a caption for the pointer and screen readers; empty
/// until its first point is written.
#[component]
pub fn Sparkline(name: String) -> impl IntoView {
    let (sparks, lang) = (expect_context::<Sparks>(), lang());
    sparks.shown(&name, 1);
    let mounted = name.clone();
    on_cleanup(move || sparks.shown(&mounted, -1));
    let name = StoredValue::new(name);
    let caption = move || {
        let step_s = sparks.step_s.get_value();
        let said = name.with_value(|name| {
            sparks.with_line(name, |l| {
                let done = l.done.iter().flatten().sum();
                let queue = l.queue_depth.iter().rev().find_map(|q| *q)?;
                Some(spark_line(
                    lang.get(),
                    l.done.len() as u64 * step_s,
                    done,
                    queue,
                ))
            })
        });
        said.flatten()
    };
    let path = move |pick: fn(&Line) -> &[Option<u64>]| {
        move || name.with_value(|n| sparks.with_line(n, |l| path(pick(l))).unwrap_or_default())
    };
    view! {
        <svg class="spark" viewBox=format!("0 0 {W} {H}") preserveAspectRatio="none"
            role="img" aria-label=caption data-drawn=move || caption().is_some().to_string()>
            <title>{caption}</title>
            <line class="base" x1="0" y1=H - 0.5 x2=W y2=H - 0.5/>
            <path class="queue" d=path(|l| &l.queue_depth)/>
            <path class="done" d=path(|l| &l.done)/>
        </svg>
    }
}

/// `slots` as an SVG path from the left edge to the right, its largest value at the top; a gap
/// where a slot is `None`.
fn path(slots: &[Option<u64>]) -> String {
    let top = slots.iter().flatten().max().copied().unwrap_or(0).max(1) as f64;
    let step = W / slots.len().saturating_sub(1).max(1) as f64;
    let mut d = String::with_capacity(slots.len() * 12);
    let mut pen_down = false;
    for (i, slot) in slots.iter().enumerate() {
        let Some(v) = slot else {
            pen_down = false;
            continue;
        };
        let (x, y) = (step * i as f64, H - *v as f64 / top * (H - 1.0) - 0.5);
        let verb = if pen_down { 'L' } else { 'M' };
        d.push_str(&format!("{verb}{x:.1},{y:.1}"));
        pen_down = true;
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_gap_lifts_the_pen_and_the_largest_value_is_at_the_top() {
        let d = path(&[Some(0), Some(4), None, Some(2), Some(2)]);
        assert_eq!(d, "M0.0,19.5L25.0,0.5M75.0,10.0L100.0,10.0");
        assert_eq!(path(&[None, None]), "");
        assert_eq!(path(&[Some(0)]), "M0.0,19.5");
    }
}
