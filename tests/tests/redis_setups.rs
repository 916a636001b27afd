//! The Redis setups operators run, each against a real `redis-server`: TLS with a private CA,
//! and an ACL user holding only the commands the README lists.

use pulseboard_server::redis_server::RedisServer;
use pulseboard_tests::tls::TlsPort;
use pulseboard_tests::{beat, eventually, heartbeat, Stack};
use redis::AsyncCommands;

/// The readiness reasons, once they mention something.
async fn not_ready_because(stack: &Stack) -> String {
    eventually("a reason in /readyz", || async {
        let (status, body) = stack.get("/readyz").await;
        (status == 503 && body.contains("last read failed")).then_some(body)
    })
    .await
    .unwrap()
}

/// Dead letters for music-render raise an alert; waits until the event log has it.
async fn an_alert_is_recorded(stack: &Stack, r: &mut redis::aio::MultiplexedConnection) {
    let _: () = r
        .rpush("dead_letter:queue:music-render", "x")
        .await
        .unwrap();
    eventually("the alert in the event log", || async {
        let (_, body) = stack.get("/api/agent-office/events").await;
        body.contains("dead_letters").then_some(())
    })
    .await
    .expect("the alert recorded");
}

#[tokio::test]
async fn over_tls_with_its_ca_the_fleet_is_read_and_alerts_are_kept() {
    let (redis, tls) = TlsPort::start(&[]).await;
    let mut r = redis::Client::open(redis.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    beat(&mut r, &heartbeat("music-render", "render", "busy")).await;
    let stack = Stack::launch(redis, |c| {
        c.redis_url = tls.tls_url.clone();
        c.redis_tls.ca_file = Some(tls.ca_file.clone());
    })
    .await;
    stack
        .wait_nodes("music-render read over TLS", |n| {
            n.redis_ok && n.workers[0].alive
        })
        .await;
    // The alerts' store talks TLS too.
    an_alert_is_recorded(&stack, &mut r).await;
    let (status, body) = stack.get("/readyz").await;
    assert_eq!(status, 200, "{body}");
    stack.stop().await;
}

#[tokio::test]
async fn over_tls_without_the_ca_readiness_says_the_certificate_is_not_trusted() {
    let (redis, tls) = TlsPort::start(&[]).await;
    let stack = Stack::launch(redis, |c| c.redis_url = tls.tls_url.clone()).await;
    let body = not_ready_because(&stack).await;
    assert!(
        body.to_ascii_lowercase().contains("certificate"),
        "the reason names the certificate: {body}"
    );
    let nodes = stack.nodes().await;
    assert!(!nodes.redis_ok);
    stack.stop().await;
}

/// The ACL line the README gives for pulseboard's user.
const ACL: &[&str] = &[
    "--user",
    "pulseboard",
    "on",
    ">s3cret-pw",
    "~*",
    "&*",
    "+@read",
    "+@connection",
    "+evalsha",
    "+eval",
    "+script|load",
    "+set",
    "+pexpire",
    "+del",
    "+rpush",
    "+lpop",
    "+lset",
    "+xadd",
];

#[tokio::test]
async fn an_acl_user_with_the_documented_commands_is_enough() {
    let redis = RedisServer::start_with_args(ACL.iter().map(|a| (*a).to_owned()).collect())
        .await
        .unwrap();
    let port = redis.url().rsplit(':').next().unwrap().to_owned();
    let mut r = redis::Client::open(redis.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    beat(&mut r, &heartbeat("music-render", "render", "busy")).await;
    let _: () = r
        .rpush("processing:queue:music-render:c1", "job")
        .await
        .unwrap();
    let stack = Stack::launch(redis, |c| {
        c.redis_url = format!("redis://pulseboard:s3cret-pw@127.0.0.1:{port}");
    })
    .await;
    stack
        .wait_nodes("read as the ACL user", |n| {
            n.redis_ok && n.workers[0].alive && n.workers[0].processing == 1
        })
        .await;
    // The alerts write (lease, outbox, event log) as the ACL user.
    an_alert_is_recorded(&stack, &mut r).await;
    let (status, body) = stack.get("/readyz").await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"redis_error\":null"), "{body}");
    stack.stop().await;
}

#[tokio::test]
async fn a_wrong_password_is_named_and_never_shown() {
    let redis = RedisServer::start_with_args(ACL.iter().map(|a| (*a).to_owned()).collect())
        .await
        .unwrap();
    let port = redis.url().rsplit(':').next().unwrap().to_owned();
    let stack = Stack::launch(redis, |c| {
        c.redis_url = format!("redis://pulseboard:not-the-pw@127.0.0.1:{port}");
    })
    .await;
    let body = not_ready_because(&stack).await;
    assert!(
        body.contains("WRONGPASS") || body.to_ascii_lowercase().contains("password"),
        "the reason says the password is wrong: {body}"
    );
    assert!(!body.contains("not-the-pw"), "the password leaked: {body}");
    stack.stop().await;
}
