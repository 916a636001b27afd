//! The Rust worker SDK's heartbeat against a real Redis and the real server: a worker built on it
//! is judged by what it declares (starting, ready, stopped cleanly, crashed), and a lost Redis
//! never blocks the worker's own work.

use std::time::{Duration, Instant};

use pulseboard_shared::heartbeat::heartbeat_key;
use pulseboard_shared::{HeartbeatRead, LifecycleState as L, LinkStatus, Nodes, Phase};
use pulseboard_tests::{Stack, PATIENCE};
use pulseboard_worker::heartbeat::{start, Options};
use redis::AsyncCommands;

fn lifecycle(nodes: &Nodes, name: &str) -> Option<L> {
    let w = nodes.workers.iter().find(|w| w.name == name)?;
    w.lifecycle.as_ref().map(|l| l.state)
}

#[tokio::test]
async fn a_worker_on_the_sdk_starts_works_and_stops_cleanly() {
    let stack = Stack::start().await;
    let options = Options {
        interval: Duration::from_secs(1),
        version: Some("1.2.3".into()),
        ..Options::default()
    };
    let beat = start("music-render", "render", &stack.redis.url(), options).unwrap();
    stack
        .wait_nodes("starting", |n| {
            lifecycle(n, "music-render") == Some(L::Starting)
        })
        .await;
    beat.ready();
    beat.job_started("job-1");
    let busy = stack
        .wait_nodes("ready and busy", |n| {
            lifecycle(n, "music-render") == Some(L::Ready)
                && n.workers[0].state.as_deref() == Some("busy")
        })
        .await;
    let declared = busy.workers[0].declared.clone().unwrap();
    assert_eq!(declared.version.as_deref(), Some("1.2.3"));
    assert_eq!(declared.current_job.unwrap().id, "job-1");
    assert_eq!(declared.interval_s, Some(1));
    beat.job_done();
    beat.set_check("gpu", false);
    stack
        .wait_nodes("unhealthy by its own check", |n| {
            lifecycle(n, "music-render") == Some(L::Unhealthy) && n.workers[0].jobs_done == 1
        })
        .await;
    beat.set_check("gpu", true);

    beat.stop().await;
    let stopped = stack
        .wait_nodes("stopped", |n| {
            lifecycle(n, "music-render") == Some(L::Stopped)
        })
        .await;
    assert!(!stopped.workers[0].alive);
    assert_eq!(
        stopped.links[0].status,
        LinkStatus::Paused,
        "a clean stop is no broken link"
    );
    let mut r = stack.conn().await;
    let ttl: i64 = r.ttl(heartbeat_key("music-render")).await.unwrap();
    assert_eq!(
        ttl, -1,
        "the stopped beat stays until the worker starts again"
    );
    stack.stop().await;
}

#[tokio::test]
async fn commands_reach_the_worker_with_its_next_beat_and_garbage_is_dropped() {
    use pulseboard_shared::command::{commands_key, Action, Command};
    let stack = Stack::start().await;
    let options = Options {
        interval: Duration::from_secs(1),
        phase: Phase::Ready,
        ..Options::default()
    };
    let beat = start("image-render", "render", &stack.redis.url(), options).unwrap();
    let mut wishes = beat.wishes();
    stack
        .wait_nodes("ready", |n| lifecycle(n, "image-render") == Some(L::Ready))
        .await;
    let mut r = stack.conn().await;
    let command = |id: &str, action| Command {
        id: id.into(),
        action,
        by: "ops".into(),
        at: "2026-12-01T00:00:00Z".into(),
    };
    let key = commands_key("image-render");
    let lifecycle_of = |n: &Nodes| {
        let w = n.workers.iter().find(|w| w.name == "image-render")?;
        w.lifecycle.clone()
    };
    // Garbage and a command carrying a program to run are refused; the quiet after them is
    // obeyed, then a restart outranks it.
    let _: () = r
        .rpush(
            &key,
            &[
                "not json".to_owned(),
                r#"{"id":"x","action":"restart","by":"a","at":"t","argv":["sh","-c","id"]}"#
                    .to_owned(),
                command("c-1", Action::Quiet).to_json(),
            ],
        )
        .await
        .unwrap();
    tokio::time::timeout(PATIENCE, wishes.wait_for(|w| *w == Some(Action::Quiet)))
        .await
        .expect("quiet arrives with a beat")
        .unwrap();
    let _: () = r
        .rpush(&key, command("c-2", Action::Restart).to_json())
        .await
        .unwrap();
    tokio::time::timeout(PATIENCE, wishes.wait_for(|w| *w == Some(Action::Restart)))
        .await
        .expect("restart arrives with a beat")
        .unwrap();
    let draining = stack
        .wait_nodes("draining, saying why", |n| {
            lifecycle_of(n).is_some_and(|l| {
                l.state == L::Draining && l.reason.as_deref() == Some("restart asked by ops (c-2)")
            })
        })
        .await;
    assert!(draining
        .workers
        .iter()
        .any(|w| w.name == "image-render" && w.alive));
    let left: usize = r.llen(&key).await.unwrap();
    assert_eq!(left, 0, "every command was taken");
    // A later quiet does not cancel the restart.
    let _: () = r
        .rpush(&key, command("c-3", Action::Quiet).to_json())
        .await
        .unwrap();
    stack
        .wait_nodes("the quiet taken", |n| {
            lifecycle_of(n).and_then(|l| l.reason) == Some("quiet asked by ops (c-3)".into())
        })
        .await;
    assert_eq!(*wishes.borrow(), Some(Action::Restart));
    beat.crashed(pulseboard_shared::command::RESTART_EXIT_CODE)
        .await;
}

#[tokio::test]
async fn a_crash_beat_is_down_at_once() {
    let stack = Stack::start().await;
    let options = Options {
        phase: Phase::Ready,
        ..Options::default()
    };
    let beat = start("video-render", "render", &stack.redis.url(), options).unwrap();
    stack
        .wait_nodes("ready", |n| lifecycle(n, "video-render") == Some(L::Ready))
        .await;
    beat.crashed(3).await;
    let down = stack
        .wait_nodes("down", |n| lifecycle(n, "video-render") == Some(L::Down))
        .await;
    let w = down
        .workers
        .iter()
        .find(|w| w.name == "video-render")
        .unwrap();
    assert_eq!(
        w.lifecycle.as_ref().unwrap().reason.as_deref(),
        Some("exited with code 3")
    );
    let mut r = stack.conn().await;
    let ttl: i64 = r.ttl(heartbeat_key("video-render")).await.unwrap();
    assert!(ttl > 0, "a crash beat expires like any other");
    stack.stop().await;
}

#[tokio::test]
async fn a_lost_redis_never_blocks_the_worker_and_beats_resume() {
    let mut stack = Stack::start().await;
    let options = Options {
        interval: Duration::from_secs(1),
        phase: Phase::Ready,
        timeout: Duration::from_millis(300),
        ..Options::default()
    };
    let beat = start("image-render", "render", &stack.redis.url(), options).unwrap();
    stack
        .wait_nodes("ready", |n| lifecycle(n, "image-render") == Some(L::Ready))
        .await;
    stack.redis.stop().await;
    // The worker's own calls are plain functions (nothing to await): they update the next beat
    // and return, whatever Redis does.
    let t = Instant::now();
    for i in 0..1000 {
        beat.job_started(&format!("job-{i}"));
        beat.job_done();
    }
    let took = t.elapsed();
    eprintln!("2000 handle calls with Redis gone: {took:?}");

    stack.redis.restart().await.unwrap();
    let mut r = stack.conn().await;
    let deadline = Instant::now() + PATIENCE;
    let read = loop {
        let raw: Option<Vec<u8>> = r.get(heartbeat_key("image-render")).await.unwrap();
        if let Some(raw) = raw {
            break HeartbeatRead::parse(&raw);
        }
        assert!(Instant::now() < deadline, "beats never resumed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(
        read.jobs_done,
        Some(1000),
        "the work done meanwhile is in the beat"
    );
    beat.stop().await;
    stack.stop().await;
}

/// The seed's cases (tests/api.rs `seed_cases_through_redis`) with the beats written by `write`,
/// as the server judges them: per worker alive, state, queue, dead letters, in flight, and the
/// links' statuses.
async fn seed_cases_judged(writer: Writer) -> Vec<String> {
    let stack = Stack::start().await;
    let mut r = stack.conn().await;
    let _: () = r.set("queue:paused", "1").await.unwrap();
    let _: () = r
        .rpush("dead_letter:queue:video-render", &["j1", "j2"])
        .await
        .unwrap();
    let _: () = r
        .rpush("queue:insta-render", &["a", "b", "c"])
        .await
        .unwrap();
    let _: () = r
        .rpush("processing:queue:insta-render:c1", "x")
        .await
        .unwrap();
    let beats = [
        ("image-render", "render", "idle"),
        ("video-render", "render", "idle"),
        ("insta-render", "render", "busy"),
        ("task-watcher", "watcher", "trading"),
        ("ai_trade", "trader", "market_open"),
    ];
    let mut handles = vec![];
    for (name, kind, state) in beats {
        match writer {
            Writer::SeedPython => {
                seed_python_beat(&stack.redis.url(), name, kind, state);
                let ttl: i64 = r.ttl(heartbeat_key(name)).await.unwrap();
                assert!((1..=45).contains(&ttl), "written with EX 45, TTL {ttl}");
            }
            Writer::Sdk => {
                let options = Options {
                    phase: Phase::Ready,
                    ..Options::default()
                };
                let beat = start(name, kind, &stack.redis.url(), options).unwrap();
                if kind == "watcher" {
                    beat.set_mode(state);
                }
                beat.set_state(state);
                handles.push(beat);
            }
        }
    }
    let nodes = stack
        .wait_nodes("every case visible", |n| {
            n.paused
                && n.workers.iter().filter(|w| w.alive).count() == 5
                && n.workers
                    .iter()
                    .any(|w| w.name == "insta-render" && w.processing == 1)
                && n.workers
                    .iter()
                    .any(|w| w.name == "insta-render" && w.state.as_deref() == Some("busy"))
        })
        .await;
    let mut judged: Vec<String> = nodes
        .workers
        .iter()
        .map(|w| {
            format!(
                "{} alive={} state={:?} queue={} dead={} in_flight={}",
                w.name, w.alive, w.state, w.queue_depth, w.dead_letter, w.processing
            )
        })
        .collect();
    judged.extend(
        nodes
            .links
            .iter()
            .map(|l| format!("{} -> {}: {:?}", l.from, l.to, l.status)),
    );
    judged.push(format!("paused_reason={:?}", nodes.paused_reason));
    stack.stop().await;
    judged
}

#[derive(Clone, Copy)]
enum Writer {
    SeedPython,
    Sdk,
}

/// One beat written by `tests/fixtures/seed_worker.py`, run by python3: the seed's Python worker
/// (key, JSON fields and types, `EX 45`) mirrored into this repository so a clone needs nothing
/// beside it.
fn seed_python_beat(redis_url: &str, name: &str, kind: &str, state: &str) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/seed_worker.py");
    let mut args = vec![script, redis_url, name, kind, state];
    if kind == "watcher" {
        args.push(state); // the seed's watcher sends its mode as `extra`
    }
    let out = std::process::Command::new("python3")
        .args(&args)
        .output()
        .expect("python3 runs (scripts/setup.sh installs it)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn a_worker_on_the_sdk_is_judged_exactly_like_the_seeds_python_worker() {
    let python = seed_cases_judged(Writer::SeedPython).await;
    let sdk = seed_cases_judged(Writer::Sdk).await;
    assert_eq!(python, sdk);
    assert!(
        python
            .contains(&"music-render alive=false state=None queue=0 dead=0 in_flight=0".to_owned()),
        "{python:#?}"
    );
    assert!(
        python.iter().any(|l| l == "nas -> video-render: Degraded"),
        "{python:#?}"
    );
}
