//! The real `pulseboard` binary: it starts, says it is alive and ready, and on SIGTERM ends its
//! open streams, drains and exits 0; a bad config stops it at start-up with the key named.

use std::process::Stdio;
use std::time::{Duration, Instant};

use pulseboard_server::redis_server::{free_port, RedisServer};
use tokio::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_pulseboard");

async fn wait_status(client: &reqwest::Client, url: &str, want: u16) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Ok(r) = client.get(url).send().await {
            if r.status().as_u16() == want {
                return;
            }
        }
        assert!(Instant::now() < deadline, "{url} never answered {want}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

#[tokio::test]
async fn sigterm_drains_open_streams_and_exits_zero() {
    let mut redis = RedisServer::start().await.unwrap();
    let port = free_port().unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let child = Command::new(BIN)
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--redis",
            &redis.url(),
        ])
        .args(["--refresh-ms", "100"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let client = reqwest::Client::new();
    wait_status(&client, &format!("{base}/healthz"), 200).await;
    wait_status(&client, &format!("{base}/readyz"), 200).await;

    let mut stream = client
        .get(format!("{base}/api/agent-office/nodes/stream"))
        .send()
        .await
        .unwrap();
    assert!(
        stream.chunk().await.unwrap().is_some(),
        "the first event arrives"
    );

    let killed = std::process::Command::new("kill")
        .args(["-TERM", &child.id().unwrap().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    // The open stream ends (instead of holding the drain forever)...
    let end = tokio::time::timeout(Duration::from_secs(10), async {
        while let Ok(Some(_)) = stream.chunk().await {}
    })
    .await;
    assert!(end.is_ok(), "the stream was closed by the drain");
    // ...and the process exits 0, saying why.
    let output = tokio::time::timeout(Duration::from_secs(10), child.wait_with_output())
        .await
        .expect("exits in time")
        .unwrap();
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "exit status {:?}\n{log}",
        output.status
    );
    assert!(log.contains("SIGTERM received"), "{log}");
    assert!(log.contains("stopped"), "{log}");
    redis.stop().await;
}

#[tokio::test]
async fn a_bad_config_is_refused_at_start_with_the_key_named() {
    let dir = std::env::temp_dir().join(format!("pulseboard-cfg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("bad.toml");
    std::fs::write(&file, "refresh_ms = 500\nrefresh_secs = 1\n").unwrap();
    let output = Command::new(BIN)
        .args(["serve", "--config"])
        .arg(&file)
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("refresh_secs"), "{stderr}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn help_explains_every_flag_and_its_variable() {
    let output = Command::new(BIN)
        .args(["serve", "--help"])
        .output()
        .await
        .unwrap();
    let help = String::from_utf8_lossy(&output.stdout);
    for needle in [
        "--config",
        "PULSEBOARD_CONFIG",
        "--redis",
        "REDIS_URL",
        "--listen",
        "PULSEBOARD_LISTEN",
        "--dist",
        "PULSEBOARD_DIST",
    ] {
        assert!(
            help.contains(needle),
            "serve --help lacks {needle}:\n{help}"
        );
    }
}
