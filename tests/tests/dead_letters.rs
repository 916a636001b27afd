//! Dead letters opened, against a real Redis and two real servers on it: listed only with the
//! admin token (or when made public), secrets masked; replayed and deleted exactly once even when
//! both servers are asked the same at the same moment; every payload accounted for; the event
//! log says who did what.

use std::collections::HashMap;
use std::time::Duration;

use pulseboard_server::config::admin::AdminTokens;
use pulseboard_server::config::Config;
use pulseboard_shared::dead_letters::{DeadLetterOutcome, DeadLetterPage};
use pulseboard_tests::{Stack, PATIENCE};
use redis::AsyncCommands;
use serde_json::{json, Value};

const OPS: &str = "ops-token-0123456789";
const QUEUE: &str = "queue:music-render";
const DEAD: &str = "dead_letter:queue:music-render";
const PATH: &str = "/api/agent-office/workers/music-render/dead-letters";

fn with_tokens(c: &mut Config) {
    c.admin_tokens = AdminTokens::parse(&format!("ops:{OPS}")).unwrap();
}

async fn call(
    base: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Value,
) -> (u16, Value) {
    let client = reqwest::Client::new();
    let mut request = match method {
        "GET" => client.get(format!("{base}{path}")),
        _ => client.post(format!("{base}{path}")).json(&body),
    };
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// A second server on `stack`'s Redis, as another replica would be; stopped with the trigger.
async fn second_server(
    stack: &Stack,
    adjust: impl FnOnce(&mut Config),
) -> (String, pulseboard_server::shutdown::Trigger) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let mut config = Config {
        redis_url: stack.redis.url(),
        refresh: Duration::from_millis(100),
        ..Config::default()
    };
    adjust(&mut config);
    let (trigger, rx) = pulseboard_server::shutdown::channel();
    tokio::spawn(pulseboard_server::serve(config, listener, rx));
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while reqwest::get(format!("{base}/api/agent-office/nodes"))
        .await
        .map_or(true, |r| !r.status().is_success())
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the second server never answered"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    (base, trigger)
}

#[tokio::test]
async fn dead_letters_are_listed_masked_and_replayed_or_deleted_exactly_once_by_two_servers() {
    let stack = Stack::start_with(with_tokens).await;
    let (public, public_stop) = second_server(&stack, |c| {
        with_tokens(c);
        c.dead_letters.public = true;
    })
    .await;
    let mut r = stack.conn().await;
    // 30 failed jobs, oldest pushed first (newest at the head, as the SDK's fail does), each
    // with a secret; job 7 failed twice.
    let payload =
        |i: u32| json!({"job": i, "user": "kim", "password": format!("pw-{i}")}).to_string();
    for i in 0..30 {
        let _: () = r.lpush(DEAD, payload(i)).await.unwrap();
    }
    let _: () = r.lpush(DEAD, payload(7)).await.unwrap();

    // Private by default: no token, no payloads; the public replica lists without one.
    assert_eq!(
        call(&stack.base, "GET", PATH, None, Value::Null).await.0,
        401
    );
    assert_eq!(call(&public, "GET", PATH, None, Value::Null).await.0, 200);
    let (status, body) = call(
        &stack.base,
        "GET",
        &format!("{PATH}?limit=100"),
        Some(OPS),
        Value::Null,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let page: DeadLetterPage = serde_json::from_value(body).unwrap();
    assert_eq!((page.total, page.items.len()), (31, 31));
    assert_eq!(
        page.items[0].json.as_ref().unwrap()["job"],
        7,
        "newest first"
    );
    for item in &page.items {
        assert!(
            !item.preview.contains("pw-") && item.preview.contains("***"),
            "{}",
            item.preview
        );
        assert_eq!(item.json.as_ref().unwrap()["password"], "***");
    }
    let id_of: HashMap<u64, String> = page
        .items
        .iter()
        .map(|i| {
            (
                i.json.as_ref().unwrap()["job"].as_u64().unwrap(),
                i.id.clone(),
            )
        })
        .collect();
    assert_eq!(
        id_of.len(),
        30,
        "one id per payload, the same for both copies of job 7"
    );

    // Both servers asked to replay jobs 0..10 at the same moment: each job moves once.
    let ids: Vec<String> = (0..10).map(|j| id_of[&j].clone()).collect();
    let body = json!({ "ids": ids });
    let replay = format!("{PATH}/replay");
    let (a, b) = tokio::join!(
        call(&stack.base, "POST", &replay, Some(OPS), body.clone()),
        call(&public, "POST", &replay, Some(OPS), body.clone()),
    );
    assert_eq!((a.0, b.0), (200, 200), "{a:?} {b:?}");
    let a: DeadLetterOutcome = serde_json::from_value(a.1).unwrap();
    let b: DeadLetterOutcome = serde_json::from_value(b.1).unwrap();
    assert_eq!(a.count + b.count, 11, "ten jobs, job 7 twice: {a:?} {b:?}");
    for id in &ids {
        let taken = [&a, &b].iter().filter(|o| o.ids.contains(id)).count();
        let missed = [&a, &b].iter().filter(|o| o.missing.contains(id)).count();
        assert_eq!((taken, missed), (1, 1), "{id}: {a:?} {b:?}");
    }
    // Every payload is in exactly one list; the oldest replayed is taken first.
    let queued: Vec<String> = r.lrange(QUEUE, 0, -1).await.unwrap();
    let dead: Vec<String> = r.lrange(DEAD, 0, -1).await.unwrap();
    assert_eq!((queued.len(), dead.len()), (11, 20));
    for i in 0..30 {
        let copies = |list: &[String]| list.iter().filter(|p| **p == payload(i)).count();
        let want = if i == 7 { 2 } else { 1 };
        assert_eq!(copies(&queued) + copies(&dead), want, "job {i}");
    }
    // Asked again: nothing moves.
    let (_, again) = call(&stack.base, "POST", &replay, Some(OPS), body).await;
    assert_eq!(
        (
            again["count"].as_u64(),
            again["missing"].as_array().map(Vec::len)
        ),
        (Some(0), Some(10))
    );

    // Bad bodies and tokens change nothing.
    let delete = format!("{PATH}/delete");
    assert_eq!(
        call(&stack.base, "POST", &delete, None, json!({"all": true}))
            .await
            .0,
        401
    );
    assert_eq!(
        call(&stack.base, "POST", &delete, Some(OPS), json!({}))
            .await
            .0,
        400
    );
    assert_eq!(r.llen::<_, u64>(DEAD).await.unwrap(), 20);
    let (status, gone) = call(&public, "POST", &delete, Some(OPS), json!({"all": true})).await;
    assert_eq!((status, gone["count"].as_u64()), (200, Some(20)), "{gone}");
    assert_eq!(r.llen::<_, u64>(DEAD).await.unwrap(), 0);
    assert_eq!(r.llen::<_, u64>(QUEUE).await.unwrap(), 11);

    // The event log names who, what and how many, never a payload.
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let log = loop {
        let (_, log) = stack.get("/api/agent-office/events?limit=50").await;
        if log.matches("\"type\":\"dead_letters\"").count() >= 4 {
            break log;
        }
        assert!(tokio::time::Instant::now() < deadline, "{log}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    };
    assert!(
        log.contains("\"by\":\"ops\"") && !log.contains("pw-"),
        "{log}"
    );
    public_stop.stop();
    stack.stop().await;
}

/// The panel's dead letters in real headless Chromium: the token asked inline, the previews
/// masked, one selected and replayed after a confirmation; at desktop and phone sizes
/// (`target/screenshots/dead-letters-*.png`).
#[tokio::test]
async fn the_panel_lists_dead_letters_and_replays_the_selected_one_after_confirming() {
    use fantoccini::Locator;
    use pulseboard_tests::browser::{Browser, BrowserOptions};

    assert!(
        pulseboard_tests::dist_dir().join("index.html").is_file(),
        "the dashboard bundle is not built: run `bash scripts/build-dashboard.sh` first"
    );
    let stack = Stack::start_with(|c| {
        with_tokens(c);
        c.topology.workers.retain(|w| w.name == "music-render");
        // Its crashed consumer's jobs are left where they are, and the panel says so.
        let recommend = pulseboard_shared::rescue::RescueMode::Recommend;
        c.rescue
            .modes_by_worker
            .insert("music-render".into(), recommend);
        c.rescue.after_s = 1;
    })
    .await;
    let mut r = stack.conn().await;
    for i in 0..3 {
        let job = json!({"job": i, "prompt": "a cat on a piano", "api_key": format!("pw-{i}")});
        let _: () = r.lpush(DEAD, job.to_string()).await.unwrap();
    }
    let _: () = r
        .lpush("processing:queue:music-render:c1", &["x", "y"])
        .await
        .unwrap();
    // A silence over it: the card carries 🔕 and the panel says until when and why.
    let silence = stack
        .http
        .post(format!("{}/api/agent-office/silences", stack.base))
        .bearer_auth(OPS)
        .json(&json!({"match": {"worker": "music-render"}, "for_s": 3600, "reason": "new disk"}))
        .send()
        .await
        .unwrap();
    assert_eq!(silence.status(), 201);
    stack
        .wait_nodes("three dead letters, two orphans, a silence", |n| {
            n.workers.iter().any(|w| {
                w.dead_letter == 3
                    && w.rescue.as_ref().is_some_and(|r| r.orphaned_jobs == 2)
                    && w.silence.as_ref().is_some_and(|s| s.by == "ops")
            })
        })
        .await;
    for (window, size) in [((1280, 800), "desktop"), ((390, 844), "phone")] {
        let browser = Browser::start(BrowserOptions {
            window,
            lang: "en-US".into(),
            ..BrowserOptions::default()
        })
        .await;
        browser
            .client
            .goto(&format!("{}/infra/?view=2d&lang=en", stack.base))
            .await
            .unwrap();
        browser
            .wait_js(
                "the card",
                "return !!document.querySelector('.worker-card[data-worker=\"music-render\"]')",
            )
            .await;
        browser
            .click(".worker-card[data-worker=\"music-render\"]")
            .await;
        // No token in this tab yet: the section says why it shows nothing and asks for one.
        browser
            .wait_js(
                "the token form",
                "return !!document.querySelector('#dead-letters #dl-token')",
            )
            .await;
        let input = browser
            .client
            .find(Locator::Css("#dl-token"))
            .await
            .unwrap();
        input.send_keys(OPS).await.unwrap();
        browser
            .click("#dead-letters .token-form button[type=submit]")
            .await;
        let text = browser
            .wait_js(
                "three previews",
                "const s = document.getElementById('dead-letters'); \
                 return s && s.querySelectorAll('.dl-list li').length >= 1 ? s.textContent : null",
            )
            .await;
        let text = text.as_str().unwrap();
        assert!(
            text.contains("a cat on a piano") && text.contains("***"),
            "{text}"
        );
        assert!(!text.contains("pw-"), "a secret reached the page: {text}");
        let silenced = browser
            .wait_js(
                "the silence line",
                "return document.querySelector('.worker-card .silence-mark[data-silence=silenced]') \
                 && document.querySelector('#detail .silence-line')?.textContent",
            )
            .await;
        let silenced = silenced.as_str().unwrap();
        assert!(
            silenced.starts_with("🔕 alerts silenced until ")
                && silenced.ends_with("(ops): new disk"),
            "{silenced}"
        );
        let orphans = browser
            .wait_js(
                "the orphans line",
                "return document.querySelector('#detail .orphans')?.textContent",
            )
            .await;
        assert_eq!(
            orphans.as_str().unwrap(),
            "♻ 2 orphaned job(s) in 1 list(s): moving them is up to you"
        );
        browser
            .screenshot(&format!("dead-letters-{size}-list"))
            .await;
        if size == "phone" {
            browser.close().await;
            break;
        }
        // One selected, replayed after the confirmation.
        browser
            .click("#dead-letters .dl-list li:first-child input[type=checkbox]")
            .await;
        browser
            .click("#dead-letters [data-dl-action=replay-selected]")
            .await;
        let question = browser
            .wait_js(
                "the confirmation",
                "return document.querySelector('.dl-confirm')?.textContent",
            )
            .await;
        assert!(
            question
                .as_str()
                .unwrap()
                .contains("Put 1 dead letter of music-render back on its queue?"),
            "{question}"
        );
        assert_eq!(
            r.llen::<_, u64>(QUEUE).await.unwrap(),
            0,
            "nothing moves before confirming"
        );
        browser.screenshot("dead-letters-desktop-confirm").await;
        browser.click("[data-dl-confirm=yes]").await;
        let done = browser
            .wait_js("the outcome", "return document.querySelector('#dead-letters .action-result[data-outcome=accepted]')?.textContent")
            .await;
        assert_eq!(done.as_str().unwrap(), "✓ 1 put back on the queue by ops");
        assert_eq!(
            (
                r.llen::<_, u64>(QUEUE).await.unwrap(),
                r.llen::<_, u64>(DEAD).await.unwrap()
            ),
            (1, 2)
        );
        browser
            .wait_js("the list read again", "return document.querySelectorAll('#dead-letters .dl-list li').length === 2 || null")
            .await;
        let logged = browser
            .wait_js("the timeline's record", "return document.querySelector('#timeline li[data-type=dead_letters] .what')?.textContent")
            .await;
        assert_eq!(
            logged.as_str().unwrap(),
            "☠ ops put 1 dead letter of music-render back on its queue"
        );
        browser.screenshot("dead-letters-desktop-replayed").await;
        browser.close().await;
    }
    stack.stop().await;
}
