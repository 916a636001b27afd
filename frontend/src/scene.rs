//! The 3D view: a Leptos-owned `<canvas>` drawn by three-d (WebGL2), with HTML labels laid over
//! it at the projected positions of the things they name.
//!
//! The GL state is not `Send`, so it lives in `StoredValue::new_local`; frames are driven by
//! `requestAnimationFrame`. On unmount (or a switch to 2D) the frame loop stops, the GL objects
//! are dropped and the context is released. If the context cannot be created or is lost, `fail`
//! says why and the page falls back to cards.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
#[cfg(target_arch = "wasm32")]
use std::sync::Arc;

use leptos::html::{Canvas, Div};
use leptos::prelude::*;
use pulseboard_shared::layout::{layout, lerp, Layout, Point, NODE_SIZE};
use pulseboard_shared::{link_status, state_label, Lang, LinkStatus, WorkerKind, WorkerStatus};
use three_d::{vec3, Camera, Context};
use wasm_bindgen::{closure::Closure, JsCast, JsValue};
use web_sys::{HtmlCanvasElement, HtmlElement, PointerEvent, WebGl2RenderingContext, WheelEvent};

use crate::app::latest;
use crate::orbit::Orbit;
use crate::page::{now_ms, query_param, reduced_motion};
use crate::renderer::{Renderer, GAP, PROBE_AT};
use crate::stream::Feed;
use crate::text::{last_beat, t, Text};

/// The 3D view of the fleet.
#[component]
pub fn Scene(
    feed: Feed,
    lang: ReadSignal<Lang>,
    select: WriteSignal<Option<String>>,
    fail: WriteSignal<Option<Text>>,
) -> impl IntoView {
    let canvas_ref = NodeRef::<Canvas>::new();
    let overlay_ref = NodeRef::<Div>::new();
    let live = StoredValue::new_local(None::<Rc<RefCell<Live>>>);
    let frames = StoredValue::new_local(None::<FrameLoop>);
    let scene = Memo::new(move |_| feed.nodes.with(|n| n.as_ref().map(layout)));
    let redis_ok = Memo::new(move |_| feed.nodes.with(|n| n.as_ref().is_none_or(|n| n.redis_ok)));

    Effect::new(move |_| {
        let (Some(canvas), Some(overlay)) = (canvas_ref.get(), overlay_ref.get()) else {
            return;
        };
        if live.with_value(Option::is_some) {
            return;
        }
        match Live::start(canvas, overlay.into(), fail) {
            Ok(state) => {
                let state = Rc::new(RefCell::new(state));
                if let Some(l) = scene.get_untracked() {
                    state.borrow_mut().show(l, redis_ok.get_untracked());
                }
                frames.set_value(Some(FrameLoop::start(state.clone())));
                live.set_value(Some(state));
            }
            Err(why) => {
                leptos::logging::warn!("3D view unavailable: {why}");
                fail.set(Some(Text::NoWebgl));
            }
        }
    });
    Effect::new(move |_| {
        let (Some(l), ok) = (scene.get(), redis_ok.get()) else {
            return;
        };
        live.with_value(|s| {
            if let Some(s) = s {
                s.borrow_mut().show(l, ok);
            }
        });
    });
    on_cleanup(move || {
        frames.update_value(|f| {
            if let Some(f) = f.take() {
                f.stop();
            }
        });
        live.update_value(|s| {
            if let Some(s) = s.take() {
                s.borrow_mut().release();
            }
        });
    });

    let with_live = move |f: &dyn Fn(&mut Live)| {
        live.with_value(|s| {
            if let Some(s) = s {
                f(&mut s.borrow_mut());
            }
        })
    };
    let on_down = move |ev: PointerEvent| {
        let _ = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .map(|el| el.set_pointer_capture(ev.pointer_id()));
        with_live(&|l| {
            l.orbit
                .pointer_down(ev.pointer_id(), ev.offset_x().into(), ev.offset_y().into())
        });
    };
    let on_move = move |ev: PointerEvent| {
        with_live(&|l| {
            if l.orbit
                .pointer_move(ev.pointer_id(), ev.offset_x().into(), ev.offset_y().into())
            {
                l.dirty = true;
            }
        });
    };
    let on_up = move |ev: PointerEvent| {
        with_live(&|l| {
            l.orbit.pointer_up(ev.pointer_id());
            if l.orbit.travel < 6.0 {
                if let Some(name) = l.pick(ev.offset_x().into(), ev.offset_y().into()) {
                    select.set(Some(name));
                }
            }
        });
    };
    let on_wheel = move |ev: WheelEvent| {
        ev.prevent_default();
        with_live(&|l| {
            l.orbit.zoom_by((ev.delta_y() as f32 * 0.0015).exp());
            l.dirty = true;
        });
    };
    let reset = move |_| {
        with_live(&|l| {
            l.orbit.reset();
            l.dirty = true;
        })
    };

    let workers = move || {
        feed.nodes
            .with(|n| n.as_ref().map_or(vec![], |n| n.workers.clone()))
    };
    let hosts = move || {
        scene.with(|l| {
            l.as_ref().map_or(vec![], |l| {
                l.hosts
                    .iter()
                    .map(|h| (h.name.clone(), h.queue_host))
                    .collect()
            })
        })
    };

    view! {
        <div class="scene" data-motion=if reduced_motion() { "reduced" } else { "full" }>
            <canvas
                node_ref=canvas_ref
                id="scene-canvas"
                on:pointerdown=on_down
                on:pointermove=on_move
                on:pointerup=on_up
                on:pointercancel=move |ev: PointerEvent| with_live(&|l| l.orbit.pointer_up(ev.pointer_id()))
                on:wheel=on_wheel
            ></canvas>
            <div class="overlay" node_ref=overlay_ref
                class:dense=move || feed.nodes.with(|n| n.as_ref().is_some_and(|n| n.workers.len() > 12))>
                <span class="bus-label anchored" data-anchor="bus">{move || t(lang.get(), Text::Bus)}</span>
                <For each=hosts key=|h| h.clone() let((name, queue_host))>
                    <span class="host-label anchored" data-anchor=format!("h:{name}")>
                        {host_title(&name, queue_host)}
                    </span>
                </For>
                <For each=workers key=|w| w.name.clone() let(first)>
                    <NodeLabel worker=latest(feed, first) feed lang select/>
                </For>
            </div>
            <button id="reset-view" class="control" on:click=reset>{move || t(lang.get(), Text::Reset)}</button>
        </div>
    }
}

fn host_title(name: &str, queue_host: bool) -> String {
    match (name, queue_host) {
        ("nas", true) => "NAS (gateway)".into(),
        ("windows", false) => "Windows PC".into(),
        ("?", _) => "(no host)".into(),
        _ => name.to_owned(),
    }
}

/// A worker's label and the mark on its link (break, dead letters, pause).
#[component]
fn NodeLabel(
    worker: Memo<WorkerStatus>,
    feed: Feed,
    lang: ReadSignal<Lang>,
    select: WriteSignal<Option<String>>,
) -> impl IntoView {
    let name = worker.with_untracked(|w| w.name.clone());
    let status = move || worker.with(link_status);
    let linked = worker.with_untracked(|w| w.kind != WorkerKind::Watcher);
    let mark = move || match status() {
        LinkStatus::Down => ("down", "⚠".to_owned()),
        LinkStatus::Degraded => (
            "dead-letter",
            worker.with(|w| format!("☠ {}", w.dead_letter)),
        ),
        LinkStatus::Paused => ("paused", "⏸".to_owned()),
        LinkStatus::Healthy => ("none", String::new()),
    };
    let picked = name.clone();
    view! {
        <button
            class="node-label anchored"
            data-anchor=format!("w:{name}")
            data-worker=name.clone()
            data-status=move || status().as_str()
            style=("--accent", move || status().colour())
            on:click=move |_| select.set(Some(picked.clone()))
        >
            <b class="name">{name.clone()}</b>
            <span class="state-label">{move || worker.with(|w| state_label(w, lang.get()))}</span>
            <span class="metrics">
                {move || worker.with(|w| {
                    let l = lang.get();
                    format!(
                        "{} {} · {} {} · {} {}",
                        t(l, Text::Queue), w.queue_depth,
                        t(l, Text::DeadLetters), w.dead_letter,
                        t(l, Text::InFlight), w.processing,
                    )
                })}
            </span>
            <Show when=move || status() == LinkStatus::Down>
                <span class="last-beat">
                    {move || last_beat(lang.get(), feed.age_now(worker.with(|w| w.last_beat_age_s)))}
                </span>
            </Show>
        </button>
        <Show when=move || linked>
            <span class="link-mark anchored" data-anchor=format!("m:{}", worker.with_untracked(|w| w.name.clone()))
                data-kind=move || mark().0 style=("--accent", move || status().colour())>
                {move || mark().1}
            </span>
        </Show>
    }
}

/// The GL side and what the frame loop needs each frame.
struct Live {
    canvas: HtmlCanvasElement,
    overlay: HtmlElement,
    gl: WebGl2RenderingContext,
    renderer: Renderer,
    orbit: Orbit,
    anchors: HashMap<String, Point>,
    probes: HashMap<String, Point>,
    camera: Option<Camera>,
    size: (u32, u32),
    /// Labels need placing again (camera moved, canvas resized, data changed).
    dirty: bool,
    has_data: bool,
    reduced: bool,
    bench: bool,
    started: f64,
    stats: Stats,
    on_lost: Closure<dyn FnMut(web_sys::Event)>,
}

#[derive(Default)]
struct Stats {
    frames: u64,
    cpu_ms: f64,
    draw_ms: f64,
    last_frame: Option<f64>,
    interval_ms: f64,
    intervals: u64,
    first_frame_ms: Option<f64>,
}

impl Live {
    fn start(
        canvas: HtmlCanvasElement,
        overlay: HtmlElement,
        fail: WriteSignal<Option<Text>>,
    ) -> Result<Self, String> {
        let gl = canvas
            .get_context("webgl2")
            .map_err(|e| format!("{e:?}"))?
            .ok_or("no webgl2 context")?
            .dyn_into::<WebGl2RenderingContext>()
            .map_err(|_| "not a WebGL2 context")?;
        let context = three_d_context(&gl)?;
        let on_lost = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {
            fail.set(Some(Text::ContextLost));
        });
        canvas
            .add_event_listener_with_callback("webglcontextlost", on_lost.as_ref().unchecked_ref())
            .map_err(|e| format!("{e:?}"))?;
        Ok(Self {
            renderer: Renderer::new(&context),
            canvas,
            overlay,
            gl,
            orbit: Orbit::new([0.0; 3], [8.0; 3]),
            anchors: HashMap::new(),
            probes: HashMap::new(),
            camera: None,
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
    fn show(&mut self, layout: Layout, redis_ok: bool) {
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

    fn frame(&mut self, t_ms: f64) {
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

    /// Counts a frame that took `cpu_ms` to submit and `draw_ms` in all (with the GPU's share
    /// when benchmarking), and publishes running totals as `window.pulseboardStats`.
    fn record(&mut self, t_ms: f64, cpu_ms: f64, draw_ms: f64) {
        let s = &mut self.stats;
        s.frames += 1;
        s.cpu_ms += cpu_ms;
        s.draw_ms += draw_ms;
        if let Some(last) = s.last_frame {
            s.interval_ms += t_ms - last;
            s.intervals += 1;
        }
        s.last_frame = Some(t_ms);
        if self.has_data && s.first_frame_ms.is_none() {
            let at = now_ms();
            s.first_frame_ms = Some(at);
            let _ = self.canvas.set_attribute("data-drawn", "1");
            set_global("pulseboardFirstFrameMs", &JsValue::from_f64(at));
        }
        if self.bench || s.frames.is_multiple_of(30) || s.frames < 3 {
            let stats = js_sys::Object::new();
            let put = |k: &str, v: f64| {
                let _ = js_sys::Reflect::set(&stats, &k.into(), &v.into());
            };
            put("frames", s.frames as f64);
            put("cpuMsTotal", s.cpu_ms);
            put("drawMsTotal", s.draw_ms);
            put("intervals", s.intervals as f64);
            put("intervalMsTotal", s.interval_ms);
            put("bench", f64::from(u8::from(self.bench)));
            set_global("pulseboardStats", &stats);
        }
    }

    /// Moves every anchored label to the projection of its point; hides those behind the camera.
    fn place_labels(&self, dpr: f64) {
        let Some(camera) = &self.camera else { return };
        let Ok(list) = self.overlay.query_selector_all("[data-anchor]") else {
            return;
        };
        let screen = |p: Point| -> Option<(f64, f64)> {
            let v = vec3(p[0], p[1], p[2]);
            let view = camera.view() * v.extend(1.0);
            if view.z >= 0.0 {
                return None;
            }
            let px = camera.pixel_at_position(v);
            Some((
                f64::from(px.x) / dpr,
                (f64::from(self.size.1) - f64::from(px.y)) / dpr,
            ))
        };
        for i in 0..list.length() {
            let Some(el) = list.item(i).and_then(|n| n.dyn_into::<HtmlElement>().ok()) else {
                continue;
            };
            let key = el.get_attribute("data-anchor").unwrap_or_default();
            let style = el.style();
            match self.anchors.get(&key).and_then(|p| screen(*p)) {
                Some((x, y)) => {
                    let lift = if key.starts_with("w:") { "4px" } else { "-50%" };
                    let _ = style.set_property(
                        "transform",
                        &format!("translate({x:.1}px,{y:.1}px) translate(-50%,{lift})"),
                    );
                    let _ = style.remove_property("visibility");
                }
                None => {
                    let _ = style.set_property("visibility", "hidden");
                }
            }
            if let Some(name) = key.strip_prefix("w:") {
                match self.probes.get(name).and_then(|p| screen(*p)) {
                    Some((x, y)) => {
                        let _ = el.set_attribute("data-probe", &format!("{x:.1},{y:.1}"));
                    }
                    None => {
                        let _ = el.remove_attribute("data-probe");
                    }
                }
            }
        }
        let count = self.overlay.child_element_count().to_string();
        let _ = self.overlay.set_attribute("data-placed", &count);
    }

    /// The worker whose cube is nearest to CSS pixel `(x, y)`, within reach of a finger.
    fn pick(&self, x: f64, y: f64) -> Option<String> {
        let camera = self.camera.as_ref()?;
        let dpr = web_sys::window().map_or(1.0, |w| w.device_pixel_ratio());
        self.anchors
            .iter()
            .filter_map(|(key, p)| {
                let name = key.strip_prefix("c:")?;
                let px = camera.pixel_at_position(vec3(p[0], p[1], p[2]));
                let (sx, sy) = (
                    f64::from(px.x) / dpr,
                    (f64::from(self.size.1) - f64::from(px.y)) / dpr,
                );
                let d = ((sx - x).powi(2) + (sy - y).powi(2)).sqrt();
                (d < 32.0).then(|| (d, name.to_owned()))
            })
            .min_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, name)| name)
    }

    /// Lets go of the GL context now rather than whenever the page is collected.
    fn release(&mut self) {
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
fn three_d_context(gl: &WebGl2RenderingContext) -> Result<Context, String> {
    // three-d takes an `Arc`; on the web everything stays on the one thread anyway.
    #[allow(clippy::arc_with_non_send_sync)]
    let gl = Arc::new(three_d::context::Context::from_webgl2_context(gl.clone()));
    Context::from_gl_context(gl).map_err(|e| e.to_string())
}

/// The page only runs in a browser; natively (`cargo clippy --workspace`) this just type-checks.
#[cfg(not(target_arch = "wasm32"))]
fn three_d_context(_: &WebGl2RenderingContext) -> Result<Context, String> {
    Err("the 3D view runs in a browser only".into())
}

fn set_global(name: &str, value: &JsValue) {
    if let Some(w) = web_sys::window() {
        let _ = js_sys::Reflect::set(&w, &name.into(), value);
    }
}

type FrameCallback = Rc<RefCell<Option<Closure<dyn FnMut(f64)>>>>;

/// `requestAnimationFrame`, every frame, until stopped.
struct FrameLoop {
    callback: FrameCallback,
    id: Rc<std::cell::Cell<i32>>,
}

impl FrameLoop {
    fn start(live: Rc<RefCell<Live>>) -> Self {
        let callback: FrameCallback = Rc::new(RefCell::new(None));
        let id = Rc::new(std::cell::Cell::new(0));
        let (again, next_id) = (callback.clone(), id.clone());
        *callback.borrow_mut() = Some(Closure::new(move |t: f64| {
            live.borrow_mut().frame(t);
            if let Some(cb) = again.borrow().as_ref() {
                next_id.set(request_frame(cb));
            }
        }));
        if let Some(cb) = callback.borrow().as_ref() {
            id.set(request_frame(cb));
        }
        Self { callback, id }
    }

    /// Cancels the pending frame and drops the callback (which breaks its reference cycle).
    fn stop(self) {
        if let Some(w) = web_sys::window() {
            let _ = w.cancel_animation_frame(self.id.get());
        }
        self.callback.borrow_mut().take();
    }
}

fn request_frame(cb: &Closure<dyn FnMut(f64)>) -> i32 {
    web_sys::window()
        .and_then(|w| w.request_animation_frame(cb.as_ref().unchecked_ref()).ok())
        .unwrap_or(0)
}
