//! Whether a stream entry is a request the agent will act on: pure, so every way of being
//! refused is tested without Redis.
//!
//! An entry must carry exactly one field, `request`, holding a [`Request`] (which itself refuses
//! any field too many, such as an argv); its worker must be in the allow-list. Nothing from the
//! entry ever reaches a command line: the commands come from the allow-list alone.

use pulseboard_shared::agent::Request;

use super::allow_list::{AllowList, Entry};

/// A stream entry as read: its id and its fields (none when it was deleted meanwhile).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamEntry {
    /// The entry's stream id (`1700000000000-0`).
    pub id: String,
    /// Its fields and values, in order.
    pub fields: Vec<(String, Vec<u8>)>,
}

/// What to do with an entry.
#[derive(Debug)]
pub enum Admission<'a> {
    /// Act: the request and the allow-list's entry for its worker.
    Act {
        /// The request.
        request: Request,
        /// What the allow-list says for its worker.
        entry: &'a Entry,
    },
    /// Answer "refused" and run nothing.
    Refuse {
        /// The request's id when it can be read, else the entry's stream id.
        id: String,
        /// The worker it names, when it can be read.
        worker: String,
        /// Why.
        reason: String,
    },
}

/// Judges `entry` against `list`.
pub fn admit<'a>(entry: &StreamEntry, list: &'a AllowList) -> Admission<'a> {
    let refuse =
        |id: String, worker: String, reason: String| Admission::Refuse { id, worker, reason };
    let text = match entry.fields.as_slice() {
        [(name, value)] if name == "request" => String::from_utf8_lossy(value).into_owned(),
        [] => {
            return refuse(
                entry.id.clone(),
                String::new(),
                "the entry has no fields (deleted?)".into(),
            )
        }
        fields => {
            let (id, worker) = fields
                .iter()
                .find(|(name, _)| name == "request")
                .map(|(_, v)| lenient_names(&String::from_utf8_lossy(v)))
                .unwrap_or_default();
            let names: Vec<&str> = fields.iter().map(|(n, _)| n.as_str()).collect();
            return refuse(
                id.unwrap_or_else(|| entry.id.clone()),
                worker,
                format!(
                    "an entry carries exactly one field, `request`; this one has {}",
                    names.join(", ")
                ),
            );
        }
    };
    let request = match Request::parse(&text) {
        Ok(request) => request,
        Err(why) => {
            let (id, worker) = lenient_names(&text);
            return refuse(
                id.unwrap_or_else(|| entry.id.clone()),
                worker,
                why.to_string(),
            );
        }
    };
    match list.get(&request.worker) {
        Some(entry) => Admission::Act { request, entry },
        None => refuse(
            request.id.clone(),
            request.worker.clone(),
            format!("{} is not in the allow-list", request.worker),
        ),
    }
}

/// The `id` (1 to 64 characters) and `worker` of something that is not a valid request, when it
/// is a JSON object carrying them: so a refusal can still be matched to what was asked.
fn lenient_names(text: &str) -> (Option<String>, String) {
    let Ok(serde_json::Value::Object(map)) = serde_json::from_str(text) else {
        return (None, String::new());
    };
    let field = |name: &str| map.get(name).and_then(|v| v.as_str()).map(str::to_owned);
    let id = field("id").filter(|id| (1..=64).contains(&id.len()));
    let worker = field("worker")
        .filter(|w| w.len() <= 200)
        .unwrap_or_default();
    (id, worker)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn list() -> AllowList {
        AllowList::from_toml(
            "[workers.render-1]\nrestart = [\"/bin/sh\", \"restart\"]\n",
            Path::new("t.toml"),
        )
        .unwrap()
    }

    fn entry(fields: &[(&str, &str)]) -> StreamEntry {
        StreamEntry {
            id: "1-0".into(),
            fields: fields
                .iter()
                .map(|(n, v)| (n.to_string(), v.as_bytes().to_vec()))
                .collect(),
        }
    }

    const GOOD: &str = r#"{"id":"r-1","worker":"render-1","action":"restart","by":"ops","at":"2026-12-01T00:00:00Z"}"#;

    fn refusal(admission: Admission<'_>) -> (String, String, String) {
        match admission {
            Admission::Refuse { id, worker, reason } => (id, worker, reason),
            Admission::Act { request, .. } => panic!("acted on {request:?}"),
        }
    }

    #[test]
    fn an_allow_listed_worker_is_acted_on_with_the_listed_argv() {
        let list = list();
        let Admission::Act { request, entry } = admit(&entry(&[("request", GOOD)]), &list) else {
            panic!("refused");
        };
        assert_eq!(request.id, "r-1");
        assert_eq!(entry.restart, ["/bin/sh", "restart"]);
    }

    #[test]
    fn refusals_say_why_and_keep_what_can_be_read() {
        let list = list();
        let unknown = GOOD.replace("render-1", "mallory");
        let (id, worker, reason) = refusal(admit(&entry(&[("request", &unknown)]), &list));
        assert_eq!((id.as_str(), worker.as_str()), ("r-1", "mallory"));
        assert_eq!(reason, "mallory is not in the allow-list");

        let with_argv = GOOD.replace(r#""at""#, r#""argv":["/bin/rm","-rf","/"],"at""#);
        let (id, worker, reason) = refusal(admit(&entry(&[("request", &with_argv)]), &list));
        assert_eq!((id.as_str(), worker.as_str()), ("r-1", "render-1"));
        assert!(reason.contains("unknown field `argv`"), "{reason}");

        let (id, _, reason) = refusal(admit(
            &entry(&[("request", GOOD), ("argv", "/bin/rm -rf /")]),
            &list,
        ));
        assert_eq!(id, "r-1");
        assert!(reason.contains("has request, argv"), "{reason}");

        let (id, worker, reason) = refusal(admit(&entry(&[("argv", "/bin/rm")]), &list));
        assert_eq!((id.as_str(), worker.as_str()), ("1-0", ""));
        assert!(reason.contains("exactly one field"), "{reason}");

        let (id, _, reason) = refusal(admit(&entry(&[("request", "garbage")]), &list));
        assert_eq!(
            id, "1-0",
            "the stream id stands in for an unreadable request's"
        );
        assert!(reason.starts_with("not a request"), "{reason}");

        let (_, _, reason) = refusal(admit(&entry(&[]), &list));
        assert!(reason.contains("no fields"), "{reason}");

        let long_id = GOOD.replace("r-1", &"x".repeat(65));
        let (id, _, _) = refusal(admit(&entry(&[("request", &long_id)]), &list));
        assert_eq!(id, "1-0");
    }
}
