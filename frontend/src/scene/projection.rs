//! Where the scene's points land on screen: the HTML labels follow them, and a click finds the
//! worker whose cube is nearest.

use three_d::vec3;
use wasm_bindgen::JsCast;
use web_sys::HtmlElement;

use super::live::Live;
use pulseboard_shared::layout::Point;

impl Live {
    /// Moves every anchored label to the projection of its point; hides those behind the camera.
    pub(super) fn place_labels(&self, dpr: f64) {
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
    pub(super) fn pick(&self, x: f64, y: f64) -> Option<String> {
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
}
