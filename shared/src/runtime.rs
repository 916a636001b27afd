//! What each live worker runs, judged against what is expected of it ([`crate::drift`]): the
//! configured expectation, else the majority of its kind. Pure.

use std::borrow::Cow;
use std::collections::HashMap;

use crate::drift::{normalise, Drift, DriftField, Expected};
use crate::nodes::WorkerStatus;

/// The fewest workers of a kind reporting a field before their majority is an expectation.
pub const MAJORITY_OF_AT_LEAST: usize = 3;

/// `value` of `field` as it is compared: a path normalised (borrowed when it is already).
fn comparable(field: DriftField, value: &str) -> Cow<'_, str> {
    let untidy =
        value.contains("/.") || value.contains("//") || (value.len() > 1 && value.ends_with('/'));
    if field != DriftField::Executable || !untidy {
        Cow::Borrowed(value)
    } else {
        Cow::Owned(normalise(value))
    }
}

/// What live `w` reports of `field`, as it is compared.
fn reported(w: &WorkerStatus, field: DriftField) -> Option<Cow<'_, str>> {
    let d = w.declared.as_ref().filter(|_| w.alive)?;
    let value = match field {
        DriftField::Version => d.version.as_deref(),
        DriftField::Executable => d.executable.as_deref(),
        DriftField::ConfigHash => d.config_hash.as_deref(),
    }?;
    Some(comparable(field, value))
}

/// Sets each live worker's `drift` against `expected(worker)` or, for a field it leaves unsaid,
/// against the value a strict majority of the worker's kind reports (when at least
/// [`MAJORITY_OF_AT_LEAST`] of them report it). Returns whether any worker drifts. A fleet that
/// declares none of the fields costs one pass and no allocation.
pub fn judge<'a>(
    workers: &mut [WorkerStatus],
    expected: impl Fn(&WorkerStatus) -> Option<&'a Expected>,
) -> bool {
    let found: Vec<(usize, Vec<Drift>)> = {
        let mut tallies: HashMap<(&str, DriftField), HashMap<Cow<'_, str>, usize>> = HashMap::new();
        for w in workers.iter() {
            for field in DriftField::ALL {
                if let Some(value) = reported(w, field) {
                    let tally = tallies.entry((w.kind.as_str(), field)).or_default();
                    *tally.entry(value).or_default() += 1;
                }
            }
        }
        let mut majority: HashMap<(&str, DriftField), Cow<'_, str>> = HashMap::new();
        for (key, tally) in tallies {
            let total: usize = tally.values().sum();
            let most = tally.into_iter().find(|(_, n)| 2 * n > total);
            if let (true, Some((value, _))) = (total >= MAJORITY_OF_AT_LEAST, most) {
                majority.insert(key, value);
            }
        }
        let mut found = Vec::new();
        for (i, w) in workers.iter().enumerate() {
            let mut drift = Vec::new();
            for field in DriftField::ALL {
                let Some(actual) = reported(w, field) else {
                    continue;
                };
                let configured = expected(w)
                    .and_then(|e| e.get(field))
                    .map(|v| comparable(field, v));
                let by_majority = configured.is_none();
                let Some(want) =
                    configured.or_else(|| majority.get(&(w.kind.as_str(), field)).cloned())
                else {
                    continue;
                };
                if want != actual {
                    drift.push(Drift {
                        field,
                        expected: want.into_owned(),
                        actual: actual.into_owned(),
                        by_majority,
                    });
                }
            }
            if !drift.is_empty() || !w.drift.is_empty() {
                found.push((i, drift));
            }
        }
        found
    };
    let mut any = false;
    for (i, drift) in found {
        any |= !drift.is_empty();
        workers[i].drift = drift;
    }
    any
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::heartbeat::Declared;
    use crate::nodes::WorkerKind;
    use crate::summary::Condition;

    fn worker(name: &str, version: &str, executable: &str) -> WorkerStatus {
        let mut w = WorkerStatus::new(name, WorkerKind::Render);
        w.alive = true;
        w.declared = Some(Declared {
            version: Some(version.into()),
            executable: Some(executable.into()),
            ..Declared::default()
        });
        w
    }

    #[test]
    fn a_configured_version_is_expected_and_the_same_file_by_another_path_is_no_drift() {
        let mut fleet = vec![
            worker("r0", "1.4.2", "/bin/../usr/bin/sleep"),
            worker("r1", "1.4.1", "/usr/bin//sleep"),
        ];
        let want = Expected {
            version: Some("1.4.2".into()),
            executable: Some("/usr/bin/./sleep".into()),
            config_hash: None,
        };
        judge(&mut fleet, |_| Some(&want));
        assert!(fleet[0].drift.is_empty(), "{:?}", fleet[0].drift);
        assert_eq!(
            fleet[1].drift,
            [Drift {
                field: DriftField::Version,
                expected: "1.4.2".into(),
                actual: "1.4.1".into(),
                by_majority: false,
            }]
        );
    }

    #[test]
    fn without_one_the_majority_of_the_kind_is_expected() {
        let mut fleet: Vec<_> = (0..9)
            .map(|n| worker(&format!("r{n}"), "2.0", "/opt/r"))
            .collect();
        fleet.push(worker("old", "1.9", "/opt/r"));
        let mut down = worker("gone", "0.1", "/opt/r");
        down.alive = false;
        fleet.push(down);
        judge(&mut fleet, |_| None);
        let drifted: Vec<_> = fleet
            .iter()
            .filter(|w| !w.drift.is_empty())
            .map(|w| w.name.as_str())
            .collect();
        assert_eq!(drifted, ["old"], "a down worker is not judged");
        assert_eq!(Condition::of(&fleet[9]), Condition::Drift);
        assert!(fleet[9].drift[0].by_majority);
        // Two against two, or fewer than three reporting: no majority, no drift.
        let mut split = vec![
            worker("a", "1", "/x"),
            worker("b", "1", "/x"),
            worker("c", "2", "/x"),
            worker("d", "2", "/x"),
        ];
        judge(&mut split, |_| None);
        assert!(split.iter().all(|w| w.drift.is_empty()));
        let mut pair = vec![worker("a", "1", "/x"), worker("b", "2", "/x")];
        judge(&mut pair, |_| None);
        assert!(pair.iter().all(|w| w.drift.is_empty()));
    }

    #[test]
    fn normalising_is_lexical() {
        assert_eq!(normalise("/bin/../usr/bin/sleep"), "/usr/bin/sleep");
        assert_eq!(normalise("/a/./b//c/"), "/a/b/c");
        assert_eq!(normalise("/.."), "/");
        assert_eq!(normalise("rel/../x"), "x");
    }
}
