//! "Is anything wrong, and where?" answered in one look at 6, 60, 500 and 10,000 workers, in
//! real headless Chromium: in 3D every worker with a problem is labelled and no two labels
//! overlap; the summary's counts equal the data and filter the view; on a phone the seed's six
//! and the summary fit the first screen; the 2D list at 10,000 keeps its DOM small. Mock fleets
//! (the page's own script) and live ones (a real server on a real Redis with beating workers).
//!
//! Browser tests take turns (software GL on two cores). Screenshots land in
//! `target/screenshots/glance-*.png`.

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use pulseboard_shared::{Condition, Nodes, Phase, Summary};
use pulseboard_tests::browser::{Browser, BrowserOptions};
use pulseboard_tests::{beat, dist_dir, heartbeat, Stack, PATIENCE};
use redis::AsyncCommands;
use serde::Deserialize;
use serde_json::Value;
use tokio::sync::Mutex;

static ONE_BROWSER_AT_A_TIME: Mutex<()> = Mutex::const_new(());

fn require_bundle() {
    assert!(
        dist_dir().join("index.html").is_file(),
        "the dashboard bundle is not built in {}: run `bash scripts/build-dashboard.sh` first",
        dist_dir().display()
    );
}

/// The page's snapshot, its 3D labels and its summary chips, read in one go so they agree.
const LOOK: &str = r#"
    const overlay = document.querySelector('.overlay');
    const placed = !!overlay && overlay.dataset.placed == overlay.childElementCount;
    const labels = [...document.querySelectorAll('.node-label')].map(el => {
        const r = el.getBoundingClientRect();
        return { worker: el.dataset.worker, shown: getComputedStyle(el).visibility !== 'hidden',
                 text: el.textContent, x: r.left, y: r.top, w: r.width, h: r.height };
    });
    const chips = {};
    for (const c of document.querySelectorAll('#summary .chip[data-condition]')) {
        chips[c.dataset.condition] = Number(c.querySelector('.count').textContent);
    }
    return { nodes: window.pulseboardNodes ? window.pulseboardNodes() : null, placed, labels,
             chips, drawn: document.querySelector('#scene-canvas[data-drawn]') !== null,
             view: [innerWidth, innerHeight] };
"#;

#[derive(Debug, Deserialize)]
struct Look {
    nodes: Option<String>,
    placed: bool,
    drawn: bool,
    labels: Vec<Label>,
    chips: BTreeMap<String, u64>,
    view: (f64, f64),
}

#[derive(Debug, Clone, Deserialize)]
struct Label {
    worker: String,
    shown: bool,
    text: String,
    x: f64,
    y: f64,
    w: f64,
    h: f64,
}

impl Label {
    fn overlaps(&self, o: &Label) -> bool {
        self.x < o.x + o.w && o.x < self.x + self.w && self.y < o.y + o.h && o.y < self.y + self.h
    }
}

/// What is wrong with a look, if anything: a problem worker not labelled, two labels on top of
/// each other, a summary count that is not the data's.
fn faults(look: &Look) -> Vec<String> {
    let Some(nodes) = look.nodes.as_deref() else {
        return vec!["no snapshot yet".into()];
    };
    let Some(nodes) = serde_json::from_str::<Option<Nodes>>(nodes).unwrap() else {
        return vec!["no snapshot yet".into()];
    };
    let mut faults = vec![];
    if !look.drawn || !look.placed {
        faults.push("the scene is not drawn and placed yet".into());
    }
    let shown: Vec<&Label> = look
        .labels
        .iter()
        .filter(|l| l.shown && l.w > 0.0)
        .collect();
    let names: HashSet<&str> = shown.iter().map(|l| l.worker.as_str()).collect();
    for w in &nodes.workers {
        if Condition::of(w).is_problem() && !names.contains(w.name.as_str()) {
            faults.push(format!(
                "{} ({:?}) has no label in view",
                w.name,
                Condition::of(w)
            ));
        }
    }
    for l in &shown {
        let inside =
            l.x >= 0.0 && l.y >= 0.0 && l.x + l.w <= look.view.0 && l.y + l.h <= look.view.1;
        if !inside {
            faults.push(format!("{}'s label is off screen: {l:?}", l.worker));
        }
    }
    for (i, a) in shown.iter().enumerate() {
        for b in &shown[i + 1..] {
            if a.overlaps(b) {
                faults.push(format!("labels overlap: {a:?} and {b:?}"));
            }
        }
    }
    let summary = Summary::of(&nodes.workers);
    for c in Condition::ALL {
        let seen = look.chips.get(c.as_str()).copied().unwrap_or(0);
        if seen != summary.count(c) {
            faults.push(format!(
                "{} chip says {seen}, the data {}",
                c.as_str(),
                summary.count(c)
            ));
        }
    }
    if look.chips.get("all") != Some(&(nodes.workers.len() as u64)) {
        faults.push(format!("the workers chip says {:?}", look.chips.get("all")));
    }
    faults
}

/// Looks until nothing is wrong (the page settles within a frame or two of a snapshot), failing
/// with what was last wrong after [`PATIENCE`]; returns the last look's labels.
async fn settled(browser: &Browser, what: &str) -> Vec<Label> {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let look: Look = serde_json::from_value(browser.js(LOOK).await).unwrap();
        let faults = faults(&look);
        if faults.is_empty() {
            return look.labels;
        }
        if Instant::now() > deadline {
            browser.screenshot(&format!("glance-failed-{what}")).await;
            panic!("{what}: {faults:#?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn mock_fleets_of_6_60_and_500_label_every_problem_without_overlap() {
    require_bundle();
    let _turn = ONE_BROWSER_AT_A_TIME.lock().await;
    let (base, server) = pulseboard_tests::static_bundle().await;
    let browser = Browser::start(BrowserOptions::default()).await;
    for workers in [6, 60, 500] {
        // 25 s into the script video-render is down; larger fleets have scattered problems too.
        let url = format!("{base}/infra/?mock=25&hold&workers={workers}&view=3d&lang=en");
        browser.client.goto(&url).await.unwrap();
        let labels = settled(&browser, &format!("mock {workers}")).await;
        let down = labels.iter().find(|l| l.worker == "video-render").unwrap();
        assert!(down.text.contains("down"), "{down:?}");
        browser
            .screenshot(&format!("glance-mock-{workers}-3d"))
            .await;
    }
    // Folded hosts open on a click and show all their workers.
    let url = format!("{base}/infra/?mock=25&hold&workers=500&view=3d&lang=en");
    browser.client.goto(&url).await.unwrap();
    settled(&browser, "mock 500 again").await;
    let folded = browser
        .wait_js(
            "a folded host",
            "const h = document.querySelector('.host-label[data-host=\"gpu-03\"]');
             return h && Number(h.dataset.folded)",
        )
        .await;
    assert!(folded.as_u64().unwrap() > 30, "{folded}");
    browser
        .js("document.querySelector('.host-label[data-host=\"gpu-03\"]').click()")
        .await;
    browser
        .wait_js(
            "gpu-03 opened",
            "return document.querySelector('.host-label[data-host=\"gpu-03\"]').dataset.folded === '0'
                 && document.querySelectorAll('.node-label').length > 40",
        )
        .await;
    settled(&browser, "mock 500 with gpu-03 open").await;
    browser.screenshot("glance-mock-500-open").await;
    browser.close().await;
    server.abort();
}

/// `n` workers beating on `stack`'s Redis, a few of them in trouble: one in 50 unhealthy by its
/// own word, one in 70 with dead letters.
async fn fleet(stack: &Stack, n: usize) {
    let mut r = stack.conn().await;
    for i in 0..n {
        let name = format!("w-{i:04}");
        let mut hb = heartbeat(&name, "render", "idle");
        if i % 50 == 7 {
            hb.declared.phase = Some(Phase::Unhealthy);
            hb.declared.reason = Some("gpu lost".into());
        }
        beat(&mut r, &hb).await;
        if i % 70 == 3 {
            let _: () = r
                .rpush(format!("dead_letter:queue:{name}"), &["job"])
                .await
                .unwrap();
        }
    }
}

#[tokio::test]
async fn live_fleets_of_6_60_and_500_label_every_problem_without_overlap() {
    require_bundle();
    let _turn = ONE_BROWSER_AT_A_TIME.lock().await;
    let browser = Browser::start(BrowserOptions::default()).await;
    for n in [6, 60, 500] {
        let stack = Stack::start().await;
        fleet(&stack, n).await;
        let nodes = stack
            .wait_nodes("every worker found", |nodes| {
                nodes.workers.len() >= n && nodes.workers.iter().any(|w| w.dead_letter > 0)
            })
            .await;
        assert!(Summary::of(&nodes.workers).problems >= 1);
        let url = format!("{}/infra/?view=3d&lang=en", stack.base);
        browser.client.goto(&url).await.unwrap();
        settled(&browser, &format!("live {n}")).await;
        browser.screenshot(&format!("glance-live-{n}-3d")).await;
        stack.stop().await;
    }
    browser.close().await;
}

/// The rectangles' bottoms of the summary and of every worker card, and the screen's height.
const FIRST_SCREEN: &str = r#"
    const cards = [...document.querySelectorAll('.worker-card')];
    const summary = document.getElementById('summary');
    if (cards.length !== 6 || !summary) return null;
    return { bottoms: cards.map(c => c.getBoundingClientRect().bottom),
             summary: summary.getBoundingClientRect().bottom, height: innerHeight, width: innerWidth,
             scroll: scrollY };
"#;

#[tokio::test]
async fn on_a_phone_the_six_workers_and_the_summary_fit_the_first_screen() {
    require_bundle();
    let _turn = ONE_BROWSER_AT_A_TIME.lock().await;
    let (base, server) = pulseboard_tests::static_bundle().await;
    for lang in ["en", "ko"] {
        let browser = Browser::start(BrowserOptions {
            window: (390, 844),
            ..BrowserOptions::default()
        })
        .await;
        // The lifecycle act: every worker has something to say, the longest rows.
        let url = format!("{base}/infra/?mock=60&hold&lang={lang}");
        browser.client.goto(&url).await.unwrap();
        let seen = browser.wait_js("six cards on a phone", FIRST_SCREEN).await;
        let height = seen["height"].as_f64().unwrap();
        assert_eq!(
            (seen["width"].as_f64(), height),
            (Some(390.0), 844.0),
            "a phone's screen"
        );
        assert_eq!(seen["scroll"].as_f64(), Some(0.0));
        assert!(seen["summary"].as_f64().unwrap() <= height, "{seen}");
        for bottom in seen["bottoms"].as_array().unwrap() {
            assert!(
                bottom.as_f64().unwrap() <= height,
                "a card below the fold: {seen}"
            );
        }
        browser.screenshot(&format!("glance-phone-{lang}")).await;
        browser.close().await;
    }
    server.abort();
}

#[tokio::test]
async fn the_summary_filters_searches_and_groups_the_list() {
    require_bundle();
    let _turn = ONE_BROWSER_AT_A_TIME.lock().await;
    let (base, server) = pulseboard_tests::static_bundle().await;
    let browser = Browser::start(BrowserOptions::default()).await;
    browser
        .client
        .goto(&format!(
            "{base}/infra/?mock=25&hold&workers=60&view=2d&lang=en"
        ))
        .await
        .unwrap();
    browser
        .wait_js(
            "60 workers listed in rows",
            "const l = document.getElementById('fleet-list');
             return l && l.dataset.rows === '60' && l.querySelectorAll('.worker-row').length > 10",
        )
        .await;
    // Problems first: the first card is the down worker.
    let first = browser
        .js("return document.querySelector('main article[data-worker]').dataset.worker")
        .await;
    assert_eq!(first, "video-render");
    browser
        .js("document.querySelector('#summary .chip[data-condition=\"down\"]').click()")
        .await;
    let down = browser
        .wait_js(
            "only the down worker",
            "const c = [...document.querySelectorAll('main article[data-worker]')];
             return c.length === 1 && c[0].dataset.worker",
        )
        .await;
    assert_eq!(down, "video-render");
    browser
        .js("document.querySelector('#summary .chip[data-condition=\"all\"]').click()")
        .await;
    browser
        .js(
            "const s = document.getElementById('search'); s.value = 'RENDER-1';
             s.dispatchEvent(new Event('input', { bubbles: true }))",
        )
        .await;
    let found = browser
        .wait_js(
            "render-1x found",
            "const c = [...document.querySelectorAll('main article[data-worker]')].map(c => c.dataset.worker);
             return c.length === 10 && c",
        )
        .await;
    assert!(found
        .as_array()
        .unwrap()
        .iter()
        .all(|n| n.as_str().unwrap().starts_with("render-1")));
    browser
        .js("const s = document.getElementById('search'); s.value = '';
             s.dispatchEvent(new Event('input', { bubbles: true }));
             const g = document.getElementById('group'); g.value = 'host';
             g.dispatchEvent(new Event('change', { bubbles: true }))")
        .await;
    let headings = browser
        .wait_js(
            "grouped by host",
            "const h = [...document.querySelectorAll('.group-heading .group-name')].map(e => e.textContent);
             return h.length >= 2 && h",
        )
        .await;
    assert_eq!(
        headings[0], "Windows PC (GPU)",
        "the host with the down worker leads"
    );
    assert_eq!(headings[1], "gpu-01", "then the one with dead letters");
    browser.screenshot("glance-60-2d-by-host").await;
    browser.close().await;
    server.abort();
}

#[tokio::test]
async fn ten_thousand_workers_keep_the_2d_list_s_dom_small() {
    require_bundle();
    let _turn = ONE_BROWSER_AT_A_TIME.lock().await;
    let (base, server) = pulseboard_tests::static_bundle().await;
    let browser = Browser::start(BrowserOptions::default()).await;
    browser
        .client
        .goto(&format!(
            "{base}/infra/?mock=25&hold&workers=10000&view=2d&lang=en"
        ))
        .await
        .unwrap();
    let count = |at: &str| {
        format!(
            "const l = document.getElementById('fleet-list');
             if (!l || l.dataset.rows !== '10000') return null;
             {at}
             const rows = [...l.querySelectorAll('.worker-row')].map(r => r.dataset.status);
             return rows.length > 0 && {{ nodes: document.getElementsByTagName('*').length, rows }}"
        )
    };
    let top = browser.wait_js("10,000 rows listed", &count("")).await;
    let first: Vec<Value> = top["rows"].as_array().unwrap().clone();
    assert_eq!(first[0], "down", "problems first: {first:?}");
    let nodes = top["nodes"].as_u64().unwrap();
    assert!(nodes < 1500, "{nodes} DOM nodes for 10,000 workers");
    browser.screenshot("glance-10000-2d").await;
    // Scrolled to the middle, other rows, the same bound.
    let middle = browser
        .wait_js(
            "the middle of the list",
            &count(
                "l.scrollTop = l.scrollHeight / 2; l.dispatchEvent(new Event('scroll'));
                    if (l.querySelector('.worker-row[data-status=\"down\"]')) return null;",
            ),
        )
        .await;
    assert!(middle["nodes"].as_u64().unwrap() < 1500, "{middle}");
    let chip = browser
        .js("return document.querySelector('#summary .chip[data-condition=\"all\"] .count').textContent")
        .await;
    assert_eq!(chip, "10000");
    browser.close().await;
    server.abort();
}
