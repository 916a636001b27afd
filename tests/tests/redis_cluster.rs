//! pulseboard on a real 3-primary Redis Cluster: the same answer as one server with the same
//! data (in-flight lists found by SCAN on every primary), one round trip per primary, alerts
//! that work, and a lost primary reported.

use pulseboard_shared::heartbeat::heartbeat_key;
use pulseboard_shared::Nodes;
use pulseboard_tests::cluster::Cluster;
use pulseboard_tests::{beat, eventually, heartbeat, Stack};
use redis::AsyncCommands;

/// Writes the same fleet through any connection: beats (six seed workers but one, and twenty
/// strangers), queues, dead letters and in-flight lists spread over the slots.
async fn write_fleet<C: redis::aio::ConnectionLike + Send>(r: &mut C) {
    for (name, kind, state) in [
        ("music-render", "render", "busy"),
        ("image-render", "render", "idle"),
        ("insta-render", "render", "paused"),
        ("task-watcher", "watcher", "free"),
        ("ai_trade", "trader", "market_open"),
    ] {
        let b = heartbeat(name, kind, state);
        let _: () = redis::cmd("SET")
            .arg(heartbeat_key(name))
            .arg(b.to_json())
            .arg("EX")
            .arg(45)
            .query_async(r)
            .await
            .unwrap();
    }
    for i in 0..20 {
        let b = heartbeat(&format!("stranger-{i:02}"), "render", "idle");
        let _: () = redis::cmd("SET")
            .arg(heartbeat_key(&b.name))
            .arg(b.to_json())
            .arg("EX")
            .arg(45)
            .query_async(r)
            .await
            .unwrap();
    }
    for (key, n) in [
        ("queue:music-render", 3),
        ("dead_letter:queue:image-render", 2),
        ("processing:queue:music-render:c1", 1),
        ("processing:queue:music-render:c2", 1),
        ("processing:queue:image-render:gpu-9", 2),
        ("processing:queue:stranger-07:c1", 1),
    ] {
        for j in 0..n {
            let _: () = redis::cmd("RPUSH")
                .arg(key)
                .arg(j)
                .query_async(r)
                .await
                .unwrap();
        }
    }
}

/// The answer without what depends on the moment it was read.
fn comparable(nodes: &Nodes) -> Nodes {
    let mut n = nodes.clone();
    n.generated_at.clear();
    for w in &mut n.workers {
        w.last_beat_age_s = None;
        if let Some(l) = &mut w.lifecycle {
            l.age_s = None;
        }
    }
    n
}

fn complete(n: &Nodes) -> bool {
    n.redis_ok
        && n.workers.len() == 26
        && n.workers.iter().filter(|w| w.alive).count() == 25
        && n.workers.iter().map(|w| w.processing).sum::<u64>() == 5
}

#[tokio::test]
async fn a_cluster_gives_the_same_answer_as_one_server_in_one_round_trip_per_primary() {
    let mut cluster = Cluster::start().await;
    let mut r = cluster.conn().await;
    write_fleet(&mut r).await;
    // The data really is spread: every primary holds some of it.
    for node in &cluster.nodes {
        let mut c = redis::Client::open(node.url())
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap();
        let size: u64 = redis::cmd("DBSIZE").query_async(&mut c).await.unwrap();
        assert!(size > 0, "{} holds nothing", node.url());
    }
    let seed = cluster.nodes.remove(0);
    let on_cluster = Stack::launch(seed, |c| c.redis_cluster = true).await;
    let single = Stack::start().await;
    write_fleet(&mut single.conn().await).await;
    let expected = single.wait_nodes("the fleet on one server", complete).await;
    let got = on_cluster
        .wait_nodes("the fleet on the cluster", complete)
        .await;
    assert_eq!(comparable(&got), comparable(&expected));

    let (_, body) = on_cluster.get("/readyz").await;
    let readyz: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(readyz["redis_round_trips_per_refresh"], 3, "{readyz}");
    println!(
        "cluster refresh, 26 workers: {} commands in {} round trips (one per primary); one server: {}",
        readyz["redis_commands_per_refresh"],
        readyz["redis_round_trips_per_refresh"],
        single.get("/readyz").await.1
    );

    // Alerts: their keys share one hash tag, their scripts run on one primary.
    let _: () = r
        .rpush("dead_letter:queue:music-render", "x")
        .await
        .unwrap();
    eventually("the alert in the event log", || async {
        let (_, body) = on_cluster.get("/api/agent-office/events").await;
        body.contains("dead_letters").then_some(())
    })
    .await
    .expect("an alert recorded on the cluster");

    // A primary lost: Redis is reported lost, the server keeps answering.
    cluster.nodes[0].stop().await;
    on_cluster
        .wait_nodes("redis_ok false with a primary gone", |n| !n.redis_ok)
        .await;
    let (status, body) = on_cluster.get("/readyz").await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(on_cluster.get("/healthz").await.0, 200);
    single.stop().await;
}

#[tokio::test]
async fn a_beat_written_later_on_any_primary_is_found() {
    let mut cluster = Cluster::start().await;
    let mut r = cluster.conn().await;
    let seed = cluster.nodes.remove(0);
    let stack = Stack::launch(seed, |c| c.redis_cluster = true).await;
    stack.wait_nodes("the first refresh", |n| n.redis_ok).await;
    for i in 0..12 {
        beat(&mut r, &heartbeat(&format!("late-{i}"), "render", "idle")).await;
    }
    stack
        .wait_nodes("twelve late strangers", |n| {
            n.workers
                .iter()
                .filter(|w| w.name.starts_with("late-") && w.alive)
                .count()
                == 12
        })
        .await;
}
