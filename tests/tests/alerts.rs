//! Alerts end to end: real `pulseboard` processes on a real `redis-server`, sending to a local
//! stand-in for Telegram. Every wait is for a condition (an alert arriving, the stored state
//! changing), never a sleep; "exactly once" is checked after a fence, a later alert whose arrival
//! proves everything raised before it was delivered (each sink receives in order).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use pulseboard_server::aggregate::iso;
use pulseboard_server::alerts::transitions::{Memory, WorkerMemory};
use pulseboard_server::redis_server::{free_port, RedisServer};
use pulseboard_shared::heartbeat::heartbeat_key;
use pulseboard_shared::Heartbeat;
use pulseboard_tests::standin::{press_update, Received, StandIn};
use redis::aio::MultiplexedConnection;
use redis::AsyncCommands;
use serde_json::Value;
use tokio::process::{Child, Command};

const TOKEN: &str = "123456:secret-test-token";
/// The admin token the servers accept (named `ops`).
const ADMIN: &str = "admin-token-for-the-silence-tests";
const PATIENCE: Duration = Duration::from_secs(20);
/// Who sends: the lease holder's id, with an expiry (`alerts::store::Keys::lease`).
const LEASE_KEY: &str = "pulseboard:alerts:lease";

fn bin() -> &'static Path {
    pulseboard_tests::pulseboard_bin()
}

/// Three render workers, fast refresh, short retries and lease, flapping after 3 downs a minute.
const CONFIG: &str = r#"
refresh_ms = 100
discovery_every_ms = 200
dist = "/nonexistent"
[[workers]]
name = "w1"
kind = "render"
[[workers]]
name = "w2"
kind = "render"
[[workers]]
name = "fence"
kind = "render"
[alerts]
language = "en"
startup_grace_s = 120
lease_ms = 600
retry_initial_ms = 100
retry_max_ms = 300
flap_max = 3
flap_window_s = 60
# Every alert on its own here; a_host_outage_is_two_messages groups them.
group_window_s = 0
"#;

struct Scene {
    dir: PathBuf,
    redis: RedisServer,
    standin: StandIn,
    conn: MultiplexedConnection,
    http: reqwest::Client,
}

impl Scene {
    async fn new(name: &str, config: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("pb-alerts-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("config.toml"), config).unwrap();
        let redis = RedisServer::start().await.unwrap();
        let conn = connect(&redis).await;
        Self {
            dir,
            redis,
            standin: StandIn::start().await.unwrap(),
            conn,
            http: reqwest::Client::new(),
        }
    }

    async fn pulseboard(&self) -> Pulseboard {
        Pulseboard::start(&self.dir, &self.redis.url(), &self.standin.url, &self.http).await
    }

    /// `SET worker:<name>:heartbeat <json> PX <ttl_ms>`.
    async fn beat(&mut self, name: &str, ttl_ms: u64) {
        let beat = Heartbeat {
            name: name.into(),
            kind: "render".into(),
            state: "idle".into(),
            ts: iso(chrono::Utc::now()),
            last_job_at: None,
            jobs_done: 1,
            jobs_failed: 0,
            mode: None,
            ..Default::default()
        };
        let _: () = redis::cmd("SET")
            .arg(heartbeat_key(name))
            .arg(beat.to_json())
            .arg("PX")
            .arg(ttl_ms)
            .query_async(&mut self.conn)
            .await
            .unwrap();
    }

    async fn stop_beating(&mut self, name: &str) {
        let _: () = self.conn.del(heartbeat_key(name)).await.unwrap();
    }

    async fn set_dead_letters(&mut self, name: &str, n: usize) {
        let key = format!("dead_letter:queue:{name}");
        let _: () = self.conn.del(&key).await.unwrap();
        for i in 0..n {
            let _: () = self.conn.rpush(&key, format!("job-{i}")).await.unwrap();
        }
    }

    /// What the sender last stored about `name`.
    async fn judged(&mut self, name: &str) -> Option<WorkerMemory> {
        let text: Option<String> = self.conn.get("pulseboard:alerts:state").await.ok()?;
        let memory: Memory = serde_json::from_str(&text?).ok()?;
        memory.workers.get(name).cloned()
    }

    /// Waits until the stored judgement of `name` satisfies `ok`.
    async fn until_judged(&mut self, name: &str, what: &str, ok: impl Fn(&WorkerMemory) -> bool) {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if self.judged(name).await.is_some_and(|m| ok(&m)) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {name}: {what}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits for a message containing `needle` at or after message `skip`.
    async fn alert(&self, needle: &str, skip: usize) -> Received {
        self.standin
            .wait_for(needle, skip, PATIENCE)
            .await
            .unwrap_or_else(|| panic!("no alert {needle:?}; got {:#?}", self.standin.texts()))
    }

    /// Raises a dead-letter alert on the fence worker and waits for it: everything raised before
    /// has been delivered by then.
    async fn fence(&mut self, n: usize) {
        let skip = self.standin.received().len();
        self.set_dead_letters("fence", n).await;
        self.alert(&format!("[fence] {n} failed jobs"), skip).await;
    }

    /// Waits until every raised alert left the outbox (delivered and popped), so a kill now
    /// cannot catch a delivery between the send and the pop.
    async fn until_outbox_empty(&mut self) {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let n: u64 = self
                .conn
                .llen("pulseboard:alerts:outbox:telegram")
                .await
                .unwrap();
            if n == 0 {
                return;
            }
            assert!(Instant::now() < deadline, "the outbox never emptied");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn count(&self, needle: &str) -> usize {
        self.standin
            .texts()
            .iter()
            .filter(|t| t.contains(needle))
            .count()
    }

    async fn finish(mut self) {
        self.redis.stop().await;
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn connect(redis: &RedisServer) -> MultiplexedConnection {
    redis::Client::open(redis.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

/// A real `pulseboard serve` process.
struct Pulseboard {
    child: Child,
    base: String,
    log: PathBuf,
    http: reqwest::Client,
}

impl Pulseboard {
    async fn start(dir: &Path, redis: &str, standin: &str, http: &reqwest::Client) -> Self {
        let port = free_port().unwrap();
        let log = dir.join(format!("pulseboard-{port}.log"));
        let child = Command::new(bin())
            .args([
                "serve",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--redis",
                redis,
            ])
            .arg("--config")
            .arg(dir.join("config.toml"))
            .env("TELEGRAM_BOT_TOKEN", TOKEN)
            .env("TELEGRAM_CHAT_ID", "42")
            .env("PULSEBOARD_TELEGRAM_API_URL", standin)
            .env("PULSEBOARD_ADMIN_TOKENS", format!("ops:{ADMIN}"))
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let pb = Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
            log,
            http: http.clone(),
        };
        let deadline = Instant::now() + PATIENCE;
        while pb.get("/healthz").await.is_none() {
            assert!(Instant::now() < deadline, "never healthy:\n{}", pb.log());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        pb
    }

    async fn get(&self, path: &str) -> Option<Value> {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .ok()?;
        r.json().await.ok()
    }

    /// Waits until the newest 50 of the event log mention `needle`.
    async fn until_logged(&self, needle: &str) {
        until(needle, async || {
            let log = self.get("/api/agent-office/events?limit=50").await;
            log.is_some_and(|log| log.to_string().contains(needle))
        })
        .await;
    }

    /// The alerts' part of `/readyz`.
    async fn alerts(&self) -> Value {
        self.get("/readyz")
            .await
            .map_or(Value::Null, |v| v["alerts"].clone())
    }

    async fn is_sender(&self) -> bool {
        self.alerts().await["sender"] == true
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGKILL: no drain, no lease handed over.
    async fn kill(mut self) -> String {
        self.child.kill().await.unwrap();
        self.log()
    }

    /// SIGTERM, as a service manager stops it; returns the log once it exited 0.
    async fn terminate(mut self) -> String {
        let pid = self.child.id().expect("still running").to_string();
        let sent = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap();
        assert!(sent.success());
        let status = tokio::time::timeout(PATIENCE, self.child.wait())
            .await
            .unwrap_or_else(|_| panic!("still running after SIGTERM:\n{}", self.log()))
            .unwrap();
        let log = self.log();
        assert!(status.success(), "exit status {status:?}\n{log}");
        log
    }
}

async fn until(what: &str, mut probe: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + PATIENCE;
    while !probe().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn assert_no_secret(log: &str) {
    assert!(
        !log.contains("secret-test-token"),
        "the bot token leaked into the log:\n{log}"
    );
}

#[tokio::test]
async fn a_stopped_worker_is_alerted_once_within_two_seconds_and_its_return_once() {
    let mut s = Scene::new("down", CONFIG).await;
    let pb = s.pulseboard().await;
    s.beat("w1", 45_000).await;
    s.until_judged("w1", "alive", |m| m.alive == Some(true))
        .await;

    // The key expires 1 s after this instant (or a hair later).
    let expiry = Instant::now() + Duration::from_millis(1000);
    s.beat("w1", 1000).await;
    let down = s.alert("[w1] worker down", 0).await;
    let delay = down.at.saturating_duration_since(expiry);
    eprintln!(
        "heartbeat expiry -> alert at the stand-in: {} ms",
        delay.as_millis()
    );
    assert!(
        delay < Duration::from_secs(2),
        "down alert {} ms after expiry",
        delay.as_millis()
    );
    assert_eq!(down.path, format!("/bot{TOKEN}/sendMessage"));
    assert_eq!(down.body["chat_id"], "42");
    assert!(down.text().contains("host windows"), "{}", down.text());

    s.beat("w1", 45_000).await;
    s.alert("[w1] worker recovered", 0).await;
    s.fence(1).await;
    assert_eq!(s.count("[w1] worker down"), 1, "{:#?}", s.standin.texts());
    assert_eq!(
        s.count("[w1] worker recovered"),
        1,
        "{:#?}",
        s.standin.texts()
    );
    assert_eq!(s.standin.texts().len(), 3, "{:#?}", s.standin.texts());
    assert_no_secret(&pb.kill().await);
    s.finish().await;
}

#[tokio::test]
async fn dead_letters_alert_at_two_three_and_one_and_the_event_log_pages_newest_first() {
    let mut s = Scene::new("dead-letters", CONFIG).await;
    let pb = s.pulseboard().await;
    s.beat("w1", 45_000).await;
    s.until_judged("w1", "alive", |m| m.alive == Some(true))
        .await;
    s.set_dead_letters("w1", 2).await;
    s.alert("[w1] 2 failed jobs", 0).await;
    s.set_dead_letters("w1", 3).await;
    s.alert("[w1] 3 failed jobs", 0).await;
    s.set_dead_letters("w1", 0).await;
    s.until_judged("w1", "dead letters emptied", |m| m.dead_letter == 0)
        .await;
    s.set_dead_letters("w1", 1).await;
    s.alert("[w1] 1 failed jobs", 0).await;
    s.fence(5).await;
    let dl: Vec<_> = s
        .standin
        .texts()
        .into_iter()
        .filter(|t| t.starts_with("❌ [w1]"))
        .collect();
    assert_eq!(dl.len(), 3, "{dl:#?}");
    for (text, n) in dl.iter().zip([2, 3, 1]) {
        assert!(
            text.starts_with(&format!("❌ [w1] {n} failed jobs")),
            "{text}"
        );
    }

    // The event log: four transitions and four deliveries, newest first, paged one by one (the
    // recovery guard's records about the configured workers that never beat are left aside).
    let alerting = |v: &Value| -> Vec<Value> {
        v["events"]
            .as_array()
            .map(|e| {
                e.iter()
                    .filter(|e| e["type"] != "recovery")
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    };
    until("eight events", async || {
        let all = pb.get("/api/agent-office/events?limit=500").await;
        all.is_some_and(|v| alerting(&v).len() == 8)
    })
    .await;
    let all = pb.get("/api/agent-office/events?limit=500").await.unwrap();
    let events = alerting(&all);
    assert_eq!(events.len(), 8, "{all:#}");
    assert_eq!(events[0]["type"], "delivered");
    assert_eq!(events[1]["type"], "transition");
    assert_eq!(events[1]["alert"]["worker"], "fence");
    assert_eq!(all["next_before"], Value::Null);
    let mut paged = Vec::new();
    let mut before = String::new();
    loop {
        let page = pb
            .get(&format!("/api/agent-office/events?limit=3{before}"))
            .await
            .unwrap();
        paged.extend(alerting(&page));
        match page["next_before"].as_str() {
            Some(id) => before = format!("&before={id}"),
            None => break,
        }
    }
    assert_eq!(paged, events);
    let bad = s
        .http
        .get(format!("{}/api/agent-office/events?before=%2B", pb.base))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    assert!(!all.to_string().contains("secret-test-token"));
    assert_no_secret(&pb.kill().await);
    s.finish().await;
}

#[tokio::test]
async fn a_sigkill_between_death_and_return_neither_repeats_nor_loses() {
    let mut s = Scene::new("restart", CONFIG).await;
    let first = s.pulseboard().await;
    s.beat("w1", 45_000).await;
    s.beat("w2", 45_000).await;
    s.until_judged("w1", "alive", |m| m.alive == Some(true))
        .await;
    s.until_judged("w2", "alive", |m| m.alive == Some(true))
        .await;
    s.stop_beating("w1").await;
    s.alert("[w1] worker down", 0).await;
    s.until_outbox_empty().await;
    first.kill().await;

    // While no pulseboard runs, w2 dies too.
    s.stop_beating("w2").await;
    let second = s.pulseboard().await;
    s.alert("[w2] worker down", 0).await;
    s.beat("w1", 45_000).await;
    s.alert("[w1] worker recovered", 0).await;
    s.fence(1).await;
    let texts = s.standin.texts();
    assert_eq!(s.count("[w1] worker down"), 1, "{texts:#?}");
    assert_eq!(s.count("[w2] worker down"), 1, "{texts:#?}");
    assert_eq!(s.count("[w1] worker recovered"), 1, "{texts:#?}");
    assert_eq!(texts.len(), 4, "{texts:#?}");
    assert_no_secret(&second.kill().await);
    s.finish().await;
}

#[tokio::test]
async fn two_processes_on_one_redis_alert_every_transition_once() {
    let mut s = Scene::new("two", CONFIG).await;
    let a = s.pulseboard().await;
    let b = s.pulseboard().await;
    until("one sender", async || {
        a.is_sender().await || b.is_sender().await
    })
    .await;
    assert!(!(a.is_sender().await && b.is_sender().await), "both send");

    s.beat("w1", 45_000).await;
    s.until_judged("w1", "alive", |m| m.alive == Some(true))
        .await;
    s.stop_beating("w1").await;
    s.alert("[w1] worker down", 0).await;
    s.beat("w1", 45_000).await;
    s.alert("[w1] worker recovered", 0).await;
    s.set_dead_letters("w1", 2).await;
    s.alert("[w1] 2 failed jobs", 0).await;

    // The sender dies; the other takes over and alerts the next transition, once.
    let (sender, survivor) = if a.is_sender().await { (a, b) } else { (b, a) };
    s.until_outbox_empty().await;
    sender.kill().await;
    until("the survivor sends", async || survivor.is_sender().await).await;
    s.stop_beating("w1").await;
    s.alert("[w1] worker down", 2).await;
    s.fence(1).await;
    let texts = s.standin.texts();
    assert_eq!(s.count("[w1] worker down"), 2, "{texts:#?}");
    assert_eq!(s.count("[w1] worker recovered"), 1, "{texts:#?}");
    assert_eq!(s.count("[w1] 2 failed jobs"), 1, "{texts:#?}");
    assert_eq!(texts.len(), 5, "{texts:#?}");
    survivor.kill().await;
    s.finish().await;
}

#[tokio::test]
async fn redis_stopped_under_six_workers_is_one_alert_and_back_is_one() {
    // The seed's six workers (no [[workers]]), plus the fence.
    let six = [
        "music-render",
        "video-render",
        "image-render",
        "insta-render",
        "task-watcher",
        "ai_trade",
    ];
    let config = CONFIG.split("[[workers]]").next().unwrap().to_owned()
        + &CONFIG[CONFIG.find("[alerts]").unwrap()..];
    let mut s = Scene::new("redis", &config).await;
    let pb = s.pulseboard().await;
    for name in six {
        s.beat(name, 45_000).await;
    }
    for name in six {
        s.until_judged(name, "alive", |m| m.alive == Some(true))
            .await;
    }
    s.redis.stop().await;
    s.alert("lost Redis", 0).await;
    // Back, empty (no persistence); the workers write their keys again.
    s.redis.restart().await.unwrap();
    s.conn = connect(&s.redis).await;
    for name in six {
        s.beat(name, 45_000).await;
    }
    s.alert("reaches Redis again", 0).await;
    // Fence: a dead-letter alert on a seed worker.
    let skip = s.standin.received().len();
    s.set_dead_letters("music-render", 1).await;
    s.alert("[music-render] 1 failed jobs", skip).await;
    let texts = s.standin.texts();
    assert_eq!(s.count("lost Redis"), 1, "{texts:#?}");
    assert_eq!(s.count("reaches Redis again"), 1, "{texts:#?}");
    let per_worker = s.count("worker down") + s.count("worker recovered");
    assert_eq!(per_worker, 0, "no per-worker alert: {texts:#?}");
    assert_eq!(texts.len(), 3, "{texts:#?}");
    pb.kill().await;
    s.finish().await;
}

#[tokio::test]
async fn a_failing_telegram_gets_the_alert_exactly_once_when_it_recovers() {
    let mut s = Scene::new("failing", CONFIG).await;
    let pb = s.pulseboard().await;
    s.beat("w1", 45_000).await;
    s.until_judged("w1", "alive", |m| m.alive == Some(true))
        .await;
    s.standin.fail_with(Some(500));
    s.stop_beating("w1").await;
    until("three refused attempts", async || s.standin.refused() >= 3).await;
    // The failure is visible in /readyz and in the event log, without the token.
    let status = pb.alerts().await;
    let telegram = &status["sinks"][0];
    assert!(
        telegram["last_error"]
            .as_str()
            .unwrap_or("")
            .contains("500"),
        "{status:#}"
    );
    assert_eq!(telegram["waiting"], 1, "{status:#}");
    let log = pb.get("/api/agent-office/events").await.unwrap();
    assert_eq!(log["events"][0]["type"], "failed", "{log:#}");
    assert!(!status.to_string().contains("secret-test-token"));

    s.standin.fail_with(None);
    s.alert("[w1] worker down", 0).await;
    s.fence(1).await;
    assert_eq!(s.count("[w1] worker down"), 1, "{:#?}", s.standin.texts());
    assert_eq!(s.standin.texts().len(), 2, "{:#?}", s.standin.texts());
    until("nothing waiting", async || {
        pb.alerts().await["sinks"][0]["waiting"] == 0
    })
    .await;
    let log = pb.kill().await;
    assert!(log.contains("will retry"), "{log}");
    assert_no_secret(&log);
    s.finish().await;
}

#[tokio::test]
async fn a_worker_flapping_ten_times_in_a_minute_gets_one_flapping_alert() {
    let mut s = Scene::new("flapping", CONFIG).await;
    let pb = s.pulseboard().await;
    for _ in 0..10 {
        s.beat("w1", 45_000).await;
        s.until_judged("w1", "alive", |m| m.alive == Some(true))
            .await;
        s.stop_beating("w1").await;
        s.until_judged("w1", "dead", |m| m.alive == Some(false))
            .await;
    }
    s.fence(1).await;
    let texts = s.standin.texts();
    // Three down/recovered pairs (flap_max = 3), then the fourth down is "flapping", then quiet.
    assert_eq!(s.count("[w1] worker flapping"), 1, "{texts:#?}");
    assert_eq!(s.count("[w1] worker down"), 3, "{texts:#?}");
    assert_eq!(s.count("[w1] worker recovered"), 3, "{texts:#?}");
    assert_eq!(texts.len(), 8, "{texts:#?}");
    pb.kill().await;
    s.finish().await;
}

#[tokio::test]
async fn a_sigtermed_sender_releases_its_lease_at_once() {
    // A lease far longer than the test's patience: only a release can end it in time.
    let config = CONFIG.replace("lease_ms = 600", "lease_ms = 60000");
    let mut s = Scene::new("sigterm", &config).await;
    let first = s.pulseboard().await;
    until("the first process sends", async || first.is_sender().await).await;
    let mut conn = s.conn.clone();
    until("the lease is in Redis", async || {
        conn.exists(LEASE_KEY).await.unwrap_or(false)
    })
    .await;
    let ttl_ms: i64 = s.conn.pttl(LEASE_KEY).await.unwrap();
    assert!(
        ttl_ms > 30_000,
        "a {ttl_ms} ms lease is not the configured one"
    );

    let log = first.terminate().await;
    let holder: Option<String> = s.conn.get(LEASE_KEY).await.unwrap();
    assert_eq!(holder, None, "the lease outlived its holder:\n{log}");

    // So a process started now sends at once, not when the 60 s lease would have run out.
    let second = s.pulseboard().await;
    until("the second process sends", async || {
        second.is_sender().await
    })
    .await;
    second.kill().await;
    s.finish().await;
}

/// A final beat, as `pulseboard run` and the SDK write it: a clean stop (no expiry, so the page
/// can say "stopped N min ago") or a crash with the child's exit code (the normal expiry).
async fn final_beat(conn: &mut MultiplexedConnection, name: &str, exit_code: i32) {
    let beat = Heartbeat {
        name: name.into(),
        kind: "render".into(),
        state: "idle".into(),
        ts: iso(chrono::Utc::now()),
        declared: pulseboard_shared::heartbeat::Declared {
            phase: (exit_code == 0).then_some(pulseboard_shared::Phase::Stopped),
            exit_code: Some(exit_code),
            ..Default::default()
        },
        ..Default::default()
    };
    let mut set = redis::cmd("SET");
    set.arg(heartbeat_key(name)).arg(beat.to_json());
    if exit_code != 0 {
        set.arg("EX").arg(45);
    }
    let _: () = set.query_async(conn).await.unwrap();
}

#[tokio::test]
async fn a_clean_stop_is_recorded_not_sent_and_a_crash_is_down_at_once() {
    let mut s = Scene::new("lifecycle", CONFIG).await;
    let pb = s.pulseboard().await;
    s.beat("w1", 45_000).await;
    s.beat("w2", 45_000).await;
    s.until_judged("w1", "alive", |m| m.alive == Some(true))
        .await;
    s.until_judged("w2", "alive", |m| m.alive == Some(true))
        .await;

    final_beat(&mut s.conn, "w1", 0).await;
    s.until_judged("w1", "stopped", |m| m.stopped).await;
    // A crash beat leaves its key in place: no waiting for it to expire.
    let crashed = Instant::now();
    final_beat(&mut s.conn, "w2", 3).await;
    let down = s.alert("[w2] worker down", 0).await;
    eprintln!(
        "crash beat -> down alert at the stand-in: {} ms",
        down.at.saturating_duration_since(crashed).as_millis()
    );
    assert!(
        down.at.saturating_duration_since(crashed) < Duration::from_secs(2),
        "the crash is down at once, not at the key's expiry"
    );
    s.fence(1).await;
    assert!(
        s.standin.texts().iter().all(|t| !t.contains("[w1]")),
        "a clean stop is not news: {:#?}",
        s.standin.texts()
    );
    assert_eq!(s.count("[w2] worker down"), 1);
    let events = pb.get("/api/agent-office/events?limit=100").await.unwrap();
    let stopped = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["alert"]["kind"] == "stopped" && e["alert"]["worker"] == "w1")
        .count();
    assert_eq!(stopped, 1, "one quiet event in the log: {events:#}");
    let nodes = pb.get("/api/agent-office/nodes").await.unwrap();
    let w1 = &nodes["workers"][0];
    assert_eq!(w1["lifecycle"]["state"], "stopped", "{nodes:#}");
    assert_eq!(
        nodes["links"][0]["status"], "paused",
        "a clean stop is no broken link"
    );
    assert_eq!(
        nodes["workers"][1]["lifecycle"]["reason"],
        "exited with code 3"
    );
    assert_no_secret(&pb.kill().await);
    s.finish().await;
}

/// A silence over a host: its worker's death is recorded as silenced and not sent; the silence
/// ended by hand while the worker is still down, the alert goes out then, once. A death after
/// that is sent at once.
#[tokio::test]
async fn a_silenced_death_is_recorded_and_sent_when_the_silence_ends_while_still_down() {
    let mut s = Scene::new("silence", CONFIG).await;
    let pb = s.pulseboard().await;
    for w in ["w1", "w2"] {
        s.beat(w, 45_000).await;
        s.until_judged(w, "alive", |m| m.alive == Some(true)).await;
    }
    // Bad silences are refused, naming the field; no token, 401.
    let post = |body: Value, token: Option<&str>| {
        let mut request = pb
            .http
            .post(format!("{}/api/agent-office/silences", pb.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.json(&body).send()
    };
    let body = serde_json::json!({"match": {"worker": "w1"}, "for_s": 3600, "reason": "disk swap"});
    assert_eq!(post(body.clone(), None).await.unwrap().status(), 401);
    let bad = serde_json::json!({"match": {"worker": "w1"}, "for_s": 0, "reason": "x"});
    let answer = post(bad, Some(ADMIN)).await.unwrap();
    assert_eq!(answer.status(), 400);
    assert!(answer.text().await.unwrap().contains("for_s"));
    let answer = post(body, Some(ADMIN)).await.unwrap();
    assert_eq!(answer.status(), 201);
    let silence: Value = answer.json().await.unwrap();
    let id = silence["id"].as_str().unwrap().to_owned();
    assert_eq!(
        (silence["by"].as_str(), silence["match"]["worker"].as_str()),
        (Some("ops"), Some("w1"))
    );
    let listed = pb.get("/api/agent-office/silences").await.unwrap();
    assert_eq!(listed["silences"][0]["id"], id.as_str());

    s.stop_beating("w1").await;
    s.until_judged("w1", "down", |m| m.alive == Some(false))
        .await;
    until("the silenced alert in the event log", async || {
        let log = pb
            .get("/api/agent-office/events?limit=50")
            .await
            .unwrap_or_default();
        log.to_string().contains(&format!("\"silenced\":\"{id}\""))
    })
    .await;
    s.fence(1).await;
    assert_eq!(s.count("[w1] worker down"), 0, "{:#?}", s.standin.texts());

    // Ended while w1 is still down: the alert is owed, and sent once.
    let skip = s.standin.received().len();
    let end = || {
        pb.http
            .delete(format!("{}/api/agent-office/silences/{id}", pb.base))
            .bearer_auth(ADMIN)
            .send()
    };
    assert_eq!(end().await.unwrap().status(), 200);
    s.alert("[w1] worker down", skip).await;
    let again = end().await.unwrap();
    assert_eq!(again.status(), 404, "an ended silence is gone");
    // Not silenced: w2's death goes out at once.
    s.stop_beating("w2").await;
    s.alert("[w2] worker down", skip).await;
    s.fence(2).await;
    assert_eq!(s.count("[w1] worker down"), 1, "{:#?}", s.standin.texts());

    // The same from a shell: `pulseboard silence add | list | end`.
    let cli = |args: &[&str]| {
        let out = std::process::Command::new(bin())
            .arg("silence")
            .args(args)
            .args(["--server", &pb.base])
            .env("PULSEBOARD_ADMIN_TOKEN", ADMIN)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        (
            out.status.success(),
            text,
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, added, err) = cli(&[
        "add", "--kind", "render", "--for", "10m", "--reason", "deploy",
    ]);
    assert!(ok, "{err}");
    assert!(
        added.contains("kind render  10m") && added.contains("left  by ops: deploy"),
        "{added}"
    );
    let id = added.split_whitespace().next().unwrap().to_owned();
    let (ok, listed, _) = cli(&["list"]);
    assert!(ok && listed.contains(&id), "{listed}");
    let (ok, ended, _) = cli(&["end", &id]);
    assert!(ok && ended.contains("ended"), "{ended}");
    let (ok, _, err) = cli(&["end", &id]);
    assert!(!ok && err.contains("404"), "{err}");
    assert_no_secret(&pb.kill().await);
    s.finish().await;
}

/// Three workers of one host die together: the first one's down goes out at once, the other two
/// are recorded (grouped) and one summary names all three when the group window closes; their
/// return likewise. Four messages for six transitions.
#[tokio::test]
async fn a_host_outage_is_two_messages_however_many_workers() {
    let config = CONFIG
        .replace("group_window_s = 0", "group_window_s = 2")
        .replace(
            "[alerts]",
            "[[workers]]\nname = \"w3\"\nkind = \"render\"\n[alerts]",
        );
    let mut s = Scene::new("incident", &config).await;
    let pb = s.pulseboard().await;
    for w in ["w1", "w2", "w3"] {
        s.beat(w, 45_000).await;
        s.until_judged(w, "alive", |m| m.alive == Some(true)).await;
    }
    for w in ["w1", "w2", "w3"] {
        s.stop_beating(w).await;
    }
    let summary = s.alert("windows: 3 workers down (", 0).await;
    let text = summary.text().to_owned();
    for w in ["w1", "w2", "w3"] {
        assert!(text.contains(w), "{text}");
    }
    let downs = s.count("worker down");
    assert_eq!(downs, 1, "one first alert: {:#?}", s.standin.texts());
    let log = pb
        .get("/api/agent-office/events?limit=50")
        .await
        .unwrap()
        .to_string();
    assert_eq!(log.matches("\"grouped\":true").count(), 2, "{log}");

    for w in ["w1", "w2", "w3"] {
        s.beat(w, 45_000).await;
    }
    s.alert("windows: 3 workers recovered (", 0).await;
    s.fence(1).await;
    assert_eq!(s.count("worker recovered"), 1, "{:#?}", s.standin.texts());
    assert_eq!(
        s.standin.texts().len(),
        5,
        "two per incident and the fence: {:#?}",
        s.standin.texts()
    );
    assert_no_secret(&pb.kill().await);
    s.finish().await;
}

/// Two workers die. Their messages carry Acknowledge and Silence buttons; a press from a user
/// not allowed changes nothing; Alice's press acknowledges w1 (answered, the message edited, the
/// event log says who) and w1 is never sent again, while w2, unacknowledged, is re-sent after
/// `renotify_after_s`, and its recovery names the same incident. The admin API then learns that
/// Alice was first. A route sends w2's alerts to another chat.
#[tokio::test]
async fn an_acknowledged_alert_is_not_sent_again_and_an_unacknowledged_one_is() {
    let config = CONFIG.replace(
        "group_window_s = 0",
        "group_window_s = 0\nrenotify_after_s = 2\n[alerts.telegram]\nallowed_user_ids = [7]\n\
         [[alerts.routes]]\nworker = \"w2\"\nsinks = [\"telegram\"]\nchat_id = \"99\"",
    );
    let mut s = Scene::new("ack", &config).await;
    let pb = s.pulseboard().await;
    for w in ["w1", "w2"] {
        s.beat(w, 45_000).await;
        s.until_judged(w, "alive", |m| m.alive == Some(true)).await;
    }
    s.stop_beating("w1").await;
    let down = s.alert("[w1] worker down", 0).await;
    s.stop_beating("w2").await;
    let routed = s.alert("[w2] worker down", 0).await;
    // w2's route names another chat; w1 takes none and goes to the configured one.
    assert_eq!(
        (&routed.body["chat_id"], &down.body["chat_id"]),
        (&Value::from("99"), &Value::from("42"))
    );
    let keys = &down.body["reply_markup"]["inline_keyboard"][0];
    let ack = keys[0]["callback_data"].as_str().unwrap().to_owned();
    assert!(ack.starts_with("ack:"), "{keys}");
    assert_eq!(keys[1]["callback_data"], ack.replace("ack:", "mute:"));
    let restart = ack.replace("ack:", "restart:");
    assert_eq!(keys[2]["callback_data"], restart, "the admin API is on");
    let message_id = s.standin.message_id("[w1] worker down");

    s.standin.press(8, "mallory", &ack, message_id, down.text());
    until("mallory answered", async || {
        s.standin
            .calls("answerCallbackQuery")
            .iter()
            .any(|c| c["text"] == "Not allowed")
    })
    .await;
    assert!(
        s.standin.calls("editMessageText").is_empty(),
        "nothing changes"
    );

    s.standin.press(7, "alice", &ack, message_id, down.text());
    until("alice's press edits the message", async || {
        !s.standin.calls("editMessageText").is_empty()
    })
    .await;
    let edited = s.standin.calls("editMessageText").remove(0);
    assert_eq!(edited["message_id"], message_id);
    let text = edited["text"].as_str().unwrap();
    assert!(
        text.starts_with("🔴 [w1] worker down") && text.ends_with("✅ Acknowledged by @alice (7)"),
        "{text}"
    );
    let acked_at = s.standin.received().len();
    pb.until_logged("Acknowledged by @alice (7) via Telegram: 🔴 [w1] worker down")
        .await;

    // w2 is re-sent (twice: more than a period passes after alice's press); w1 never again.
    let again = s
        .alert("nobody acknowledged: 🔴 [w2] worker down", acked_at)
        .await;
    assert!(
        again.body["reply_markup"].is_object(),
        "a reminder has the buttons too"
    );
    let skip = 1 + s
        .standin
        .received()
        .iter()
        .rposition(|r| r.text().contains("[w2] worker down"))
        .unwrap();
    s.alert("nobody acknowledged: 🔴 [w2] worker down", skip)
        .await;
    let late: Vec<_> = s
        .standin
        .texts()
        .into_iter()
        .skip(acked_at)
        .filter(|t| t.contains("[w1]"))
        .collect();
    assert!(late.is_empty(), "w1 was acknowledged: {late:#?}");

    // w2's recovery threads to its down alert's incident.
    s.beat("w2", 45_000).await;
    s.alert("[w2] worker recovered", 0).await;
    let log = pb.get("/api/agent-office/events?limit=100").await.unwrap();
    let incident_of = |kind: &str| {
        log["events"].as_array().unwrap().iter().find_map(|e| {
            let a = &e["alert"];
            (a["kind"] == kind && a["worker"] == "w2").then(|| a["incident"].clone())
        })
    };
    assert_eq!(incident_of("recovered"), incident_of("down"));
    assert!(incident_of("down").unwrap().is_string());

    // Restart goes the admin API's way: w1 no longer beats and this server has no agent key,
    // so it is refused, and alice is told why.
    s.standin
        .press(7, "alice", &restart, message_id, down.text());
    until("the restart refused", async || {
        let answers = s.standin.calls("answerCallbackQuery");
        answers.iter().any(|c| {
            c["text"]
                .as_str()
                .is_some_and(|t| t.contains("no agent key"))
        })
    })
    .await;

    // The API: a token is needed; alice was first.
    let id = ack.trim_start_matches("ack:");
    let url = format!("{}/api/agent-office/alerts/{id}/ack", pb.base);
    assert_eq!(s.http.post(&url).send().await.unwrap().status(), 401);
    let answer: Value = s
        .http
        .post(&url)
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (answer["by"].as_str(), answer["first"].as_bool()),
        (Some("@alice (7)"), Some(false))
    );
    assert_no_secret(&pb.kill().await);
    s.finish().await;
}

/// Webhook mode: the sender registers the webhook (`setWebhook` with the URL, the secret and
/// presses only) and nobody polls. A press POSTed with a wrong or no secret is 401 and changes
/// nothing; with the right one it acknowledges the alert as a polled press does (answered, the
/// message edited, the event log names alice). An update that is not a press is ignored, one
/// that is not JSON is 400.
#[tokio::test]
async fn in_webhook_mode_a_posted_press_acknowledges_and_a_wrong_secret_changes_nothing() {
    const HOOK: &str = "https://board.example.com/api/agent-office/telegram/presses";
    const SECRET: &str = "webhook-secret_0123456789";
    let config = CONFIG.replace(
        "group_window_s = 0",
        &format!(
            "group_window_s = 0\n[alerts.telegram]\nallowed_user_ids = [7]\n\
             webhook_url = {HOOK:?}\nwebhook_secret = {SECRET:?}"
        ),
    );
    let mut s = Scene::new("webhook", &config).await;
    let pb = s.pulseboard().await;
    until("setWebhook", async || {
        !s.standin.calls("setWebhook").is_empty()
    })
    .await;
    let set = s.standin.calls("setWebhook").remove(0);
    assert_eq!(set["url"], HOOK);
    assert_eq!(set["secret_token"], SECRET);
    assert_eq!(
        set["allowed_updates"],
        serde_json::json!(["callback_query"])
    );

    s.beat("w1", 45_000).await;
    s.until_judged("w1", "alive", |m| m.alive == Some(true))
        .await;
    s.stop_beating("w1").await;
    let down = s.alert("[w1] worker down", 0).await;
    let ack = down.body["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(ack.starts_with("ack:"), "{ack}");
    let message_id = s.standin.message_id("[w1] worker down");
    let update = press_update(1, 7, "alice", &ack, message_id, down.text());
    let url = format!("{}/api/agent-office/telegram/presses", pb.base);
    let post = |secret: Option<&str>, body: String| {
        let mut request = s.http.post(&url).body(body);
        if let Some(secret) = secret {
            request = request.header("X-Telegram-Bot-Api-Secret-Token", secret);
        }
        async move { request.send().await.unwrap().status().as_u16() }
    };

    for wrong in [Some("webhook-secret_0123456788"), Some(""), None] {
        assert_eq!(post(wrong, update.to_string()).await, 401, "{wrong:?}");
    }
    assert!(
        s.standin.calls("answerCallbackQuery").is_empty()
            && s.standin.calls("editMessageText").is_empty(),
        "a wrong secret changes nothing"
    );
    let not_a_press = serde_json::json!({"update_id": 2, "message": {"text": "hi"}});
    assert_eq!(post(Some(SECRET), not_a_press.to_string()).await, 200);
    assert_eq!(post(Some(SECRET), "{not json".into()).await, 400);
    let log = pb.get("/api/agent-office/events?limit=50").await.unwrap();
    assert!(
        !log.to_string().contains("Acknowledged by"),
        "nothing acknowledged yet: {log}"
    );

    // The answer comes once the press is handled: answered and edited by then.
    assert_eq!(post(Some(SECRET), update.to_string()).await, 200);
    let answers = s.standin.calls("answerCallbackQuery");
    assert_eq!(answers.len(), 1, "{answers:?}");
    assert_eq!(
        (&answers[0]["callback_query_id"], &answers[0]["text"]),
        (&Value::from("press-1"), &Value::from("Acknowledged"))
    );
    let edited = s.standin.calls("editMessageText").remove(0);
    assert_eq!(edited["message_id"], message_id);
    let text = edited["text"].as_str().unwrap();
    assert!(text.ends_with("✅ Acknowledged by @alice (7)"), "{text}");
    pb.until_logged("Acknowledged by @alice (7) via Telegram: 🔴 [w1] worker down")
        .await;

    assert_eq!(s.standin.polls(), 0, "webhook mode never calls getUpdates");
    let log = pb.kill().await;
    assert_no_secret(&log);
    assert!(!log.contains(SECRET), "the webhook secret leaked:\n{log}");
    assert!(log.contains("Telegram webhook set"), "{log}");
    s.finish().await;
}

/// Polling mode on a bot that has a webhook set: Telegram answers `getUpdates` with 409. The
/// log says once what to do (set webhook_url, or deleteWebhook), however often the poll is
/// refused, and polling goes on once the conflict is gone.
#[tokio::test]
async fn a_polled_bot_with_a_webhook_set_says_once_what_to_do() {
    let config = CONFIG.replace(
        "group_window_s = 0",
        "group_window_s = 0\n[alerts.telegram]\nallowed_user_ids = [7]",
    );
    let s = Scene::new("conflict", &config).await;
    s.standin.fail_with(Some(409));
    let pb = s.pulseboard().await;
    until("two refused polls", async || s.standin.refused() >= 2).await;
    let told = pb.log().matches("deleteWebhook").count();
    assert_eq!(told, 1, "{}", pb.log());
    assert!(pb.log().contains("webhook_url"), "{}", pb.log());
    s.standin.fail_with(None);
    until("polling again", async || s.standin.polls() > 0).await;
    assert_no_secret(&pb.kill().await);
    s.finish().await;
}
