//! Suppression: findings a team has accepted stay in the report, marked, but
//! no longer fail the build.
//!
//! Four sources, applied in this order (the first that matches is the one
//! reported):
//!
//! 1. **inline** — `leakhound:allow` on the line of the secret, at every
//!    place the secret appears;
//! 2. **config allowlist** — secrets, regexes and stopwords in
//!    `.leakhound.toml`;
//! 3. **ignore file** — `.leakhoundignore`: one fingerprint per line, `#`
//!    comments;
//! 4. **baseline** — `--baseline FILE` written by `leakhound baseline create`:
//!    the fingerprints of an earlier scan.
//!
//! All but the allowlist match by fingerprint (detector + secret), so a secret that moves to
//! another line or file stays suppressed.

use std::{collections::HashMap, path::Path};

use serde::{Deserialize, Serialize};

use super::Finding;

/// The marker that allows a secret on its line.
pub const INLINE_ALLOW: &[u8] = b"leakhound:allow";

/// Why a finding is suppressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SuppressionKind {
    /// `leakhound:allow` on the secret's line, everywhere it appears.
    Inline,
    /// Listed in an ignore file.
    IgnoreFile,
    /// Present in the baseline.
    Baseline,
    /// Allowlisted by the config file (a secret, a regex or a stopword).
    Config,
    /// Triaged in the state store (`leakhound findings triage`).
    Triage,
}

/// Secrets the config file allows: exact values, regexes, stopwords.
#[derive(Debug, Clone, Default)]
pub struct Allowlist {
    secrets: std::collections::HashSet<String>,
    regexes: Vec<regex_automata::meta::Regex>,
    stopwords: Vec<String>,
}

impl Allowlist {
    /// An allowlist; `regexes` are compiled here.
    ///
    /// # Errors
    /// The 1-based index of the first regex that does not compile (the
    /// compiler's message is not passed on: it quotes the pattern).
    pub fn new(
        secrets: Vec<String>,
        regexes: &[String],
        stopwords: Vec<String>,
    ) -> Result<Allowlist, usize> {
        let regexes = regexes
            .iter()
            .enumerate()
            .map(|(i, r)| regex_automata::meta::Regex::new(r).map_err(|_| i + 1))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Allowlist {
            secrets: secrets.into_iter().collect(),
            regexes,
            stopwords: stopwords.into_iter().map(|w| w.to_lowercase()).collect(),
        })
    }

    /// Why `secret` is allowed, if it is.
    fn reason(&self, secret: &str) -> Option<String> {
        if self.secrets.contains(secret) {
            return Some("allowlisted secret".into());
        }
        if let Some(i) = self.regexes.iter().position(|r| r.is_match(secret)) {
            return Some(format!("allowlist regex {}", i + 1));
        }
        let lower = secret.to_lowercase();
        self.stopwords
            .iter()
            .find(|w| lower.contains(w.as_str()))
            .map(|w| format!("stopword `{w}`"))
    }
}

/// A suppression and its justification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Suppression {
    /// Where it comes from.
    pub kind: SuppressionKind,
    /// The ignore file's comment, or the baseline's file name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub justification: Option<String>,
}

/// Why an ignore file or baseline could not be used. Names the file and line.
#[derive(Debug, thiserror::Error)]
pub enum SuppressError {
    /// Unreadable.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// A line that is not a fingerprint.
    #[error(
        "{path}:{line}: expected a 32-hex-digit fingerprint, optionally followed by `# comment`"
    )]
    IgnoreLine {
        /// The file.
        path: String,
        /// 1-based line.
        line: usize,
    },
    /// Not a baseline.
    #[error("{path} is not a leakhound baseline: {message}")]
    Baseline {
        /// The file.
        path: String,
        /// The parser's message.
        message: String,
    },
}

/// Fingerprints listed in an ignore file, with their comments.
#[derive(Debug, Clone, Default)]
pub struct IgnoreList {
    entries: HashMap<String, Option<String>>,
}

impl IgnoreList {
    /// Parses an ignore file's text (`path` names it in errors).
    ///
    /// # Errors
    /// A line that is neither blank, a comment, nor a fingerprint.
    pub fn parse(path: &str, text: &str) -> Result<IgnoreList, SuppressError> {
        let mut entries = HashMap::new();
        for (i, line) in text.lines().enumerate() {
            let (fp, comment) = match line.split_once('#') {
                Some((fp, c)) => (
                    fp.trim(),
                    Some(c.trim().to_string()).filter(|c| !c.is_empty()),
                ),
                None => (line.trim(), None),
            };
            if fp.is_empty() {
                continue;
            }
            if fp.len() != 32 || !fp.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(SuppressError::IgnoreLine {
                    path: path.to_string(),
                    line: i + 1,
                });
            }
            entries.insert(fp.to_ascii_lowercase(), comment);
        }
        Ok(IgnoreList { entries })
    }

    /// Reads and parses the ignore file at `path`.
    ///
    /// # Errors
    /// As [`IgnoreList::parse`], or when the file cannot be read.
    pub fn load(path: &Path) -> Result<IgnoreList, SuppressError> {
        let (shown, text) = read(path)?;
        IgnoreList::parse(&shown, &text)
    }
}

/// A baseline: what an earlier scan found, by fingerprint.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Baseline {
    /// Format version (1).
    pub version: u32,
    /// The accepted findings.
    pub findings: Vec<BaselineEntry>,
}

/// One accepted finding. Only the fingerprint matters for matching; the rest
/// tells a reviewer what was accepted, without the secret.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BaselineEntry {
    /// See [`super::fingerprint`].
    pub fingerprint: String,
    /// The detector.
    pub detector: String,
    /// Where it was first found (path, with `:line` when there is one).
    pub location: String,
}

impl Baseline {
    /// The baseline of `findings` (unsuppressed and suppressed alike).
    pub fn of(findings: &[Finding]) -> Baseline {
        Baseline {
            version: 1,
            findings: findings
                .iter()
                .map(|f| BaselineEntry {
                    fingerprint: f.fingerprint.clone(),
                    detector: f.detector.as_str().to_string(),
                    location: f.locations.first().map(|l| l.short()).unwrap_or_default(),
                })
                .collect(),
        }
    }

    /// Reads a baseline file.
    ///
    /// # Errors
    /// Unreadable, or not a baseline.
    pub fn load(path: &Path) -> Result<Baseline, SuppressError> {
        let (shown, text) = read(path)?;
        serde_json::from_str(&text).map_err(|e| SuppressError::Baseline {
            path: shown,
            message: e.to_string(),
        })
    }
}

/// The file's name as shown in errors, and its text.
fn read(path: &Path) -> Result<(String, String), SuppressError> {
    let shown = path.display().to_string();
    match std::fs::read_to_string(path) {
        Ok(text) => Ok((shown, text)),
        Err(source) => Err(SuppressError::Read {
            path: shown,
            source,
        }),
    }
}

/// Marks suppressed findings (inline allows are already marked by the
/// builder) and returns the baseline entries no finding matched: stale.
pub fn apply(
    findings: &mut [Finding],
    allow: &Allowlist,
    ignore: Option<&IgnoreList>,
    baseline: Option<(&str, &Baseline)>,
) -> Vec<BaselineEntry> {
    let mut seen = std::collections::HashSet::new();
    for f in findings.iter_mut() {
        seen.insert(f.fingerprint.clone());
        if f.suppressed.is_some() {
            continue;
        }
        if let Some(reason) = allow.reason(&f.secret) {
            f.suppressed = Some(Suppression {
                kind: SuppressionKind::Config,
                justification: Some(reason),
            });
        } else if let Some(comment) = ignore.and_then(|i| i.entries.get(&f.fingerprint)) {
            f.suppressed = Some(Suppression {
                kind: SuppressionKind::IgnoreFile,
                justification: comment.clone(),
            });
        } else if let Some((name, b)) = baseline {
            if b.findings.iter().any(|e| e.fingerprint == f.fingerprint) {
                f.suppressed = Some(Suppression {
                    kind: SuppressionKind::Baseline,
                    justification: Some(name.to_string()),
                });
            }
        }
    }
    baseline
        .map(|(_, b)| {
            b.findings
                .iter()
                .filter(|e| !seen.contains(&e.fingerprint))
                .cloned()
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ignore_file_lines() {
        let list = IgnoreList::parse(
            ".leakhoundignore",
            "# accepted\n091f59c0c5e18862755da9b1403717c8  # test key, revoked\n\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n",
        )
        .unwrap();
        assert_eq!(list.entries.len(), 2);
        assert_eq!(
            list.entries["091f59c0c5e18862755da9b1403717c8"].as_deref(),
            Some("test key, revoked")
        );
        let err = IgnoreList::parse("x", "ok\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "x:1: expected a 32-hex-digit fingerprint, optionally followed by `# comment`"
        );
    }
}
