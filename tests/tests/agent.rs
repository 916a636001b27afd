//! `pulseboard agent` as a separate process against a real Redis, with small shell scripts as
//! the "supervisor" it runs (each appends its argv to a log, says something on stderr, maybe
//! sleeps, and exits with a chosen code): a restart run once with exactly the listed argv,
//! reset before restart, a failure's exit code and stderr, refusals that run nothing, a request
//! interrupted by a SIGKILL not run again, a command finished on SIGTERM, Redis going away and
//! back, and the beat; forged requests (unsigned, wrongly signed, for another host, stale,
//! replayed, too large) that run nothing and are answered `refused`, and an agent without a key
//! that does not start.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU32, Ordering};

use chrono::{SecondsFormat, Utc};
use pulseboard_server::redis_server::RedisServer;
use pulseboard_shared::agent::key::AgentKeys;
use pulseboard_shared::agent::sign::{sign_request, verify_result};
use pulseboard_shared::agent::{
    beat_key, requests_key, started_key, AgentAction, AgentResult, Beat, Outcome, RefusalKind,
    Request, GROUP, MAX_ENTRY_BYTES, RESULTS_KEY, STDERR_TAIL_BYTES,
};
use pulseboard_tests::{eventually, exit_code, pulseboard_bin, signal};
use redis::aio::MultiplexedConnection;
use redis::AsyncCommands;
use tokio::process::{Child, Command};

const HOST: &str = "gpu-01";

/// The key the agent and these tests (as the server) share.
const KEY: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

fn keys() -> AgentKeys {
    AgentKeys::parse(KEY).unwrap()
}

/// A request as the server writes it: for `host`, at `at`, signed with `key`.
fn request_json(id: &str, host: &str, worker: &str, at: &str, key: &str) -> String {
    let mut request = Request {
        id: id.into(),
        host: host.into(),
        worker: worker.into(),
        action: AgentAction::Restart,
        by: "test".into(),
        at: at.into(),
        sig: String::new(),
    };
    sign_request(&AgentKeys::parse(key).unwrap(), &mut request);
    request.to_json()
}

fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// A test's own folder: the allow-list, the scripts, their log and the agent's stderr.
struct Scene {
    dir: PathBuf,
    redis: RedisServer,
}

impl Scene {
    async fn new(test: &str) -> Self {
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "pb-agent-{}-{}-{test}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let redis = RedisServer::start().await.expect("start redis-server");
        Self { dir, redis }
    }

    async fn conn(&self) -> MultiplexedConnection {
        redis::Client::open(self.redis.url())
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .expect("connect to the private redis")
    }

    /// A supervisor script: appends `<name>` and its arguments (each in brackets) to `runs.log`,
    /// writes its pid to `<name>.pid`, prints `stderr` on stderr, sleeps `sleep_s`, exits `code`.
    fn script(&self, name: &str, code: i32, stderr: &str, sleep_s: f64) -> String {
        let path = self.dir.join(format!("{name}.sh"));
        let log = self.dir.join("runs.log");
        let text = format!(
            "#!/bin/sh\n\
             line='{name}'\n\
             for a in \"$@\"; do line=\"$line [$a]\"; done\n\
             echo \"$line\" >> '{log}'\n\
             echo $$ > '{pid}'\n\
             {stderr}\n\
             sleep {sleep_s}\n\
             exit {code}\n",
            log = log.display(),
            pid = self.dir.join(format!("{name}.pid")).display(),
        );
        std::fs::write(&path, text).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path.display().to_string()
    }

    /// Writes the allow-list and returns its path.
    fn allow_list(&self, toml: &str) -> PathBuf {
        let path = self.dir.join("agent.toml");
        std::fs::write(&path, toml).unwrap();
        path
    }

    /// The supervisor scripts' runs, one line each, in order.
    fn runs(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.join("runs.log"))
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// The agent's log (its stderr, every run of it in this scene).
    fn agent_log(&self) -> String {
        std::fs::read_to_string(self.dir.join("agent.log")).unwrap_or_default()
    }

    /// Starts `pulseboard agent` on the allow-list at `config`, and waits for its consumer group.
    async fn agent(&self, config: &Path) -> Child {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("agent.log"))
            .unwrap();
        let child = Command::new(pulseboard_bin())
            .args(["agent", "--host", HOST, "--beat-interval-ms", "100"])
            .arg("--config")
            .arg(config)
            .args(["--redis", &self.redis.url()])
            .env("PULSEBOARD_AGENT_KEY", KEY)
            .env_remove("PULSEBOARD_AGENT_KEY_FILE")
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .expect("pulseboard agent starts");
        self.wait_group().await;
        child
    }

    /// Waits until the agent's consumer group exists (requests added before it are not seen).
    async fn wait_group(&self) {
        let conn = self.conn().await;
        eventually("the agent's consumer group", || {
            let mut conn = conn.clone();
            async move {
                let groups: redis::Value = redis::cmd("XINFO")
                    .arg("GROUPS")
                    .arg(requests_key(HOST))
                    .query_async(&mut conn)
                    .await
                    .ok()?;
                format!("{groups:?}").contains(GROUP).then_some(())
            }
        })
        .await
        .unwrap_or_else(|| panic!("no consumer group; agent log:\n{}", self.agent_log()));
    }

    /// Puts `request` on the host's stream as pulseboard does: for this host, now, signed.
    async fn ask(&self, id: &str, worker: &str, action: AgentAction) {
        let mut request = Request {
            id: id.into(),
            host: HOST.into(),
            worker: worker.into(),
            action,
            by: "test".into(),
            at: now(),
            sig: String::new(),
        };
        sign_request(&keys(), &mut request);
        self.xadd(&[("request", &request.to_json())]).await;
    }

    /// Puts a raw entry with `fields` on the host's stream; its stream id.
    async fn xadd(&self, fields: &[(&str, &str)]) -> String {
        let mut conn = self.conn().await;
        redis::cmd("XADD")
            .arg(requests_key(HOST))
            .arg("*")
            .arg(fields)
            .query_async(&mut conn)
            .await
            .unwrap()
    }

    /// Every result on the results stream, oldest first.
    async fn results(&self) -> Vec<AgentResult> {
        let mut conn = self.conn().await;
        let entries: Vec<(String, Vec<(String, String)>)> = redis::cmd("XRANGE")
            .arg(RESULTS_KEY)
            .arg("-")
            .arg("+")
            .query_async(&mut conn)
            .await
            .unwrap();
        entries
            .into_iter()
            .map(|(_, fields)| {
                assert_eq!(fields.len(), 1, "one field: {fields:?}");
                let (name, text) = &fields[0];
                assert_eq!(name, "result");
                serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
            })
            .collect()
    }

    /// The result for request `id`, once there is one.
    async fn result(&self, id: &str) -> AgentResult {
        eventually(&format!("the result of {id}"), || async {
            self.results().await.into_iter().find(|r| r.id == id)
        })
        .await
        .unwrap_or_else(|| panic!("no result for {id}; agent log:\n{}", self.agent_log()))
    }

    /// Entries delivered to the agent and not acknowledged.
    async fn pending(&self) -> i64 {
        let mut conn = self.conn().await;
        let (count, _, _, _): (i64, redis::Value, redis::Value, redis::Value) =
            redis::cmd("XPENDING")
                .arg(requests_key(HOST))
                .arg(GROUP)
                .query_async(&mut conn)
                .await
                .unwrap();
        count
    }

    async fn started(&self) -> Vec<String> {
        let mut conn = self.conn().await;
        conn.smembers(started_key(HOST)).await.unwrap()
    }

    async fn stop(mut self) {
        self.redis.stop().await;
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[tokio::test]
async fn a_restart_runs_exactly_the_listed_argv_once_and_is_answered_done() {
    let scene = Scene::new("restart").await;
    let ok = scene.script("restart", 0, "", 0.0);
    let pwned = scene.dir.join("PWNED");
    let config = scene.allow_list(&format!(
        "[workers.render-1]\nrestart = [{ok:?}, \"restart\", \"render-1.service\", \"two words\", \"$(touch {})\"]\n",
        pwned.display()
    ));
    let mut agent = scene.agent(&config).await;
    scene.ask("r-1", "render-1", AgentAction::Restart).await;
    let result = scene.result("r-1").await;
    assert_eq!(result.outcome, Outcome::Done, "{result:?}");
    assert_eq!(result.exit_code, Some(0));
    assert_eq!(
        (result.host.as_str(), result.worker.as_str()),
        (HOST, "render-1")
    );
    assert!(
        result.at.ends_with('Z') && result.detail.is_empty(),
        "{result:?}"
    );
    assert_eq!(
        scene.runs(),
        [format!(
            "restart [restart] [render-1.service] [two words] [$(touch {})]",
            pwned.display()
        )],
        "run once, each argument as listed, nothing through a shell"
    );
    assert!(!pwned.exists(), "no shell ever saw the arguments");
    assert_eq!(scene.pending().await, 0, "acknowledged");
    assert!(
        scene.started().await.is_empty(),
        "the started set is emptied"
    );
    // A second request, answered after the first: by then the first has not run again.
    scene.ask("r-2", "nobody", AgentAction::Restart).await;
    scene.result("r-2").await;
    assert_eq!(scene.runs().len(), 1, "{:?}", scene.runs());
    let results = scene.results().await;
    assert_eq!(results.iter().filter(|r| r.id == "r-1").count(), 1);
    assert!(
        scene.agent_log().contains("request done"),
        "{}",
        scene.agent_log()
    );
    signal(&agent, "TERM");
    assert_eq!(exit_code(&mut agent).await, 0);
    scene.stop().await;
}

#[tokio::test]
async fn reset_and_restart_runs_reset_then_restart_and_without_a_reset_only_restart() {
    let scene = Scene::new("reset").await;
    let script = scene.script("supervisor", 0, "", 0.0);
    let config = scene.allow_list(&format!(
        "[workers.render-1]\n\
         restart = [{script:?}, \"restart\", \"render-1.service\"]\n\
         reset = [{script:?}, \"reset-failed\", \"render-1.service\"]\n\
         [workers.render-2]\n\
         restart = [{script:?}, \"restart\", \"render-2.service\"]\n"
    ));
    let mut agent = scene.agent(&config).await;
    scene
        .ask("r-1", "render-1", AgentAction::ResetAndRestart)
        .await;
    assert_eq!(scene.result("r-1").await.outcome, Outcome::Done);
    scene
        .ask("r-2", "render-2", AgentAction::ResetAndRestart)
        .await;
    assert_eq!(scene.result("r-2").await.outcome, Outcome::Done);
    assert_eq!(
        scene.runs(),
        [
            "supervisor [reset-failed] [render-1.service]",
            "supervisor [restart] [render-1.service]",
            "supervisor [restart] [render-2.service]",
        ]
    );
    signal(&agent, "TERM");
    assert_eq!(exit_code(&mut agent).await, 0);
    scene.stop().await;
}

#[tokio::test]
async fn a_failing_command_is_answered_with_its_exit_code_and_the_end_of_its_stderr() {
    let scene = Scene::new("failing").await;
    let noisy = "i=0; while [ $i -lt 400 ]; do echo \"noise line $i\" >&2; i=$((i+1)); done; \
                 echo 'Job for render-1.service failed.' >&2";
    let failing = scene.script("restart", 3, noisy, 0.0);
    let reset_fails = scene.script("reset", 1, "echo 'no such unit' >&2", 0.0);
    let never = scene.script("never", 0, "", 0.0);
    let config = scene.allow_list(&format!(
        "[workers.render-1]\nrestart = [{failing:?}]\n\
         [workers.render-2]\nrestart = [{never:?}]\nreset = [{reset_fails:?}]\n"
    ));
    let mut agent = scene.agent(&config).await;
    scene.ask("f-1", "render-1", AgentAction::Restart).await;
    let result = scene.result("f-1").await;
    assert_eq!(result.outcome, Outcome::Failed, "{result:?}");
    assert_eq!(result.exit_code, Some(3));
    assert!(
        result
            .detail
            .ends_with("noise line 399\nJob for render-1.service failed.\n"),
        "{}",
        result.detail
    );
    assert!(result.detail.len() <= STDERR_TAIL_BYTES, "only the end");
    assert!(!result.detail.contains("noise line 0\n"), "only the end");

    scene
        .ask("f-2", "render-2", AgentAction::ResetAndRestart)
        .await;
    let result = scene.result("f-2").await;
    assert_eq!(
        (result.outcome, result.exit_code, result.detail.as_str()),
        (Outcome::Failed, Some(1), "no such unit\n")
    );
    assert_eq!(
        scene.runs(),
        ["restart", "reset"],
        "no restart after a failed reset"
    );
    assert_eq!(scene.pending().await, 0);
    assert!(
        scene.agent_log().contains("request failed"),
        "{}",
        scene.agent_log()
    );
    signal(&agent, "TERM");
    assert_eq!(exit_code(&mut agent).await, 0);
    scene.stop().await;
}

#[tokio::test]
async fn unknown_workers_argv_and_garbage_are_refused_and_nothing_runs() {
    let scene = Scene::new("refused").await;
    let script = scene.script("restart", 0, "", 0.0);
    let config = scene.allow_list(&format!("[workers.render-1]\nrestart = [{script:?}]\n"));
    let mut agent = scene.agent(&config).await;
    scene.ask("u-1", "mallory", AgentAction::Restart).await;
    scene
        .xadd(&[
            ("worker", "render-1"),
            ("argv", "/bin/sh -c 'touch /tmp/x'"),
        ])
        .await;
    let with_argv = r#"{"id":"a-1","worker":"render-1","action":"restart","by":"x","at":"t","argv":["/bin/sh","-c","id"]}"#;
    scene.xadd(&[("request", with_argv)]).await;
    scene.xadd(&[("request", "rm -rf /")]).await;
    let results = eventually("four answers", || async {
        let results = scene.results().await;
        (results.len() == 4).then_some(results)
    })
    .await
    .unwrap_or_else(|| panic!("agent log:\n{}", scene.agent_log()));
    assert!(
        results.iter().all(|r| r.outcome == Outcome::Refused),
        "{results:#?}"
    );
    assert!(results
        .iter()
        .all(|r| r.exit_code.is_none() && r.host == HOST));
    assert_eq!(
        (
            results[0].id.as_str(),
            results[0].worker.as_str(),
            results[0].detail.as_str()
        ),
        ("u-1", "mallory", "mallory is not in the allow-list")
    );
    assert!(
        results[1].detail.contains("exactly one field"),
        "{:?}",
        results[1]
    );
    assert_eq!(results[2].id, "a-1");
    assert!(
        results[2].detail.contains("unknown field `argv`"),
        "{:?}",
        results[2]
    );
    assert!(
        results[3].detail.starts_with("not a request"),
        "{:?}",
        results[3]
    );
    assert!(scene.runs().is_empty(), "nothing ran: {:?}", scene.runs());
    assert_eq!(scene.pending().await, 0, "refusals are acknowledged too");
    assert!(
        results.iter().all(|r| verify_result(&keys(), r).is_ok()),
        "every answer is signed: {results:#?}"
    );
    let log = scene.agent_log();
    assert_eq!(
        log.matches("request refused").count(),
        3,
        "one line per reason (two are not requests): {log}"
    );
    assert!(log.contains("not in the allow-list"), "{log}");
    assert!(log.contains("WARN"), "{log}");
    signal(&agent, "TERM");
    assert_eq!(exit_code(&mut agent).await, 0);
    scene.stop().await;
}

#[tokio::test]
async fn forged_requests_run_nothing_and_are_answered_refused_and_a_copy_even_after_a_restart() {
    let scene = Scene::new("forged").await;
    let marker = scene.dir.join("RESTARTED");
    let harmless = scene.script("restart", 0, "", 0.0);
    // render-1's restart would leave a marker: it must never appear.
    let config = scene.allow_list(&format!(
        "[workers.render-1]\nrestart = [\"touch\", {marker:?}]\n\
         [workers.render-2]\nrestart = [{harmless:?}]\n"
    ));
    let mut agent = scene.agent(&config).await;
    const OTHER: &str = "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae";
    let stale_at =
        (Utc::now() - chrono::Duration::minutes(10)).to_rfc3339_opts(SecondsFormat::Millis, true);
    let future_at =
        (Utc::now() + chrono::Duration::minutes(10)).to_rfc3339_opts(SecondsFormat::Millis, true);
    let mut unsigned = request_json("u-0", HOST, "render-1", &now(), KEY);
    unsigned = unsigned.replace(&unsigned[unsigned.find(",\"sig\"").unwrap()..], "}");
    // A flood of unsigned entries: each answered, the log says it once.
    for i in 0..20 {
        scene
            .xadd(&[("request", &unsigned.replace("u-0", &format!("u-{i}")))])
            .await;
    }
    let forged = [
        ("b-1", request_json("b-1", HOST, "render-1", &now(), OTHER)),
        (
            "h-1",
            request_json("h-1", "gpu-02", "render-1", &now(), KEY),
        ),
        ("s-1", request_json("s-1", HOST, "render-1", &stale_at, KEY)),
        (
            "f-1",
            request_json("f-1", HOST, "render-1", &future_at, KEY),
        ),
    ];
    for (_, json) in &forged {
        scene.xadd(&[("request", json)]).await;
    }
    let huge = format!(
        "{{\"id\":\"big-1\",\"pad\":\"{}\"}}",
        "x".repeat(MAX_ENTRY_BYTES)
    );
    let huge_entry = scene.xadd(&[("request", &huge)]).await;
    // A genuine request for render-2, then a copy of it: the copy runs nothing.
    let genuine = request_json("r-1", HOST, "render-2", &now(), KEY);
    scene.xadd(&[("request", &genuine)]).await;
    scene.xadd(&[("request", &genuine)]).await;

    let expected = [
        ("u-0", RefusalKind::Unsigned),
        ("u-19", RefusalKind::Unsigned),
        ("b-1", RefusalKind::BadSignature),
        ("h-1", RefusalKind::WrongHost),
        ("s-1", RefusalKind::Stale),
        ("f-1", RefusalKind::Future),
        (huge_entry.as_str(), RefusalKind::TooLarge),
    ];
    for (id, kind) in expected {
        let result = scene.result(id).await;
        assert_eq!(
            (result.outcome, result.refused),
            (Outcome::Refused, Some(kind)),
            "{id}: {result:?}"
        );
        assert!(result.exit_code.is_none(), "{result:?}");
        assert_eq!(
            verify_result(&keys(), &result),
            Ok(()),
            "signed: {result:?}"
        );
    }
    let copies = eventually("the genuine request and its copy answered", || async {
        let r: Vec<_> = scene
            .results()
            .await
            .into_iter()
            .filter(|r| r.id == "r-1")
            .collect();
        (r.len() == 2).then_some(r)
    })
    .await
    .unwrap_or_else(|| panic!("agent log:\n{}", scene.agent_log()));
    assert_eq!(copies[0].outcome, Outcome::Done);
    assert_eq!(copies[1].refused, Some(RefusalKind::Replayed), "{copies:?}");
    assert_eq!(
        scene.runs().len(),
        1,
        "the copy ran nothing: {:?}",
        scene.runs()
    );

    // Restarted, the agent still knows r-1: another copy is refused too.
    signal(&agent, "TERM");
    assert_eq!(exit_code(&mut agent).await, 0);
    let mut again = scene.agent(&config).await;
    scene.xadd(&[("request", &genuine)]).await;
    eventually("the copy after a restart answered", || async {
        let n = scene
            .results()
            .await
            .iter()
            .filter(|r| r.id == "r-1")
            .count();
        (n == 3).then_some(())
    })
    .await
    .unwrap_or_else(|| panic!("agent log:\n{}", scene.agent_log()));
    let last = scene
        .results()
        .await
        .into_iter()
        .rev()
        .find(|r| r.id == "r-1")
        .unwrap();
    assert_eq!(last.refused, Some(RefusalKind::Replayed), "{last:?}");
    assert_eq!(scene.runs().len(), 1, "{:?}", scene.runs());

    assert!(!marker.exists(), "no forged request ran render-1's restart");
    assert_eq!(scene.pending().await, 0, "every forgery acknowledged");
    let log = scene.agent_log();
    let unsigned_lines = log
        .lines()
        .filter(|l| l.contains("request refused") && l.contains("unsigned"))
        .count();
    assert_eq!(unsigned_lines, 1, "a flood is one line per reason: {log}");
    assert!(
        log.contains("bad_signature") && log.contains("too_large"),
        "{log}"
    );
    signal(&again, "TERM");
    assert_eq!(exit_code(&mut again).await, 0);
    scene.stop().await;
}

#[tokio::test]
async fn without_a_key_or_with_a_weak_one_the_agent_does_not_start_and_says_how() {
    let scene = Scene::new("nokey").await;
    let script = scene.script("restart", 0, "", 0.0);
    let config = scene.allow_list(&format!("[workers.render-1]\nrestart = [{script:?}]\n"));
    for (key, says) in [
        (None, "PULSEBOARD_AGENT_KEY"),
        (
            Some("0123456789abcdef0123456789abcdef"),
            "too few distinct bytes",
        ),
        (Some("abcd"), "openssl rand -hex 32"),
    ] {
        let mut agent = Command::new(pulseboard_bin());
        agent
            .args(["agent", "--host", HOST, "--config"])
            .arg(&config)
            .args(["--redis", &scene.redis.url()])
            .env_remove("PULSEBOARD_AGENT_KEY")
            .env_remove("PULSEBOARD_AGENT_KEY_FILE");
        if let Some(key) = key {
            agent.env("PULSEBOARD_AGENT_KEY", key);
        }
        let out = agent.output().await.unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(
            stderr.contains(says) && stderr.contains("openssl rand -hex 32"),
            "{stderr}"
        );
        if let Some(key) = key {
            assert!(!stderr.contains(key), "the key is never echoed: {stderr}");
        }
    }
    scene.stop().await;
}

#[tokio::test]
async fn a_request_whose_agent_was_killed_mid_command_is_interrupted_not_run_again() {
    let scene = Scene::new("killed").await;
    let sleepy = scene.script("restart", 0, "", 30.0);
    let config = scene.allow_list(&format!("[workers.render-1]\nrestart = [{sleepy:?}]\n"));
    let mut agent = scene.agent(&config).await;
    scene.ask("k-1", "render-1", AgentAction::Restart).await;
    eventually("the command running", || async {
        (scene.runs().len() == 1).then_some(())
    })
    .await
    .expect("the command started");
    assert_eq!(scene.started().await, ["k-1"], "recorded before it ran");
    agent.kill().await.unwrap(); // SIGKILL: no goodbye
    assert_eq!(scene.pending().await, 1, "delivered, not acknowledged");

    let mut again = scene.agent(&config).await;
    let result = scene.result("k-1").await;
    assert_eq!(result.outcome, Outcome::Interrupted, "{result:?}");
    assert_eq!(result.exit_code, None);
    assert_eq!(scene.runs().len(), 1, "not run a second time");
    assert_eq!(scene.pending().await, 0);
    assert!(scene.started().await.is_empty());
    assert!(
        scene.agent_log().contains("not run again"),
        "{}",
        scene.agent_log()
    );
    signal(&again, "TERM");
    assert_eq!(exit_code(&mut again).await, 0);
    // The orphaned supervisor script and its sleep (their own process group).
    let pid = std::fs::read_to_string(scene.dir.join("restart.pid")).unwrap();
    let _ = std::process::Command::new("kill")
        .args(["-KILL", "--", &format!("-{}", pid.trim())])
        .status();
    scene.stop().await;
}

#[tokio::test]
async fn sigterm_lets_the_running_command_finish_then_deletes_the_beat_and_exits_0() {
    let scene = Scene::new("sigterm").await;
    let slow = scene.script("restart", 0, "", 1.0);
    let config = scene.allow_list(&format!("[workers.render-1]\nrestart = [{slow:?}]\n"));
    let mut agent = scene.agent(&config).await;
    scene.ask("t-1", "render-1", AgentAction::Restart).await;
    eventually("the command running", || async {
        (scene.runs().len() == 1).then_some(())
    })
    .await
    .expect("the command started");
    signal(&agent, "TERM");
    assert_eq!(exit_code(&mut agent).await, 0);
    let results = scene.results().await;
    assert_eq!(results.len(), 1, "answered before exiting: {results:?}");
    assert_eq!(results[0].outcome, Outcome::Done);
    assert!(results[0].duration_ms >= 900, "{:?}", results[0]);
    let mut conn = scene.conn().await;
    let beat: bool = conn.exists(beat_key(HOST)).await.unwrap();
    assert!(!beat, "the beat is deleted");
    scene.stop().await;
}

#[tokio::test]
async fn the_beat_names_the_agent_and_its_workers_and_goes_on_sigterm() {
    let scene = Scene::new("beat").await;
    let script = scene.script("restart", 0, "", 0.0);
    let config = scene.allow_list(&format!(
        "[workers.zeta]\nrestart = [{script:?}]\n[workers.alpha]\nrestart = [{script:?}]\n"
    ));
    let mut agent = scene.agent(&config).await;
    let mut conn = scene.conn().await;
    let beat: Beat = eventually("the beat", || {
        let mut conn = conn.clone();
        async move {
            let text: Option<String> = conn.get(beat_key(HOST)).await.ok()?;
            serde_json::from_str(&text?).ok()
        }
    })
    .await
    .expect("a beat");
    assert_eq!(beat.name, format!("agent@{HOST}"));
    assert_eq!((beat.kind.as_str(), beat.host.as_str()), ("agent", HOST));
    assert_eq!(beat.workers, ["alpha", "zeta"], "sorted");
    assert_eq!(beat.pid, agent.id().unwrap());
    assert_eq!(beat.version, env!("CARGO_PKG_VERSION"));
    assert!(beat.ts.ends_with('Z'), "{}", beat.ts);
    let ttl: i64 = conn.ttl(beat_key(HOST)).await.unwrap();
    assert!(
        (1..=45).contains(&ttl),
        "expires after the heartbeat TTL: {ttl}"
    );
    signal(&agent, "TERM");
    assert_eq!(exit_code(&mut agent).await, 0);
    let exists: bool = conn.exists(beat_key(HOST)).await.unwrap();
    assert!(!exists, "the beat is deleted on the way out");
    assert!(
        scene.agent_log().contains("beat deleted"),
        "{}",
        scene.agent_log()
    );
    scene.stop().await;
}

#[tokio::test]
async fn redis_going_away_is_logged_once_and_the_agent_carries_on_when_it_returns() {
    let mut scene = Scene::new("outage").await;
    let script = scene.script("restart", 0, "", 0.0);
    let config = scene.allow_list(&format!("[workers.render-1]\nrestart = [{script:?}]\n"));
    let mut agent = scene.agent(&config).await;
    scene.redis.stop().await;
    eventually("the outage logged", || async {
        scene
            .agent_log()
            .contains("redis unreachable")
            .then_some(())
    })
    .await
    .unwrap_or_else(|| panic!("{}", scene.agent_log()));
    assert!(agent.try_wait().unwrap().is_none(), "still running");
    // Back, empty: the agent makes its group again and serves.
    scene.redis.restart().await.unwrap();
    scene.wait_group().await;
    scene.ask("o-1", "render-1", AgentAction::Restart).await;
    assert_eq!(scene.result("o-1").await.outcome, Outcome::Done);
    let log = scene.agent_log();
    let warned = log
        .lines()
        .filter(|l| l.contains("redis unreachable"))
        .count();
    assert!(
        (1..=2).contains(&warned),
        "once per task (requests, beat): {log}"
    );
    assert!(log.contains("redis is back"), "{log}");
    signal(&agent, "TERM");
    assert_eq!(exit_code(&mut agent).await, 0);
    scene.stop().await;
}
