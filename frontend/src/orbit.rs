//! The camera: it orbits the scene's centre (drag), zooms (wheel, pinch) and resets, and it
//! frames the whole layout whatever its size or the canvas's shape.

use std::collections::HashMap;

use pulseboard_shared::layout::Point;
use three_d::{degrees, vec3, Camera, Viewport};

const FOV_DEG: f32 = 38.0;
const DEFAULT_YAW: f32 = 0.0;
const DEFAULT_PITCH: f32 = 0.9;

/// Where the camera looks from, and the pointers moving it.
pub struct Orbit {
    yaw: f32,
    pitch: f32,
    zoom: f32,
    target: Point,
    half: Point,
    pointers: HashMap<i32, (f64, f64)>,
    /// How far the pointers moved since the first went down (a click moves little).
    pub travel: f64,
}

impl Orbit {
    /// A camera framing a box at `target` with half extents `half`.
    pub fn new(target: Point, half: Point) -> Self {
        Self {
            yaw: DEFAULT_YAW,
            pitch: DEFAULT_PITCH,
            zoom: 1.0,
            target,
            half,
            pointers: HashMap::new(),
            travel: 0.0,
        }
    }

    /// Frames a new layout, keeping the user's angles.
    pub fn frame(&mut self, target: Point, half: Point) {
        self.target = target;
        self.half = half;
    }

    /// Back to the default view.
    pub fn reset(&mut self) {
        self.yaw = DEFAULT_YAW;
        self.pitch = DEFAULT_PITCH;
        self.zoom = 1.0;
    }

    /// The camera for a viewport of `width` x `height` device pixels.
    pub fn camera(&self, width: u32, height: u32) -> Camera {
        let aspect = width as f32 / height.max(1) as f32;
        let tan = (FOV_DEG.to_radians() / 2.0).tan();
        // Fit the box's width and its apparent height (its depth seen from above, tilted).
        let [hx, hy, hz] = self.half;
        let tall = hz * self.pitch.sin() + hy * self.pitch.cos();
        // (the near half of the box is closer than the target: half its depth is enough margin)
        let fit = (hx / (tan * aspect)).max(tall / tan) + hz * 0.5;
        let distance = fit * 1.02 * self.zoom;
        let reach = hx.max(hy).max(hz);
        let t = vec3(self.target[0], self.target[1], self.target[2]);
        let eye = t + distance
            * vec3(
                self.pitch.cos() * self.yaw.sin(),
                self.pitch.sin(),
                self.pitch.cos() * self.yaw.cos(),
            );
        Camera::new_perspective(
            Viewport::new_at_origo(width, height),
            eye,
            t,
            vec3(0.0, 1.0, 0.0),
            degrees(FOV_DEG),
            0.1,
            distance * 2.0 + reach * 4.0,
        )
    }

    /// A pointer went down at CSS pixel `(x, y)`.
    pub fn pointer_down(&mut self, id: i32, x: f64, y: f64) {
        if self.pointers.is_empty() {
            self.travel = 0.0;
        }
        self.pointers.insert(id, (x, y));
    }

    /// A pointer moved; returns whether the view changed.
    pub fn pointer_move(&mut self, id: i32, x: f64, y: f64) -> bool {
        let Some(&(px, py)) = self.pointers.get(&id) else {
            return false;
        };
        let before = self.spread();
        self.pointers.insert(id, (x, y));
        self.travel += (x - px).abs() + (y - py).abs();
        match self.pointers.len() {
            1 => {
                self.yaw -= (x - px) as f32 * 0.006;
                self.pitch = (self.pitch + (y - py) as f32 * 0.006).clamp(0.08, 1.5);
            }
            _ => {
                let after = self.spread();
                if before > 1.0 && after > 1.0 {
                    self.zoom_by((before / after) as f32);
                }
            }
        }
        true
    }

    /// A pointer went up or was cancelled.
    pub fn pointer_up(&mut self, id: i32) {
        self.pointers.remove(&id);
    }

    /// Zooms by `factor` (above 1 moves away).
    pub fn zoom_by(&mut self, factor: f32) {
        self.zoom = (self.zoom * factor).clamp(0.25, 3.0);
    }

    fn spread(&self) -> f64 {
        let mut p = self.pointers.values();
        match (p.next(), p.next()) {
            (Some(a), Some(b)) => ((a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)).sqrt(),
            _ => 0.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use three_d::InnerSpace;

    use super::*;

    /// The corners of the framed box's middle plane (front to back), in pixels of a `w` x `h`
    /// viewport: what the framing promises to fit (the near corners of the bounding box are
    /// empty air in front of the hosts and may be cut).
    fn corners_on_screen(orbit: &Orbit, w: u32, h: u32) -> Vec<(f32, f32)> {
        let camera = orbit.camera(w, h);
        let [tx, ty, tz] = orbit.target;
        let [hx, hy, _] = orbit.half;
        let mut out = vec![];
        for sx in [-1.0, 1.0] {
            for sy in [-1.0, 1.0] {
                let p = camera.pixel_at_position(vec3(tx + sx * hx, ty + sy * hy, tz));
                out.push((p.x, p.y));
            }
        }
        out
    }

    #[test]
    fn the_whole_layout_is_framed_on_a_desk_and_on_a_phone() {
        use pulseboard_shared::{layout::layout, mock::mock_fleet};
        for size in [6, 24, 60] {
            let (target, half) = layout(&mock_fleet(0, size)).bounds;
            assert_framed(&Orbit::new(target, half));
        }
    }

    fn assert_framed(orbit: &Orbit) {
        for (w, h) in [(1280, 800), (390, 844), (2000, 400)] {
            for (x, y) in corners_on_screen(orbit, w, h) {
                assert!(
                    (0.0..=w as f32).contains(&x) && (0.0..=h as f32).contains(&y),
                    "{w}x{h}: corner at ({x}, {y}) is off screen"
                );
            }
        }
    }

    #[test]
    fn a_drag_orbits_a_pinch_zooms_and_reset_comes_back() {
        let mut orbit = Orbit::new([0.0; 3], [5.0; 3]);
        orbit.pointer_down(1, 100.0, 100.0);
        assert!(orbit.pointer_move(1, 150.0, 400.0));
        assert!(orbit.yaw < DEFAULT_YAW, "dragging right turns the scene");
        assert_eq!(orbit.pitch, 1.5, "the camera never goes over the top");
        assert!(orbit.travel > 6.0, "a drag is not a click");
        orbit.pointer_up(1);
        assert!(
            !orbit.pointer_move(1, 0.0, 0.0),
            "an unknown pointer moves nothing"
        );

        orbit.pointer_down(1, 0.0, 0.0);
        orbit.pointer_down(2, 100.0, 0.0);
        orbit.pointer_move(2, 200.0, 0.0); // fingers apart: closer
        assert!((orbit.zoom - 0.5).abs() < 1e-6, "{}", orbit.zoom);
        orbit.zoom_by(100.0);
        assert_eq!(orbit.zoom, 3.0, "zoom is bounded");

        orbit.reset();
        assert_eq!(
            (orbit.yaw, orbit.pitch, orbit.zoom),
            (DEFAULT_YAW, DEFAULT_PITCH, 1.0)
        );
    }

    #[test]
    fn zooming_out_moves_the_eye_away() {
        let mut orbit = Orbit::new([0.0; 3], [5.0; 3]);
        let near = orbit.camera(800, 600).position().magnitude();
        orbit.zoom_by(2.0);
        let far = orbit.camera(800, 600).position().magnitude();
        assert!((far / near - 2.0).abs() < 0.01, "{near} -> {far}");
    }
}
