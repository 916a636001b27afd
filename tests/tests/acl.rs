//! The Redis ACL roles (`pulseboard acl`) against a real redis-server: the printed lines applied
//! as the default user, then every client as its own user. A `pulseboard run` worker beats, moves
//! jobs and obeys a stop; the host agent answers a restart; the server serves the fleet and sends
//! both; a read-only serve shows the fleet as the viewer. Each user is refused (NOPERM) whatever
//! is not its own, and Redis's ACL log shows that the normal work was never refused anything.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use pulseboard_server::config::admin::AdminTokens;
use pulseboard_server::redis_server::{free_port, RedisServer};
use pulseboard_shared::agent::key::AgentKeys;
use pulseboard_shared::agent::{requests_key, GROUP, RESULTS_KEY};
use pulseboard_shared::{LifecycleState, Nodes};
use pulseboard_tests::{beat, eventually, exit_code, heartbeat, pulseboard_bin, signal, Stack};
use pulseboard_worker::queue::{Job, ReliableQueue};
use redis::aio::MultiplexedConnection;
use redis::AsyncCommands;
use tokio::process::{Child, Command};

const PASSWORD: &str = "acl-test-password-0123";
const OPS: &str = "ops-token-0123456789";
/// The key the server signs the agent's requests with and the agent checks them with.
const AGENT_KEY: &str = "5f0c9a3e8d7b6a5948372615f4e3d2c1b0a99887766554433221100ffeeddccb";
const WORKER: &str = "music-render";
/// music-render's host in the seed's topology.
const HOST: &str = "windows";

/// Prints role `role`'s user with the real binary, applies it as the default user, and returns
/// the user's name.
async fn apply(admin: &mut MultiplexedConnection, role: &str, name: Option<&str>) -> String {
    let mut acl = Command::new(pulseboard_bin());
    acl.args(["acl", "--role", role])
        .env("PULSEBOARD_ACL_PASSWORD", PASSWORD)
        .env_remove("PULSEBOARD_CONFIG");
    if let Some(name) = name {
        acl.args(["--name", name]);
    }
    let out = acl.output().await.expect("pulseboard acl runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "pulseboard acl --role {role}: {stderr}"
    );
    assert!(
        stderr.starts_with("# user "),
        "what it grants, in words: {stderr}"
    );
    let line = String::from_utf8(out.stdout).unwrap();
    assert!(
        !line.contains(PASSWORD),
        "the password itself is never printed"
    );
    let words: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(&words[..2], ["ACL", "SETUSER"], "{line}");
    let mut cmd = redis::cmd("ACL");
    for word in &words[1..] {
        cmd.arg(*word);
    }
    let () = cmd
        .query_async(admin)
        .await
        .unwrap_or_else(|e| panic!("{line}: {e}"));
    words[2].to_owned()
}

/// A connection as `user`.
async fn connect(url: &str) -> MultiplexedConnection {
    redis::Client::open(url)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap_or_else(|e| panic!("connect as {url}: {e}"))
}

/// Asserts Redis refuses each of `commands` (words) to `conn` with NOPERM.
async fn refused(conn: &mut MultiplexedConnection, who: &str, commands: &[&[&str]]) {
    for words in commands {
        let mut cmd = redis::cmd(words[0]);
        for w in &words[1..] {
            cmd.arg(*w);
        }
        let answer: redis::RedisResult<redis::Value> = cmd.query_async(conn).await;
        match answer {
            Err(e) if e.code() == Some("NOPERM") => {}
            other => panic!("{who}: {words:?} was not refused: {other:?}"),
        }
    }
}

/// Redis's ACL log: every refusal since the last reset, as text (empty: none).
async fn acl_log(admin: &mut MultiplexedConnection) -> String {
    let log: Vec<redis::Value> = redis::cmd("ACL")
        .arg("LOG")
        .query_async(admin)
        .await
        .unwrap();
    if log.is_empty() {
        String::new()
    } else {
        format!("{log:?}")
    }
}

fn user_url(redis: &str, user: &str) -> String {
    redis.replacen("redis://", &format!("redis://{user}:{PASSWORD}@"), 1)
}

fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pb-acl-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn worker_of(nodes: &Nodes) -> Option<&pulseboard_shared::WorkerStatus> {
    nodes.workers.iter().find(|w| w.name == WORKER)
}

async fn post(base: &str, path: &str) -> (u16, String) {
    let response = reqwest::Client::new()
        .post(format!("{base}{path}"))
        .bearer_auth(OPS)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test]
async fn a_worker_an_agent_and_the_server_each_do_their_work_and_nothing_else() {
    let redis = RedisServer::start().await.expect("start redis-server");
    let base_url = redis.url();
    let mut admin = connect(&base_url).await;
    let worker_user = apply(&mut admin, "worker", Some(WORKER)).await;
    let agent_user = apply(&mut admin, "agent", Some(HOST)).await;
    let server_user = apply(&mut admin, "server", None).await;
    assert_eq!(
        (
            worker_user.as_str(),
            agent_user.as_str(),
            server_user.as_str()
        ),
        ("worker-music-render", "agent-windows", "pulseboard")
    );
    let server_url = user_url(&base_url, &server_user);
    let stack = Stack::launch(redis, |c| {
        c.redis_url = server_url;
        c.admin_tokens = AdminTokens::parse(&format!("ops:{OPS}")).unwrap();
        c.agent_key = Some(AgentKeys::parse(AGENT_KEY).unwrap());
        // The history is written every second, so its writes meet the ACL during the test.
        c.history.step_s = 1;
    })
    .await;

    // The worker: `pulseboard run` as its own user, around a program that waits to be stopped.
    let worker_url = user_url(&base_url, &worker_user);
    let mut worker = Command::new(pulseboard_bin())
        .args([
            "run",
            "--name",
            WORKER,
            "--kind",
            "render",
            "--interval",
            "1",
        ])
        .args(["--redis", &worker_url, "--", "sleep", "600"])
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("pulseboard run starts");

    // The host agent as its own user; its restart leaves a mark.
    let dir = scratch("agent");
    let mark = dir.join("restarted");
    let allow_list = dir.join("agent.toml");
    std::fs::write(
        &allow_list,
        format!(
            "[workers.{WORKER}]\nrestart = [\"/usr/bin/touch\", \"{}\"]\n",
            mark.display()
        ),
    )
    .unwrap();
    let mut agent = Command::new(pulseboard_bin())
        .args(["agent", "--host", HOST, "--beat-interval-ms", "100"])
        .arg("--config")
        .arg(&allow_list)
        .args(["--redis", &user_url(&base_url, &agent_user)])
        .env("PULSEBOARD_AGENT_KEY", AGENT_KEY)
        .env_remove("PULSEBOARD_AGENT_KEY_FILE")
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("pulseboard agent starts");

    // The server, as its user, sees the worker beat and the agent beat.
    stack
        .wait_nodes("the worker ready and the agent beating", |n| {
            let ready = worker_of(n).is_some_and(|w| {
                w.alive && w.lifecycle.as_ref().map(|l| l.state) == Some(LifecycleState::Ready)
            });
            ready && n.agents.iter().any(|a| a.host == HOST)
        })
        .await;
    eventually("the agent's consumer group", || {
        let mut admin = admin.clone();
        async move {
            let groups: redis::Value = redis::cmd("XINFO")
                .arg("GROUPS")
                .arg(requests_key(HOST))
                .query_async(&mut admin)
                .await
                .ok()?;
            format!("{groups:?}").contains(GROUP).then_some(())
        }
    })
    .await
    .expect("the agent made its group as its own user");

    // The worker's queue, through the SDK, as the worker's user: claim, fail, leftovers back.
    let mut as_worker = connect(&worker_url).await;
    let _: () = admin
        .lpush(format!("queue:{WORKER}"), &["j1", "j2"])
        .await
        .unwrap();
    let mut queue = ReliableQueue::new(as_worker.clone(), &format!("queue:{WORKER}"), "c1");
    let first = queue.claim(Duration::from_secs(1)).await.unwrap();
    assert_eq!(
        first,
        Some(Job {
            payload: "j1".into()
        })
    );
    queue.fail(&first.unwrap()).await.unwrap();
    assert!(queue.claim(Duration::from_secs(1)).await.unwrap().is_some());
    assert_eq!(queue.recover_leftovers().await.unwrap(), 1);
    assert!(!queue.paused().await.unwrap());
    // The server reads it, and its alerts commit the dead letter (scripts, outbox, event log).
    stack
        .wait_nodes("the dead letter read", |n| {
            worker_of(n).is_some_and(|w| w.dead_letter == 1 && w.queue_depth == 1)
        })
        .await;
    eventually("the dead-letter alert in the event log", || async {
        let (_, body) = stack.get("/api/agent-office/events").await;
        body.contains("dead_letters").then_some(())
    })
    .await
    .expect("the alert recorded as the server's user");

    // A stop through the admin API: the server's user puts it on the worker's list, the worker's
    // user takes it; the program is stopped and the wrapper exits 0.
    let (status, body) = post(
        &stack.base,
        &format!("/api/agent-office/workers/{WORKER}/stop"),
    )
    .await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(exit_code(&mut worker).await, 0, "a stop asked for exits 0");
    stack
        .wait_nodes("the worker stopped", |n| {
            worker_of(n)
                .and_then(|w| w.lifecycle.as_ref())
                .map(|l| l.state)
                == Some(LifecycleState::Stopped)
        })
        .await;

    // A restart of the stopped worker goes to its host agent: the server's user adds the request,
    // the agent's user reads it, runs the allow-listed command and answers; the guard reads it.
    let (status, body) = post(
        &stack.base,
        &format!("/api/agent-office/workers/{WORKER}/restart"),
    )
    .await;
    assert_eq!(status, 202, "{body}");
    let accepted: serde_json::Value = serde_json::from_str(&body).unwrap();
    let id = accepted["id"].as_str().unwrap().to_owned();
    eventually("the agent's command", || async {
        mark.exists().then_some(())
    })
    .await
    .expect("the agent ran its restart");
    stack
        .wait_nodes("the guard read the agent's answer", |n| {
            worker_of(n)
                .and_then(|w| w.recovery.as_ref())
                .and_then(|r| r.last_action.as_ref())
                // This restart's answer (the stop before it was answered too).
                .is_some_and(|l| l.id == id && l.ok == Some(true))
        })
        .await;
    let results: redis::Value = redis::cmd("XRANGE")
        .arg(RESULTS_KEY)
        .arg("-")
        .arg("+")
        .query_async(&mut admin)
        .await
        .unwrap();
    assert!(format!("{results:?}").contains("done"), "{results:?}");

    // The history written (and read back) as the server's user.
    eventually("a history point", || async {
        let (_, body) = stack.get("/api/agent-office/history?minutes=5").await;
        body.contains("\"done\"").then_some(())
    })
    .await
    .expect("the fleet's history has a point");

    // All that work, and Redis refused none of it.
    assert_eq!(
        acl_log(&mut admin).await,
        "",
        "refusals during the normal work"
    );
    let (status, body) = stack.get("/readyz").await;
    assert_eq!(status, 200, "{body}");

    // What each user may not do.
    let common: &[&[&str]] = &[
        &["FLUSHALL"],
        &["KEYS", "*"],
        &["CONFIG", "GET", "*"],
        &["ACL", "LIST"],
        &["SHUTDOWN", "NOSAVE"],
        &["EVAL", "return 1", "0"],
    ];
    refused(&mut as_worker, "worker", common).await;
    refused(
        &mut as_worker,
        "worker",
        &[
            &["LPOP", "worker:video-render:commands"],
            &["RPUSH", "worker:music-render2:commands", "x"],
            &["SET", "worker:video-render:heartbeat", "{}"],
            &["GET", "worker:music-render:heartbeat"],
            &["LLEN", "queue:video-render"],
            &["SET", "queue:paused", "1"],
            &[
                "XADD",
                "pulseboard:agent:windows:requests",
                "*",
                "request",
                "{}",
            ],
            &["XADD", RESULTS_KEY, "*", "result", "{}"],
            &["GET", "pulseboard:alerts:state"],
            &["DEL", "pulseboard:alerts:lease"],
        ],
    )
    .await;
    let mut as_agent = connect(&user_url(&stack.redis.url(), &agent_user)).await;
    refused(&mut as_agent, "agent", common).await;
    refused(
        &mut as_agent,
        "agent",
        &[
            &[
                "XADD",
                "pulseboard:agent:nas:requests",
                "*",
                "request",
                "{}",
            ],
            &[
                "XREADGROUP",
                "GROUP",
                GROUP,
                "nas",
                "STREAMS",
                "pulseboard:agent:nas:requests",
                ">",
            ],
            &["SET", "pulseboard:agent:nas:heartbeat", "{}"],
            &["XRANGE", RESULTS_KEY, "-", "+"],
            &["SET", "worker:music-render:heartbeat", "{}"],
            &["LPOP", "worker:music-render:commands"],
            &["LPUSH", "queue:music-render", "x"],
            &["GET", "pulseboard:alerts:state"],
        ],
    )
    .await;
    let mut as_server = connect(&user_url(&stack.redis.url(), &server_user)).await;
    refused(&mut as_server, "server", common).await;
    refused(
        &mut as_server,
        "server",
        &[
            &["SET", "worker:music-render:heartbeat", "{}"],
            // It may put jobs back on a configured queue (dead letters, orphans), no other.
            &["LPUSH", "queue:not-configured", "x"],
            &["SADD", "pulseboard:agent:windows:started", "x"],
            &["SET", "pulseboard:elsewhere", "x"],
        ],
    )
    .await;
    assert!(
        acl_log(&mut admin).await.contains("flushall"),
        "the refusals are in the ACL log"
    );

    signal(&agent, "TERM");
    assert_eq!(exit_code(&mut agent).await, 0);
    stack.stop().await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn a_viewer_serves_the_dashboard_read_only_and_may_write_nothing() {
    let mut redis = RedisServer::start().await.expect("start redis-server");
    let mut admin = connect(&redis.url()).await;
    let viewer_user = apply(&mut admin, "viewer", None).await;
    assert_eq!(viewer_user, "pulseboard-viewer");
    beat(&mut admin, &heartbeat(WORKER, "render", "busy")).await;
    let _: () = admin
        .rpush(format!("dead_letter:queue:{WORKER}"), "x")
        .await
        .unwrap();

    let viewer_url = user_url(&redis.url(), &viewer_user);
    let dir = scratch("viewer");
    let log = dir.join("serve.log");
    let port = free_port().unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let mut serve: Child = Command::new(pulseboard_bin())
        .args(["serve", "--read-only", "--refresh-ms", "100"])
        .args([
            "--redis",
            &viewer_url,
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
        .env_remove("PULSEBOARD_ADMIN_TOKENS")
        .env_remove("PULSEBOARD_CONFIG")
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .kill_on_drop(true)
        .spawn()
        .expect("pulseboard serve starts");
    let http = reqwest::Client::new();
    let get = |path: &str| {
        let request = http.get(format!("{base}{path}"));
        async move {
            let response = request.send().await.ok()?;
            Some((response.status().as_u16(), response.text().await.ok()?))
        }
    };
    let nodes: Nodes = eventually("the fleet, read as the viewer", || async {
        let (status, body) = get("/api/agent-office/nodes").await?;
        let nodes: Nodes = serde_json::from_str(&body).ok()?;
        let seen = status == 200
            && nodes.redis_ok
            && worker_of(&nodes).is_some_and(|w| w.alive && w.dead_letter == 1);
        seen.then_some(nodes)
    })
    .await
    .unwrap_or_else(|| panic!("{}", std::fs::read_to_string(&log).unwrap_or_default()));
    assert!(nodes.redis_ok);
    let (status, body) = get("/readyz").await.unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"decider\":false"), "{body}");
    let (status, _) = get("/api/agent-office/events").await.unwrap();
    assert_eq!(status, 200, "the event log is read");
    let (status, body) = post(&base, &format!("/api/agent-office/workers/{WORKER}/stop")).await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("read-only"), "{body}");
    // A few refreshes more: nothing it does is ever refused, so it tried no write.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        acl_log(&mut admin).await,
        "",
        "the read-only server was refused something"
    );
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("read-only"), "it says so at start-up: {text}");

    let mut as_viewer = connect(&viewer_url).await;
    refused(
        &mut as_viewer,
        "viewer",
        &[
            &["FLUSHALL"],
            &["KEYS", "*"],
            &["SET", "worker:music-render:heartbeat", "{}"],
            &["DEL", "worker:music-render:heartbeat"],
            &["RPUSH", "worker:music-render:commands", "x"],
            &["XADD", "pulseboard:alerts:events", "*", "record", "{}"],
            &[
                "XADD",
                "pulseboard:agent:windows:requests",
                "*",
                "request",
                "{}",
            ],
            // It may load and run read-only scripts (a page of dead letters), but not one that
            // writes: EVALSHA counts every key as written.
            &["EVALSHA", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "0"],
            &["EVAL", "return 1", "0"],
            &["GET", "pulseboard:alerts:lease"],
        ],
    )
    .await;
    signal(&serve, "TERM");
    assert_eq!(exit_code(&mut serve).await, 0);
    redis.stop().await;
    let _ = std::fs::remove_dir_all(dir);
}
