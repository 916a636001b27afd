//! What of a dead letter is shown: a preview and the parsed payload, with secrets masked. Pure.

use pulseboard_shared::dead_letters::{DeadLetter, MAX_JSON_BYTES, PREVIEW_BYTES};
use serde_json::Value;

use super::lists::Raw;

/// What a masked value is replaced by.
pub const MASK: &str = "***";

/// The entry at `index` as the API shows it, masking the values of the object keys in `redact`
/// (lowercase) at any depth. A JSON payload too large to parse here shows no preview: its start
/// could hold a secret that masking never saw.
pub fn show(raw: Raw, index: u64, redact: &[String]) -> DeadLetter {
    let whole = raw.size as usize <= MAX_JSON_BYTES && raw.head.len() as u64 == raw.size;
    let parsed = whole
        .then(|| serde_json::from_slice::<Value>(&raw.head).ok())
        .flatten();
    let (preview, json) = match parsed {
        Some(mut value) => {
            mask(&mut value, redact);
            let pretty = serde_json::to_string_pretty(&value).unwrap_or_default();
            (cut(&pretty), Some(value))
        }
        None if looks_like_json(&raw.head) => (String::new(), None),
        None => (cut(&String::from_utf8_lossy(&raw.head)), None),
    };
    DeadLetter {
        id: raw.id,
        index,
        size: raw.size,
        preview,
        json,
    }
}

/// Replaces the value of every object key named in `redact` (ignoring case) by [`MASK`].
pub fn mask(value: &mut Value, redact: &[String]) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                if redact.iter().any(|r| r.eq_ignore_ascii_case(key)) {
                    *v = Value::String(MASK.to_owned());
                } else {
                    mask(v, redact);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| mask(v, redact)),
        _ => {}
    }
}

fn looks_like_json(bytes: &[u8]) -> bool {
    matches!(
        bytes.iter().find(|b| !b.is_ascii_whitespace()),
        Some(b'{' | b'[')
    )
}

/// At most [`PREVIEW_BYTES`] of `text`, cut at a character boundary, with `…` when cut.
fn cut(text: &str) -> String {
    if text.len() <= PREVIEW_BYTES {
        return text.to_owned();
    }
    let mut end = PREVIEW_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(text: &str) -> Raw {
        Raw {
            id: "abc".into(),
            size: text.len() as u64,
            head: text.as_bytes().to_vec(),
        }
    }

    fn redact() -> Vec<String> {
        vec!["password".into(), "token".into()]
    }

    #[test]
    fn secrets_are_masked_at_any_depth_in_the_preview_and_the_json() {
        let shown = show(
            raw(r#"{"user":"kim","Password":"hunter2","jobs":[{"token":"t0k3n","n":1}]}"#),
            3,
            &redact(),
        );
        assert_eq!(shown.index, 3);
        for text in [shown.preview.clone(), shown.json.unwrap().to_string()] {
            assert!(
                !text.contains("hunter2") && !text.contains("t0k3n"),
                "{text}"
            );
            assert!(text.contains("kim") && text.contains(MASK), "{text}");
        }
        assert!(shown.preview.contains('\n'), "pretty: {}", shown.preview);
    }

    #[test]
    fn text_is_shown_as_it_is_and_cut_at_a_character() {
        let shown = show(raw(&"가".repeat(1000)), 0, &redact());
        assert_eq!(shown.json, None);
        assert!(shown.preview.len() <= PREVIEW_BYTES + '…'.len_utf8());
        assert!(shown.preview.ends_with('…'));
    }

    #[test]
    fn json_too_large_to_mask_is_not_previewed() {
        let big = format!(
            r#"{{"password":"hunter2","pad":"{}"}}"#,
            "x".repeat(MAX_JSON_BYTES)
        );
        let mut r = raw(&big);
        r.head.truncate(MAX_JSON_BYTES);
        let shown = show(r, 0, &redact());
        assert_eq!((shown.preview.as_str(), shown.json), ("", None));
        assert_eq!(shown.size, big.len() as u64);
    }
}
