//! The serde shape of a detector file, exactly as written on disk.
//!
//! Nothing here is validated beyond what serde checks: see [`super::compile`]
//! for the rules that turn a [`DetectorSpec`] into a usable [`super::Detector`].

use std::collections::BTreeMap;

use serde::Deserialize;

/// One `detectors/*.toml` file: a list of `[[detector]]` tables.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DetectorFile {
    /// The detectors this file defines.
    #[serde(default)]
    pub detector: Vec<DetectorSpec>,
}

/// One detector as written: see `docs/detector-format.md` for each field.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DetectorSpec {
    /// Stable kebab-case identifier, unique across all loaded files.
    pub id: String,
    /// Human-readable name of what is found.
    pub name: String,
    /// What the secret is and what it grants.
    pub description: String,
    /// Literals (ASCII case-insensitive) of which one must occur inside every match.
    pub keywords: Vec<String>,
    /// Regex whose named group `secret` (or only group) is the secret.
    pub pattern: String,
    /// Minimum Shannon entropy (bits per byte) of the secret.
    #[serde(default)]
    pub min_entropy: Option<f64>,
    /// `low`, `medium` or `high`.
    pub confidence: String,
    /// Strings that must be reported by this detector.
    #[serde(default)]
    pub examples: Vec<String>,
    /// Strings that must not be reported by this detector.
    #[serde(default)]
    pub non_examples: Vec<String>,
    /// Documentation of the format and of revocation.
    #[serde(default)]
    pub references: Vec<String>,
    /// Whether the global placeholder filter applies (default true).
    #[serde(default)]
    pub placeholder_filter: Option<bool>,
    /// Regexes over the secret: a match drops the candidate.
    #[serde(default)]
    pub ignore_if: Vec<String>,
    /// Longest match to expect, for patterns with unbounded repetition.
    #[serde(default)]
    pub max_len: Option<usize>,
    /// Pairing with nearby matches of other detectors: one
    /// `[detector.companion]` table, or several `[[detector.companion]]`
    /// (an Atlassian token needs its site and its account's email).
    #[serde(default, deserialize_with = "one_or_many")]
    pub companion: Vec<CompanionSpec>,
    /// Whether this detector finds context rather than secrets (an Okta org
    /// domain, a Shopify shop domain): its matches are never reported on
    /// their own and exist only to be attached as another detector's
    /// companion part.
    #[serde(default)]
    pub context_only: bool,
    /// Live verification request, used by `--verify`.
    #[serde(default)]
    pub verify: Option<VerifySpec>,
}

/// Pairs a match with the nearest match of another detector in the same blob.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompanionSpec {
    /// Id of the other detector.
    pub detector: String,
    /// Name of the part under which the other secret is attached.
    pub part: String,
    /// Largest distance in bytes between the two matches.
    #[serde(default = "default_within")]
    pub within: usize,
    /// Whether the companion's own finding is dropped once it is paired.
    #[serde(default)]
    pub absorb: bool,
}

/// A table or an array of tables.
fn one_or_many<'de, D>(d: D) -> Result<Vec<CompanionSpec>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(CompanionSpec),
        Many(Vec<CompanionSpec>),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::One(c) => vec![c],
        OneOrMany::Many(v) => v,
    })
}

fn default_within() -> usize {
    1024
}

/// A declarative HTTP check, or the name of a verifier written in code.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifySpec {
    /// Name of a built-in code verifier (e.g. `aws-sts`); excludes `url`.
    #[serde(default)]
    pub code: Option<String>,
    /// HTTP method (default GET).
    #[serde(default)]
    pub method: Option<String>,
    /// Request URL; may contain `{{secret}}` and `{{part}}` placeholders.
    #[serde(default)]
    pub url: Option<String>,
    /// Request headers; values may contain placeholders.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Request body; may contain placeholders.
    #[serde(default)]
    pub body: Option<String>,
    /// HTTP basic credentials `[user, password]`; each may contain
    /// placeholders (Twilio's `{{account_sid}}` + `{{secret}}`).
    #[serde(default)]
    pub basic_auth: Option<[String; 2]>,
    /// Status codes that mean the secret is live.
    #[serde(default)]
    pub valid_status: Vec<u16>,
    /// Status codes that mean the secret is dead.
    #[serde(default)]
    pub invalid_status: Vec<u16>,
    /// Strings that must all occur in a valid answer's body.
    #[serde(default)]
    pub valid_body: Vec<String>,
    /// Strings any of which in the body means invalid.
    #[serde(default)]
    pub invalid_body: Vec<String>,
    /// JSON pointers into a valid answer naming whose secret it is.
    #[serde(default)]
    pub identity: Vec<String>,
    /// The provider's answers to a live and to a revoked secret, as
    /// documented, so every verifier is tested offline against its own
    /// rules (`tests/verifiers.rs`).
    #[serde(default)]
    pub recorded: Option<RecordedAnswers>,
}

/// A verifier's recorded answers: one for a live secret, one for a dead one.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordedAnswers {
    /// What the provider answers to a live secret.
    pub valid: RecordedAnswer,
    /// What it answers to a revoked or made-up one.
    pub invalid: RecordedAnswer,
}

/// One recorded HTTP answer.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordedAnswer {
    /// Status code.
    pub status: u16,
    /// Body, verbatim.
    #[serde(default)]
    pub body: String,
    /// The verification detail this answer must produce (the identity a
    /// valid answer names, e.g. `login=octocat`).
    #[serde(default)]
    pub detail: Option<String>,
}
