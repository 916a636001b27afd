//! Anyone who can write Redis can flood it: 300,000 junk heartbeat keys (a third with names the
//! name rule refuses), a 50 MB value at a configured worker's heartbeat and a 50 MB agent beat.
//! The real server on a real `redis-server` serves through it: `/readyz` answers 200 at
//! every poll, a configured worker's death is still seen within one refresh and a second, the
//! snapshot stays small and says how many keys it ignored, and the only alert is that death.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use pulseboard_server::config::alerts::{Language, Secret, TelegramSettings};
use pulseboard_server::config::{Host, Topology, WorkerSpec};
use pulseboard_shared::heartbeat::heartbeat_key;
use pulseboard_shared::{Nodes, WorkerKind};
use pulseboard_tests::standin::StandIn;
use pulseboard_tests::{beat, heartbeat, write_junk_heartbeats, Stack, PATIENCE};

/// Junk keys written (every third with a name the name rule refuses).
const JUNK: u64 = 300_000;
const MAX_UNREGISTERED: u32 = 1_000;
const FIFTY_MB: usize = 50 * 1024 * 1024;

fn render(name: &str) -> WorkerSpec {
    WorkerSpec {
        name: name.into(),
        kind: WorkerKind::Render,
        host: "nas".into(),
        queue: Some(format!("queue:{name}")),
        pulls_from: "nas-stock".into(),
        parts: vec![],
        part_down: Default::default(),
    }
}

/// Polls `/readyz` until told to stop (and at least ten times), counting answers and keeping every
/// one that is not 200.
fn poll_readyz(
    stack: &Stack,
    stop: Arc<AtomicBool>,
) -> tokio::task::JoinHandle<(u64, Vec<String>)> {
    let url = format!("{}/readyz", stack.base);
    let http = stack.http.clone();
    tokio::spawn(async move {
        let (mut polls, mut failures) = (0, Vec::new());
        // At least ten polls, however fast the death is seen: /readyz is asked throughout.
        while polls < 10 || !stop.load(Ordering::Relaxed) {
            polls += 1;
            match http.get(&url).send().await {
                Ok(r) if r.status() == 200 => {}
                Ok(r) => {
                    let status = r.status();
                    failures.push(format!("{status}: {}", r.text().await.unwrap_or_default()));
                }
                Err(e) => failures.push(e.to_string()),
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        (polls, failures)
    })
}

/// `/nodes` as text (its size is the point) and parsed.
async fn nodes_text(stack: &Stack) -> (usize, Nodes) {
    let (status, body) = stack.get("/api/agent-office/nodes").await;
    assert_eq!(status, 200, "{body}");
    (body.len(), serde_json::from_str(&body).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_junk_flood_costs_nothing_and_hides_no_death() {
    // The flood is in Redis before the server starts (writing it is Redis's own work, not the
    // server's); then /readyz is polled from the first ready answer to the end.
    let redis = pulseboard_server::redis_server::RedisServer::start()
        .await
        .unwrap();
    let mut conn = redis::Client::open(redis.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    beat(&mut conn, &heartbeat("w1", "render", "idle")).await;
    // The flood: two 50 MB values (one at a configured worker's heartbeat, with the contract's
    // expiry; one at the host agent's beat), then the junk keys.
    let huge = vec![b'{'; FIFTY_MB];
    let _: () = redis::cmd("SET")
        .arg(heartbeat_key("w2"))
        .arg(&huge)
        .arg("EX")
        .arg(600)
        .query_async(&mut conn)
        .await
        .unwrap();
    let _: () = redis::cmd("SET")
        .arg(pulseboard_shared::agent::beat_key("nas"))
        .arg(&huge)
        .query_async(&mut conn)
        .await
        .unwrap();
    drop(huge);
    write_junk_heartbeats(&mut conn, JUNK).await;
    let size: u64 = redis::cmd("DBSIZE").query_async(&mut conn).await.unwrap();
    assert!(size >= JUNK + 3, "the flood is in Redis: {size} keys");

    let standin = StandIn::start().await.unwrap();
    let api_url = standin.url.clone();
    let stack = Stack::launch(redis, move |c| {
        c.max_unregistered = MAX_UNREGISTERED;
        c.topology = Topology {
            queue_host: "nas".into(),
            hosts: vec![Host {
                name: "nas".into(),
                label: None,
            }],
            workers: vec![render("w1"), render("w2")],
        };
        c.alerts.language = Language::English;
        c.alerts.telegram = Some(TelegramSettings {
            bot_token: Secret::new("junk"),
            chat_id: "1".into(),
            api_url,
            allowed_user_ids: vec![],
            webhook: None,
        });
    })
    .await;
    stack
        .wait_nodes("w1 alive", |n| n.redis_ok && n.workers[0].alive)
        .await;
    let stop = Arc::new(AtomicBool::new(false));
    let readyz = poll_readyz(&stack, stop.clone());

    // A whole sweep through the flood: every junk key counted, none beyond the cap read.
    let bad_names = JUNK / 3;
    let over_limit = JUNK - bad_names - u64::from(MAX_UNREGISTERED);
    let nodes = stack
        .wait_nodes("the flood counted", |n| {
            let ignored = n.summary.as_ref().and_then(|s| s.ignored_workers);
            ignored.is_some_and(|i| i.bad_name >= bad_names && i.over_limit >= over_limit)
        })
        .await;
    assert!(nodes.redis_ok);
    let ignored = nodes.summary.as_ref().unwrap().ignored_workers.unwrap();
    assert_eq!(ignored.max_unregistered, u64::from(MAX_UNREGISTERED));
    assert_eq!(ignored.count, ignored.bad_name + ignored.over_limit);
    assert_eq!(
        nodes.workers.len(),
        2 + MAX_UNREGISTERED as usize,
        "configured workers plus the cap, no more"
    );
    assert_eq!(nodes.workers[0].name, "w1", "configured workers come first");
    let w2 = &nodes.workers[1];
    let error = w2.error.as_deref().unwrap_or_default();
    assert!(error.contains("larger than 64 KiB"), "{error}");
    assert!(nodes.agents.is_empty(), "a 50 MB agent beat is garbage");
    assert!(nodes.workers[2..].iter().all(|w| !w.alive && !w.registered));

    let (bytes, _) = nodes_text(&stack).await;
    assert!(bytes < 5 * 1024 * 1024, "/nodes is {bytes} bytes");
    let (status, ready) = stack.get("/readyz").await;
    assert_eq!(status, 200, "{ready}");
    let ready: serde_json::Value = serde_json::from_str(&ready).unwrap();
    assert_eq!(ready["ignored_workers"], ignored.count);
    let (_, metrics) = stack.get("/metrics").await;
    assert!(
        metrics.contains(&format!("pulseboard_workers_ignored {}", ignored.count)),
        "{metrics}"
    );

    // A configured worker dies: seen within one refresh and a second, flood or not.
    let _: () = redis::cmd("DEL")
        .arg(heartbeat_key("w1"))
        .query_async(&mut conn)
        .await
        .unwrap();
    let died = Instant::now();
    let deadline = died + Duration::from_millis(100) + Duration::from_secs(1);
    loop {
        let (_, nodes) = nodes_text(&stack).await;
        if !nodes.workers[0].alive {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "w1's death not seen within one refresh + 1 s"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    stop.store(true, Ordering::Relaxed);
    let (polls, failures) = readyz.await.unwrap();
    assert!(
        failures.is_empty(),
        "/readyz failed {failures:#?} of {polls}"
    );
    let down = standin.wait_for("[w1] worker down", 0, PATIENCE).await;
    assert!(
        down.is_some(),
        "w1's death is alerted: {:?}",
        standin.texts()
    );

    // The flood raised no alert: the only ones are about the configured workers.
    let texts = standin.texts();
    assert!(
        texts
            .iter()
            .all(|t| !t.contains("junk") && !t.contains("jjj")),
        "{texts:#?}"
    );
    assert_eq!(texts.len(), 1, "{texts:#?}");
    stack.stop().await;
}
