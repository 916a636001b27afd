//! Throughput over time against a real Redis and the real server: the decider writes a point a
//! step per worker and for the fleet (steps of 1 s here), and `GET /api/agent-office/history`
//! serves them oldest first; a restart of the server keeps them and counts on; garbage in a
//! series is skipped, bad asks are refused.

use pulseboard_shared::history::History;
use pulseboard_tests::{beat, heartbeat, Stack};
use redis::AsyncCommands;

/// `GET /api/agent-office/history?<query>`, which must answer 200.
async fn series(stack: &Stack, query: &str) -> History {
    let (status, body) = stack
        .get(&format!("/api/agent-office/history?{query}"))
        .await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_str::<History>(&body).unwrap()
}

#[tokio::test]
async fn each_step_counts_the_jobs_done_and_the_fleet_sums_them() {
    let stack = Stack::start_with(|c| c.history.step_s = 1).await;
    let mut r = stack.conn().await;
    // music-render does 5 jobs between each pair of beats, until 30 are counted.
    let mut done = 100;
    let deadline = tokio::time::Instant::now() + pulseboard_tests::PATIENCE;
    let counted = loop {
        let mut hb = heartbeat("music-render", "render", "busy");
        hb.jobs_done = done;
        beat(&mut r, &hb).await;
        let h = series(&stack, "worker=music-render&minutes=60").await;
        let total: u64 = h.points.iter().map(|p| p.done).sum();
        if total >= 30 {
            break h;
        }
        assert!(tokio::time::Instant::now() < deadline, "{h:?}");
        // Wait for a new snapshot to see this beat before the next one.
        let seen = stack.nodes().await.generated_at;
        stack
            .wait_nodes("a later snapshot", |n| n.generated_at != seen)
            .await;
        done += 5;
    };
    assert_eq!(counted.step_s, 1);
    assert!(
        counted.points.windows(2).all(|w| w[0].t < w[1].t),
        "oldest first"
    );
    let fleet = series(&stack, "minutes=60").await;
    assert_eq!(fleet.worker, None);
    let fleet_done: u64 = fleet.points.iter().map(|p| p.done).sum();
    assert!(fleet_done >= 30, "{fleet:?}");
    // The other workers never beat: down the whole time.
    assert!(fleet.points.iter().any(|p| p.down_s > 0), "{fleet:?}");

    // A restart keeps the series (they are in Redis) and counts on from there: a beat with the
    // same counter after it is no new work, whatever the counter says.
    let before = counted.points.len();
    let stack = stack.restart(|c| c.history.step_s = 1).await;
    let total_before: u64 = counted.points.iter().map(|p| p.done).sum();
    let deadline = tokio::time::Instant::now() + pulseboard_tests::PATIENCE;
    let after = loop {
        let mut hb = heartbeat("music-render", "render", "busy");
        hb.jobs_done = done;
        beat(&mut r, &hb).await;
        let h = series(&stack, "worker=music-render&minutes=60").await;
        if h.points.len() >= before + 2 {
            break h;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no new points after the restart: {h:?}"
        );
        let seen = stack.nodes().await.generated_at;
        stack
            .wait_nodes("a later snapshot", |n| n.generated_at != seen)
            .await;
    };
    let total_after: u64 = after.points.iter().map(|p| p.done).sum();
    assert!(
        total_after >= total_before && total_after <= total_before + 5,
        "the restart neither lost the series nor counted the counter again: {total_before} -> {total_after}"
    );

    // Garbage in a series is not a point; bad asks are refused.
    let key = "pulseboard:alerts:history:m:w:music-render";
    let _: () = r.lpush(key, "x".repeat(10_000)).await.unwrap();
    let with_junk = series(&stack, "worker=music-render&minutes=5").await;
    assert!(with_junk.points.len() <= 4, "{with_junk:?}");
    for (query, status) in [
        ("minutes=1&hours=1", 400),
        ("minutes=0", 400),
        ("minutes=100000", 400),
        ("worker=nobody", 404),
    ] {
        let (got, body) = stack
            .get(&format!("/api/agent-office/history?{query}"))
            .await;
        assert_eq!(got, status, "{query}: {body}");
    }
    stack.stop().await;
}

/// The page's throughput strip under the summary draws the fleet's series and says what it
/// counts, in the page's language; a worker's panel draws its own, over the range its buttons
/// choose. Screenshots: `throughput-{desktop,panel-desktop,phone}`.
#[tokio::test]
async fn the_page_draws_the_fleet_s_throughput_under_the_summary() {
    use pulseboard_tests::browser::{Browser, BrowserOptions};
    assert!(
        pulseboard_tests::dist_dir().join("index.html").is_file(),
        "the dashboard bundle is not built: run `bash scripts/build-dashboard.sh` first"
    );
    let stack = Stack::start_with(|c| c.history.step_s = 1).await;
    let mut r = stack.conn().await;
    // Jobs done between beats, until the fleet's series has counted some over several points.
    let mut done = 100;
    let deadline = tokio::time::Instant::now() + pulseboard_tests::PATIENCE;
    loop {
        let mut hb = heartbeat("music-render", "render", "busy");
        hb.jobs_done = done;
        beat(&mut r, &hb).await;
        let fleet = series(&stack, "minutes=60").await;
        let counted: u64 = fleet.points.iter().map(|p| p.done).sum();
        if counted >= 10 && fleet.points.len() >= 3 {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{fleet:?}");
        let seen = stack.nodes().await.generated_at;
        stack
            .wait_nodes("a later snapshot", |n| n.generated_at != seen)
            .await;
        done += 5;
    }

    let browser = Browser::start(BrowserOptions::default()).await;
    for (lang, words) in [
        ("en", r"^last 1 min: (\d+) done · \d+ failed$"),
        ("ko", r"^최근 1분: 완료 (\d+) · 실패 \d+$"),
    ] {
        let url = format!("{}/infra/?view=2d&lang={lang}", stack.base);
        browser.client.goto(&url).await.unwrap();
        let script = format!(
            "const c = document.querySelector('#throughput figcaption')?.textContent ?? '';
             const m = c.match(/{words}/);
             const line = document.querySelector('#throughput polyline.done')?.getAttribute('points') ?? '';
             const svg = document.querySelector('#throughput svg');
             const wide = svg && svg.getBoundingClientRect().width > innerWidth / 2;
             return m && wide ? [Number(m[1]), line.split(' ').length] : null;"
        );
        let found = browser.wait_js("the throughput strip", &script).await;
        let (counted, drawn): (u64, usize) = serde_json::from_value(found).unwrap();
        assert!(counted >= 10, "{lang}: {counted} done");
        assert!(drawn >= 3, "{lang}: a point per step drawn, {drawn}");
    }
    browser.screenshot("throughput-desktop").await;

    // The worker's panel draws its own series; 24 h has no hourly point yet, and says so.
    let click = |css: &'static str| {
        let client = browser.client.clone();
        async move {
            let found = client.find(fantoccini::Locator::Css(css)).await;
            found
                .unwrap_or_else(|e| panic!("{css}: {e}"))
                .click()
                .await
                .unwrap();
        }
    };
    click(".worker-card[data-worker=\"music-render\"]").await;
    browser
        .wait_js(
            "the worker's chart",
            "const c = document.querySelector('#detail .worker-throughput figcaption')?.textContent ?? '';
             return /^최근 1분: 완료 \\d+ · 실패 \\d+$/.test(c) ? c : null;",
        )
        .await;
    browser.screenshot("throughput-panel-desktop").await;
    click("#detail .worker-throughput .ranges button:nth-child(2)").await;
    browser
        .wait_js(
            "24 h, nothing yet",
            "const s = document.querySelector('#detail .worker-throughput');
             return s?.querySelector('button[aria-pressed=true]')?.textContent === '24시간'
                 && !s.querySelector('figure') && s.querySelector('.hint')?.textContent === '아직 기록이 없습니다' || null;",
        )
        .await;
    click("#detail .worker-throughput .ranges button:nth-child(1)").await;
    browser.client.set_window_size(390, 844).await.unwrap();
    browser
        .wait_js(
            "the hour again",
            "return !!document.querySelector('#detail .worker-throughput figure') || null",
        )
        .await;
    browser.screenshot("throughput-phone").await;
    browser.close().await;
    stack.stop().await;
}
