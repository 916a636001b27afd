//! Where the scene's points land on screen: the HTML labels follow them, and a click finds the
//! worker whose cube is nearest.

use three_d::vec3;
use wasm_bindgen::JsCast;
use web_sys::HtmlElement;

use super::live::Live;
use pulseboard_shared::layout::Point;
use pulseboard_shared::sort::sort_by;

/// Where a label that must be seen tries to go, in its own widths and heights from its usual
/// place: there first, then ever wider rings around it (below, above, to the sides), nearest
/// first, out to a few labels away.
fn nudges() -> Vec<(f64, f64)> {
    let mut tries: Vec<(f64, f64)> = (-7..=7)
        .flat_map(|dx| (-8..=9).map(move |dy| (f64::from(dx) * 0.55, f64::from(dy) * 1.05)))
        .collect();
    // Below the cube is better than above it (links arrive from above), near better than far.
    sort_by(&mut tries, |a, b| {
        let cost = |(x, y): (f64, f64)| x.abs() * 1.2 + if y < 0.0 { -y * 1.3 } else { y };
        cost(*a).total_cmp(&cost(*b))
    });
    tries
}

/// An anchored element and what placing it needs.
struct Label {
    el: HtmlElement,
    key: String,
    /// Lower claims room first.
    rank: u32,
    /// Its point on screen, if in front of the camera.
    at: Option<(f64, f64)>,
    /// Its width and height in CSS pixels (0 when not displayed).
    size: (f64, f64),
}

/// A label's box on screen, in CSS pixels.
#[derive(Clone, Copy)]
struct Rect {
    x: f64,
    y: f64,
    w: f64,
    h: f64,
}

impl Rect {
    fn new(x: f64, y: f64, w: f64, h: f64) -> Self {
        Self { x, y, w, h }
    }

    /// Whether the two boxes overlap, with a pixel between neighbours.
    fn hits(&self, other: &Self) -> bool {
        const GAP: f64 = 1.0;
        self.x < other.x + other.w + GAP
            && other.x < self.x + self.w + GAP
            && self.y < other.y + other.h + GAP
            && other.y < self.y + self.h + GAP
    }

    /// Whether it lies within the view (a label pushed off screen is no use).
    fn inside(&self, (w, h): (f64, f64)) -> bool {
        self.x >= 0.0 && self.y >= 0.0 && self.x + self.w <= w && self.y + self.h <= h
    }
}

impl Live {
    /// Moves every anchored label to the projection of its point, so that no two overlap:
    /// labels claim room in rank order (`data-rank`, the hovered worker first); problems, hosts
    /// and the bus move aside to find room, the rest hide when there is none (a hover shows
    /// them). Labels behind the camera hide. All sizes are read before anything is written, so
    /// the browser lays the page out once.
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
        let hovered = self.hovered.as_deref().map(|name| format!("w:{name}"));
        let mut labels: Vec<Label> = (0..list.length())
            .filter_map(|i| list.item(i)?.dyn_into::<HtmlElement>().ok())
            .map(|el| {
                let key = el.get_attribute("data-anchor").unwrap_or_default();
                let rank = if hovered.as_deref() == Some(key.as_str()) {
                    0
                } else {
                    el.get_attribute("data-rank")
                        .and_then(|r| r.parse::<u32>().ok())
                        .map_or(u32::MAX, |r| r + 1)
                };
                let at = self.anchors.get(&key).and_then(|p| screen(*p));
                let size = (f64::from(el.offset_width()), f64::from(el.offset_height()));
                Label {
                    el,
                    key,
                    rank,
                    at,
                    size,
                }
            })
            .collect();
        sort_by(&mut labels, |a, b| a.rank.cmp(&b.rank));

        let view = (f64::from(self.size.0) / dpr, f64::from(self.size.1) / dpr);
        let mut taken: Vec<Rect> = Vec::with_capacity(labels.len());
        let nudges = nudges();
        let dense = self.overlay.class_list().contains("dense");
        for label in &labels {
            let style = label.el.style();
            let spot = label.at.and_then(|at| {
                let (w, h) = label.size;
                if w == 0.0 {
                    return Some((at.0, at.1)); // not displayed: takes no room
                }
                // Worker labels hang below their cube; the others are centred on their point.
                let base = if label.key.starts_with("w:") {
                    (at.0 - w / 2.0, at.1 + 4.0)
                } else {
                    (at.0 - w / 2.0, at.1 - h / 2.0)
                };
                // Marks stay on their link; in a small fleet every label finds room.
                let nudged = !label.key.starts_with("m:")
                    && (label.rank <= super::NUDGED_BELOW + 2 || !dense);
                let tries: &[(f64, f64)] = if nudged { &nudges } else { &[(0.0, 0.0)] };
                let found = tries.iter().find_map(|(dx, dy)| {
                    let r = Rect::new(base.0 + dx * w, base.1 + dy * h, w, h);
                    (r.inside(view) && !taken.iter().any(|t| t.hits(&r))).then_some(r)
                });
                let r = found?;
                taken.push(r);
                Some((r.x, r.y))
            });
            match spot {
                Some((x, y)) => {
                    let _ =
                        style.set_property("transform", &format!("translate({x:.1}px,{y:.1}px)"));
                    let _ = style.remove_property("visibility");
                }
                None => {
                    let _ = style.set_property("visibility", "hidden");
                }
            }
            if let Some(name) = label.key.strip_prefix("w:") {
                match self.probes.get(name).and_then(|p| screen(*p)) {
                    Some((x, y)) => {
                        let _ = label
                            .el
                            .set_attribute("data-probe", &format!("{x:.1},{y:.1}"));
                    }
                    None => {
                        let _ = label.el.remove_attribute("data-probe");
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
