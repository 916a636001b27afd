//! Orphan rescue against a real Redis and the real server: a crashed consumer's jobs go back on
//! their queue once; the leftovers of a consumer a live worker no longer declares are rescued
//! while its declared list is not; a seed worker's list (alive, declaring nothing) and a
//! draining worker's are never touched; a job orphaned a third time goes to the dead letters;
//! every payload is accounted for; the event log and /metrics say so.

use std::time::Duration;

use pulseboard_shared::heartbeat::Declared;
use pulseboard_shared::rescue::{RescueMode, RescueView};
use pulseboard_shared::{Nodes, Phase};
use pulseboard_tests::{beat, heartbeat, Stack, PATIENCE};
use redis::AsyncCommands;

fn list(worker: &str, consumer: &str) -> String {
    format!("processing:queue:{worker}:{consumer}")
}

/// Waits until `key` holds exactly `want` (in order).
async fn wait_list(r: &mut redis::aio::MultiplexedConnection, key: &str, want: &[&str]) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let got: Vec<String> = r.lrange(key, 0, -1).await.unwrap();
        if got == want {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{key}: {got:?}, want {want:?}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

#[tokio::test]
async fn orphaned_jobs_go_back_once_and_nothing_in_use_is_touched() {
    let stack = Stack::start_with(|c| c.rescue.after_s = 1).await;
    let url = stack.redis.url();
    // The live workers beat every 200 ms until the test ends.
    let beating = tokio::spawn(async move {
        let mut r = redis::Client::open(url)
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap();
        loop {
            // video-render: the seed's kind of worker, declaring no consumers.
            beat(&mut r, &heartbeat("video-render", "render", "busy")).await;
            for (name, phase, consumer) in [
                ("image-render", Phase::Ready, "c2"),
                ("insta-render", Phase::Draining, "c9"),
            ] {
                let mut b = heartbeat(name, "render", "busy");
                b.declared = Declared {
                    phase: Some(phase),
                    consumers: Some(vec![consumer.into()]),
                    ..Declared::default()
                };
                beat(&mut r, &b).await;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
    let mut r = stack.conn().await;
    // music-render never beats: its consumer c1 crashed holding two jobs (newest first).
    let _: () = r
        .lpush(list("music-render", "c1"), &["a", "poison"])
        .await
        .unwrap();
    let _: () = r
        .lpush(list("video-render", "1"), "seed-job")
        .await
        .unwrap();
    let _: () = r
        .lpush(list("image-render", "c1"), "leftover")
        .await
        .unwrap();
    let _: () = r
        .lpush(list("image-render", "c2"), "running")
        .await
        .unwrap();
    let _: () = r
        .lpush(list("insta-render", "c1"), "finishing")
        .await
        .unwrap();

    // Back on the queue's end consumers take next (the right), the oldest first; lists gone.
    wait_list(&mut r, "queue:music-render", &["poison", "a"]).await;
    wait_list(&mut r, &list("music-render", "c1"), &[]).await;
    wait_list(&mut r, "queue:image-render", &["leftover"]).await;
    // In use: a live consumer's list, a seed worker's, a draining worker's. They were judged in
    // the same snapshots as the two moved above (and by the time both records are written).
    let log = wait_events(&stack, 2).await;
    assert!(log.contains("\"consumer\":\"c1\""), "{log}");
    assert!(
        !log.contains("poison"),
        "never a payload in the event log: {log}"
    );
    for (key, job) in [
        (list("video-render", "1"), "seed-job"),
        (list("image-render", "c2"), "running"),
        (list("insta-render", "c1"), "finishing"),
    ] {
        let held: Vec<String> = r.lrange(&key, 0, -1).await.unwrap();
        assert_eq!(held, [job], "{key} must not be touched");
    }

    // The poison job kills its consumer twice more: rescued a second time, then quarantined.
    for round in 2..=3 {
        let _: () = r.lrem("queue:music-render", 1, "poison").await.unwrap();
        let _: () = r.lpush(list("music-render", "c1"), "poison").await.unwrap();
        wait_list(&mut r, &list("music-render", "c1"), &[]).await;
        let queued: Vec<String> = r.lrange("queue:music-render", 0, -1).await.unwrap();
        let dead: Vec<String> = r
            .lrange("dead_letter:queue:music-render", 0, -1)
            .await
            .unwrap();
        match round {
            2 => assert_eq!((queued, dead), (vec!["a".into(), "poison".into()], vec![])),
            _ => assert_eq!((queued, dead), (vec!["a".into()], vec!["poison".into()])),
        }
    }
    let (_, metrics) = stack.get("/metrics").await;
    assert!(
        metrics.contains("pulseboard_jobs_quarantined_total 1"),
        "{metrics}"
    );
    // Contract 2 counts the window's rescues; one alert per batch said so, and one the poison.
    let nodes = stack
        .wait_nodes("music-render's rescues counted", |n| {
            rescue_of(n, "music-render").is_some_and(|r| (r.rescued, r.quarantined) == (3, 1))
        })
        .await;
    let music = rescue_of(&nodes, "music-render").unwrap();
    assert_eq!((music.orphaned_lists, music.next_rescue_at), (0, None));
    let log = wait_events(&stack, 4).await;
    assert_eq!(log.matches("\"kind\":\"jobs_rescued\"").count(), 3, "{log}");
    assert_eq!(
        log.matches("\"kind\":\"jobs_quarantined\"").count(),
        1,
        "{log}"
    );
    beating.abort();
    stack.stop().await;
}

/// The consumer comes back and runs the SDK's start-up rescue of its own leftovers while the
/// server rescues the same list: round after round, every job ends on the queue exactly once.
#[tokio::test]
async fn racing_the_sdk_s_start_up_rescue_no_job_is_lost_or_doubled() {
    let stack = Stack::start_with(|c| c.rescue.after_s = 0).await;
    let mut r = stack.conn().await;
    let conn = stack.conn().await;
    let mut sdk = pulseboard_worker::queue::ReliableQueue::new(conn, "queue:music-render", "c1");
    // Long lists: the SDK moves one job per round trip, so the server's one script lands in the
    // middle of its loop in many rounds (printed: rounds where both moved some).
    let (mut by_server, mut by_sdk, mut split) = (0, 0, 0);
    for round in 0..10 {
        let jobs: Vec<String> = (0..300).map(|j| format!("r{round}-j{j}")).collect();
        let _: () = r.lpush(list("music-render", "c1"), &jobs).await.unwrap();
        // Start when the server has seen the list (its rescue runs on that very snapshot).
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let nodes = stack.nodes().await;
            let seen = nodes
                .workers
                .iter()
                .any(|w| w.name == "music-render" && w.processing > 0);
            let left: u64 = r.llen(list("music-render", "c1")).await.unwrap();
            if seen || left == 0 {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the server never saw the list"
            );
        }
        let moved = sdk.recover_leftovers().await.unwrap();
        by_sdk += moved;
        by_server += 300 - moved.min(300);
        split += u32::from(moved > 0 && moved < 300);
        wait_list(&mut r, &list("music-render", "c1"), &[]).await;
        let mut queued: Vec<String> = r.lrange("queue:music-render", 0, -1).await.unwrap();
        queued.sort();
        let mut want = jobs.clone();
        want.sort();
        assert_eq!(queued, want, "round {round}: every job once");
        let dead: u64 = r.llen("dead_letter:queue:music-render").await.unwrap();
        assert_eq!(dead, 0);
        let _: () = r.del("queue:music-render").await.unwrap();
    }
    eprintln!("jobs moved by the server: {by_server}, by the SDK: {by_sdk}; rounds split: {split}");
    stack.stop().await;
}

fn rescue_of(nodes: &Nodes, worker: &str) -> Option<RescueView> {
    let w = nodes.workers.iter().find(|w| w.name == worker)?;
    w.rescue.clone()
}

#[tokio::test]
async fn in_recommend_mode_orphans_are_shown_and_reported_once_but_never_moved() {
    let stack = Stack::start_with(|c| {
        c.rescue.after_s = 1;
        c.rescue
            .modes_by_worker
            .insert("music-render".into(), RescueMode::Recommend);
    })
    .await;
    let mut r = stack.conn().await;
    let _: () = r
        .lpush(list("music-render", "c1"), &["a", "b"])
        .await
        .unwrap();
    let nodes = stack
        .wait_nodes("music-render's orphans shown", |n| {
            rescue_of(n, "music-render").is_some_and(|r| r.orphaned_jobs == 2)
        })
        .await;
    let music = rescue_of(&nodes, "music-render").unwrap();
    assert_eq!(
        (music.mode, music.orphaned_lists, music.next_rescue_at),
        (RescueMode::Recommend, 1, None),
        "recommend never schedules a move"
    );
    let log = wait_events(&stack, 1).await;
    assert!(log.contains("\"recommended\":true"), "{log}");
    assert_eq!(
        log.matches("\"kind\":\"jobs_orphaned\"").count(),
        1,
        "{log}"
    );
    // Reported once: a few more snapshots add nothing, and the jobs stay where they are.
    for _ in 0..2 {
        let seen = stack.nodes().await.generated_at;
        stack
            .wait_nodes("a later snapshot", |n| n.generated_at != seen)
            .await;
    }
    let (_, again) = stack.get("/api/agent-office/events?limit=50").await;
    assert_eq!(again.matches("\"type\":\"rescue\"").count(), 1, "{again}");
    let held: Vec<String> = r.lrange(list("music-render", "c1"), 0, -1).await.unwrap();
    assert_eq!(held, ["b", "a"]);
    stack.stop().await;
}

/// The event log once it holds `n` rescue records.
async fn wait_events(stack: &Stack, n: usize) -> String {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let (_, log) = stack.get("/api/agent-office/events?limit=50").await;
        if log.matches("\"type\":\"rescue\"").count() >= n {
            return log;
        }
        assert!(tokio::time::Instant::now() < deadline, "{log}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}
