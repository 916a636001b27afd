//! One worker's card: its state label, lifecycle, liveness, queues and counters, its last hour
//! as a sparkline, edged in its link colour.
//!
//! Every value is a reactive text node bound to this worker's record, so a new snapshot updates
//! the numbers in place and the card element itself stays put (browser tests hold on to it).

use leptos::prelude::*;
use pulseboard_shared::{link_status, state_label, Lang, WorkerStatus};

use crate::guard_mark::mark_view;
use crate::sparkline::Sparkline;
use crate::stream::feed;
use crate::text::{ago, lang, lifecycle_note, part_line, t, yes_no, Text};

/// The card of `worker`; its ages count up between snapshots. A click (or Enter) opens its detail
/// panel through `select`.
#[component]
pub fn WorkerCard(
    worker: Memo<WorkerStatus>,
    select: WriteSignal<Option<String>>,
) -> impl IntoView {
    let (feed, lang) = (feed(), lang());
    let status = move || worker.with(link_status);
    let field = move |read: fn(&WorkerStatus) -> String| move || worker.with(read);
    let name = worker.with_untracked(|w| w.name.clone());
    let say = move |text: Text| move || t(lang.get(), text);
    let lifecycle = move || worker.with(|w| w.lifecycle.as_ref().map(|l| l.state));
    let note = move || {
        worker.with(|w| {
            let l = w.lifecycle.as_ref()?;
            lifecycle_note(lang.get(), l, feed.age_now(l.age_s))
        })
    };

    let (picked, keyed) = (name.clone(), name.clone());
    view! {
        <article
            class="worker-card"
            tabindex="0"
            on:click=move |_| select.set(Some(picked.clone()))
            on:keydown=move |ev| {
                if ev.key() == "Enter" {
                    select.set(Some(keyed.clone()));
                }
            }
            data-worker=name
            data-status=move || status().as_str()
            data-lifecycle=move || lifecycle().map(|s| s.as_str())
            style=("--accent", move || status().colour())
        >
            <header>
                <h2 class="name">
                    {name.clone()}
                    {move || worker.with(|w| mark_view(lang.get(), w))}
                </h2>
                <span class="state-label">{move || worker.with(|w| state_label(w, lang.get()))}</span>
            </header>
            {move || note().map(|note| view! { <p class="lifecycle-note">{note}</p> })}
            {move || worker.with(|w| parts_view(lang.get(), w))}
            <p class="tags">
                {move || worker.with(|w| w.host.clone()).map(|host| view! { <span class="host">{host}</span> })}
                <Show when=move || !worker.with(|w| w.registered)>
                    <span class="unregistered">{say(Text::Unregistered)}</span>
                </Show>
            </p>
            <dl>
                <dt>{say(Text::Alive)}</dt>
                <dd class="alive">{move || worker.with(|w| yes_no(lang.get(), w.alive))}</dd>
                <dt>{say(Text::LastBeat)}</dt>
                <dd class="last-beat">{move || ago(lang.get(), feed.age_now(worker.with(|w| w.last_beat_age_s)))}</dd>
                <dt>{say(Text::QueueDepth)}</dt>
                <dd class="queue-depth">{field(|w| w.queue_depth.to_string())}</dd>
                <dt>{say(Text::Processing)}</dt>
                <dd class="processing">{field(|w| w.processing.to_string())}</dd>
                <dt>{say(Text::DeadLetterList)}</dt>
                <dd class="dead-letter">{field(|w| w.dead_letter.to_string())}</dd>
                <dt>{say(Text::DoneFailed)}</dt>
                <dd class="jobs">{field(|w| format!("{} / {}", w.jobs_done, w.jobs_failed))}</dd>
            </dl>
            <Sparkline name=name.clone()/>
            {move || worker.with(|w| w.error.clone()).map(|error| view! { <p class="error">{error}</p> })}
        </article>
    }
}

/// A line per part of a worker of several processes, in its part's state; nothing for a worker
/// of one process.
pub fn parts_view(lang: Lang, w: &WorkerStatus) -> Option<impl IntoView> {
    let line = |p: &pulseboard_shared::parts::PartStatus| {
        let state = p.lifecycle.state.as_str();
        view! { <li data-part=p.name.clone() data-lifecycle=state>{part_line(lang, p)}</li> }
    };
    (!w.parts.is_empty())
        .then(|| view! { <ul class="parts">{w.parts.iter().map(line).collect_view()}</ul> })
}
