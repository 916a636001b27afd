//! The `pulseboard` command: `serve`, `simulate`, `demo`, `run`, `agent`, `acl`, `wait`,
//! `silence` and `check-config`.
//! The flags are in [`cli`]; this file starts what they ask for.

mod cli;

use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use pulseboard_server::config::{redact, Config, Overrides};
use pulseboard_server::run::{self, RunOptions};
use pulseboard_server::shutdown::Shutdown;
use pulseboard_server::{agent, demo, reload, simulate};

use crate::cli::{Cli, Command, ServeArgs};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            // `{:#}` prints the whole chain of causes on one line, without a backtrace.
            eprintln!("pulseboard: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    match Cli::parse().command {
        Command::Serve(args) => serve(args).await,
        Command::Simulate(args) => {
            if !(0.0..=1.0).contains(&args.outage_chance) {
                anyhow::bail!("--outage-chance must be between 0 and 1");
            }
            let config = Config::load(args.config.as_deref(), &Overrides::default())?;
            let options = simulate::SimOptions {
                redis_url: args.redis.or_default(),
                beat_interval: Duration::from_secs(args.beat_interval.max(1)),
                workers: config.topology.workers,
                seed: args.seed.unwrap_or_else(rand::random),
                outage_chance: args.outage_chance,
            };
            tracing::info!(redis = %redact(&options.redis_url), workers = options.workers.len(), "simulating");
            simulate::run(options, Shutdown::on_signals()).await
        }
        Command::Run(args) => {
            let readiness = args.readiness()?;
            let consumers = args.consumers()?;
            let part = args.part()?;
            let code = run::run(RunOptions {
                name: args.name,
                part,
                kind: args.kind,
                redis_url: args.redis.or_default(),
                interval: Duration::from_secs(args.interval.max(1)),
                version: args.worker_version,
                readiness,
                stop_timeout: Duration::from_secs(args.stop_timeout),
                quiet_signal: args.quiet_signal,
                consumers,
                command: args.command,
            })
            .await?;
            std::process::exit(code)
        }
        Command::Agent(args) => {
            let keys = args.keys()?;
            let allow_list = agent::allow_list::AllowList::load(&args.config)?;
            let redis_url = args.redis.or_default();
            tracing::info!(
                host = %args.host,
                config = %args.config.display(),
                redis = %redact(&redis_url),
                "agent starting"
            );
            let options = agent::Options {
                host: args.host,
                allow_list,
                redis_url,
                beat_interval: Duration::from_millis(args.beat_interval_ms.max(10)),
                keys,
                max_restarts_per_hour: args.max_restarts_per_hour,
            };
            agent::run(options, Shutdown::on_signals()).await?;
            Ok(())
        }
        Command::Acl(args) => {
            // The configured queues, read as `serve` reads them (the seed's without a file).
            let topology = Config::load(args.config.as_deref(), &Overrides::default())?.topology;
            let user = pulseboard_server::acl::User::new(
                args.role,
                &args.request(),
                &args.password()?,
                &topology,
            )?;
            eprint!("{}", user.describe());
            println!("{}", user.line(args.format));
            Ok(())
        }
        Command::Wait(args) => {
            let options = args.options()?;
            tracing::info!(
                workers = ?options.names,
                since = %options.since.to_rfc3339(),
                redis = %redact(&options.redis_url),
                "waiting until ready"
            );
            pulseboard_server::wait::run(options).await?;
            tracing::info!("every worker is ready");
            Ok(())
        }
        Command::Silence(args) => args.run().await,
        Command::CheckUnits(args) => match args.run() {
            Ok(0) => Ok(()),
            Ok(code) => std::process::exit(code),
            Err(e) => {
                eprintln!("pulseboard: {e:#}");
                std::process::exit(2);
            }
        },
        Command::CheckConfig(args) => {
            let config = Config::load(args.config.as_deref(), &args.overrides()?)?;
            print!("{}", pulseboard_server::config::effective::to_toml(&config));
            let source = args
                .config
                .as_ref()
                .map_or("built-in defaults".into(), |p| p.display().to_string());
            eprintln!("pulseboard: configuration OK ({source}, environment and flags applied)");
            Ok(())
        }
        Command::Demo(args) => {
            demo::run(demo::DemoOptions {
                listen: args.listen,
                dist: args.dist,
                beat_interval: Duration::from_secs(args.beat_interval.max(1)),
            })
            .await
        }
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let source = reload::Source {
        path: args.config.clone(),
        overrides: args.overrides()?,
    };
    let config = source.load()?;
    let bundle = pulseboard_server::bundle::Bundle::from_option(config.dist.clone());
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    tracing::info!(
        listen = %listener.local_addr()?,
        redis = %redact(&config.redis_url),
        workers = config.topology.workers.len(),
        refresh_ms = config.refresh.as_millis() as u64,
        dashboard = %bundle.describe(),
        "pulseboard serving; dashboard at /infra/"
    );
    if bundle.index().is_none() {
        tracing::warn!(dashboard = %bundle.describe(), "no dashboard bundle; /infra/ will say how to build it");
    }
    let shutdown = Shutdown::on_signals();
    if args.mock {
        tracing::warn!("mock mode: serving a scripted fleet, not Redis");
        pulseboard_server::mock::serve(config, listener, shutdown).await?;
    } else {
        let configs = reload::on_sighup(source, config, shutdown.clone());
        pulseboard_server::serve_live(configs, listener, shutdown).await?;
    }
    tracing::info!("stopped");
    Ok(())
}
