//! Where things go in the 3D scene, computed from a snapshot: the queue host (NAS) on the left,
//! the Redis bus in the middle, one slab per worker host on the right with its workers on a grid.
//!
//! Pure geometry (y is up, x to the right, z towards the viewer), so it is tested natively and
//! the page only draws what it is given. 1 to 60 workers (and more) fit without overlapping.
//! Past a few hundred workers ([`Fold`]) each host is folded into one block that shows only its
//! workers with a problem; the page opens a host on a click.

use std::collections::HashMap;

use crate::nodes::{LinkStatus, LinkType, Nodes, WorkerKind};
use crate::rules::{lifecycle_status, link_status, DEFAULT_QUEUE_HOST};
use crate::summary::Condition;

/// A point in the scene.
pub type Point = [f32; 3];

/// The edge of a worker's cube.
pub const NODE_SIZE: f32 = 0.5;
/// Centre-to-centre distance of two workers side by side on a host (room for their labels).
pub const SPACING: f32 = 2.8;
/// Centre-to-centre distance of two rows of workers on a host.
pub const ROW_SPACING: f32 = 2.2;
/// Thickness of a host slab.
pub const SLAB: f32 = 0.3;
const MARGIN: f32 = 0.6;
const HOST_GAP: f32 = 1.0;
const RIGHT_EDGE_X: f32 = 4.0;
const NAS_X: f32 = -6.0;
const BUS_Y: f32 = 3.0;
const ARC_Y: f32 = 4.6;

/// The computed scene.
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    /// Hosts, the queue host first.
    pub hosts: Vec<HostBox>,
    /// The Redis bus's centre.
    pub bus: Point,
    /// From the queue host into the bus.
    pub trunk: [Point; 2],
    /// One spot per drawn worker, in the snapshot's order (workers on folded hosts that have no
    /// problem are not drawn).
    pub workers: Vec<WorkerSpot>,
    /// One route per linked worker (watchers have none).
    pub routes: Vec<Route>,
    /// Centre and half extents of a box holding everything, to fit the camera.
    pub bounds: (Point, Point),
}

/// A machine drawn as a slab.
#[derive(Debug, Clone, PartialEq)]
pub struct HostBox {
    /// The host's name (`nas`, `windows`, or `?` for workers that name none).
    pub name: String,
    /// Centre of the slab.
    pub center: Point,
    /// Extent along x, y, z.
    pub size: Point,
    /// Whether it holds the queues.
    pub queue_host: bool,
    /// Workers on this host not drawn because it is folded (0 when it is open).
    pub folded: usize,
}

/// When hosts fold: past `over` workers in the fleet, every host not in `open` shows only its
/// workers with a problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fold {
    /// The fleet size past which hosts fold.
    pub over: usize,
    /// Hosts the user opened.
    pub open: Vec<String>,
}

impl Default for Fold {
    fn default() -> Self {
        Self {
            over: FOLD_OVER,
            open: Vec::new(),
        }
    }
}

/// The fleet size past which hosts fold by default.
pub const FOLD_OVER: usize = 300;

/// A worker's cube.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkerSpot {
    /// The worker's name.
    pub name: String,
    /// Centre of its cube.
    pub position: Point,
    /// Each part's colour, when the worker is several processes: the cube is drawn split.
    pub parts: Vec<LinkStatus>,
}

/// The path a worker's work takes, drawn in the worker's link colour.
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    /// The worker's name.
    pub worker: String,
    /// Through the bus, or pulled from the queue host directly.
    pub link_type: LinkType,
    /// The link's health.
    pub status: LinkStatus,
    /// Busy workers get faster particles.
    pub busy: bool,
    /// The worker stopped cleanly: drawn grey and dashed, never as a break.
    pub stopped: bool,
    /// A polyline from the work's source to the worker.
    pub points: Vec<Point>,
}

impl Route {
    /// The point at `t` (0..=1) along the polyline, by length.
    pub fn at(&self, t: f32) -> Point {
        point_along(&self.points, t)
    }
}

/// The point at `t` (0..=1) along `points`, by length.
pub fn point_along(points: &[Point], t: f32) -> Point {
    let lengths: Vec<f32> = points.windows(2).map(|w| dist(w[0], w[1])).collect();
    let total: f32 = lengths.iter().sum();
    let mut left = t.clamp(0.0, 1.0) * total;
    for (w, len) in points.windows(2).zip(&lengths) {
        if left <= *len && *len > 0.0 {
            return lerp(w[0], w[1], left / len);
        }
        left -= len;
    }
    *points.last().unwrap_or(&[0.0; 3])
}

/// Linear interpolation from `a` to `b`.
pub fn lerp(a: Point, b: Point, t: f32) -> Point {
    [
        a[0] + (b[0] - a[0]) * t,
        a[1] + (b[1] - a[1]) * t,
        a[2] + (b[2] - a[2]) * t,
    ]
}

/// Distance between two points.
pub fn dist(a: Point, b: Point) -> f32 {
    ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)).sqrt()
}

/// The scene for `nodes`, folded by default past [`FOLD_OVER`] workers.
pub fn layout(nodes: &Nodes) -> Layout {
    layout_folded(nodes, &Fold::default())
}

/// The scene for `nodes`, hosts folded as `fold` says.
pub fn layout_folded(nodes: &Nodes, fold: &Fold) -> Layout {
    let folding = nodes.workers.len() > fold.over;
    let queue_host = nodes
        .links
        .iter()
        .find(|l| l.link_type == LinkType::RedisQueue)
        .map_or(DEFAULT_QUEUE_HOST, |l| l.from.as_str())
        .to_owned();

    // Worker hosts in order of first appearance, with the workers drawn on each and how many
    // are folded away.
    let mut groups: Vec<(String, Vec<usize>, usize)> = Vec::new();
    let mut index: HashMap<&str, usize> = HashMap::new();
    for (i, w) in nodes.workers.iter().enumerate() {
        let host = w.host.as_deref().unwrap_or("?");
        let g = *index.entry(host).or_insert_with(|| {
            groups.push((host.to_owned(), Vec::new(), 0));
            groups.len() - 1
        });
        let group = &mut groups[g];
        let folded = folding && !fold.open.contains(&group.0);
        if folded && !Condition::of(w).is_problem() {
            group.2 += 1;
        } else {
            group.1.push(i);
        }
    }
    let grids: Vec<(usize, usize)> = groups.iter().map(|(_, m, _)| grid(m.len())).collect();
    let width = |(cols, _): (usize, usize)| cols as f32 * SPACING + 2.0 * MARGIN;
    let depth = |(_, rows): (usize, usize)| rows as f32 * ROW_SPACING + 2.0 * MARGIN;
    // A few hosts stand in one column; many (a folded fleet) in columns side by side, so the
    // scene stays wider than deep, as the screen is.
    let per_column = host_rows(groups.len());
    let column_depth = |c: &[(usize, usize)]| {
        c.iter().map(|g| depth(*g)).sum::<f32>() + HOST_GAP * c.len().saturating_sub(1) as f32
    };
    let total_depth = grids
        .chunks(per_column)
        .map(column_depth)
        .fold(0.0, f32::max);

    // The bus (and the NAS beside it) stand in front of the worker hosts and high: seen from the
    // default camera (in front, above), links to workers in one row then fan out visibly
    // instead of lying on one line.
    let front = total_depth / 2.0 + 1.5;
    let nas = HostBox {
        name: queue_host,
        center: [NAS_X, 0.0, front],
        size: [3.0, SLAB, 3.0],
        queue_host: true,
        folded: 0,
    };
    let nas_top = [NAS_X, SLAB / 2.0 + 0.6, front];
    let bus = [0.0, BUS_Y, front];
    let mut hosts = vec![nas];
    let mut spots = vec![None; nodes.workers.len()];
    let mut left = RIGHT_EDGE_X;
    for (groups, grids) in groups.chunks(per_column).zip(grids.chunks(per_column)) {
        let column_width = grids.iter().map(|g| width(*g)).fold(0.0, f32::max);
        let mut z = -total_depth / 2.0;
        for ((name, members, folded), &(cols, rows)) in groups.iter().zip(grids) {
            let (w, d) = (width((cols, rows)), depth((cols, rows)));
            let center = [left + w / 2.0, 0.0, z + d / 2.0];
            for (k, &i) in members.iter().enumerate() {
                let (c, r) = ((k % cols) as f32, (k / cols) as f32);
                spots[i] = Some([
                    left + MARGIN + SPACING * (c + 0.5),
                    SLAB / 2.0 + NODE_SIZE / 2.0,
                    z + MARGIN + ROW_SPACING * (r + 0.5),
                ]);
            }
            hosts.push(HostBox {
                name: name.clone(),
                center,
                size: [w, SLAB, d],
                queue_host: false,
                folded: *folded,
            });
            z += d + HOST_GAP;
        }
        left += column_width + HOST_GAP;
    }
    let drawn: Vec<(&crate::nodes::WorkerStatus, WorkerSpot)> = nodes
        .workers
        .iter()
        .zip(spots)
        .filter_map(|(w, spot)| {
            let spot = WorkerSpot {
                name: w.name.clone(),
                position: spot?,
                parts: w
                    .parts
                    .iter()
                    .map(|p| lifecycle_status(p.lifecycle.state).unwrap_or(LinkStatus::Healthy))
                    .collect(),
            };
            Some((w, spot))
        })
        .collect();

    let routes = drawn
        .iter()
        .filter_map(|(w, spot)| {
            let top = [
                spot.position[0],
                spot.position[1] + NODE_SIZE / 2.0,
                spot.position[2],
            ];
            let (link_type, points) = match w.kind {
                WorkerKind::Watcher => return None,
                WorkerKind::Trader => {
                    // Over the bus, straight from the queue host: it bypasses Redis.
                    let arc = [0.0, ARC_Y, top[2] * 0.5];
                    (LinkType::HttpPull, vec![nas_top, arc, top])
                }
                WorkerKind::Render | WorkerKind::Unknown => (LinkType::RedisQueue, vec![bus, top]),
            };
            Some(Route {
                worker: w.name.clone(),
                link_type,
                status: link_status(w),
                busy: w.state.as_deref() == Some("busy"),
                stopped: w.lifecycle.as_ref().map(|l| l.state)
                    == Some(crate::lifecycle::LifecycleState::Stopped),
                points,
            })
        })
        .collect();

    let workers = drawn.into_iter().map(|(_, spot)| spot).collect();
    let bounds = bounds(&hosts);
    Layout {
        hosts,
        bus,
        trunk: [nas_top, bus],
        workers,
        routes,
        bounds,
    }
}

/// How many hosts stand in one column: all of them up to four, then about twice as many
/// columns as rows.
fn host_rows(n: usize) -> usize {
    if n <= 4 {
        return n.max(1);
    }
    ((n as f32 / 2.0).sqrt().ceil() as usize).max(1)
}

/// Columns and rows for `n` workers: about square, a little wider than deep.
fn grid(n: usize) -> (usize, usize) {
    let n = n.max(1);
    let cols = ((n as f32).sqrt().ceil() as usize).max(1);
    (cols, n.div_ceil(cols))
}

fn bounds(hosts: &[HostBox]) -> (Point, Point) {
    let (mut lo, mut hi) = ([f32::MAX; 3], [f32::MIN; 3]);
    for h in hosts {
        for a in 0..3 {
            lo[a] = lo[a].min(h.center[a] - h.size[a] / 2.0);
            hi[a] = hi[a].max(h.center[a] + h.size[a] / 2.0);
        }
    }
    hi[1] = hi[1].max(ARC_Y);
    let center = lerp(lo, hi, 0.5);
    let half = [
        (hi[0] - lo[0]) / 2.0,
        (hi[1] - lo[1]) / 2.0,
        (hi[2] - lo[2]) / 2.0,
    ];
    (center, half)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mock::mock_fleet;

    fn inside(p: Point, h: &HostBox) -> bool {
        (0..3)
            .step_by(2)
            .all(|a| (p[a] - h.center[a]).abs() + NODE_SIZE / 2.0 <= h.size[a] / 2.0 + f32::EPSILON)
    }

    #[test]
    fn one_to_sixty_workers_fit_without_overlapping() {
        for n in 1..=60 {
            let mut nodes = mock_fleet(0, n.max(6));
            nodes.workers.truncate(n);
            let scene = layout(&nodes);
            assert_eq!(scene.workers.len(), n);
            for (i, a) in scene.workers.iter().enumerate() {
                for b in &scene.workers[i + 1..] {
                    assert!(
                        dist(a.position, b.position) >= NODE_SIZE * 1.5,
                        "{n} workers: {} and {} overlap",
                        a.name,
                        b.name
                    );
                }
                let host = nodes.workers[i].host.clone().unwrap();
                let slab = scene.hosts.iter().find(|h| h.name == host).unwrap();
                assert!(inside(a.position, slab), "{} is off its host", a.name);
            }
            // Hosts do not overlap each other either.
            for (i, a) in scene.hosts.iter().enumerate() {
                for b in &scene.hosts[i + 1..] {
                    let apart = (0..3).step_by(2).any(|k| {
                        (a.center[k] - b.center[k]).abs() >= (a.size[k] + b.size[k]) / 2.0
                    });
                    assert!(
                        apart,
                        "{n} workers: hosts {} and {} overlap",
                        a.name, b.name
                    );
                }
            }
            let (center, half) = scene.bounds;
            for w in &scene.workers {
                assert!((0..3).all(|a| (w.position[a] - center[a]).abs() <= half[a]));
            }
        }
    }

    #[test]
    fn render_workers_go_through_the_bus_and_the_trader_bypasses_it() {
        let scene = layout(&mock_fleet(0, 6));
        assert_eq!(scene.hosts[0].name, "nas");
        assert!(scene.hosts[0].queue_host);
        let route = |name: &str| scene.routes.iter().find(|r| r.worker == name).unwrap();
        assert_eq!(route("music-render").points[0], scene.bus);
        assert_eq!(route("music-render").link_type, LinkType::RedisQueue);
        let trade = route("ai_trade");
        assert_eq!(trade.link_type, LinkType::HttpPull);
        assert_eq!(trade.points[0], scene.trunk[0]);
        assert!(!trade.points.contains(&scene.bus));
        // The watcher has no link.
        assert!(scene.routes.iter().all(|r| r.worker != "task-watcher"));
        assert_eq!(scene.routes.len(), 5);
    }

    #[test]
    fn workers_without_a_host_still_get_a_place() {
        let mut nodes = mock_fleet(0, 6);
        nodes.workers[0].host = None;
        let scene = layout(&nodes);
        assert!(scene.hosts.iter().any(|h| h.name == "?"));
    }

    #[test]
    fn past_a_few_hundred_workers_hosts_fold_to_their_problems() {
        let nodes = mock_fleet(0, 500);
        let problems: Vec<_> = nodes
            .workers
            .iter()
            .filter(|w| Condition::of(w).is_problem())
            .map(|w| w.name.clone())
            .collect();
        let scene = layout(&nodes);
        let drawn: Vec<_> = scene.workers.iter().map(|w| w.name.clone()).collect();
        let seeds_host = 6; // `windows` folds too: only its problems are drawn
        assert!(
            problems.iter().all(|p| drawn.contains(p)),
            "every problem is drawn"
        );
        assert!(
            drawn.len() < problems.len() + seeds_host + 1,
            "{}",
            drawn.len()
        );
        let folded: usize = scene.hosts.iter().map(|h| h.folded).sum();
        assert_eq!(
            folded + drawn.len(),
            500,
            "every worker is drawn or counted"
        );

        // Opened, a host draws all its workers; below the threshold nothing folds.
        let open = Fold {
            open: vec!["gpu-02".into()],
            ..Fold::default()
        };
        let scene = layout_folded(&nodes, &open);
        let gpu2 = scene.hosts.iter().find(|h| h.name == "gpu-02").unwrap();
        assert_eq!(gpu2.folded, 0);
        let on_gpu2 = nodes
            .workers
            .iter()
            .filter(|w| w.host.as_deref() == Some("gpu-02"));
        assert!(on_gpu2.clone().count() > 30);
        for w in on_gpu2 {
            assert!(scene.workers.iter().any(|s| s.name == w.name), "{}", w.name);
        }
        assert!(layout(&mock_fleet(0, 300))
            .hosts
            .iter()
            .all(|h| h.folded == 0));
    }

    #[test]
    fn points_along_a_polyline_are_by_length() {
        let line = [[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [1.0, 3.0, 0.0]];
        assert_eq!(point_along(&line, 0.0), [0.0, 0.0, 0.0]);
        assert_eq!(point_along(&line, 0.25), [1.0, 0.0, 0.0]);
        assert_eq!(point_along(&line, 1.0), [1.0, 3.0, 0.0]);
    }
}
