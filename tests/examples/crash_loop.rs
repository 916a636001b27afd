//! A crash loop over 15 minutes: how many restarts pulseboard's guard (its real `decide` and
//! `remember`, default policy, mode auto) asks for, against what systemd, Kubernetes and
//! supervisord do with their documented defaults, on a virtual clock (1/10 s steps).
//!
//! The worker dies `life` seconds after each start; under `pulseboard run` or the SDK a crash
//! writes a final beat with its exit code, so pulseboard sees `failed` at once.
//!
//! Defaults used (their documentation):
//! - systemd: `Restart=on-failure` (the unit's choice; the default `Restart=no` never restarts),
//!   `RestartSec=100ms`, `StartLimitIntervalSec=10s`, `StartLimitBurst=5`: a sixth start within
//!   10 s is refused (`start-limit-hit`) for good.
//! - Kubernetes: `restartPolicy: Always`, back-off 10 s doubling to 300 s, reset after 10 min of
//!   running (CrashLoopBackOff never gives up).
//! - supervisord: `autorestart=unexpected`, `startsecs=1`, `startretries=3`: a process that ran
//!   1 s is started again at once, for ever; one that dies sooner is retried 3 times (1, 2, 3 s
//!   apart), then FATAL.
//!
//! `cargo run --release -p pulseboard-tests --example crash_loop`

use pulseboard_shared::recovery::{decide, remember, Decision, Memory, Mode, Policy, Situation};
use pulseboard_shared::LifecycleState;

const HORIZON: f64 = 900.0;
const STEP: f64 = 0.1;

fn systemd(life: f64) -> (usize, &'static str) {
    let mut starts = vec![0.0];
    let mut t = 0.0;
    loop {
        t += life + 0.1;
        if t >= HORIZON {
            return (starts.len() - 1, "restarting");
        }
        let recent = starts.iter().filter(|s| t - **s < 10.0).count();
        if recent >= 5 {
            return (starts.len() - 1, "gave up (start-limit-hit)");
        }
        starts.push(t);
    }
}

fn kubernetes(life: f64) -> (usize, &'static str) {
    let (mut t, mut delay, mut restarts) = (0.0, 10.0, 0);
    loop {
        let ran = life;
        t += ran;
        if ran >= 600.0 {
            delay = 10.0;
        }
        t += delay;
        if t >= HORIZON {
            return (restarts, "CrashLoopBackOff, retrying");
        }
        restarts += 1;
        delay = (delay * 2.0_f64).min(300.0);
    }
}

fn supervisord(life: f64) -> (usize, &'static str) {
    let (mut t, mut restarts, mut retries) = (0.0, 0, 0);
    loop {
        t += life;
        if life >= 1.0 {
            retries = 0;
        } else {
            retries += 1;
            if retries > 3 {
                return (restarts, "gave up (FATAL)");
            }
            t += f64::from(retries);
        }
        if t >= HORIZON {
            return (restarts, "restarting");
        }
        restarts += 1;
    }
}

/// The guard over the horizon: (restarts asked, when the circuit opened).
fn pulseboard(life: f64) -> (usize, Option<f64>) {
    let policy = Policy {
        mode: Mode::Auto,
        ..Policy::default()
    };
    let mut memory = Memory::default();
    let (mut started, mut acted, mut opened) = (0.0, 0, None);
    let base = 1_800_000_000u64;
    let mut t = 0.0;
    while t < HORIZON {
        let failed = t - started >= life;
        let state = if failed {
            LifecycleState::Failed
        } else {
            LifecycleState::Ready
        };
        let now = base + t as u64;
        let situation = Situation {
            now,
            state,
            state_age_s: if failed {
                (t - started - life) as u64
            } else {
                0
            },
            redis_ok: true,
            paused_by_flag: false,
            host: Some("gpu-1".into()),
            agent_reachable: true,
            agent_allows: true,
            agent_requests: true,
            host_all_down: false,
            maintenance_until: None,
        };
        let d = decide(&policy, &memory, &situation);
        match d {
            Decision::Act(_) => {
                acted += 1;
                started = t; // the supervisor starts it again at once
            }
            Decision::OpenCircuit(_) => opened = Some(t),
            _ => {}
        }
        memory = remember(&policy, &memory, &d, !failed, now);
        memory.in_flight = false; // answered: the worker is up again (and will die again)
        t += STEP;
    }
    (acted, opened)
}

fn main() {
    println!("| worker dies after | pulseboard guard (auto, defaults) | systemd | Kubernetes | supervisord |");
    println!("|---|---|---|---|---|");
    for life in [0.5, 5.0, 120.0] {
        let (acted, opened) = pulseboard(life);
        let guard = match opened {
            Some(t) => {
                format!("{acted} restarts, circuit open at {t:.0} s: one alert, a person looks")
            }
            None => format!("{acted} restarts"),
        };
        let (s, s_end) = systemd(life);
        let (k, k_end) = kubernetes(life);
        let (v, v_end) = supervisord(life);
        println!(
            "| {life} s | {guard} | {s} restarts, {s_end} | {k} restarts, {k_end} | {v} restarts, {v_end} |"
        );
    }
}
