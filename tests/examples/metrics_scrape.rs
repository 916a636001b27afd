//! Benchmark: what a `/metrics` scrape costs at 6 and 10,000 workers: time to build the
//! exposition from a snapshot (the whole work of a scrape; no Redis I/O) and its size. Prints a
//! table; asserts nothing.
//!
//!     cargo run --release -p pulseboard-tests --example metrics_scrape

use std::sync::Arc;
use std::time::Instant;

use pulseboard_server::metrics::{render, Process};
use pulseboard_server::snapshot::refresh_histogram;
use pulseboard_server::snapshot::Snapshot;
use pulseboard_shared::mock::mock_fleet;

fn main() {
    let refreshes = refresh_histogram();
    println!("| workers | series | bytes | p50 ms | p99 ms | scrapes |");
    println!("|---|---|---|---|---|---|");
    for (workers, scrapes) in [(6usize, 2000usize), (10_000, 50)] {
        let snapshot = Arc::new(Snapshot::new(mock_fleet(24, workers), 1));
        let mut times = Vec::with_capacity(scrapes);
        let mut text = String::new();
        for _ in 0..scrapes {
            let start = Instant::now();
            text = render(
                &snapshot,
                Process {
                    refreshes: &refreshes,
                    streams_open: 1,
                    alerts: None,
                },
            );
            times.push(start.elapsed().as_secs_f64() * 1000.0);
        }
        times.sort_by(f64::total_cmp);
        let at = |q: f64| times[((times.len() as f64 - 1.0) * q).round() as usize];
        let series = text.lines().filter(|l| !l.starts_with('#')).count();
        println!(
            "| {workers} | {series} | {} | {:.3} | {:.3} | {scrapes} |",
            text.len(),
            at(0.5),
            at(0.99)
        );
    }
}
