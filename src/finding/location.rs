//! Where a secret was found, and the snippet shown with it.

use std::ops::Range;

use serde::Serialize;

use crate::engine::lines::line_bounds;

/// Bytes of context kept on each side of the secret in a snippet.
const SNIPPET_CONTEXT: usize = 40;

/// A place a secret was found. Serialized with a `source` tag, as the JSON
/// report contract gives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "source", rename_all = "lowercase")]
pub enum Location {
    /// A file on disk.
    File(FileLocation),
}

/// A secret in a file on disk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileLocation {
    /// Path relative to the scan root (as given, for a file root).
    pub path: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based byte column.
    pub column: usize,
    /// The line around the secret, shortened but never cutting the secret.
    pub snippet: String,
}

impl Location {
    /// The order locations are reported in.
    pub fn sort_key(&self) -> (u8, &str, usize, usize) {
        match self {
            Location::File(f) => (0, f.path.as_str(), f.line, f.column),
        }
    }

    /// The path shown for this location.
    pub fn path(&self) -> &str {
        match self {
            Location::File(f) => &f.path,
        }
    }

    /// Replaces each (secret, redacted) pair's secret in the snippet.
    pub(crate) fn redact_snippet(&mut self, pairs: &[(String, String)]) {
        let snippet = match self {
            Location::File(f) => &mut f.snippet,
        };
        for (secret, masked) in pairs {
            if !secret.is_empty() {
                *snippet = snippet.replace(secret.as_str(), masked);
            }
        }
    }
}

/// The snippet for a secret at `secret` in `blob`: its line, cut to at most
/// [`SNIPPET_CONTEXT`] bytes either side of the secret (marked with `…`),
/// the secret itself always whole. Lossy UTF-8, with control characters
/// other than tab shown as spaces.
pub fn snippet(blob: &[u8], secret: Range<usize>) -> String {
    let line = line_bounds(blob, secret.start);
    let start = line.start.max(secret.start.saturating_sub(SNIPPET_CONTEXT));
    let end = line.end.max(secret.end).min(secret.end.saturating_add(SNIPPET_CONTEXT)).max(secret.end);
    let end = end.min(blob.len());
    let mut s = String::new();
    if start > line.start {
        s.push('…');
    }
    let text = String::from_utf8_lossy(&blob[start..end]);
    s.extend(text.chars().map(|c| if c.is_control() && c != '\t' { ' ' } else { c }));
    if end < line.end {
        s.push('…');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippet_keeps_secret_and_cuts_context() {
        let mut blob = vec![b'a'; 100];
        blob.extend_from_slice(b"SECRET");
        blob.extend(vec![b'b'; 100]);
        blob.extend_from_slice(b"\nnext");
        let s = snippet(&blob, 100..106);
        assert!(s.contains("SECRET"));
        assert!(s.starts_with('…') && s.ends_with('…'));
        assert_eq!(s.chars().filter(|&c| c == 'a').count(), 40);
        assert!(!s.contains("next"));
    }

    #[test]
    fn multi_line_secret_is_whole() {
        let blob = b"key = -----BEGIN\nabc\n-----END\ntail";
        let s = snippet(blob, 6..29);
        assert!(s.contains("-----BEGIN abc -----END"), "{s}");
    }
}
