//! The detail panel's dead letters: the worker's failed jobs with their previews (secrets masked
//! by the server), read with the admin token unless the server makes them public; select, replay
//! or delete, each after a confirmation. Built once per opened panel; read again when the
//! worker's dead-letter count changes.

use std::collections::BTreeSet;

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use pulseboard_shared::dead_letters::{DeadLetterAction, DeadLetterOutcome};
use pulseboard_shared::WorkerStatus;

use crate::admin;
use crate::page::ask;
use crate::text::{dl, dl_done, dl_failed, dl_question, dl_shown, lang, t, DlText, Text};

/// A page of the listing as the panel reads it: the shared `DeadLetterPage` without its parsed
/// `json` (the preview says it; reading any JSON value would cost the bundle a JSON tree).
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
struct Listed {
    total: u64,
    items: Vec<Item>,
}

#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
struct Item {
    id: String,
    index: u64,
    size: u64,
    preview: String,
}

/// What the list came to.
#[derive(Debug, Clone, PartialEq)]
enum Listing {
    Loading,
    Shown(Listed),
    /// 401: a token is needed (or the one held was refused and forgotten).
    NeedToken,
    /// 403: the server shows no payloads.
    Private,
    Failed(u16, String),
}

/// A replay or delete: of the selected ids, or of all.
#[derive(Debug, Clone, PartialEq)]
struct Ask {
    action: DeadLetterAction,
    ids: Option<Vec<String>>,
}

/// The section for worker `name`, whose record `worker` follows the feed.
#[component]
pub fn DeadLettersSection(name: String, worker: Memo<Option<WorkerStatus>>) -> impl IntoView {
    let lang = lang();
    let count = Memo::new(move |_| worker.with(|w| w.as_ref().map_or(0, |w| w.dead_letter)));
    let base = format!(
        "/api/agent-office/workers/{}/dead-letters",
        String::from(js_sys::encode_uri_component(&name))
    );
    let (name, base) = (StoredValue::new(name), StoredValue::new(base));
    let listing = RwSignal::new(Listing::Loading);
    let chosen = RwSignal::new(BTreeSet::<String>::new());
    let confirm = RwSignal::new(None::<Ask>);
    let waiting = RwSignal::new(None::<Ask>); // for a token
    let result = RwSignal::new(None::<(bool, String)>); // done, and its words
    let typed = RwSignal::new(String::new());

    let load = move || {
        leptos::task::spawn_local(async move {
            let token = admin::stored_token();
            let path = format!("{}?limit=50", base.get_value());
            let shown = match ask("GET", &path, token.as_deref(), None).await {
                Ok((200, text)) => match crate::json::from_str(&text) {
                    Ok(page) => Listing::Shown(page),
                    Err(e) => Listing::Failed(200, e.to_string()),
                },
                Ok((401, _)) => {
                    admin::forget_token();
                    Listing::NeedToken
                }
                Ok((403, _)) => Listing::Private,
                Ok((status, text)) => Listing::Failed(status, error_of(&text)),
                Err(_) => Listing::Failed(0, String::new()),
            };
            let _ = listing.try_set(shown);
        });
    };
    // Read when opened, and again when the count moves.
    Effect::new(move |_| {
        count.track();
        load();
    });
    let send = move |job: Ask, token: String| {
        result.set(None);
        leptos::task::spawn_local(async move {
            let verb = match job.action {
                DeadLetterAction::Replay => "replay",
                DeadLetterAction::Delete => "delete",
            };
            let body = match &job.ids {
                Some(ids) => format!(
                    r#"{{"ids":{}}}"#,
                    serde_json::to_string(ids).unwrap_or_default()
                ),
                None => r#"{"all":true}"#.to_owned(),
            };
            let path = format!("{}/{verb}", base.get_value());
            let l = lang.get_untracked();
            let line = match ask("POST", &path, Some(&token), Some(&body)).await {
                Ok((200, text)) => crate::json::from_str::<DeadLetterOutcome>(&text).map_or_else(
                    |e| (false, dl_failed(l, 200, &e.to_string())),
                    |o| (true, dl_done(l, &o)),
                ),
                Ok((401, _)) => {
                    admin::forget_token();
                    let _ = waiting.try_set(Some(job));
                    (false, dl(l, DlText::TokenRefused).to_owned())
                }
                Ok((status, text)) => (false, dl_failed(l, status, &error_of(&text))),
                Err(_) => (false, dl_failed(l, 0, "")),
            };
            let _ = chosen.try_set(BTreeSet::new());
            let _ = result.try_set(Some(line));
            load();
        });
    };
    let go = move |job: Ask| {
        confirm.set(None);
        match admin::stored_token() {
            Some(token) => send(job, token),
            None => waiting.set(Some(job)),
        }
    };
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let token = typed.get_untracked().trim().to_owned();
        if token.is_empty() {
            return;
        }
        admin::store_token(&token);
        typed.set(String::new());
        match waiting.get_untracked() {
            Some(job) => {
                waiting.set(None);
                send(job, token);
            }
            None => load(),
        }
    };
    let needs_token =
        move || waiting.with(Option::is_some) || listing.with(|l| *l == Listing::NeedToken);
    let button = move |action: DeadLetterAction, all: bool, label: DlText| {
        let disabled = move || !all && chosen.with(BTreeSet::is_empty);
        let kind = if all { "all" } else { "selected" };
        view! {
            <button class="control" data-dl-action=format!("{action:?}-{kind}").to_lowercase() disabled=disabled
                on:click=move |_| confirm.set(Some(Ask {
                    action,
                    ids: (!all).then(|| chosen.get_untracked().into_iter().collect()),
                }))>
                {move || dl(lang.get(), label)}
            </button>
        }
    };
    // One line for every state (one view, not one per state: each view costs the bundle).
    let hint = move || {
        let l = lang.get();
        listing.with(|listing| match listing {
            Listing::Loading => dl(l, DlText::Loading).to_owned(),
            Listing::NeedToken => dl(l, DlText::NeedToken).to_owned(),
            Listing::Private => dl(l, DlText::Private).to_owned(),
            Listing::Failed(status, why) => dl_failed(l, *status, why),
            Listing::Shown(page) if page.items.is_empty() => dl(l, DlText::Empty).to_owned(),
            Listing::Shown(page) => dl_shown(l, page.items.len(), page.total),
        })
    };
    let rows = move || {
        let Listing::Shown(page) = listing.get() else {
            return Vec::new();
        };
        let not_json = dl(lang.get(), DlText::NotJson);
        page.items
            .into_iter()
            .map(|item| {
                let id = StoredValue::new(item.id.clone());
                let preview = if item.preview.is_empty() { not_json.to_owned() } else { item.preview };
                view! {
                    <li data-id=item.id.clone()>
                        <label>
                            <input type="checkbox"
                                prop:checked=move || chosen.with(|c| c.contains(&id.get_value()))
                                on:change=move |_| chosen.update(|c| {
                                    let id = id.get_value();
                                    if !c.remove(&id) { c.insert(id); }
                                })/>
                            <span class="dl-size">{format!("#{} · {} B", item.index, item.size)}</span>
                        </label>
                        <pre class="dl-preview">{preview}</pre>
                    </li>
                }
            })
            .collect::<Vec<_>>()
    };
    view! {
        <section id="dead-letters" class="dead-letters" data-count=move || count.get().to_string()>
            <h3>{move || format!("☠ {} ({})", dl(lang.get(), DlText::Title), count.get())}</h3>
            <p class="hint">{hint}</p>
            <ol class="dl-list">{rows}</ol>
            <div class="actions" role="group">
                {button(DeadLetterAction::Replay, false, DlText::ReplaySelected)}
                {button(DeadLetterAction::Delete, false, DlText::DeleteSelected)}
                {button(DeadLetterAction::Replay, true, DlText::ReplayAll)}
                {button(DeadLetterAction::Delete, true, DlText::DeleteAll)}
            </div>
            {move || confirm.get().map(|job| {
                let n = job.ids.as_ref().map(Vec::len);
                let question = dl_question(lang.get(), job.action, n, &name.get_value());
                view! {
                    <p class="dl-confirm" role="alertdialog">
                        <span>{question}</span>
                        <button class="control" data-dl-confirm="yes" on:click=move |_| go(job.clone())>{dl(lang.get(), DlText::Confirm)}</button>
                        <button class="control" on:click=move |_| confirm.set(None)>{t(lang.get(), Text::Cancel)}</button>
                    </p>
                }
            })}
            <Show when=needs_token>
                <form class="token-form" on:submit=submit>
                    <label for="dl-token">{move || t(lang.get(), Text::AdminToken)}</label>
                    <input id="dl-token" type="password" autocomplete="off" bind:value=typed/>
                    <button type="submit" class="control">{move || t(lang.get(), Text::Send)}</button>
                    <small class="hint">{move || t(lang.get(), Text::TokenKept)}</small>
                </form>
            </Show>
            {move || result.get().map(|(done, line)| view! {
                <p class="action-result" role="status" data-outcome=if done { "accepted" } else { "failed" }>{line}</p>
            })}
        </section>
    }
}

/// The `error` of an API error answer, or nothing.
fn error_of(text: &str) -> String {
    crate::json::from_str::<pulseboard_shared::answer::ApiError>(text)
        .map_or_else(|_| String::new(), |e| e.error)
}
