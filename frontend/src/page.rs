//! What the page learns from the browser: its address, clock, language, screen, motion
//! preference, and the view the user chose last time; and how it asks its own server.

use leptos::prelude::*;
use pulseboard_shared::Lang;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, Request, RequestInit, Response};

/// Where the chosen view is remembered.
const VIEW_KEY: &str = "pulseboard.view";

/// `performance.now()`, in milliseconds.
pub fn now_ms() -> f64 {
    window().performance().map_or(0.0, |p| p.now())
}

/// `GET path` on the page's own server, as text; an error for a failed request or a non-2xx answer.
pub async fn fetch_text(path: &str) -> Result<String, JsValue> {
    let response: Response = JsFuture::from(window().fetch_with_str(path))
        .await?
        .dyn_into()?;
    if !response.ok() {
        return Err(JsValue::from_str(&format!("HTTP {}", response.status())));
    }
    JsFuture::from(response.text()?)
        .await?
        .as_string()
        .ok_or_else(|| JsValue::from_str("the body is not text"))
}

/// `method path` on the page's own server, with the bearer `token` when given and an optional
/// JSON body: the status and the body text, whatever the status; an error only when no answer
/// came.
pub async fn ask(
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> Result<(u16, String), JsValue> {
    let headers = Headers::new()?;
    if let Some(token) = token {
        headers.set("Authorization", &format!("Bearer {token}"))?;
    }
    let init = RequestInit::new();
    init.set_method(method);
    if let Some(body) = body {
        headers.set("Content-Type", "application/json")?;
        init.set_body(&JsValue::from_str(body));
    }
    init.set_headers(&headers);
    let request = Request::new_with_str_and_init(path, &init)?;
    let response: Response = JsFuture::from(window().fetch_with_request(&request))
        .await?
        .dyn_into()?;
    let text = JsFuture::from(response.text()?)
        .await?
        .as_string()
        .unwrap_or_default();
    Ok((response.status(), text))
}

/// The value of `name` in the page's query string (`""` for a bare `?mock`).
pub fn query_param(name: &str) -> Option<String> {
    let search = window().location().search().ok()?;
    search
        .trim_start_matches('?')
        .split('&')
        .filter(|pair| !pair.is_empty())
        .find_map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (key == name).then(|| value.to_owned())
        })
}

/// Whether the media query matches.
pub fn media(query: &str) -> bool {
    window()
        .match_media(query)
        .ok()
        .flatten()
        .is_some_and(|m| m.matches())
}

/// The labels' language: `?lang=`, else `navigator.language` (English when it says nothing).
pub fn browser_lang() -> Lang {
    query_param("lang")
        .or_else(|| window().navigator().language())
        .map_or(Lang::En, |tag| Lang::from_tag(&tag))
}

/// Whether the user asked the system for less motion.
pub fn reduced_motion() -> bool {
    media("(prefers-reduced-motion: reduce)")
}

/// The two views of the fleet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// The three-d scene.
    Scene,
    /// The card grid.
    Cards,
}

impl View {
    /// A stable spelling for storage and the DOM.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Scene => "3d",
            Self::Cards => "2d",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        match text {
            "3d" => Some(Self::Scene),
            "2d" => Some(Self::Cards),
            _ => None,
        }
    }

    /// The other one.
    pub fn toggled(self) -> Self {
        match self {
            Self::Scene => Self::Cards,
            Self::Cards => Self::Scene,
        }
    }
}

/// The view to start with: `?view=`, else the one chosen last time, else 2D on a phone (narrow
/// screen or coarse pointer) and 3D elsewhere.
pub fn initial_view() -> View {
    query_param("view")
        .and_then(|v| View::parse(&v))
        .or_else(|| {
            storage()?
                .get_item(VIEW_KEY)
                .ok()?
                .and_then(|v| View::parse(&v))
        })
        .unwrap_or_else(|| if is_phone() { View::Cards } else { View::Scene })
}

/// Remembers the user's choice.
pub fn remember_view(view: View) {
    if let Some(storage) = storage() {
        let _ = storage.set_item(VIEW_KEY, view.as_str());
    }
}

/// A narrow screen or a finger for a pointer.
pub fn is_phone() -> bool {
    media("(max-width: 700px)") || media("(pointer: coarse)")
}

/// The tab's own storage (`sessionStorage`): gone when the tab closes.
pub fn window_session() -> Option<web_sys::Storage> {
    window().session_storage().ok().flatten()
}

fn storage() -> Option<web_sys::Storage> {
    window().local_storage().ok().flatten()
}

/// `url` when it is an http(s) address, the only kind a link may take: what the event log (in
/// Redis) or a snapshot carries must never become a clickable `javascript:` link.
pub fn web_link(url: &str) -> Option<String> {
    (url.starts_with("https://") || url.starts_with("http://")).then(|| url.to_owned())
}
