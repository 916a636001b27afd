//! The GL side of the 3D view: three-d objects built from a [`Layout`] and drawn once per frame.
//!
//! Everything of one shape is one instanced mesh (slabs and cubes, tubes, spheres, particles), so
//! a 60-worker scene costs the same handful of draw calls as a 6-worker one. Colours are unlit
//! (`ColorMaterial`, no tone mapping), so a link is drawn in exactly its palette colour.

use pulseboard_shared::layout::{dist, lerp, point_along, Layout, Point, Route, NODE_SIZE};
use pulseboard_shared::rules::UNKNOWN_COLOUR;
use pulseboard_shared::sort::sort_by;
use pulseboard_shared::{LinkStatus, LinkType};
use three_d::*;

/// Radius of a worker's link tube.
pub const TUBE: f32 = 0.08;
/// Where a down link breaks, as fractions of its last segment.
pub const GAP: (f32, f32) = (0.4, 0.6);
/// Where on a link's last segment its colour is certainly drawn (past the break, clear of
/// other links and of the labels, which hang below the workers); exposed for tests.
pub const PROBE_AT: f32 = 0.8;

const BACKGROUND: Srgba = Srgba::new_opaque(0x0b, 0x10, 0x17);
const HOST: Srgba = Srgba::new_opaque(0x1e, 0x29, 0x3b);
const QUEUE_HOST: Srgba = Srgba::new_opaque(0x23, 0x33, 0x4d);
const BUS: Srgba = Srgba::new_opaque(0x38, 0xbd, 0xf8);
const LOST: Srgba = Srgba::new_opaque(0xef, 0x44, 0x44);
const SPARK: Srgba = Srgba::new_opaque(0xfd, 0xe6, 0x8a);
const WATCHER: Srgba = Srgba::new_opaque(0x94, 0xa3, 0xb8);

/// A stream of particles along a path.
struct Flow {
    points: Vec<Point>,
    length: f32,
    /// Scene units per second; 0 holds the particles still.
    speed: f32,
    colour: Srgba,
}

/// The drawable scene.
pub struct Renderer {
    context: Context,
    blocks: Gm<InstancedMesh, ColorMaterial>,
    tubes: Gm<InstancedMesh, ColorMaterial>,
    balls: Gm<InstancedMesh, ColorMaterial>,
    particles: Gm<InstancedMesh, ColorMaterial>,
    halo: Gm<Mesh, ColorMaterial>,
    flows: Vec<Flow>,
    sparks: Vec<Point>,
    bus: Point,
    bus_colour: Srgba,
}

impl Renderer {
    /// Empty GL objects on `context`; [`Renderer::build`] fills them.
    pub fn new(context: &Context) -> Self {
        let instanced = |mesh: &CpuMesh| {
            Gm::new(
                InstancedMesh::new(context, &Instances::default(), mesh),
                ColorMaterial::default(),
            )
        };
        // What `ColorMaterial::new_transparent` makes of a colour without a texture, written
        // out: that constructor also compiles the texture upload the page never does.
        let halo = Gm::new(
            Mesh::new(context, &CpuMesh::sphere(24)),
            ColorMaterial {
                color: Srgba::new(0x38, 0xbd, 0xf8, 60),
                texture: None,
                is_transparent: true,
                render_states: RenderStates {
                    write_mask: WriteMask::COLOR,
                    blend: Blend::TRANSPARENCY,
                    depth_test: DepthTest::Always,
                    ..Default::default()
                },
            },
        );
        Self {
            context: context.clone(),
            blocks: instanced(&CpuMesh::cube()),
            tubes: instanced(&CpuMesh::cylinder(12)),
            balls: instanced(&CpuMesh::sphere(16)),
            // A few pixels across: a coarse sphere looks the same and costs a fifth.
            particles: instanced(&CpuMesh::sphere(4)),
            halo,
            flows: vec![],
            sparks: vec![],
            bus: [0.0; 3],
            bus_colour: BUS,
        }
    }

    /// Rebuilds the instances for `layout`; `redis_ok` false paints the bus red and stills all flow.
    pub fn build(&mut self, layout: &Layout, redis_ok: bool) {
        let mut blocks = Instances::default();
        let mut block = |center: Point, size: Point, colour: Srgba| {
            let t = Mat4::from_translation(v(center))
                * Mat4::from_nonuniform_scale(size[0] / 2.0, size[1] / 2.0, size[2] / 2.0);
            blocks.transformations.push(t);
            blocks.colors.get_or_insert_with(Vec::new).push(colour);
        };
        for h in &layout.hosts {
            block(
                h.center,
                h.size,
                if h.queue_host { QUEUE_HOST } else { HOST },
            );
        }
        for w in &layout.workers {
            let colour = layout
                .routes
                .iter()
                .find(|r| r.worker == w.name)
                .map_or(WATCHER, |r| route_colour(r, redis_ok));
            if w.parts.is_empty() {
                block(w.position, [NODE_SIZE; 3], colour);
                continue;
            }
            // A worker of several processes: its cube cut into a slice per part, each in its
            // part's colour, so the one dead part shows where it sits.
            let n = w.parts.len() as f32;
            let slice = NODE_SIZE / n;
            for (i, part) in w.parts.iter().enumerate() {
                let x = w.position[0] - NODE_SIZE / 2.0 + slice * (i as f32 + 0.5);
                let part_colour = if redis_ok {
                    hex(part.colour())
                } else {
                    hex(UNKNOWN_COLOUR)
                };
                let size = [slice * 0.86, NODE_SIZE, NODE_SIZE];
                block([x, w.position[1], w.position[2]], size, part_colour);
            }
        }

        let mut tubes = Instances::default();
        let mut tube = |a: Point, b: Point, radius: f32, colour: Srgba| {
            tubes.transformations.push(segment(a, b, radius));
            tubes.colors.get_or_insert_with(Vec::new).push(colour);
        };
        self.bus = layout.bus;
        self.bus_colour = if redis_ok { BUS } else { LOST };
        tube(
            layout.trunk[0],
            layout.trunk[1],
            TUBE * 1.8,
            self.bus_colour,
        );
        self.flows.clear();
        self.sparks.clear();
        if redis_ok {
            self.flows
                .push(flow(layout.trunk.to_vec(), 1.2, lighten(BUS)));
        }
        for route in &layout.routes {
            let colour = route_colour(route, redis_ok);
            let n = route.points.len();
            if route.stopped {
                // A clean stop: a grey dashed line, no flow, no break.
                for pair in route.points.windows(2) {
                    for i in (0..DASHES).step_by(2) {
                        let at = |k: usize| lerp(pair[0], pair[1], k as f32 / DASHES as f32);
                        tube(at(i), at(i + 1), TUBE, colour);
                    }
                }
                continue;
            }
            for pair in route.points.windows(2).take(n - 2) {
                tube(pair[0], pair[1], TUBE, colour);
            }
            let (a, b) = (route.points[n - 2], route.points[n - 1]);
            if route.status == LinkStatus::Down {
                // The break: two stubs with a spark between them.
                tube(a, lerp(a, b, GAP.0), TUBE, colour);
                tube(lerp(a, b, GAP.1), b, TUBE, colour);
                self.sparks.push(lerp(a, b, (GAP.0 + GAP.1) / 2.0));
            } else {
                tube(a, b, TUBE, colour);
            }
            if !redis_ok {
                continue;
            }
            let speed = match route.status {
                LinkStatus::Down => continue,
                LinkStatus::Paused => 0.0,
                LinkStatus::Degraded => 0.6,
                LinkStatus::Healthy if route.busy => 3.0,
                LinkStatus::Healthy if route.link_type == LinkType::HttpPull => 1.5,
                LinkStatus::Healthy => 1.0,
            };
            self.flows
                .push(flow(route.points.clone(), speed, lighten(colour)));
        }
        self.blocks.geometry.set_instances(&blocks);
        self.tubes.geometry.set_instances(&tubes);
    }

    /// Draws one frame at `time_s` (the particles' clock) with `camera`.
    pub fn draw(&mut self, camera: &Camera, time_s: f32) {
        let mut balls = Instances::default();
        let mut ball = |at: Point, radius: f32, colour: Srgba| {
            balls
                .transformations
                .push(Mat4::from_translation(v(at)) * Mat4::from_scale(radius));
            balls.colors.get_or_insert_with(Vec::new).push(colour);
        };
        ball(self.bus, 0.6, self.bus_colour);
        let pulse = 1.0 + 0.35 * (time_s * 9.0).sin().abs();
        for spark in &self.sparks {
            ball(*spark, 0.13 * pulse, SPARK);
        }
        self.balls.geometry.set_instances(&balls);
        self.halo
            .set_transformation(Mat4::from_translation(v(self.bus)) * Mat4::from_scale(1.0));
        self.halo.material.color = with_alpha(self.bus_colour, 60);

        let mut dots = Instances::default();
        // A particle budget for the whole scene, so many links do not cost many times a few.
        let most = (PARTICLES / self.flows.len().max(1)).clamp(2, 6) as f32;
        for f in &self.flows {
            let count = (f.length / 1.5).ceil().clamp(2.0, most) as usize;
            let phase = f.speed * time_s / f.length;
            for k in 0..count {
                let t = (k as f32 / count as f32 + phase).fract();
                let at = point_along(&f.points, t);
                dots.transformations
                    .push(Mat4::from_translation(v(at)) * Mat4::from_scale(TUBE * 1.6));
                dots.colors.get_or_insert_with(Vec::new).push(f.colour);
            }
        }
        self.particles.geometry.set_instances(&dots);

        let objects = [&self.blocks, &self.tubes, &self.balls, &self.particles]
            .into_iter()
            .filter(|o| o.geometry.instance_count() > 0)
            .flat_map(|o| o.into_iter())
            .chain(&self.halo);
        let viewport = camera.viewport();
        let [r, g, b, _] = <[f32; 4]>::from(BACKGROUND);
        let screen = RenderTarget::screen(&self.context, viewport.width, viewport.height);
        screen.clear(ClearState::color_and_depth(r, g, b, 1.0, 1.0));
        // What `RenderTarget::render` does for forward materials, written out: every material
        // here is a `ColorMaterial`, so its deferred pass (a G-buffer, the lighting shaders)
        // never runs, and the page does without its code.
        let frustum = Frustum::new(camera.projection() * camera.view());
        let mut shown: Vec<&dyn Object> = objects.filter(|o| frustum.contains(o.aabb())).collect();
        sort_by(&mut shown, |a, b| cmp_render_order(camera, *a, *b));
        let _ = screen.write::<RendererError>(|| {
            for object in shown {
                object.render(camera, &[]);
            }
            Ok(())
        });
    }
}

/// About how many particles flow in the whole scene at most (each link keeps at least two).
const PARTICLES: usize = 120;

/// Pieces of a stopped worker's dashed line, per segment (even ones drawn).
const DASHES: usize = 9;

/// The colour of a route: its status's, grey when the worker stopped cleanly or while Redis is
/// lost (the data is stale).
fn route_colour(route: &Route, redis_ok: bool) -> Srgba {
    hex(if redis_ok && !route.stopped {
        route.status.colour()
    } else {
        UNKNOWN_COLOUR
    })
}

fn flow(points: Vec<Point>, speed: f32, colour: Srgba) -> Flow {
    let length = points.windows(2).map(|w| dist(w[0], w[1])).sum::<f32>();
    Flow {
        points,
        length: length.max(0.01),
        speed,
        colour,
    }
}

/// A cylinder of `radius` from `a` to `b` (three-d's cylinder runs along x over `[0, 1]`).
fn segment(a: Point, b: Point, radius: f32) -> Mat4 {
    let d = v(b) - v(a);
    let length = d.magnitude().max(1e-4);
    let rotation = Quat::from_arc(vec3(1.0, 0.0, 0.0), d / length, None);
    Mat4::from_translation(v(a))
        * Mat4::from(rotation)
        * Mat4::from_nonuniform_scale(length, radius, radius)
}

fn v(p: Point) -> Vec3 {
    vec3(p[0], p[1], p[2])
}

/// `#rrggbb` as a colour.
pub fn hex(text: &str) -> Srgba {
    let byte = |i: usize| u8::from_str_radix(text.get(i..i + 2).unwrap_or("00"), 16).unwrap_or(0);
    Srgba::new_opaque(byte(1), byte(3), byte(5))
}

fn lighten(c: Srgba) -> Srgba {
    let up = |x: u8| x + (255 - x) / 2;
    Srgba::new_opaque(up(c.r), up(c.g), up(c.b))
}

fn with_alpha(c: Srgba, a: u8) -> Srgba {
    Srgba::new(c.r, c.g, c.b, a)
}
