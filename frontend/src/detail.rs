//! The detail panel: every field of one worker's contract-2 record, live, with what it declared
//! about itself (checks, reason, pid, version, current job), and its recovery guard with the
//! buttons to act on it ([`crate::recovery`]), its orphaned jobs, and its dead letters
//! ([`crate::dead_letters`]).

use leptos::prelude::*;
use pulseboard_shared::{link_status, state_label, Condition, Lang, WorkerKind, WorkerStatus};

use crate::card::parts_view;
use crate::dead_letters::DeadLettersSection;
use crate::guard_mark::local_time;
use crate::page::web_link;
use crate::recovery::{server_now, RecoverySection};
use crate::stream::feed;
use crate::text::{
    drift_line, field_name, kind_name, lang, lifecycle_name, lifecycle_reason, link_name,
    orphans_line, silence_line, t, yes_no, Text,
};
use crate::throughput::WorkerThroughput;

/// The panel for the worker named by `selected`; closes by clearing it.
///
/// It is built once per selected worker (its values follow the feed in place), so what is typed
/// into it (the admin token) survives new snapshots.
#[component]
pub fn Detail(selected: RwSignal<Option<String>>) -> impl IntoView {
    let (feed, lang) = (feed(), lang());
    move || {
        let name = selected.get()?;
        let wanted = name.clone();
        let record = Memo::new(move |_| {
            feed.nodes.with(|n| {
                n.as_ref()?
                    .workers
                    .iter()
                    .find(|w| w.name == wanted)
                    .cloned()
            })
        });
        // Render workers have a queue; any worker with dead letters shows them.
        let has_queue = move || {
            record.with(|w| {
                w.as_ref()
                    .is_some_and(|w| w.kind == WorkerKind::Render || w.dead_letter > 0)
            })
        };
        let dl_name = StoredValue::new(name.clone());
        let accent = move || record.with(|w| w.as_ref().map(|w| link_status(w).colour()));
        let rows = move || {
            record.with(|w| {
                let w = w.as_ref()?;
                let rows = fields(w, lang.get(), feed.age_now(w.last_beat_age_s));
                Some(
                    rows.into_iter()
                        .map(|(k, v)| {
                            view! { <dt title=k>{field_name(lang.get(), k)}</dt><dd data-field=k>{v}</dd> }
                        })
                        .collect_view(),
                )
            })
        };
        Some(view! {
            <Show when=move || record.with(Option::is_some)>
                <aside id="detail" data-worker=name.clone() style=("--accent", accent)>
                    <header>
                        <h2>{name.clone()}</h2>
                        <button class="control" on:click=move |_| selected.set(None)>
                            {move || t(lang.get(), Text::Close)}
                        </button>
                    </header>
                    {move || record.with(|w| w.as_ref()?.silence.clone()).map(|s| {
                        let kind = if s.maintenance { "maintenance" } else { "silenced" };
                        let line = move || silence_line(lang.get(), &s, &local_time(s.until));
                        view! { <p class="silence-line" data-silence=kind>{line}</p> }
                    })}
                    {move || record.with(|w| w.as_ref().map(|w| w.drift.clone())).unwrap_or_default().into_iter().map(|d| {
                        let field = d.field.as_str();
                        view! { <p class="drift" data-field=field>{move || drift_line(lang.get(), &d)}</p> }
                    }).collect::<Vec<_>>()}
                    {move || {
                        let base = feed.nodes.with(|n| n.as_ref()?.runbook_url.as_deref().and_then(web_link))?;
                        let anchor = record.with(|w| Condition::of(w.as_ref()?).runbook_anchor())?;
                        let href = format!("{base}#{anchor}");
                        Some(view! {
                            <a class="runbook" href=href target="_blank" rel="noopener noreferrer">
                                {t(lang.get(), Text::RunbookSection)}
                            </a>
                        })
                    }}
                    {move || record.with(|w| parts_view(lang.get(), w.as_ref()?))}
                    <RecoverySection name=name.clone() worker=record/>
                    {move || record.with(|w| w.as_ref()?.rescue.clone()).map(|v| {
                        let jobs = v.orphaned_jobs;
                        let line = move || {
                            let due = v.next_rescue_at.map(|at| at.saturating_sub(server_now(feed).unwrap_or(at)));
                            orphans_line(lang.get(), &v, due)
                        };
                        view! { <p class="orphans" data-orphaned=jobs>{line}</p> }
                    })}
                    <Show when=has_queue>
                        <DeadLettersSection name=dl_name.get_value() worker=record/>
                    </Show>
                    <WorkerThroughput name=name.clone()/>
                    <dl>{rows}</dl>
                </aside>
            </Show>
        })
    }
}

/// The record's fields under their contract names (shown in the page's language, the API's key
/// in the tooltip), the label in the page's language.
fn fields(w: &WorkerStatus, lang: Lang, age_now: Option<u64>) -> Vec<(&'static str, String)> {
    let dash = || "—".to_owned();
    let opt = |v: &Option<String>| v.clone().unwrap_or_else(dash);
    let d = w.declared.clone().unwrap_or_default();
    let lifecycle = w.lifecycle.as_ref();
    let checks = d.checks.map_or_else(dash, |checks| {
        let marks = checks
            .iter()
            .map(|(name, ok)| format!("{} {name}", if *ok { "✓" } else { "✗" }));
        marks.collect::<Vec<_>>().join(", ")
    });
    vec![
        ("name", w.name.clone()),
        ("kind", kind_name(lang, w.kind.as_str())),
        ("host", opt(&w.host)),
        ("registered", yes_no(lang, w.registered).to_owned()),
        ("alive", yes_no(lang, w.alive).to_owned()),
        ("state", opt(&w.state)),
        ("label", state_label(w, lang).to_owned()),
        ("link", link_name(lang, link_status(w)).to_owned()),
        (
            "lifecycle",
            lifecycle.map_or_else(dash, |l| lifecycle_name(lang, l.state).to_owned()),
        ),
        (
            "reason",
            lifecycle
                .and_then(|l| lifecycle_reason(lang, l))
                .unwrap_or_else(dash),
        ),
        ("checks", checks),
        (
            "current_job",
            d.current_job
                .map_or_else(dash, |j| format!("{} ({})", j.id, j.started_at)),
        ),
        ("pid", d.pid.map_or_else(dash, |p| p.to_string())),
        ("version", opt(&d.version)),
        ("started_at", opt(&d.started_at)),
        (
            "exit_code",
            d.exit_code.map_or_else(dash, |c| c.to_string()),
        ),
        (
            "last_beat_age_s",
            age_now.map_or_else(dash, |a| a.to_string()),
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
