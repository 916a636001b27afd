//! The acknowledgements in Redis: one JSON array at `pulseboard:alerts:acks`, changed only by a
//! script (the first acknowledgement of an alert wins; older than a week or beyond `MAX_ACKS`
//! they are dropped, the oldest first), and read with a bound by every refresh for the alerts'
//! judge (anyone who writes Redis can write it: garbage counts as none).

use pulseboard_shared::ack::{Ack, KEEP_ACKS_S, MAX_ACKS};
use redis::Script;

use super::store::{Store, StoreError};
use crate::reader::Bounded;

/// The most bytes the array may hold: an acknowledgement is under 400 bytes (a 48-byte id, a
/// 64-character name of up to 4 bytes each).
pub const MAX_BYTES: usize = MAX_ACKS * 512;

/// KEYS: the array. ARGV: now (unix s), the acknowledgement (JSON), its alert's id, the most
/// kept, how long they are kept (s). Returns '' when it was added, or the JSON of the one that
/// was there first.
const ADD: &str = r"
local kept = {}
local raw = redis.call('GET', KEYS[1])
if raw then
  local ok, list = pcall(cjson.decode, raw)
  if ok and type(list) == 'table' then
    for _, a in ipairs(list) do
      if type(a) == 'table' and tonumber(a['at']) and tonumber(a['at']) + tonumber(ARGV[5]) > tonumber(ARGV[1]) then
        if a['id'] == ARGV[3] then return cjson.encode(a) end
        table.insert(kept, a)
      end
    end
  end
end
table.insert(kept, cjson.decode(ARGV[2]))
while #kept > tonumber(ARGV[4]) do table.remove(kept, 1) end
redis.call('SET', KEYS[1], cjson.encode(kept))
return ''
";

/// How adding an acknowledgement went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Added {
    /// It is the first.
    New,
    /// Someone acknowledged it first (their acknowledgement).
    Already(Box<Ack>),
}

/// Adds `ack` unless its alert was acknowledged already.
pub async fn add(store: &Store, ack: &Ack) -> Result<Added, StoreError> {
    let mut conn = store.conn().await?;
    let json = serde_json::to_string(ack).expect("an acknowledgement serialises");
    let reply: String = Script::new(ADD)
        .key(store.keys.acks())
        .arg(ack.at)
        .arg(json)
        .arg(&ack.id)
        .arg(MAX_ACKS)
        .arg(KEEP_ACKS_S)
        .invoke_async(&mut conn)
        .await?;
    if reply.is_empty() {
        return Ok(Added::New);
    }
    // What the script found parses: it was stored by this script. If a hand-written value does
    // not, it is still someone else's first.
    Ok(Added::Already(Box::new(
        serde_json::from_str(&reply).unwrap_or_else(|_| Ack {
            by: "?".into(),
            ..ack.clone()
        }),
    )))
}

/// The acknowledgements in a stored value; none when absent, over [`MAX_BYTES`] or unreadable.
/// Entries that do not parse are skipped.
pub fn parse(value: &Bounded) -> Vec<Ack> {
    value.json_items(MAX_ACKS)
}
