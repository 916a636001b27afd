//! Whether a stream entry is a request the agent will act on: pure, so every way of being
//! refused is tested without Redis.
//!
//! In order, an entry must: be at most [`MAX_ENTRY_BYTES`] (a larger one is not parsed); carry
//! exactly one field, `request`, holding a [`Request`] (which itself refuses any field too many,
//! such as an argv); be signed with the agent key, for this host, within the window
//! ([`verify_request`]); carry an id not taken from another entry within the window ([`Seen`]);
//! name a worker of the allow-list; and that worker must be under its churn limit ([`Churn`]).
//! The first check that fails is the [`Refusal`]. Nothing from the entry ever reaches a command
//! line: the commands come from the allow-list alone.

use std::time::Instant;

use pulseboard_shared::agent::key::AgentKeys;
use pulseboard_shared::agent::sign::verify_request;
use pulseboard_shared::agent::{Refusal, Request, MAX_ENTRY_BYTES};

use super::allow_list::{AllowList, Entry};
use super::memory::{Churn, Seen};

/// A stream entry as read: its id and its fields (none when it was deleted meanwhile).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamEntry {
    /// The entry's stream id (`1700000000000-0`).
    pub id: String,
    /// Its fields and values, in order.
    pub fields: Vec<(String, Vec<u8>)>,
}

impl StreamEntry {
    /// Its fields' names and values, in bytes.
    pub fn size(&self) -> usize {
        self.fields.iter().map(|(n, v)| n.len() + v.len()).sum()
    }
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
        reason: Refusal,
    },
}

/// What an entry is judged against.
pub struct Judge<'a> {
    /// This agent's host.
    pub host: &'a str,
    /// The keys shared with the server.
    pub keys: &'a AgentKeys,
    /// The workers it may act for.
    pub list: &'a AllowList,
    /// The ids it took within the window.
    pub seen: &'a Seen,
    /// The restarts it ran in the last hour.
    pub churn: &'a Churn,
    /// Now, in unix milliseconds (for the request's time).
    pub now_ms: i64,
    /// Now, on the agent's own clock (for the churn limit).
    pub now: Instant,
}

/// Judges `entry`.
pub fn admit<'a>(entry: &StreamEntry, judge: &Judge<'a>) -> Admission<'a> {
    let refuse =
        |id: String, worker: String, reason: Refusal| Admission::Refuse { id, worker, reason };
    let size = entry.size();
    if size > MAX_ENTRY_BYTES {
        return refuse(
            entry.id.clone(),
            String::new(),
            Refusal::TooLarge { bytes: size },
        );
    }
    let text = match entry.fields.as_slice() {
        [(name, value)] if name == "request" => String::from_utf8_lossy(value).into_owned(),
        [] => return refuse(entry.id.clone(), String::new(), Refusal::NoFields),
        fields => {
            let (id, worker) = fields
                .iter()
                .find(|(name, _)| name == "request")
                .map(|(_, v)| lenient_names(&String::from_utf8_lossy(v)))
                .unwrap_or_default();
            let names = fields.iter().map(|(n, _)| n.clone()).collect();
            return refuse(
                id.unwrap_or_else(|| entry.id.clone()),
                worker,
                Refusal::OtherFields(names),
            );
        }
    };
    let request = match Request::parse(&text) {
        Ok(request) => request,
        Err(why) => {
            let (id, worker) = lenient_names(&text);
            return refuse(id.unwrap_or_else(|| entry.id.clone()), worker, why);
        }
    };
    let checked = verify_request(judge.keys, judge.host, &request, judge.now_ms)
        .and_then(|()| judge.seen.check(&request.id, &entry.id, judge.now_ms));
    if let Err(why) = checked {
        return refuse(request.id, request.worker, why);
    }
    let Some(listed) = judge.list.get(&request.worker) else {
        let worker = request.worker.clone();
        return refuse(request.id, request.worker, Refusal::NotAllowListed(worker));
    };
    if let Err(why) = judge.churn.check(&request.worker, judge.now) {
        return refuse(request.id, request.worker, why);
    }
    Admission::Act {
        request,
        entry: listed,
    }
}

/// The request `entry` carries when it is one this agent would take now as far as it alone
/// says (its size, shape, signature, host and time).
pub fn signed(entry: &StreamEntry, keys: &AgentKeys, host: &str, now_ms: i64) -> Option<Request> {
    if entry.size() > MAX_ENTRY_BYTES {
        return None;
    }
    let [(name, value)] = entry.fields.as_slice() else {
        return None;
    };
    if name != "request" {
        return None;
    }
    let request = Request::parse(&String::from_utf8_lossy(value)).ok()?;
    verify_request(keys, host, &request, now_ms).ok()?;
    Some(request)
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
    use pulseboard_shared::agent::sign::sign_request;
    use pulseboard_shared::agent::{AgentAction, RefusalKind};
    use std::path::Path;

    const KEY: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    const OTHER: &str = "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae";
    /// 2026-12-01T00:00:00Z.
    const NOW_MS: i64 = 1_796_083_200_000;

    struct World {
        keys: AgentKeys,
        list: AllowList,
        seen: Seen,
        churn: Churn,
        now: Instant,
    }

    impl World {
        fn new() -> Self {
            Self {
                keys: AgentKeys::parse(KEY).unwrap(),
                list: AllowList::from_toml(
                    "[workers.render-1]\nrestart = [\"/bin/sh\", \"restart\"]\n",
                    Path::new("t.toml"),
                )
                .unwrap(),
                seen: Seen::default(),
                churn: Churn::new(2),
                now: Instant::now(),
            }
        }

        fn admit(&self, entry: &StreamEntry) -> Admission<'_> {
            admit(
                entry,
                &Judge {
                    host: "gpu-1",
                    keys: &self.keys,
                    list: &self.list,
                    seen: &self.seen,
                    churn: &self.churn,
                    now_ms: NOW_MS,
                    now: self.now,
                },
            )
        }

        fn refusal(&self, entry: &StreamEntry) -> (String, String, Refusal) {
            match self.admit(entry) {
                Admission::Refuse { id, worker, reason } => (id, worker, reason),
                Admission::Act { request, .. } => panic!("acted on {request:?}"),
            }
        }
    }

    fn request(worker: &str) -> Request {
        Request {
            id: "r-1".into(),
            host: "gpu-1".into(),
            worker: worker.into(),
            action: AgentAction::Restart,
            by: "ops".into(),
            at: "2026-12-01T00:00:00Z".into(),
            sig: String::new(),
        }
    }

    fn signed_json(mut r: Request, key: &str) -> String {
        sign_request(&AgentKeys::parse(key).unwrap(), &mut r);
        r.to_json()
    }

    fn entry(id: &str, fields: &[(&str, &str)]) -> StreamEntry {
        StreamEntry {
            id: id.into(),
            fields: fields
                .iter()
                .map(|(n, v)| (n.to_string(), v.as_bytes().to_vec()))
                .collect(),
        }
    }

    #[test]
    fn a_signed_request_for_an_allow_listed_worker_is_acted_on_with_the_listed_argv() {
        let world = World::new();
        let good = signed_json(request("render-1"), KEY);
        let Admission::Act { request, entry } = world.admit(&entry("1-0", &[("request", &good)]))
        else {
            panic!("refused");
        };
        assert_eq!(request.id, "r-1");
        assert_eq!(entry.restart, ["/bin/sh", "restart"]);
        // What the agent remembers at start: signed requests for this host within the window.
        let k = &world.keys;
        let carried = |json: &str| entry_of("1-0", json);
        assert!(signed(&carried(&good), k, "gpu-1", NOW_MS).is_some());
        assert!(signed(&carried(&good), k, "gpu-2", NOW_MS).is_none());
        let unsigned = self::request("render-1").to_json();
        assert!(signed(&carried(&unsigned), k, "gpu-1", NOW_MS).is_none());
        assert!(signed(&carried(&good), k, "gpu-1", NOW_MS + 3_600_000).is_none());
    }

    fn entry_of(id: &str, json: &str) -> StreamEntry {
        entry(id, &[("request", json)])
    }

    #[test]
    fn refusals_say_why_and_keep_what_can_be_read() {
        let world = World::new();
        let unknown = signed_json(request("mallory"), KEY);
        let (id, worker, reason) = world.refusal(&entry("1-0", &[("request", &unknown)]));
        assert_eq!((id.as_str(), worker.as_str()), ("r-1", "mallory"));
        assert_eq!(reason.to_string(), "mallory is not in the allow-list");

        let good = signed_json(request("render-1"), KEY);
        let with_argv = good.replace(r#""at""#, r#""argv":["/bin/rm","-rf","/"],"at""#);
        let (id, worker, reason) = world.refusal(&entry("1-0", &[("request", &with_argv)]));
        assert_eq!((id.as_str(), worker.as_str()), ("r-1", "render-1"));
        assert!(
            reason.to_string().contains("unknown field `argv`"),
            "{reason}"
        );

        let (id, _, reason) = world.refusal(&entry(
            "1-0",
            &[("request", &good), ("argv", "/bin/rm -rf /")],
        ));
        assert_eq!(id, "r-1");
        assert!(reason.to_string().contains("has request, argv"), "{reason}");

        let (id, worker, reason) = world.refusal(&entry("1-0", &[("argv", "/bin/rm")]));
        assert_eq!((id.as_str(), worker.as_str()), ("1-0", ""));
        assert!(reason.to_string().contains("exactly one field"), "{reason}");

        let (id, _, reason) = world.refusal(&entry("1-0", &[("request", "garbage")]));
        assert_eq!(
            id, "1-0",
            "the stream id stands in for an unreadable request's"
        );
        assert!(reason.to_string().starts_with("not a request"), "{reason}");

        let (_, _, reason) = world.refusal(&entry("1-0", &[]));
        assert_eq!(reason, Refusal::NoFields);

        let long_id = good.replace("r-1", &"x".repeat(65));
        let (id, _, reason) = world.refusal(&entry("1-0", &[("request", &long_id)]));
        assert_eq!((id.as_str(), reason), ("1-0", Refusal::BadId));
    }

    #[test]
    fn unsigned_forged_foreign_stale_replayed_large_and_churning_requests_are_refused() {
        let mut world = World::new();
        let kind = |world: &World, e: &StreamEntry| world.refusal(e).2.kind();
        let unsigned = request("render-1").to_json();
        assert_eq!(
            kind(&world, &entry("1-0", &[("request", &unsigned)])),
            RefusalKind::Unsigned
        );
        let forged = signed_json(request("render-1"), OTHER);
        assert_eq!(
            kind(&world, &entry("1-0", &[("request", &forged)])),
            RefusalKind::BadSignature
        );
        let elsewhere = signed_json(
            Request {
                host: "gpu-2".into(),
                ..request("render-1")
            },
            KEY,
        );
        assert_eq!(
            world.refusal(&entry("1-0", &[("request", &elsewhere)])).2,
            Refusal::WrongHost("gpu-2".into())
        );
        let stale = signed_json(
            Request {
                at: "2026-11-30T23:50:00Z".into(),
                ..request("render-1")
            },
            KEY,
        );
        assert_eq!(
            world.refusal(&entry("1-0", &[("request", &stale)])).2,
            Refusal::Stale { age_s: 600 }
        );
        let huge = format!("{{\"id\":\"{}\"}}", "x".repeat(MAX_ENTRY_BYTES));
        let (id, _, reason) = world.refusal(&entry("1-0", &[("request", &huge)]));
        assert_eq!(id, "1-0", "not parsed");
        assert_eq!(reason.kind(), RefusalKind::TooLarge);

        let good = signed_json(request("render-1"), KEY);
        world.seen.remember("r-1", "1-0", NOW_MS, NOW_MS);
        assert!(matches!(
            world.admit(&entry("1-0", &[("request", &good)])),
            Admission::Act { .. }
        ));
        assert_eq!(
            world.refusal(&entry("2-0", &[("request", &good)])).2,
            Refusal::Replayed
        );
        world.churn.record("render-1", world.now);
        world.churn.record("render-1", world.now);
        assert_eq!(
            world.refusal(&entry("1-0", &[("request", &good)])).2,
            Refusal::ChurnLimit { max: 2 }
        );
    }
}
