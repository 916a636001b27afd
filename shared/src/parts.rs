//! A worker of several processes (`[[workers]] parts = ["server", "ui"]`): each part beats under
//! its own key and is judged alone by the lifecycle rules; the worker is as well as its worst
//! part, and the reason names that part. This catches the one-child-silently-dead pattern at
//! start-up (seed 003): the worker is `starting` until every part is ready.

use serde::{Deserialize, Serialize};

use crate::lifecycle::{Lifecycle, LifecycleRules, LifecycleState, Reason};

/// Most parts one worker may have.
pub const MAX_PARTS: usize = 16;

/// Longest part name, in bytes.
pub const MAX_PART_BYTES: usize = 32;

/// The Redis key part `part` of worker `name` beats under. It never ends in `:heartbeat`, so
/// discovery never takes a part for a worker of its own.
pub fn part_beat_key(name: &str, part: &str) -> String {
    format!("worker:{name}:part:{part}:beat")
}

/// Why a part name is refused: one rule, worded once, for the configuration and the flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("1 to {MAX_PART_BYTES} letters, digits, - or _")]
pub struct BadPart;

/// Checks `part` against the rule: 1 to [`MAX_PART_BYTES`] of ASCII letters, digits, `-`, `_`.
pub fn check_part_name(part: &str) -> Result<(), BadPart> {
    let ok = (1..=MAX_PART_BYTES).contains(&part.len())
        && part
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    ok.then_some(()).ok_or(BadPart)
}

/// One part as contract 2 shows it (`workers[].parts`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PartStatus {
    /// The part's name, as configured.
    pub name: String,
    /// The part judged alone.
    pub lifecycle: Lifecycle,
}

/// What a part that has gone makes of the whole worker (`[[workers]] part_down`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum PartDown {
    /// The worker is down: it cannot do its work without every part (the default).
    #[default]
    Down,
    /// The worker is unhealthy: it limps on without the part.
    Unhealthy,
}

/// How bad a part's state is for the whole worker.
fn severity(state: LifecycleState) -> u8 {
    match state {
        LifecycleState::Ready => 0,
        LifecycleState::Draining => 1,
        LifecycleState::Starting => 2,
        LifecycleState::Late => 3,
        LifecycleState::Stalled => 4,
        LifecycleState::Unhealthy => 5,
        LifecycleState::Failed => 6,
        LifecycleState::Stopped => 7,
        LifecycleState::Down => 8,
    }
}

/// The worker's lifecycle from its parts, each judged alone.
///
/// A part never seen while another has beaten is awaited: `starting` until the oldest part has
/// run for the ready timeout (`running_for_s`), `failed` after. Every part stopped is a clean
/// stop; a part down or stopped while others run makes the worker `down` (or `unhealthy`, by
/// `part_down`). Otherwise the worst part's state is the worker's.
pub fn combine(
    parts: &mut [PartStatus],
    running_for_s: Option<u64>,
    rules: &LifecycleRules,
    part_down: PartDown,
) -> Lifecycle {
    let never_seen = |p: &PartStatus| p.lifecycle.reason_code == Some(Reason::NeverSeen);
    if parts.iter().all(never_seen) {
        return Lifecycle::new(LifecycleState::Down, Some(Reason::NeverSeen), None);
    }
    if parts
        .iter()
        .all(|p| p.lifecycle.state == LifecycleState::Stopped)
    {
        let age = parts.iter().filter_map(|p| p.lifecycle.age_s).min();
        return Lifecycle::new(LifecycleState::Stopped, None, age);
    }
    let timed_out = running_for_s.is_some_and(|s| s > rules.ready_timeout_s);
    for p in parts.iter_mut().filter(|p| never_seen(p)) {
        p.lifecycle = if timed_out {
            let why = Reason::NotReady {
                after_s: rules.ready_timeout_s,
            };
            Lifecycle::new(LifecycleState::Failed, Some(why), running_for_s)
        } else {
            Lifecycle::new(LifecycleState::Starting, Some(Reason::NeverSeen), None)
        };
    }
    let worst = parts
        .iter()
        .max_by_key(|p| severity(p.lifecycle.state))
        .expect("a worker with parts has at least one");
    let state = match worst.lifecycle.state {
        LifecycleState::Ready => {
            let age = parts.iter().filter_map(|p| p.lifecycle.age_s).min();
            return Lifecycle::new(LifecycleState::Ready, None, age);
        }
        LifecycleState::Down | LifecycleState::Stopped => match part_down {
            PartDown::Down => LifecycleState::Down,
            PartDown::Unhealthy => LifecycleState::Unhealthy,
        },
        state => state,
    };
    let why = Reason::Part {
        part: worst.name.clone(),
        state: worst.lifecycle.state,
        why: worst.lifecycle.reason_code.clone().map(Box::new),
    };
    Lifecycle::new(state, Some(why), worst.lifecycle.age_s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use LifecycleState::*;

    fn part(name: &str, state: LifecycleState, why: Option<Reason>) -> PartStatus {
        PartStatus {
            name: name.into(),
            lifecycle: Lifecycle::new(state, why, Some(5)),
        }
    }

    fn whole(parts: &mut [PartStatus], running_for_s: Option<u64>) -> Lifecycle {
        combine(
            parts,
            running_for_s,
            &LifecycleRules::default(),
            PartDown::Down,
        )
    }

    #[test]
    fn ready_only_with_every_part_ready() {
        let mut both = [part("server", Ready, None), part("ui", Ready, None)];
        assert_eq!(whole(&mut both, Some(10)).state, Ready);
        let mut one = [
            part("server", Ready, None),
            part("ui", Starting, Some(Reason::Own { words: "x".into() })),
        ];
        let l = whole(&mut one, Some(10));
        assert_eq!(l.state, Starting);
        assert_eq!(l.reason.as_deref(), Some("part ui starting: x"));
    }

    #[test]
    fn a_part_never_seen_is_awaited_until_the_ready_timeout() {
        let never = || part("ui", Down, Some(Reason::NeverSeen));
        let mut parts = [part("server", Ready, None), never()];
        let l = whole(&mut parts, Some(30));
        assert_eq!(
            (l.state, l.reason.as_deref()),
            (Starting, Some("part ui starting: never seen"))
        );
        assert_eq!(parts[1].lifecycle.state, Starting);
        let mut late = [part("server", Ready, None), never()];
        assert_eq!(whole(&mut late, Some(121)).state, Failed);
        let mut none = [never(), never()];
        let l = whole(&mut none, None);
        assert_eq!((l.state, l.reason_code), (Down, Some(Reason::NeverSeen)));
    }

    #[test]
    fn one_part_gone_downs_the_worker_and_names_the_part() {
        let mut parts = [
            part("server", Ready, None),
            part("ui", Down, Some(Reason::Exited { code: 137 })),
        ];
        let l = whole(&mut parts, Some(300));
        assert_eq!(l.state, Down);
        assert_eq!(
            l.reason.as_deref(),
            Some("part ui down: exited with code 137")
        );
        let limping = combine(
            &mut parts,
            Some(300),
            &LifecycleRules::default(),
            PartDown::Unhealthy,
        );
        assert_eq!(limping.state, Unhealthy);
        let mut stopped = [part("server", Ready, None), part("ui", Stopped, None)];
        assert_eq!(whole(&mut stopped, None).state, Down);
        let mut all = [part("server", Stopped, None), part("ui", Stopped, None)];
        assert_eq!(whole(&mut all, None).state, Stopped);
    }

    #[test]
    fn part_names_and_keys() {
        assert_eq!(part_beat_key("hero", "ui"), "worker:hero:part:ui:beat");
        assert!(crate::heartbeat::name_from_heartbeat_key(&part_beat_key("a", "b")).is_none());
        for ok in ["ui", "web-1", "a_b"] {
            assert_eq!(check_part_name(ok), Ok(()), "{ok}");
        }
        for bad in ["", "a:b", "a b", "*", &"x".repeat(33)] {
            assert_eq!(check_part_name(bad), Err(BadPart), "{bad:?}");
        }
    }
}
