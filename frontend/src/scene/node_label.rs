//! A worker's label over the 3D scene and the mark on its link (break, dead letters, pause), in
//! the page's language; never by colour alone. The label carries the recovery guard's mark (🔧
//! acting, ⛔ circuit open).

use leptos::prelude::*;
use pulseboard_shared::{
    link_status, state_label, Condition, LifecycleState as L, LinkStatus, WorkerKind, WorkerStatus,
};

use crate::guard_mark::mark_view;
use crate::stream::feed;
use crate::text::{lang, last_beat, lifecycle_note, t, Text};

/// A worker's label and the mark on its link (break, dead letters, pause).
#[component]
pub(super) fn NodeLabel(
    worker: Memo<WorkerStatus>,
    select: WriteSignal<Option<String>>,
) -> impl IntoView {
    let (feed, lang) = (feed(), lang());
    let name = worker.with_untracked(|w| w.name.clone());
    let status = move || worker.with(link_status);
    let linked = worker.with_untracked(|w| w.kind != WorkerKind::Watcher);
    let lifecycle = move || worker.with(|w| w.lifecycle.as_ref().map(|l| l.state));
    let mark = move || match (lifecycle(), status()) {
        (Some(L::Stopped), _) => ("stopped", "⏹".to_owned()),
        (Some(L::Starting), _) => ("starting", "⏳".to_owned()),
        (Some(L::Draining), _) => ("draining", "⏏".to_owned()),
        (Some(L::Unhealthy), _) => ("unhealthy", "🩺".to_owned()),
        (Some(L::Stalled), _) => ("stalled", "🧊".to_owned()),
        (Some(L::Late), LinkStatus::Healthy) => ("late", "⏰".to_owned()),
        (_, status) => match status {
            LinkStatus::Down => ("down", "⚠".to_owned()),
            LinkStatus::Degraded => (
                "dead-letter",
                worker.with(|w| format!("☠ {}", w.dead_letter)),
            ),
            LinkStatus::Paused => ("paused", "⏸".to_owned()),
            LinkStatus::Healthy => ("none", String::new()),
        },
    };
    // What the lifecycle adds in words ("stopped 3 min ago", "⏰ 32 s"); a down worker says
    // when it last beat instead.
    let note = move || {
        worker.with(|w| {
            let l = w.lifecycle.as_ref()?;
            let age = feed.age_now(l.age_s);
            lifecycle_note(lang.get(), l, age)
        })
    };
    let picked = name.clone();
    // Problems are placed first and never hidden; healthy labels give way (see `projection`).
    let condition = move || worker.with(Condition::of);
    let rank = move |marks: u32| {
        let c = condition();
        if c.is_problem() {
            c as u32 + marks
        } else {
            super::QUIET_RANK + marks + c as u32
        }
    };
    view! {
        <button
            class="node-label anchored"
            data-anchor=format!("w:{name}")
            data-worker=name.clone()
            data-status=move || status().as_str()
            data-lifecycle=move || lifecycle().map(|s| s.as_str())
            data-condition=move || condition().as_str()
            data-problem=move || condition().is_problem().to_string()
            data-rank=move || rank(0)
            style=("--accent", move || status().colour())
            on:click=move |_| select.set(Some(picked.clone()))
        >
            <span class="title">
                <b class="name">{name.clone()}</b>
                {move || worker.with(|w| mark_view(lang.get(), w))}
            </span>
            <span class="state-label">{move || worker.with(|w| state_label(w, lang.get()))}</span>
            <span class="metrics">
                {move || worker.with(|w| {
                    let l = lang.get();
                    format!(
                        "{} {} · {} {} · {} {}",
                        t(l, Text::Queue), w.queue_depth,
                        t(l, Text::DeadLetters), w.dead_letter,
                        t(l, Text::InFlight), w.processing,
                    )
                })}
            </span>
            <Show
                when=move || status() == LinkStatus::Down
                fallback=move || note().map(|n| view! { <span class="lifecycle-note">{n}</span> })
            >
                <span class="last-beat">
                    {move || last_beat(lang.get(), feed.age_now(worker.with(|w| w.last_beat_age_s)))}
                </span>
            </Show>
        </button>
        <Show when=move || linked>
            <span class="link-mark anchored" data-anchor=format!("m:{}", worker.with_untracked(|w| w.name.clone()))
                data-kind=move || mark().0 data-rank=move || rank(super::MARK_RANK)
                style=("--accent", move || status().colour())>
                {move || mark().1}
            </span>
        </Show>
    }
}
