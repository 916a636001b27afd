//! The 🔧 / ⛔ mark a worker's 3D label, card and row carry while the recovery guard acts on it or
//! has opened its circuit: what the card, the board, the scene and the recovery panel all draw,
//! owned by none of them.

use leptos::prelude::*;
use pulseboard_shared::recovery::GuardState;
use pulseboard_shared::{Lang, WorkerStatus};

use crate::text::guard_state;

/// The mark for a worker whose guard acts (🔧) or whose circuit is open (⛔): its spelling for
/// `data-recovery` and the symbol.
pub fn recovery_mark(w: &WorkerStatus) -> Option<(&'static str, &'static str)> {
    match w.recovery.as_ref()?.state {
        GuardState::Acting => Some(("acting", "🔧")),
        GuardState::CircuitOpen => Some(("circuit_open", "⛔")),
        _ => None,
    }
}

/// The mark as a span (with the state in words as its tooltip), or nothing.
pub fn mark_view(lang: Lang, w: &WorkerStatus) -> Option<impl IntoView + use<>> {
    let (kind, symbol) = recovery_mark(w)?;
    let words = w.recovery.as_ref().map(|r| guard_state(lang, r.state));
    Some(view! {
        <span class="recovery-mark" data-recovery=kind title=words aria-label=words>{symbol}</span>
    })
}
