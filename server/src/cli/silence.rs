//! `pulseboard silence`: the flags.

use anyhow::Context;
use clap::{Args, Subcommand};
use pulseboard_server::silences::client::{line, parse_duration, Client};
use pulseboard_shared::silence::{NewSilence, SilenceMatch};

pub const SILENCE_HELP: &str = "\
Talks to a running server (--server, default http://127.0.0.1:8080). Changing silences needs an
admin token, read from PULSEBOARD_ADMIN_TOKEN (never a flag: it would show in `ps`).

Examples:
  pulseboard silence add --host gpu-01 --for 1h --reason 'disk swap' --maintenance
  pulseboard silence add --worker trade-bot --for 30m --reason 'broker maintenance'
  pulseboard silence list
  pulseboard silence end s-3f2a9c0d4e5b6a71";

#[derive(Args)]
pub struct SilenceArgs {
    /// The pulseboard server.
    #[arg(
        long,
        global = true,
        env = "PULSEBOARD_SERVER",
        default_value = "http://127.0.0.1:8080",
        value_name = "URL"
    )]
    pub server: String,
    #[command(subcommand)]
    pub action: SilenceAction,
}

#[derive(Subcommand)]
pub enum SilenceAction {
    /// Silence the alerts about one worker, a host's workers or a kind's for a while.
    Add(AddArgs),
    /// The silences in force, soonest to end first.
    List,
    /// End a silence now: an alert it held that is still true goes out.
    End {
        /// The silence's id (`s-...`, as `add` and `list` print it).
        id: String,
    },
}

#[derive(Args)]
#[command(group(clap::ArgGroup::new("what").required(true).multiple(false)))]
pub struct AddArgs {
    /// One worker, by name.
    #[arg(long, group = "what", value_name = "NAME")]
    pub worker: Option<String>,
    /// Every worker of a host.
    #[arg(long, group = "what", value_name = "HOST")]
    pub host: Option<String>,
    /// Every worker of a kind (render, watcher, trader).
    #[arg(long, group = "what", value_name = "KIND")]
    pub kind: Option<String>,
    /// How long: 90, 90s, 15m, 2h, 1d (at most 30 days).
    #[arg(long = "for", value_name = "DURATION")]
    pub for_: String,
    /// Why, for whoever looks (1 to 200 characters).
    #[arg(long)]
    pub reason: String,
    /// Planned work: also hold the recovery guard and the orphan rescue.
    #[arg(long)]
    pub maintenance: bool,
}

impl SilenceArgs {
    /// Does what was asked, printing the outcome on stdout.
    pub async fn run(self) -> anyhow::Result<()> {
        let token = std::env::var("PULSEBOARD_ADMIN_TOKEN").ok();
        let now = pulseboard_server::aggregate::unix_now();
        let needs_token = !matches!(self.action, SilenceAction::List);
        if needs_token && token.is_none() {
            anyhow::bail!("set PULSEBOARD_ADMIN_TOKEN to an admin token of the server");
        }
        let client = Client::new(&self.server, token);
        match self.action {
            SilenceAction::Add(a) => {
                let for_s = parse_duration(&a.for_).with_context(|| {
                    format!("--for {:?}: expected 90, 90s, 15m, 2h or 1d", a.for_)
                })?;
                let matches = match (a.worker, a.host, a.kind) {
                    (Some(w), _, _) => SilenceMatch::Worker(w),
                    (_, Some(h), _) => SilenceMatch::Host(h),
                    (_, _, Some(k)) => SilenceMatch::Kind(k),
                    _ => unreachable!("clap requires one of --worker, --host, --kind"),
                };
                let asked = NewSilence {
                    matches,
                    for_s,
                    reason: a.reason,
                    maintenance: a.maintenance,
                };
                let silence = client.add(&asked).await?;
                println!("{}", line(&silence, now));
            }
            SilenceAction::List => {
                let silences = client.list().await?;
                if silences.is_empty() {
                    eprintln!("no silence in force");
                }
                for s in &silences {
                    println!("{}", line(s, now));
                }
            }
            SilenceAction::End { id } => {
                client.end(&id).await?;
                println!("{id} ended");
            }
        }
        Ok(())
    }
}
