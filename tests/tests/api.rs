//! The server against a real Redis: contract 2 for the seed's cases, expiry, garbage, a large
//! keyspace, Redis going away and coming back, and the live stream.

use std::time::Duration;

use pulseboard_shared::heartbeat::heartbeat_key;
use pulseboard_shared::{LinkStatus, LinkType, Nodes, WorkerKind, WorkerStatus};
use pulseboard_tests::sse::Follower;
use pulseboard_tests::{beat, eventually, heartbeat, Stack};
use redis::AsyncCommands;

fn worker<'a>(nodes: &'a Nodes, name: &str) -> &'a WorkerStatus {
    nodes
        .workers
        .iter()
        .find(|w| w.name == name)
        .unwrap_or_else(|| panic!("{name} is listed: {nodes:#?}"))
}

fn link_to(nodes: &Nodes, to: &str) -> (LinkType, LinkStatus) {
    let link = nodes
        .links
        .iter()
        .find(|l| l.to == to)
        .unwrap_or_else(|| panic!("a link to {to}: {nodes:#?}"));
    (link.link_type, link.status)
}

/// The seed's node-monitor cases, all at once, through real Redis and HTTP.
#[tokio::test]
async fn seed_cases_through_redis() {
    let stack = Stack::start().await;
    let mut r = stack.conn().await;
    beat(&mut r, &heartbeat("image-render", "render", "idle")).await;
    beat(&mut r, &heartbeat("video-render", "render", "idle")).await;
    beat(&mut r, &heartbeat("insta-render", "render", "busy")).await;
    beat(&mut r, &heartbeat("task-watcher", "watcher", "trading")).await;
    beat(&mut r, &heartbeat("ai_trade", "trader", "market_open")).await;
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
    let _: () = r
        .rpush("processing:queue:insta-render:c2", "y")
        .await
        .unwrap();

    let nodes = stack
        .wait_nodes("every case visible", |n| {
            n.paused
                && n.workers
                    .iter()
                    .any(|w| w.name == "insta-render" && w.processing == 2)
        })
        .await;
    assert!(nodes.redis_ok);
    assert_eq!(nodes.paused_reason.as_deref(), Some("trading"));

    let image = worker(&nodes, "image-render");
    assert!(image.alive);
    assert_eq!(image.state.as_deref(), Some("idle"));
    assert_eq!((image.jobs_done, image.jobs_failed), (42, 1));
    assert!(image.last_beat_age_s.is_some_and(|age| age <= 2));
    assert_eq!(
        link_to(&nodes, "image-render"),
        (LinkType::RedisQueue, LinkStatus::Healthy)
    );

    let music = worker(&nodes, "music-render");
    assert!(!music.alive);
    assert_eq!(music.state, None);
    assert_eq!(link_to(&nodes, "music-render").1, LinkStatus::Down);

    assert_eq!(worker(&nodes, "video-render").dead_letter, 2);
    assert_eq!(link_to(&nodes, "video-render").1, LinkStatus::Degraded);

    let insta = worker(&nodes, "insta-render");
    assert_eq!((insta.queue_depth, insta.processing), (3, 2));

    assert_eq!(
        link_to(&nodes, "nas-stock"),
        (LinkType::HttpPull, LinkStatus::Healthy)
    );
    let trader_link = nodes.links.iter().find(|l| l.to == "nas-stock").unwrap();
    assert_eq!(trader_link.from, "ai_trade");

    // The watcher has no link; the JSON keeps the seed's field names and order of workers.
    assert!(!nodes
        .links
        .iter()
        .any(|l| l.to == "task-watcher" || l.from == "task-watcher"));
    let names: Vec<_> = nodes.workers.iter().map(|w| w.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "music-render",
            "video-render",
            "image-render",
            "insta-render",
            "task-watcher",
            "ai_trade"
        ]
    );

    // Unpaused: no reason any more (the seed reported one regardless).
    let _: () = r.del("queue:paused").await.unwrap();
    let nodes = stack.wait_nodes("unpaused", |n| !n.paused).await;
    assert_eq!(nodes.paused_reason, None);
    stack.stop().await;
}

#[tokio::test]
async fn an_expiring_heartbeat_turns_the_worker_down() {
    let stack = Stack::start().await;
    let mut r = stack.conn().await;
    let _: () = redis::cmd("SET")
        .arg(heartbeat_key("image-render"))
        .arg(heartbeat("image-render", "render", "busy").to_json())
        .arg("PX")
        .arg(1500)
        .query_async(&mut r)
        .await
        .unwrap();
    stack
        .wait_nodes("alive", |n| worker(n, "image-render").alive)
        .await;
    // Redis expires the key by itself; nobody deletes it.
    let nodes = stack
        .wait_nodes("dead after expiry", |n| !worker(n, "image-render").alive)
        .await;
    assert_eq!(link_to(&nodes, "image-render").1, LinkStatus::Down);
    let dead = worker(&nodes, "image-render");
    assert_eq!(dead.state, None);
    assert!(
        dead.last_beat_age_s.is_some(),
        "a dead worker still says when it last beat"
    );
    stack.stop().await;
}

#[tokio::test]
async fn garbage_heartbeats_never_break_a_refresh() {
    let stack = Stack::start().await;
    let mut r = stack.conn().await;
    let huge = format!(
        r#"{{"name":"insta-render","pad":"{}"}}"#,
        "x".repeat(2_000_000)
    );
    // Written as workers write (with EX 45), but holding garbage.
    let _: () = r
        .set_ex(
            heartbeat_key("music-render"),
            b"\xff\xfe\x00\x01".as_slice(),
            45,
        )
        .await
        .unwrap();
    let _: () = r
        .set_ex(heartbeat_key("video-render"), "{not json", 45)
        .await
        .unwrap();
    let _: () = r
        .set_ex(heartbeat_key("image-render"), r#"{"name":"image-render","kind":"render","state":7,"ts":"soon","jobs_done":"x","jobs_failed":-3}"#, 45)
        .await
        .unwrap();
    let _: () = r
        .set_ex(heartbeat_key("insta-render"), huge, 45)
        .await
        .unwrap();
    let _: () = r
        .rpush(heartbeat_key("task-watcher"), "a list, not a string")
        .await
        .unwrap();
    let _: () = r
        .set("queue:image-render", "a string, not a list")
        .await
        .unwrap();
    beat(&mut r, &heartbeat("ai_trade", "trader", "market_closed")).await;

    let nodes = stack
        .wait_nodes("all six read", |n| {
            n.workers.iter().filter(|w| w.error.is_some()).count() == 5
        })
        .await;
    let error = |name| worker(&nodes, name).error.clone().unwrap();
    assert!(
        error("music-render").contains("not UTF-8"),
        "{}",
        error("music-render")
    );
    assert!(error("video-render").contains("not valid JSON"));
    let image = error("image-render");
    assert!(image.contains("state should be a string"), "{image}");
    assert!(image.contains("jobs_done"), "{image}");
    assert!(
        image.contains("\"soon\" is not a UTC ISO 8601 time"),
        "{image}"
    );
    assert!(
        image.contains("queue"),
        "the mistyped queue is reported too: {image}"
    );
    assert!(error("insta-render").contains("larger than 64 KiB"));
    assert!(error("task-watcher").contains("WRONGTYPE"));
    // What could be read is still shown; the healthy worker is untouched.
    assert!(worker(&nodes, "music-render").alive);
    let trader = worker(&nodes, "ai_trade");
    assert!(trader.alive && trader.error.is_none());
    assert_eq!(trader.state.as_deref(), Some("market_closed"));
    // And the server still serves.
    assert_eq!(stack.get("/healthz").await.0, 200);
    stack.stop().await;
}

/// The answer does not depend on how many unrelated keys Redis holds, and discovery still finds
/// an in-flight list hidden among them.
#[tokio::test]
async fn a_hundred_thousand_unrelated_keys_change_nothing() {
    let stack = Stack::start_with(|c| c.scan_count = 5_000).await;
    let mut r = stack.conn().await;
    for (name, kind, state) in [
        ("image-render", "render", "busy"),
        ("task-watcher", "watcher", "free"),
        ("ai_trade", "trader", "market_open"),
    ] {
        beat(&mut r, &heartbeat(name, kind, state)).await;
    }
    let _: () = r
        .rpush("dead_letter:queue:image-render", "j")
        .await
        .unwrap();
    let before = stack
        .wait_nodes("three alive", |n| {
            n.workers.iter().filter(|w| w.alive).count() == 3
        })
        .await;

    for chunk in 0..20 {
        let mut pipe = redis::pipe();
        for i in 0..5_000 {
            pipe.set(format!("unrelated:{chunk}:{i}"), i).ignore();
        }
        let _: () = pipe.query_async(&mut r).await.unwrap();
    }
    let size: u64 = redis::cmd("DBSIZE").query_async(&mut r).await.unwrap();
    assert!(size >= 100_000);
    let _: () = r
        .rpush("processing:queue:image-render:late", "job")
        .await
        .unwrap();
    let after = stack
        .wait_nodes("the in-flight list found among 100k keys", |n| {
            worker(n, "image-render").processing == 1
        })
        .await;
    let strip = |n: &Nodes| {
        let mut n = n.clone();
        n.generated_at.clear();
        // The in-flight count differs by design; the summary totals it.
        n.summary = None;
        for w in &mut n.workers {
            w.last_beat_age_s = None;
            w.processing = 0;
        }
        n
    };
    assert_eq!(strip(&before), strip(&after));
    stack.stop().await;
}

#[tokio::test]
async fn redis_lost_and_regained() {
    let mut stack = Stack::start().await;
    let mut r = stack.conn().await;
    beat(&mut r, &heartbeat("image-render", "render", "idle")).await;
    stack
        .wait_nodes("alive", |n| worker(n, "image-render").alive)
        .await;
    let (status, _) = stack.get("/readyz").await;
    assert_eq!(status, 200);

    stack.redis.stop().await;
    let nodes = stack.wait_nodes("redis_ok false", |n| !n.redis_ok).await;
    // The last known picture stays, marked stale by redis_ok.
    assert!(worker(&nodes, "image-render").alive);
    let (status, body) = stack.get("/readyz").await;
    assert_eq!(status, 503, "{body}");
    let ready: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(ready["ready"], false);
    assert!(
        ready["reasons"].to_string().contains("last read failed"),
        "{body}"
    );
    assert_eq!(
        stack.get("/healthz").await.0,
        200,
        "liveness does not depend on Redis"
    );

    stack.redis.restart().await.unwrap();
    let mut r = stack.conn().await;
    beat(&mut r, &heartbeat("image-render", "render", "busy")).await;
    let nodes = stack
        .wait_nodes("recovered without a restart", |n| {
            n.redis_ok && worker(n, "image-render").state.as_deref() == Some("busy")
        })
        .await;
    assert!(nodes.redis_ok);
    let ready = eventually("ready again", || async {
        (stack.get("/readyz").await.0 == 200).then_some(())
    })
    .await;
    assert!(ready.is_some());
    stack.stop().await;
}

#[tokio::test]
async fn unregistered_workers_appear() {
    let stack = Stack::start().await;
    let mut r = stack.conn().await;
    beat(&mut r, &heartbeat("gpu-stray", "render", "busy")).await;
    let _: () = r.rpush("queue:gpu-stray", &["a", "b"]).await.unwrap();
    let nodes = stack
        .wait_nodes("the stray worker", |n| {
            n.workers.iter().any(|w| w.name == "gpu-stray")
        })
        .await;
    let stray = worker(&nodes, "gpu-stray");
    assert!(!stray.registered && stray.alive);
    assert_eq!((stray.kind, stray.queue_depth), (WorkerKind::Render, 2));
    assert_eq!(link_to(&nodes, "gpu-stray").1, LinkStatus::Healthy);
    let json: serde_json::Value =
        serde_json::from_str(&stack.get("/api/agent-office/nodes").await.1).unwrap();
    let listed = json["workers"].as_array().unwrap();
    assert_eq!(listed[6]["registered"], false);
    assert!(
        listed[0].get("registered").is_none(),
        "registered workers keep the seed's shape"
    );
    stack.stop().await;
}

#[tokio::test]
async fn the_stream_pushes_changes() {
    let stack = Stack::start().await;
    let url = format!("{}/api/agent-office/nodes/stream", stack.base);
    let response = stack.http.get(&url).send().await.unwrap();
    assert_eq!(
        response.headers()["content-type"].to_str().unwrap(),
        "text/event-stream"
    );
    let mut follower = Follower::open(&url).await;
    assert!(follower.step().await, "the first event");
    let first = follower.nodes.clone().unwrap();
    assert!(first.redis_ok && !first.paused);
    let mut r = stack.conn().await;
    let _: () = r.set("queue:paused", "1").await.unwrap();
    assert!(follower.step().await, "an event for the change");
    let changed = follower.nodes.clone().unwrap();
    assert!(changed.paused);
    assert_eq!(changed.paused_reason.as_deref(), Some("trading"));
    assert_eq!(follower.kinds, ["snapshot", "patch"]);
    // Only changes are sent: with nothing changing, no event follows within several refreshes.
    let quiet = follower
        .client
        .next_within(Duration::from_millis(600))
        .await;
    assert!(quiet.is_none(), "no event without a change: {quiet:?}");
    stack.stop().await;
}

/// The first snapshot a fresh server publishes already counts in-flight lists that existed before
/// it started: it waits for the first discovery sweep (run back to back), and publishes only a
/// reading whose keys were chosen after it, instead of `processing: 0` for a refresh or more.
/// Both when the sweep takes one SCAN step (a small keyspace: it ends in the very refresh that
/// read without the list) and when it takes ~200 (20,000 other keys).
#[tokio::test]
async fn the_first_snapshot_waits_for_the_first_sweep() {
    for other_keys in [0, 20_000] {
        let processing = first_snapshot_processing(other_keys).await;
        assert_eq!(
            processing, 2,
            "the very first snapshot with data counts the in-flight list ({other_keys} other keys)"
        );
    }
}

/// Starts a server (1 s refresh) on a Redis holding a beat, a 2-job in-flight list and
/// `other_keys` other keys, polls `/nodes` from its first answer, and returns the worker's
/// `processing` in the first snapshot with data.
async fn first_snapshot_processing(other_keys: usize) -> u64 {
    let mut redis = pulseboard_server::redis_server::RedisServer::start()
        .await
        .expect("start redis-server");
    let mut r = redis::Client::open(redis.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    // With 100 keys examined per SCAN step, 20,000 keys take ~200 round trips to sweep.
    let mut pipe = redis::pipe();
    for i in 0..other_keys {
        pipe.set(format!("other:{i}"), i).ignore();
    }
    let _: () = pipe.query_async(&mut r).await.unwrap();
    beat(&mut r, &heartbeat("music-render", "render", "busy")).await;
    let _: () = r
        .rpush("processing:queue:music-render:c1", &["j1", "j2"])
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let config = pulseboard_server::config::Config {
        redis_url: redis.url(),
        refresh: Duration::from_secs(1),
        scan_count: 100,
        ..Default::default()
    };
    let (stop, shutdown) = pulseboard_server::shutdown::channel();
    let server = tokio::spawn(pulseboard_server::serve(config, listener, shutdown));
    let http = reqwest::Client::new();
    let first = eventually("the first snapshot", || async {
        let nodes: Nodes = http
            .get(format!("{base}/api/agent-office/nodes"))
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        nodes.redis_ok.then_some(nodes)
    })
    .await
    .expect("a first snapshot");
    stop.stop();
    server.await.unwrap().unwrap();
    redis.stop().await;
    worker(&first, "music-render").processing
}

/// A new install: no worker configured and none beating yet. Redis is read all the same (the
/// snapshot says so, not "Redis lost"), and the first worker to beat appears.
#[tokio::test]
async fn with_no_worker_yet_redis_is_read_and_the_first_beat_appears() {
    let stack = Stack::start_with(|c| c.topology.workers.clear()).await;
    let empty = stack
        .wait_nodes("a reading of no worker", |n| n.redis_ok)
        .await;
    assert!(empty.workers.is_empty(), "{:?}", empty.workers);
    let mut r = stack.conn().await;
    beat(&mut r, &heartbeat("first-render", "render", "idle")).await;
    let nodes = stack
        .wait_nodes("the first worker", |n| {
            n.redis_ok && n.workers.iter().any(|w| w.name == "first-render")
        })
        .await;
    assert!(worker(&nodes, "first-render").alive);
    stack.stop().await;
}
