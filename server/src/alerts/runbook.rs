//! Links from an alert to its section of `docs/runbook.md`: the section's anchor is the alert's
//! kind as JSON spells it (`down`, `dead_letters`), so a link needs no table of its own.

use super::alert::AlertKind;

/// `base#kind`: the runbook section for alerts of `kind`, `base` being where the operator
/// publishes `docs/runbook.md` (`[alerts] runbook_url`).
pub fn link(base: &str, kind: AlertKind) -> String {
    format!("{base}#{}", anchor(kind))
}

/// The section's anchor: the kind's JSON name.
pub fn anchor(kind: AlertKind) -> String {
    match serde_json::to_value(kind) {
        Ok(serde_json::Value::String(name)) => name,
        // A unit variant always serialises to its name.
        _ => unreachable!("an alert kind serialises to a string"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RUNBOOK: &str = include_str!("../../../docs/runbook.md");

    #[test]
    fn every_problem_the_page_links_is_an_alert_kinds_section() {
        use pulseboard_shared::nodes::Condition;
        let anchors: Vec<String> = AlertKind::ALL.into_iter().map(anchor).collect();
        for c in Condition::ALL {
            let linked = c.runbook_anchor();
            assert_eq!(linked.is_some(), c.is_problem(), "{c:?}");
            if let Some(a) = linked {
                assert!(anchors.iter().any(|k| k == a), "{a} is no alert kind");
            }
        }
    }

    #[test]
    fn every_alert_kind_has_exactly_one_section() {
        for kind in AlertKind::ALL {
            let tag = format!("<a id=\"{}\"></a>", anchor(kind));
            let found = RUNBOOK.matches(&tag).count();
            assert_eq!(found, 1, "{tag} appears {found} times in docs/runbook.md");
            // The anchor heads a section, so the link lands on its title.
            let after = RUNBOOK.split(&tag).nth(1).unwrap_or_default();
            assert!(
                after.trim_start().starts_with("## "),
                "{tag} is not above a heading"
            );
        }
    }

    #[test]
    fn a_link_is_the_base_and_the_kind() {
        assert_eq!(
            link("https://wiki.example/runbook", AlertKind::DeadLetters),
            "https://wiki.example/runbook#dead_letters"
        );
    }

    /// A new kind does not compile here until it has its place in `ALL`, and so in the check
    /// above.
    #[test]
    fn all_lists_every_kind() {
        fn place(kind: AlertKind) -> usize {
            use AlertKind::*;
            match kind {
                Down => 0,
                Recovered => 1,
                DeadAtStart => 2,
                DeadLetters => 3,
                RedisLost => 4,
                RedisBack => 5,
                Flapping => 6,
                Settled => 7,
                Stopped => 8,
                Started => 9,
                FailedToStart => 10,
                Unhealthy => 11,
                Stalled => 12,
                Late => 13,
                RecoveryActed => 14,
                RecoveryFailed => 15,
                CircuitOpen => 16,
                HoldSet => 17,
                HoldLifted => 18,
                JobsRescued => 19,
                JobsQuarantined => 20,
                JobsOrphaned => 21,
                HostDown => 22,
                HostRecovered => 23,
                Acknowledged => 24,
                StillOpen => 25,
                Drift => 26,
                DriftCleared => 27,
            }
        }
        for (n, kind) in AlertKind::ALL.into_iter().enumerate() {
            assert_eq!(place(kind), n, "{kind:?}");
        }
    }
}
