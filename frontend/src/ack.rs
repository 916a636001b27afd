//! Acknowledging, from the timeline, an alert that wants a person, as its Telegram button does
//! (`POST /api/agent-office/alerts/{incident}/ack`): with the tab's admin token, asked inline
//! when the tab has none. The answer names whoever acknowledged first; the alert then stops
//! being sent again, and the event log's `acknowledged` entry says who.

use leptos::prelude::*;

use crate::admin::{self, Outcome};
use crate::text::{ack_line, lang, t, Text};

/// The timeline's acknowledgements: the alert waiting for a token, the last answer and the token
/// being typed.
#[derive(Clone, Copy)]
pub struct Acks {
    pending: RwSignal<Option<String>>,
    outcome: RwSignal<Option<(String, Outcome)>>,
    typed: RwSignal<String>,
}

impl Acks {
    /// Nothing asked yet.
    pub fn new() -> Self {
        Self {
            pending: RwSignal::new(None),
            outcome: RwSignal::new(None),
            typed: RwSignal::new(String::new()),
        }
    }

    /// Acknowledges `incident`, or asks for the token first.
    fn ask(self, incident: String) {
        match admin::stored_token() {
            Some(token) => {
                self.pending.set(None);
                self.run(incident, token);
            }
            None => {
                self.outcome.set(None);
                self.pending.set(Some(incident));
            }
        }
    }

    fn run(self, incident: String, token: String) {
        self.outcome.set(Some((incident.clone(), Outcome::Sending)));
        leptos::task::spawn_local(async move {
            let answer = admin::acknowledge(&incident, &token).await;
            if answer == Outcome::Refused {
                // Forgotten by `acknowledge`: ask again for the same alert.
                let _ = self.pending.try_set(Some(incident.clone()));
            }
            let _ = self.outcome.try_set(Some((incident, answer)));
        });
    }

    /// The button under alert `incident` (until `settled`: acknowledged or resolved, as the log
    /// says), then what acknowledging it came to.
    pub fn button(
        self,
        incident: String,
        settled: impl Fn() -> bool + Send + Sync + 'static,
    ) -> impl IntoView {
        let lang = lang();
        let incident = StoredValue::new(incident);
        let answer = move || {
            self.outcome.with(|o| {
                o.as_ref()
                    .filter(|(i, _)| *i == incident.get_value())
                    .map(|(_, o)| o.clone())
            })
        };
        view! {
            <Show when=move || !settled() && answer().is_none()>
                " "
                <button class="control ack" on:click=move |_| self.ask(incident.get_value())>
                    {move || t(lang.get(), Text::Acknowledge)}
                </button>
            </Show>
            {move || answer().map(|o| {
                let kind = o.as_str();
                view! { " " <span class="ack-result" role="status" data-outcome=kind>{move || ack_line(lang.get(), &o)}</span> }
            })}
        }
    }

    /// The token form, while an acknowledgement waits for one.
    pub fn form(self) -> impl IntoView {
        let lang = lang();
        let submit = move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            let token = self.typed.get_untracked().trim().to_owned();
            let Some(incident) = self.pending.get_untracked() else {
                return;
            };
            if token.is_empty() {
                return;
            }
            admin::store_token(&token);
            self.typed.set(String::new());
            self.pending.set(None);
            self.run(incident, token);
        };
        view! {
            <Show when=move || self.pending.with(Option::is_some)>
                <form class="token-form" on:submit=submit>
                    <label for="ack-token">{move || t(lang.get(), Text::AdminToken)}</label>
                    <input id="ack-token" type="password" autocomplete="off" bind:value=self.typed/>
                    <button type="submit" class="control">{move || t(lang.get(), Text::Send)}</button>
                    <button type="button" class="control" on:click=move |_| self.pending.set(None)>
                        {move || t(lang.get(), Text::Cancel)}
                    </button>
                    <small class="hint">{move || t(lang.get(), Text::TokenKept)}</small>
                </form>
            </Show>
        }
    }
}
