//! The recovery guard end to end: real pulseboard servers, a real Redis, workers on the SDK, and a
//! test "supervisor" that records each exit and starts the worker again (as systemd would after
//! the documented exit code 75). A webhook stand-in receives the alerts.
//!
//! - a stalled worker gets one restart through its heartbeat and is ready again;
//! - a crash loop (each new life stalls at once) gets attempts spaced by the backoff, then the
//!   circuit opens: one alert, no attempt after; with two pulseboard processes deciding on the
//!   same Redis, every attempt is still decided once;
//! - a hold and the queue's pause flag stop it from acting; lifting them lets it act;
//! - a crashed worker whose supervisor gave up is restarted by its host agent (the real
//!   `pulseboard agent`, holding the same key) running exactly the allow-listed argv, once;
//!   forged answers written meanwhile (unsigned, another key, another host) are not taken;
//! - an operator's restart of a gone worker goes through the agent, signed, and is answered;
//! - without the agent key the guard shows the route blocked, the admin API answers 409, and
//!   no request is written.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pulseboard_server::config::admin::AdminTokens;
use pulseboard_server::config::alerts::{Secret, WebhookSettings};
use pulseboard_server::config::Config;
use pulseboard_shared::agent::key::AgentKeys;
use pulseboard_shared::agent::sign::sign_result;
use pulseboard_shared::agent::{requests_key, AgentResult, Outcome as AgentOutcome, RESULTS_KEY};
use pulseboard_shared::command::{commands_key, Action, RESTART_EXIT_CODE};
use pulseboard_shared::recovery::{Block, GuardState, LastAction, Mode, Policy};
use pulseboard_shared::{LifecycleState, Nodes, Phase, WorkerStatus};
use pulseboard_tests::standin::StandIn;
use pulseboard_tests::{Stack, PATIENCE};
use pulseboard_worker::heartbeat::{start, Handle, Options};
use redis::AsyncCommands;
use serde_json::Value;
use tokio::net::TcpListener;

const OPS: &str = "ops-token-0123456789";
const WORKER: &str = "image-render";

/// One exit the supervisor saw: when, and the code.
type Exits = Arc<Mutex<Vec<(Instant, i32)>>>;

/// A worker under a test supervisor: each life beats every second, stalls on a job at once if
/// `stall` says so for that life, and obeys a restart by a clean stop and exit 75; the
/// supervisor records the exit and starts the next life.
fn supervise(redis_url: String, stall: impl Fn(usize) -> bool + Send + 'static) -> Exits {
    let exits: Exits = Arc::default();
    let seen = exits.clone();
    tokio::spawn(async move {
        for life in 0.. {
            let beat = live(&redis_url);
            if stall(life) {
                beat.job_started("stuck-job");
            }
            let mut wishes = beat.wishes();
            if wishes
                .wait_for(|w| matches!(w, Some(Action::Restart | Action::Stop)))
                .await
                .is_err()
            {
                return;
            }
            beat.stop().await;
            seen.lock()
                .unwrap()
                .push((Instant::now(), RESTART_EXIT_CODE));
        }
    });
    exits
}

fn live(redis_url: &str) -> Handle {
    live_every(redis_url, Duration::from_secs(1))
}

/// A life beating every `interval` (it takes its commands with each beat).
fn live_every(redis_url: &str, interval: Duration) -> Handle {
    let options = Options {
        interval,
        phase: Phase::Ready,
        ..Options::default()
    };
    start(WORKER, "render", redis_url, options).unwrap()
}

/// Auto mode, fast: a job stalls after 1 s and triggers at once; backoff 2 s doubling to 4 s.
fn fast_auto(c: &mut Config) {
    c.lifecycle.stall_after_s = Some(1);
    c.recovery.policy = Policy {
        mode: Mode::Auto,
        backoff_start_s: 2,
        backoff_max_s: 4,
        max_attempts: 3,
        window_s: 600,
        answer_timeout_s: 30,
        ..Policy::default()
    };
    c.admin_tokens = AdminTokens::parse(&format!("ops:{OPS}")).unwrap();
}

fn worker(nodes: &Nodes) -> Option<&WorkerStatus> {
    nodes.workers.iter().find(|w| w.name == WORKER)
}

fn state_of(nodes: &Nodes) -> Option<LifecycleState> {
    worker(nodes)?.lifecycle.as_ref().map(|l| l.state)
}

fn guard_of(nodes: &Nodes) -> Option<GuardState> {
    worker(nodes)?.recovery.as_ref().map(|r| r.state)
}

async fn events(stack: &Stack) -> Vec<Value> {
    let (_, body) = stack.get("/api/agent-office/events?limit=200").await;
    let log: Value = serde_json::from_str(&body).unwrap();
    log["events"].as_array().cloned().unwrap_or_default()
}

fn audits<'a>(events: &'a [Value], what: &str) -> Vec<&'a Value> {
    events
        .iter()
        .filter(|e| e["type"] == "recovery" && e["recovery"]["what"] == what)
        .collect()
}

/// Waits until `secs` more seconds of snapshots have gone by (the snapshot's own clock).
async fn watch_for(stack: &Stack, secs: i64) {
    let start = stack.nodes().await.generated_at;
    let start = chrono::DateTime::parse_from_rfc3339(&start).unwrap();
    stack
        .wait_nodes("time to pass", |n| {
            chrono::DateTime::parse_from_rfc3339(&n.generated_at)
                .is_ok_and(|t| (t - start).num_seconds() >= secs)
        })
        .await;
}

async fn post(stack: &Stack, path: &str, body: Value) -> (u16, Value) {
    let response = stack
        .http
        .post(format!("{}{path}", stack.base))
        .bearer_auth(OPS)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_stalled_worker_is_restarted_once_through_its_heartbeat_and_is_ready_again() {
    // With the alerts off: the guard holds a lease of its own and needs no sink to act.
    let stack = Stack::start_with(|c| {
        fast_auto(c);
        c.alerts.enabled = false;
    })
    .await;
    let exits = supervise(stack.redis.url(), |life| life == 0);
    stack
        .wait_nodes("the worker stalled", |n| {
            state_of(n) == Some(LifecycleState::Stalled)
        })
        .await;
    let stalled_at = Instant::now();
    let nodes = stack
        .wait_nodes("the worker ready again after a restart", |n| {
            !exits.lock().unwrap().is_empty() && state_of(n) == Some(LifecycleState::Ready)
        })
        .await;
    let took = stalled_at.elapsed();
    let exits_now = exits.lock().unwrap().clone();
    assert_eq!(exits_now.len(), 1, "one restart");
    assert_eq!(exits_now[0].1, RESTART_EXIT_CODE);
    let last = worker(&nodes)
        .and_then(|w| w.recovery.as_ref())
        .and_then(|r| r.last_action.clone());
    println!("stalled -> restarted -> ready: {:.2} s", took.as_secs_f64());

    // The answer is recorded: the action ended well, by `auto`, through the heartbeat.
    let settled = stack
        .wait_nodes("the action settled", |n| {
            worker(n)
                .and_then(|w| w.recovery.as_ref())
                .and_then(|r| r.last_action.as_ref())
                .is_some_and(|l| l.ok == Some(true))
        })
        .await;
    let last = last.or_else(|| {
        worker(&settled)
            .and_then(|w| w.recovery.as_ref())
            .and_then(|r| r.last_action.clone())
    });
    let last = last.expect("the view shows the last action");
    assert_eq!(
        (last.by.as_str(), last.action.as_str()),
        ("auto", "restart")
    );
    let log = events(&stack).await;
    assert_eq!(audits(&log, "acted").len(), 1, "{log:#?}");
    assert_eq!(audits(&log, "result").len(), 1, "{log:#?}");
    let mut r = stack.conn().await;
    let left: usize = r.llen(commands_key(WORKER)).await.unwrap();
    assert_eq!(left, 0, "the worker took its command");
    stack.stop().await;
}

/// A second pulseboard process on the same Redis, with the same configuration.
async fn second_server(
    redis_url: String,
    adjust: impl FnOnce(&mut Config),
) -> pulseboard_server::shutdown::Trigger {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mut config = Config {
        redis_url,
        refresh: Duration::from_millis(100),
        discovery_every: Duration::from_millis(200),
        ..Config::default()
    };
    adjust(&mut config);
    let (trigger, rx) = pulseboard_server::shutdown::channel();
    tokio::spawn(async move { pulseboard_server::serve(config, listener, rx).await });
    trigger
}

#[tokio::test]
async fn a_crash_loop_is_spaced_by_the_backoff_then_the_circuit_opens_once_even_with_two_deciders()
{
    let hook = StandIn::start().await.unwrap();
    let url = format!("{}/hook", hook.url);
    let configure = {
        let url = url.clone();
        move |c: &mut Config| {
            fast_auto(c);
            c.alerts.webhook = Some(WebhookSettings {
                url: Secret::new(url.clone()),
            });
            c.alerts.lease = Duration::from_secs(2);
        }
    };
    let stack = Stack::start_with(configure.clone()).await;
    let other = second_server(stack.redis.url(), configure).await;
    let exits = supervise(stack.redis.url(), |_| true);
    // Three lives of about a second each, the backoffs between them (2 s, 4 s) and the last
    // one's (4 s) before the circuit opens: longer than the usual patience.
    let deadline = Instant::now() + 3 * PATIENCE;
    let nodes = loop {
        let nodes = stack.nodes().await;
        if guard_of(&nodes) == Some(GuardState::CircuitOpen) {
            break nodes;
        }
        assert!(
            Instant::now() < deadline,
            "no circuit: {:#?}",
            worker(&nodes)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let view = worker(&nodes).unwrap().recovery.clone().unwrap();
    assert_eq!((view.attempts, view.max_attempts), (3, 3), "{view:?}");
    // Watch a while longer: nothing more may happen.
    watch_for(&stack, 6).await;
    let exits_now = exits.lock().unwrap().clone();
    assert_eq!(
        exits_now.len(),
        3,
        "three restarts, none after the circuit opened"
    );
    let policy = Policy {
        backoff_start_s: 2,
        backoff_max_s: 4,
        ..Policy::default()
    };
    for (n, pair) in exits_now.windows(2).enumerate() {
        let gap = pair[1].0 - pair[0].0;
        // Decisions are made to the whole second: at most one second early.
        let least = policy.backoff_after(n + 1) - 1;
        assert!(
            gap >= Duration::from_secs(least),
            "attempt {} came {gap:?} after the one before (backoff {} s)",
            n + 2,
            policy.backoff_after(n + 1)
        );
        println!("attempt {} after {:.1} s", n + 2, gap.as_secs_f64());
    }
    let log = events(&stack).await;
    let acted = audits(&log, "acted");
    assert_eq!(acted.len(), 3, "each attempt decided once: {acted:#?}");
    let mut ids: Vec<_> = acted.iter().map(|e| e["recovery"]["id"].clone()).collect();
    ids.dedup();
    assert_eq!(ids.len(), 3);
    assert_eq!(audits(&log, "circuit_open").len(), 1);
    let circuit = hook
        .wait_for("자동 복구 중단", 0, PATIENCE)
        .await
        .expect("the circuit alert");
    assert_eq!(circuit.body["kind"], "circuit_open");
    assert!(circuit.text().contains(WORKER));
    let circuit_alerts = hook
        .received()
        .into_iter()
        .filter(|r| r.body["kind"] == "circuit_open")
        .count();
    assert_eq!(circuit_alerts, 1, "one circuit alert");
    // It wants a person: it opens an incident (Telegram's buttons name it) like a down alert.
    let logged = events(&stack).await;
    let opened = logged
        .iter()
        .find(|e| e["alert"]["kind"] == "circuit_open")
        .expect("the circuit alert in the event log");
    assert!(opened["alert"]["incident"].is_string(), "{opened:#}");
    let acted_alerts: Vec<_> = hook
        .received()
        .into_iter()
        .filter(|r| r.body["kind"] == "recovery_acted")
        .collect();
    assert_eq!(acted_alerts.len(), 3, "one alert per restart");
    let ready: Value = serde_json::from_str(&stack.get("/readyz").await.1).unwrap();
    assert_eq!(ready["recovery"]["circuit_open"][0], WORKER, "{ready:#}");

    // An operator resets the guard: it may act again.
    let (status, _) = post(
        &stack,
        &format!("/api/agent-office/workers/{WORKER}/recovery/reset"),
        Value::Null,
    )
    .await;
    assert_eq!(status, 202);
    tokio::time::timeout(PATIENCE, async {
        while exits.lock().unwrap().len() < 4 {
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    })
    .await
    .expect("after a reset the guard restarts the worker again");
    other.stop();
    stack.stop().await;
}

#[tokio::test]
async fn nothing_happens_while_held_or_paused_and_it_acts_once_neither_holds() {
    let stack = Stack::start_with(fast_auto).await;
    // Held before it stalls.
    let beat = live(&stack.redis.url());
    stack
        .wait_nodes("the worker ready", |n| {
            state_of(n) == Some(LifecycleState::Ready)
        })
        .await;
    let path = format!("/api/agent-office/workers/{WORKER}/recovery");
    let (status, body) = post(
        &stack,
        &path,
        serde_json::json!({"hold_for_s": 3600, "reason": "disk swap"}),
    )
    .await;
    assert_eq!(status, 202, "{body}");
    stack
        .wait_nodes("the hold applied", |n| {
            worker(n)
                .and_then(|w| w.recovery.as_ref())
                .is_some_and(|r| r.hold_until.is_some())
        })
        .await;
    beat.job_started("stuck-job");
    let nodes = stack
        .wait_nodes("held while stalled", |n| {
            guard_of(n) == Some(GuardState::Held)
        })
        .await;
    let view = worker(&nodes).unwrap().recovery.clone().unwrap();
    assert_eq!(view.hold_reason.as_deref(), Some("ops: disk swap"));
    watch_for(&stack, 3).await;
    let mut r = stack.conn().await;
    let queued: usize = r.llen(commands_key(WORKER)).await.unwrap();
    assert_eq!(queued, 0, "no command while held");
    assert!(audits(&events(&stack).await, "acted").is_empty());

    // Paused by the queue flag: lift the hold, still nothing.
    let _: () = r.set("queue:paused", "1").await.unwrap();
    let (status, _) = post(&stack, &path, serde_json::json!({"hold_for_s": 0})).await;
    assert_eq!(status, 202);
    let nodes = stack
        .wait_nodes("blocked by the pause", |n| {
            guard_of(n) == Some(GuardState::Blocked)
        })
        .await;
    let view = worker(&nodes).unwrap().recovery.clone().unwrap();
    assert!(
        view.blocked_by.as_deref().unwrap_or("").contains("paused"),
        "{view:?}"
    );
    watch_for(&stack, 3).await;
    assert!(
        audits(&events(&stack).await, "acted").is_empty(),
        "no action while paused"
    );

    // Neither: it acts, once.
    let _: () = r.del("queue:paused").await.unwrap();
    let mut wishes = beat.wishes();
    tokio::time::timeout(PATIENCE, wishes.wait_for(|w| *w == Some(Action::Restart)))
        .await
        .expect("the restart once nothing stands in the way")
        .unwrap();
    assert_eq!(audits(&events(&stack).await, "acted").len(), 1);
    let log = events(&stack).await;
    assert_eq!(
        audits(&log, "hold").len(),
        1,
        "the hold is in the audit trail"
    );
    assert_eq!(audits(&log, "hold_lifted").len(), 1);
    beat.stop().await;
    stack.stop().await;
}

#[tokio::test]
async fn a_manual_restart_skips_the_backoff_but_not_one_in_flight() {
    let stack = Stack::start_with(|c| {
        fast_auto(c);
        c.recovery.policy.mode = Mode::Recommend;
    })
    .await;
    // Beats far apart: the restart waits on its list, in flight, while the test looks.
    let beat = live_every(&stack.redis.url(), Duration::from_secs(30));
    beat.job_started("stuck-job");
    let nodes = stack
        .wait_nodes("a recommendation", |n| {
            guard_of(n) == Some(GuardState::Recommending)
        })
        .await;
    let view = worker(&nodes).unwrap().recovery.clone().unwrap();
    assert!(
        view.recommended_action.unwrap().contains("restart"),
        "recommend mode says what to do"
    );
    assert!(
        audits(&events(&stack).await, "acted").is_empty(),
        "and does nothing"
    );
    let path = format!("/api/agent-office/workers/{WORKER}/restart");
    let (status, body) = post(&stack, &path, Value::Null).await;
    assert_eq!(status, 202, "{body}");
    stack
        .wait_nodes("the manual action in flight", |n| {
            worker(n)
                .and_then(|w| w.recovery.as_ref())
                .and_then(|r| r.last_action.as_ref())
                .is_some_and(|l| l.by == "ops" && l.result.is_none())
        })
        .await;
    let (status, body) = post(&stack, &path, Value::Null).await;
    assert_eq!(status, 409, "the same action is in flight: {body}");
    beat.stop().await;
    stack.stop().await;
}

/// The key the server and the agent share in these tests.
const AGENT_KEY: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

/// The supervisor's command, as the agent runs it: logs its argv (one line per run); a reset
/// then takes `reset_s` seconds.
fn supervisor_script(
    dir: &std::path::Path,
    reset_s: f64,
) -> (std::path::PathBuf, std::path::PathBuf) {
    use std::os::unix::fs::PermissionsExt;
    let script = dir.join("systemctl.sh");
    let log = dir.join("runs.log");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho \"$*\" >> '{}'\ncase \"$1\" in reset-failed) sleep {reset_s};; esac\n",
            log.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    (script, log)
}

/// A test's folder with the supervisor script and the agent's allow-list for [`WORKER`].
fn agent_dir(test: &str, reset_s: f64) -> (std::path::PathBuf, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("pb-recovery-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let (script, runs) = supervisor_script(&dir, reset_s);
    std::fs::write(
        dir.join("agent.toml"),
        format!(
            "[workers.{WORKER}]\nrestart = [\"{s}\", \"restart\", \"{WORKER}.service\"]\nreset = [\"{s}\", \"reset-failed\", \"{WORKER}.service\"]\n",
            s = script.display()
        ),
    )
    .unwrap();
    (dir, runs)
}

/// The real `pulseboard agent` for `host` with the allow-list in `dir`, holding the key; waits
/// until the server sees it beat.
async fn start_agent(stack: &Stack, host: &str, dir: &std::path::Path) -> tokio::process::Child {
    let agent = tokio::process::Command::new(pulseboard_tests::pulseboard_bin())
        .args(["agent", "--host", host, "--beat-interval-ms", "200"])
        .arg("--config")
        .arg(dir.join("agent.toml"))
        .args(["--redis", &stack.redis.url()])
        .env("PULSEBOARD_AGENT_KEY", AGENT_KEY)
        .env_remove("PULSEBOARD_AGENT_KEY_FILE")
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    stack
        .wait_nodes("the host agent beating", |n| {
            n.agents
                .iter()
                .any(|a| a.host == host && a.workers == [WORKER])
        })
        .await;
    agent
}

/// The worker's host; its neighbours there made alive (else the whole host is down: a person
/// must look, and nothing goes to the agent).
async fn host_with_live_neighbours(stack: &Stack) -> String {
    let host = worker(&stack.nodes().await)
        .and_then(|w| w.host.clone())
        .expect("the seed's worker has a host");
    let mut r = stack.conn().await;
    for w in stack.nodes().await.workers {
        if w.host.as_deref() == Some(host.as_str()) && w.name != WORKER {
            pulseboard_tests::beat(
                &mut r,
                &pulseboard_tests::heartbeat(&w.name, w.kind.as_str(), "idle"),
            )
            .await;
        }
    }
    host
}

/// The supervisor's runs once there are `n`.
async fn runs_when(runs: &std::path::Path, n: usize) -> Option<Vec<String>> {
    tokio::time::timeout(PATIENCE, async {
        loop {
            if let Ok(text) = std::fs::read_to_string(runs) {
                if text.lines().count() >= n {
                    return text.lines().map(str::to_owned).collect();
                }
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    })
    .await
    .ok()
}

/// The last action in the worker's guard view, once it is answered.
async fn answered(stack: &Stack) -> LastAction {
    let nodes = stack
        .wait_nodes("the agent's answer recorded", |n| {
            worker(n)
                .and_then(|w| w.recovery.as_ref())
                .and_then(|r| r.last_action.as_ref())
                .is_some_and(|l| l.ok.is_some())
        })
        .await;
    worker(&nodes)
        .unwrap()
        .recovery
        .clone()
        .unwrap()
        .last_action
        .unwrap()
}

/// Writes forged answers to request `id`: unsigned, signed with another key, and signed with
/// the key but from another host; each says the restart failed.
async fn forge_results(stack: &Stack, id: &str, host: &str) {
    let forged = |host: &str| AgentResult {
        id: id.into(),
        host: host.into(),
        worker: WORKER.into(),
        outcome: AgentOutcome::Failed,
        exit_code: Some(1),
        duration_ms: 1,
        detail: "forged".into(),
        refused: None,
        at: chrono::Utc::now().to_rfc3339(),
        sig: String::new(),
    };
    let other =
        AgentKeys::parse("2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae")
            .unwrap();
    let unsigned = forged(host);
    let mut wrong_key = forged(host);
    sign_result(&other, &mut wrong_key);
    let mut wrong_host = forged("gpu-99");
    sign_result(&AgentKeys::parse(AGENT_KEY).unwrap(), &mut wrong_host);
    let mut r = stack.conn().await;
    for result in [unsigned, wrong_key, wrong_host] {
        let _: String = redis::cmd("XADD")
            .arg(RESULTS_KEY)
            .arg("*")
            .arg("result")
            .arg(result.to_json())
            .query_async(&mut r)
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn a_crashed_worker_is_restarted_by_its_host_agent_with_the_allow_listed_argv_once() {
    // The reset takes a second: forged answers land before the real one.
    let (dir, runs) = agent_dir("agent", 1.0);
    let stack = Stack::start_with(|c| {
        fast_auto(c);
        c.agent_key = Some(AgentKeys::parse(AGENT_KEY).unwrap());
        // A crash is down at once (its final beat says so); act after a second of it.
        for t in &mut c.recovery.policy.triggers {
            if t.state == LifecycleState::Down {
                t.after_s = 1;
            }
        }
    })
    .await;
    let host = host_with_live_neighbours(&stack).await;
    let mut agent = start_agent(&stack, &host, &dir).await;
    // The worker crashes (its final beat says so) and its supervisor does not bring it back.
    let beat = live(&stack.redis.url());
    stack
        .wait_nodes("ready", |n| state_of(n) == Some(LifecycleState::Ready))
        .await;
    beat.crashed(1).await;
    if runs_when(&runs, 1).await.is_none() {
        panic!("the agent ran nothing: {:#?}", worker(&stack.nodes().await));
    }
    // While the agent runs the reset, someone who can write Redis answers for it.
    let mut r = stack.conn().await;
    let sent: Vec<(String, Vec<(String, String)>)> = redis::cmd("XRANGE")
        .arg(requests_key(&host))
        .arg("-")
        .arg("+")
        .query_async(&mut r)
        .await
        .unwrap();
    assert_eq!(sent.len(), 1, "{sent:?}");
    let request: Value = serde_json::from_str(&sent[0].1[0].1).unwrap();
    assert_eq!(request["host"], host.as_str(), "signed for its host");
    assert_eq!(request["sig"].as_str().map(str::len), Some(64), "{request}");
    forge_results(&stack, request["id"].as_str().unwrap(), &host).await;
    let run = runs_when(&runs, 2).await.expect("the restart ran");
    assert_eq!(
        run,
        [
            format!("reset-failed {WORKER}.service"),
            format!("restart {WORKER}.service")
        ],
        "reset, then restart, exactly as listed"
    );
    // The supervisor brought it back.
    let back = live(&stack.redis.url());
    let last = answered(&stack).await;
    assert_eq!(
        (last.ok, last.action.as_str()),
        (Some(true), "reset_and_restart"),
        "the forged failures were not taken as the answer: {last:?}"
    );
    assert!(last.result.unwrap().contains("done"));
    stack
        .wait_nodes("ready again", |n| {
            state_of(n) == Some(LifecycleState::Ready)
        })
        .await;
    watch_for(&stack, 3).await;
    assert_eq!(
        std::fs::read_to_string(&runs).unwrap().lines().count(),
        2,
        "once"
    );
    let log = events(&stack).await;
    assert_eq!(audits(&log, "acted").len(), 1);
    back.stop().await;
    agent.kill().await.unwrap();
    stack.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_manual_restart_of_a_gone_worker_goes_through_its_agent_signed() {
    let (dir, runs) = agent_dir("manual", 0.0);
    let stack = Stack::start_with(|c| {
        fast_auto(c);
        c.recovery.policy.mode = Mode::Recommend;
        c.agent_key = Some(AgentKeys::parse(AGENT_KEY).unwrap());
    })
    .await;
    let host = host_with_live_neighbours(&stack).await;
    let mut agent = start_agent(&stack, &host, &dir).await;
    let beat = live(&stack.redis.url());
    stack
        .wait_nodes("ready", |n| state_of(n) == Some(LifecycleState::Ready))
        .await;
    beat.crashed(1).await;
    stack
        .wait_nodes("down, gone", |n| {
            state_of(n) == Some(LifecycleState::Down) && worker(n).is_some_and(|w| !w.alive)
        })
        .await;
    let path = format!("/api/agent-office/workers/{WORKER}/restart");
    let (status, body) = post(&stack, &path, Value::Null).await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["action"], "reset_and_restart", "{body}");
    let run = runs_when(&runs, 2)
        .await
        .expect("the agent ran the restart");
    assert_eq!(run.len(), 2, "{run:?}");
    let last = answered(&stack).await;
    assert_eq!((last.ok, last.by.as_str()), (Some(true), "ops"), "{last:?}");
    agent.kill().await.unwrap();
    stack.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn without_the_agent_key_nothing_goes_to_an_agent_and_the_guard_says_why() {
    let stack = Stack::start_with(|c| {
        fast_auto(c);
        for t in &mut c.recovery.policy.triggers {
            if t.state == LifecycleState::Down {
                t.after_s = 1;
            }
        }
    })
    .await;
    let host = host_with_live_neighbours(&stack).await;
    let beat = live(&stack.redis.url());
    stack
        .wait_nodes("ready", |n| state_of(n) == Some(LifecycleState::Ready))
        .await;
    beat.crashed(1).await;
    let nodes = stack
        .wait_nodes("blocked: no agent key", |n| {
            worker(n)
                .and_then(|w| w.recovery.as_ref())
                .is_some_and(|r| r.blocked == Some(Block::NoAgentKey))
        })
        .await;
    let view = worker(&nodes).unwrap().recovery.clone().unwrap();
    assert!(
        view.blocked_by.unwrap().contains("PULSEBOARD_AGENT_KEY"),
        "the words say what to set"
    );
    let path = format!("/api/agent-office/workers/{WORKER}/restart");
    let (status, body) = post(&stack, &path, Value::Null).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["conflict"]["conflict"], "no_agent_key", "{body}");
    watch_for(&stack, 2).await;
    let mut r = stack.conn().await;
    let queued: usize = redis::cmd("XLEN")
        .arg(requests_key(&host))
        .query_async(&mut r)
        .await
        .unwrap();
    assert_eq!(queued, 0, "no request was written");
    assert!(audits(&events(&stack).await, "acted").is_empty());
    stack.stop().await;
}
