//! `pulseboard wait` against real `pulseboard run` workers on a real Redis: it returns 0 once a
//! worker's new life is ready and not before, 1 at once, naming the exit code, when one exits
//! before it is ready, and 1 at `--timeout` when one never beats.

use std::process::Stdio;

use pulseboard_server::redis_server::RedisServer;
use pulseboard_tests::{exit_code, pulseboard_bin, PATIENCE};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// `pulseboard run` for `name`, beating every second, with `flags`, around `program`.
fn run(redis: &str, name: &str, flags: &[&str], program: &[&str]) -> Child {
    Command::new(pulseboard_bin())
        .args(["run", "--name", name, "--interval", "1", "--redis", redis])
        .args(flags)
        .arg("--")
        .args(program)
        .stdin(Stdio::null())
        // Not the test's own output: a program outliving its killed wrapper (`sleep 600`) would
        // hold cargo test's pipe open for its whole life.
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("pulseboard run starts")
}

/// `pulseboard wait --ready name`, its log on a pipe.
fn wait(redis: &str, name: &str) -> Child {
    Command::new(pulseboard_bin())
        .args(["wait", "--ready", name, "--timeout", "60", "--redis", redis])
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("pulseboard wait starts")
}

#[tokio::test]
async fn wait_returns_once_ready_and_fails_at_once_when_the_worker_exits() {
    let redis = RedisServer::start().await.expect("start redis-server");
    let url = redis.url();
    let dir = std::env::temp_dir().join(format!("pb-wait-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let ready_file = dir.join("ready");

    // Starting: the wait says so, and goes on waiting.
    let mut slow = run(
        &url,
        "slow",
        &["--ready-file", ready_file.to_str().unwrap()],
        &["sleep", "600"],
    );
    let mut waiting = wait(&url, "slow");
    let mut log = BufReader::new(waiting.stderr.take().unwrap()).lines();
    let starting = tokio::time::timeout(PATIENCE, async {
        while let Some(line) = log.next_line().await.unwrap() {
            if line.contains("starting") {
                return line;
            }
        }
        panic!("the wait ended without saying the worker is starting");
    })
    .await
    .expect("a line saying the worker is starting");
    assert!(starting.contains("slow"), "{starting}");
    assert!(
        waiting.try_wait().unwrap().is_none(),
        "not ready: still waiting"
    );
    // Ready: the wait ends with 0.
    std::fs::write(&ready_file, "").unwrap();
    assert_eq!(exit_code(&mut waiting).await, 0);

    // Exits with 3 before it is ready: the wait ends with 1 and says so.
    let _crash = run(
        &url,
        "crash",
        &["--ready-file", dir.join("never").to_str().unwrap()],
        &[
            "python3",
            "-c",
            "import sys, time; time.sleep(0.5); sys.exit(3)",
        ],
    );
    let out = wait(&url, "crash").wait_with_output().await.unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{log}");
    assert!(
        log.contains("crash will not be ready: down: exited with code 3"),
        "{log}"
    );
    // Nobody beats as `ghost`: at --timeout the wait gives up, naming where each one stands.
    let out = Command::new(pulseboard_bin())
        .args(["wait", "--ready", "ghost", "--timeout", "1"])
        .args(["--redis", &url])
        .stdin(Stdio::null())
        .output()
        .await
        .unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{log}");
    assert!(
        log.contains("not ready after 1 s: ghost (no heartbeat yet)"),
        "{log}"
    );
    // The ready worker stops its program with it.
    pulseboard_tests::signal(&slow, "TERM");
    exit_code(&mut slow).await;
    let _ = std::fs::remove_dir_all(&dir);
}
