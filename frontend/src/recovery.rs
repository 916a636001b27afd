//! The recovery guard on the page: the detail panel's "Recovery" section (where the guard stands,
//! its attempts, countdowns that tick every second, the last action, the advice in the page's
//! language, and buttons to restart, quiet, hold or reset the worker through the admin API). The
//! 🔧 / ⛔ mark on labels, cards and rows is `guard_mark`'s.

use leptos::prelude::*;
use pulseboard_shared::recovery::{Advice, GuardState, RecoveryView};
use pulseboard_shared::{Lang, WorkerStatus};

use crate::admin::{self, AdminAction, Outcome};
use crate::stream::{feed, Feed};
use crate::text::{
    admin_action_label, advice_line, block_words, guard_state, held_for, lang, last_action_line,
    mode_name, next_attempt, outcome_line, t, window_resets, Text,
};
use crate::token_gate::Gate;

/// The server's clock now, in unix seconds: the snapshot's `generated_at` plus the seconds since
/// it arrived (ticking with the feed), so a skewed browser clock moves no countdown.
pub fn server_now(feed: Feed) -> Option<u64> {
    let at = feed.nodes.with(|n| {
        n.as_ref()
            .map(|n| js_sys::Date::parse(&n.generated_at) / 1000.0)
    })?;
    (at.is_finite() && at > 0.0).then(|| at as u64 + feed.since_update_s())
}

/// The panel's recovery section for worker `name`, whose record `worker` follows the feed.
#[component]
pub fn RecoverySection(name: String, worker: Memo<Option<WorkerStatus>>) -> impl IntoView {
    let (feed, lang) = (feed(), lang());
    let guard = Memo::new(move |_| worker.with(|w| w.as_ref().and_then(|w| w.recovery.clone())));
    let name = StoredValue::new(name);
    // The action waiting for a token, and what the last request came to.
    let gate = Gate::<AdminAction>::new();
    let outcome = RwSignal::new(None::<(AdminAction, Outcome)>);
    let has_token = RwSignal::new(admin::stored_token().is_some());

    let run = move |action: AdminAction, token: String| {
        has_token.set(true);
        outcome.set(Some((action, Outcome::Sending)));
        leptos::task::spawn_local(async move {
            let answer = admin::send(action, &name.get_value(), &token).await;
            if answer == Outcome::Refused {
                // Forgotten by `send`: ask again for the same action.
                let _ = has_token.try_set(false);
                gate.again(action);
            }
            let _ = outcome.try_set(Some((action, answer)));
        });
    };
    let ask = move |action: AdminAction| {
        if !gate.ask(action, run) {
            outcome.set(None);
        }
    };
    let forget = move |_| {
        admin::forget_token();
        has_token.set(false);
    };
    let sending = move || outcome.with(|o| matches!(o, Some((_, Outcome::Sending))));
    let held = move || {
        guard.with(|g| {
            g.as_ref()
                .is_some_and(|g| g.hold_until.is_some() || g.state == GuardState::Held)
        })
    };
    let resettable = move || {
        guard.with(|g| {
            g.as_ref()
                .is_some_and(|g| g.attempts > 0 || g.state == GuardState::CircuitOpen)
        })
    };
    let button = move |action: AdminAction| {
        view! {
            <button class="control act" data-action=action.as_str() disabled=sending
                on:click=move |_| ask(action)>
                {move || admin_action_label(lang.get(), action)}
            </button>
        }
    };
    view! {
        <section id="recovery" class="recovery"
            data-state=move || guard.with(|g| g.as_ref().map(|g| g.state.as_str()))>
            <h3>{move || t(lang.get(), Text::Recovery)}</h3>
            {move || guard.get().map(|g| status(g, feed, lang.get(), &name.get_value()))}
            <div class="actions" role="group">
                {button(AdminAction::Restart)}
                {button(AdminAction::Quiet)}
                <Show when=held fallback=move || button(AdminAction::Hold)>
                    {button(AdminAction::LiftHold)}
                </Show>
                <Show when=resettable>{button(AdminAction::Reset)}</Show>
            </div>
            {gate.form("admin-token", run)}
            {move || outcome.get().map(|(action, o)| {
                let kind = o.as_str();
                view! {
                    <p class="action-result" role="status" data-outcome=kind data-action=action.as_str()>
                        {move || outcome_line(lang.get(), &o, action, &name.get_value())}
                    </p>
                }
            })}
            <Show when=move || has_token.get()>
                <button class="control forget" on:click=forget>{move || t(lang.get(), Text::ForgetToken)}</button>
            </Show>
        </section>
    }
}

/// Where the guard stands, its countdowns (from the server's clock, ticking every second), the
/// last action, the advice and what stands in the way.
fn status(g: RecoveryView, feed: Feed, lang: Lang, worker: &str) -> impl IntoView + use<> {
    let left = move |at: Option<u64>| {
        let at = at?;
        Some(at.saturating_sub(server_now(feed)?))
    };
    let (next, window, hold) = (g.next_attempt_at, g.window_resets_at, g.hold_until);
    let reason = g.hold_reason.clone();
    let countdowns = move || {
        let mut lines = vec![];
        if let Some(s) = left(next) {
            lines.push(("next", next_attempt(lang, s)));
        }
        if let Some(s) = left(hold) {
            lines.push(("hold", held_for(lang, s, reason.as_deref())));
        }
        if let Some(s) = left(window) {
            lines.push(("window", window_resets(lang, s)));
        }
        lines
            .into_iter()
            .map(|(kind, text)| view! { <li data-countdown=kind>{text}</li> })
            .collect_view()
    };
    let last = g.last_action.clone();
    let last_line = move || {
        last.as_ref().map(|l| {
            let ago = server_now(feed).map(|now| now.saturating_sub(l.at));
            last_action_line(lang, l, ago)
        })
    };
    let advice = g
        .advice
        .as_ref()
        .map(|a| advice_line(lang, a, worker))
        // A server that words its advice only: shown as it says it.
        .or_else(|| g.recommended_action.clone());
    let advice_kind = g.advice.as_ref().map(Advice::as_str);
    // An action in flight is "acting", which says it already.
    let blocked = g
        .blocked
        .as_ref()
        .map(|b| block_words(lang, b))
        // A server that words its block only: shown as it says it.
        .or_else(|| g.blocked_by.clone())
        .filter(|_| g.state != GuardState::Acting);
    view! {
        <p class="guard-state">{guard_state(lang, g.state)}</p>
        <dl class="guard">
            <dt>{t(lang, Text::Attempts)}</dt>
            <dd data-field="attempts">{format!("{} / {}", g.attempts, g.max_attempts)}</dd>
            <dt>{t(lang, Text::GuardMode)}</dt>
            <dd data-field="mode">{mode_name(lang, g.mode)}</dd>
            {g.last_action.is_some().then(|| view! {
                <dt>{t(lang, Text::LastAction)}</dt>
                <dd data-field="last_action">{last_line}</dd>
            })}
            {blocked.map(|b| view! {
                <dt>{t(lang, Text::BlockedBy)}</dt>
                <dd data-field="blocked_by">{b}</dd>
            })}
        </dl>
        <ul class="countdowns">{countdowns}</ul>
        {advice.map(|a| view! {
            <p class="advice" data-advice=advice_kind>
                <b>{t(lang, Text::Recommended)}</b>
                " "
                <span class="advice-text">{a}</span>
            </p>
        })}
    }
}
