//! `pulseboard wait`: whether a worker being deployed is ready yet, from what its newest beat
//! says. Pure, and built on the lifecycle judgement every other view uses
//! ([`crate::lifecycle::judge`]), so `wait` and the dashboard never disagree.

use crate::lifecycle::{judge, Lifecycle, LifecycleRules, LifecycleState, Observed};

/// Whose life a beat belongs to, against the time the wait counts from (`--since`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Life {
    /// It started (`started_at`) at or after that time: the instance being waited for.
    New,
    /// It started before: the instance being replaced, whatever it says.
    Old,
    /// It does not say when it started (the seed's workers): any beat may be the new one's.
    Unknown,
}

/// Where one awaited worker stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Standing {
    /// No beat of it seen yet.
    NoBeat,
    /// Only beats of the instance being replaced.
    OldLife,
    /// Not ready yet (starting, unhealthy, late; or, of an unknown life, gone), as judged.
    NotYet(Lifecycle),
    /// Ready (taking work).
    Ready,
    /// The new instance will not get ready: it exited, stopped, is draining, was not ready in
    /// time, or its heartbeat expired, as judged.
    Failed(Lifecycle),
}

impl Standing {
    /// Whether waiting on this worker is over (ready or failed).
    pub fn is_final(&self) -> bool {
        matches!(self, Self::Ready | Self::Failed(_))
    }
}

/// Where a worker stands: `o` is what is known of it now (`beat_age_s` is `None` until a beat
/// was seen), `life` whose life that beat belongs to.
pub fn standing(o: &Observed, life: Life, rules: &LifecycleRules) -> Standing {
    if o.beat_age_s.is_none() {
        return Standing::NoBeat;
    }
    if life == Life::Old {
        return Standing::OldLife;
    }
    let lifecycle = judge(o, rules);
    match lifecycle.state {
        LifecycleState::Ready | LifecycleState::Stalled => Standing::Ready,
        LifecycleState::Starting | LifecycleState::Unhealthy | LifecycleState::Late => {
            Standing::NotYet(lifecycle)
        }
        LifecycleState::Draining
        | LifecycleState::Stopped
        | LifecycleState::Failed
        | LifecycleState::Down => {
            if life == Life::New {
                Standing::Failed(lifecycle)
            } else {
                // Of an unknown life: the old instance going away before the new one beats.
                Standing::NotYet(lifecycle)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::heartbeat::Phase;
    use crate::lifecycle::Reason;

    fn beat(phase: Option<Phase>) -> Observed<'static> {
        Observed {
            key_exists: true,
            beat_age_s: Some(1),
            phase,
            running_for_s: Some(5),
            ..Observed::default()
        }
    }

    #[test]
    fn a_new_life_is_ready_once_ready_and_fails_once_it_ends() {
        let rules = LifecycleRules::default();
        let at = |o: &Observed, life| standing(o, life, &rules);
        assert_eq!(at(&Observed::default(), Life::New), Standing::NoBeat);
        assert!(matches!(
            at(&beat(Some(Phase::Starting)), Life::New),
            Standing::NotYet(l) if l.state == LifecycleState::Starting
        ));
        assert_eq!(at(&beat(Some(Phase::Ready)), Life::New), Standing::Ready);
        assert_eq!(
            at(&beat(None), Life::New),
            Standing::Ready,
            "beating, no phase"
        );
        let crashed = Observed {
            exit_code: Some(3),
            ..beat(None)
        };
        let Standing::Failed(l) = at(&crashed, Life::New) else {
            panic!("a crash ends the wait");
        };
        assert_eq!(l.reason_code, Some(Reason::Exited { code: 3 }));
        assert!(matches!(
            at(&beat(Some(Phase::Stopped)), Life::New),
            Standing::Failed(l) if l.state == LifecycleState::Stopped
        ));
        let expired = Observed {
            key_exists: false,
            ..beat(Some(Phase::Starting))
        };
        assert!(matches!(at(&expired, Life::New), Standing::Failed(_)));
        let too_slow = Observed {
            running_for_s: Some(rules.ready_timeout_s + 1),
            ..beat(Some(Phase::Starting))
        };
        assert!(matches!(
            at(&too_slow, Life::New),
            Standing::Failed(l) if l.reason_code == Some(Reason::NotReady { after_s: 120 })
        ));
    }

    #[test]
    fn the_old_life_never_counts_and_an_unknown_one_only_when_ready() {
        let rules = LifecycleRules::default();
        for phase in [Some(Phase::Ready), Some(Phase::Stopped), None] {
            assert_eq!(standing(&beat(phase), Life::Old, &rules), Standing::OldLife);
        }
        assert_eq!(
            standing(&beat(None), Life::Unknown, &rules),
            Standing::Ready
        );
        let gone = Observed {
            key_exists: false,
            ..beat(None)
        };
        assert!(matches!(
            standing(&gone, Life::Unknown, &rules),
            Standing::NotYet(_)
        ));
    }
}
