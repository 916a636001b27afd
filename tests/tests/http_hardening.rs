//! The HTTP surface under misuse, against the real server: half-sent requests are closed, the
//! connection cap answers 503 while the server keeps serving, one address can neither hold every
//! stream nor guess tokens while another is served, and the page (embedded, precompressed,
//! cached) runs in real Chromium under its Content-Security-Policy.

use std::time::{Duration, Instant};

use pulseboard_server::bundle::EMBEDDED;
use pulseboard_server::config::admin::AdminTokens;
use pulseboard_tests::browser::{Browser, BrowserOptions};
use pulseboard_tests::{beat, heartbeat, Stack, PATIENCE};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

fn addr(stack: &Stack) -> String {
    stack.base.trim_start_matches("http://").to_owned()
}

/// Reads until the peer closes (or `PATIENCE` passes): what it sent before closing.
async fn read_until_closed(stream: &mut TcpStream) -> Result<String, &'static str> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let read_all = async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    };
    tokio::time::timeout(PATIENCE, read_all)
        .await
        .map_err(|_| "still open")?;
    Ok(String::from_utf8_lossy(&got).into_owned())
}

async fn nodes_status(stack: &Stack) -> u16 {
    stack
        .http
        .get(format!("{}/api/agent-office/nodes", stack.base))
        .send()
        .await
        .map_or(0, |r| r.status().as_u16())
}

#[tokio::test]
async fn half_sent_requests_are_closed_after_the_header_timeout() {
    let stack = Stack::start_with(|c| c.http.header_timeout = Duration::from_secs(1)).await;
    let mut slow = Vec::new();
    for _ in 0..200 {
        let mut stream = TcpStream::connect(addr(&stack)).await.unwrap();
        // A request head without its final empty line.
        stream
            .write_all(b"GET /api/agent-office/nodes HTTP/1.1\r\nHost: x\r\n")
            .await
            .unwrap();
        slow.push(stream);
    }
    let started = Instant::now();
    for stream in &mut slow {
        let answer = read_until_closed(stream).await;
        assert!(answer.is_ok(), "a half-sent request is still open");
        // Whatever was said before closing, it was not the API's answer.
        assert!(!answer.unwrap().contains("200 OK"));
    }
    println!(
        "200 half-sent requests closed {} ms after they were sent (header timeout 1 s)",
        started.elapsed().as_millis()
    );
    assert_eq!(nodes_status(&stack).await, 200, "the server keeps serving");
}

#[tokio::test]
async fn past_the_connection_cap_a_client_gets_503_and_the_server_keeps_serving() {
    let stack = Stack::start_with(|c| {
        c.http.max_connections = 3;
        c.http.max_streams = 3;
    })
    .await;
    // The harness's own keep-alive connection may hold a slot: fill every slot that is left with
    // idle connections, learning the cap from the first refusal.
    let mut idle = Vec::new();
    let refused = loop {
        let mut stream = TcpStream::connect(addr(&stack)).await.unwrap();
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let mut head = [0u8; 12];
        stream.read_exact(&mut head).await.unwrap();
        if &head == b"HTTP/1.1 503" {
            break read_until_closed(&mut stream).await.unwrap();
        }
        assert_eq!(&head, b"HTTP/1.1 200");
        idle.push(stream);
        assert!(idle.len() <= 3, "more than max_connections were served");
    };
    assert!(
        refused.contains("http.max_connections = 3"),
        "the 503 says why: {refused}"
    );
    assert!(refused.to_ascii_lowercase().contains("retry-after: 5"));
    // One viewer leaves: its slot serves the next request.
    drop(idle.pop());
    let deadline = Instant::now() + PATIENCE;
    let mut stream = loop {
        let mut stream = TcpStream::connect(addr(&stack)).await.unwrap();
        stream
            .write_all(
                b"GET /api/agent-office/nodes HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            )
            .await
            .unwrap();
        let mut head = [0u8; 12];
        stream.read_exact(&mut head).await.unwrap();
        if &head == b"HTTP/1.1 200" {
            break stream;
        }
        assert!(Instant::now() < deadline, "the freed slot was never reused");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let rest = read_until_closed(&mut stream).await.unwrap();
    assert!(rest.contains("\"workers\""), "{rest}");
}

/// Sends `head` (a whole HTTP/1.1 request) from the loopback address `source`, a client address
/// of its own (Linux answers all of 127/8); answers the status code and the open connection.
async fn request_from(stack: &Stack, source: &str, head: &str) -> (u16, TcpStream) {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(format!("{source}:0").parse().unwrap()).unwrap();
    let mut stream = socket.connect(addr(stack).parse().unwrap()).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut status = [0u8; 12];
    stream.read_exact(&mut status).await.unwrap();
    let code = std::str::from_utf8(&status[9..12])
        .unwrap()
        .parse()
        .unwrap();
    (code, stream)
}

#[tokio::test]
async fn one_address_can_neither_hold_every_stream_nor_guess_tokens_and_others_are_served() {
    const OPS: &str = "ops-token-0123456789";
    let stack = Stack::start_with(|c| {
        c.admin_tokens = AdminTokens::parse(&format!("ops:{OPS}")).unwrap();
    })
    .await;
    let stream = "GET /api/agent-office/nodes/stream HTTP/1.1\r\nHost: x\r\n\r\n";
    // 80 streams from one address: the default share (64) opens, the rest are 429.
    let mut open = Vec::new();
    let mut refused = 0;
    for _ in 0..80 {
        match request_from(&stack, "127.0.0.5", stream).await {
            (200, held) => open.push(held),
            (429, _) => refused += 1,
            (other, _) => panic!("a stream answered {other}"),
        }
    }
    assert_eq!((open.len(), refused), (64, 16));
    let (status, _other_viewer) = request_from(&stack, "127.0.0.6", stream).await;
    assert_eq!(status, 200, "another address still streams");

    // 30 wrong tokens from one address: 401, then 429 however right the token.
    let mut conn = stack.conn().await;
    beat(&mut conn, &heartbeat("w1", "render", "idle")).await;
    stack
        .wait_nodes("w1 beating", |n| {
            n.workers.iter().any(|w| w.name == "w1" && w.alive)
        })
        .await;
    let quiet = |token: &str| {
        format!(
            "POST /api/agent-office/workers/w1/quiet HTTP/1.1\r\nHost: x\r\n\
             Authorization: Bearer {token}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )
    };
    let mut statuses = Vec::new();
    for i in 0..30 {
        let (status, _) =
            request_from(&stack, "127.0.0.7", &quiet(&format!("guess-{i:012}"))).await;
        statuses.push(status);
    }
    assert_eq!(statuses[..10], [401; 10], "{statuses:?}");
    assert_eq!(statuses[10..], [429; 20], "{statuses:?}");
    let (status, _) = request_from(&stack, "127.0.0.7", &quiet(OPS)).await;
    assert_eq!(status, 429, "the guesser waits even with the right token");
    let (status, _) = request_from(&stack, "127.0.0.8", &quiet(OPS)).await;
    assert_eq!(status, 202, "the operator elsewhere is served at once");
}

#[tokio::test]
async fn the_page_is_served_precompressed_with_hashed_files_cached_for_a_year() {
    assert!(
        EMBEDDED.iter().any(|a| a.path == "index.html"),
        "the server was built without the dashboard bundle: run scripts/build-dashboard.sh \
         before building (the README's test command does)"
    );
    let stack = Stack::start().await;
    for asset in EMBEDDED {
        let url = format!("{}/infra/{}", stack.base, asset.path);
        for (accept, encoding, body) in [
            ("br, gzip", asset.brotli.map(|_| "br"), asset.brotli),
            ("gzip", asset.gzip.map(|_| "gzip"), asset.gzip),
            ("identity", None, None),
        ] {
            let response = stack
                .http
                .get(&url)
                .header("accept-encoding", accept)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200, "{url}");
            let headers = response.headers().clone();
            let got = headers.get("content-encoding").map(|v| v.to_str().unwrap());
            assert_eq!(got, encoding, "{url} with {accept}");
            let cache = headers["cache-control"].to_str().unwrap().to_owned();
            let bytes = response.bytes().await.unwrap();
            assert_eq!(&bytes[..], body.unwrap_or(asset.raw), "{url} with {accept}");
            if asset.path == "index.html" {
                assert_eq!(cache, "no-cache");
            } else {
                assert_eq!(cache, "public, max-age=31536000, immutable", "{url}");
            }
        }
    }
    // A repeat visit revalidates the page and gets 304 without a body.
    let index = format!("{}/infra/", stack.base);
    let first = stack.http.get(&index).send().await.unwrap();
    let etag = first.headers()["etag"].clone();
    let again = stack
        .http
        .get(&index)
        .header("if-none-match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    assert!(again.bytes().await.unwrap().is_empty());
}

/// Bytes over the wire of everything the page loaded, as the browser counts them (headers
/// included; 0 for what came from its cache).
const TRANSFERRED: &str = r#"
    const entries = [...performance.getEntriesByType('navigation'),
                     ...performance.getEntriesByType('resource')];
    return entries.map(e => [e.name.replace(location.origin, ''), e.transferSize, e.encodedBodySize]);
"#;

#[tokio::test]
async fn the_page_runs_under_its_csp_and_a_repeat_visit_downloads_almost_nothing() {
    let stack = Stack::start().await;
    let page = format!("{}/infra/", stack.base);
    let csp = stack.http.get(&page).send().await.unwrap().headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        !csp.contains("unsafe-inline")
            && csp.contains("script-src 'self' 'wasm-unsafe-eval' 'sha256-"),
        "{csp}"
    );

    let browser = Browser::start(BrowserOptions::default()).await;
    browser.client.goto(&page).await.unwrap();
    // The app started (its loader is the inline script the CSP allows by hash) and drew the 3D
    // scene's labels with their colours (set through the style attribute's custom property).
    browser
        .wait_js(
            "labels under the CSP",
            "return document.querySelectorAll('.node-label').length",
        )
        .await;
    let accent = browser
        .js("return getComputedStyle(document.querySelector('.node-label')).getPropertyValue('--accent')")
        .await;
    assert!(
        !accent.as_str().unwrap_or("").trim().is_empty(),
        "no --accent: {accent}"
    );
    // What the page does next (a language switch, the detail panel) breaks no policy either.
    browser
        .js("window.__violations = []; document.addEventListener('securitypolicyviolation', e => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI))")
        .await;
    browser
        .js("document.querySelector('.node-label').click()")
        .await;
    browser
        .wait_js(
            "the detail panel",
            "return document.querySelector('#detail') !== null",
        )
        .await;
    browser
        .js("document.getElementById('lang-toggle').click(); document.getElementById('view-toggle').click()")
        .await;
    browser
        .wait_js(
            "the card grid",
            "return document.querySelectorAll('.worker-card').length",
        )
        .await;
    let violations = browser.js("return window.__violations").await;
    assert_eq!(violations, serde_json::json!([]), "CSP violations");
    let first = browser.js(TRANSFERRED).await;

    // A repeat visit: the page revalidated (304), every hashed file from the cache.
    browser.client.goto(&page).await.unwrap();
    browser
        .wait_js(
            "the page on the repeat visit",
            "return document.querySelectorAll('.node-label, .worker-card').length",
        )
        .await;
    let repeat = browser.js(TRANSFERRED).await;
    let total = |entries: &serde_json::Value| -> u64 {
        entries
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| !e[0].as_str().unwrap().starts_with("/api/"))
            .map(|e| e[1].as_u64().unwrap_or(0))
            .sum()
    };
    println!("first visit: {first}");
    println!("repeat visit: {repeat}");
    println!(
        "page bytes on the wire (without the API): first visit {} B, repeat visit {} B",
        total(&first),
        total(&repeat)
    );
    for entry in repeat.as_array().unwrap() {
        let name = entry[0].as_str().unwrap();
        if name.ends_with(".wasm") || name.ends_with(".js") || name.ends_with(".css") {
            assert_eq!(entry[1], 0, "{name} was downloaded again on a repeat visit");
        }
    }
    assert!(
        total(&repeat) < 2_000,
        "a repeat visit transferred {} B",
        total(&repeat)
    );
    browser.close().await;
}
