//! The live stream against the real server and Redis: a whole snapshot, then patches that
//! rebuild exactly what `/api/agent-office/nodes` says, small ones, filters, reconnection.

use std::time::{Duration, Instant};

use pulseboard_shared::heartbeat::heartbeat_key;
use pulseboard_shared::patch::advance_to;
use pulseboard_shared::{Condition, Nodes};
use pulseboard_tests::browser::{Browser, BrowserOptions};
use pulseboard_tests::sse::{Follower, SseClient};
use pulseboard_tests::{beat, heartbeat, Stack, PATIENCE};
use redis::AsyncCommands;

fn stream_url(stack: &Stack, query: &str) -> String {
    format!("{}/api/agent-office/nodes/stream{query}", stack.base)
}

/// Follows the stream until what it built equals `/nodes` (its ages moved on to the same
/// `generated_at`), failing with both after [`PATIENCE`].
async fn follow_until_equal(stack: &Stack, follower: &mut Follower) -> Nodes {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let whole = stack.nodes().await;
        if let Some(mut held) = follower.nodes.clone() {
            if held.generated_at <= whole.generated_at {
                advance_to(&mut held, &whole.generated_at);
                if held == whole {
                    return whole;
                }
            }
        }
        assert!(
            Instant::now() < deadline,
            "the stream's state never equalled /nodes;\nheld: {:#?}\nwhole: {whole:#?}",
            follower.nodes
        );
        // Read what arrived (or wait briefly for it) before comparing again.
        if let Some(event) = follower
            .client
            .next_within(Duration::from_millis(200))
            .await
        {
            follower.absorb(event);
        }
    }
}

/// Waits until `/nodes` shows `what`, then until the stream has built the same.
async fn settle(
    stack: &Stack,
    follower: &mut Follower,
    what: &str,
    shown: impl Fn(&Nodes) -> bool,
) -> Nodes {
    stack.wait_nodes(what, shown).await;
    follow_until_equal(stack, follower).await
}

#[tokio::test]
async fn patches_rebuild_exactly_what_nodes_says_through_every_kind_of_change() {
    let stack = Stack::start().await;
    let mut r = stack.conn().await;
    beat(&mut r, &heartbeat("music-render", "render", "busy")).await;
    beat(&mut r, &heartbeat("video-render", "render", "idle")).await;
    // One viewer in each patch format: changed workers sent whole, or as their changed fields.
    let mut follower = Follower::open(&stream_url(&stack, "")).await;
    follow_until_equal(&stack, &mut follower).await;
    let mut fields = Follower::open(&stream_url(&stack, "?patches=fields")).await;
    follow_until_equal(&stack, &mut fields).await;

    // A new beat, a death, dead letters, in-flight jobs, a stranger, the pause flag.
    beat(&mut r, &heartbeat("music-render", "render", "idle")).await;
    settle(&stack, &mut follower, "the new beat", |n| {
        n.workers[0].state.as_deref() == Some("idle")
    })
    .await;
    follow_until_equal(&stack, &mut fields).await;
    let _: () = r.del(heartbeat_key("video-render")).await.unwrap();
    let _: () = r
        .rpush("dead_letter:queue:image-render", &["a", "b"])
        .await
        .unwrap();
    settle(&stack, &mut follower, "a death and dead letters", |n| {
        !n.workers[1].alive && n.workers[2].dead_letter == 2
    })
    .await;
    follow_until_equal(&stack, &mut fields).await;
    let _: () = r
        .rpush("processing:queue:music-render:c1", "job")
        .await
        .unwrap();
    let _: () = r
        .rpush("queue:music-render", &["x", "y", "z"])
        .await
        .unwrap();
    beat(&mut r, &heartbeat("stranger", "render", "idle")).await;
    settle(&stack, &mut follower, "jobs and a stranger", |n| {
        n.workers[0].processing == 1
            && n.workers[0].queue_depth == 3
            && n.workers.iter().any(|w| w.name == "stranger")
    })
    .await;
    follow_until_equal(&stack, &mut fields).await;
    let _: () = r.set("queue:paused", "1").await.unwrap();
    let last = settle(&stack, &mut follower, "the pause", |n| n.paused).await;
    assert!(last.paused && last.workers.iter().any(|w| w.name == "stranger"));
    follow_until_equal(&stack, &mut fields).await;
    assert_eq!(
        follower.changes, 0,
        "the default format sends workers whole"
    );
    assert!(fields.changes > 0, "?patches=fields sends changed fields");
    for kinds in [&follower.kinds, &fields.kinds] {
        assert_eq!(kinds[0], "snapshot");
        assert!(
            kinds[1..].iter().all(|k| k == "patch"),
            "after the first, only patches: {kinds:?}"
        );
    }
    stack.stop().await;
}

#[tokio::test]
async fn at_500_workers_a_change_costs_a_small_patch_not_the_fleet() {
    let stack = Stack::start().await;
    let mut r = stack.conn().await;
    let mut pipe = redis::pipe();
    for i in 0..500 {
        let b = heartbeat(&format!("w{i:03}"), "render", "idle");
        pipe.set_ex(heartbeat_key(&b.name), b.to_json(), 45);
    }
    let _: () = pipe.query_async(&mut r).await.unwrap();
    stack
        .wait_nodes("500 workers", |n| n.workers.len() >= 500)
        .await;
    let mut follower = Follower::open(&stream_url(&stack, "")).await;
    follow_until_equal(&stack, &mut follower).await;
    let whole = follower.sizes[0];
    let before = follower.sizes.len();
    let _: () = r.del(heartbeat_key("w250")).await.unwrap();
    let nodes = settle(&stack, &mut follower, "w250 down", |n| {
        n.workers.iter().any(|w| w.name == "w250" && !w.alive)
    })
    .await;
    assert!(nodes.workers.iter().any(|w| w.name == "w250" && !w.alive));
    let patches = &follower.sizes[before..];
    assert!(!patches.is_empty());
    println!("whole snapshot {whole} B; patches for one worker going down: {patches:?} B");
    for size in patches {
        assert!(
            *size < whole / 50,
            "a {size} B patch for one change (whole: {whole} B)"
        );
    }
    stack.stop().await;
}

#[tokio::test]
async fn a_problems_filter_streams_only_workers_that_need_attention() {
    let stack = Stack::start().await;
    let mut r = stack.conn().await;
    for name in ["music-render", "video-render", "image-render"] {
        beat(&mut r, &heartbeat(name, "render", "idle")).await;
    }
    stack
        .wait_nodes("three alive", |n| {
            n.workers.iter().filter(|w| w.alive).count() == 3
        })
        .await;
    let mut follower = Follower::open(&stream_url(&stack, "?problems=1")).await;
    assert!(follower.step().await);
    let deadline = Instant::now() + PATIENCE;
    let _: () = r.del(heartbeat_key("video-render")).await.unwrap();
    loop {
        let held = follower.nodes.as_ref().unwrap();
        let names: Vec<_> = held.workers.iter().map(|w| w.name.as_str()).collect();
        if names.contains(&"video-render") {
            assert!(held.workers.iter().all(|w| Condition::of(w).is_problem()));
            assert!(!names.contains(&"music-render"), "{names:?}");
            let summary = held.summary.as_ref().unwrap();
            assert_eq!(summary.workers, 6, "the summary is the whole fleet's");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the down worker never came: {names:?}"
        );
        follower.step().await;
    }
    // Back: it leaves the filtered view.
    beat(&mut r, &heartbeat("video-render", "render", "idle")).await;
    loop {
        follower.step().await;
        let held = follower.nodes.as_ref().unwrap();
        if held.workers.iter().all(|w| w.name != "video-render") {
            break;
        }
        assert!(Instant::now() < deadline + PATIENCE, "it never left");
    }
    stack.stop().await;
}

#[tokio::test]
async fn a_viewer_reconnecting_with_its_last_event_id_gets_only_what_it_lacks() {
    let stack = Stack::start().await;
    let mut r = stack.conn().await;
    let mut follower = Follower::open(&stream_url(&stack, "")).await;
    follow_until_equal(&stack, &mut follower).await;
    let version = follower.version.unwrap().to_string();
    // Up to date: nothing is sent.
    let mut again = SseClient::connect(&stream_url(&stack, ""), Some(&version)).await;
    let nothing = again.next_within(Duration::from_millis(500)).await;
    assert!(nothing.is_none(), "{nothing:?}");
    // One change later, the reconnecting viewer gets the patch, not the fleet.
    let _: () = r.set("queue:paused", "1").await.unwrap();
    let event = again.next().await.expect("the change");
    assert_eq!(event.event, "patch");
    // A version this server never had: the whole snapshot.
    let mut stranger = SseClient::connect(&stream_url(&stack, ""), Some("7")).await;
    assert_eq!(stranger.next().await.unwrap().event, "snapshot");
    stack.stop().await;
}

/// The snapshot the page holds, as JSON; null until the page has defined its hook (the wasm may
/// still be loading) or holds a snapshot.
const PAGE_NODES: &str = "return window.pulseboardNodes ? window.pulseboardNodes() : null";

/// What the page holds (`window.pulseboardNodes()`), moved on to `generated_at`; `None` while it
/// holds nothing yet.
async fn page_state(browser: &Browser, generated_at: &str) -> Option<Nodes> {
    let json = browser.js(PAGE_NODES).await;
    let mut nodes: Nodes = serde_json::from_str(json.as_str()?).ok()?;
    if nodes.generated_at.as_str() > generated_at {
        return None;
    }
    advance_to(&mut nodes, generated_at);
    Some(nodes)
}

/// Waits until `/nodes` shows `what`, then until the page holds the same.
async fn page_settles(
    stack: &Stack,
    browser: &Browser,
    what: &str,
    shown: impl Fn(&Nodes) -> bool,
) {
    stack.wait_nodes(what, shown).await;
    // The page's first snapshot (its hook defined, the wasm started), then its catching up.
    browser.wait_js("the page's snapshot", PAGE_NODES).await;
    let deadline = Instant::now() + PATIENCE;
    loop {
        let whole = stack.nodes().await;
        let held = page_state(browser, &whole.generated_at).await;
        if held.as_ref() == Some(&whole) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the page never held what /nodes says ({what});\npage: {held:#?}\nwhole: {whole:#?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn the_page_applies_patches_to_the_same_state_as_the_whole_snapshot() {
    let stack = Stack::start().await;
    let mut r = stack.conn().await;
    beat(&mut r, &heartbeat("music-render", "render", "busy")).await;
    stack.wait_nodes("a beat", |n| n.workers[0].alive).await;
    let browser = Browser::start(BrowserOptions::default()).await;
    browser
        .client
        .goto(&format!("{}/infra/?view=2d", stack.base))
        .await
        .unwrap();
    page_settles(&stack, &browser, "the start", |_| true).await;
    let _: () = r.del(heartbeat_key("music-render")).await.unwrap();
    let _: () = r
        .rpush("dead_letter:queue:image-render", &["a", "b"])
        .await
        .unwrap();
    beat(&mut r, &heartbeat("stranger", "render", "idle")).await;
    page_settles(&stack, &browser, "a death, dead letters, a stranger", |n| {
        !n.workers[0].alive
            && n.workers[2].dead_letter == 2
            && n.workers.iter().any(|w| w.name == "stranger")
    })
    .await;
    let _: () = r.set("queue:paused", "1").await.unwrap();
    beat(&mut r, &heartbeat("music-render", "render", "idle")).await;
    page_settles(&stack, &browser, "back, and paused", |n| {
        n.paused && n.workers[0].alive
    })
    .await;
    // The page drew what it holds: one card per worker, the stranger among them.
    browser
        .wait_js(
            "the stranger's card",
            "return document.querySelector('.worker-card[data-worker=\"stranger\"]') !== null",
        )
        .await;
    browser.close().await;
    stack.stop().await;
}
