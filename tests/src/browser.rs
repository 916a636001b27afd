//! Real headless Chromium, driven through chromedriver (WebDriver), started per test with the
//! flags this closed network needs and a fresh profile.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use fantoccini::wd::Capabilities;
use fantoccini::{Client, ClientBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use tokio::process::{Child, Command};

/// A browser session and the chromedriver behind it (killed on drop).
pub struct Browser {
    /// The WebDriver client.
    pub client: Client,
    _driver: Child,
    profile: PathBuf,
}

/// Options of a browser session.
#[derive(Debug, Clone)]
pub struct BrowserOptions {
    /// Window size in CSS pixels.
    pub window: (u32, u32),
    /// `navigator.language`.
    pub lang: String,
    /// Extra Chromium flags (e.g. `--disable-webgl`).
    pub extra_args: Vec<String>,
}

impl Default for BrowserOptions {
    fn default() -> Self {
        Self {
            window: (1280, 800),
            lang: "ko-KR".into(),
            extra_args: vec![],
        }
    }
}

impl Browser {
    /// Starts chromedriver (`$CHROMEDRIVER` or `chromedriver`) and a headless Chromium
    /// (`$CHROMIUM` or `/usr/bin/chromium`).
    pub async fn start(options: BrowserOptions) -> Self {
        let port = pulseboard_server::redis_server::free_port().unwrap();
        let driver_bin = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
        let driver = Command::new(&driver_bin)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot run {driver_bin} ({e}); apt-get install chromium-driver")
            });
        let profile =
            std::env::temp_dir().join(format!("pulseboard-chromium-{}-{port}", std::process::id()));
        let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
        let (w, h) = options.window;
        let mut args = vec![
            "--headless".to_owned(),
            "--no-sandbox".into(),
            "--disable-quic".into(),
            "--no-first-run".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--disable-dev-shm-usage".into(),
            format!("--user-data-dir={}", profile.display()),
            format!("--window-size={w},{h}"),
            format!("--lang={}", options.lang),
        ];
        args.extend(options.extra_args);
        let mut chrome = serde_json::json!({
            "binary": chromium,
            "args": args,
            "prefs": { "intl.accept_languages": options.lang },
        });
        // Headless windows are at least 500 px wide: a phone's viewport is emulated instead.
        if w < 500 {
            chrome["mobileEmulation"] = serde_json::json!({
                "deviceMetrics": { "width": w, "height": h, "pixelRatio": 1.0, "touch": true },
            });
        }
        let mut caps = Capabilities::new();
        caps.insert("goog:chromeOptions".into(), chrome);
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        let client = loop {
            match ClientBuilder::new(HttpConnector::new())
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(client) => break client,
                Err(e) if Instant::now() < deadline => {
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => panic!("cannot start a chromium session through {driver_bin}: {e}"),
            }
        };
        Self {
            client,
            _driver: driver,
            profile,
        }
    }

    /// Saves a screenshot under `target/screenshots/<name>.png` for a person to look at.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{name}.png"));
        let png = self.client.screenshot().await.unwrap();
        std::fs::write(&path, png).unwrap();
        path
    }

    /// Runs `script` in the page.
    pub async fn js(&self, script: &str) -> serde_json::Value {
        self.client
            .execute(script, vec![])
            .await
            .unwrap_or_else(|e| panic!("{script}: {e}"))
    }

    /// Clicks the element `css` finds. A re-render between finding and clicking leaves a stale
    /// handle: then it finds the element again, for at most [`crate::PATIENCE`].
    pub async fn click(&self, css: &str) {
        use fantoccini::error::{CmdError, ErrorStatus};
        let deadline = Instant::now() + crate::PATIENCE;
        loop {
            let found = self.client.find(fantoccini::Locator::Css(css)).await;
            let element = found.unwrap_or_else(|e| panic!("{css}: {e}"));
            match element.click().await {
                Ok(_) => return,
                Err(CmdError::Standard(e))
                    if e.error == ErrorStatus::StaleElementReference
                        && Instant::now() < deadline => {}
                Err(e) => panic!("click {css}: {e}"),
            }
        }
    }

    /// Runs `script` until it returns something other than null/false/""/0, for at most
    /// [`crate::PATIENCE`]; on time-out, saves a screenshot and fails naming `what`.
    pub async fn wait_js(&self, what: &str, script: &str) -> serde_json::Value {
        use serde_json::Value;
        let deadline = Instant::now() + crate::PATIENCE;
        loop {
            let value = self.js(script).await;
            // Nothing yet: null, false, "" or 0 (a count of elements not rendered yet).
            let empty = matches!(&value, Value::Null | Value::Bool(false))
                || value.as_str().is_some_and(str::is_empty)
                || value.as_f64() == Some(0.0);
            if !empty {
                return value;
            }
            if Instant::now() > deadline {
                let slug: String = what
                    .chars()
                    .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
                    .collect();
                self.screenshot(&format!("timeout-{slug}")).await;
                panic!("timed out waiting for {what}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Ends the session and removes the profile.
    pub async fn close(self) {
        // The handle is shared; closing a clone ends the session, and `Drop` cleans up.
        let _ = self.client.clone().close().await;
    }
}

impl Drop for Browser {
    /// A test that fails before `close` leaves Chromium behind (killing chromedriver does not
    /// stop it): end every process of this session's profile, and the profile.
    fn drop(&mut self) {
        let _ = std::process::Command::new("pkill")
            .arg("-f")
            .arg(self.profile.as_os_str())
            .status();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}
