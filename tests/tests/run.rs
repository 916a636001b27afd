//! `pulseboard run` around small real programs, beating into a real Redis read by the real
//! server: readiness by each method and by several at once, failing to start, a clean stop under SIGTERM, a crash, the
//! wrapper killed, and a missed sd_notify watchdog, each judged on `/api/agent-office/nodes`;
//! and pulseboard's commands (quiet by the program's signal, restart exits 75, stop exits 0).

use std::process::Stdio;

use pulseboard_shared::heartbeat::heartbeat_key;
use pulseboard_shared::{LifecycleState as L, Nodes};
use pulseboard_tests::{exit_code, pulseboard_bin, signal, Stack, PATIENCE};
use redis::AsyncCommands;
use tokio::process::{Child, Command};

const NAME: &str = "music-render";

fn lifecycle(nodes: &Nodes) -> Option<(L, Option<String>)> {
    let w = nodes.workers.iter().find(|w| w.name == NAME)?;
    let l = w.lifecycle.as_ref()?;
    Some((l.state, l.reason.clone()))
}

fn state(nodes: &Nodes) -> Option<L> {
    lifecycle(nodes).map(|(s, _)| s)
}

/// `pulseboard run` for `NAME`, beating every second, with `flags`, around `program`.
fn wrap(stack: &Stack, flags: &[&str], program: &[&str]) -> Child {
    Command::new(pulseboard_bin())
        .args(["run", "--name", NAME, "--kind", "render", "--interval", "1"])
        .args(["--redis", &stack.redis.url()])
        .args(flags)
        .arg("--")
        .args(program)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("pulseboard run starts")
}

/// A Python one-liner as the wrapped program (its own process; never a shell of ours).
fn python(code: &str) -> Vec<&str> {
    vec!["python3", "-u", "-c", code]
}

const SERVES_UNTIL_TERM: &str = "import signal, sys, time
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
print('loading'); time.sleep(0.3); print('listening on 9000')
while True: time.sleep(0.05)";

#[tokio::test]
async fn ready_by_a_log_line_then_sigterm_is_a_clean_stop_not_a_crash() {
    let stack = Stack::start().await;
    let mut child = wrap(
        &stack,
        &["--ready-log", "listening on \\d+"],
        &python(SERVES_UNTIL_TERM),
    );
    stack
        .wait_nodes("starting before the line", |n| {
            state(n) == Some(L::Starting)
        })
        .await;
    let ready = stack
        .wait_nodes("ready after the line", |n| state(n) == Some(L::Ready))
        .await;
    let pid = child.id().unwrap();
    let declared = ready.workers[0].declared.clone().unwrap();
    assert_eq!(
        declared.pid,
        Some(pid),
        "the beat carries the wrapper's pid"
    );
    // The program's output passes through unchanged.
    let mut out = child.stdout.take().unwrap();
    signal(&child, "TERM");
    assert_eq!(
        exit_code(&mut child).await,
        0,
        "the program's own exit code"
    );
    let mut text = String::new();
    tokio::io::AsyncReadExt::read_to_string(&mut out, &mut text)
        .await
        .unwrap();
    assert_eq!(text, "loading\nlistening on 9000\n");
    let stopped = stack
        .wait_nodes("stopped", |n| state(n) == Some(L::Stopped))
        .await;
    assert!(!stopped.workers[0].alive);
    assert_eq!(
        stopped.links[0].status,
        pulseboard_shared::LinkStatus::Paused
    );
    let mut r = stack.conn().await;
    let ttl: i64 = r.ttl(heartbeat_key(NAME)).await.unwrap();
    assert_eq!(
        ttl, -1,
        "a clean stop stays said until the worker starts again"
    );
    stack.stop().await;
}

#[tokio::test]
async fn a_crash_is_down_at_once_with_its_exit_code() {
    let stack = Stack::start().await;
    let mut child = wrap(
        &stack,
        &[],
        &python("import time, sys; time.sleep(0.5); sys.exit(3)"),
    );
    stack
        .wait_nodes("ready when started", |n| state(n) == Some(L::Ready))
        .await;
    assert_eq!(
        exit_code(&mut child).await,
        3,
        "the wrapper exits with the program's code"
    );
    let down = stack
        .wait_nodes("down", |n| state(n) == Some(L::Down))
        .await;
    assert_eq!(
        lifecycle(&down).unwrap().1.as_deref(),
        Some("exited with code 3")
    );
    let mut r = stack.conn().await;
    let ttl: i64 = r.ttl(heartbeat_key(NAME)).await.unwrap();
    assert!(
        ttl > 0,
        "judged down while its key is still there: no wait for the expiry"
    );
    stack.stop().await;
}

#[tokio::test]
async fn ready_by_a_file_and_failed_when_it_never_comes() {
    let stack = Stack::start_with(|c| c.lifecycle.ready_timeout_s = 2).await;
    let dir = std::env::temp_dir().join(format!("pb-run-file-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let flag = dir.join("ready");
    let flag_text = flag.to_str().unwrap();
    let mut child = wrap(
        &stack,
        &["--ready-file", flag_text],
        &python("import time; time.sleep(60)"),
    );
    stack
        .wait_nodes("starting", |n| state(n) == Some(L::Starting))
        .await;
    let failed = stack
        .wait_nodes("failed after the ready timeout", |n| {
            state(n) == Some(L::Failed)
        })
        .await;
    assert!(
        failed.workers[0].alive,
        "failed to start, but the process runs"
    );
    std::fs::write(&flag, "").unwrap();
    stack
        .wait_nodes("ready once the file exists", |n| state(n) == Some(L::Ready))
        .await;
    signal(&child, "TERM");
    exit_code(&mut child).await;
    let _ = std::fs::remove_dir_all(&dir);
    stack.stop().await;
}

#[tokio::test]
async fn ready_only_when_every_condition_holds_and_the_beat_names_what_is_missing_and_its_consumer()
{
    let stack = Stack::start().await;
    let dir = std::env::temp_dir().join(format!("pb-run-all-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (a, b) = (dir.join("a"), dir.join("b"));
    let (a_text, b_text) = (a.to_str().unwrap(), b.to_str().unwrap());
    let mut child = wrap(
        &stack,
        &[
            "--ready-file",
            a_text,
            "--ready-file",
            b_text,
            "--ready-log",
            "listening on \\d+",
            "--consumer",
            "c1",
        ],
        &python(SERVES_UNTIL_TERM),
    );
    let reason = |n: &Nodes| {
        let w = n.workers.iter().find(|w| w.name == NAME)?;
        w.declared.as_ref()?.reason.clone()
    };
    // The log line comes at once: still starting, waiting for both files, then for the second.
    let waiting = stack
        .wait_nodes("waiting for both files", |n| {
            state(n) == Some(L::Starting)
                && reason(n).is_some_and(|r| r.contains(a_text) && !r.contains("listening"))
        })
        .await;
    let said = reason(&waiting).unwrap();
    let declared = waiting.workers[0].declared.as_ref().unwrap();
    assert_eq!(
        declared.consumers,
        Some(vec!["c1".to_owned()]),
        "--consumer is declared"
    );
    assert_eq!(said, format!("waiting for file {a_text}, file {b_text}"));
    std::fs::write(&a, "").unwrap();
    stack
        .wait_nodes("waiting for the second file only", |n| {
            state(n) == Some(L::Starting) && reason(n) == Some(format!("waiting for file {b_text}"))
        })
        .await;
    std::fs::write(&b, "").unwrap();
    stack
        .wait_nodes("ready with every condition, nothing missing", |n| {
            state(n) == Some(L::Ready) && reason(n).is_none()
        })
        .await;
    signal(&child, "TERM");
    exit_code(&mut child).await;
    let _ = std::fs::remove_dir_all(&dir);
    stack.stop().await;
}

#[tokio::test]
async fn ready_by_http() {
    let stack = Stack::start().await;
    let port = pulseboard_server::redis_server::free_port().unwrap();
    let url = format!("http://127.0.0.1:{port}/");
    let port = port.to_string();
    let program = ["python3", "-m", "http.server", &port, "--bind", "127.0.0.1"];
    let mut child = wrap(&stack, &["--ready-http", &url], &program);
    stack
        .wait_nodes("ready once the URL answers", |n| state(n) == Some(L::Ready))
        .await;
    signal(&child, "TERM");
    exit_code(&mut child).await;
    stack.stop().await;
}

const NOTIFIES: &str = "import os, socket, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
say = lambda m: s.sendto(m.encode(), os.environ['NOTIFY_SOCKET'])
assert int(os.environ['WATCHDOG_USEC']) == 1000000
time.sleep(0.3); say('READY=1\\nSTATUS=serving')
for _ in range(10): time.sleep(0.2); say('WATCHDOG=1')
time.sleep(60)";

#[tokio::test]
async fn sd_notify_says_ready_and_a_missed_watchdog_is_unhealthy() {
    let stack = Stack::start().await;
    let mut child = wrap(
        &stack,
        &["--notify", "--watchdog-s", "1"],
        &python(NOTIFIES),
    );
    stack
        .wait_nodes("ready by READY=1", |n| state(n) == Some(L::Ready))
        .await;
    let unhealthy = stack
        .wait_nodes("unhealthy once the pings stop", |n| {
            state(n) == Some(L::Unhealthy)
        })
        .await;
    assert_eq!(
        lifecycle(&unhealthy).unwrap().1.as_deref(),
        Some("watchdog missed")
    );
    signal(&child, "TERM");
    exit_code(&mut child).await;
    stack.stop().await;
}

#[tokio::test]
async fn a_killed_wrapper_leaves_no_final_beat_and_is_down_at_the_ttl() {
    let stack = Stack::start().await;
    // (its program, left alone in its group, ends by itself soon after)
    let mut child = wrap(&stack, &[], &python("import time; time.sleep(8)"));
    stack
        .wait_nodes("ready", |n| state(n) == Some(L::Ready))
        .await;
    child.kill().await.unwrap(); // SIGKILL: nothing can be said
    let down = stack
        .wait_nodes("down when the key expires (3 s)", |n| {
            state(n) == Some(L::Down)
        })
        .await;
    assert_eq!(
        lifecycle(&down).unwrap().1.as_deref(),
        Some("heartbeat expired")
    );
    stack.stop().await;
}

const DRAINS_SLOWLY: &str = "import signal, sys, time
def drain(*a):
    time.sleep(2); sys.exit(0)
signal.signal(signal.SIGTERM, drain)
print('serving')
while True: time.sleep(0.05)";

#[tokio::test]
async fn sigterm_shows_draining_until_the_program_has_finished() {
    let stack = Stack::start().await;
    // Ready once its SIGTERM handler is in place (it says so).
    let flags = ["--stop-timeout", "10", "--ready-log", "^serving$"];
    let mut child = wrap(&stack, &flags, &python(DRAINS_SLOWLY));
    stack
        .wait_nodes("ready", |n| state(n) == Some(L::Ready))
        .await;
    signal(&child, "TERM");
    let draining = stack
        .wait_nodes("draining while it finishes", |n| {
            state(n) == Some(L::Draining)
        })
        .await;
    assert_eq!(
        lifecycle(&draining).unwrap().1.as_deref(),
        Some("SIGTERM received")
    );
    assert_eq!(exit_code(&mut child).await, 0);
    stack
        .wait_nodes("then stopped", |n| state(n) == Some(L::Stopped))
        .await;
    stack.stop().await;
}

const IGNORES_TERM: &str = "import signal, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
print('serving')
while True: time.sleep(0.05)";

#[tokio::test]
async fn a_program_deaf_to_sigterm_is_killed_after_the_stop_timeout() {
    let stack = Stack::start().await;
    let flags = [
        "--stop-timeout",
        "1",
        "--ready-log",
        "^serving$",
        "--version",
        "2.0.1",
    ];
    let mut child = wrap(&stack, &flags, &python(IGNORES_TERM));
    let ready = stack
        .wait_nodes("ready", |n| state(n) == Some(L::Ready))
        .await;
    let declared = ready.workers[0].declared.clone().unwrap();
    assert_eq!(declared.version.as_deref(), Some("2.0.1"));
    signal(&child, "TERM");
    assert_eq!(
        exit_code(&mut child).await,
        128 + 9,
        "its group was SIGKILLed after --stop-timeout"
    );
    stack
        .wait_nodes("a requested stop is still a clean stop", |n| {
            state(n) == Some(L::Stopped)
        })
        .await;
    stack.stop().await;
}

const RELOADS_ON_HUP: &str = "import signal, sys, time
signal.signal(signal.SIGHUP, lambda *a: print('reloaded'))
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
print('serving')
while True: time.sleep(0.05)";

#[tokio::test]
async fn sighup_reaches_the_program_and_a_lost_redis_leaves_it_running() {
    let mut stack = Stack::start().await;
    let mut child = wrap(
        &stack,
        &["--ready-log", "^serving$"],
        &python(RELOADS_ON_HUP),
    );
    stack
        .wait_nodes("ready", |n| state(n) == Some(L::Ready))
        .await;
    // SIGHUP is passed on: the program reloads, nobody stops.
    let out = child.stdout.take().unwrap();
    let mut lines = tokio::io::AsyncBufReadExt::lines(tokio::io::BufReader::new(out));
    assert_eq!(lines.next_line().await.unwrap().as_deref(), Some("serving"));
    signal(&child, "HUP");
    let reloaded = tokio::time::timeout(PATIENCE, lines.next_line()).await;
    assert_eq!(reloaded.unwrap().unwrap().as_deref(), Some("reloaded"));

    // Redis goes away for longer than the key's TTL (3 s): the program keeps running.
    stack.redis.stop().await;
    let gone = std::time::Instant::now();
    while gone.elapsed() < std::time::Duration::from_secs(4) {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the wrapper keeps the program running without Redis"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    stack.redis.restart().await.unwrap();
    stack
        .wait_nodes("beating again once Redis is back", |n| {
            state(n) == Some(L::Ready) && n.workers[0].alive
        })
        .await;
    signal(&child, "TERM");
    assert_eq!(exit_code(&mut child).await, 0);
    stack
        .wait_nodes("stopped", |n| state(n) == Some(L::Stopped))
        .await;
    stack.stop().await;
}

/// Pushes a command for `NAME` as pulseboard's admin API would.
async fn ask(stack: &Stack, action: pulseboard_shared::command::Action, id: &str) {
    let command = pulseboard_shared::command::Command {
        id: id.into(),
        action,
        by: "ops".into(),
        at: "2026-12-01T00:00:00Z".into(),
    };
    let mut r = stack.conn().await;
    let _: () = r
        .rpush(
            pulseboard_shared::command::commands_key(NAME),
            command.to_json(),
        )
        .await
        .unwrap();
}

const QUIET_THEN_TERM: &str = "import signal, sys, time
signal.signal(signal.SIGUSR1, lambda *a: print('quiet now', flush=True))
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
print('up', flush=True)
while True: time.sleep(0.05)";

#[tokio::test]
async fn commands_reach_the_program_quiet_by_its_signal_and_restart_exits_75() {
    use pulseboard_shared::command::{Action, RESTART_EXIT_CODE};
    use tokio::io::{AsyncBufReadExt, BufReader};
    let stack = Stack::start().await;
    let mut child = wrap(
        &stack,
        &["--ready-log", "^up$", "--quiet-signal", "usr1"],
        &python(QUIET_THEN_TERM),
    );
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    stack
        .wait_nodes("ready", |n| state(n) == Some(L::Ready))
        .await;
    ask(&stack, Action::Quiet, "c-1").await;
    let quiet = tokio::time::timeout(PATIENCE, async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if line == "quiet now" {
                return;
            }
        }
    })
    .await;
    assert!(quiet.is_ok(), "the program got its quiet signal");
    ask(&stack, Action::Restart, "c-2").await;
    assert_eq!(exit_code(&mut child).await, RESTART_EXIT_CODE);
    stack
        .wait_nodes("stopped cleanly, not crashed", |n| {
            state(n) == Some(L::Stopped)
        })
        .await;
    stack.stop().await;
}

#[tokio::test]
async fn a_stop_command_ends_the_program_and_the_wrapper_exits_0() {
    let stack = Stack::start().await;
    let mut child = wrap(&stack, &[], &python(SERVES_UNTIL_TERM));
    stack
        .wait_nodes("ready", |n| state(n) == Some(L::Ready))
        .await;
    ask(&stack, pulseboard_shared::command::Action::Stop, "c-3").await;
    assert_eq!(exit_code(&mut child).await, 0);
    stack
        .wait_nodes("stopped", |n| state(n) == Some(L::Stopped))
        .await;
    stack.stop().await;
}

/// The wrapper declares the program it runs as the system resolves it: through a symlink, the
/// file itself. Against `[runtime.render]` (version 2, the same file written with a `/./`), the
/// worker on version 1 drifts in its version only: the other path to the same file is no drift.
#[tokio::test]
async fn the_wrapped_program_is_declared_resolved_and_only_a_real_difference_drifts() {
    use pulseboard_shared::drift::{Drift, DriftField, Expected};
    use pulseboard_shared::summary::Condition;

    let sleep = std::fs::canonicalize("/usr/bin/sleep").expect("coreutils' sleep");
    let sleep = sleep.to_str().unwrap().to_owned();
    let dir = std::env::temp_dir().join(format!("pb-drift-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let link = dir.join("snooze");
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink(&sleep, &link).unwrap();
    let written = sleep.replacen('/', "/./", 2);
    let stack = Stack::start_with(|c| {
        let expected = Expected {
            version: Some("2".into()),
            executable: Some(written.clone()),
            config_hash: None,
        };
        c.runtime.kinds.insert("render", expected);
    })
    .await;
    let _child = wrap(&stack, &["--version", "1"], &[link.to_str().unwrap(), "30"]);
    let nodes = stack
        .wait_nodes("the worker drifts", |n| {
            n.workers
                .iter()
                .any(|w| w.name == NAME && !w.drift.is_empty())
        })
        .await;
    let w = nodes.workers.iter().find(|w| w.name == NAME).unwrap();
    let declared = w.declared.as_ref().unwrap();
    assert_eq!(
        declared.executable.as_deref(),
        Some(sleep.as_str()),
        "the link resolved"
    );
    assert_eq!(
        w.drift,
        [Drift {
            field: DriftField::Version,
            expected: "2".into(),
            actual: "1".into(),
            by_majority: false,
        }],
        "{written} is {sleep}: no executable drift"
    );
    let summary = nodes.summary.unwrap();
    assert!(summary
        .conditions
        .iter()
        .any(|c| c.condition == Condition::Drift && c.count == 1));
    stack.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}
