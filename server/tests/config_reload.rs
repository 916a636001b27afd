//! The real binary's configuration lifecycle: `check-config` prints the effective configuration
//! with secrets redacted (and refuses a bad one), and `SIGHUP` reloads the file while a stream
//! stays open, refusing a bad file and keeping the old configuration; `--help` never shows a
//! secret from the environment.

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pulseboard_server::redis_server::{free_port, RedisServer};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

const BIN: &str = env!("CARGO_BIN_EXE_pulseboard");
const PATIENCE: Duration = Duration::from_secs(15);

fn config_file(dir: &tempdir::Dir, text: &str) -> std::path::PathBuf {
    let path = dir.path().join("pulseboard.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// A scratch directory removed on drop (no extra crate needed for one folder).
mod tempdir {
    pub struct Dir(std::path::PathBuf);
    impl Dir {
        pub fn new(tag: &str) -> Self {
            let path =
                std::env::temp_dir().join(format!("pulseboard-{tag}-{}", std::process::id()));
            std::fs::create_dir_all(&path).unwrap();
            Self(path)
        }
        pub fn path(&self) -> &std::path::Path {
            &self.0
        }
    }
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

fn workers_toml(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("[[workers]]\nname = \"{n}\"\nkind = \"render\"\n"))
        .collect()
}

#[tokio::test]
async fn check_config_prints_the_effective_config_with_secrets_redacted() {
    let dir = tempdir::Dir::new("check");
    let path = config_file(
        &dir,
        "redis_url = \"redis://ops:hunter2@10.0.0.5:6379\"\n[alerts.telegram]\nbot_token = \"123:SECRET\"\nchat_id = \"42\"\n",
    );
    let out = Command::new(BIN)
        .args(["check-config", "--config"])
        .arg(&path)
        .env_remove("TELEGRAM_BOT_TOKEN")
        .env_remove("REDIS_URL")
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.contains("redis_url = \"redis://ops:***@10.0.0.5:6379\""),
        "{stdout}"
    );
    assert!(stdout.contains("bot_token = \"***\""), "{stdout}");
    assert!(stdout.contains("name = \"music-render\""), "{stdout}");
    assert!(
        !stdout.contains("hunter2") && !stdout.contains("SECRET"),
        "{stdout}"
    );

    let bad = config_file(&dir, "[lifecycle]\nready_timeout_s = 0\n");
    let out = Command::new(BIN)
        .args(["check-config", "--config"])
        .arg(&bad)
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("lifecycle.ready_timeout_s"), "{stderr}");
}

/// The server's stderr, collected line by line while it runs.
/// The subcommands `pulseboard --help` lists (so one added later is checked too).
fn subcommands() -> Vec<String> {
    let out = std::process::Command::new(BIN)
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    let commands = help.split("Commands:").nth(1).expect("a Commands: section");
    commands
        .lines()
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_owned)
        .collect()
}

#[test]
fn help_never_shows_a_secret_from_the_environment() {
    let commands = subcommands();
    assert!(commands.len() >= 6, "{commands:?}");
    for command in &commands {
        let out = std::process::Command::new(BIN)
            .args([command.as_str(), "--help"])
            .env("REDIS_URL", "redis://ops:hunter2@redis.internal:6379")
            .env("PULSEBOARD_ADMIN_TOKENS", "ops:0123456789SECRETabcdef")
            .env(
                "PULSEBOARD_AGENT_KEY",
                "5ec7e75ec7e7aa00112233445566778899aabbccddeeff",
            )
            .env("PULSEBOARD_ACL_PASSWORD", "acl-5ec7e7-password")
            .output()
            .unwrap();
        let help = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{command} --help: {help}");
        for secret in ["hunter2", "SECRET", "5ec7e7"] {
            assert!(
                !help.contains(secret),
                "{command} --help shows {secret}: {help}"
            );
        }
    }
}

fn collect_stderr(child: &mut Child) -> Arc<Mutex<String>> {
    let log = Arc::new(Mutex::new(String::new()));
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let sink = log.clone();
    tokio::spawn(async move {
        while let Ok(Some(line)) = lines.next_line().await {
            let mut log = sink.lock().unwrap();
            log.push_str(&line);
            log.push('\n');
        }
    });
    log
}

async fn wait_log(log: &Mutex<String>, needle: &str) {
    let deadline = Instant::now() + PATIENCE;
    while !log.lock().unwrap().contains(needle) {
        assert!(
            Instant::now() < deadline,
            "the log never said {needle:?}:\n{}",
            log.lock().unwrap()
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// What a viewer of the stream holds: the version and the fleet its events built.
#[derive(Default)]
struct Held {
    buffer: String,
    version: u64,
    nodes: Option<pulseboard_shared::Nodes>,
}

/// Reads SSE events from `stream` (a snapshot, then patches applied to it) until the fleet they
/// built, as JSON, satisfies `want`.
async fn next_event_where(
    stream: &mut reqwest::Response,
    held: &mut Held,
    want: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let deadline = Instant::now() + PATIENCE;
    loop {
        while let Some(end) = held.buffer.find("\n\n") {
            let event: String = held.buffer.drain(..end + 2).collect();
            let field = |name: &str| event.lines().find_map(|l| l.strip_prefix(name));
            let (Some(kind), Some(id), Some(data)) =
                (field("event: "), field("id: "), field("data: "))
            else {
                continue; // a keep-alive
            };
            let id: u64 = id.parse().unwrap();
            if kind == "snapshot" {
                held.nodes = Some(serde_json::from_str(data).unwrap());
            } else {
                let patch: pulseboard_shared::patch::Patch = serde_json::from_str(data).unwrap();
                let nodes = held.nodes.as_mut().expect("a snapshot first");
                pulseboard_shared::patch::apply(nodes, held.version, &patch).unwrap();
            }
            held.version = id;
            let value = serde_json::to_value(held.nodes.as_ref().unwrap()).unwrap();
            if want(&value) {
                return value;
            }
        }
        let left = deadline.saturating_duration_since(Instant::now());
        let chunk = tokio::time::timeout(left, stream.chunk())
            .await
            .expect("an event in time")
            .expect("the stream stays open")
            .expect("the stream stays open");
        held.buffer.push_str(&String::from_utf8_lossy(&chunk));
    }
}

fn worker_names(nodes: &serde_json::Value) -> Vec<String> {
    nodes["workers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["name"].as_str().unwrap().to_owned())
        .collect()
}

fn signal(child: &Child, name: &str) {
    let sent = std::process::Command::new("kill")
        .args([&format!("-{name}"), &child.id().unwrap().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
}

#[tokio::test]
async fn sighup_reloads_the_file_under_an_open_stream_and_refuses_a_bad_one() {
    let mut redis = RedisServer::start().await.unwrap();
    let dir = tempdir::Dir::new("reload");
    let path = config_file(&dir, &workers_toml(&["a", "b"]));
    let port = free_port().unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let mut child = Command::new(BIN)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .args(["--redis", &redis.url(), "--refresh-ms", "100", "--config"])
        .arg(&path)
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let log = collect_stderr(&mut child);
    wait_log(&log, "pulseboard serving").await;
    let client = reqwest::Client::new();
    let mut stream = loop {
        if let Ok(r) = client
            .get(format!("{base}/api/agent-office/nodes/stream"))
            .send()
            .await
        {
            break r;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    };
    let mut held = Held::default();
    let first = next_event_where(&mut stream, &mut held, |n| n["redis_ok"] == true).await;
    assert_eq!(worker_names(&first), ["a", "b"]);

    config_file(&dir, &workers_toml(&["a", "b", "c"]));
    signal(&child, "HUP");
    let reloaded = next_event_where(&mut stream, &mut held, |n| {
        n["workers"].as_array().unwrap().len() == 3
    })
    .await;
    assert_eq!(worker_names(&reloaded), ["a", "b", "c"]);
    wait_log(&log, "configuration reloaded").await;

    config_file(&dir, "[[workers]]\nname = \"d\"\nkind = \"gpu\"\n");
    signal(&child, "HUP");
    wait_log(&log, "configuration refused").await;
    assert!(
        log.lock().unwrap().contains("kind"),
        "{}",
        log.lock().unwrap()
    );
    let nodes: serde_json::Value = client
        .get(format!("{base}/api/agent-office/nodes"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        worker_names(&nodes),
        ["a", "b", "c"],
        "the old config stays"
    );
    assert!(
        child.try_wait().unwrap().is_none(),
        "SIGHUP did not end the server"
    );

    signal(&child, "TERM");
    let status = tokio::time::timeout(PATIENCE, child.wait())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status.code(), Some(0));
    redis.stop().await;
}
