//! `/metrics` against the real server and Redis: the values are the data's, and every metric the
//! Grafana dashboard in `deploy/` asks for is exposed (so the two cannot drift apart).

use std::collections::BTreeSet;

use pulseboard_shared::heartbeat::heartbeat_key;
use pulseboard_tests::{beat, heartbeat, Stack};
use redis::AsyncCommands;

async fn scrape(stack: &Stack) -> String {
    let response = stack
        .http
        .get(format!("{}/metrics", stack.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/openmetrics-text"));
    response.text().await.unwrap()
}

fn value(text: &str, key: &str) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| l.rsplit_once(' ').filter(|(k, _)| *k == key))
        .map(|(_, v)| v.parse().unwrap())
}

#[tokio::test]
async fn metrics_say_what_the_data_says() {
    let stack = Stack::start().await;
    let mut r = stack.conn().await;
    beat(&mut r, &heartbeat("music-render", "render", "busy")).await;
    beat(&mut r, &heartbeat("image-render", "render", "idle")).await;
    let _: () = r
        .rpush("queue:music-render", &["a", "b", "c"])
        .await
        .unwrap();
    let _: () = r
        .rpush("dead_letter:queue:image-render", "x")
        .await
        .unwrap();
    let _: () = r
        .rpush("processing:queue:music-render:c1", "job")
        .await
        .unwrap();
    stack
        .wait_nodes("the data in place", |n| {
            n.workers[0].processing == 1 && n.workers[2].dead_letter == 1
        })
        .await;
    let text = scrape(&stack).await;
    let w = |metric: &str, worker: &str| value(&text, &format!("{metric}{{worker=\"{worker}\"}}"));
    assert_eq!(
        value(
            &text,
            r#"pulseboard_worker_up{worker="music-render",kind="render",host="windows"}"#
        ),
        Some(1.0)
    );
    assert_eq!(
        value(
            &text,
            r#"pulseboard_worker_up{worker="video-render",kind="render",host="windows"}"#
        ),
        Some(0.0)
    );
    assert_eq!(
        w("pulseboard_worker_queue_depth", "music-render"),
        Some(3.0)
    );
    assert_eq!(w("pulseboard_worker_processing", "music-render"), Some(1.0));
    assert_eq!(
        w("pulseboard_worker_dead_letter", "image-render"),
        Some(1.0)
    );
    assert_eq!(
        w("pulseboard_worker_jobs_done_total", "music-render"),
        Some(42.0)
    );
    assert!(w("pulseboard_worker_last_beat_age_seconds", "music-render").is_some());
    assert_eq!(
        w("pulseboard_worker_last_beat_age_seconds", "video-render"),
        None
    );
    assert_eq!(
        value(
            &text,
            r#"pulseboard_worker_condition{worker="image-render",condition="degraded"}"#
        ),
        Some(1.0)
    );
    assert_eq!(value(&text, "pulseboard_redis_ok"), Some(1.0));
    assert!(value(&text, "pulseboard_refresh_duration_seconds_count").unwrap() >= 1.0);

    // A worker going down shows at the next scrape.
    let _: () = r.del(heartbeat_key("music-render")).await.unwrap();
    stack
        .wait_nodes("music-render down", |n| !n.workers[0].alive)
        .await;
    let text = scrape(&stack).await;
    assert_eq!(
        value(
            &text,
            r#"pulseboard_worker_up{worker="music-render",kind="render",host="windows"}"#
        ),
        Some(0.0)
    );
    stack.stop().await;
}

#[tokio::test]
async fn every_metric_of_the_grafana_dashboard_is_exposed() {
    let stack = Stack::start().await;
    let mut r = stack.conn().await;
    beat(&mut r, &heartbeat("music-render", "render", "busy")).await;
    stack.wait_nodes("a beat", |n| n.workers[0].alive).await;
    let text = scrape(&stack).await;
    // The metric families the server declares (`# TYPE <name> <type>`).
    let exposed: BTreeSet<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split(' ').next())
        .collect();
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../deploy/grafana-dashboard.json"
    );
    let dashboard: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut asked = BTreeSet::new();
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().unwrap() {
            let expr = target["expr"].as_str().unwrap();
            for word in expr.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
                if word.starts_with("pulseboard_") {
                    let family = ["_total", "_bucket", "_sum", "_count"]
                        .iter()
                        .find_map(|s| word.strip_suffix(s))
                        .unwrap_or(word);
                    asked.insert(family.to_owned());
                }
            }
        }
    }
    assert!(asked.len() >= 10, "{asked:?}");
    let missing: Vec<_> = asked
        .iter()
        .filter(|m| !exposed.contains(m.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "the dashboard asks for {missing:?}; exposed: {exposed:?}"
    );
    stack.stop().await;
}
