//! Runs one allow-listed argv: directly (never through a shell), in its own process group, with
//! no input, its output dropped and the end of its stderr kept, killed (the whole group) when it
//! outlives its timeout.
//!
//! Its own process group means a Ctrl-C meant for the agent does not reach the command: the
//! agent lets a running command finish before it stops.

use std::process::Stdio;
use std::time::Duration;

use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;
use tokio::io::AsyncReadExt;
use tokio::process::Command;
use tokio::time::Instant;

/// How long stderr is still read after the command exits: a process it left behind may hold
/// the pipe open, and the agent does not wait for that.
const STDERR_GRACE: Duration = Duration::from_millis(500);

/// How a command ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ran {
    /// It exited with this code (0: success).
    Exited {
        /// Its exit code.
        code: i32,
        /// The end of its stderr.
        stderr: Vec<u8>,
    },
    /// A signal ended it (not ours).
    Killed {
        /// The signal's number.
        signal: i32,
        /// The end of its stderr.
        stderr: Vec<u8>,
    },
    /// It ran out of time; its process group was killed.
    TimedOut {
        /// The timeout.
        after: Duration,
    },
    /// It could not be started.
    NotStarted(String),
}

impl Ran {
    /// Whether it exited 0.
    pub fn succeeded(&self) -> bool {
        matches!(self, Self::Exited { code: 0, .. })
    }
}

/// Runs `argv` (the program first) for at most `timeout`, keeping the last `keep` bytes of its
/// stderr.
pub async fn run(argv: &[String], timeout: Duration, keep: usize) -> Ran {
    let Some((program, args)) = argv.split_first() else {
        return Ran::NotStarted("nothing to run".into());
    };
    let mut command = Command::new(program);
    command
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(e) => return Ran::NotStarted(format!("cannot start {program}: {e}")),
    };
    let group = child.id().map(|pid| Pid::from_raw(pid as i32));
    let mut stderr = child.stderr.take();
    let mut kept = Tail::new(keep);
    let mut chunk = [0u8; 4096];
    let deadline = Instant::now() + timeout;
    let status = loop {
        tokio::select! {
            read = read_some(&mut stderr, &mut chunk) => match read {
                Some(n) => kept.push(&chunk[..n]),
                None => stderr = None,
            },
            status = child.wait() => break Some(status),
            _ = tokio::time::sleep_until(deadline) => break None,
        }
    };
    let Some(status) = status else {
        if let Some(group) = group {
            let _ = killpg(group, Signal::SIGKILL);
        }
        let _ = child.wait().await;
        return Ran::TimedOut { after: timeout };
    };
    let grace = Instant::now() + STDERR_GRACE;
    while stderr.is_some() {
        tokio::select! {
            read = read_some(&mut stderr, &mut chunk) => match read {
                Some(n) => kept.push(&chunk[..n]),
                None => stderr = None,
            },
            _ = tokio::time::sleep_until(grace) => break,
        }
    }
    let stderr = kept.into_bytes();
    let status = match status {
        Ok(status) => status,
        Err(e) => return Ran::NotStarted(format!("cannot wait for {program}: {e}")),
    };
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => Ran::Exited { code, stderr },
        (None, Some(signal)) => Ran::Killed { signal, stderr },
        (None, None) => Ran::NotStarted(format!("{program} ended without a status")),
    }
}

/// Some bytes from `pipe` into `chunk`, or `None` at its end (or with no pipe: then never).
async fn read_some(
    pipe: &mut Option<tokio::process::ChildStderr>,
    chunk: &mut [u8],
) -> Option<usize> {
    let Some(pipe) = pipe else {
        return std::future::pending().await;
    };
    match pipe.read(chunk).await {
        Ok(0) | Err(_) => None,
        Ok(n) => Some(n),
    }
}

/// The end of a byte stream, in bounded memory.
struct Tail {
    keep: usize,
    bytes: Vec<u8>,
}

impl Tail {
    fn new(keep: usize) -> Self {
        Self {
            keep,
            bytes: Vec::new(),
        }
    }

    fn push(&mut self, more: &[u8]) {
        self.bytes.extend_from_slice(more);
        // Trim rarely, and keep a little more than asked so a cut never splits the last
        // characters the caller will keep.
        if self.bytes.len() > 2 * self.keep + 4096 {
            let cut = self.bytes.len() - (self.keep + 8);
            self.bytes.drain(..cut);
        }
    }

    fn into_bytes(mut self) -> Vec<u8> {
        let cut = self.bytes.len().saturating_sub(self.keep + 8);
        self.bytes.drain(..cut);
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> Vec<String> {
        vec!["/bin/sh".into(), "-c".into(), script.into()]
    }

    #[tokio::test]
    async fn an_exit_code_and_the_end_of_stderr() {
        let ran = run(
            &sh("echo out; echo first >&2; echo last >&2; exit 3"),
            Duration::from_secs(10),
            100,
        )
        .await;
        assert_eq!(
            ran,
            Ran::Exited {
                code: 3,
                stderr: b"first\nlast\n".to_vec()
            }
        );
        assert!(!ran.succeeded());
        assert!(run(&sh("exit 0"), Duration::from_secs(10), 100)
            .await
            .succeeded());
    }

    #[tokio::test]
    async fn a_long_stderr_keeps_only_its_end() {
        let ran = run(
            &sh("i=0; while [ $i -lt 3000 ]; do echo line-$i >&2; i=$((i+1)); done; exit 1"),
            Duration::from_secs(20),
            16,
        )
        .await;
        let Ran::Exited { code: 1, stderr } = ran else {
            panic!("{ran:?}");
        };
        assert!(stderr.len() <= 16 + 8, "{}", stderr.len());
        assert_eq!(
            pulseboard_shared::agent::tail(&stderr, 16),
            "-2998\nline-2999\n"
        );
    }

    /// Whether process `pid` still runs (a zombie has ended).
    fn alive(pid: &str) -> bool {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|stat| {
                !stat
                    .rsplit(')')
                    .next()
                    .unwrap_or("")
                    .trim_start()
                    .starts_with('Z')
            })
            .unwrap_or(false)
    }

    #[tokio::test]
    async fn a_timeout_kills_the_whole_group() {
        let dir = std::env::temp_dir().join(format!("pb-runner-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let pid_file = dir.join("grandchild.pid");
        let script = format!("sleep 30 & echo $! > {}; wait", pid_file.display());
        let started = std::time::Instant::now();
        let ran = run(&sh(&script), Duration::from_millis(500), 100).await;
        assert_eq!(
            ran,
            Ran::TimedOut {
                after: Duration::from_millis(500)
            }
        );
        assert!(started.elapsed() < Duration::from_secs(5));
        let grandchild = std::fs::read_to_string(&pid_file).unwrap();
        let grandchild = grandchild.trim();
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while alive(grandchild) {
            assert!(
                std::time::Instant::now() < deadline,
                "the grandchild {grandchild} outlived its group's kill"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test]
    async fn a_program_that_cannot_start_and_a_signal() {
        let ran = run(
            &["/no/such/program".to_owned()],
            Duration::from_secs(1),
            100,
        )
        .await;
        let Ran::NotStarted(why) = ran else {
            panic!("{ran:?}")
        };
        assert!(why.contains("cannot start /no/such/program"), "{why}");
        let ran = run(&sh("kill -9 $$"), Duration::from_secs(10), 100).await;
        assert!(matches!(ran, Ran::Killed { signal: 9, .. }), "{ran:?}");
    }
}
