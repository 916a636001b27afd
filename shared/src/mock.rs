//! Mock data: a scripted fleet that walks through every state the dashboard can show, as a pure
//! function of the seconds since the script started.
//!
//! The page runs it in the browser (`/infra/?mock`) and `pulseboard serve --mock` publishes it,
//! so both show exactly the same thing with no Redis and no workers.

use crate::lifecycle::{Lifecycle, LifecycleState as L, Reason};

mod lifecycle_act;
use crate::nodes::{HostInfo, Nodes, WorkerKind, WorkerStatus};
use crate::recovery::{
    ActionOutcome, Advice, Block, GuardState, LastAction, Mode, Policy, RecoveryView, Route,
};
use crate::rules::{links_for, DEFAULT_PAUSED_REASON};
use crate::summary::Summary;
use lifecycle_act::lifecycle_act;

/// Seconds each act of the script lasts.
pub const ACT_S: u64 = 8;

/// The acts, in order; the script loops after the last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Act {
    /// Everyone idle and alive.
    Healthy,
    /// Render workers busy, queues filling.
    Busy,
    /// Trading hours: the watcher pauses the render queues.
    Paused,
    /// `video-render` stops beating; its last-beat age grows.
    Down,
    /// `image-render` is alive but its dead-letter list grows.
    Degraded,
    /// The aggregator cannot read Redis: the last state, marked `redis_ok: false`.
    RedisLost,
    /// Everything back.
    Back,
    /// The workers' own word: starting then failed, stopped cleanly, late, stalled, unhealthy,
    /// draining.
    Lifecycle,
}

/// Every act, in script order.
pub const ACTS: [Act; 8] = [
    Act::Healthy,
    Act::Busy,
    Act::Paused,
    Act::Down,
    Act::Degraded,
    Act::RedisLost,
    Act::Back,
    Act::Lifecycle,
];

/// The length of one loop of the script, in seconds.
pub const LOOP_S: u64 = ACT_S * ACTS.len() as u64;

/// The act playing `elapsed_s` seconds after the start.
pub fn act_at(elapsed_s: u64) -> Act {
    ACTS[((elapsed_s % LOOP_S) / ACT_S) as usize]
}

/// The seed's six workers on the Windows PC, as the script has them `elapsed_s` seconds in.
pub fn mock_nodes(elapsed_s: u64) -> Nodes {
    mock_fleet(elapsed_s, 6)
}

/// The script with `size` workers (at least the seed's six; extra render workers are spread over
/// more hosts, [`PER_EXTRA_HOST`] each, a few of them in trouble), for trying layouts and
/// measuring large scenes.
pub fn mock_fleet(elapsed_s: u64, size: usize) -> Nodes {
    let act = act_at(elapsed_s);
    let in_act = elapsed_s % ACT_S;
    let mut workers = seed_workers(elapsed_s);
    for i in workers.len()..size.max(6) {
        let mut w = worker(&format!("render-{:02}", i - 5), WorkerKind::Render, "idle");
        w.host = Some(extra_host(i - 6));
        w.jobs_done = (elapsed_s + i as u64 * 7) % 500;
        w.last_beat_age_s = Some((elapsed_s + i as u64) % 15);
        workers.push(w);
    }
    for w in &mut workers {
        match (act, w.kind) {
            (Act::Busy, WorkerKind::Render) => {
                w.state = Some("busy".into());
                w.processing = 1;
                w.queue_depth = 2 + in_act;
            }
            (Act::Paused, WorkerKind::Render) => {
                w.state = Some("paused".into());
                w.queue_depth = 3 + in_act / 2;
            }
            (Act::Paused, WorkerKind::Watcher) => w.state = Some("trading".into()),
            _ => {}
        }
    }
    // Down: video-render's key expired 45 s after its last beat; the age keeps growing.
    if matches!(act, Act::Down | Act::Degraded | Act::RedisLost) {
        if let Some(w) = workers.iter_mut().find(|w| w.name == "video-render") {
            let since = elapsed_s % LOOP_S - 3 * ACT_S;
            w.alive = false;
            w.state = None;
            w.processing = 0;
            w.last_beat_age_s = Some(46 + since);
        }
    }
    if matches!(act, Act::Degraded | Act::RedisLost) {
        if let Some(w) = workers.iter_mut().find(|w| w.name == "image-render") {
            w.dead_letter = 1 + (elapsed_s % LOOP_S - 4 * ACT_S).min(ACT_S) / 2;
            w.jobs_failed += w.dead_letter;
        }
    }
    for w in &mut workers {
        w.lifecycle = Some(Lifecycle::new(
            if w.alive { L::Ready } else { L::Down },
            (!w.alive).then_some(Reason::HeartbeatExpired),
            None,
        ));
    }
    if act == Act::Lifecycle {
        lifecycle_act(&mut workers, in_act);
    }
    guard_views(&mut workers, act, elapsed_s);
    if let Some(w) = workers.iter_mut().find(|w| w.name == "ai_trade") {
        w.silence = Some(crate::silence::SilenceMark {
            id: "s-00000000000000aa".into(),
            until: mock_unix(elapsed_s) + 1800,
            reason: "broker maintenance".into(),
            maintenance: true,
            by: "ops".into(),
        });
    }
    for (k, w) in workers.iter_mut().skip(6).enumerate() {
        scattered_trouble(w, k, elapsed_s);
    }
    let paused = act == Act::Paused;
    let links = links_for(&workers);
    Nodes {
        runbook_url: None,
        summary: Some(Summary::of(&workers)),
        redis_ok: act != Act::RedisLost,
        paused,
        paused_reason: paused.then(|| DEFAULT_PAUSED_REASON.to_owned()),
        generated_at: clock(elapsed_s),
        workers,
        links,
        hosts: mock_hosts(),
        agents: Vec::new(),
    }
}

/// The mock clock's start, 2026-01-01T00:00:00Z, in unix seconds.
const MOCK_EPOCH: u64 = 1_767_225_600;

/// The mock's clock `elapsed_s` in, in unix seconds: the instant its `generated_at` names.
pub fn mock_unix(elapsed_s: u64) -> u64 {
    MOCK_EPOCH + elapsed_s % 86_400
}

/// The recovery guard where the script is in trouble: video-render, down, has had its three
/// restarts through the host's agent and the circuit is open (blocked while Redis is lost);
/// in the lifecycle act insta-render, stalled, is being restarted through its heartbeat and
/// task-watcher, unhealthy, waits for its trigger's delay.
fn guard_views(workers: &mut [WorkerStatus], act: Act, elapsed_s: u64) {
    let now = mock_unix(elapsed_s);
    let policy = Policy::default();
    let blank = |mode, state, attempts| RecoveryView {
        mode,
        state,
        attempts,
        max_attempts: policy.max_attempts,
        next_attempt_at: None,
        window_resets_at: None,
        hold_until: None,
        hold_reason: None,
        last_action: None,
        recommended_action: None,
        advice: None,
        blocked_by: None,
        blocked: None,
    };
    for w in workers.iter_mut() {
        let view = match (act, w.name.as_str()) {
            (Act::Down | Act::Degraded | Act::RedisLost, "video-render") => {
                // The trouble began 3 acts in; the attempts were 4, 3 and 1 minutes before.
                let began = now - (elapsed_s % LOOP_S - 3 * ACT_S);
                let mut v = blank(Mode::Auto, GuardState::CircuitOpen, 3);
                v.window_resets_at = Some(began - 240 + policy.window_s);
                let failed = ActionOutcome::Agent {
                    outcome: crate::agent::Outcome::Failed,
                    host: "windows".into(),
                    exit_code: Some(1),
                    detail: String::new(),
                };
                v.last_action = Some(LastAction {
                    id: "r-mock-3".into(),
                    action: "reset_and_restart".into(),
                    route: Route::Agent,
                    by: "auto".into(),
                    at: began - 60,
                    result: Some(failed.words()),
                    outcome: Some(failed),
                    ok: Some(false),
                });
                if act == Act::RedisLost {
                    v.state = GuardState::Blocked;
                    v.blocked_by = Some(Block::RedisLost.words());
                    v.blocked = Some(Block::RedisLost);
                } else {
                    let advice = Advice::CrashLoop {
                        route: Route::Agent,
                    };
                    v.recommended_action = Some(advice.words(&w.name));
                    v.advice = Some(advice);
                }
                v
            }
            (Act::Lifecycle, "insta-render") => {
                let at = now - elapsed_s % ACT_S - 2;
                let mut v = blank(Mode::Auto, GuardState::Acting, 1);
                v.window_resets_at = Some(at + policy.window_s);
                v.blocked_by = Some(Block::InFlight.words());
                v.blocked = Some(Block::InFlight);
                v.last_action = Some(LastAction {
                    id: "r-mock-1".into(),
                    action: "restart".into(),
                    route: Route::Heartbeat,
                    by: "auto".into(),
                    at,
                    result: None,
                    outcome: None,
                    ok: None,
                });
                v
            }
            (Act::Lifecycle, "task-watcher") => {
                let age = w.lifecycle.as_ref().and_then(|l| l.age_s).unwrap_or(0);
                let mut v = blank(Mode::Recommend, GuardState::Waiting, 0);
                v.next_attempt_at = Some(now + 120u64.saturating_sub(age));
                v
            }
            _ => continue,
        };
        w.recovery = Some(view);
    }
}

/// Extra workers per GPU host in larger fleets.
pub const PER_EXTRA_HOST: usize = 40;

/// The host of the `k`-th extra worker: `gpu-01`, `gpu-02`, … with [`PER_EXTRA_HOST`] each.
fn extra_host(k: usize) -> String {
    format!("gpu-{:02}", k / PER_EXTRA_HOST + 1)
}

/// What goes wrong among the extra workers of a large fleet, whatever the act, so a large scene
/// has a few problems to find: one in 53 has dead letters, one in 97 is late, one in 151 is down.
fn scattered_trouble(w: &mut WorkerStatus, k: usize, elapsed_s: u64) {
    if k % 151 == 75 {
        w.alive = false;
        w.state = None;
        w.last_beat_age_s = Some(60 + elapsed_s % LOOP_S);
        w.lifecycle = Some(Lifecycle::new(
            L::Down,
            Some(Reason::HeartbeatExpired),
            None,
        ));
    } else if k % 97 == 50 {
        w.last_beat_age_s = Some(25 + elapsed_s % 10);
        w.lifecycle = Some(Lifecycle::new(L::Late, None, Some(25 + elapsed_s % 10)));
    } else if k % 53 == 20 {
        w.dead_letter = 3;
        w.jobs_failed += 3;
    }
}

/// The seed's two machines with their labels.
fn mock_hosts() -> Vec<HostInfo> {
    [("nas", "NAS (gateway)"), ("windows", "Windows PC (GPU)")]
        .into_iter()
        .map(|(name, label)| HostInfo {
            name: name.into(),
            label: label.into(),
        })
        .collect()
}

fn seed_workers(elapsed_s: u64) -> Vec<WorkerStatus> {
    let mut workers = vec![
        worker("music-render", WorkerKind::Render, "idle"),
        worker("video-render", WorkerKind::Render, "idle"),
        worker("image-render", WorkerKind::Render, "idle"),
        worker("insta-render", WorkerKind::Render, "idle"),
        worker("task-watcher", WorkerKind::Watcher, "free"),
        worker("ai_trade", WorkerKind::Trader, "market_open"),
    ];
    for (i, w) in workers.iter_mut().enumerate() {
        w.last_beat_age_s = Some((elapsed_s + i as u64 * 3) % 15);
        w.jobs_done = 40 + elapsed_s / 4 + i as u64 * 11;
        w.last_job_at = Some(clock(elapsed_s.saturating_sub(20)));
    }
    workers
}

fn worker(name: &str, kind: WorkerKind, state: &str) -> WorkerStatus {
    WorkerStatus {
        alive: true,
        state: Some(state.into()),
        last_beat_age_s: Some(2),
        host: Some("windows".into()),
        ..WorkerStatus::new(name, kind)
    }
}

/// A made-up UTC time of day `elapsed_s` after midnight, as contract 2 spells it.
fn clock(elapsed_s: u64) -> String {
    let s = elapsed_s % 86_400;
    format!(
        "2026-01-01T{:02}:{:02}:{:02}Z",
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nodes::LinkStatus;
    use crate::rules::link_status;

    fn status_of(nodes: &Nodes, name: &str) -> LinkStatus {
        link_status(nodes.workers.iter().find(|w| w.name == name).unwrap())
    }

    #[test]
    fn the_script_visits_every_state_and_comes_back() {
        let at = |act: Act| ACTS.iter().position(|a| *a == act).unwrap() as u64 * ACT_S + 1;
        let healthy = mock_nodes(at(Act::Healthy));
        assert!(healthy.redis_ok);
        assert!(healthy
            .workers
            .iter()
            .all(|w| link_status(w) == LinkStatus::Healthy));

        let busy = mock_nodes(at(Act::Busy));
        assert_eq!(busy.workers[0].state.as_deref(), Some("busy"));

        let paused = mock_nodes(at(Act::Paused));
        assert!(paused.paused);
        assert_eq!(status_of(&paused, "music-render"), LinkStatus::Paused);

        let down = mock_nodes(at(Act::Down));
        assert_eq!(status_of(&down, "video-render"), LinkStatus::Down);

        let degraded = mock_nodes(at(Act::Degraded));
        assert_eq!(status_of(&degraded, "image-render"), LinkStatus::Degraded);

        assert!(!mock_nodes(at(Act::RedisLost)).redis_ok);

        let back = mock_nodes(at(Act::Back));
        assert!(back.redis_ok && !back.paused);
        assert!(back.workers.iter().all(|w| w.alive && w.dead_letter == 0));
        let lifecycle = mock_nodes(at(Act::Lifecycle));
        let state = |name: &str| {
            let w = lifecycle.workers.iter().find(|w| w.name == name).unwrap();
            w.lifecycle.as_ref().unwrap().state
        };
        assert_eq!(state("music-render"), L::Starting);
        assert_eq!(
            mock_nodes(at(Act::Lifecycle) + ACT_S / 2).workers[0]
                .lifecycle
                .as_ref()
                .unwrap()
                .state,
            L::Failed
        );
        assert_eq!(state("video-render"), L::Stopped);
        assert_eq!(
            status_of(&lifecycle, "video-render"),
            LinkStatus::Paused,
            "not down"
        );
        for (name, want) in [
            ("image-render", L::Late),
            ("insta-render", L::Stalled),
            ("task-watcher", L::Unhealthy),
            ("ai_trade", L::Draining),
        ] {
            assert_eq!(state(name), want);
        }
        // The script loops.
        assert_eq!(mock_nodes(LOOP_S + 3).links, mock_nodes(3).links);
        assert_eq!(act_at(LOOP_S + 3), Act::Healthy);
    }

    #[test]
    fn a_dead_worker_s_last_beat_ages() {
        let start = 3 * ACT_S;
        let age = |t| {
            mock_nodes(t).workers[1]
                .last_beat_age_s
                .expect("a dead worker was seen before")
        };
        assert!(age(start + 5) > age(start + 1));
        assert!(age(start + 1) > 45, "its key expired, so 45 s passed");
    }

    #[test]
    fn the_guard_shows_where_the_script_is_in_trouble() {
        let guard = |t: u64, name: &str| {
            let nodes = mock_nodes(t);
            let w = nodes.workers.iter().find(|w| w.name == name).unwrap();
            w.recovery.clone()
        };
        assert!(mock_nodes(1).workers.iter().all(|w| w.recovery.is_none()));
        let down = guard(3 * ACT_S + 2, "video-render").expect("a view while down");
        assert_eq!(down.state, GuardState::CircuitOpen);
        assert_eq!((down.attempts, down.max_attempts), (3, 3));
        assert!(matches!(down.advice, Some(Advice::CrashLoop { .. })));
        assert_eq!(down.last_action.unwrap().ok, Some(false));
        let lost = guard(5 * ACT_S + 1, "video-render").unwrap();
        assert_eq!(
            lost.state,
            GuardState::Blocked,
            "Redis lost: nothing is decided"
        );
        let t = 7 * ACT_S + 1;
        let acting = guard(t, "insta-render").unwrap();
        assert_eq!(acting.state, GuardState::Acting);
        assert_eq!(acting.last_action.unwrap().route, Route::Heartbeat);
        let waiting = guard(t, "task-watcher").unwrap();
        assert_eq!(waiting.state, GuardState::Waiting);
        let next = waiting.next_attempt_at.unwrap();
        assert!(next > mock_unix(t) && next <= mock_unix(t) + 120);
        assert_eq!(
            mock_unix(3 * ACT_S + 2) - MOCK_EPOCH,
            26,
            "generated_at's instant"
        );
    }

    #[test]
    fn links_follow_the_workers() {
        let nodes = mock_nodes(3 * ACT_S + 2);
        let link = nodes.links.iter().find(|l| l.to == "video-render").unwrap();
        assert_eq!(link.status, LinkStatus::Down);
        assert_eq!(nodes.generated_at, "2026-01-01T00:00:26Z");
    }

    #[test]
    fn a_large_fleet_has_unique_names() {
        let nodes = mock_fleet(0, 60);
        assert_eq!(nodes.workers.len(), 60);
        let mut names: Vec<_> = nodes.workers.iter().map(|w| &w.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), 60);
        let summary = Summary::of(&nodes.workers);
        assert_eq!(
            summary.problems, 2,
            "one extra worker has dead letters, one is late"
        );
        let large = mock_fleet(0, 500);
        let hosts: std::collections::BTreeSet<_> = large
            .workers
            .iter()
            .filter_map(|w| w.host.clone())
            .collect();
        assert_eq!(hosts.len(), 1 + 494usize.div_ceil(PER_EXTRA_HOST));
        let problems = Summary::of(&large.workers).problems;
        assert!((10..40).contains(&problems), "{problems}");
    }
}
