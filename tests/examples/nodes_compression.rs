//! Benchmark: what compressing `/api/agent-office/nodes` once per snapshot costs and saves, for
//! mock fleets of 60, 1,000 and 10,000 workers (`pulseboard_shared::mock::mock_fleet`): the
//! plain size, each encoding's size, and the time of the first request (which compresses) and of
//! a second (which takes the same bytes). Prints a table; asserts nothing.
//!
//!     cargo run --release -p pulseboard-tests --example nodes_compression

use std::time::Instant;

use pulseboard_server::snapshot::{Encoding, Snapshot};

#[tokio::main]
async fn main() {
    println!(
        "| workers | plain KB | encoding | compressed KB | first request ms | later request ms |"
    );
    println!("|---|---|---|---|---|---|");
    for size in [60, 1_000, 10_000] {
        for encoding in [Encoding::Brotli, Encoding::Gzip] {
            let snapshot = Snapshot::new(pulseboard_shared::mock::mock_fleet(0, size), 1);
            let t = Instant::now();
            let first = snapshot.compressed.get(&snapshot.json, encoding).await;
            let first_ms = t.elapsed().as_secs_f64() * 1e3;
            let t = Instant::now();
            let _ = snapshot.compressed.get(&snapshot.json, encoding).await;
            let later_ms = t.elapsed().as_secs_f64() * 1e3;
            println!(
                "| {size} | {:.1} | {} | {:.1} | {first_ms:.2} | {later_ms:.4} |",
                snapshot.json.len() as f64 / 1e3,
                encoding.name(),
                first.len() as f64 / 1e3,
            );
        }
    }
}
