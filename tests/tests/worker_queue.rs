//! The SDK's reliable queue on a real Redis: claim moves a job into the consumer's in-flight
//! list (where the server counts it), ack removes it, fail moves it to the dead letters (where
//! the server counts it too), leftovers of a dead run go back in order, and the pause flag reads.

use std::time::Duration;

use pulseboard_tests::Stack;
use pulseboard_worker::queue::{Job, ReliableQueue};
use redis::AsyncCommands;

#[tokio::test]
async fn claim_ack_fail_leftovers_and_pause() {
    let stack = Stack::start().await;
    let mut r = stack.conn().await;
    let mut q = ReliableQueue::new(stack.conn().await, "queue:image-render", "c1");
    assert_eq!(q.in_flight_key(), "processing:queue:image-render:c1");
    for job in ["j1", "j2", "j3"] {
        let _: () = r.lpush("queue:image-render", job).await.unwrap();
    }
    let first = q.claim(Duration::from_secs(1)).await.unwrap().unwrap();
    assert_eq!(first.payload, "j1", "oldest first");
    let in_flight: Vec<String> = r.lrange(q.in_flight_key(), 0, -1).await.unwrap();
    assert_eq!(in_flight, ["j1"]);
    stack
        .wait_nodes("the server counts the job in flight", |n| {
            n.workers
                .iter()
                .any(|w| w.name == "image-render" && w.processing == 1 && w.queue_depth == 2)
        })
        .await;

    q.ack(&first).await.unwrap();
    let second = q.claim(Duration::from_secs(1)).await.unwrap().unwrap();
    q.fail(&second).await.unwrap();
    let dead: Vec<String> = r
        .lrange("dead_letter:queue:image-render", 0, -1)
        .await
        .unwrap();
    assert_eq!(dead, ["j2"]);
    stack
        .wait_nodes("the server counts the dead letter", |n| {
            n.workers
                .iter()
                .any(|w| w.name == "image-render" && w.dead_letter == 1 && w.processing == 0)
        })
        .await;

    // A run that died holding a job: the next run of the same consumer puts it back first.
    let third = q.claim(Duration::from_secs(1)).await.unwrap().unwrap();
    assert_eq!(third.payload, "j3");
    let _: () = r.lpush("queue:image-render", "j4").await.unwrap();
    let mut again = ReliableQueue::new(stack.conn().await, "queue:image-render", "c1");
    assert_eq!(again.recover_leftovers().await.unwrap(), 1);
    assert_eq!(
        again.claim(Duration::from_secs(1)).await.unwrap(),
        Some(Job {
            payload: "j3".into()
        })
    );
    assert_eq!(
        again
            .claim(Duration::from_secs(1))
            .await
            .unwrap()
            .unwrap()
            .payload,
        "j4"
    );
    assert_eq!(
        again.claim(Duration::from_millis(100)).await.unwrap(),
        None,
        "empty: waits, then none"
    );

    assert!(!again.paused().await.unwrap());
    let _: () = r.set("queue:paused", "1").await.unwrap();
    assert!(again.paused().await.unwrap());
    stack.stop().await;
}
