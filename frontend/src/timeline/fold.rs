//! One line per incident: the timeline folds the entries that say the same thing (a host's down
//! alerts and their summary, the guard's "blocked: every worker on windows is down" for each of
//! its workers) under one head, which the reader may expand. Pure and generic, so it is tested
//! without a browser.

/// One line of the timeline: its head, and the entries folded under it (newest first).
#[derive(Debug, Clone, PartialEq)]
pub struct Row<T> {
    /// What the line says.
    pub head: T,
    /// The rest of its incident.
    pub more: Vec<T>,
}

/// Folds `entries` (newest first) into rows: entries whose `key` is equal share one row, in the
/// place of the newest of them. `key` also says whether an entry may lead its row (a host's
/// summary or an incident's first alert may; an alert grouped into the incident, or a delivery,
/// only when nothing better is at hand). Entries without a key are rows of their own.
pub fn fold<T, K: PartialEq>(
    entries: Vec<T>,
    key: impl Fn(&T) -> Option<(K, bool)>,
) -> Vec<Row<T>> {
    let mut rows: Vec<(Option<K>, bool, Row<T>)> = Vec::new();
    for entry in entries {
        let Some((k, leads)) = key(&entry) else {
            rows.push((None, false, row(entry)));
            continue;
        };
        match rows.iter_mut().find(|(rk, _, _)| rk.as_ref() == Some(&k)) {
            // The first that may lead takes the head; the stand-in joins the rest.
            Some((_, led, r)) if leads && !*led => {
                let stand_in = std::mem::replace(&mut r.head, entry);
                r.more.insert(0, stand_in);
                *led = true;
            }
            Some((_, _, r)) => r.more.push(entry),
            None => rows.push((Some(k), leads, row(entry))),
        }
    }
    rows.into_iter().map(|(_, _, r)| r).collect()
}

fn row<T>(head: T) -> Row<T> {
    Row {
        head,
        more: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An entry: its name, and its key with whether it may lead.
    type E = (&'static str, Option<(u8, bool)>);

    fn heads_and_more(rows: &[Row<E>]) -> Vec<(&'static str, Vec<&'static str>)> {
        rows.iter()
            .map(|r| (r.head.0, r.more.iter().map(|e| e.0).collect()))
            .collect()
    }

    #[test]
    fn a_host_outage_is_one_line_led_by_its_summary() {
        // Newest first: the summary, a delivery of the first alert, the grouped, the first.
        let entries: Vec<E> = vec![
            ("summary", Some((1, true))),
            ("other", None),
            ("delivered", Some((1, false))),
            ("r2 grouped", Some((1, false))),
            ("r1 grouped", Some((1, false))),
            ("r0 first", Some((1, true))),
        ];
        let rows = fold(entries, |e| e.1);
        assert_eq!(
            heads_and_more(&rows),
            [
                (
                    "summary",
                    vec!["delivered", "r2 grouped", "r1 grouped", "r0 first"]
                ),
                ("other", vec![])
            ]
        );
    }

    #[test]
    fn a_grouped_entry_stands_in_until_one_that_may_lead_comes() {
        let entries: Vec<E> = vec![
            ("r2 grouped", Some((1, false))),
            ("blocked r5", Some((2, true))),
            ("r1 grouped", Some((1, false))),
            ("blocked r4", Some((2, true))),
            ("r0 first", Some((1, true))),
        ];
        let rows = fold(entries, |e| e.1);
        assert_eq!(
            heads_and_more(&rows),
            [
                ("r0 first", vec!["r2 grouped", "r1 grouped"]),
                ("blocked r5", vec!["blocked r4"])
            ]
        );
        let alone = fold(vec![("r1 grouped", Some((1, false)))], |e: &E| e.1);
        assert_eq!(heads_and_more(&alone), [("r1 grouped", vec![])]);
    }
}
