//! The alert timeline: the newest entries of `GET /api/agent-office/events` (transitions and
//! their deliveries, commands, the recovery guard's records), fetched again whenever a new
//! snapshot arrives (a transition comes with a change) and every 10 s (deliveries and retries
//! come without one). Not shown in mock mode. An incident is one line: its alerts (a host's
//! first alert, those grouped into it, their deliveries) fold under its summary, the guard's
//! repeated "blocked" records under the newest, and the reader may expand them ([`fold`]).

mod fold;

use std::time::Duration;

use leptos::prelude::*;
use pulseboard_shared::alert_kind::AlertKind;
use pulseboard_shared::dead_letters::DeadLetterAction;
use pulseboard_shared::recovery::{AuditEntry, AuditWhat, Block};
use pulseboard_shared::Lang;
use serde::Deserialize;
use wasm_bindgen::JsValue;

use crate::ack::Acks;
use crate::page::{fetch_text, query_param, web_link};
use crate::stream::feed;
use crate::text::{
    command_line, delivery, dl_logged, folded_incident, lang, recovery_line, rescue_line, t, Text,
};
use fold::{fold, Row};

/// The newest entries, their alerts worded in the page's language (`&lang=` is appended): more
/// than the lines shown, so a folded incident brings its members along.
const EVENTS: &str = "/api/agent-office/events?limit=60&lang=";
/// The lines shown, once folded.
const LINES: usize = 20;
const REFETCH_EVERY: Duration = Duration::from_secs(10);

/// One entry, as the event log serves it (fields the page does not show are ignored).
#[derive(Debug, Clone, PartialEq, Deserialize)]
struct Entry {
    id: String,
    at: String,
    #[serde(rename = "type")]
    kind: String,
    /// The alert a transition or a delivery is about.
    #[serde(default)]
    alert_id: String,
    #[serde(default)]
    alert: Option<EntryAlert>,
    #[serde(default)]
    sink: Option<String>,
    #[serde(default)]
    attempt: Option<u32>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    worker: Option<String>,
    #[serde(default)]
    command: Option<EntryCommand>,
    #[serde(default)]
    recovery: Option<AuditEntry>,
    #[serde(default)]
    dead_letters: Option<EntryDeadLetters>,
    #[serde(default)]
    rescue: Option<EntryRescue>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
struct EntryRescue {
    consumer: String,
    moved: u64,
    quarantined: u64,
    #[serde(default)]
    recommended: bool,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
struct EntryDeadLetters {
    action: DeadLetterAction,
    count: u64,
    by: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
struct EntryCommand {
    action: String,
    by: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
struct EntryAlert {
    #[serde(default)]
    kind: String,
    text: String,
    /// The silence that held it (recorded, not sent).
    #[serde(default)]
    silenced: Option<String>,
    /// Part of a host incident its summary counts: one entry per incident.
    #[serde(default)]
    grouped: bool,
    #[serde(default)]
    runbook: Option<String>,
    /// The incident it raises, follows up or resolves (an acknowledgement names it).
    #[serde(default)]
    incident: Option<String>,
}

#[derive(Debug, Deserialize)]
struct EventsPage {
    events: Vec<Entry>,
}

/// The timeline section (nothing at all in mock mode, where there is no server).
#[component]
pub fn Timeline() -> impl IntoView {
    let (feed, lang) = (feed(), lang());
    let (entries, set_entries) = signal(None::<Vec<Entry>>);
    if query_param("mock").is_none() {
        Effect::new(move |_| {
            feed.received_at.track();
            leptos::task::spawn_local(fetch(set_entries, lang.get()));
        });
        let timer = set_interval_with_handle(
            move || leptos::task::spawn_local(fetch(set_entries, lang.get_untracked())),
            REFETCH_EVERY,
        );
        on_cleanup(move || {
            if let Ok(timer) = timer {
                timer.clear();
            }
        });
    }
    let acks = Acks::new();
    let title = move || t(lang.get(), Text::Alerts);
    let empty = move || t(lang.get(), Text::NothingYet);
    view! {
        <Show when=move || entries.with(Option::is_some)>
            <section id="timeline" class="timeline">
                <h2>{title}</h2>
                {acks.form()}
                <Show when=move || entries.with(|e| e.as_ref().is_some_and(|e| !e.is_empty()))
                    fallback=move || view! { <p class="hint">{empty}</p> }>
                    <ol>
                        <For
                            each=move || entries.with(|l| lines(l.as_deref().unwrap_or_default()))
                            key=|r| (r.head.id.clone(), r.more.len())
                            children=move |r| row(r, acks, entries)
                        />
                    </ol>
                </Show>
            </section>
        </Show>
    }
}

/// One line of the timeline: an entry, with the rest of its incident folded under it.
fn row(r: Row<Entry>, acks: Acks, entries: ReadSignal<Option<Vec<Entry>>>) -> impl IntoView {
    let lang = lang();
    let n = r.more.len();
    let more = (n > 0).then(|| {
        let label = move || folded_incident(lang.get(), n);
        let members = r.more.into_iter().map(|e| item(e, acks, entries, ()));
        view! {
            <details class="folded">
                <summary>{label}</summary>
                <ol>{members.collect_view()}</ol>
            </details>
        }
    });
    item(r.head, acks, entries, more)
}

/// An entry as a list item, marked for the style with its type and the guard's what and
/// outcome, `more` after its line.
fn item(
    e: Entry,
    acks: Acks,
    entries: ReadSignal<Option<Vec<Entry>>>,
    more: impl IntoView + 'static,
) -> impl IntoView {
    let kind = e.kind.clone();
    let what = e.recovery.as_ref().map(|r| r.what.as_str().to_owned());
    let ok = e
        .recovery
        .as_ref()
        .and_then(|r| r.ok)
        .map(|ok| ok.to_string());
    view! {
        <li class="event" data-type=kind data-what=what data-ok=ok>
            {line(e, acks, entries)}
            {more}
        </li>
    }
}

/// An entry's time, words, runbook link and acknowledge button.
fn line(e: Entry, acks: Acks, entries: ReadSignal<Option<Vec<Entry>>>) -> impl IntoView {
    let lang = lang();
    let runbook = runbook_link(&e).map(|href| {
        let title = move || t(lang.get(), Text::Runbook);
        view! {
            " "
            <a class="runbook" href=href target="_blank" rel="noopener noreferrer" title=title>"📖"</a>
        }
    });
    let ack = ackable(&e).map(|incident| {
        let id = incident.clone();
        let settled = move || entries.with(|l| settled(l.as_deref().unwrap_or_default(), &id));
        acks.button(incident, settled)
    });
    let at = e.at.clone();
    view! {
        <time datetime=at.clone()>{local_time(&at)}</time>
        " "
        <span class="what">{move || describe(&e, lang.get())}</span>
        {runbook}
        {ack}
    }
}

/// The first [`LINES`] lines of `entries` (newest first), each incident folded into one.
fn lines(entries: &[Entry]) -> Vec<Row<Entry>> {
    let alerts: Vec<(&str, Fold)> = entries
        .iter()
        .filter_map(|e| Some((e.alert_id.as_str(), alert_fold(e)?.0)))
        .collect();
    let key = |e: &Entry| {
        alert_fold(e).or_else(|| {
            if let Some(r) = &e.recovery {
                let blocked = r.blocked.clone().filter(|_| r.what == AuditWhat::Blocked);
                return blocked.map(|b| (Fold::Blocked(b), true));
            }
            let (_, k) = alerts
                .iter()
                .find(|(id, _)| !id.is_empty() && *id == e.alert_id)?;
            e.alert.is_none().then(|| (k.clone(), false))
        })
    };
    let mut rows = fold(entries.to_vec(), key);
    rows.truncate(LINES);
    rows
}

/// What folds entries into one line.
#[derive(Debug, Clone, PartialEq)]
enum Fold {
    /// A host incident's downs (`false`) or recoveries (`true`).
    Incident(String, bool),
    /// The guard blocked by the same thing (a host down) for several workers.
    Blocked(Block),
}

/// The fold of a down or recovered alert that is part of an incident, and whether it may lead
/// its line (it was not grouped into it).
fn alert_fold(e: &Entry) -> Option<(Fold, bool)> {
    let a = e.alert.as_ref()?;
    let up = match a.kind.as_str() {
        "down" | "dead_at_start" | "host_down" => false,
        "recovered" | "host_recovered" => true,
        _ => return None,
    };
    Some((Fold::Incident(a.incident.clone()?, up), !a.grouped))
}

/// The entry as one line of text (rendered as text, never HTML).
fn describe(entry: &Entry, lang: Lang) -> String {
    match entry.kind.as_str() {
        "transition" => entry.alert.as_ref().map_or_else(String::new, |a| {
            // A message's lines (the alert, then its context) on one line of the log.
            let text = a.text.replace('\n', " · ");
            match a.silenced {
                Some(_) => format!("🔕 {text}"),
                None => text,
            }
        }),
        "command" => entry.command.as_ref().map_or_else(String::new, |c| {
            command_line(
                lang,
                &c.action,
                entry.worker.as_deref().unwrap_or("?"),
                &c.by,
            )
        }),
        "recovery" => entry.recovery.as_ref().map_or_else(String::new, |r| {
            recovery_line(lang, entry.worker.as_deref().unwrap_or("?"), r)
        }),
        "dead_letters" => entry.dead_letters.as_ref().map_or_else(String::new, |d| {
            let worker = entry.worker.as_deref().unwrap_or("?");
            dl_logged(lang, worker, d.action, d.count, &d.by)
        }),
        "rescue" => entry.rescue.as_ref().map_or_else(String::new, |r| {
            let worker = entry.worker.as_deref().unwrap_or("?");
            rescue_line(
                lang,
                worker,
                &r.consumer,
                (r.moved, r.quarantined),
                r.recommended,
            )
        }),
        other => delivery(
            lang,
            other,
            entry.sink.as_deref().unwrap_or("?"),
            entry.attempt.unwrap_or(1),
            entry.error.as_deref().unwrap_or(""),
        ),
    }
}

/// An alert said by another entry: a rescue's (its `rescue` record says the same in the page's
/// words).
fn said_elsewhere(entry: &Entry) -> bool {
    entry.alert.as_ref().is_some_and(|a| {
        matches!(
            a.kind.as_str(),
            "jobs_rescued" | "jobs_quarantined" | "jobs_orphaned"
        )
    })
}

/// The incident of an alert that wants a person, which the page may acknowledge.
fn ackable(entry: &Entry) -> Option<String> {
    let alert = entry.alert.as_ref()?;
    let wants =
        AlertKind::name_wants_a_person(&alert.kind) && alert.silenced.is_none() && !alert.grouped;
    wants.then(|| alert.incident.clone()).flatten()
}

/// Whether the log already says `incident` was acknowledged or resolved.
fn settled(entries: &[Entry], incident: &str) -> bool {
    entries.iter().filter_map(|e| e.alert.as_ref()).any(|a| {
        a.incident.as_deref() == Some(incident)
            && matches!(
                a.kind.as_str(),
                "acknowledged" | "recovered" | "host_recovered"
            )
    })
}

/// The alert's runbook section.
fn runbook_link(entry: &Entry) -> Option<String> {
    web_link(entry.alert.as_ref()?.runbook.as_deref()?)
}

/// `at` (UTC ISO 8601) as the browser's local time of day.
fn local_time(at: &str) -> String {
    let date = js_sys::Date::new(&JsValue::from_str(at));
    if date.get_time().is_nan() {
        return at.to_owned();
    }
    date.to_locale_time_string("default").into()
}

/// One fetch; a failure leaves the last list on screen (the connection indicator already says
/// when the server is away).
async fn fetch(set: WriteSignal<Option<Vec<Entry>>>, lang: Lang) {
    let code = if lang == Lang::En { "en" } else { "ko" };
    if let Ok(text) = fetch_text(&format!("{EVENTS}{code}")).await {
        match crate::json::from_str::<EventsPage>(&text) {
            Ok(mut page) => {
                page.events.retain(|e| !said_elsewhere(e));
                set.set(Some(page.events));
            }
            Err(err) => leptos::logging::warn!("skipping an unreadable event page: {err}"),
        }
    }
}
