//! The 🔧 / ⛔ mark a worker's 3D label, card and row carry while the recovery guard acts on it or
//! has opened its circuit, the 🔕 / 🛠 mark while a silence (or maintenance) holds its alerts, and
//! 🧬 while it runs something other than expected (drift): what the card, the board, the scene
//! and the panel all draw, owned by none of them.

use leptos::prelude::*;
use pulseboard_shared::recovery::GuardState;
use pulseboard_shared::{Lang, WorkerStatus};

use crate::text::{drift_line, guard_state, silence_line};

/// The mark for a worker whose guard acts (🔧) or whose circuit is open (⛔): its spelling for
/// `data-recovery` and the symbol.
pub fn recovery_mark(w: &WorkerStatus) -> Option<(&'static str, &'static str)> {
    match w.recovery.as_ref()?.state {
        GuardState::Acting => Some(("acting", "🔧")),
        GuardState::CircuitOpen => Some(("circuit_open", "⛔")),
        _ => None,
    }
}

/// The marks as spans (each with its words as the tooltip), or nothing.
pub fn mark_view(lang: Lang, w: &WorkerStatus) -> Option<impl IntoView + use<>> {
    let guard = recovery_mark(w).map(|(kind, symbol)| {
        let words = w.recovery.as_ref().map(|r| guard_state(lang, r.state));
        view! {
            <span class="recovery-mark" data-recovery=kind title=words aria-label=words>{symbol}</span>
        }
    });
    let silence = w.silence.as_ref().map(|s| {
        let (kind, symbol) = if s.maintenance {
            ("maintenance", "🛠")
        } else {
            ("silenced", "🔕")
        };
        let words = silence_line(lang, s, &local_time(s.until));
        view! {
            <span class="silence-mark" data-silence=kind title=words.clone() aria-label=words>{symbol}</span>
        }
    });
    let drift = w.drift.first().map(|d| {
        let words = drift_line(lang, d);
        view! { <span class="drift-mark" title=words.clone() aria-label=words>"🧬"</span> }
    });
    (guard.is_some() || silence.is_some() || drift.is_some())
        .then(|| view! { {guard}{silence}{drift} })
}

/// Unix seconds as the browser's local time of day.
pub fn local_time(unix_s: u64) -> String {
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(unix_s as f64 * 1000.0));
    date.to_locale_time_string("default").into()
}
