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
    /// A blob in a git repository.
    Git(GitLocation),
    /// A field of a Postman export.
    Postman(PostmanLocation),
}

/// A secret in one field of a Postman export: where the secret is defined, or
/// (with `via`) a request field that uses it through a `{{variable}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PostmanLocation {
    /// The export's path (relative to the scan root), or the API resource.
    pub path: String,
    /// RFC 6901 pointer to the string that holds (or uses) the secret.
    pub json_pointer: String,
    /// `Folder / Sub-folder / Request`, for fields inside a request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request: Option<String>,
    /// The field kind: `auth.bearer.token`, `header`, `env.value`, ...
    pub field: String,
    /// The field's label (header name, variable key, auth attribute).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// For a use site: the variable through which this field takes the
    /// secret (`token` for `Bearer {{token}}`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
    /// The field's text around the secret (a use site shows its own text,
    /// which holds the `{{variable}}`, not the secret).
    pub snippet: String,
    /// The snippet's context without the secret, for redaction; `None` when
    /// the snippet does not contain the secret.
    #[serde(skip)]
    pub context: Option<Snippet>,
}

/// A secret in a git blob, with the commit that introduced the blob at its path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GitLocation {
    /// The repository as given.
    pub repo: String,
    /// The commit that introduced the blob at this path (absent for staged
    /// and unreachable blobs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// Path in the tree (empty for an unreachable blob).
    pub path: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based byte column.
    pub column: usize,
    /// Author name of `commit`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// Author email of `commit`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Author date of `commit`, RFC 3339.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    /// First line of `commit`'s message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// The blob's id.
    pub blob: String,
    /// Whether HEAD's version of `path` still holds the secret.
    pub in_head: bool,
    /// `false` for a blob no ref reaches (found with `--all-objects`).
    pub reachable: bool,
    /// `true` for a blob staged in the index but not committed.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub staged: bool,
    /// The line around the secret, shortened but never cutting the secret.
    pub snippet: String,
    /// The snippet's context without the secret, for redaction.
    #[serde(skip)]
    pub context: Snippet,
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
    /// The snippet's context without the secret, for redaction.
    #[serde(skip)]
    pub context: Snippet,
}

impl Location {
    /// The order locations are reported in.
    pub fn sort_key(&self) -> (u8, &str, &str, usize, usize) {
        match self {
            Location::Postman(p) => (2, p.path.as_str(), p.json_pointer.as_str(), 0, 0),
            Location::File(f) => (0, f.path.as_str(), "", f.line, f.column),
            Location::Git(g) => (
                1,
                g.path.as_str(),
                g.commit.as_deref().unwrap_or(""),
                g.line,
                g.column,
            ),
        }
    }

    /// `path:line` (or `path#pointer` for a Postman field), for baselines
    /// and summaries.
    pub fn short(&self) -> String {
        match self {
            Location::File(f) => format!("{}:{}", f.path, f.line),
            Location::Git(g) => format!("{}:{}", g.path, g.line),
            Location::Postman(p) => format!("{}#{}", p.path, p.json_pointer),
        }
    }

    /// Rebuilds the snippet around `masked` instead of the secret, and
    /// masks each (part, masked part) pair in the surrounding context.
    pub(crate) fn redact_snippet(&mut self, masked: &str, parts: &[(String, String)]) {
        let (context, snippet) = match self {
            Location::File(f) => (&f.context, &mut f.snippet),
            Location::Git(g) => (&g.context, &mut g.snippet),
            Location::Postman(p) => match &p.context {
                Some(context) => (context, &mut p.snippet),
                None => {
                    for (part, masked_part) in parts {
                        if !part.is_empty() {
                            p.snippet = p.snippet.replace(part.as_str(), masked_part);
                        }
                    }
                    return;
                }
            },
        };
        let mut context = context.clone();
        for (part, masked_part) in parts {
            if !part.is_empty() {
                context.before = context.before.replace(part.as_str(), masked_part);
                context.after = context.after.replace(part.as_str(), masked_part);
            }
        }
        *snippet = context.render(masked);
    }
}

/// The text around a secret on its line, kept apart from the secret so a
/// report can show the secret whole or redacted without searching for it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snippet {
    /// Up to [`SNIPPET_CONTEXT`] bytes before the secret on its line (`…` first when cut).
    pub before: String,
    /// Up to [`SNIPPET_CONTEXT`] bytes after the secret on its line (`…` last when cut).
    pub after: String,
}

impl Snippet {
    /// The context with `secret` between, control characters shown as spaces.
    pub fn render(&self, secret: &str) -> String {
        format!("{}{}{}", self.before, printable(secret), self.after)
    }
}

/// The snippet for a secret at `secret` in `blob`: its line, cut to at most
/// [`SNIPPET_CONTEXT`] bytes either side. Lossy UTF-8, with control
/// characters other than tab shown as spaces.
pub fn snippet(blob: &[u8], secret: Range<usize>) -> Snippet {
    let line = line_bounds(blob, secret.start);
    let start = line.start.max(secret.start.saturating_sub(SNIPPET_CONTEXT));
    let after_line = line_bounds(blob, secret.end.saturating_sub(1).max(secret.start));
    let end = after_line
        .end
        .min(secret.end.saturating_add(SNIPPET_CONTEXT))
        .max(secret.end);
    let mut before = String::new();
    if start > line.start {
        before.push('…');
    }
    before.push_str(&printable(&String::from_utf8_lossy(
        &blob[start..secret.start],
    )));
    let mut after = printable(&String::from_utf8_lossy(&blob[secret.end..end]));
    if end < after_line.end {
        after.push('…');
    }
    Snippet { before, after }
}

fn printable(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() && c != '\t' { ' ' } else { c })
        .collect()
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
        let s = snippet(&blob, 100..106).render("SECRET");
        assert!(s.contains("SECRET"));
        assert!(s.starts_with('…') && s.ends_with('…'));
        assert_eq!(s.chars().filter(|&c| c == 'a').count(), 40);
        assert!(!s.contains("next"));
    }

    #[test]
    fn multi_line_secret_is_whole() {
        let blob = b"key = -----BEGIN\nabc\n-----END\ntail";
        let s = snippet(blob, 6..29).render("-----BEGIN\nabc\n-----END");
        assert!(s.contains("-----BEGIN abc -----END"), "{s}");
    }
}
