//! Frame statistics for the figures example and the browser tests, published on `window`.

use wasm_bindgen::JsValue;

use super::live::Live;
use crate::page::now_ms;

#[derive(Default)]
pub(super) struct Stats {
    pub(super) frames: u64,
    cpu_ms: f64,
    draw_ms: f64,
    last_frame: Option<f64>,
    interval_ms: f64,
    intervals: u64,
    first_frame_ms: Option<f64>,
}

impl Live {
    /// Counts a frame that took `cpu_ms` to submit and `draw_ms` in all (with the GPU's share
    /// when benchmarking), and publishes running totals as `window.pulseboardStats`.
    pub(super) fn record(&mut self, t_ms: f64, cpu_ms: f64, draw_ms: f64) {
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
}

fn set_global(name: &str, value: &JsValue) {
    if let Some(w) = web_sys::window() {
        let _ = js_sys::Reflect::set(&w, &name.into(), value);
    }
}
