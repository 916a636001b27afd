//! The dashboard's figures for a closing note, in real headless Chromium: the bundle's size, the
//! time from navigation to the first drawn 3D frame against the real server, and frame times at
//! 6, 60 and 500 workers (mock mode, `?bench`: each frame waits for the GPU). Prints them;
//! asserts nothing about time.
//!
//! ```text
//! scripts/build-dashboard.sh
//! cargo run --release -p pulseboard-tests --example dashboard_figures
//! ```
//! SwiftShader renders in software here: compare the figures with each other, not with a GPU.

use std::time::{Duration, Instant};

use pulseboard_tests::browser::{Browser, BrowserOptions};
use pulseboard_tests::{beat, bundle_gzip_sizes, dist_dir, heartbeat, Stack};

#[tokio::main]
async fn main() {
    assert!(
        dist_dir().join("index.html").is_file(),
        "build the bundle first: scripts/build-dashboard.sh"
    );
    let (wasm, js) = bundle_gzip_sizes();
    println!(
        "bundle gzip: wasm {:.1} KB + js {:.1} KB = {:.1} KB (budget 400 KB)",
        wasm as f64 / 1024.0,
        js as f64 / 1024.0,
        (wasm + js) as f64 / 1024.0
    );

    let stack = Stack::start().await;
    let mut r = stack.conn().await;
    for (name, kind, state) in [
        ("music-render", "render", "busy"),
        ("video-render", "render", "idle"),
        ("image-render", "render", "idle"),
        ("insta-render", "render", "idle"),
        ("task-watcher", "watcher", "free"),
        ("ai_trade", "trader", "market_open"),
    ] {
        beat(&mut r, &heartbeat(name, kind, state)).await;
    }
    stack
        .wait_nodes("six alive", |n| n.workers.iter().all(|w| w.alive))
        .await;
    let browser = Browser::start(BrowserOptions::default()).await;
    let mut first = vec![];
    for _ in 0..3 {
        browser
            .client
            .goto(&format!("{}/infra/", stack.base))
            .await
            .unwrap();
        let ms = browser
            .wait_js("the first frame", "return window.pulseboardFirstFrameMs")
            .await;
        first.push(ms.as_f64().unwrap());
    }
    println!("navigation to first drawn frame (loopback, real server): {first:.0?} ms");
    browser.screenshot("dashboard-figures-6").await;

    for workers in [6, 60, 500] {
        browser
            .client
            .goto(&format!(
                "{}/infra/?mock&bench&workers={workers}",
                stack.base
            ))
            .await
            .unwrap();
        // Software GL is slow: give a big scene the time it needs, then measure a window of
        // frames after the warm-up.
        let deadline = Instant::now() + Duration::from_secs(120);
        let stats = "return window.pulseboardStats ?? null";
        let start = loop {
            let s = browser.js(stats).await;
            if s["frames"].as_f64().unwrap_or(0.0) >= 5.0 {
                break s;
            }
            assert!(
                Instant::now() < deadline,
                "no frames drawn for {workers} workers"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        tokio::time::sleep(Duration::from_secs(6)).await;
        let end = browser.js(stats).await;
        let delta = |k: &str| end[k].as_f64().unwrap() - start[k].as_f64().unwrap();
        let frames = delta("frames").max(1.0);
        println!(
            "{workers} workers, headless Chromium (SwiftShader, 1280x800): \
             {:.1} ms/frame submitting + GPU (readPixels sync), of which {:.2} ms CPU; \
             rAF interval {:.1} ms; {frames} frames measured",
            delta("drawMsTotal") / frames,
            delta("cpuMsTotal") / frames,
            delta("intervalMsTotal") / delta("intervals").max(1.0),
        );
        browser
            .screenshot(&format!("dashboard-figures-mock-{workers}"))
            .await;
    }
    browser.close().await;
    stack.stop().await;
}
