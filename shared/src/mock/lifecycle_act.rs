//! The mock's lifecycle act: the seed's six workers, each in a state of its own word.

use super::ACT_S;
use crate::heartbeat::Declared;
use crate::lifecycle::{Lifecycle, LifecycleState as L, Reason};
use crate::nodes::WorkerStatus;
use crate::parts::PartStatus;

/// The lifecycle act on the seed's six: each worker in a state of its own word.
pub(super) fn lifecycle_act(workers: &mut [WorkerStatus], in_act: u64) {
    let set = |w: &mut WorkerStatus, state, reason: Option<Reason>, age_s| {
        w.alive = state != L::Stopped;
        w.lifecycle = Some(Lifecycle::new(state, reason, Some(age_s)));
    };
    for w in workers.iter_mut() {
        match w.name.as_str() {
            // A worker of two processes whose ui part never gets ready.
            "music-render" => {
                let (state, why) = if in_act < ACT_S / 2 {
                    (L::Starting, None)
                } else {
                    (L::Failed, Some(Reason::NotReady { after_s: 120 }))
                };
                let ui = Lifecycle::new(state, why.clone(), Some(100 + in_act));
                w.parts = vec![
                    PartStatus {
                        name: "server".into(),
                        lifecycle: Lifecycle::new(L::Ready, None, Some(100 + in_act)),
                    },
                    PartStatus {
                        name: "ui".into(),
                        lifecycle: ui,
                    },
                ];
                let part = Reason::Part {
                    part: "ui".into(),
                    state,
                    why: why.map(Box::new),
                };
                set(w, state, Some(part), 100 + in_act);
            }
            "video-render" => {
                set(w, L::Stopped, None, 170 + in_act);
                w.state = None;
                w.last_beat_age_s = Some(170 + in_act);
            }
            "image-render" => {
                set(w, L::Late, None, 23 + in_act);
                w.last_beat_age_s = Some(23 + in_act);
            }
            "insta-render" => {
                set(
                    w,
                    L::Stalled,
                    Some(Reason::OnJob {
                        job: "render-4711".into(),
                    }),
                    3700 + in_act,
                );
                w.state = Some("busy".into());
                w.processing = 1;
            }
            "task-watcher" => {
                set(
                    w,
                    L::Unhealthy,
                    Some(Reason::Failing {
                        checks: vec!["exchange-api".into()],
                        words: None,
                    }),
                    40 + in_act,
                );
                let checks = [
                    ("exchange-api".to_owned(), false),
                    ("redis".to_owned(), true),
                ];
                w.declared = Some(Declared {
                    checks: Some(checks.into()),
                    pid: Some(4242),
                    version: Some("1.4.2".into()),
                    ..Declared::default()
                });
            }
            "ai_trade" => set(
                w,
                L::Draining,
                Some(Reason::Own {
                    words: "deploy".into(),
                }),
                in_act,
            ),
            _ => {}
        }
    }
}
