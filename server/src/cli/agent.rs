//! `pulseboard agent`: the flags, and where the key comes from.

use std::path::PathBuf;

use clap::Args;
use pulseboard_shared::agent::key::AgentKeys;

use super::{RedisArgs, DEFAULT_REDIS};

pub const AGENT_HELP: &str = "\
Allow-list (--config), TOML; nothing else is ever run:
  [workers.render-1]
  restart = [\"/bin/systemctl\", \"restart\", \"render-1.service\"]
  reset = [\"/bin/systemctl\", \"reset-failed\", \"render-1.service\"]   # optional
  timeout_s = 60                                                    # optional, default 60
A request names a worker and an action (restart, reset_and_restart), never a program: the argv
comes from this file and runs directly, never through a shell. An unknown key, an empty argv or
a program that cannot be found is an error at start-up. A command still running after
timeout_s is killed with its process group.

Key: the same as the server's (PULSEBOARD_AGENT_KEY or --key-file; `openssl rand -hex 32`).
Without one the agent does not start. Only requests signed with it, for this host, at most 300 s
old (60 s ahead) and not seen before are taken; anything else is answered `refused` and runs
nothing. Results are signed with it too. During a rotation give `new,old`: the first signs,
either verifies.

Redis: requests on pulseboard:agent:<HOST>:requests (consumer group `agents`), results on
pulseboard:agent:results, the beat at pulseboard:agent:<HOST>:heartbeat. A request the agent was
running when it was killed is answered `interrupted`, never run twice. Redis away: the agent
waits and retries; it never exits for that.";

#[derive(Args)]
#[command(mut_arg("redis", |a| a
    .default_value(DEFAULT_REDIS)
    .help("Redis the requests come through.")))]
pub struct AgentArgs {
    /// This host's name, as pulseboard knows it: the agent serves pulseboard:agent:<HOST>:*.
    #[arg(long, value_name = "HOST")]
    pub host: String,
    /// The allow-list: the workers this agent may act for and the exact commands (TOML).
    #[arg(long, value_name = "FILE")]
    pub config: PathBuf,
    #[command(flatten)]
    pub redis: RedisArgs,
    /// Milliseconds between beats; the beat expires after 45 s.
    #[arg(long, default_value_t = 15_000, value_name = "MS")]
    pub beat_interval_ms: u64,
    /// The key shared with the server, hex; `new,old` during a rotation. Prefer the
    /// environment or --key-file: a flag shows in `ps`.
    #[arg(
        long,
        env = "PULSEBOARD_AGENT_KEY",
        value_name = "HEX[,HEX]",
        hide_env_values = true
    )]
    pub key: Option<String>,
    /// A file holding the key (one or two lines), instead of PULSEBOARD_AGENT_KEY; under
    /// systemd, a credential: --key-file %d/agent-key with LoadCredential=agent-key:FILE.
    #[arg(long, env = "PULSEBOARD_AGENT_KEY_FILE", value_name = "FILE")]
    pub key_file: Option<PathBuf>,
    /// Restarts of one worker the agent runs in an hour at most, whatever the requests say
    /// (counted in its memory; more are refused).
    #[arg(long, default_value_t = pulseboard_server::agent::DEFAULT_MAX_RESTARTS_PER_HOUR,
          value_parser = clap::value_parser!(u32).range(1..=3600), value_name = "N")]
    pub max_restarts_per_hour: u32,
}

impl AgentArgs {
    /// The key, from the environment, --key or --key-file; the agent does not start without.
    pub fn keys(&self) -> anyhow::Result<AgentKeys> {
        let loaded = pulseboard_server::config::agent_key::load(
            self.key.as_deref(),
            self.key_file.as_deref(),
        )?;
        loaded.ok_or_else(|| {
            anyhow::anyhow!(
                "no agent key: set PULSEBOARD_AGENT_KEY or --key-file FILE to the key the \
                 server holds (make one with `openssl rand -hex 32`); without it the agent \
                 could not tell the server's requests from anyone else's"
            )
        })
    }
}
