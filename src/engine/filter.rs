//! Filters applied to a candidate secret after its regex matched: entropy and
//! placeholders. They run only on regex matches, never on the whole blob.

use aho_corasick::{AhoCorasick, MatchKind};

/// Shannon entropy of `bytes`, in bits per byte (0 for empty input).
///
/// Linear in `bytes.len()`, no allocation.
pub fn shannon_entropy(bytes: &[u8]) -> f64 {
    if bytes.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in bytes {
        counts[b as usize] += 1;
    }
    let n = bytes.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / n;
            -p * p.log2()
        })
        .sum()
}

/// Substrings (ASCII case-insensitive) that mark a value as a placeholder or
/// documentation example rather than a live secret.
const PLACEHOLDER_MARKERS: &[&str] = &[
    "example",
    "xxxx",
    "changeme",
    "change_me",
    "placeholder",
    "your_",
    "your-",
    "yourkey",
    "<",
    ">",
    "${",
    "{{",
    "}}",
    "$(",
    "%(",
    "process.env",
    "os.environ",
    "getenv",
    "redacted",
    "dummy",
    "sample",
    "fake",
    "********",
];

/// A run of this many characters each one above the previous (`1234567`,
/// `abcdefg`) marks a hand-typed placeholder.
const SEQUENTIAL_RUN: usize = 7;

/// Recognises placeholder values: documentation examples, template
/// variables, environment lookups, masked values, one repeated character and
/// keyboard runs. Built once per engine; `is_placeholder` allocates nothing.
#[derive(Debug, Clone)]
pub struct PlaceholderFilter {
    markers: AhoCorasick,
}

impl PlaceholderFilter {
    /// Builds the marker automaton.
    pub fn new() -> PlaceholderFilter {
        let markers = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::LeftmostFirst)
            .build(PLACEHOLDER_MARKERS)
            .expect("the built-in placeholder markers are valid patterns");
        PlaceholderFilter { markers }
    }

    /// Whether `secret` looks like a placeholder rather than a credential.
    pub fn is_placeholder(&self, secret: &[u8]) -> bool {
        if secret.is_empty() || secret.iter().all(|&b| b == secret[0]) {
            return true;
        }
        if self.markers.is_match(secret) {
            return true;
        }
        let mut run = 1;
        for w in secret.windows(2) {
            if w[1] == w[0].wrapping_add(1) && w[1].is_ascii_alphanumeric() {
                run += 1;
                if run >= SEQUENTIAL_RUN {
                    return true;
                }
            } else {
                run = 1;
            }
        }
        false
    }
}

impl Default for PlaceholderFilter {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entropy_bounds() {
        assert_eq!(shannon_entropy(b""), 0.0);
        assert_eq!(shannon_entropy(b"aaaa"), 0.0);
        assert!((shannon_entropy(b"abcd") - 2.0).abs() < 1e-9);
        let all: Vec<u8> = (0..=255).collect();
        assert!((shannon_entropy(&all) - 8.0).abs() < 1e-9);
    }

    #[test]
    fn placeholders() {
        let f = PlaceholderFilter::new();
        for p in [
            "AKIAIOSFODNN7EXAMPLE",
            "xxxxxxxxxxxxxxxx",
            "changeme",
            "<your-api-key>",
            "${API_TOKEN}",
            "{{token}}",
            "process.env.TOKEN",
            "os.environ['X']",
            "aaaaaaaaaaaa",
            "sk_live_1234567890abcdef",
            "********",
        ] {
            assert!(
                f.is_placeholder(p.as_bytes()),
                "{p} should be a placeholder"
            );
        }
        for s in [
            "ghp_R4nd0mLo0k1ngT0k3nV4lu3Qz9Xw2Kd8Lm5Np",
            "hQ7/kP2+xZ9mW4vL8nR3tY6uE1sA0dF5gH",
        ] {
            assert!(!f.is_placeholder(s.as_bytes()), "{s} is not a placeholder");
        }
    }
}
