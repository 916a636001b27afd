//! The Content-Security-Policy the page runs under: its own origin only, wasm allowed, and
//! trunk's one inline loader script allowed by its hash (never `'unsafe-inline'`).

use base64::Engine as _;
use sha2::{Digest, Sha256};

/// The policy for a page whose `index.html` is `index` (none: no inline script is allowed).
pub fn policy(index: Option<&[u8]>) -> String {
    let hashes: String = index
        .map(inline_scripts)
        .unwrap_or_default()
        .iter()
        .map(|script| {
            let digest = Sha256::digest(script.as_bytes());
            let hash = base64::engine::general_purpose::STANDARD.encode(digest);
            format!(" 'sha256-{hash}'")
        })
        .collect();
    format!(
        "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'{hashes}; style-src 'self'; \
         img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; \
         frame-ancestors 'none'"
    )
}

/// The text of every inline `<script>` (one without `src`), exactly as the browser hashes it.
fn inline_scripts(html: &[u8]) -> Vec<String> {
    let html = String::from_utf8_lossy(html);
    let mut scripts = Vec::new();
    let mut rest = &html[..];
    while let Some(open) = rest.find("<script") {
        let after = &rest[open..];
        let Some(tag_end) = after.find('>') else {
            break;
        };
        let tag = &after[..tag_end];
        let body = &after[tag_end + 1..];
        let Some(close) = body.find("</script>") else {
            break;
        };
        if !tag.contains("src=") {
            scripts.push(body[..close].to_owned());
        }
        rest = &body[close..];
    }
    scripts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_scripts_are_allowed_by_hash_and_external_ones_are_not_listed() {
        let html = b"<head><script src=\"/a.js\"></script>\n<script type=\"module\">\nrun()\n</script></head>";
        assert_eq!(inline_scripts(html), vec!["\nrun()\n".to_owned()]);
        let policy = policy(Some(html));
        // printf '\nrun()\n' | openssl dgst -sha256 -binary | base64
        assert!(
            policy.contains("'sha256-X8AAKgaI44zC2JgsZRJ4adpbl777tdE6qoD0mpUQwV4='"),
            "{policy}"
        );
        assert!(!policy.contains("unsafe-inline"), "{policy}");
        assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
    }

    #[test]
    fn without_a_page_no_inline_script_is_allowed() {
        assert!(!policy(None).contains("sha256"));
    }
}
