//! The accept loop: HTTP/1.1 connections with a header-read timeout and a cap on how many are
//! open, drained on shutdown.
//!
//! `axum::serve` has neither: a client that sends half a request holds its connection (and a
//! file descriptor) for as long as it likes, and connections are accepted until the process runs
//! out of descriptors, locking everyone out. Here a connection must send a whole request head
//! within `header_timeout`, and past `max_connections` a new one gets a 503 and is closed.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tower::ServiceExt as _;

use crate::client_ip::ClientIp;
use crate::config::HttpLimits;
use crate::shutdown::Shutdown;

/// Serves `app` on `listener` within `limits` until `shutdown`, then drains: no new connection,
/// idle ones closed, requests in flight finished (open streams end on the same signal).
pub async fn serve_until(
    listener: TcpListener,
    app: axum::Router,
    limits: &HttpLimits,
    shutdown: Shutdown,
) -> std::io::Result<()> {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    let open = Arc::new(Semaphore::new(limits.max_connections));
    let trusted = Arc::new(limits.trusted_proxies.clone());
    let graceful = GracefulShutdown::new();
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of descriptors or a connection reset before accept: not fatal. Wait a
                    // moment rather than spin on an error that persists.
                    tracing::warn!(error = %e, "accept failed; retrying in 100 ms");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = shutdown.wait() => break,
        };
        let Ok(permit) = open.clone().try_acquire_owned() else {
            tokio::spawn(refuse(stream, limits.max_connections));
            continue;
        };
        let _ = stream.set_nodelay(true);
        let trusted = trusted.clone();
        let service = app.clone().map_request(move |request: Request<Incoming>| {
            // Who asks, once per request: the per-client limits count by it.
            let client = ClientIp::of(peer, request.headers(), &trusted);
            let mut request = request.map(axum::body::Body::new);
            request.extensions_mut().insert(client);
            request
        });
        let connection =
            http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            // Errors here are the client's (reset, header timeout): nothing to report.
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
            drop(permit);
        });
    }
    drop(listener);
    tracing::info!("draining: closing streams and finishing requests");
    graceful.shutdown().await;
    Ok(())
}

/// Past the cap: a short 503 that says why, then the connection is closed.
async fn refuse(mut stream: TcpStream, max: usize) {
    tracing::warn!(max, "connection refused: http.max_connections reached");
    let body = format!(
        "pulseboard: too many open connections (http.max_connections = {max}); try again shortly\n"
    );
    let response = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain; charset=utf-8\r\n\
         retry-after: 5\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
    // Read what the client sent until it closes (bounded), so the close is not a reset that could
    // destroy the 503 before the client reads it.
    let mut sink = [0u8; 1024];
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        while matches!(stream.read(&mut sink).await, Ok(n) if n > 0) {}
    })
    .await;
}
