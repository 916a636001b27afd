//! Measures a worker of two parts (`[[workers]] parts = ["server", "ui"]`), each a real program
//! under `pulseboard run --part`, over several runs at the default refresh (1 s), and prints each
//! run, the median and the worst:
//!
//! - wait: the last part's `--ready-file` appears -> `pulseboard wait --part server --part ui`
//!   exits 0 (it reads the parts' beats from Redis itself, no server);
//! - ready: the same moment -> `/api/agent-office/nodes` says the worker is ready;
//! - part death: the ui part's program exits 3 -> `/nodes` says the worker is down, naming the
//!   part (the wrapper's final beat: no wait for the key to expire).
//!
//! ```text
//! cargo run --release -p pulseboard-tests --example parts_latency -- [RUNS]
//! ```

use std::process::Stdio;
use std::time::{Duration, Instant};

use pulseboard_shared::{LifecycleState as L, Nodes};
use pulseboard_tests::{pulseboard_bin, pulseboard_run, Stack};
use tokio::process::{Child, Command};

const NAME: &str = "music-render";

fn state(nodes: &Nodes) -> Option<L> {
    let w = nodes.workers.iter().find(|w| w.name == NAME)?;
    w.lifecycle.as_ref().map(|l| l.state)
}

fn part(url: &str, part: &str, flags: &[&str], program: &[String]) -> Child {
    let mut args = vec!["--name", NAME, "--part", part, "--interval", "1"];
    args.extend(flags);
    let program: Vec<&str> = program.iter().map(String::as_str).collect();
    pulseboard_run(url, &args, &program)
}

/// Polls `/nodes` every 10 ms until `done` holds; the time it took from `since`.
async fn until(stack: &Stack, since: Instant, done: impl Fn(&Nodes) -> bool) -> Duration {
    loop {
        if done(&stack.nodes().await) {
            return since.elapsed();
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn report(what: &str, mut runs: Vec<Duration>) {
    let each: Vec<String> = runs.iter().map(|d| format!("{:.0}", ms(*d))).collect();
    runs.sort();
    println!(
        "{what:<11} median {:>6.0} ms   worst {:>6.0} ms   runs (ms): {}",
        ms(runs[runs.len() / 2]),
        ms(*runs.last().unwrap()),
        each.join(" ")
    );
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let runs: usize = std::env::args().nth(1).map_or(Ok(5), |a| a.parse())?;
    let stack = Stack::start_with(|c| {
        c.refresh = Duration::from_secs(1); // the default; the test stack's is 100 ms
        let hero = c.topology.workers.iter_mut().find(|w| w.name == NAME);
        hero.unwrap().parts = vec!["server".into(), "ui".into()];
    })
    .await;
    let url = stack.redis.url();
    let dir = std::env::temp_dir().join(format!("pb-parts-latency-{}", std::process::id()));
    let (mut waits, mut readies, mut downs) = (vec![], vec![], vec![]);
    for run in 0..runs {
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)?;
        let (ready, die) = (dir.join("ready"), dir.join("die"));
        let sleeper = vec!["sleep".to_owned(), "600".to_owned()];
        let dies = vec![
            "python3".to_owned(),
            "-c".to_owned(),
            format!(
                "import os, sys, time\nwhile not os.path.exists({:?}): time.sleep(0.005)\nsys.exit(3)",
                die.to_str().unwrap()
            ),
        ];
        let mut server = part(&url, "server", &[], &sleeper);
        let ready_flag = ready.to_str().unwrap();
        let mut ui = part(&url, "ui", &["--ready-file", ready_flag], &dies);
        let since = (chrono::Utc::now() - chrono::Duration::seconds(2)).to_rfc3339();
        until(&stack, Instant::now(), |n| state(n) == Some(L::Starting)).await;
        let mut waiting = Command::new(pulseboard_bin())
            .args(["wait", "--ready", NAME, "--part", "server", "--part", "ui"])
            .args(["--since", &since, "--timeout", "60", "--redis", &url])
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()?;
        // Let the wait see the starting parts first, at a point of the refresh cycle that
        // varies from run to run.
        tokio::time::sleep(Duration::from_millis(700 + 137 * run as u64 % 1000)).await;
        let at = Instant::now();
        std::fs::write(&ready, "")?;
        let waited = async { waiting.wait().await.map(|status| (status, at.elapsed())) };
        let shown = until(&stack, at, |n| state(n) == Some(L::Ready));
        let ((status, waited), shown) = tokio::join!(async { waited.await.unwrap() }, shown);
        assert!(status.success(), "wait failed: {status}");
        waits.push(waited);
        readies.push(shown);
        tokio::time::sleep(Duration::from_millis(300 + 211 * run as u64 % 1000)).await;
        let at = Instant::now();
        std::fs::write(&die, "")?;
        downs.push(until(&stack, at, |n| state(n) == Some(L::Down)).await);
        let _ = ui.wait().await;
        server.kill().await?;
        // The next run starts from no beat at all.
        let mut r = stack.conn().await;
        for p in ["server", "ui"] {
            let key = pulseboard_shared::parts::part_beat_key(NAME, p);
            let _: () = redis::cmd("DEL").arg(key).query_async(&mut r).await?;
        }
        until(&stack, Instant::now(), |n| state(n) == Some(L::Down)).await;
    }
    let _ = std::fs::remove_dir_all(&dir);
    println!("{runs} runs, refresh 1000 ms, beats every 1 s, wait polls every 250 ms");
    report("wait", waits);
    report("ready", readies);
    report("part death", downs);
    stack.stop().await;
    Ok(())
}
