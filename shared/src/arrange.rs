//! The order an operator reads the fleet in: filtered by the summary's chosen conditions and a
//! name search, grouped by host or kind, problems first everywhere (the most urgent condition
//! first, then by name). The page's 2D list shows these rows, a window of them at a time.

use std::collections::HashMap;

use crate::nodes::WorkerStatus;
use crate::summary::Condition;

/// How the list is grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Group {
    /// One list.
    #[default]
    None,
    /// Under a heading per host.
    Host,
    /// Under a heading per kind (render, watcher, trader).
    Kind,
}

impl Group {
    /// A stable spelling (the DOM, the page's address).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Host => "host",
            Self::Kind => "kind",
        }
    }

    /// The grouping spelled `text`; none for anything else.
    pub fn parse(text: &str) -> Self {
        match text {
            "host" => Self::Host,
            "kind" => Self::Kind,
            _ => Self::None,
        }
    }
}

/// What the operator asked to see.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Filter {
    /// Only workers in these conditions (all when empty).
    pub conditions: Vec<Condition>,
    /// Only workers whose name contains this, ignoring case (all when blank).
    pub search: String,
    /// The grouping.
    pub group: Group,
}

impl Filter {
    /// Whether `worker` (in `condition`) is shown.
    pub fn admits(&self, worker: &WorkerStatus, condition: Condition) -> bool {
        let search = self.search.trim();
        (self.conditions.is_empty() || self.conditions.contains(&condition))
            && (search.is_empty() || contains_ignoring_case(&worker.name, search))
    }
}

/// One row of the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Row {
    /// A group's heading: its name, how many of its workers are shown, how many have a problem.
    Heading {
        /// The host or kind.
        name: String,
        /// Workers shown under it.
        count: usize,
        /// Of which with a problem.
        problems: usize,
    },
    /// A worker, by its index in the snapshot's `workers`.
    Worker(usize),
}

/// The rows for `workers` under `filter`: groups with the most urgent worker first (then by
/// name), and within a group the most urgent first, then by name.
pub fn arrange(workers: &[WorkerStatus], filter: &Filter) -> Vec<Row> {
    let mut shown: Vec<(Condition, usize)> = workers
        .iter()
        .enumerate()
        .map(|(i, w)| (Condition::of(w), i))
        .filter(|(c, i)| filter.admits(&workers[*i], *c))
        .collect();
    let key = |i: usize| -> &str {
        let w = &workers[i];
        match filter.group {
            Group::None => "",
            Group::Host => w.host.as_deref().unwrap_or("?"),
            Group::Kind => w.kind.as_str(),
        }
    };
    // The most urgent condition in each group ranks the group.
    let mut worst: HashMap<&str, Condition> = HashMap::new();
    for (c, i) in &shown {
        let entry = worst.entry(key(*i)).or_insert(*c);
        *entry = (*entry).min(*c);
    }
    crate::sort::sort_by(&mut shown, |(ca, a), (cb, b)| {
        let (ga, gb) = (key(*a), key(*b));
        (worst[ga], ga, *ca, &workers[*a].name).cmp(&(worst[gb], gb, *cb, &workers[*b].name))
    });
    if filter.group == Group::None {
        return shown.into_iter().map(|(_, i)| Row::Worker(i)).collect();
    }
    let mut rows = Vec::with_capacity(shown.len() + worst.len());
    let mut start = 0;
    while start < shown.len() {
        let group = key(shown[start].1);
        let len = shown[start..]
            .iter()
            .take_while(|(_, i)| key(*i) == group)
            .count();
        let members = &shown[start..start + len];
        rows.push(Row::Heading {
            name: group.to_owned(),
            count: len,
            problems: members.iter().filter(|(c, _)| c.is_problem()).count(),
        });
        rows.extend(members.iter().map(|(_, i)| Row::Worker(*i)));
        start += len;
    }
    rows
}

/// The order labels are placed in the 3D view: problems first (most urgent first), then the rest,
/// each by name; the first ones are never hidden by later ones.
pub fn label_order(workers: &[WorkerStatus]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..workers.len()).collect();
    order.sort_by_cached_key(|&i| (Condition::of(&workers[i]), workers[i].name.clone()));
    order
}

fn contains_ignoring_case(haystack: &str, needle: &str) -> bool {
    if haystack.is_ascii() && needle.is_ascii() {
        let (h, n) = (haystack.as_bytes(), needle.as_bytes());
        return h.windows(n.len()).any(|w| w.eq_ignore_ascii_case(n));
    }
    haystack.to_lowercase().contains(&needle.to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mock::mock_fleet;
    use crate::summary::Summary;

    fn names(workers: &[WorkerStatus], rows: &[Row]) -> Vec<String> {
        rows.iter()
            .map(|r| match r {
                Row::Heading { name, .. } => format!("# {name}"),
                Row::Worker(i) => workers[*i].name.clone(),
            })
            .collect()
    }

    #[test]
    fn problems_come_first_then_names() {
        // The down act: video-render is down.
        let nodes = mock_fleet(3 * crate::mock::ACT_S + 1, 6);
        let rows = arrange(&nodes.workers, &Filter::default());
        let names = names(&nodes.workers, &rows);
        assert_eq!(names[0], "video-render");
        let rest = &names[1..];
        let mut sorted = rest.to_vec();
        sorted.sort();
        assert_eq!(rest, sorted, "the healthy ones by name");
    }

    #[test]
    fn conditions_and_search_filter_and_counts_agree_with_the_summary() {
        let nodes = mock_fleet(0, 500);
        let summary = Summary::of(&nodes.workers);
        for count in &summary.conditions {
            let filter = Filter {
                conditions: vec![count.condition],
                ..Filter::default()
            };
            assert_eq!(
                arrange(&nodes.workers, &filter).len() as u64,
                count.count,
                "{:?}",
                count.condition
            );
        }
        let search = Filter {
            search: "  RENDER-10 ".into(),
            ..Filter::default()
        };
        let found = names(&nodes.workers, &arrange(&nodes.workers, &search));
        assert_eq!(found.len(), 11, "render-10 and render-100..109: {found:?}");
        assert!(found.iter().all(|n| n.starts_with("render-10")));
        let nobody = Filter {
            search: "no such worker".into(),
            ..Filter::default()
        };
        assert!(arrange(&nodes.workers, &nobody).is_empty());
    }

    #[test]
    fn groups_with_problems_come_first_and_count_their_members() {
        let nodes = mock_fleet(0, 130);
        let by_host = Filter {
            group: Group::Host,
            ..Filter::default()
        };
        let rows = arrange(&nodes.workers, &by_host);
        let headings: Vec<_> = rows
            .iter()
            .filter_map(|r| match r {
                Row::Heading {
                    name,
                    count,
                    problems,
                } => Some((name.clone(), *count, *problems)),
                Row::Worker(_) => None,
            })
            .collect();
        assert_eq!(headings.len(), 5, "windows and gpu-01..04: {headings:?}");
        assert!(
            headings[0].2 > 0,
            "a host with a problem leads: {headings:?}"
        );
        let total: usize = headings.iter().map(|h| h.1).sum();
        assert_eq!(total, 130);
        // Every worker sits under its own host's heading.
        let mut current = String::new();
        for row in &rows {
            match row {
                Row::Heading { name, .. } => current.clone_from(name),
                Row::Worker(i) => {
                    assert_eq!(nodes.workers[*i].host.as_deref(), Some(current.as_str()))
                }
            }
        }
        let by_kind = Filter {
            group: Group::Kind,
            ..Filter::default()
        };
        let kinds = names(&nodes.workers, &arrange(&nodes.workers, &by_kind));
        assert_eq!(kinds.iter().filter(|n| n.starts_with("# ")).count(), 3);
    }

    #[test]
    fn labels_are_placed_problems_first() {
        let nodes = mock_fleet(3 * crate::mock::ACT_S + 1, 60);
        let order = label_order(&nodes.workers);
        let first = Condition::of(&nodes.workers[order[0]]);
        assert_eq!(first, Condition::Down);
        let conditions: Vec<_> = order
            .iter()
            .map(|&i| Condition::of(&nodes.workers[i]))
            .collect();
        assert!(conditions.windows(2).all(|w| w[0] <= w[1]));
    }
}
