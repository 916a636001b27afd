//! The /infra dashboard in real headless Chromium: the 3D scene (WebGL2 through SwiftShader)
//! read back in pixels, the 2D fallback, the phone default and the toggle, mock mode with no
//! server, and the bundle's size budget (the timings are an example: `dashboard_figures`).
//!
//! Browser tests here take turns (one Chromium at a time): software GL on two cores is slow
//! enough without four of them competing. Screenshots land in `target/screenshots/`.

use std::io::Cursor;
use std::time::{Duration, Instant};

use pulseboard_server::config::Config;
use pulseboard_shared::{state_label, Lang, LinkStatus};
use pulseboard_tests::browser::{Browser, BrowserOptions};
use pulseboard_tests::{beat, dist_dir, heartbeat, Stack, PATIENCE};
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::Mutex;

static ONE_BROWSER_AT_A_TIME: Mutex<()> = Mutex::const_new(());

fn require_bundle() {
    assert!(
        dist_dir().join("index.html").is_file(),
        "the dashboard bundle is not built in {}: run `bash scripts/build-dashboard.sh` first",
        dist_dir().display()
    );
}

/// Runs `script` in the page.
async fn js(browser: &Browser, script: &str) -> Value {
    browser.js(script).await
}

/// Runs `script` until it returns something (see [`Browser::wait_js`]).
async fn wait_js(browser: &Browser, what: &str, script: &str) -> Value {
    browser.wait_js(what, script).await
}

/// What a 3D label says about a worker: `[status, state label, probe "x,y"]`.
const LABEL: &str = r#"
    const el = document.querySelector(`.node-label[data-worker="${arguments[0]}"]`);
    if (!el) return null;
    return [el.dataset.status, el.querySelector('.state-label').textContent.trim(), el.dataset.probe || ''];
"#;

async fn label(browser: &Browser, worker: &str) -> Option<(String, String, String)> {
    let value = browser
        .client
        .execute(LABEL, vec![Value::from(worker)])
        .await
        .unwrap();
    let v = value.as_array()?;
    let s = |i: usize| v[i].as_str().unwrap_or_default().to_owned();
    Some((s(0), s(1), s(2)))
}

/// A decoded screenshot.
struct Picture {
    width: usize,
    height: usize,
    channels: usize,
    data: Vec<u8>,
}

impl Picture {
    async fn take(browser: &Browser, name: &str) -> Self {
        let path = browser.screenshot(name).await;
        let bytes = std::fs::read(&path).unwrap();
        let mut reader = png::Decoder::new(Cursor::new(bytes)).read_info().unwrap();
        let mut data = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut data).unwrap();
        assert_eq!(info.bit_depth, png::BitDepth::Eight);
        Self {
            width: info.width as usize,
            height: info.height as usize,
            channels: info.color_type.samples(),
            data,
        }
    }

    fn pixel(&self, x: usize, y: usize) -> [u8; 3] {
        let i = (y * self.width + x) * self.channels;
        [self.data[i], self.data[i + 1], self.data[i + 2]]
    }

    /// Pixels within `reach` of `(x, y)` closer to `hex` than `tolerance` (sum of channel gaps).
    fn count_near(&self, (x, y): (f64, f64), reach: i64, hex: &str, tolerance: i32) -> usize {
        let want = rgb(hex);
        let mut count = 0;
        for dy in -reach..=reach {
            for dx in -reach..=reach {
                let (px, py) = (x as i64 + dx, y as i64 + dy);
                if px < 0 || py < 0 || px >= self.width as i64 || py >= self.height as i64 {
                    continue;
                }
                let got = self.pixel(px as usize, py as usize);
                let gap: i32 = (0..3)
                    .map(|c| (i32::from(got[c]) - i32::from(want[c])).abs())
                    .sum();
                if gap <= tolerance {
                    count += 1;
                }
            }
        }
        count
    }
}

fn rgb(hex: &str) -> [u8; 3] {
    let byte = |i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap();
    [byte(1), byte(3), byte(5)]
}

/// A probe's position in the screenshot (device pixels): the canvas's offset plus the probe.
async fn probe_on_screen(browser: &Browser, probe: &str) -> (f64, f64) {
    let rect = js(
        browser,
        "const r = document.getElementById('scene-canvas').getBoundingClientRect(); \
         return [r.left, r.top, window.devicePixelRatio];",
    )
    .await;
    let f = |i: usize| rect[i].as_f64().unwrap();
    let (x, y) = probe.split_once(',').unwrap();
    let (x, y): (f64, f64) = (x.parse().unwrap(), y.parse().unwrap());
    ((f(0) + x) * f(2), (f(1) + y) * f(2))
}

#[tokio::test]
async fn the_3d_scene_draws_healthy_green_and_down_red_and_shows_redis_lost() {
    require_bundle();
    let _turn = ONE_BROWSER_AT_A_TIME.lock().await;
    // Two render workers: one beating (healthy), one never seen (down).
    let mut stack = Stack::start_with(|c: &mut Config| {
        c.topology
            .workers
            .retain(|w| w.name == "music-render" || w.name == "video-render");
    })
    .await;
    let mut r = stack.conn().await;
    // Chromium first: a cold start can outlast a beat's freshness (late is amber, not green).
    let browser = Browser::start(BrowserOptions::default()).await;
    beat(&mut r, &heartbeat("music-render", "render", "idle")).await;
    let nodes = stack
        .wait_nodes("music alive, video down", |n| {
            n.workers.len() == 2 && n.workers.iter().filter(|w| w.alive).count() == 1
        })
        .await;
    browser
        .client
        .goto(&format!("{}/infra/", stack.base))
        .await
        .unwrap();
    wait_js(
        &browser,
        "the first frame with data",
        "return document.querySelector('#scene-canvas[data-drawn]') !== null",
    )
    .await;
    let lang = Lang::from_tag(
        js(&browser, "return navigator.language")
            .await
            .as_str()
            .unwrap(),
    );
    let want = |name: &str| {
        let w = nodes.workers.iter().find(|w| w.name == name).unwrap();
        (pulseboard_shared::link_status(w), state_label(w, lang))
    };
    assert_eq!(want("music-render").0, LinkStatus::Healthy);
    assert_eq!(want("video-render").0, LinkStatus::Down);

    let mut probes = vec![];
    for name in ["music-render", "video-render"] {
        let deadline = Instant::now() + PATIENCE;
        let (status, text, probe) = loop {
            if let Some(seen) = label(&browser, name).await {
                if !seen.2.is_empty() {
                    break seen;
                }
            }
            assert!(Instant::now() < deadline, "no placed label for {name}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        let (status_want, text_want) = want(name);
        assert_eq!(status, status_want.as_str(), "{name}'s label status");
        assert_eq!(text, text_want, "{name}'s label text");
        probes.push((name, status_want, probe_on_screen(&browser, &probe).await));
    }
    // The down worker's label says how long ago it beat, and its link carries a warning mark.
    let down_extra = js(
        &browser,
        "return [document.querySelector('.node-label[data-worker=\"video-render\"] .last-beat')?.textContent ?? '', \
                 document.querySelector('.link-mark[data-anchor=\"m:video-render\"]')?.dataset.kind ?? '']",
    )
    .await;
    assert_eq!(down_extra[1], "down");
    let last_beat = down_extra[0].as_str().unwrap();
    assert!(
        last_beat.contains("신호") || last_beat.contains("never") || last_beat.contains("beat"),
        "{last_beat}"
    );

    // Pixels: the healthy link is green where its probe is, the down link red, and not the other way.
    // The probes are read again after the screenshot: the canvas may still be resized (a panel or
    // a scrollbar arriving), and a probe from before that points at the wrong pixels.
    // The labels float over the canvas and, at some canvas sizes (the alert timeline below it
    // grows), one covers another link's probe: the picture is of the GL scene alone.
    js(
        &browser,
        "document.querySelector('.scene .overlay').style.visibility = 'hidden'",
    )
    .await;
    let deadline = Instant::now() + PATIENCE;
    let picture = loop {
        let picture = Picture::take(&browser, "dashboard-3d").await;
        let mut now = vec![];
        for (name, status, _) in &probes {
            let probe = label(&browser, name).await.unwrap_or_default().2;
            let at = match probe.is_empty() {
                true => (f64::NAN, f64::NAN), // never equal: look again
                false => probe_on_screen(&browser, &probe).await,
            };
            now.push((*name, *status, at));
        }
        if now == probes {
            break picture;
        }
        assert!(Instant::now() < deadline, "the scene never held still");
        probes = now;
    };
    for (name, status, at) in &probes {
        let (mine, other) = match status {
            LinkStatus::Healthy => (LinkStatus::Healthy, LinkStatus::Down),
            _ => (LinkStatus::Down, LinkStatus::Healthy),
        };
        let hits = picture.count_near(*at, 5, mine.colour(), 60);
        let wrong = picture.count_near(*at, 5, other.colour(), 60);
        eprintln!(
            "{name}: {hits} pixels of {} near {at:?}, {wrong} of {}",
            mine.colour(),
            other.colour()
        );
        assert!(
            hits >= 4,
            "{name}'s link is not {} at {at:?}",
            mine.colour()
        );
        assert!(
            wrong * 4 < hits,
            "{name}'s link shows {} at {at:?}",
            other.colour()
        );
    }

    js(
        &browser,
        "document.querySelector('.scene .overlay').style.visibility = ''",
    )
    .await;
    // Clicking a label opens the detail panel with every field.
    browser
        .click(".node-label[data-worker=\"video-render\"]")
        .await;
    let fields = wait_js(
        &browser,
        "the detail panel",
        "return document.querySelectorAll('#detail[data-worker=\"video-render\"] dd').length",
    )
    .await;
    assert!(fields.as_u64().unwrap() >= 15, "{fields}");
    browser.screenshot("dashboard-3d-detail").await;

    // The language switch relabels in place.
    let other = match lang {
        Lang::Ko => Lang::En,
        Lang::En => Lang::Ko,
    };
    browser.click("#lang-toggle").await;
    let want_text = want("video-render").1;
    let relabelled = state_label(
        nodes
            .workers
            .iter()
            .find(|w| w.name == "video-render")
            .unwrap(),
        other,
    );
    assert_ne!(want_text, relabelled);
    let deadline = Instant::now() + PATIENCE;
    while label(&browser, "video-render").await.unwrap().1 != relabelled {
        assert!(
            Instant::now() < deadline,
            "the labels were not switched to {other:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Redis lost: the overlay says so over the scene.
    stack.redis.stop().await;
    let text = wait_js(
        &browser,
        "the Redis-lost overlay",
        "return document.getElementById('redis-lost')?.textContent ?? ''",
    )
    .await;
    assert!(
        text.as_str().unwrap().contains("aggregator lost Redis"),
        "{text}"
    );
    assert!(
        text.as_str().unwrap().contains("집계 서버 연결 끊김"),
        "{text}"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    browser.screenshot("dashboard-3d-redis-lost").await;
    browser.close().await;
    stack.redis.stop().await;
    stack.stop().await;
}

#[tokio::test]
async fn without_webgl_the_cards_appear_by_themselves_with_a_note() {
    require_bundle();
    let _turn = ONE_BROWSER_AT_A_TIME.lock().await;
    let stack = Stack::start().await;
    let browser = Browser::start(BrowserOptions {
        extra_args: vec!["--disable-webgl".into()],
        ..BrowserOptions::default()
    })
    .await;
    browser
        .client
        .goto(&format!("{}/infra/?view=3d", stack.base))
        .await
        .unwrap();
    let cards = wait_js(
        &browser,
        "the card grid",
        "return document.querySelectorAll('.worker-card').length",
    )
    .await;
    assert_eq!(cards.as_u64(), Some(6));
    let note = js(
        &browser,
        "return document.getElementById('view-note')?.textContent ?? ''",
    )
    .await;
    assert!(note.as_str().unwrap().contains("WebGL2"), "{note}");
    assert_eq!(
        js(
            &browser,
            "return document.querySelector('.app').dataset.view"
        )
        .await,
        "2d"
    );
    assert_eq!(
        js(&browser, "return document.getElementById('scene-canvas')").await,
        Value::Null
    );
    browser.screenshot("dashboard-no-webgl").await;

    // Where SSE is unavailable the page polls /nodes (`?poll` forces that path here).
    browser
        .client
        .goto(&format!("{}/infra/?poll", stack.base))
        .await
        .unwrap();
    wait_js(
        &browser,
        "cards fed by polling",
        "return document.getElementById('connection')?.dataset.state === 'polling' \
             && document.querySelectorAll('.worker-card').length === 6",
    )
    .await;
    browser.close().await;
    stack.stop().await;
}

#[tokio::test]
async fn a_phone_gets_cards_and_the_toggle_goes_both_ways_and_is_remembered() {
    require_bundle();
    let _turn = ONE_BROWSER_AT_A_TIME.lock().await;
    let stack = Stack::start().await;
    let browser = Browser::start(BrowserOptions {
        window: (390, 844),
        ..BrowserOptions::default()
    })
    .await;
    let page = format!("{}/infra/", stack.base);
    browser.client.goto(&page).await.unwrap();
    let view = "return document.querySelector('.app')?.dataset.view ?? ''";
    let cards = wait_js(
        &browser,
        "cards on a phone",
        "return document.querySelectorAll('.worker-card').length",
    )
    .await;
    assert_eq!(cards.as_u64(), Some(6));
    assert_eq!(js(&browser, view).await, "2d");
    assert_eq!(
        js(&browser, "return document.getElementById('view-note')").await,
        Value::Null,
        "a phone's default is not a failure"
    );
    browser.screenshot("dashboard-phone-2d").await;

    let toggle = || browser.click("#view-toggle");
    toggle().await;
    wait_js(
        &browser,
        "3D after the toggle",
        "return document.querySelector('#scene-canvas[data-drawn]') !== null",
    )
    .await;
    assert_eq!(js(&browser, view).await, "3d");
    assert_eq!(
        js(
            &browser,
            "return document.querySelectorAll('.worker-card').length"
        )
        .await,
        0
    );
    browser.screenshot("dashboard-phone-3d").await;

    // The choice survives a reload.
    browser.client.goto(&page).await.unwrap();
    wait_js(
        &browser,
        "3D remembered",
        "return document.querySelector('#scene-canvas[data-drawn]') !== null",
    )
    .await;
    toggle().await;
    wait_js(
        &browser,
        "cards after the second toggle",
        "return document.querySelectorAll('.worker-card').length === 6",
    )
    .await;
    assert_eq!(js(&browser, view).await, "2d");
    assert_eq!(
        js(&browser, "return document.getElementById('scene-canvas')").await,
        Value::Null,
        "the canvas is gone with the 3D view"
    );

    // The server goes away: the page says it is reconnecting and how old its data is.
    stack.stop().await;
    let state = wait_js(
        &browser,
        "the reconnecting indicator",
        "const c = document.getElementById('connection'); \
         return c.dataset.state === 'reconnecting' ? c.textContent : ''",
    )
    .await;
    let state = state.as_str().unwrap();
    assert!(
        state.contains("마지막 갱신") || state.contains("last update"),
        "{state}"
    );
    browser.screenshot("dashboard-phone-reconnecting").await;
    browser.close().await;
}

#[tokio::test]
async fn mock_mode_runs_in_the_page_with_no_server_behind_it() {
    require_bundle();
    let _turn = ONE_BROWSER_AT_A_TIME.lock().await;
    let (base, server) = pulseboard_tests::static_bundle().await;
    let (status, _) = {
        let r = reqwest::get(format!("{base}/api/agent-office/nodes"))
            .await
            .unwrap();
        (r.status().as_u16(), ())
    };
    assert_eq!(status, 404, "the stand-in serves no API");
    let browser = Browser::start(BrowserOptions::default()).await;
    // 25 s into the script: video-render is down.
    browser
        .client
        .goto(&format!("{base}/infra/?mock=25"))
        .await
        .unwrap();
    wait_js(
        &browser,
        "the mock fleet drawn",
        "return document.querySelector('#scene-canvas[data-drawn]') !== null",
    )
    .await;
    assert_eq!(
        js(
            &browser,
            "return document.getElementById('connection').dataset.state"
        )
        .await,
        "mock"
    );
    let down = wait_js(
        &browser,
        "video-render down in the script",
        "return document.querySelector('.node-label[data-worker=\"video-render\"][data-status=\"down\"]') !== null",
    )
    .await;
    assert_eq!(down, true);
    browser.screenshot("dashboard-mock-down").await;
    // 44 s in: Redis lost.
    browser
        .client
        .goto(&format!("{base}/infra/?mock=44&lang=en"))
        .await
        .unwrap();
    wait_js(
        &browser,
        "the mock's Redis-lost act",
        "return document.getElementById('redis-lost') !== null",
    )
    .await;
    browser.screenshot("dashboard-mock-redis-lost").await;
    browser.close().await;
    server.abort();
}

#[tokio::test]
async fn with_reduced_motion_the_scene_stands_still() {
    require_bundle();
    let _turn = ONE_BROWSER_AT_A_TIME.lock().await;
    let (base, server) = pulseboard_tests::static_bundle().await;
    let browser = Browser::start(BrowserOptions {
        extra_args: vec!["--force-prefers-reduced-motion".into()],
        ..BrowserOptions::default()
    })
    .await;
    // 1 s into the script: eight seconds of the healthy act, where only ages change.
    browser
        .client
        .goto(&format!("{base}/infra/?mock=1"))
        .await
        .unwrap();
    wait_js(
        &browser,
        "the first frame",
        "return document.querySelector('#scene-canvas[data-drawn]') !== null",
    )
    .await;
    assert_eq!(
        js(
            &browser,
            "return document.querySelector('.scene').dataset.motion"
        )
        .await,
        "reduced"
    );
    let frames = "return window.pulseboardStats.frames";
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = js(&browser, frames).await.as_u64().unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let after = js(&browser, frames).await.as_u64().unwrap();
    assert!(
        after - before <= 2,
        "the scene kept redrawing: {before} -> {after} frames"
    );
    browser.close().await;
    server.abort();
}

#[tokio::test]
async fn serve_mock_serves_the_same_script_without_redis() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, rx) = pulseboard_server::shutdown::channel();
    let config = Config {
        // Nothing listens here: mock mode must not try.
        redis_url: "redis://127.0.0.1:1".into(),
        ..Config::default()
    };
    let server = tokio::spawn(pulseboard_server::mock::serve(config, listener, rx));
    let deadline = Instant::now() + PATIENCE;
    let nodes: pulseboard_shared::Nodes = loop {
        let body = reqwest::get(format!("{base}/api/agent-office/nodes"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let nodes: pulseboard_shared::Nodes = serde_json::from_str(&body).unwrap();
        if !nodes.workers.is_empty() {
            break nodes;
        }
        assert!(Instant::now() < deadline, "no mock snapshot");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let script = pulseboard_shared::mock::mock_nodes(0);
    let names =
        |n: &pulseboard_shared::Nodes| n.workers.iter().map(|w| w.name.clone()).collect::<Vec<_>>();
    assert_eq!(names(&nodes), names(&script));
    assert!(nodes.redis_ok);
    stop.stop();
    server.await.unwrap().unwrap();
}

/// The bundle a visit downloads stays within its budget (the timings are printed by
/// `cargo run --release -p pulseboard-tests --example dashboard_figures`).
#[test]
fn the_bundle_fits_its_budget() {
    require_bundle();
    let (wasm, js) = pulseboard_tests::bundle_gzip_sizes();
    eprintln!(
        "bundle gzip: wasm {:.1} KB + js {:.1} KB (budget 400 KB)",
        wasm as f64 / 1024.0,
        js as f64 / 1024.0
    );
    assert!(wasm > 0 && js > 0, "no wasm or JS in the bundle");
    assert!(wasm + js <= 400 * 1024, "over the bundle budget");
}

/// The mock's lifecycle act, in both views and both languages: a clean stop is grey and says
/// "stopped ... ago" (never red, never "down"), a late worker shows its clock, a stalled one its
/// job; the 3D labels say the same.
#[tokio::test]
async fn lifecycle_states_are_shown_in_words_and_a_clean_stop_is_not_red() {
    require_bundle();
    let _turn = ONE_BROWSER_AT_A_TIME.lock().await;
    let (base, server) = pulseboard_tests::static_bundle().await;
    let browser = Browser::start(BrowserOptions::default()).await;
    const CARD: &str = r#"
        const el = document.querySelector(`.worker-card[data-worker="${arguments[0]}"]`);
        if (!el) return null;
        return [el.dataset.lifecycle, el.dataset.status, getComputedStyle(el).borderTopColor,
                el.querySelector('.state-label').textContent.trim(),
                el.querySelector('.lifecycle-note')?.textContent.trim() ?? ''];
    "#;
    let card = async |name: &str| -> Vec<String> {
        let v = browser
            .client
            .execute(CARD, vec![Value::from(name)])
            .await
            .unwrap();
        serde_json::from_value(v).unwrap_or_default()
    };
    // 57 s into the script: the lifecycle act's first second.
    for lang in ["en", "ko"] {
        browser
            .client
            .goto(&format!("{base}/infra/?mock=57&view=2d&lang={lang}"))
            .await
            .unwrap();
        wait_js(
            &browser,
            "the lifecycle act on the cards",
            "return document.querySelector('.worker-card[data-lifecycle=\"stopped\"]') !== null",
        )
        .await;
        let stopped = card("video-render").await;
        assert_eq!(&stopped[..2], ["stopped", "paused"], "{stopped:?}");
        assert_ne!(stopped[2], "rgb(239, 68, 68)", "a clean stop is not red");
        let (label, note) = match lang {
            "en" => ("⏹ stopped", "stopped 2 min ago"),
            _ => ("⏹ 정지됨", "정상 종료 2분 전"),
        };
        assert_eq!((stopped[3].as_str(), stopped[4].as_str()), (label, note));
        let late = card("image-render").await;
        assert_eq!(late[0], "late");
        assert!(late[4].starts_with("⏰ 2"), "{late:?}");
        let stalled = card("insta-render").await;
        assert_eq!(stalled[0], "stalled");
        assert!(stalled[4].contains("render-4711"), "{stalled:?}");
        browser
            .screenshot(&format!("dashboard-lifecycle-cards-{lang}"))
            .await;
    }
    browser
        .client
        .goto(&format!("{base}/infra/?mock=57&view=3d&lang=en"))
        .await
        .unwrap();
    let stopped = wait_js(
        &browser,
        "the lifecycle act in 3D",
        "return document.querySelector('.node-label[data-worker=\"video-render\"][data-lifecycle=\"stopped\"] .lifecycle-note')?.textContent ?? ''",
    )
    .await;
    assert_eq!(stopped, "stopped 2 min ago");
    browser.screenshot("dashboard-lifecycle-3d").await;
    browser.close().await;
    server.abort();
}
