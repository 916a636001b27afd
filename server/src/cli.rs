//! The command line: `pulseboard serve | simulate | demo | run | agent | acl | wait | silence |
//! check-config`, with clap's derive. Every flag has its environment variable (when it has one)
//! and its default here; `--redis` is one [`RedisArgs`] shared by every subcommand that talks to
//! Redis.

use pulseboard_shared::heartbeat::is_consumer_id;
use pulseboard_shared::parts::check_part_name;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use pulseboard_server::config::admin::AdminTokens;
use pulseboard_server::config::{AlertOverrides, Overrides, RedisTls};
use pulseboard_server::run;
use pulseboard_server::run::readiness::Readiness;
use pulseboard_shared::agent::key::AgentKeys;

mod acl;
mod agent;
mod check_units;
mod silence;
mod wait;
pub use self::acl::{AclArgs, ACL_HELP};
pub use self::agent::{AgentArgs, AGENT_HELP};
pub use self::check_units::{CheckUnitsArgs, CHECK_UNITS_HELP};
pub use self::silence::{SilenceArgs, SILENCE_HELP};
pub use self::wait::{WaitArgs, WAIT_HELP};

/// The Redis used when no layer names one.
pub const DEFAULT_REDIS: &str = "redis://127.0.0.1:6379";

/// `--redis URL` / `REDIS_URL`. The URL may carry a password, so `--help` never shows the
/// environment's value. Each subcommand says what it uses Redis for, and whether it has a default
/// (`serve` takes it from the configuration's layers; `simulate` requires it).
#[derive(Args)]
pub struct RedisArgs {
    /// Redis to read [default: redis://127.0.0.1:6379].
    #[arg(
        id = "redis",
        long = "redis",
        env = "REDIS_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    pub url: Option<String>,
}

impl RedisArgs {
    /// The URL given, else [`DEFAULT_REDIS`].
    pub fn or_default(self) -> String {
        self.url.unwrap_or_else(|| DEFAULT_REDIS.to_owned())
    }
}

/// Live health of a fleet of job workers, from their Redis heartbeats and queues.
#[derive(Parser)]
#[command(
    name = "pulseboard",
    bin_name = "pulseboard",
    version,
    propagate_version = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Serve the API (/api/agent-office/nodes, its SSE stream), /healthz, /readyz and the
    /// dashboard at /infra/, aggregating Redis in the background once per refresh. SIGTERM or
    /// Ctrl-C drains and exits 0; SIGHUP reloads the config file (a bad one is refused).
    Serve(ServeArgs),
    /// Write simulated heartbeats (contract 1) and move simulated jobs through the reliable
    /// queue of the configured workers, on a real Redis. For demos and trials, not production.
    Simulate(SimulateArgs),
    /// Start a private redis-server on a free port, the simulator and the server together, and
    /// print the dashboard's URL. Ctrl-C stops all three.
    Demo(DemoArgs),
    /// Run a program as a pulseboard worker: start it in its own process group, beat for it
    /// (starting until ready, then ready), pass SIGTERM/SIGINT/SIGHUP to its group, and when it
    /// exits write the final beat (a clean stop, or its exit code) and exit with its code.
    /// Example: pulseboard run --name gpu-1 --kind render --ready-log 'listening' -- ./worker
    #[command(after_help = RUN_HELP)]
    Run(RunArgs),
    /// Run the host agent on a worker host: when pulseboard asks (a Redis stream per host), run
    /// a worker's allow-listed supervisor command (restart, or reset then restart), at most once,
    /// and answer how it went. It beats while it can act. SIGTERM or Ctrl-C lets a running
    /// command finish, deletes the beat and exits 0.
    /// Example: pulseboard agent --host gpu-01 --config /etc/pulseboard/agent.toml
    #[command(after_help = AGENT_HELP)]
    Agent(AgentArgs),
    /// Print the Redis ACL user of one role (a worker, a host's agent, the server, a read-only
    /// viewer): the `ACL SETUSER` line granting exactly the commands and keys that role's code
    /// uses, to paste into redis-cli as an admin (or, with --format file, a line of an ACL file).
    /// Example: pulseboard acl --role worker --name gpu-1 --password-file /etc/pulseboard/gpu-1.pw
    #[command(after_help = ACL_HELP)]
    Acl(AclArgs),
    /// Wait until every named worker is ready in a life that began after --since (a deploy's
    /// new instance), reading their heartbeats from Redis. Exits 0 when all are ready, 1 at once
    /// when one exits, stops or fails to start, and 1 at --timeout.
    /// Example: pulseboard wait --ready gpu-1 gpu-2 --timeout 60
    #[command(after_help = WAIT_HELP)]
    Wait(WaitArgs),
    /// Silence the alerts about a worker, a host or a kind for a while (maintenance, planned
    /// work), list the silences in force, or end one early, through a running server's API.
    /// Example: pulseboard silence add --host gpu-01 --for 1h --reason 'disk swap'
    #[command(after_help = SILENCE_HELP)]
    Silence(SilenceArgs),
    /// Check that systemd units and launchd plists start the program (and version) `[runtime]`
    /// expects of the worker they run, before a rollout. Exits 1 listing each mismatch.
    /// Example: pulseboard check-units --config pulseboard.toml deploy/*.service
    #[command(after_help = CHECK_UNITS_HELP)]
    CheckUnits(CheckUnitsArgs),
    /// Check a configuration (file, environment and flags, as `serve` would read them) and print
    /// the effective result as TOML with secrets redacted. Exits 1 when it cannot be used.
    CheckConfig(ServeArgs),
}

#[derive(Args)]
pub struct ServeArgs {
    /// TOML config file (hosts, workers, intervals); without one, the seed's six workers are used.
    #[arg(long, env = "PULSEBOARD_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub redis: RedisArgs,
    /// The Redis is a Redis Cluster (--redis names any one of its nodes).
    #[arg(long, env = "PULSEBOARD_REDIS_CLUSTER")]
    pub redis_cluster: bool,
    /// With a rediss:// URL: the CA that signed Redis's certificate (PEM) [default: the
    /// system's trust store].
    #[arg(long, env = "PULSEBOARD_REDIS_CA_FILE", value_name = "FILE")]
    pub redis_ca_file: Option<PathBuf>,
    /// With a rediss:// URL and mutual TLS: this client's certificate (PEM).
    #[arg(long, env = "PULSEBOARD_REDIS_CLIENT_CERT", value_name = "FILE")]
    pub redis_client_cert: Option<PathBuf>,
    /// With --redis-client-cert: its private key (PEM).
    #[arg(long, env = "PULSEBOARD_REDIS_CLIENT_KEY", value_name = "FILE")]
    pub redis_client_key: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "PULSEBOARD_LISTEN", value_name = "ADDR")]
    pub listen: Option<String>,
    /// Serve the dashboard from this trunk build instead of the one embedded in the binary
    /// (for work on the page).
    #[arg(long, env = "PULSEBOARD_DIST", value_name = "DIR")]
    pub dist: Option<PathBuf>,
    /// Milliseconds between two refreshes of the snapshot [default: 1000].
    #[arg(long, env = "PULSEBOARD_REFRESH_MS", value_name = "MS")]
    pub refresh_ms: Option<u64>,
    /// Who may act (restart, quiet, stop a worker through the admin API): comma-separated
    /// name:token pairs, tokens of 16 characters or more [default: nobody; actions answer 403].
    #[arg(
        long,
        env = "PULSEBOARD_ADMIN_TOKENS",
        value_name = "NAME:TOKEN,...",
        hide_env_values = true
    )]
    pub admin_tokens: Option<String>,
    /// The key shared with the host agents, hex (`openssl rand -hex 32`); `new,old` during a
    /// rotation. Prefer the environment or --agent-key-file: a flag shows in `ps` [default:
    /// none; agent requests are off].
    #[arg(
        long,
        env = "PULSEBOARD_AGENT_KEY",
        value_name = "HEX[,HEX]",
        hide_env_values = true
    )]
    pub agent_key: Option<String>,
    /// A file holding the agent key (one or two lines), instead of PULSEBOARD_AGENT_KEY; also
    /// `agent_key_file` in the config file.
    #[arg(long, env = "PULSEBOARD_AGENT_KEY_FILE", value_name = "FILE")]
    pub agent_key_file: Option<PathBuf>,
    /// Serve the dashboard's mock script (every state in turn) instead of reading Redis: try the
    /// whole product with nothing installed.
    #[arg(long)]
    pub mock: bool,
    /// A read-only replica of the dashboard: no alerts, no recovery guard, no admin actions;
    /// nothing is written to Redis, so a Redis user of the `viewer` role is enough (see
    /// `pulseboard acl`). Another pulseboard with write access does the rest.
    #[arg(long, env = "PULSEBOARD_READ_ONLY")]
    pub read_only: bool,
}

#[derive(Args)]
#[command(mut_arg("redis", |a| a.required(true).help("Redis to write to.")))]
pub struct SimulateArgs {
    #[command(flatten)]
    pub redis: RedisArgs,
    /// TOML config file whose workers are simulated [default: the seed's six].
    #[arg(long, env = "PULSEBOARD_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Seconds between heartbeats; keys expire after three times this (contract 1: 15).
    #[arg(long, default_value_t = 15, value_name = "S")]
    pub beat_interval: u64,
    /// Chance per beat interval that a worker goes away for a while (a crash or a clean stop).
    #[arg(long, default_value_t = 0.03, value_name = "P")]
    pub outage_chance: f64,
    /// Seed for a repeatable run [default: random].
    #[arg(long)]
    pub seed: Option<u64>,
}

pub const RUN_HELP: &str = "\
Readiness: --ready-file, --ready-http, --ready-log (each may be repeated) and --notify, in any
mix: the program is ready when every condition holds; without any, once started. Until ready it
beats `starting` with a reason naming the conditions still missing; the server calls it failed
after [lifecycle] ready_timeout_s. With --notify --watchdog-s S the watchdog runs from READY=1.

Signals: SIGTERM, SIGINT and SIGHUP go to the program's process group. On SIGTERM or SIGINT it
beats `draining` and kills the group after --stop-timeout.

Exit: when the program exits, the final beat says `stopped` (after a requested stop or exit 0;
kept without expiry) or carries its exit code (the server shows it down at once). The wrapper
then exits with the program's code (128+N after signal N, 127 if it cannot be started).
pulseboard never restarts anything: leave that to systemd or launchd (see deploy/).

Redis away: the program keeps running; beats resume when Redis returns.";

#[derive(Args)]
#[command(
    disable_version_flag = true,
    mut_arg("redis", |a| a.default_value(DEFAULT_REDIS).help("Redis to beat into."))
)]
pub struct RunArgs {
    /// The worker's name: its heartbeat key is worker:<NAME>:heartbeat.
    #[arg(long, value_name = "NAME")]
    pub name: String,
    /// The part of the worker this program is, when the worker is several processes
    /// (`[[workers]] parts` in the server's configuration): it beats under
    /// worker:NAME:part:PART:beat, and the worker is ready only when every part is.
    #[arg(long, value_name = "PART")]
    pub part: Option<String>,
    /// Its kind: render, watcher, trader (or any word for other programs).
    #[arg(long, default_value = "render", value_name = "KIND")]
    pub kind: String,
    #[command(flatten)]
    pub redis: RedisArgs,
    /// Seconds between beats; the key expires after three.
    #[arg(long, default_value_t = 15, value_name = "S")]
    pub interval: u64,
    /// The program's version, shown on the dashboard (`pulseboard --version` is pulseboard's).
    #[arg(long = "version", alias = "worker-version", value_name = "V")]
    pub worker_version: Option<String>,
    /// Ready once this file exists (repeat for several files).
    #[arg(long, value_name = "PATH")]
    pub ready_file: Vec<PathBuf>,
    /// Ready once this URL answers 2xx (repeat for several URLs).
    #[arg(long, value_name = "URL")]
    pub ready_http: Vec<String>,
    /// Ready once a line of the program's output matches this regular expression (the output
    /// still passes through unchanged; repeat for several lines).
    #[arg(long, value_name = "REGEX")]
    pub ready_log: Vec<String>,
    /// The program speaks sd_notify: it gets NOTIFY_SOCKET and says READY=1 (STATUS=,
    /// STOPPING=1 and WATCHDOG=1 are understood too).
    #[arg(long)]
    pub notify: bool,
    /// With --notify: the watchdog period given as WATCHDOG_USEC; a missed WATCHDOG=1 makes the
    /// worker unhealthy until the next.
    #[arg(long, requires = "notify", value_name = "S")]
    pub watchdog_s: Option<f64>,
    /// A consumer id the program runs: its jobs in flight are in processing:<queue>:<ID>
    /// (repeat for several). While declared, pulseboard never moves that list; once the worker
    /// is gone, it puts the jobs back on the queue.
    #[arg(long = "consumer", value_name = "ID")]
    pub consumers: Vec<String>,
    /// Seconds the program may take to stop after SIGTERM before its group is killed.
    #[arg(long, default_value_t = 30, value_name = "S")]
    pub stop_timeout: u64,
    /// The signal that tells the program to take no new jobs, sent when pulseboard asks the
    /// worker to quiet (Sidekiq's is tstp). Without it a quiet is logged and not passed on.
    /// A restart asked by pulseboard stops the program like SIGTERM and exits 75 for the
    /// supervisor to start it again; a stop exits 0.
    #[arg(long, value_enum, value_name = "SIG")]
    pub quiet_signal: Option<run::child::QuietSignal>,
    /// The program and its arguments (run directly, never through a shell).
    #[arg(last = true, required = true, value_name = "CMD")]
    pub command: Vec<String>,
}

#[derive(Args)]
pub struct DemoArgs {
    /// Address to listen on; a free port is used if it is taken.
    #[arg(
        long,
        env = "PULSEBOARD_LISTEN",
        default_value = "127.0.0.1:8080",
        value_name = "ADDR"
    )]
    pub listen: SocketAddr,
    /// Serve the dashboard from this trunk build instead of the one embedded in the binary.
    #[arg(long, env = "PULSEBOARD_DIST", value_name = "DIR")]
    pub dist: Option<PathBuf>,
    /// Seconds between simulated heartbeats (short, so deaths show within seconds).
    #[arg(long, default_value_t = 2, value_name = "S")]
    pub beat_interval: u64,
}

impl ServeArgs {
    /// The layers above the file, from these flags and the environment.
    pub fn overrides(&self) -> anyhow::Result<Overrides> {
        let admin_tokens = AdminTokens::parse(self.admin_tokens.as_deref().unwrap_or(""))
            .map_err(|why| anyhow::anyhow!("PULSEBOARD_ADMIN_TOKENS / --admin-tokens: {why}"))?;
        let agent_key = self
            .agent_key
            .as_deref()
            .map(AgentKeys::parse)
            .transpose()
            .map_err(|why| anyhow::anyhow!("PULSEBOARD_AGENT_KEY / --agent-key: {why}"))?;
        Ok(Overrides {
            redis_url: self.redis.url.clone(),
            redis_cluster: self.redis_cluster.then_some(true),
            redis_tls: RedisTls {
                ca_file: self.redis_ca_file.clone(),
                client_cert: self.redis_client_cert.clone(),
                client_key: self.redis_client_key.clone(),
            },
            listen: self.listen.clone(),
            dist: self.dist.clone(),
            refresh_ms: self.refresh_ms,
            alerts: AlertOverrides::from_env(),
            admin_tokens,
            read_only: self.read_only,
            agent_key,
            agent_key_file: self.agent_key_file.clone(),
        })
    }
}

impl RunArgs {
    /// The part, checked as the server's configuration checks it.
    pub fn part(&self) -> anyhow::Result<Option<String>> {
        if let Some(part) = &self.part {
            check_part_name(part).map_err(|why| anyhow::anyhow!("--part {part:?}: {why}"))?;
        }
        Ok(self.part.clone())
    }

    /// The consumer ids to declare, each checked as the server reads them.
    pub fn consumers(&self) -> anyhow::Result<Vec<String>> {
        if let Some(bad) = self.consumers.iter().find(|c| !is_consumer_id(c)) {
            anyhow::bail!("--consumer {bad:?}: 1 to 128 characters, no spaces or ':'");
        }
        Ok(self.consumers.clone())
    }

    /// How the program says it is ready: every readiness flag given, in the order files, URLs,
    /// log lines, sd_notify (none: ready once started).
    pub fn readiness(&self) -> anyhow::Result<Vec<Readiness>> {
        let mut all: Vec<Readiness> = self
            .ready_file
            .iter()
            .cloned()
            .map(Readiness::File)
            .collect();
        for url in &self.ready_http {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                anyhow::bail!("--ready-http {url:?} is not an http(s) URL");
            }
            all.push(Readiness::Http(url.clone()));
        }
        for pattern in &self.ready_log {
            regex::Regex::new(pattern)
                .with_context(|| format!("--ready-log {pattern:?} is not a regular expression"))?;
            all.push(Readiness::Log(pattern.clone()));
        }
        if self.notify {
            let watchdog = match self.watchdog_s {
                Some(s) if !(s > 0.0 && s.is_finite()) => {
                    anyhow::bail!("--watchdog-s must be a positive number of seconds")
                }
                Some(s) => Some(Duration::from_secs_f64(s)),
                None => None,
            };
            all.push(Readiness::Notify { watchdog });
        }
        Ok(all)
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    fn help(subcommand: &str) -> String {
        let mut cli = Cli::command();
        let sub = cli.find_subcommand_mut(subcommand).unwrap();
        sub.render_help().to_string()
    }

    #[test]
    fn the_flags_hold_together() {
        Cli::command().debug_assert();
    }

    #[test]
    fn acl_takes_its_password_from_one_place_and_never_shows_it() {
        let text = help("acl");
        assert!(text.contains("[env: PULSEBOARD_ACL_PASSWORD]"), "{text}");
        let parse = |extra: &[&str]| {
            let mut args = vec!["pulseboard", "acl", "--role", "worker", "--name", "w"];
            args.extend_from_slice(extra);
            Cli::try_parse_from(args)
        };
        let acl = |extra: &[&str]| match parse(extra).unwrap().command {
            Command::Acl(acl) => acl,
            _ => panic!("not acl"),
        };
        if std::env::var_os("PULSEBOARD_ACL_PASSWORD").is_none() {
            let none = acl(&[]).password().unwrap_err().to_string();
            assert!(none.contains("--password-file"), "{none}");
        }
        let file = std::env::temp_dir().join(format!("pb-acl-pw-{}", std::process::id()));
        std::fs::write(&file, "from-the-file-0123\r\n").unwrap();
        let path = file.to_str().unwrap();
        let both = acl(&["--password", "from-the-flag-0123", "--password-file", path]);
        assert_eq!(
            both.password().unwrap(),
            "from-the-file-0123",
            "the file wins"
        );
        std::fs::remove_file(&file).unwrap();
        let file_format = acl(&["--password", "x", "--format", "file"]);
        assert_eq!(file_format.format, pulseboard_server::acl::Format::File);
        assert_eq!(file_format.request().name.as_deref(), Some("w"));
    }

    #[test]
    fn each_subcommand_says_what_its_redis_is_for_and_hides_the_url() {
        for (subcommand, says) in [
            ("serve", "Redis to read [default: redis://127.0.0.1:6379]"),
            (
                "check-config",
                "Redis to read [default: redis://127.0.0.1:6379]",
            ),
            ("simulate", "Redis to write to."),
            ("run", "Redis to beat into."),
            ("agent", "Redis the requests come through."),
        ] {
            let text = help(subcommand);
            assert!(text.contains(says), "{subcommand}: {text}");
            assert!(text.contains("[env: REDIS_URL]"), "{subcommand}: {text}");
        }
        for subcommand in ["run", "agent"] {
            assert!(help(subcommand).contains("[default: redis://127.0.0.1:6379]"));
        }
        for subcommand in ["serve", "agent"] {
            let text = help(subcommand);
            assert!(text.contains("[env: PULSEBOARD_AGENT_KEY]"), "{text}");
        }
        let simulate = Cli::try_parse_from(["pulseboard", "simulate"]);
        if std::env::var_os("REDIS_URL").is_none() {
            assert!(simulate.is_err(), "simulate needs --redis");
        }
        let Command::Run(run) = Cli::try_parse_from([
            "pulseboard",
            "run",
            "--name",
            "w",
            "--redis",
            "redis://x",
            "--",
            "true",
        ])
        .unwrap()
        .command
        else {
            panic!("not run");
        };
        assert_eq!(run.redis.or_default(), "redis://x");
    }
}
