//! Acknowledging, from the timeline, an alert that wants a person, as its Telegram button does
//! (`POST /api/agent-office/alerts/{incident}/ack`): with the tab's admin token, asked inline
//! when the tab has none. The answer names whoever acknowledged first; the alert then stops
//! being sent again, and the event log's `acknowledged` entry says who.

use leptos::prelude::*;

use crate::admin::{self, Outcome};
use crate::text::{ack_line, lang, t, Text};
use crate::token_gate::Gate;

/// The timeline's acknowledgements: the alert waiting for a token and the last answer.
#[derive(Clone, Copy)]
pub struct Acks {
    gate: Gate<String>,
    outcome: RwSignal<Option<(String, Outcome)>>,
}

impl Acks {
    /// Nothing asked yet.
    pub fn new() -> Self {
        Self {
            gate: Gate::new(),
            outcome: RwSignal::new(None),
        }
    }

    /// Acknowledges `incident` with `token`.
    fn run(self, incident: String, token: String) {
        self.outcome.set(Some((incident.clone(), Outcome::Sending)));
        leptos::task::spawn_local(async move {
            let answer = admin::acknowledge(&incident, &token).await;
            if answer == Outcome::Refused {
                self.gate.again(incident.clone());
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
        let press = move |_| {
            if !self
                .gate
                .ask(incident.get_value(), move |i, t| self.run(i, t))
            {
                self.outcome.set(None);
            }
        };
        view! {
            <Show when=move || !settled() && answer().is_none()>
                " "
                <button class="control ack" on:click=press>
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
        self.gate.form("ack-token", move |i, t| self.run(i, t))
    }
}
