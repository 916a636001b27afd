//! The silences in Redis: one JSON array at `pulseboard:alerts:silences`, changed only by a
//! script (add or end one, dropping the ended ones, at most `MAX_SILENCES`) so two servers never
//! lose each other's, and read with a bound by every refresh (anyone who writes Redis can write
//! it: a value over its bound, or garbage, counts as no silences and is reported).

use pulseboard_shared::silence::{Silence, MAX_SILENCES};
use redis::Script;

use super::store::{Store, StoreError};
use crate::reader::Bounded;

/// The most bytes the array may hold: a silence is under 600 bytes (a 100-byte name, a
/// 200-character reason of up to 4 bytes each, the token's name).
pub const MAX_BYTES: usize = MAX_SILENCES * 1536;

/// KEYS: the array. ARGV: now (unix s), a silence to add (JSON, or ''), an id to end (or ''),
/// the most silences. Returns the count kept, -1 when full, -2 when the id to end was absent.
const CHANGE: &str = r"
local kept, found = {}, false
local raw = redis.call('GET', KEYS[1])
if raw then
  local ok, list = pcall(cjson.decode, raw)
  if ok and type(list) == 'table' then
    for _, s in ipairs(list) do
      if type(s) == 'table' and tonumber(s['until']) and tonumber(s['until']) > tonumber(ARGV[1]) then
        if s['id'] == ARGV[3] then found = true else table.insert(kept, s) end
      end
    end
  end
end
if ARGV[3] ~= '' and not found then return -2 end
if ARGV[2] ~= '' then
  if #kept >= tonumber(ARGV[4]) then return -1 end
  table.insert(kept, cjson.decode(ARGV[2]))
end
if #kept == 0 then
  redis.call('DEL', KEYS[1])
else
  redis.call('SET', KEYS[1], cjson.encode(kept))
end
return #kept
";

/// How a change went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Changed {
    /// Done; this many silences are in force.
    Done(u64),
    /// `MAX_SILENCES` are in force already.
    Full,
    /// No silence in force has that id.
    NotFound,
}

async fn change(store: &Store, now: u64, add: &str, end: &str) -> Result<Changed, StoreError> {
    let mut conn = store.conn().await?;
    let reply: i64 = Script::new(CHANGE)
        .key(store.keys.silences())
        .arg(now)
        .arg(add)
        .arg(end)
        .arg(MAX_SILENCES)
        .invoke_async(&mut conn)
        .await?;
    Ok(match reply {
        -1 => Changed::Full,
        -2 => Changed::NotFound,
        n => Changed::Done(n.max(0) as u64),
    })
}

/// Adds `silence`.
pub async fn add(store: &Store, silence: &Silence, now: u64) -> Result<Changed, StoreError> {
    let json = serde_json::to_string(silence).expect("a silence serialises");
    change(store, now, &json, "").await
}

/// Ends the silence `id` now.
pub async fn end(store: &Store, id: &str, now: u64) -> Result<Changed, StoreError> {
    change(store, now, "", id).await
}

/// The silences as stored (ended ones included until the next change drops them).
pub async fn read(store: &Store) -> Result<Vec<Silence>, StoreError> {
    let mut conn = store.conn().await?;
    let mut pipe = redis::pipe();
    crate::reader::bounded::get_bounded(&mut pipe, &store.keys.silences(), MAX_BYTES);
    let (reply,): (redis::Value,) = pipe.query_async(&mut conn).await?;
    Ok(parse(&crate::reader::bounded::judge(reply, MAX_BYTES)))
}

/// The problem with a stored value over [`MAX_BYTES`], for the refresher's log.
pub fn oversized(value: &Bounded) -> Option<(String, String)> {
    let Bounded::TooLarge { max } = value else {
        return None;
    };
    let problem = format!(
        "larger than {}: ignored",
        crate::reader::bounded::describe(*max)
    );
    Some(("silences".into(), problem))
}

/// The silences in a stored value; none when absent, over [`MAX_BYTES`] or unreadable (an empty
/// array is `{}` to Redis's Lua, so that is none too). Entries that do not parse are skipped.
pub fn parse(value: &Bounded) -> Vec<Silence> {
    value.json_items(MAX_SILENCES)
}
