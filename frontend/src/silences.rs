//! The silences in force, on the page (`GET /api/agent-office/silences`: public, as the 🔕 marks
//! are), soonest to end first, each with an End button; and a form to set one: a worker, a host
//! or a kind, for how long, why, and whether it is maintenance (the recovery guard and the
//! orphan rescue hold too). Setting and ending take the tab's admin token, asked inline when it
//! has none. Read when the page opens, after each change, and every 30 s.

use std::time::Duration;

use leptos::prelude::*;
use serde::Deserialize;

use crate::admin::{self, Outcome};
use crate::guard_mark::local_time;
use crate::page::{ask, query_param};
use crate::text::{done_line, lang, silence_line, silence_target, t, Text};
use crate::token_gate::Gate;

const PATH: &str = "/api/agent-office/silences";
const REFETCH_EVERY: Duration = Duration::from_secs(30);

/// A silence as the list serves it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
struct Shown {
    id: String,
    #[serde(rename = "match")]
    matches: Target,
    until: u64,
    reason: String,
    #[serde(default)]
    maintenance: bool,
    by: String,
}

/// What a silence covers (`{"worker": ...}`, `{"host": ...}` or `{"kind": ...}`), read as a
/// flat struct: the page reads enums from strings only.
#[derive(Debug, Clone, PartialEq, Deserialize)]
struct Target {
    #[serde(default)]
    worker: Option<String>,
    #[serde(default)]
    host: Option<String>,
    #[serde(default)]
    kind: Option<String>,
}

#[derive(Deserialize)]
struct List {
    silences: Vec<Shown>,
}

/// What waits for the token: a new silence (its JSON) or the end of one (its id).
#[derive(Debug, Clone, PartialEq)]
enum Job {
    Add(String),
    End(String),
}

/// The silences section (nothing in mock mode, where there is no server).
#[component]
pub fn Silences() -> impl IntoView {
    let lang = lang();
    let list = RwSignal::new(None::<Vec<Shown>>);
    let result = RwSignal::new(None::<Outcome>);
    let gate = Gate::<Job>::new();
    let (by, name, hours) = (
        RwSignal::new("worker".to_owned()),
        RwSignal::new(String::new()),
        RwSignal::new("1".to_owned()),
    );
    let (reason, maintenance) = (RwSignal::new(String::new()), RwSignal::new(false));
    let load = move || {
        leptos::task::spawn_local(async move {
            if let Ok((200, text)) = ask("GET", PATH, None, None).await {
                if let Ok(l) = crate::json::from_str::<List>(&text) {
                    let _ = list.try_set(Some(l.silences));
                }
            }
        });
    };
    if query_param("mock").is_none() {
        load();
        let timer = set_interval_with_handle(load, REFETCH_EVERY);
        on_cleanup(move || {
            if let Ok(timer) = timer {
                timer.clear();
            }
        });
    }
    let run = move |job: Job, token: String| {
        result.set(Some(Outcome::Sending));
        leptos::task::spawn_local(async move {
            let answer = match &job {
                Job::Add(body) => admin::request("POST", PATH, Some(body), &token).await,
                Job::End(id) => {
                    let id = String::from(js_sys::encode_uri_component(id));
                    admin::request("DELETE", &format!("{PATH}/{id}"), None, &token).await
                }
            };
            if answer == Outcome::Refused {
                gate.again(job);
            }
            let _ = result.try_set(Some(answer));
            load();
        });
    };
    let add = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let key = match by.get_untracked().as_str() {
            "host" => "host",
            "kind" => "kind",
            _ => "worker",
        };
        let for_s = hours.get_untracked().parse::<u64>().unwrap_or(1) * 3600;
        let quoted = |s: RwSignal<String>| {
            serde_json::to_string(s.get_untracked().trim()).unwrap_or_default()
        };
        let body = format!(
            r#"{{"match":{{"{key}":{}}},"for_s":{for_s},"reason":{},"maintenance":{}}}"#,
            quoted(name),
            quoted(reason),
            maintenance.get_untracked()
        );
        if !gate.ask(Job::Add(body), run) {
            result.set(None);
        }
    };
    let end = move |id: String| {
        if !gate.ask(Job::End(id), run) {
            result.set(None);
        }
    };
    let row = move |s: Shown| {
        let (id, ending) = (s.id.clone(), s.id.clone());
        let kind = if s.maintenance {
            "maintenance"
        } else {
            "silence"
        };
        let line = move || {
            let l = lang.get();
            let m = &s.matches;
            let (what, value) = match (&m.worker, &m.host, &m.kind) {
                (Some(w), _, _) => ("worker", w.as_str()),
                (_, Some(h), _) => ("host", h.as_str()),
                (_, _, Some(k)) => ("kind", k.as_str()),
                _ => ("worker", "?"),
            };
            let mark = pulseboard_shared::silence::SilenceMark {
                id: s.id.clone(),
                until: s.until,
                reason: s.reason.clone(),
                maintenance: s.maintenance,
                by: s.by.clone(),
            };
            let until = local_time(s.until);
            format!(
                "{}: {}",
                silence_target(l, what, value),
                silence_line(l, &mark, &until)
            )
        };
        view! {
            <li data-silence=id data-kind=kind>
                <span class="what">{line}</span>
                " "
                <button class="control end" on:click=move |_| end(ending.clone())>
                    {move || t(lang.get(), Text::EndSilence)}
                </button>
            </li>
        }
    };
    let option = move |value: &'static str, text: Text| {
        view! { <option value=value>{move || t(lang.get(), text)}</option> }
    };
    view! {
        <Show when=move || list.with(Option::is_some)>
            <section id="silences" class="timeline silences">
                <h2>{move || t(lang.get(), Text::Silences)}</h2>
                {gate.form("silence-token", run)}
                <Show when=move || list.with(|l| l.as_ref().is_some_and(|l| !l.is_empty()))
                    fallback=move || view! { <p class="hint">{move || t(lang.get(), Text::NoSilences)}</p> }>
                    <ol>
                        <For each=move || list.get().unwrap_or_default() key=|s| s.id.clone() children=row/>
                    </ol>
                </Show>
                <form class="silence-form" on:submit=add>
                    <select bind:value=by aria-label=move || t(lang.get(), Text::SilenceWhat)>
                        {option("worker", Text::MatchWorker)}
                        {option("host", Text::MatchHost)}
                        {option("kind", Text::MatchKind)}
                    </select>
                    <input class="name" required maxlength="100" bind:value=name
                        placeholder=move || t(lang.get(), Text::SilenceName)/>
                    <select bind:value=hours aria-label=move || t(lang.get(), Text::SilenceFor)>
                        <option value="1">"1 h"</option>
                        <option value="4">"4 h"</option>
                        <option value="24">"24 h"</option>
                    </select>
                    <input class="reason" required maxlength="200" bind:value=reason
                        placeholder=move || t(lang.get(), Text::SilenceReason)/>
                    <label><input type="checkbox" bind:checked=maintenance/>" "{move || t(lang.get(), Text::Maintenance)}</label>
                    <button type="submit" class="control">{move || t(lang.get(), Text::SilenceAdd)}</button>
                </form>
                {move || result.get().map(|o| {
                    let kind = o.as_str();
                    view! { <p class="action-result" role="status" data-outcome=kind>{move || done_line(lang.get(), &o)}</p> }
                })}
            </section>
        </Show>
    }
}
