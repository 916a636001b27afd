//! The recovery guard on the page, in real headless Chromium against the real server and a real
//! Redis: an unhealthy worker under `[recovery]` mode `recommend` shows its advice in the detail
//! panel; its restart button asks for the admin token inline, a wrong one is refused (and
//! forgotten), the right one queues the command on the worker's list with the token's name; the
//! guard's 🔧 mark and the timeline's record follow, in both languages. The mock script shows the
//! same without a server (⛔ on the crash-looping worker, 🔧 in a 3D label).
//!
//! Screenshots of the panel at desktop and phone sizes: `target/screenshots/recovery-*.png`.

use std::time::Duration;

use fantoccini::Locator;
use pulseboard_server::config::admin::AdminTokens;
use pulseboard_server::config::alerts::Language;
use pulseboard_shared::command::{commands_key, Action, Command};
use pulseboard_shared::heartbeat::Declared;
use pulseboard_shared::recovery::{Advice, GuardState, Route, Trigger};
use pulseboard_shared::{LifecycleState, Phase};
use pulseboard_tests::browser::{Browser, BrowserOptions};
use pulseboard_tests::standin::StandIn;
use pulseboard_tests::{beat, dist_dir, heartbeat, Stack, PATIENCE};
use redis::AsyncCommands;
use serde_json::Value;
use tokio::sync::Mutex;

static ONE_BROWSER_AT_A_TIME: Mutex<()> = Mutex::const_new(());

const OPS: &str = "ops-token-0123456789";
const SICK: &str = "image-render";

fn require_bundle() {
    assert!(
        dist_dir().join("index.html").is_file(),
        "the dashboard bundle is not built in {}: run `bash scripts/build-dashboard.sh` first",
        dist_dir().display()
    );
}

/// `SICK` unhealthy by its own word and `music-render` ready, beating every second until the
/// task is aborted.
fn keep_beating(stack: &Stack) -> tokio::task::JoinHandle<()> {
    let url = stack.redis.url();
    tokio::spawn(async move {
        let client = redis::Client::open(url).unwrap();
        let mut r = client.get_multiplexed_async_connection().await.unwrap();
        loop {
            let mut sick = heartbeat(SICK, "render", "idle");
            sick.declared = Declared {
                phase: Some(Phase::Unhealthy),
                reason: Some("cuda lost".into()),
                checks: Some([("gpu".to_owned(), false)].into()),
                ..Declared::default()
            };
            beat(&mut r, &sick).await;
            beat(&mut r, &heartbeat("music-render", "render", "idle")).await;
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    })
}

/// Text of the first element matching `css`, waited for.
async fn text_of(browser: &Browser, what: &str, css: &str) -> String {
    let script = format!("return document.querySelector({css:?})?.textContent ?? ''");
    browser
        .wait_js(what, &script)
        .await
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

async fn type_token(browser: &Browser, token: &str) {
    let input = browser
        .client
        .find(Locator::Css("#admin-token"))
        .await
        .expect("the token input is shown");
    input.clear().await.unwrap();
    input.send_keys(token).await.unwrap();
    browser.click(".token-form button[type=submit]").await;
}

/// The panel's box and its section's, and whether any text of it is cut off or leaves the screen.
const PANEL_FITS: &str = r#"
    const panel = document.getElementById('detail');
    if (!panel) return null;
    const r = panel.getBoundingClientRect();
    const faults = [];
    if (r.left < 0 || r.right > innerWidth + 0.5) faults.push(`panel ${r.left}..${r.right} of ${innerWidth}`);
    for (const el of panel.querySelectorAll('#recovery *')) {
        if (el.children.length === 0 && el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflow !== 'visible')
            faults.push(`cut: ${el.className || el.tagName} "${el.textContent}"`);
        const e = el.getBoundingClientRect();
        if (e.width > 0 && (e.left < r.left - 0.5 || e.right > r.right + 0.5))
            faults.push(`outside: ${el.className || el.tagName} ${e.left}..${e.right}`);
    }
    return faults;
"#;

async fn assert_panel_fits(browser: &Browser, what: &str) {
    let faults = browser.js(PANEL_FITS).await;
    assert_eq!(faults, Value::Array(vec![]), "{what}: {faults}");
}

#[tokio::test]
async fn a_recommended_restart_goes_out_from_the_panel_with_the_tab_s_token() {
    require_bundle();
    let _turn = ONE_BROWSER_AT_A_TIME.lock().await;
    let stack = Stack::start_with(|c| {
        c.topology
            .workers
            .retain(|w| w.name == SICK || w.name == "music-render");
        c.admin_tokens = AdminTokens::parse(&format!("ops:{OPS}")).unwrap();
        // Mode stays the default, recommend; an unhealthy worker calls for a restart at once.
        c.recovery.policy.triggers = vec![Trigger {
            state: LifecycleState::Unhealthy,
            after_s: 0,
        }];
    })
    .await;
    let beating = keep_beating(&stack);
    let nodes = stack
        .wait_nodes("the guard recommending a restart", |n| {
            n.workers.iter().any(|w| {
                w.name == SICK
                    && w.recovery
                        .as_ref()
                        .is_some_and(|r| r.state == GuardState::Recommending)
            })
        })
        .await;
    let guard = nodes.workers.iter().find(|w| w.name == SICK).unwrap();
    let guard = guard.recovery.clone().unwrap();
    assert_eq!(
        guard.advice,
        Some(Advice::Restart {
            route: Route::Heartbeat
        })
    );

    let browser = Browser::start(BrowserOptions::default()).await;
    let url = format!("{}/infra/?view=2d&lang=en", stack.base);
    browser.client.goto(&url).await.unwrap();
    let card = format!(".worker-card[data-worker=\"{SICK}\"]");
    browser
        .wait_js(
            "the card",
            &format!("return !!document.querySelector({card:?})"),
        )
        .await;
    browser.click(&card).await;
    let advice = text_of(
        &browser,
        "the advice in the panel",
        "#detail #recovery[data-state=recommending] .advice-text",
    )
    .await;
    assert_eq!(
        Some(advice),
        guard.recommended_action,
        "the page says in English what the API says"
    );
    let attempts = text_of(&browser, "attempts", "#recovery dd[data-field=attempts]").await;
    assert_eq!(attempts, "0 / 3");
    assert_panel_fits(&browser, "desktop, recommending").await;
    browser.screenshot("recovery-desktop-recommend-en").await;

    // No token yet: the restart asks for one, inline.
    browser.click("#recovery .act[data-action=restart]").await;
    type_token(&browser, "wrong-token-0123456789").await;
    let refused = text_of(
        &browser,
        "the refusal",
        "#recovery .action-result[data-outcome=refused]",
    )
    .await;
    assert!(refused.contains("token refused"), "{refused}");
    let kept = browser
        .js("return sessionStorage.getItem('pulseboard.admin-token')")
        .await;
    assert_eq!(kept, Value::Null, "a refused token is forgotten");
    let mut r = stack.conn().await;
    let queued: Vec<String> = r.lrange(commands_key(SICK), 0, -1).await.unwrap();
    assert!(queued.is_empty(), "nothing refused is queued: {queued:?}");
    assert_panel_fits(&browser, "desktop, refused").await;
    browser.screenshot("recovery-desktop-refused-en").await;

    // The form is back for the same action; the right token goes through.
    type_token(&browser, OPS).await;
    let accepted = text_of(
        &browser,
        "the acceptance",
        "#recovery .action-result[data-outcome=accepted]",
    )
    .await;
    assert!(accepted.contains("accepted"), "{accepted}");
    let queued: Vec<String> = r.lrange(commands_key(SICK), 0, -1).await.unwrap();
    assert_eq!(queued.len(), 1, "{queued:?}");
    let command: Command = serde_json::from_str(&queued[0]).unwrap();
    assert_eq!(
        (command.action, command.by.as_str()),
        (Action::Restart, "ops")
    );
    assert!(
        accepted.contains(&command.id),
        "{accepted} names {}",
        command.id
    );
    let kept = browser
        .js("return sessionStorage.getItem('pulseboard.admin-token')")
        .await;
    assert_eq!(kept, Value::from(OPS), "kept for the tab");
    let local = browser.js("return localStorage.length").await;
    assert_eq!(local, Value::from(0), "never in localStorage: {local}");

    // The guard takes the action as in flight: 🔧 on the card, "acting" in the panel, and the
    // timeline says who did it.
    browser
        .wait_js(
            "the 🔧 mark on the card",
            &format!("return document.querySelector('{card} .recovery-mark[data-recovery=acting]')?.textContent"),
        )
        .await;
    let state = text_of(
        &browser,
        "acting",
        "#recovery[data-state=acting] .guard-state",
    )
    .await;
    assert_eq!(state, "🔧 acting");
    let last = text_of(
        &browser,
        "the last action",
        "#recovery dd[data-field=last_action]",
    )
    .await;
    assert!(last.starts_with("restart by ops"), "{last}");
    let acted = text_of(
        &browser,
        "the timeline's record",
        "#timeline li[data-type=recovery][data-what=acted] .what",
    )
    .await;
    assert_eq!(
        acted,
        format!("🔧 ops restarted {SICK} through its heartbeat")
    );
    assert_panel_fits(&browser, "desktop, acting").await;
    browser.screenshot("recovery-desktop-acting-en").await;

    // The same action again while it is in flight: the server's 409, said as it says it.
    browser.click("#recovery .act[data-action=restart]").await;
    let conflict = text_of(
        &browser,
        "the conflict",
        "#recovery .action-result[data-outcome=conflict]",
    )
    .await;
    assert!(
        conflict.contains(&format!("the same action ({})", command.id))
            && conflict.ends_with("is still in flight"),
        "{conflict}"
    );
    let queued: usize = r.llen(commands_key(SICK)).await.unwrap();
    assert_eq!(queued, 1, "not sent twice");

    // Hold it for an hour (the tab's token goes with it, no question asked): the countdown runs
    // from the server's clock and the button lifts the hold instead.
    browser.click("#recovery .act[data-action=hold]").await;
    let held = text_of(
        &browser,
        "the hold's countdown",
        "#recovery[data-state=held] li[data-countdown=hold]",
    )
    .await;
    // The server's clock is the snapshot's: up to a refresh behind the hold's start.
    assert!(
        held.starts_with("held for 59 min") || held.starts_with("held for 1 h 00 min 00 s"),
        "{held}"
    );
    let by = text_of(
        &browser,
        "the hold's acceptance",
        "#recovery .action-result[data-outcome=accepted][data-action=hold]",
    )
    .await;
    assert!(by.contains("by ops"), "{by}");
    let logged = text_of(
        &browser,
        "the hold in the timeline",
        "#timeline li[data-type=recovery][data-what=hold] .what",
    )
    .await;
    assert_eq!(logged, format!("✋ ops held {SICK} for 60 min"));
    browser.click("#recovery .act[data-action=lift-hold]").await;
    text_of(
        &browser,
        "the hold lifted",
        "#recovery[data-state=acting] .act[data-action=hold]",
    )
    .await;

    // The same in Korean, with no English left but names.
    browser.click("#lang-toggle").await;
    browser
        .wait_js(
            "the panel in Korean",
            "return document.querySelector('#recovery .guard-state')?.textContent === '🔧 조치 중'",
        )
        .await;
    let last = text_of(
        &browser,
        "the last action",
        "#recovery dd[data-field=last_action]",
    )
    .await;
    assert!(last.starts_with("재시작 (ops)"), "{last}");
    let acted = text_of(
        &browser,
        "the timeline in Korean",
        "#timeline li[data-type=recovery][data-what=acted] .what",
    )
    .await;
    assert_eq!(acted, format!("🔧 {SICK} 재시작 (하트비트 경유, ops)"));
    let result = text_of(&browser, "the result in Korean", "#recovery .action-result").await;
    assert!(result.starts_with("✓ 접수됨"), "{result}");
    assert_panel_fits(&browser, "desktop, Korean").await;
    browser.screenshot("recovery-desktop-acting-ko").await;
    browser.close().await;

    // A phone: the panel fits the narrow screen, the token form too.
    let phone = Browser::start(BrowserOptions {
        window: (390, 844),
        ..BrowserOptions::default()
    })
    .await;
    phone
        .client
        .goto(&format!("{}/infra/?lang=ko", stack.base))
        .await
        .unwrap();
    phone
        .wait_js(
            "the card",
            &format!("return !!document.querySelector({card:?})"),
        )
        .await;
    phone.click(&card).await;
    text_of(
        &phone,
        "the panel on a phone",
        "#recovery[data-state=acting] .guard-state",
    )
    .await;
    phone.click("#recovery .act[data-action=hold]").await;
    phone
        .wait_js(
            "the token form",
            "return !!document.getElementById('admin-token')",
        )
        .await;
    assert_panel_fits(&phone, "phone").await;
    phone.screenshot("recovery-phone-ko").await;
    phone.close().await;

    beating.abort();
    stack.stop().await;
}

#[tokio::test]
async fn the_mock_script_shows_the_guard_without_a_server() {
    require_bundle();
    let _turn = ONE_BROWSER_AT_A_TIME.lock().await;
    let (base, server) = pulseboard_tests::static_bundle().await;
    let browser = Browser::start(BrowserOptions::default()).await;
    // 26 s in: video-render is down and its circuit open after three restarts.
    browser
        .client
        .goto(&format!("{base}/infra/?mock=26&hold&view=2d&lang=ko"))
        .await
        .unwrap();
    let card = ".worker-card[data-worker=\"video-render\"]";
    let mark = text_of(
        &browser,
        "⛔ on the card",
        &format!("{card} .recovery-mark[data-recovery=circuit_open]"),
    )
    .await;
    assert_eq!(mark, "⛔");
    browser.click(card).await;
    let advice = text_of(
        &browser,
        "the crash loop advice",
        "#recovery .advice[data-advice=crash_loop] .advice-text",
    )
    .await;
    assert!(advice.contains("video-render 로그"), "{advice}");
    let attempts = text_of(&browser, "attempts", "#recovery dd[data-field=attempts]").await;
    assert_eq!(attempts, "3 / 3");
    let reset = text_of(
        &browser,
        "the reset button",
        "#recovery .act[data-action=reset]",
    )
    .await;
    assert_eq!(reset, "복구 초기화");
    let last = text_of(
        &browser,
        "the last action",
        "#recovery dd[data-field=last_action]",
    )
    .await;
    assert!(
        last.starts_with("초기화 후 재시작 (자동)") && last.contains('✗'),
        "{last}"
    );
    assert_panel_fits(&browser, "mock, circuit open").await;
    browser.screenshot("recovery-mock-circuit-ko").await;

    // The lifecycle act in 3D: insta-render's label carries 🔧.
    browser
        .client
        .goto(&format!("{base}/infra/?mock=57&hold&view=3d&lang=en"))
        .await
        .unwrap();
    let mark = text_of(
        &browser,
        "🔧 in the 3D label",
        ".node-label[data-worker=\"insta-render\"] .recovery-mark[data-recovery=acting]",
    )
    .await;
    assert_eq!(mark, "🔧");
    browser
        .click(".node-label[data-worker=\"task-watcher\"]")
        .await;
    let countdown = text_of(
        &browser,
        "a countdown",
        "#recovery[data-state=waiting] li[data-countdown=next]",
    )
    .await;
    assert!(countdown.starts_with("next attempt in "), "{countdown}");
    browser.screenshot("recovery-mock-3d-en").await;
    browser.close().await;
    server.abort();
}

#[tokio::test]
async fn without_admin_tokens_the_panel_says_actions_are_off() {
    require_bundle();
    let _turn = ONE_BROWSER_AT_A_TIME.lock().await;
    let stack = Stack::start_with(|c| {
        c.topology
            .workers
            .retain(|w| w.name == SICK || w.name == "music-render");
    })
    .await;
    let beating = keep_beating(&stack);
    let browser = Browser::start(BrowserOptions::default()).await;
    let url = format!("{}/infra/?view=2d&lang=ko", stack.base);
    browser.client.goto(&url).await.unwrap();
    let card = format!(".worker-card[data-worker=\"{SICK}\"]");
    browser
        .wait_js(
            "the card",
            &format!("return !!document.querySelector({card:?})"),
        )
        .await;
    browser.click(&card).await;
    browser.click("#recovery .act[data-action=quiet]").await;
    type_token(&browser, OPS).await;
    let off = text_of(
        &browser,
        "actions off",
        "#recovery .action-result[data-outcome=off]",
    )
    .await;
    assert_eq!(off, "✗ 이 서버에서는 조치가 꺼져 있습니다");
    let mut r = stack.conn().await;
    let queued: usize = r.llen(commands_key(SICK)).await.unwrap();
    assert_eq!(queued, 0);
    browser.close().await;
    beating.abort();
    stack.stop().await;
}

#[tokio::test]
async fn an_alert_is_acknowledged_from_the_timeline_with_the_tab_s_token() {
    require_bundle();
    let _turn = ONE_BROWSER_AT_A_TIME.lock().await;
    let standin = StandIn::start().await.unwrap();
    let stack = Stack::start_with(|c| {
        c.topology.workers.retain(|w| w.name == "music-render");
        c.admin_tokens = AdminTokens::parse(&format!("ops:{OPS}")).unwrap();
        c.alerts.language = Language::English;
        c.alerts.telegram = Some(standin.telegram());
    })
    .await;
    // Alive, then a crash: one down alert, which wants a person.
    let mut r = stack.conn().await;
    beat(&mut r, &heartbeat("music-render", "render", "idle")).await;
    stack
        .wait_nodes("alive", |n| n.workers.iter().all(|w| w.alive))
        .await;
    let mut crashed = heartbeat("music-render", "render", "idle");
    crashed.declared.exit_code = Some(1);
    beat(&mut r, &crashed).await;
    standin
        .wait_for("worker down", 0, PATIENCE)
        .await
        .expect("the down alert is sent");

    let browser = Browser::start(BrowserOptions::default()).await;
    let url = format!("{}/infra/?view=2d&lang=en", stack.base);
    browser.client.goto(&url).await.unwrap();
    let button = "#timeline li[data-type=transition] button.ack";
    browser
        .wait_js(
            "the acknowledge button under the down alert",
            &format!("return !!document.querySelector({button:?})"),
        )
        .await;
    browser.click(button).await;
    let input = browser
        .client
        .find(Locator::Css("#ack-token"))
        .await
        .expect("the token is asked inline");
    input.send_keys(OPS).await.unwrap();
    browser
        .click("#timeline .token-form button[type=submit]")
        .await;
    let done = text_of(
        &browser,
        "the answer",
        "#timeline .ack-result[data-outcome=accepted]",
    )
    .await;
    assert_eq!(done, "✅ acknowledged by ops");
    browser.screenshot("timeline-acknowledged-en").await;
    // The judge announces it once in the event log, naming who; the page's button is gone.
    let acked = pulseboard_tests::eventually("the acknowledgement in the log", || async {
        let (_, events) = stack.get("/api/agent-office/events?limit=50").await;
        events.contains("Acknowledged by ops").then_some(())
    })
    .await;
    assert!(acked.is_some(), "the event log names who acknowledged");
    assert_eq!(
        browser
            .js(&format!("return !!document.querySelector({button:?})"))
            .await,
        Value::Bool(false)
    );
    browser.close().await;
    stack.stop().await;
}

#[tokio::test]
async fn a_maintenance_silence_is_set_and_ended_from_the_page() {
    require_bundle();
    let _turn = ONE_BROWSER_AT_A_TIME.lock().await;
    let stack = Stack::start_with(|c| {
        c.topology.workers.retain(|w| w.name == "music-render");
        c.admin_tokens = AdminTokens::parse(&format!("ops:{OPS}")).unwrap();
    })
    .await;
    let browser = Browser::start(BrowserOptions::default()).await;
    let url = format!("{}/infra/?view=2d&lang=en", stack.base);
    browser.client.goto(&url).await.unwrap();
    let empty = text_of(&browser, "the empty list", "#silences .hint").await;
    assert_eq!(empty, "no silences in force");
    let field = |css: &'static str| {
        let client = browser.client.clone();
        async move { client.find(Locator::Css(css)).await.unwrap() }
    };
    field("#silences input.name")
        .await
        .send_keys("music-render")
        .await
        .unwrap();
    field("#silences input.reason")
        .await
        .send_keys("disk swap")
        .await
        .unwrap();
    browser.click("#silences input[type=checkbox]").await;
    browser.click(".silence-form button[type=submit]").await;
    field("#silence-token").await.send_keys(OPS).await.unwrap();
    browser
        .click("#silences .token-form button[type=submit]")
        .await;
    let line = text_of(
        &browser,
        "the silence in the list",
        "#silences li[data-kind=maintenance] .what",
    )
    .await;
    assert!(
        line.starts_with("worker music-render: 🛠 maintenance until")
            && line.contains("(ops): disk swap"),
        "{line}"
    );
    let nodes = stack
        .wait_nodes("the worker under maintenance", |n| {
            n.workers[0].silence.as_ref().is_some_and(|s| s.maintenance)
        })
        .await;
    assert_eq!(nodes.workers[0].silence.as_ref().unwrap().by, "ops");
    browser.screenshot("silences-desktop-en").await;
    browser.client.set_window_size(390, 844).await.unwrap();
    browser
        .js("document.getElementById('silences').scrollIntoView(); return 1")
        .await;
    browser.screenshot("silences-phone-en").await;

    // The token is kept for the tab: ending it asks for nothing.
    browser.click("#silences li .end").await;
    let empty = text_of(&browser, "the list emptied", "#silences .hint").await;
    assert_eq!(empty, "no silences in force");
    stack
        .wait_nodes("no silence any more", |n| n.workers[0].silence.is_none())
        .await;
    browser.close().await;
    stack.stop().await;
}

/// Five workers of one host crash together: the timeline shows one line for the outage, led by
/// the host's summary, with the first alert, the grouped ones and their deliveries folded under
/// "+N more", which opens to name every worker. Screenshots: `timeline-incident-{desktop,open-desktop,phone}`.
#[tokio::test]
async fn a_host_outage_is_one_timeline_line_that_opens_to_its_workers() {
    require_bundle();
    let _turn = ONE_BROWSER_AT_A_TIME.lock().await;
    let standin = StandIn::start().await.unwrap();
    let names: Vec<String> = (0..5).map(|i| format!("r{i}")).collect();
    let stack = Stack::start_with(|c| {
        c.topology = pulseboard_tests::one_host("gpu-01", &names);
        c.alerts.language = Language::English;
        c.alerts.group_window = Duration::from_secs(2);
        c.alerts.telegram = Some(standin.telegram());
    })
    .await;
    let mut r = stack.conn().await;
    for name in &names {
        beat(&mut r, &heartbeat(name, "render", "idle")).await;
    }
    stack
        .wait_nodes("alive", |n| n.workers.iter().all(|w| w.alive))
        .await;
    for name in &names {
        let mut crashed = heartbeat(name, "render", "idle");
        crashed.declared.exit_code = Some(1);
        beat(&mut r, &crashed).await;
    }
    standin
        .wait_for("gpu-01: 5 workers down (", 0, PATIENCE)
        .await
        .expect("the host's summary is sent");

    let browser = Browser::start(BrowserOptions::default()).await;
    let url = format!("{}/infra/?view=2d&lang=en", stack.base);
    browser.client.goto(&url).await.unwrap();
    // Every top-level line that speaks of a worker down, and the label under each.
    let lines = r#"
        const top = document.querySelectorAll('#timeline > ol > li.event');
        const downs = [...top].filter(li => /workers? down/.test(li.querySelector(':scope > .what')?.textContent ?? ''));
        if (!downs.some(li => li.querySelector(':scope > details.folded'))) return null;
        return downs.map(li => [li.querySelector(':scope > .what').textContent,
                                li.querySelector(':scope > details.folded > summary')?.textContent ?? '']);
    "#;
    let found = browser.wait_js("the folded outage line", lines).await;
    let found: Vec<(String, String)> = serde_json::from_value(found).unwrap();
    assert_eq!(found.len(), 1, "one line for the outage: {found:?}");
    let (head, more) = &found[0];
    assert!(head.contains("gpu-01: 5 workers down"), "{head}");
    let n: usize = more
        .strip_prefix('+')
        .and_then(|m| m.strip_suffix(" more"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("the label says how many more: {more:?}"));
    assert!(
        n >= 5,
        "the first alert and the four grouped at least: {more}"
    );
    browser
        .js("document.getElementById('timeline').scrollIntoView()")
        .await;
    browser.screenshot("timeline-incident-desktop").await;

    browser.click("#timeline details.folded > summary").await;
    let members = browser
        .wait_js(
            "the opened members",
            "const d = document.querySelector('#timeline details.folded');
             return d?.open ? [...d.querySelectorAll('li .what')].map(w => w.textContent) : null;",
        )
        .await;
    let members: Vec<String> = serde_json::from_value(members).unwrap();
    assert_eq!(members.len(), n, "{members:?}");
    for name in &names {
        assert!(
            members.iter().any(|m| m.contains(&format!("[{name}]"))),
            "{name} among {members:?}"
        );
    }
    browser.screenshot("timeline-incident-open-desktop").await;
    browser.client.set_window_size(390, 844).await.unwrap();
    browser
        .js("document.getElementById('timeline').scrollIntoView()")
        .await;
    browser.screenshot("timeline-incident-phone").await;
    browser.close().await;
    stack.stop().await;
}
