//! A render worker on the SDK: it beats (starting, then ready), takes jobs from its queue through
//! the reliable queue, is busy while one runs, rests while `queue:paused` is set, and stops
//! cleanly on Ctrl-C or SIGTERM (the jobs it holds stay in its in-flight list and go back to the
//! queue when it starts again). It obeys pulseboard's commands between jobs: `quiet` takes no new
//! job, `stop` stops cleanly, `restart` exits with 75 for its supervisor to start it again.
//!
//! ```text
//! cargo run -p pulseboard-worker --example render_worker -- redis://127.0.0.1:6379 image-render
//! redis-cli LPUSH queue:image-render '{"task_id": 1}'
//! ```

use std::time::Duration;

use pulseboard_shared::command::{Action, RESTART_EXIT_CODE};
use pulseboard_worker::heartbeat::{self, Options};
use pulseboard_worker::queue::ReliableQueue;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let redis_url = args
        .next()
        .unwrap_or_else(|| "redis://127.0.0.1:6379".into());
    let name = args.next().unwrap_or_else(|| "image-render".into());

    let beat = heartbeat::start(&name, "render", &redis_url, Options::default())?;
    let conn = redis::Client::open(redis_url.as_str())?
        .get_multiplexed_async_connection()
        .await?;
    let mut queue = ReliableQueue::new(conn, &format!("queue:{name}"), "1");
    // Its in-flight list is in use while it beats; once it is gone pulseboard may rescue it.
    queue.declare_on(&beat);
    let back = queue.recover_leftovers().await?;
    println!("{name}: {back} job(s) from a previous run back on the queue");
    beat.ready();

    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let wishes = beat.wishes();
    loop {
        // pulseboard's commands are obeyed between jobs, never in the middle of one.
        let wish = *wishes.borrow();
        if matches!(wish, Some(Action::Restart | Action::Stop)) {
            break;
        }
        tokio::select! {
            _ = tokio::signal::ctrl_c() => break,
            _ = term.recv() => break,
            _ = tokio::time::sleep(Duration::from_secs(1)), if wish == Some(Action::Quiet) => {}
            step = work(&mut queue, &beat), if wish.is_none() => if let Err(e) = step {
                eprintln!("{name}: {e}; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            },
        }
    }
    if *wishes.borrow() == Some(Action::Restart) {
        // A clean stop (no down alert), then the exit code that has the supervisor start it
        // again: the worker never restarts itself.
        beat.draining("restarting");
        beat.stop().await;
        println!("{name}: exiting for a restart");
        std::process::exit(RESTART_EXIT_CODE);
    }
    beat.draining("stopping");
    beat.stop().await;
    println!("{name}: stopped");
    Ok(())
}

/// One job, or a short wait for one (or a rest while the queues are paused).
async fn work(
    queue: &mut ReliableQueue,
    beat: &heartbeat::Handle,
) -> Result<(), pulseboard_worker::queue::QueueError> {
    if queue.paused().await? {
        beat.set_state("paused");
        tokio::time::sleep(Duration::from_secs(1)).await;
        return Ok(());
    }
    beat.set_state("idle");
    let Some(job) = queue.claim(Duration::from_secs(5)).await? else {
        return Ok(());
    };
    beat.job_started(&job.payload);
    tokio::time::sleep(Duration::from_secs(2)).await; // the render itself
    if job.payload.contains("fail") {
        queue.fail(&job).await?;
        beat.job_failed();
    } else {
        queue.ack(&job).await?;
        beat.job_done();
    }
    Ok(())
}
