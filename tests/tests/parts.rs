//! A worker of two processes (`[[workers]] parts = ["server", "ui"]`), each a real program under
//! `pulseboard run --part`, beating into a real Redis read by the real server: `starting` until
//! both parts are ready (and `pulseboard wait --part` waits for both), `ready` with both, and
//! `down` naming the part as soon as one part's program dies.

use std::path::Path;
use std::process::Stdio;

use pulseboard_shared::{LifecycleState as L, Nodes, WorkerStatus};
use pulseboard_tests::{exit_code, pulseboard_bin, pulseboard_run, Stack};
use tokio::process::{Child, Command};

const NAME: &str = "music-render";

fn hero(nodes: &Nodes) -> &WorkerStatus {
    nodes.workers.iter().find(|w| w.name == NAME).unwrap()
}

fn state(nodes: &Nodes) -> Option<L> {
    hero(nodes).lifecycle.as_ref().map(|l| l.state)
}

fn part_states(nodes: &Nodes) -> Vec<(String, L)> {
    let parts = &hero(nodes).parts;
    parts
        .iter()
        .map(|p| (p.name.clone(), p.lifecycle.state))
        .collect()
}

/// `pulseboard run --part part` for `NAME`, beating every second, with `flags`, around `program`.
fn part(stack: &Stack, part: &str, flags: &[&str], program: &[&str]) -> Child {
    let mut args = vec!["--name", NAME, "--part", part, "--interval", "1"];
    args.extend(flags);
    pulseboard_run(&stack.redis.url(), &args, program)
}

/// A program that runs until `file` exists, then exits with code 3 (a crash).
fn dies_when(file: &Path) -> Vec<String> {
    let code = format!(
        "import os, sys, time\nwhile not os.path.exists({:?}): time.sleep(0.05)\nsys.exit(3)",
        file.to_str().unwrap()
    );
    vec!["python3".into(), "-u".into(), "-c".into(), code]
}

#[tokio::test]
async fn a_two_part_worker_is_ready_only_with_both_and_down_naming_the_part_that_died() {
    let stack = Stack::start_with(|c| {
        let hero = c.topology.workers.iter_mut().find(|w| w.name == NAME);
        hero.unwrap().parts = vec!["server".into(), "ui".into()];
    })
    .await;
    let dir = std::env::temp_dir().join(format!("pb-parts-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let (ready, die) = (dir.join("ui-ready"), dir.join("ui-dies"));

    let mut server = part(&stack, "server", &[], &["sleep", "600"]);
    let ui_program = dies_when(&die);
    let ui_program: Vec<&str> = ui_program.iter().map(String::as_str).collect();
    let mut ui = part(
        &stack,
        "ui",
        &["--ready-file", ready.to_str().unwrap()],
        &ui_program,
    );
    let mut waiting = Command::new(pulseboard_bin())
        .args(["wait", "--ready", NAME, "--part", "server", "--part", "ui"])
        .args(["--timeout", "60", "--redis", &stack.redis.url()])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("pulseboard wait starts");

    // One part ready, the other starting: the worker is starting, and says which part it awaits.
    let starting = stack
        .wait_nodes("server ready, ui starting", |n| {
            part_states(n) == [("server".into(), L::Ready), ("ui".into(), L::Starting)]
        })
        .await;
    let l = hero(&starting).lifecycle.clone().unwrap();
    assert_eq!(l.state, L::Starting);
    assert!(
        l.reason.as_deref().unwrap().starts_with("part ui starting"),
        "{l:?}"
    );
    assert!(
        waiting.try_wait().unwrap().is_none(),
        "wait goes on while a part is starting"
    );

    std::fs::write(&ready, "").unwrap();
    stack
        .wait_nodes("ready with both parts", |n| state(n) == Some(L::Ready))
        .await;
    assert_eq!(
        exit_code(&mut waiting).await,
        0,
        "wait returns once both are"
    );

    // The ui part's program crashes: down at once (its wrapper's final beat), naming the part,
    // while the server part is still ready.
    std::fs::write(&die, "").unwrap();
    let down = stack
        .wait_nodes("down", |n| state(n) == Some(L::Down))
        .await;
    let w = hero(&down);
    assert_eq!(
        w.lifecycle.as_ref().unwrap().reason.as_deref(),
        Some("part ui down: exited with code 3")
    );
    assert_eq!(part_states(&down)[0], ("server".into(), L::Ready));
    assert!(!w.alive);
    assert_eq!(exit_code(&mut ui).await, 3);
    server.kill().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    stack.stop().await;
}
