//! The page in real headless Chromium against the real server and Redis: one card per worker with
//! the state the data says, and the banner when Redis is lost.

use std::time::{Duration, Instant};

use fantoccini::Locator;
use pulseboard_shared::heartbeat::heartbeat_key;
use pulseboard_shared::{link_status, state_label, Lang, Nodes};
use pulseboard_tests::browser::{Browser, BrowserOptions};
use pulseboard_tests::{beat, dist_dir, heartbeat, Stack, PATIENCE};
use redis::AsyncCommands;

/// What a card shows, read off the DOM.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Card {
    worker: String,
    status: String,
    label: String,
}

/// Reads every card in one script, so a re-render between reads cannot leave a stale handle.
async fn cards(browser: &Browser) -> Vec<Card> {
    let seen = browser
        .js(
            "return [...document.querySelectorAll('.worker-card')].map(c => [\
               c.dataset.worker || '', c.dataset.status || '',\
               (c.querySelector('.state-label')?.textContent || '').trim()]);",
        )
        .await;
    let mut cards: Vec<Card> = serde_json::from_value::<Vec<(String, String, String)>>(seen)
        .unwrap()
        .into_iter()
        .map(|(worker, status, label)| Card {
            worker,
            status,
            label,
        })
        .collect();
    cards.sort();
    cards
}

fn expected_cards(nodes: &Nodes, lang: Lang) -> Vec<Card> {
    let mut cards: Vec<Card> = nodes
        .workers
        .iter()
        .map(|w| Card {
            worker: w.name.clone(),
            status: link_status(w).as_str().to_owned(),
            label: state_label(w, lang).to_owned(),
        })
        .collect();
    cards.sort();
    cards
}

/// Polls the DOM until `ready` holds for the cards, failing with what was last seen.
async fn wait_cards(browser: &Browser, what: &str, ready: impl Fn(&[Card]) -> bool) -> Vec<Card> {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let seen = cards(browser).await;
        if ready(&seen) {
            return seen;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}; cards: {seen:#?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Polls until the cards are what `/nodes` says at that moment (time moves: a beat left alone
/// turns late, and the page must follow it).
async fn wait_live_cards(stack: &Stack, browser: &Browser, lang: Lang) -> Vec<Card> {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let seen = cards(browser).await;
        let expected = expected_cards(&stack.nodes().await, lang);
        if seen == expected {
            return seen;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for the cards /nodes describes: {expected:#?}; cards: {seen:#?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn the_page_shows_one_card_per_worker_with_its_state() {
    assert!(
        dist_dir().join("index.html").is_file(),
        "the dashboard bundle is not built in {}: run `trunk build --release --offline` first \
         (the README's test command does)",
        dist_dir().display()
    );
    let mut stack = Stack::start().await;
    let mut r = stack.conn().await;
    // Chromium first: on a cold CI machine it can take longer to start than a beat takes to turn
    // late, and the cards are compared with the data as it is now.
    let browser = Browser::start(BrowserOptions::default()).await;
    beat(&mut r, &heartbeat("music-render", "render", "busy")).await;
    beat(&mut r, &heartbeat("image-render", "render", "idle")).await;
    beat(&mut r, &heartbeat("insta-render", "render", "paused")).await;
    beat(&mut r, &heartbeat("task-watcher", "watcher", "trading")).await;
    beat(&mut r, &heartbeat("ai_trade", "trader", "market_open")).await;
    let _: () = r
        .rpush("dead_letter:queue:image-render", &["a", "b", "c"])
        .await
        .unwrap();
    // A name that would be markup if rendered as HTML.
    beat(&mut r, &heartbeat("<b>x</b>", "render", "idle")).await;
    let nodes = stack
        .wait_nodes("the data in place", |n| {
            n.workers.len() == 7 && n.workers.iter().any(|w| w.dead_letter == 3)
        })
        .await;

    browser
        .client
        // The card grid (3D is the default on a desktop; tests/tests/dashboard.rs covers it).
        .goto(&format!("{}/infra/?view=2d", stack.base))
        .await
        .unwrap();
    let lang: String = browser
        .client
        .execute("return navigator.language", vec![])
        .await
        .unwrap()
        .as_str()
        .unwrap()
        .to_owned();
    let lang = Lang::from_tag(&lang);
    let seen = wait_live_cards(&stack, &browser, lang).await;
    assert_eq!(seen.len(), nodes.workers.len());
    // The Korean labels are the seed's.
    if lang == Lang::Ko {
        assert!(seen
            .iter()
            .any(|c| c.worker == "video-render" && c.label == "🔴 다운"));
        assert!(seen
            .iter()
            .any(|c| c.worker == "insta-render" && c.label.contains("작업중(트레이딩)")));
    }
    // The markup-like name is text, not an element.
    let injected = browser
        .client
        .find_all(Locator::Css(".worker-card b"))
        .await
        .unwrap();
    assert!(injected.is_empty(), "a worker name was rendered as HTML");
    assert!(browser
        .client
        .find(Locator::Id("redis-lost"))
        .await
        .is_err());
    let shot = browser.screenshot("cards").await;
    eprintln!("screenshot: {}", shot.display());

    // Live: a change in Redis reaches the page without a reload.
    beat(&mut r, &heartbeat("video-render", "render", "busy")).await;
    wait_cards(&browser, "video-render alive", |c| {
        c.iter()
            .any(|c| c.worker == "video-render" && c.status == "healthy")
    })
    .await;

    // A worker dies: its alert shows in the timeline, as text.
    let _: () = r.del(heartbeat_key("music-render")).await.unwrap();
    let entry = browser
        .wait_js(
            "a timeline entry for music-render's death",
            "return [...document.querySelectorAll('#timeline li.event')]\
               .map(li => li.innerText).find(t => t.includes('[music-render]')) || null;",
        )
        .await;
    let entry = entry.as_str().unwrap().to_owned();
    // Worded in the page's language, whatever the alerts' own (Korean by default).
    let page_lang = browser
        .client
        .find(Locator::Css("#lang-toggle"))
        .await
        .unwrap()
        .attr("data-lang")
        .await
        .unwrap();
    let said = if page_lang.as_deref() == Some("en") {
        "worker down"
    } else {
        "워커 다운"
    };
    assert!(entry.contains(said), "{page_lang:?}: {entry}");
    browser.screenshot("timeline").await;

    // Redis lost: the banner says so.
    stack.redis.stop().await;
    let text = browser
        .wait_js(
            "the Redis-lost banner",
            "return document.getElementById('redis-lost')?.innerText ?? null",
        )
        .await;
    let text = text.as_str().unwrap();
    assert!(text.contains("aggregator lost Redis"), "{text}");
    browser.screenshot("redis-lost").await;
    browser.close().await;
    stack.stop().await;
}
