//! `pulseboard wait`: the flags, and the options they make.

use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use clap::Args;
use pulseboard_server::wait::Options;
use pulseboard_shared::heartbeat::check_name;
use pulseboard_shared::lifecycle::LifecycleRules;
use pulseboard_shared::parts::check_part_name;

use super::{RedisArgs, DEFAULT_REDIS};

pub const WAIT_HELP: &str = "\
A worker is ready when its heartbeat says so (phase `ready`, or a beat without a phase) in a life
that began at or after --since: its `started_at` (written by `pulseboard run` and the SDK). A
worker that does not say when it started (the seed's) counts as soon as it beats ready.

Exit 0: every worker is ready. Exit 1, at once, when one's new life ends before it is ready: it
exited (its exit code), stopped, is draining, said `starting` longer than --ready-timeout, or its
heartbeat expired; and at --timeout, naming each worker not ready and where it stands. Redis away
is logged and waited out until --timeout. Progress: a line on stderr each time a worker's
standing changes.

Examples:
  ExecStartPost=/usr/local/bin/pulseboard wait --ready %i --timeout 60
  systemctl restart render@gpu-1 && pulseboard wait --ready gpu-1 --since \"$(date -u +%FT%TZ)\"
  pulseboard wait --ready hero --part server --part ui   (a worker of two processes)";

#[derive(Args)]
#[command(mut_arg("redis", |a| a
    .default_value(DEFAULT_REDIS)
    .help("Redis the workers beat to (one server).")))]
pub struct WaitArgs {
    /// The workers that must all be ready (`--ready a b` or `--ready a --ready b`).
    #[arg(long = "ready", value_name = "NAME", required = true, num_args = 1..)]
    pub ready: Vec<String>,
    /// Each worker is several processes (`[[workers]] parts`): wait for every one of these
    /// parts of it to be ready (repeat for each part).
    #[arg(long = "part", value_name = "PART")]
    pub parts: Vec<String>,
    #[command(flatten)]
    pub redis: RedisArgs,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 120, value_name = "S")]
    pub timeout: u64,
    /// Lives that began before this time do not count (the instance being replaced), RFC 3339
    /// (2026-12-02T16:00:00Z) [default: 5 s before now].
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// How long a worker may say `starting` before its start counts as failed.
    #[arg(long, default_value_t = 120, value_name = "S")]
    pub ready_timeout: u64,
}

impl WaitArgs {
    /// What to wait for, checked: names by the name rule, --since as a time.
    pub fn options(self) -> anyhow::Result<Options> {
        for name in &self.ready {
            check_name(name).with_context(|| format!("--ready {name:?}"))?;
        }
        for part in &self.parts {
            check_part_name(part).map_err(|why| anyhow::anyhow!("--part {part:?}: {why}"))?;
        }
        let since = match &self.since {
            Some(text) => DateTime::parse_from_rfc3339(text)
                .with_context(|| format!("--since {text:?} is not an RFC 3339 time"))?
                .with_timezone(&Utc),
            None => Utc::now() - chrono::Duration::seconds(5),
        };
        Ok(Options {
            redis_url: self.redis.or_default(),
            names: self.ready,
            parts: self.parts,
            since,
            timeout: Duration::from_secs(self.timeout),
            poll: Duration::from_millis(250),
            rules: LifecycleRules {
                ready_timeout_s: self.ready_timeout,
                stall_after_s: None,
            },
        })
    }
}
