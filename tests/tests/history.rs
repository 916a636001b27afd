//! Throughput over time against a real Redis and the real server: the decider writes a point a
//! step per worker and for the fleet (steps of 1 s here), and `GET /api/agent-office/history`
//! serves them oldest first, and several workers' last hour at once for the sparklines; a restart of the server keeps them and counts on; garbage in a
//! series is skipped, bad asks are refused.

use pulseboard_shared::history::{History, Sparklines};
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

/// Beats `music-render` with `jobs_done = *done`, one beat a snapshot, adding `more` jobs
/// between beats, until the series at `query` is `enough`: that series (`done` is left at the
/// last beat's counter).
async fn beat_until(
    stack: &Stack,
    r: &mut redis::aio::MultiplexedConnection,
    (done, more): (&mut u64, u64),
    query: &str,
    enough: impl Fn(&History) -> bool,
) -> History {
    let deadline = tokio::time::Instant::now() + pulseboard_tests::PATIENCE;
    loop {
        let mut hb = heartbeat("music-render", "render", "busy");
        hb.jobs_done = *done;
        beat(r, &hb).await;
        let h = series(stack, query).await;
        if enough(&h) {
            return h;
        }
        assert!(tokio::time::Instant::now() < deadline, "{query}: {h:?}");
        // Wait for a new snapshot to see this beat before the next one.
        let seen = stack.nodes().await.generated_at;
        stack
            .wait_nodes("a later snapshot", |n| n.generated_at != seen)
            .await;
        *done += more;
    }
}

/// The jobs done over a series' points.
fn done(h: &History) -> u64 {
    h.points.iter().map(|p| p.done).sum()
}

#[tokio::test]
async fn each_step_counts_the_jobs_done_and_the_fleet_sums_them() {
    let stack = Stack::start_with(|c| c.history.step_s = 1).await;
    let mut r = stack.conn().await;
    // music-render does 5 jobs between each pair of beats, until 30 are counted.
    let mut jobs = 100;
    let worker = "worker=music-render&minutes=60";
    let counted = beat_until(&stack, &mut r, (&mut jobs, 5), worker, |h| done(h) >= 30).await;
    assert_eq!(counted.step_s, 1);
    assert!(
        counted.points.windows(2).all(|w| w[0].t < w[1].t),
        "oldest first"
    );
    let fleet = series(&stack, "minutes=60").await;
    assert_eq!(fleet.worker, None);
    assert!(done(&fleet) >= 30, "{fleet:?}");
    // The other workers never beat: down the whole time.
    assert!(fleet.points.iter().any(|p| p.down_s > 0), "{fleet:?}");

    // The cards' sparklines: several workers in one ask, on one grid, the same numbers as each
    // worker's own series, in the order asked; a worker not in the fleet is left out.
    let (status, body) = stack
        .get("/api/agent-office/history/sparklines?workers=nobody+music-render+video-render")
        .await;
    assert_eq!(status, 200, "{body}");
    let lines: Sparklines = serde_json::from_str(&body).unwrap();
    let own = series(&stack, worker).await;
    let names: Vec<&str> = lines.workers.iter().map(|l| l.worker.as_str()).collect();
    assert_eq!(names, ["music-render", "video-render"], "{lines:?}");
    let line = &lines.workers[0];
    assert_eq!(
        (line.worker.as_str(), line.done.len()),
        ("music-render", 60)
    );
    let at = |i: usize| lines.since + i as u64 * lines.step_s;
    for (i, done) in line.done.iter().enumerate() {
        let point = own.points.iter().find(|p| p.t == at(i));
        assert_eq!(*done, point.map(|p| p.done), "slot {i}: {lines:?} {own:?}");
    }
    assert!(
        line.done.last().unwrap().is_some(),
        "the grid ends at its newest point"
    );
    let many = vec!["music-render"; 101].join("+");
    for query in [
        "workers=",
        "workers=+",
        &format!("workers={many}"),
        "workers=music-render&minutes=0",
    ] {
        let (got, body) = stack
            .get(&format!("/api/agent-office/history/sparklines?{query}"))
            .await;
        assert_eq!(got, 400, "{query}: {body}");
    }

    // A restart keeps the series (they are in Redis) and counts on from there: a beat with the
    // same counter after it is no new work, whatever the counter says.
    let before = counted.points.len();
    let stack = stack.restart(|c| c.history.step_s = 1).await;
    let total_before = done(&counted);
    // After it, the same counter, beaten until two more steps are written.
    let new_points = |h: &History| h.points.len() >= before + 2;
    let after = beat_until(&stack, &mut r, (&mut jobs, 0), worker, new_points).await;
    let total_after = done(&after);
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
/// choose; each card draws its worker's last hour. Screenshots:
/// `throughput-{desktop,panel-desktop,phone}`, `sparklines-6-desktop`.
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
    let fleet = |h: &History| done(h) >= 10 && h.points.len() >= 3;
    beat_until(&stack, &mut r, (&mut 100, 5), "minutes=60", fleet).await;

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

    // Each card draws its worker's last hour: jobs done, and the queue as it is now.
    let found = browser
        .wait_js(
            "music-render's sparkline",
            r#"const s = document.querySelector('.worker-card[data-worker="music-render"] .spark[data-drawn=true]');
               const m = s?.getAttribute('aria-label').match(/^최근 \d+분: 완료 (\d+) · 대기열 \d+$/);
               const d = s?.querySelector('path.done').getAttribute('d') ?? '';
               return m ? [Number(m[1]), d.split(/[ML]/).length - 1] : null;"#,
        )
        .await;
    let (counted, drawn): (u64, usize) = serde_json::from_value(found).unwrap();
    assert!(counted >= 10, "{counted} done in the card's sparkline");
    assert!(drawn >= 3, "a point per step drawn in the card, {drawn}");
    browser.screenshot("sparklines-6-desktop").await;

    // The worker's panel draws its own series; 24 h has no hourly point yet, and says so.
    browser
        .click(".worker-card[data-worker=\"music-render\"]")
        .await;
    browser
        .wait_js(
            "the worker's chart",
            "const c = document.querySelector('#detail .worker-throughput figcaption')?.textContent ?? '';
             return /^최근 1분: 완료 \\d+ · 실패 \\d+$/.test(c) ? c : null;",
        )
        .await;
    browser.screenshot("throughput-panel-desktop").await;
    browser
        .click("#detail .worker-throughput .ranges button:nth-child(2)")
        .await;
    browser
        .wait_js(
            "24 h, nothing yet",
            "const s = document.querySelector('#detail .worker-throughput');
             return s?.querySelector('button[aria-pressed=true]')?.textContent === '24시간'
                 && !s.querySelector('figure') && s.querySelector('.hint')?.textContent === '아직 기록이 없습니다' || null;",
        )
        .await;
    browser
        .click("#detail .worker-throughput .ranges button:nth-child(1)")
        .await;
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

/// The workers' names the page has asked sparklines for so far (from its resource timings).
const ASKED: &str = r#"
    const names = new Set();
    for (const e of performance.getEntriesByType('resource')) {
        const url = new URL(e.name);
        if (url.pathname.endsWith('/history/sparklines'))
            url.searchParams.get('workers').split(' ').forEach(n => names.add(n));
    }
    return [...names];
"#;

/// At 500 workers the 2D list draws a sparkline on every row it shows and asks only for those:
/// the first screen, then the last one after a scroll, never the whole fleet. Screenshots:
/// `sparklines-{60,500}-desktop`, `sparklines-500-phone`.
#[tokio::test]
async fn rows_draw_sparklines_and_the_page_asks_only_for_the_rows_on_screen() {
    use pulseboard_tests::browser::{Browser, BrowserOptions};
    assert!(
        pulseboard_tests::dist_dir().join("index.html").is_file(),
        "the dashboard bundle is not built: run `bash scripts/build-dashboard.sh` first"
    );
    let browser = Browser::start(BrowserOptions::default()).await;
    for n in [60, 500] {
        let stack = Stack::start_with(|c| c.history.step_s = 1).await;
        let mut r = stack.conn().await;
        let names: Vec<String> = (0..n).map(|i| format!("w-{i:03}")).collect();
        for name in &names {
            let mut hb = heartbeat(name, "render", "busy");
            hb.jobs_done = 10;
            beat(&mut r, &hb).await;
        }
        // Until the last worker has two points (every worker is written in the same step).
        let last = format!("worker={}&minutes=60", names[n - 1]);
        stack
            .wait_nodes("every worker found", |nodes| nodes.workers.len() >= n)
            .await;
        let deadline = tokio::time::Instant::now() + pulseboard_tests::PATIENCE;
        while series(&stack, &last).await.points.len() < 2 {
            assert!(
                tokio::time::Instant::now() < deadline,
                "no history for {last}"
            );
            let seen = stack.nodes().await.generated_at;
            stack
                .wait_nodes("a later snapshot", |n| n.generated_at != seen)
                .await;
        }
        let url = format!("{}/infra/?view=2d&lang=en", stack.base);
        browser.client.goto(&url).await.unwrap();
        // Every row on screen draws its line (flat: no job done since the first beat).
        let every_row_drawn = r#"
            const rows = [...document.querySelectorAll('.worker-row')]
                .filter(r => r.getBoundingClientRect().top < innerHeight);
            const drawn = rows.filter(r => r.querySelector('.spark[data-drawn=true] path.done')
                ?.getAttribute('d')?.startsWith('M'));
            return rows.length > 5 && drawn.length === rows.length ? rows.length : null;"#;
        let on_screen = browser
            .wait_js(&format!("{n}: sparklines on screen"), every_row_drawn)
            .await;
        browser.screenshot(&format!("sparklines-{n}-desktop")).await;
        let asked: Vec<String> = serde_json::from_value(browser.js(ASKED).await).unwrap();
        let on_screen = on_screen.as_u64().unwrap() as usize;
        eprintln!(
            "{n} workers: {on_screen} rows on screen, sparklines asked for {}",
            asked.len()
        );
        assert!(
            asked.len() < on_screen + 40,
            "{n}: asked for {} workers with {on_screen} rows on screen",
            asked.len()
        );
        if n == 500 {
            // Scrolled to the end: the last rows are asked for then, and still not the fleet.
            browser
                .js("const l = document.getElementById('fleet-list'); l.scrollTop = l.scrollHeight;")
                .await;
            let last_drawn = format!(
                r#"return !!document.querySelector('.worker-row[data-worker="{}"] .spark[data-drawn=true]') || null"#,
                names[n - 1]
            );
            browser
                .wait_js("the last row's sparkline", &last_drawn)
                .await;
            let asked: Vec<String> = serde_json::from_value(browser.js(ASKED).await).unwrap();
            assert!(asked.contains(&names[n - 1]), "{asked:?}");
            eprintln!(
                "500 workers, scrolled to the end: asked for {}",
                asked.len()
            );
            assert!(
                asked.len() < 2 * (on_screen + 40),
                "asked for {} of 500",
                asked.len()
            );
            browser.client.set_window_size(390, 844).await.unwrap();
            browser.wait_js("the phone's rows", every_row_drawn).await;
            browser.screenshot("sparklines-500-phone").await;
            browser.client.set_window_size(1280, 800).await.unwrap();
        }
        stack.stop().await;
    }
    browser.close().await;
}
