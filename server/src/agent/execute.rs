//! Running a request the agent took: the allow-list's commands for its action, in order, each
//! to its exit or its timeout, stopping at the first that does not exit 0; and the answer that
//! says how it went (the exit code, the end of stderr).

use std::time::Instant;

use pulseboard_shared::agent::{tail, AgentResult, Outcome, Request, STDERR_TAIL_BYTES};

use super::allow_list::Entry;
use super::runner::{self, Ran};

/// Runs `request`'s commands from `listed` in order, stopping at the first that does not exit
/// 0; `result` (done, so far) says how it went once they have.
pub async fn run(request: &Request, listed: &Entry, mut result: AgentResult) -> AgentResult {
    let began = Instant::now();
    for step in listed.steps(request.action) {
        tracing::info!(id = %request.id, worker = %request.worker, step = step.name, argv = ?step.argv, "running");
        let ran = runner::run(step.argv, listed.timeout, STDERR_TAIL_BYTES).await;
        if ran.succeeded() {
            result.exit_code = Some(0);
            continue;
        }
        result.outcome = Outcome::Failed;
        (result.exit_code, result.detail) = failure(ran);
        tracing::warn!(
            id = %request.id,
            worker = %request.worker,
            step = step.name,
            exit_code = result.exit_code,
            detail = ?result.detail,
            "request failed"
        );
        break;
    }
    result.duration_ms = began.elapsed().as_millis() as u64;
    result.at = super::now();
    if result.outcome == Outcome::Done {
        tracing::info!(id = %request.id, worker = %request.worker, duration_ms = result.duration_ms, "request done");
    }
    result
}

/// A failed command's exit code (when it exited) and what to say about it.
fn failure(ran: Ran) -> (Option<i32>, String) {
    match ran {
        Ran::Exited { code, stderr } => (Some(code), tail(&stderr, STDERR_TAIL_BYTES)),
        Ran::Killed { signal, stderr } => {
            let head = format!("killed by signal {signal}");
            let room = STDERR_TAIL_BYTES.saturating_sub(head.len() + 2);
            let end = tail(&stderr, room);
            let detail = if end.is_empty() {
                head
            } else {
                format!("{head}: {end}")
            };
            (None, detail)
        }
        Ran::TimedOut { after } => (None, format!("timed out after {} s", after.as_secs_f64())),
        Ran::NotStarted(why) => (None, why),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn failures_say_what_happened() {
        assert_eq!(
            failure(Ran::Exited {
                code: 5,
                stderr: b"unit not found\n".to_vec()
            }),
            (Some(5), "unit not found\n".into())
        );
        assert_eq!(
            failure(Ran::TimedOut {
                after: Duration::from_secs(60)
            }),
            (None, "timed out after 60 s".into())
        );
        assert_eq!(
            failure(Ran::Killed {
                signal: 9,
                stderr: vec![]
            }),
            (None, "killed by signal 9".into())
        );
        let (_, long) = failure(Ran::Killed {
            signal: 15,
            stderr: vec![b'x'; 10_000],
        });
        assert!(long.starts_with("killed by signal 15: x"));
        assert!(long.len() <= STDERR_TAIL_BYTES, "{}", long.len());
        assert_eq!(
            failure(Ran::NotStarted("cannot start /x: gone".into())),
            (None, "cannot start /x: gone".into())
        );
    }
}
