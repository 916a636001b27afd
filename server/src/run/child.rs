//! The wrapped program: started in its own process group (never through a shell), its output
//! passed through unchanged (and read for a readiness line when asked), signals sent to its
//! whole group, and its exit code.

use std::process::Stdio;
use std::time::Duration;

use nix::sys::signal::{killpg, Signal as Sig};
use nix::unistd::Pid;
use regex::Regex;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::mpsc::UnboundedSender;

use super::readiness::{NotifySocket, Readiness, Signal};

/// How the program ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// It exited with this code.
    Code(i32),
    /// A signal ended it.
    Signal(i32),
}

impl Exit {
    /// The code the wrapper exits with: the program's, or 128 + the signal (as a shell says).
    pub fn code(self) -> i32 {
        match self {
            Self::Code(c) => c,
            Self::Signal(s) => 128 + s,
        }
    }
}

/// A signal the wrapper received and passes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OsSignal {
    /// SIGTERM: stop (drain, then the group is killed after the stop timeout).
    Term,
    /// SIGINT: the same, from a terminal.
    Int,
    /// SIGHUP: passed on (the program's reload).
    Hup,
    /// SIGTSTP, SIGUSR1 or SIGUSR2: sent (never received) as the program's "take no new jobs"
    /// (`--quiet-signal`; Sidekiq's is TSTP).
    Quiet(QuietSignal),
}

/// A signal that tells a program to take no new jobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum QuietSignal {
    /// SIGTSTP (Sidekiq's quiet).
    Tstp,
    /// SIGUSR1.
    Usr1,
    /// SIGUSR2.
    Usr2,
}

impl OsSignal {
    /// Whether it asks the program to stop.
    pub fn stops(self) -> bool {
        matches!(self, Self::Term | Self::Int)
    }

    /// Its name, for logs and the draining reason.
    pub fn name(self) -> &'static str {
        match self {
            Self::Term => "SIGTERM",
            Self::Int => "SIGINT",
            Self::Hup => "SIGHUP",
            Self::Quiet(QuietSignal::Tstp) => "SIGTSTP",
            Self::Quiet(QuietSignal::Usr1) => "SIGUSR1",
            Self::Quiet(QuietSignal::Usr2) => "SIGUSR2",
        }
    }

    fn to_nix(self) -> Sig {
        match self {
            Self::Term => Sig::SIGTERM,
            Self::Int => Sig::SIGINT,
            Self::Hup => Sig::SIGHUP,
            Self::Quiet(QuietSignal::Tstp) => Sig::SIGTSTP,
            Self::Quiet(QuietSignal::Usr1) => Sig::SIGUSR1,
            Self::Quiet(QuietSignal::Usr2) => Sig::SIGUSR2,
        }
    }
}

/// The signals the wrapper listens for, registered once.
pub struct OsSignals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
    hup: tokio::signal::unix::Signal,
}

impl OsSignals {
    /// Starts listening (from now on these signals no longer end the wrapper).
    pub fn new() -> std::io::Result<Self> {
        Ok(Self {
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
            hup: signal(SignalKind::hangup())?,
        })
    }

    /// The next signal received.
    pub async fn recv(&mut self) -> OsSignal {
        tokio::select! {
            _ = self.term.recv() => OsSignal::Term,
            _ = self.int.recv() => OsSignal::Int,
            _ = self.hup.recv() => OsSignal::Hup,
        }
    }
}

/// The running program.
pub struct Child {
    inner: tokio::process::Child,
    pgid: Pid,
    /// The output pumps (with `--ready-log`), drained before the wrapper leaves.
    pumps: Vec<tokio::task::JoinHandle<()>>,
}

impl Child {
    /// Starts `command` in a new process group; with a log readiness pattern its output is read
    /// line by line (and passed through), with sd_notify it gets `NOTIFY_SOCKET`.
    pub fn spawn(
        command: &[String],
        readiness: &[Readiness],
        notify: &Option<NotifySocket>,
        said: UnboundedSender<Signal>,
    ) -> anyhow::Result<Self> {
        let (program, args) = command
            .split_first()
            .ok_or_else(|| anyhow::anyhow!("no command to run (give it after --)"))?;
        let mut cmd = tokio::process::Command::new(program);
        cmd.args(args).process_group(0).stdin(Stdio::inherit());
        if let Some(n) = notify {
            cmd.env("NOTIFY_SOCKET", n.path());
            if let Some(w) = n.watchdog() {
                cmd.env("WATCHDOG_USEC", w.as_micros().to_string());
            }
        }
        // Each log condition with its number among the conditions.
        let mut patterns = Vec::new();
        for (n, r) in readiness.iter().enumerate() {
            if let Readiness::Log(p) = r {
                patterns.push((n, Regex::new(p)?));
            }
        }
        let patterns: std::sync::Arc<[(usize, Regex)]> = patterns.into();
        if !patterns.is_empty() {
            cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        }
        let mut inner = cmd
            .spawn()
            .map_err(|e| anyhow::anyhow!("cannot start {program:?}: {e}"))?;
        let pid = inner
            .id()
            .ok_or_else(|| anyhow::anyhow!("{program:?} exited at once"))?;
        let mut pumps = Vec::new();
        if !patterns.is_empty() {
            let out = inner.stdout.take().expect("piped");
            let err = inner.stderr.take().expect("piped");
            pumps.push(tokio::spawn(pass_through(
                out,
                tokio::io::stdout(),
                patterns.clone(),
                said.clone(),
            )));
            pumps.push(tokio::spawn(pass_through(
                err,
                tokio::io::stderr(),
                patterns,
                said,
            )));
        }
        Ok(Self {
            inner,
            pgid: Pid::from_raw(pid as i32),
            pumps,
        })
    }

    /// Its process id (and group id).
    pub fn pid(&self) -> i32 {
        self.pgid.as_raw()
    }

    /// Waits for it to exit.
    pub async fn wait(&mut self) -> std::io::Result<Exit> {
        use std::os::unix::process::ExitStatusExt;
        let status = self.inner.wait().await?;
        Ok(match (status.code(), status.signal()) {
            (Some(code), _) => Exit::Code(code),
            (None, Some(sig)) => Exit::Signal(sig),
            (None, None) => Exit::Code(1),
        })
    }

    /// Once it has exited: waits for its last output to be passed on (for a second at most: a
    /// process it left behind may hold the pipe open).
    pub async fn drain_output(&mut self) {
        let pumps = futures::future::join_all(self.pumps.drain(..));
        let _ = tokio::time::timeout(Duration::from_secs(1), pumps).await;
    }

    /// Passes `sig` to the whole group.
    pub fn forward(&self, sig: OsSignal) {
        if let Err(e) = killpg(self.pgid, sig.to_nix()) {
            tracing::warn!(signal = sig.name(), error = %e, "cannot signal the program's group");
        }
    }

    /// Passes the stop on to the group, and kills the group if it still runs after `timeout`.
    pub fn stop_group(&self, sig: OsSignal, timeout: Duration) {
        self.forward(sig);
        let pgid = self.pgid;
        tokio::spawn(async move {
            tokio::time::sleep(timeout).await;
            if killpg(pgid, Sig::SIGKILL).is_ok() {
                tracing::warn!(
                    ?timeout,
                    "the program did not stop in time; its group was killed"
                );
            }
        });
    }
}

/// Copies `from` to `to` byte for byte, line by line, telling `said` once when a line matches
/// `pattern` (read as UTF-8, lossily: output that is not text still passes through unchanged).
async fn pass_through(
    from: impl AsyncRead + Unpin,
    mut to: impl AsyncWrite + Unpin,
    patterns: std::sync::Arc<[(usize, Regex)]>,
    said: UnboundedSender<Signal>,
) {
    let mut from = BufReader::new(from);
    let mut line = Vec::with_capacity(256);
    let mut met = vec![false; patterns.len()];
    loop {
        line.clear();
        match from.read_until(b'\n', &mut line).await {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        if met.contains(&false) {
            let text = String::from_utf8_lossy(&line);
            let text = text.trim_end_matches(['\n', '\r']);
            for ((n, pattern), met) in patterns.iter().zip(met.iter_mut()) {
                if !*met && pattern.is_match(text) {
                    *met = true;
                    let _ = said.send(Signal::Met(*n));
                }
            }
        }
        let _ = to.write_all(&line).await;
        let _ = to.flush().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn output_passes_through_unchanged_and_a_matching_line_says_ready() {
        let input: &[u8] = b"loading \xff\xfe\r\nlistening on 9000\nlistening on 9001\nno newline";
        let mut out = Vec::new();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let patterns = [(3, Regex::new(r"^listening on \d+$").unwrap())];
        pass_through(input, &mut out, patterns.into(), tx).await;
        assert_eq!(out, input);
        assert_eq!(rx.recv().await, Some(Signal::Met(3)));
        assert_eq!(rx.recv().await, None, "said once");
    }

    #[test]
    fn exit_codes_follow_the_shell() {
        assert_eq!(Exit::Code(3).code(), 3);
        assert_eq!(Exit::Signal(15).code(), 143);
    }
}
