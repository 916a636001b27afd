//! Throughput over time: per step (a minute, or an hour) the jobs done and failed, the queue
//! depth, jobs in flight and dead letters at its end, and the seconds down within it. The points
//! are stored as short text lines (`t,done,failed,queue,processing,dead,down`), newest first.

use serde::{Deserialize, Serialize};

/// One step of a series.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HistoryPoint {
    /// The step's start, unix seconds.
    pub t: u64,
    /// Jobs done within it (from the beats' counters; a restart's reset counts from zero).
    pub done: u64,
    /// Jobs failed within it.
    pub failed: u64,
    /// Jobs waiting at its end.
    pub queue_depth: u64,
    /// Jobs in flight at its end.
    pub processing: u64,
    /// Dead letters at its end.
    pub dead_letter: u64,
    /// Seconds down within it.
    pub down_s: u64,
}

impl HistoryPoint {
    /// The point as stored.
    pub fn to_line(&self) -> String {
        format!(
            "{},{},{},{},{},{},{}",
            self.t,
            self.done,
            self.failed,
            self.queue_depth,
            self.processing,
            self.dead_letter,
            self.down_s
        )
    }

    /// A stored point; `None` for anything else (a line is at most 160 bytes).
    pub fn from_line(line: &str) -> Option<Self> {
        if line.len() > 160 {
            return None;
        }
        let mut n = line.split(',').map(|v| v.parse::<u64>().ok());
        let mut next = || n.next().flatten();
        let p = Self {
            t: next()?,
            done: next()?,
            failed: next()?,
            queue_depth: next()?,
            processing: next()?,
            dead_letter: next()?,
            down_s: next()?,
        };
        n.next().is_none().then_some(p)
    }

    /// Adds `later`, a step after this one, into this one: counts add up, levels are the later.
    pub fn absorb(&mut self, later: &Self) {
        self.done += later.done;
        self.failed += later.failed;
        self.down_s += later.down_s;
        self.queue_depth = later.queue_depth;
        self.processing = later.processing;
        self.dead_letter = later.dead_letter;
    }
}

/// `GET /api/agent-office/history`: a series, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct History {
    /// The worker, or none for the whole fleet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worker: Option<String>,
    /// Seconds per point.
    pub step_s: u64,
    /// Oldest first.
    pub points: Vec<HistoryPoint>,
}

/// `GET /api/agent-office/history/sparklines`: the last points of several workers on one grid of
/// steps, for the small charts on cards and rows (two numbers a step, not seven).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Sparklines {
    /// Seconds per slot.
    pub step_s: u64,
    /// The first slot's start, unix seconds: slot `i` starts at `since + i * step_s`, and the
    /// last is the newest step any of the workers has a point for.
    pub since: u64,
    /// The workers asked for that have a point in the grid, in the order asked.
    pub workers: Vec<Sparkline>,
}

/// One worker's slots; `null` where no point was written (pulseboard or the worker was away).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Sparkline {
    /// The worker.
    pub worker: String,
    /// Jobs done within each slot.
    pub done: Vec<Option<u64>>,
    /// Jobs waiting at each slot's end.
    pub queue_depth: Vec<Option<u64>>,
}

impl Sparklines {
    /// `slots` steps of `step_s` ending at the newest point of any of `series` (each a worker
    /// and its points, in any order); a point off the grid (older, or not on a step) is left out.
    pub fn on_grid(step_s: u64, slots: usize, series: Vec<(String, Vec<HistoryPoint>)>) -> Self {
        let step_s = step_s.max(1);
        let newest = series.iter().flat_map(|(_, p)| p).map(|p| p.t).max();
        let Some(newest) = newest else {
            return Self {
                step_s,
                ..Self::default()
            };
        };
        let since = newest.saturating_sub(step_s * slots.saturating_sub(1) as u64);
        let slot = |t: u64| {
            let i = (t.checked_sub(since)? % step_s == 0).then(|| (t - since) / step_s)?;
            usize::try_from(i).ok().filter(|&i| i < slots)
        };
        let workers = series
            .into_iter()
            .filter_map(|(worker, points)| {
                let mut line = Sparkline {
                    worker,
                    done: vec![None; slots],
                    queue_depth: vec![None; slots],
                };
                let mut any = false;
                for p in points {
                    if let Some(i) = slot(p.t) {
                        (line.done[i], line.queue_depth[i]) = (Some(p.done), Some(p.queue_depth));
                        any = true;
                    }
                }
                any.then_some(line)
            })
            .collect();
        Self {
            step_s,
            since,
            workers,
        }
    }
}

/// Jobs counted between two readings of a beat's counter: the growth, or (the counter went back:
/// a restart) the new value.
pub fn counted(before: u64, now: u64) -> u64 {
    if now >= before {
        now - before
    } else {
        now
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparklines_share_one_grid_ending_at_the_newest_point() {
        let at = |t, done, queue_depth| HistoryPoint {
            t,
            done,
            queue_depth,
            ..HistoryPoint::default()
        };
        let lines = Sparklines::on_grid(
            60,
            3,
            vec![
                (
                    "a".into(),
                    vec![at(600, 5, 1), at(540, 4, 0), at(420, 9, 9)],
                ),
                ("b".into(), vec![at(480, 2, 7), at(490, 1, 1)]),
                ("c".into(), vec![]),
            ],
        );
        assert_eq!(lines.since, 480);
        assert_eq!(
            lines.workers,
            vec![
                Sparkline {
                    worker: "a".into(),
                    done: vec![None, Some(4), Some(5)],
                    queue_depth: vec![None, Some(0), Some(1)],
                },
                Sparkline {
                    worker: "b".into(),
                    done: vec![Some(2), None, None],
                    queue_depth: vec![Some(7), None, None],
                },
            ],
            "a's 420 is before the grid, b's 490 is not on a step, c has nothing"
        );
        assert_eq!(Sparklines::on_grid(60, 3, vec![]).workers, vec![]);
    }

    #[test]
    fn a_point_survives_its_line_and_garbage_does_not_parse() {
        let p = HistoryPoint {
            t: 1_800_000_000,
            done: 12,
            failed: 1,
            queue_depth: 3,
            processing: 1,
            dead_letter: 2,
            down_s: 0,
        };
        assert_eq!(HistoryPoint::from_line(&p.to_line()), Some(p));
        for bad in [
            "",
            "1,2,3",
            "1,2,3,4,5,6,7,8",
            "a,b,c,d,e,f,g",
            "1,2,3,4,5,6,-7",
        ] {
            assert_eq!(HistoryPoint::from_line(bad), None, "{bad}");
        }
        assert_eq!(
            (counted(10, 15), counted(10, 3)),
            (5, 3),
            "a restart counts from zero"
        );
    }
}
