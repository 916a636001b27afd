//! `pulseboard acl`: the flags, and where the password comes from.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;

pub const ACL_HELP: &str = "\
Roles (each user may run only the listed commands, on only these keys):
  worker  --name N  writes worker:N:heartbeat; takes from worker:N:commands; moves jobs in its
                    queue (queue:N or --queue), processing:<queue>:* (or --consumer C: only
                    processing:<queue>:C) and dead_letter:<queue>; reads queue:paused (sets it
                    with --may-pause). User worker-N.
  agent   --name H  reads pulseboard:agent:H:requests (group `agents`), writes its started set
                    and beat, appends to pulseboard:agent:results. User agent-H.
  server            what `pulseboard serve` reads, its own pulseboard:alerts:* keys, commands
                    on worker:*:commands, requests on pulseboard:agent:*:requests. User
                    pulseboard (or --name).
  viewer            reads only, for `pulseboard serve --read-only`. User pulseboard-viewer (or
                    --name).
No role may run an administrative command (FLUSHALL, CONFIG, KEYS, ACL, ...). Names may use
letters, digits, '.', '_' and '-' (a queue also ':'); anything else is refused.

The password (16 characters or more: `openssl rand -hex 24`) comes from --password-file (`-`:
stdin; it wins) or PULSEBOARD_ACL_PASSWORD; --password works but shows in `ps` and history. The
line holds only its SHA-256 (#...), and starts with `reset`: applying it again replaces the user,
old password included. The line goes to stdout, what it grants (as # comments) to stderr:
  pulseboard acl --role worker --name gpu-1 --password-file gpu-1.pw \\
    | REDISCLI_AUTH=... redis-cli -h nas.local --user admin
  pulseboard acl --role agent --name gpu-01 --password-file gpu-01.pw --format file >> users.acl";

#[derive(Args)]
pub struct AclArgs {
    /// Who the user is for.
    #[arg(long, value_enum)]
    pub role: pulseboard_server::acl::Role,
    /// worker: the worker's name; agent: its host; server, viewer: the user's name [default:
    /// pulseboard, pulseboard-viewer].
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// The user's password (prefer --password-file or the environment: a flag shows in `ps`).
    #[arg(
        long,
        env = "PULSEBOARD_ACL_PASSWORD",
        value_name = "PASSWORD",
        hide_env_values = true
    )]
    pub password: Option<String>,
    /// A file holding the password (one line; `-` reads stdin). Wins over --password.
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,
    /// worker: its pending-jobs list, when not queue:<NAME> (the config's `queue`).
    #[arg(long, value_name = "QUEUE")]
    pub queue: Option<String>,
    /// worker: its one consumer: only processing:<QUEUE>:<C>, not every in-flight list of its
    /// queue.
    #[arg(long, value_name = "C")]
    pub consumer: Option<String>,
    /// worker: it sets and clears the pause flag queue:paused (the watcher).
    #[arg(long)]
    pub may_pause: bool,
    /// server, viewer: the config file `serve` reads, for queues not named queue:* [default:
    /// the seed's workers].
    #[arg(long, env = "PULSEBOARD_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// cli: an `ACL SETUSER` command; file: a `user` line of an ACL file.
    #[arg(long, value_enum, default_value = "cli")]
    pub format: pulseboard_server::acl::Format,
}

impl AclArgs {
    /// The password: the file's one line, else the flag's or the environment's.
    pub fn password(&self) -> anyhow::Result<String> {
        let Some(path) = &self.password_file else {
            return self.password.clone().ok_or_else(|| {
                anyhow::anyhow!("no password: give --password-file FILE or PULSEBOARD_ACL_PASSWORD")
            });
        };
        let text = if path.as_os_str() == "-" {
            std::io::read_to_string(std::io::stdin())
                .context("cannot read the password from stdin")?
        } else {
            std::fs::read_to_string(path)
                .with_context(|| format!("cannot read --password-file {}", path.display()))?
        };
        Ok(text
            .strip_suffix('\n')
            .map_or(text.as_str(), |t| t.strip_suffix('\r').unwrap_or(t))
            .to_owned())
    }

    /// What to print the user for.
    pub fn request(&self) -> pulseboard_server::acl::Request {
        pulseboard_server::acl::Request {
            name: self.name.clone(),
            queue: self.queue.clone(),
            consumer: self.consumer.clone(),
            may_pause: self.may_pause,
        }
    }
}
