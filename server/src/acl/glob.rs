//! Redis's key patterns (`*`, `?`, `[abc]`, `[^a-z]`, `\x`), matched as Redis matches them
//! (`stringmatchlen`): to know whether a configured queue is already covered by `queue:*`, and
//! for the tests that check each role covers every key its code touches and no other's.

/// Whether `key` matches the Redis glob `pattern`.
pub fn matches(pattern: &str, key: &str) -> bool {
    match_from(pattern.as_bytes(), key.as_bytes())
}

fn match_from(mut p: &[u8], mut k: &[u8]) -> bool {
    while let Some(&c) = p.first() {
        match c {
            b'*' => {
                while p.first() == Some(&b'*') {
                    p = &p[1..];
                }
                if p.is_empty() {
                    return true;
                }
                return (0..=k.len()).any(|skip| match_from(p, &k[skip..]));
            }
            b'?' => {
                if k.is_empty() {
                    return false;
                }
                p = &p[1..];
                k = &k[1..];
            }
            b'[' => {
                let Some((&ch, rest)) = k.split_first() else {
                    return false;
                };
                let (hit, after) = class(&p[1..], ch);
                if !hit {
                    return false;
                }
                p = after;
                k = rest;
            }
            _ => {
                let (literal, after) = if c == b'\\' && p.len() >= 2 {
                    (p[1], &p[2..])
                } else {
                    (c, &p[1..])
                };
                if k.first() != Some(&literal) {
                    return false;
                }
                p = after;
                k = &k[1..];
            }
        }
    }
    k.is_empty()
}

/// Whether `ch` is in the class that starts at `p` (just after `[`), and the pattern after it.
fn class(mut p: &[u8], ch: u8) -> (bool, &[u8]) {
    let negate = p.first() == Some(&b'^');
    if negate {
        p = &p[1..];
    }
    let mut hit = false;
    loop {
        match p {
            [] => break,
            [b']', rest @ ..] => {
                p = rest;
                break;
            }
            [b'\\', c, rest @ ..] => {
                hit |= *c == ch;
                p = rest;
            }
            [a, b'-', b, rest @ ..] if *b != b']' => {
                let (lo, hi) = if a <= b { (*a, *b) } else { (*b, *a) };
                hit |= (lo..=hi).contains(&ch);
                p = rest;
            }
            [c, rest @ ..] => {
                hit |= *c == ch;
                p = rest;
            }
        }
    }
    (hit != negate, p)
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn as_redis_matches() {
        for (pattern, key, expected) in [
            ("worker:a:*", "worker:a:commands", true),
            ("worker:a:*", "worker:ab:commands", false),
            ("worker:*:heartbeat", "worker:gpu-1:heartbeat", true),
            ("worker:*:heartbeat", "worker:gpu-1:commands", false),
            ("queue:*", "queue:paused", true),
            ("queue:*", "dead_letter:queue:a", false),
            ("processing:queue:a:*", "processing:queue:a:1", true),
            ("processing:queue:a:*", "processing:queue:ab:1", false),
            ("a?c", "abc", true),
            ("a?c", "ac", false),
            ("a[bx]c", "axc", true),
            ("a[^bx]c", "axc", false),
            ("a[0-9]", "a7", true),
            ("a\\*", "a*", true),
            ("a\\*", "ab", false),
            ("exact", "exact", true),
            ("exact", "exactly", false),
            ("*", "", true),
        ] {
            assert_eq!(matches(pattern, key), expected, "{pattern} ~ {key}");
        }
    }
}
