//! The detail panel: every field of one worker's contract-2 record, live.

use leptos::prelude::*;
use pulseboard_shared::{link_status, state_label, Lang, WorkerStatus};

use crate::stream::Feed;
use crate::text::{t, Text};

/// The panel for the worker named by `selected`; closes by clearing it.
#[component]
pub fn Detail(
    feed: Feed,
    lang: ReadSignal<Lang>,
    selected: RwSignal<Option<String>>,
) -> impl IntoView {
    let record = move || {
        let name = selected.get()?;
        feed.nodes
            .with(|n| n.as_ref()?.workers.iter().find(|w| w.name == name).cloned())
    };
    view! {
        {move || record().map(|w| {
            let rows = fields(&w, lang.get(), feed.age_now(w.last_beat_age_s));
            view! {
                <aside id="detail" data-worker=w.name.clone() style=("--accent", link_status(&w).colour())>
                    <header>
                        <h2>{w.name.clone()}</h2>
                        <button class="control" on:click=move |_| selected.set(None)>
                            {t(lang.get_untracked(), Text::Close)}
                        </button>
                    </header>
                    <dl>
                        {rows.into_iter().map(|(k, v)| view! { <dt>{k}</dt><dd data-field=k>{v}</dd> }).collect_view()}
                    </dl>
                </aside>
            }
        })}
    }
}

fn fields(w: &WorkerStatus, lang: Lang, age_now: Option<u64>) -> Vec<(&'static str, String)> {
    let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "—".into());
    vec![
        ("name", w.name.clone()),
        ("kind", format!("{:?}", w.kind).to_lowercase()),
        ("host", opt(&w.host)),
        ("registered", w.registered.to_string()),
        ("alive", w.alive.to_string()),
        ("state", opt(&w.state)),
        ("label", state_label(w, lang).to_owned()),
        ("link", link_status(w).as_str().to_owned()),
        (
            "last_beat_age_s",
            age_now.map_or("—".into(), |a| a.to_string()),
        ),
        ("queue_depth", w.queue_depth.to_string()),
        ("dead_letter", w.dead_letter.to_string()),
        ("processing", w.processing.to_string()),
        ("jobs_done", w.jobs_done.to_string()),
        ("jobs_failed", w.jobs_failed.to_string()),
        ("last_job_at", opt(&w.last_job_at)),
        ("error", opt(&w.error)),
    ]
}
