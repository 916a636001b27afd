//! The GL side of the 3D view: the WebGL2 context on the canvas, the three-d objects, the
//! camera, and one frame; released at once when the view goes.

use std::collections::HashMap;
#[cfg(target_arch = "wasm32")]
use std::sync::Arc;

use leptos::prelude::*;
use pulseboard_shared::layout::{lerp, Layout, Point, NODE_SIZE};
use three_d::{Camera, Context};
use wasm_bindgen::{closure::Closure, JsCast, JsValue};
use web_sys::{HtmlCanvasElement, HtmlElement, WebGl2RenderingContext};

use super::stats::Stats;
use crate::orbit::Orbit;
use crate::page::{now_ms, query_param, reduced_motion};
use crate::renderer::{Renderer, GAP, PROBE_AT};
use crate::text::Text;

/// Why the 3D view could not start (the page then shows the 2D view with a note).
#[derive(Debug, thiserror::Error)]
pub(super) enum StartError {
    /// The canvas refused to be asked for a context.
    #[error("cannot ask the canvas for a WebGL2 context: {0:?}")]
    GetContext(JsValue),
    /// The browser has no WebGL2 (or it is turned off).
    #[error("no webgl2 context")]
    NoWebgl2,
    /// What came back is not a WebGL2 context.
    #[error("not a WebGL2 context")]
    NotWebgl2,
    /// three-d could not set up on the context.
    #[error("three-d cannot use the context: {0}")]
    ThreeD(#[from] three_d::CoreError),
    /// The context-lost listener could not be added.
    #[error("cannot listen for a lost context: {0:?}")]
    Listen(JsValue),
    /// Built natively (`cargo clippy --workspace`): there is no browser.
    #[cfg(not(target_arch = "wasm32"))]
    #[error("the 3D view runs in a browser only")]
    NotInBrowser,
}

/// The GL side and what the frame loop needs each frame.
pub(super) struct Live {
    pub(super) canvas: HtmlCanvasElement,
    pub(super) overlay: HtmlElement,
    pub(super) gl: WebGl2RenderingContext,
    pub(super) renderer: Renderer,
    pub(super) orbit: Orbit,
    pub(super) anchors: HashMap<String, Point>,
    pub(super) probes: HashMap<String, Point>,
    pub(super) camera: Option<Camera>,
    /// The worker under the pointer: its label is placed first, so it shows.
    pub(super) hovered: Option<String>,
    pub(super) size: (u32, u32),
    /// Labels need placing again (camera moved, canvas resized, data changed).
    pub(super) dirty: bool,
    pub(super) has_data: bool,
    pub(super) reduced: bool,
    pub(super) bench: bool,
    pub(super) started: f64,
    pub(super) stats: Stats,
    pub(super) on_lost: Closure<dyn FnMut(web_sys::Event)>,
}

impl Live {
    pub(super) fn start(
        canvas: HtmlCanvasElement,
        overlay: HtmlElement,
        fail: WriteSignal<Option<Text>>,
    ) -> Result<Self, StartError> {
        let gl = canvas
            .get_context("webgl2")
            .map_err(StartError::GetContext)?
            .ok_or(StartError::NoWebgl2)?
            .dyn_into::<WebGl2RenderingContext>()
            .map_err(|_| StartError::NotWebgl2)?;
        let context = three_d_context(&gl)?;
        let on_lost = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {
            fail.set(Some(Text::ContextLost));
        });
        canvas
            .add_event_listener_with_callback("webglcontextlost", on_lost.as_ref().unchecked_ref())
            .map_err(StartError::Listen)?;
        Ok(Self {
            renderer: Renderer::new(&context),
            canvas,
            overlay,
            gl,
            orbit: Orbit::new([0.0; 3], [8.0; 3]),
            anchors: HashMap::new(),
            probes: HashMap::new(),
            camera: None,
            hovered: None,
            size: (0, 0),
            dirty: true,
            has_data: false,
            reduced: reduced_motion(),
            bench: query_param("bench").is_some(),
            started: now_ms(),
            stats: Stats::default(),
            on_lost,
        })
    }

    /// Shows a new layout.
    pub(super) fn show(&mut self, layout: Layout, redis_ok: bool) {
        self.renderer.build(&layout, redis_ok);
        self.orbit.frame(layout.bounds.0, layout.bounds.1);
        self.anchors = anchors(&layout);
        self.probes = layout
            .routes
            .iter()
            .map(|r| {
                let n = r.points.len();
                let p = lerp(r.points[n - 2], r.points[n - 1], PROBE_AT);
                (r.worker.clone(), p)
            })
            .collect();
        self.has_data = true;
        self.dirty = true;
    }

    pub(super) fn frame(&mut self, t_ms: f64) {
        let dpr = web_sys::window().map_or(1.0, |w| w.device_pixel_ratio());
        let w = (f64::from(self.canvas.client_width()) * dpr)
            .round()
            .max(1.0) as u32;
        let h = (f64::from(self.canvas.client_height()) * dpr)
            .round()
            .max(1.0) as u32;
        if (w, h) != self.size {
            self.canvas.set_width(w);
            self.canvas.set_height(h);
            self.size = (w, h);
            self.dirty = true;
        }
        if self.overlay.child_element_count() as usize != self.placed_count() {
            self.dirty = true;
        }
        // With reduced motion nothing moves by itself: draw only when something changed.
        if self.reduced && !self.dirty && self.stats.frames > 0 {
            return;
        }
        let camera = self.orbit.camera(w, h);
        let time_s = if self.reduced {
            0.0
        } else {
            ((t_ms - self.started) / 1000.0) as f32
        };
        let before = now_ms();
        self.renderer.draw(&camera, time_s);
        let submitted = now_ms() - before;
        if self.bench {
            // Wait for the (software) GPU, so the figure is the whole frame's cost.
            let mut pixel = [0u8; 4];
            let _ = self.gl.read_pixels_with_opt_u8_array(
                0,
                0,
                1,
                1,
                WebGl2RenderingContext::RGBA,
                WebGl2RenderingContext::UNSIGNED_BYTE,
                Some(&mut pixel),
            );
        }
        self.record(t_ms, submitted, now_ms() - before);
        self.camera = Some(camera);
        if self.dirty {
            self.place_labels(dpr);
            self.dirty = false;
        }
    }

    fn placed_count(&self) -> usize {
        self.overlay
            .get_attribute("data-placed")
            .and_then(|n| n.parse().ok())
            .unwrap_or(usize::MAX)
    }

    /// Lets go of the GL context now rather than whenever the page is collected.
    pub(super) fn release(&mut self) {
        let _ = self.canvas.remove_event_listener_with_callback(
            "webglcontextlost",
            self.on_lost.as_ref().unchecked_ref(),
        );
        if let Ok(Some(ext)) = self.gl.get_extension("WEBGL_lose_context") {
            let lose = js_sys::Reflect::get(&ext, &"loseContext".into())
                .ok()
                .and_then(|f| f.dyn_into::<js_sys::Function>().ok());
            if let Some(lose) = lose {
                let _ = lose.call0(&ext);
            }
        }
    }
}

/// Where each label goes: `w:` below a worker, `c:` its cube (for picking), `m:` the mark on
/// its link, `h:` a host's front edge, `bus` above the bus.
fn anchors(layout: &Layout) -> HashMap<String, Point> {
    let mut anchors = HashMap::new();
    for w in &layout.workers {
        let p = w.position;
        // Labels hang below their cube: links arrive from above.
        let below = [p[0], p[1] - NODE_SIZE / 2.0, p[2] + NODE_SIZE / 2.0];
        anchors.insert(format!("w:{}", w.name), below);
        anchors.insert(format!("c:{}", w.name), p);
    }
    for r in &layout.routes {
        let n = r.points.len();
        let mid = lerp(r.points[n - 2], r.points[n - 1], (GAP.0 + GAP.1) / 2.0);
        anchors.insert(format!("m:{}", r.worker), mid);
    }
    for h in &layout.hosts {
        let c = h.center;
        anchors.insert(
            format!("h:{}", h.name),
            [c[0], c[1], c[2] + h.size[2] / 2.0 + 0.3],
        );
    }
    let b = layout.bus;
    anchors.insert("bus".into(), [b[0], b[1] + 1.0, b[2]]);
    anchors
}

/// three-d's context on the canvas's WebGL2 context.
#[cfg(target_arch = "wasm32")]
fn three_d_context(gl: &WebGl2RenderingContext) -> Result<Context, StartError> {
    // three-d takes an `Arc`; on the web everything stays on the one thread anyway.
    #[allow(clippy::arc_with_non_send_sync)]
    let gl = Arc::new(three_d::context::Context::from_webgl2_context(gl.clone()));
    Ok(Context::from_gl_context(gl)?)
}

/// The page only runs in a browser; natively (`cargo clippy --workspace`) this just type-checks.
#[cfg(not(target_arch = "wasm32"))]
fn three_d_context(_: &WebGl2RenderingContext) -> Result<Context, StartError> {
    Err(StartError::NotInBrowser)
}
