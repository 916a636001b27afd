//! The host agents' answers, read back for the guard, and trusted only as far as they prove.
//!
//! Anyone who can write Redis can write to `pulseboard:agent:results`, so an entry counts as
//! the answer to an action only when:
//! - it is at most [`MAX_ENTRY_BYTES`] (a larger one is not even sent over: the read is a script
//!   that replaces it by its size), and reads as a result;
//! - its signature is the agent key's ([`verify_result`]);
//! - it is not a refusal of an entry the agent could not trust (unsigned, forged, a copy): such
//!   an entry may carry the id of a real request, and its refusal must not settle that request;
//! - its id, host **and** worker are those of the action sent ([`Answers::take`]).
//!
//! Everything else is skipped and logged, one line per reason and minute ([`LogGate`]).

use std::collections::HashMap;
use std::time::Instant;

use pulseboard_shared::agent::key::AgentKeys;
use pulseboard_shared::agent::sign::verify_result;
use pulseboard_shared::agent::{AgentResult, MAX_ENTRY_BYTES, RESULTS_KEY};
use pulseboard_shared::recovery::ActionOutcome;
use redis::Value;

use crate::ledger::read_only;
use crate::ledger::store::{Store, StoreError};
use crate::log_gate::LogGate;

/// How many results one read takes.
const COUNT: usize = 100;

/// `XRANGE KEYS[1] ARGV[1] + COUNT ARGV[2]`, with every entry whose fields weigh more than
/// ARGV[3] bytes replaced by `too_large <bytes>`: only bounded entries cross the wire.
const READ: &str = r"
local entries = redis.call('XRANGE', KEYS[1], ARGV[1], '+', 'COUNT', tonumber(ARGV[2]))
local max = tonumber(ARGV[3])
for i, entry in ipairs(entries) do
  local size = 0
  for _, v in ipairs(entry[2]) do size = size + string.len(v) end
  if size > max then entries[i] = {entry[1], {'too_large', tostring(size)}} end
end
return entries
";

/// Why an entry of the results stream is not taken as anyone's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ignored {
    /// Larger than [`MAX_ENTRY_BYTES`].
    TooLarge,
    /// Not a `result` field holding a result.
    Unreadable,
    /// No signature.
    Unsigned,
    /// A signature the agent key does not make.
    BadSignature,
    /// The agent's refusal of an entry it could not trust.
    UntrustedRefusal,
    /// Its id is an action's, but not its host or worker.
    Mismatched,
}

impl Ignored {
    fn words(self) -> &'static str {
        match self {
            Self::TooLarge => "larger than an agent writes",
            Self::Unreadable => "not a result",
            Self::Unsigned => "not signed",
            Self::BadSignature => "not signed with the agent key (forged or altered)",
            Self::UntrustedRefusal => "a refusal of an entry the agent could not trust",
            Self::Mismatched => "its id is an action's but its host or worker is not",
        }
    }
}

/// What the guard's reads of the results stream log, one line per reason and minute.
#[derive(Debug, Default)]
pub struct Skipped(LogGate<Ignored>);

impl Skipped {
    /// Logs that entry `entry` (a stream id, or a result id) was ignored, unless that reason
    /// was logged less than a minute ago.
    pub fn note(&mut self, entry: &str, why: Ignored) {
        if let Some(not_logged) = self.0.pass(why, Instant::now()) {
            tracing::warn!(
                entry = ?entry,
                reason = why.words(),
                not_logged,
                "recovery: agent result ignored; it answers nothing"
            );
        }
    }
}

/// Whether `text` (the entry's `result` field; `None` without one) is a result the guard may
/// take: readable, signed with `keys`, not a refusal of an untrusted entry.
pub fn judge(keys: &AgentKeys, text: Option<&[u8]>) -> Result<AgentResult, Ignored> {
    let text = text.ok_or(Ignored::Unreadable)?;
    if text.len() > MAX_ENTRY_BYTES {
        return Err(Ignored::TooLarge);
    }
    let result: AgentResult = serde_json::from_slice(text).map_err(|_| Ignored::Unreadable)?;
    verify_result(keys, &result).map_err(|e| match e {
        pulseboard_shared::agent::sign::SignatureError::Missing => Ignored::Unsigned,
        pulseboard_shared::agent::sign::SignatureError::Wrong => Ignored::BadSignature,
    })?;
    if result
        .refused
        .is_some_and(|kind| !kind.answers_a_signed_request())
    {
        return Err(Ignored::UntrustedRefusal);
    }
    Ok(result)
}

/// The trusted results after `cursor` (an entry id; empty: from the start), at most
/// [`COUNT`], and the cursor after them. The rest is skipped and noted in `skipped`.
pub async fn read(
    store: &Store,
    keys: &AgentKeys,
    cursor: &str,
    skipped: &mut Skipped,
) -> Result<(Answers, String), StoreError> {
    let mut conn = store.conn().await?;
    let start = if cursor.is_empty() {
        "-".to_owned()
    } else {
        format!("({cursor}")
    };
    // Read-only: the server's Redis user may only read the agents' results.
    let args = [start, COUNT.to_string(), MAX_ENTRY_BYTES.to_string()];
    let reply: Value = read_only::invoke(&mut conn, READ, &[RESULTS_KEY], &args).await?;
    let mut next = cursor.to_owned();
    let mut answers = Answers::default();
    for (id, fields) in entries(reply) {
        let text = fields.iter().find(|(name, _)| name == b"result");
        let judged = if fields.iter().any(|(name, _)| name == b"too_large") {
            Err(Ignored::TooLarge)
        } else {
            judge(keys, text.map(|(_, v)| v.as_slice()))
        };
        match judged {
            Ok(result) => answers.add(result),
            Err(why) => skipped.note(&id, why),
        }
        next = id;
    }
    Ok((answers, next))
}

/// An entry's fields, as bytes: names and values.
type Fields = Vec<(Vec<u8>, Vec<u8>)>;

/// The entries of an XRANGE-shaped reply: each id with its fields; an entry of another shape
/// is left out (its id cannot be read either).
fn entries(reply: Value) -> Vec<(String, Fields)> {
    let Value::Array(entries) = reply else {
        return vec![];
    };
    let bytes = |v: &Value| match v {
        Value::BulkString(b) => Some(b.clone()),
        Value::SimpleString(s) => Some(s.clone().into_bytes()),
        _ => None,
    };
    entries
        .iter()
        .filter_map(|entry| {
            let Value::Array(parts) = entry else {
                return None;
            };
            let [id, Value::Array(flat)] = parts.as_slice() else {
                return None;
            };
            let id = String::from_utf8(bytes(id)?).ok()?;
            let fields = flat
                .chunks(2)
                .filter_map(|kv| Some((bytes(kv.first()?)?, bytes(kv.get(1)?)?)))
                .collect();
            Some((id, fields))
        })
        .collect()
}

/// Trusted results by request id (several may share one: another host's agent refusing a
/// request that was not for it, say).
#[derive(Debug, Default)]
pub struct Answers(HashMap<String, Vec<AgentResult>>);

impl Answers {
    /// Adds a trusted result.
    pub fn add(&mut self, result: AgentResult) {
        self.0.entry(result.id.clone()).or_default().push(result);
    }

    /// The answer to action `id`, sent to `host`'s agent for `worker`: the first result with
    /// that id, host and worker. A result with the id but another host or worker is noted in
    /// `skipped` and never taken.
    pub fn take(
        &mut self,
        id: &str,
        worker: &str,
        host: Option<&str>,
        skipped: &mut Skipped,
    ) -> Option<ActionOutcome> {
        let results = self.0.remove(id)?;
        let mut answer = None;
        for r in results {
            if answer.is_none() && r.worker == worker && Some(r.host.as_str()) == host {
                answer = Some(ActionOutcome::Agent {
                    outcome: r.outcome,
                    host: r.host,
                    exit_code: r.exit_code,
                    detail: r.detail,
                });
            } else if answer.is_none() {
                skipped.note(id, Ignored::Mismatched);
            }
        }
        answer
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pulseboard_shared::agent::sign::sign_result;
    use pulseboard_shared::agent::{Outcome, RefusalKind};

    const KEY: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    const OTHER: &str = "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae";

    fn keys(text: &str) -> AgentKeys {
        AgentKeys::parse(text).unwrap()
    }

    fn result(host: &str, worker: &str, outcome: Outcome) -> AgentResult {
        AgentResult {
            id: "r-1".into(),
            host: host.into(),
            worker: worker.into(),
            outcome,
            exit_code: None,
            duration_ms: 0,
            detail: String::new(),
            refused: None,
            at: "2026-12-01T00:00:00Z".into(),
            sig: String::new(),
        }
    }

    fn signed(mut r: AgentResult, key: &str) -> Vec<u8> {
        sign_result(&keys(key), &mut r);
        r.to_json().into_bytes()
    }

    #[test]
    fn only_signed_results_of_trusted_requests_are_taken() {
        let k = keys(KEY);
        let good = signed(result("gpu-1", "w", Outcome::Done), KEY);
        assert!(judge(&k, Some(&good)).is_ok());
        let unsigned = result("gpu-1", "w", Outcome::Done).to_json().into_bytes();
        assert_eq!(judge(&k, Some(&unsigned)).unwrap_err(), Ignored::Unsigned);
        let forged = signed(result("gpu-1", "w", Outcome::Failed), OTHER);
        assert_eq!(judge(&k, Some(&forged)).unwrap_err(), Ignored::BadSignature);
        let altered = String::from_utf8(good.clone())
            .unwrap()
            .replace("\"done\"", "\"failed\"");
        assert_eq!(
            judge(&k, Some(altered.as_bytes())).unwrap_err(),
            Ignored::BadSignature
        );
        assert_eq!(judge(&k, None).unwrap_err(), Ignored::Unreadable);
        assert_eq!(
            judge(&k, Some(b"garbage")).unwrap_err(),
            Ignored::Unreadable
        );
        let huge = vec![b'x'; MAX_ENTRY_BYTES + 1];
        assert_eq!(judge(&k, Some(&huge)).unwrap_err(), Ignored::TooLarge);
        let refusal_of_a_forgery = signed(
            AgentResult {
                refused: Some(RefusalKind::BadSignature),
                ..result("gpu-1", "w", Outcome::Refused)
            },
            KEY,
        );
        assert_eq!(
            judge(&k, Some(&refusal_of_a_forgery)).unwrap_err(),
            Ignored::UntrustedRefusal
        );
        let churn = signed(
            AgentResult {
                refused: Some(RefusalKind::ChurnLimit),
                ..result("gpu-1", "w", Outcome::Refused)
            },
            KEY,
        );
        assert!(
            judge(&k, Some(&churn)).is_ok(),
            "the agent's own limit answers"
        );
        let rotating = keys(&format!("{OTHER},{KEY}"));
        assert!(
            judge(&rotating, Some(&good)).is_ok(),
            "either key, in a rotation"
        );
    }

    #[test]
    fn an_answer_is_matched_by_id_host_and_worker() {
        let mut skipped = Skipped::default();
        let mut answers = Answers::default();
        answers.add(result("gpu-2", "w", Outcome::Refused));
        answers.add(result("gpu-1", "other", Outcome::Failed));
        answers.add(result("gpu-1", "w", Outcome::Done));
        let Some(ActionOutcome::Agent { outcome, host, .. }) =
            answers.take("r-1", "w", Some("gpu-1"), &mut skipped)
        else {
            panic!("no answer");
        };
        assert_eq!((outcome, host.as_str()), (Outcome::Done, "gpu-1"));
        let mut answers = Answers::default();
        answers.add(result("gpu-2", "w", Outcome::Done));
        assert_eq!(answers.take("r-1", "w", Some("gpu-1"), &mut skipped), None);
        assert_eq!(answers.take("r-9", "w", Some("gpu-1"), &mut skipped), None);
    }
}
