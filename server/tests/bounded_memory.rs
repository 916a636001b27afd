//! The memories a decider reads (the guard's, the alerts') and the guard's waiting overrides are
//! written to Redis, where anyone who writes Redis can replace them: against a real
//! `redis-server`, oversized values are dropped in Redis, before they cross the wire.

use std::time::Duration;

use pulseboard_server::alerts::outbox::load_memory;
use pulseboard_server::ledger::store::Store;
use pulseboard_server::recovery::load::{load, MAX_OVERRIDE_BYTES};
use pulseboard_server::recovery::stored::Stored;
use pulseboard_server::redis_server::RedisServer;
use redis::AsyncCommands;

#[tokio::test]
async fn oversized_memories_and_overrides_are_dropped_in_redis_and_the_rest_is_kept() {
    let redis = RedisServer::start().await.expect("start redis-server");
    let client = redis::Client::open(redis.url()).unwrap();
    let store = Store::new(client.clone(), Duration::from_secs(5)).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let huge = "x".repeat(5 << 20);

    let small = r#"{"hold":{"worker":"w1","until":null,"by":"ops"}}"#;
    let overrides = store.keys.recovery_overrides();
    let _: () = conn.rpush(&overrides, small).await.unwrap();
    let _: () = conn.rpush(&overrides, &huge).await.unwrap();
    let _: () = conn
        .rpush(&overrides, "x".repeat(MAX_OVERRIDE_BYTES))
        .await
        .unwrap();
    let _: () = conn.set(store.keys.recovery(), &huge).await.unwrap();
    let (stored, read) = load(&store, 10).await.expect("loads");
    assert_eq!(
        stored,
        Stored::default(),
        "an oversized memory starts afresh"
    );
    assert_eq!(read.len(), 3);
    assert_eq!(read[0], small);
    assert_eq!(read[1], "", "a 5 MB override never crosses the wire");
    assert_eq!(
        read[2].len(),
        MAX_OVERRIDE_BYTES,
        "one at the bound is kept"
    );

    let _: () = conn.set(store.keys.state(), &huge).await.unwrap();
    let memory = load_memory(&store, 10).await.expect("loads");
    assert_eq!(
        memory,
        Default::default(),
        "an oversized alerts memory starts afresh"
    );
    let _: () = conn
        .set(store.keys.state(), r#"{"redis_lost":true}"#)
        .await
        .unwrap();
    assert!(load_memory(&store, 10).await.unwrap().redis_lost);
}
