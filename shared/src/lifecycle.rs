//! A worker's lifecycle: what it says about itself (contract 1's `phase`, `checks`, `current_job`,
//! `exit_code`) and what the time since its last beat adds, judged into one state.
//!
//! The worker's own word comes first and time second: a worker that said `stopped` is stopped
//! however old its beat, and one that said nothing (the seed's Python module) is `ready` while
//! it beats, `late` when a beat is overdue and `down` once its key has expired, exactly as the
//! seed judges it alive or dead.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

mod reason;

use crate::heartbeat::HEARTBEAT_INTERVAL_S;
pub use crate::heartbeat::{CurrentJob, Phase};
pub use reason::Reason;

/// A worker's lifecycle state as pulseboard judges it (contract 2's `workers[].lifecycle`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum LifecycleState {
    /// Said `starting`, within the ready timeout.
    Starting,
    /// Beating and taking work.
    Ready,
    /// Alive, but said `unhealthy` or a check of its own fails.
    Unhealthy,
    /// Alive, but no beat for 1.5 intervals: shown before its key expires.
    Late,
    /// Busy on one job for longer than its kind's stall limit.
    Stalled,
    /// Finishing its jobs before a stop.
    Draining,
    /// Stopped cleanly: its last beat said so. Not a crash.
    Stopped,
    /// Still starting after the ready timeout.
    Failed,
    /// Gone without a word: its key expired, or its process exited with an error.
    Down,
}

impl LifecycleState {
    /// The state as contract 2 spells it (the same as its serde form; a test checks).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Starting => "starting",
            Self::Ready => "ready",
            Self::Unhealthy => "unhealthy",
            Self::Late => "late",
            Self::Stalled => "stalled",
            Self::Draining => "draining",
            Self::Stopped => "stopped",
            Self::Failed => "failed",
            Self::Down => "down",
        }
    }

    /// Whether the worker's process is running (contract 2's `alive`).
    pub fn running(self) -> bool {
        !matches!(self, Self::Stopped | Self::Down)
    }
}

/// The judgement with what explains it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Lifecycle {
    /// The state.
    pub state: LifecycleState,
    /// Why, in words: the worker's own reason, the failing checks, the stalled job, the exit code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The same, as a structure for each side to word (`reason` is its English words).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub reason_code: Option<Reason>,
    /// How long it has been in this state, as far as known (seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub age_s: Option<u64>,
}

impl Lifecycle {
    /// `state` for `reason` (its English words filled in), `age_s` old.
    pub fn new(state: LifecycleState, reason: Option<Reason>, age_s: Option<u64>) -> Self {
        Self {
            state,
            reason: reason.as_ref().map(Reason::words),
            reason_code: reason,
            age_s,
        }
    }
}

/// The limits the judgement applies, from the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LifecycleRules {
    /// How long a worker may say `starting` before it has failed to start.
    pub ready_timeout_s: u64,
    /// How long one job may run before the worker is stalled; `None`: never.
    pub stall_after_s: Option<u64>,
}

impl Default for LifecycleRules {
    fn default() -> Self {
        Self {
            ready_timeout_s: 120,
            stall_after_s: None,
        }
    }
}

/// What is known of a worker now: its newest beat's lifecycle fields, and ages measured from it.
///
/// Ages are worker-clock differences (`ts - started_at`) plus the beat's age, so a skewed clock on
/// the worker's host shifts nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Observed<'a> {
    /// Whether its heartbeat key exists now.
    pub key_exists: bool,
    /// Seconds since its newest known beat was written; `None` if none was ever seen.
    pub beat_age_s: Option<u64>,
    /// The beat period it promised (`interval_s`), if it said.
    pub interval_s: Option<u64>,
    /// Its `phase`, if it said.
    pub phase: Option<Phase>,
    /// Its `reason`, if it gave one.
    pub reason: Option<&'a str>,
    /// Its own dependency checks.
    pub checks: Option<&'a BTreeMap<String, bool>>,
    /// Seconds since it started (`started_at`), now.
    pub running_for_s: Option<u64>,
    /// The job it is busy with and for how many seconds, now.
    pub job: Option<(&'a str, u64)>,
    /// The exit code its final beat carries.
    pub exit_code: Option<i32>,
}

/// Judges `o` under `rules`. Pure: the same facts give the same state on the server, in the
/// page's mock and in tests.
pub fn judge(o: &Observed, rules: &LifecycleRules) -> Lifecycle {
    let at = Lifecycle::new;
    let own_reason = o.reason.map(|words| Reason::Own {
        words: words.to_owned(),
    });
    if let Some(code) = o.exit_code.filter(|c| *c != 0) {
        let why = own_reason.unwrap_or(Reason::Exited { code });
        return at(LifecycleState::Down, Some(why), o.beat_age_s);
    }
    if o.phase == Some(Phase::Stopped) || o.exit_code == Some(0) {
        return at(LifecycleState::Stopped, own_reason, o.beat_age_s);
    }
    if !o.key_exists {
        // Reasons never carry a running count (that is `age_s`): a reason changes only when the
        // judgement does, so a snapshot changes only when something happened.
        let why = if o.beat_age_s.is_some() {
            Reason::HeartbeatExpired
        } else {
            Reason::NeverSeen
        };
        return at(LifecycleState::Down, Some(why), o.beat_age_s);
    }
    let failing: Vec<String> = o
        .checks
        .into_iter()
        .flatten()
        .filter(|(_, ok)| !**ok)
        .map(|(name, _)| name.clone())
        .collect();
    let unhealthy_reason = || match (&own_reason, failing.is_empty()) {
        (own, true) => own.clone(),
        (_, false) => Some(Reason::Failing {
            checks: failing.clone(),
            words: o.reason.map(str::to_owned),
        }),
    };
    let interval = o
        .interval_s
        .filter(|i| *i > 0)
        .unwrap_or(HEARTBEAT_INTERVAL_S);
    let late = o.beat_age_s.filter(|age| age * 2 > interval * 3); // > 1.5 intervals
    match o.phase {
        Some(Phase::Starting) => {
            let running = o.running_for_s;
            return if running.is_some_and(|s| s > rules.ready_timeout_s) {
                let why = Reason::NotReady {
                    after_s: rules.ready_timeout_s,
                };
                at(LifecycleState::Failed, Some(why), running)
            } else {
                at(LifecycleState::Starting, own_reason, running)
            };
        }
        Some(Phase::Draining) => return at(LifecycleState::Draining, own_reason, None),
        Some(Phase::Unhealthy) => return at(LifecycleState::Unhealthy, unhealthy_reason(), None),
        _ if !failing.is_empty() => return at(LifecycleState::Unhealthy, unhealthy_reason(), None),
        _ => {}
    }
    if let (Some((job, for_s)), Some(limit)) = (o.job, rules.stall_after_s) {
        if for_s > limit {
            let why = Reason::OnJob {
                job: job.to_owned(),
            };
            return at(LifecycleState::Stalled, Some(why), Some(for_s));
        }
    }
    match late {
        Some(age) => at(LifecycleState::Late, None, Some(age)),
        None => at(LifecycleState::Ready, None, o.running_for_s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use LifecycleState::*;

    fn beating() -> Observed<'static> {
        Observed {
            key_exists: true,
            beat_age_s: Some(3),
            ..Observed::default()
        }
    }

    fn rules() -> LifecycleRules {
        LifecycleRules {
            ready_timeout_s: 120,
            stall_after_s: Some(600),
        }
    }

    #[test]
    fn the_seed_workers_are_ready_late_or_down_by_time_alone() {
        let table = [
            (beating(), Ready),
            (
                Observed {
                    beat_age_s: Some(22),
                    ..beating()
                },
                Ready,
            ),
            (
                Observed {
                    beat_age_s: Some(23),
                    ..beating()
                },
                Late,
            ),
            (
                Observed {
                    beat_age_s: Some(30),
                    ..beating()
                },
                Late,
            ),
            (
                Observed {
                    key_exists: false,
                    beat_age_s: Some(46),
                    ..beating()
                },
                Down,
            ),
            (
                Observed {
                    key_exists: false,
                    beat_age_s: None,
                    ..beating()
                },
                Down,
            ),
        ];
        for (observed, want) in table {
            assert_eq!(judge(&observed, &rules()).state, want, "{observed:?}");
        }
    }

    #[test]
    fn a_promised_interval_moves_lateness() {
        let o = Observed {
            interval_s: Some(2),
            beat_age_s: Some(4),
            ..beating()
        };
        let judged = judge(&o, &rules());
        assert_eq!((judged.state, judged.age_s), (Late, Some(4)));
        assert_eq!(judged.reason, None, "the age is in age_s, not in the words");
        let o = Observed {
            interval_s: Some(60),
            beat_age_s: Some(60),
            ..beating()
        };
        assert_eq!(judge(&o, &rules()).state, Ready);
    }

    #[test]
    fn the_workers_own_word_comes_first() {
        let checks: BTreeMap<String, bool> =
            [("redis".to_owned(), true), ("gpu".to_owned(), false)].into();
        let table = [
            (
                Observed {
                    phase: Some(Phase::Starting),
                    running_for_s: Some(30),
                    ..beating()
                },
                Starting,
            ),
            (
                Observed {
                    phase: Some(Phase::Starting),
                    running_for_s: Some(121),
                    ..beating()
                },
                Failed,
            ),
            (
                Observed {
                    phase: Some(Phase::Ready),
                    ..beating()
                },
                Ready,
            ),
            (
                Observed {
                    phase: Some(Phase::Unhealthy),
                    ..beating()
                },
                Unhealthy,
            ),
            (
                Observed {
                    phase: Some(Phase::Ready),
                    checks: Some(&checks),
                    ..beating()
                },
                Unhealthy,
            ),
            (
                Observed {
                    phase: Some(Phase::Draining),
                    beat_age_s: Some(40),
                    ..beating()
                },
                Draining,
            ),
            (
                Observed {
                    phase: Some(Phase::Stopped),
                    ..beating()
                },
                Stopped,
            ),
            // A clean stop stays a clean stop once its key is gone, however old.
            (
                Observed {
                    phase: Some(Phase::Stopped),
                    key_exists: false,
                    beat_age_s: Some(9000),
                    ..beating()
                },
                Stopped,
            ),
            (
                Observed {
                    exit_code: Some(0),
                    ..beating()
                },
                Stopped,
            ),
            (
                Observed {
                    exit_code: Some(3),
                    ..beating()
                },
                Down,
            ),
            (
                Observed {
                    phase: Some(Phase::Stopped),
                    exit_code: Some(137),
                    ..beating()
                },
                Down,
            ),
        ];
        for (observed, want) in table {
            assert_eq!(judge(&observed, &rules()).state, want, "{observed:?}");
        }
    }

    #[test]
    fn reasons_say_what_is_wrong() {
        let checks: BTreeMap<String, bool> = [
            ("db".to_owned(), false),
            ("gpu".to_owned(), false),
            ("redis".to_owned(), true),
        ]
        .into();
        let o = Observed {
            phase: Some(Phase::Unhealthy),
            reason: Some("warming cache"),
            checks: Some(&checks),
            ..beating()
        };
        assert_eq!(
            judge(&o, &rules()).reason.as_deref(),
            Some("warming cache; failing: db, gpu")
        );
        let o = Observed {
            key_exists: false,
            beat_age_s: Some(50),
            ..beating()
        };
        assert_eq!(
            judge(&o, &rules()).reason.as_deref(),
            Some("heartbeat expired")
        );
        let o = Observed {
            exit_code: Some(2),
            ..beating()
        };
        assert_eq!(
            judge(&o, &rules()).reason.as_deref(),
            Some("exited with code 2")
        );
        let o = Observed {
            phase: Some(Phase::Starting),
            running_for_s: Some(500),
            ..beating()
        };
        let failed = judge(&o, &rules());
        assert_eq!(failed.reason.as_deref(), Some("not ready after 120 s"));
        assert_eq!(failed.age_s, Some(500));
    }

    #[test]
    fn one_job_running_past_the_limit_is_a_stall() {
        let o = Observed {
            job: Some(("job-7", 601)),
            ..beating()
        };
        let stalled = judge(&o, &rules());
        assert_eq!((stalled.state, stalled.age_s), (Stalled, Some(601)));
        assert_eq!(stalled.reason.as_deref(), Some("on job job-7"));
        let o = Observed {
            job: Some(("job-7", 600)),
            ..beating()
        };
        assert_eq!(judge(&o, &rules()).state, Ready);
        let never = LifecycleRules {
            stall_after_s: None,
            ..rules()
        };
        let o = Observed {
            job: Some(("job-7", 99_999)),
            ..beating()
        };
        assert_eq!(judge(&o, &never).state, Ready);
    }

    #[test]
    fn only_stopped_and_down_are_not_running() {
        let all = [
            Starting, Ready, Unhealthy, Late, Stalled, Draining, Stopped, Failed, Down,
        ];
        let running: Vec<_> = all.into_iter().filter(|s| s.running()).collect();
        assert_eq!(
            running,
            [Starting, Ready, Unhealthy, Late, Stalled, Draining, Failed]
        );
    }

    #[test]
    fn states_and_phases_are_spelled_in_lowercase() {
        assert_eq!(serde_json::to_value(Stalled).unwrap(), "stalled");
        assert_eq!(
            serde_json::from_str::<Phase>("\"draining\"").unwrap(),
            Phase::Draining
        );
        for phase in ["starting", "ready", "unhealthy", "draining", "stopped"] {
            let parsed = Phase::parse(phase).unwrap();
            assert_eq!(serde_json::to_value(parsed).unwrap(), phase);
        }
        assert_eq!(Phase::parse("sleeping"), None);
    }
}
