//! An action that needs the admin token: run at once with the tab's token, or held while a
//! small form asks for one inline (kept for the tab only, see `admin`).

use leptos::prelude::*;

use crate::admin;
use crate::text::{lang, t, Text};

/// What waits for a token (`J`: the action, as data), and the token being typed.
pub struct Gate<J: Send + Sync + 'static> {
    pending: RwSignal<Option<J>>,
    typed: RwSignal<String>,
}

impl<J: Send + Sync + 'static> Clone for Gate<J> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<J: Send + Sync + 'static> Copy for Gate<J> {}

impl<J: Clone + Send + Sync + 'static> Gate<J> {
    /// Nothing waiting.
    pub fn new() -> Self {
        Self {
            pending: RwSignal::new(None),
            typed: RwSignal::new(String::new()),
        }
    }

    /// Runs `job` with the tab's token; without one, holds it for the form. Whether it ran.
    pub fn ask(self, job: J, run: impl Fn(J, String)) -> bool {
        match admin::stored_token() {
            Some(token) => {
                self.pending.set(None);
                run(job, token);
                true
            }
            None => {
                self.pending.set(Some(job));
                false
            }
        }
    }

    /// Holds `job` for the form again (its token was refused, and forgotten).
    pub fn again(self, job: J) {
        let _ = self.pending.try_set(Some(job));
    }

    /// The form, while a job waits: `id` names its input; the token typed is kept for the tab
    /// and the job run with it.
    pub fn form(
        self,
        id: &'static str,
        run: impl Fn(J, String) + Send + Sync + 'static,
    ) -> impl IntoView {
        let lang = lang();
        let run = StoredValue::new(run);
        // The input takes the focus when the form shows.
        let input = NodeRef::<leptos::html::Input>::new();
        Effect::new(move |_| {
            if let Some(el) = input.get() {
                let _ = el.focus();
            }
        });
        let submit = move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            let token = self.typed.get_untracked().trim().to_owned();
            let Some(job) = self.pending.get_untracked() else {
                return;
            };
            if token.is_empty() {
                return;
            }
            admin::store_token(&token);
            self.typed.set(String::new());
            self.pending.set(None);
            run.with_value(|run| run(job, token));
        };
        view! {
            <Show when=move || self.pending.with(Option::is_some)>
                <form class="token-form" on:submit=submit>
                    <label for=id>{move || t(lang.get(), Text::AdminToken)}</label>
                    <input id=id type="password" autocomplete="off" node_ref=input bind:value=self.typed/>
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
