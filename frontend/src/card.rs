//! One worker's card: its state label, liveness, queues and counters, edged in its link colour.
//!
//! Every value is a reactive text node bound to this worker's record, so a new snapshot updates
//! the numbers in place and the card element itself stays put (browser tests hold on to it).

use leptos::prelude::*;
use pulseboard_shared::{link_status, state_label, Lang, WorkerStatus};

use crate::stream::Feed;

/// The card of `worker`, labelled in `lang`; its heartbeat age counts up between snapshots.
#[component]
pub fn WorkerCard(worker: Memo<WorkerStatus>, feed: Feed, lang: ReadSignal<Lang>) -> impl IntoView {
    let status = move || worker.with(link_status);
    let field = move |read: fn(&WorkerStatus) -> String| move || worker.with(read);
    let name = worker.with_untracked(|w| w.name.clone());
    // A field's name in the page's language.
    let say = move |ko: &'static str, en: &'static str| {
        move || match lang.get() {
            Lang::Ko => ko,
            Lang::En => en,
        }
    };

    view! {
        <article
            class="worker-card"
            data-worker=name
            data-status=move || status().as_str()
            style=("--accent", move || status().colour())
        >
            <header>
                <h2 class="name">{name.clone()}</h2>
                <span class="state-label">{move || worker.with(|w| state_label(w, lang.get()))}</span>
            </header>
            <p class="tags">
                {move || worker.with(|w| w.host.clone()).map(|host| view! { <span class="host">{host}</span> })}
                <Show when=move || !worker.with(|w| w.registered)>
                    <span class="unregistered">{say("미등록", "unregistered")}</span>
                </Show>
            </p>
            <dl>
                <dt>{say("생존", "alive")}</dt>
                <dd class="alive">{field(|w| yes_no(w.alive).into())}</dd>
                <dt>{say("마지막 신호", "last beat")}</dt>
                <dd class="last-beat">{move || beat_age(feed.age_now(worker.with(|w| w.last_beat_age_s)))}</dd>
                <dt>{say("대기열", "queue")}</dt>
                <dd class="queue-depth">{field(|w| w.queue_depth.to_string())}</dd>
                <dt>{say("처리 중", "in flight")}</dt>
                <dd class="processing">{field(|w| w.processing.to_string())}</dd>
                <dt>{say("실패 보관", "dead letters")}</dt>
                <dd class="dead-letter">{field(|w| w.dead_letter.to_string())}</dd>
                <dt>{say("완료 / 실패", "done / failed")}</dt>
                <dd class="jobs">{field(|w| format!("{} / {}", w.jobs_done, w.jobs_failed))}</dd>
            </dl>
            {move || worker.with(|w| w.error.clone()).map(|error| view! { <p class="error">{error}</p> })}
        </article>
    }
}

fn yes_no(value: bool) -> &'static str {
    if value {
        "yes"
    } else {
        "no"
    }
}

/// "3 s ago", "4 min ago", "2 h ago", or "never" when no heartbeat was ever seen.
fn beat_age(age_s: Option<u64>) -> String {
    match age_s {
        None => "never".into(),
        Some(s) if s < 120 => format!("{s} s ago"),
        Some(s) if s < 2 * 3600 => format!("{} min ago", s / 60),
        Some(s) => format!("{} h ago", s / 3600),
    }
}
