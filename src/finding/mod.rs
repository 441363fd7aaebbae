//! Findings: one per (detector, secret), with every place the secret lives.
//!
//! Matches arrive from many blobs and threads; [`FindingsBuilder`] groups them
//! by detector and secret bytes, gives each group a content-derived
//! [`fingerprint`], and sorts everything so that the same input always gives
//! the same report. Suppression (baselines, ignore files) will live here too.

mod location;
pub mod suppress;

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::detector::{Confidence, DetectorId, DetectorSet};
pub use location::{snippet, FileLocation, GitLocation, Location, PostmanLocation, Snippet};
pub use suppress::{Suppression, SuppressionKind};

/// The stable id of a (detector, secret) pair: the first 128 bits of
/// SHA-256 over a version tag, the detector id and the secret, in hex.
///
/// It depends on the detector's *id*, not its pattern, so tightening a regex
/// keeps every baseline valid; and not on any location, so a secret that moves
/// to another line or file keeps its fingerprint.
pub fn fingerprint(detector: &DetectorId, secret: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(b"leakhound-fingerprint-v1\0");
    h.update(detector.as_str().as_bytes());
    h.update(b"\0");
    h.update(secret);
    hex::encode(&h.finalize()[..16])
}

/// Whether a secret still works, as far as verification could tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VerificationStatus {
    /// The provider accepted it.
    Valid,
    /// The provider rejected it.
    Invalid,
    /// The answer did not say either way.
    Unknown,
    /// The check failed (network, timeout, ...).
    Error,
    /// Verification was not requested or not available.
    NotChecked,
}

impl VerificationStatus {
    /// The name used in reports (`valid`, `not_checked`, ...), as serialized.
    pub fn as_str(self) -> &'static str {
        match self {
            VerificationStatus::Valid => "valid",
            VerificationStatus::Invalid => "invalid",
            VerificationStatus::Unknown => "unknown",
            VerificationStatus::Error => "error",
            VerificationStatus::NotChecked => "not_checked",
        }
    }

    /// The status named `name` (as [`VerificationStatus::as_str`] writes it).
    pub fn parse(name: &str) -> Option<VerificationStatus> {
        [
            VerificationStatus::Valid,
            VerificationStatus::Invalid,
            VerificationStatus::Unknown,
            VerificationStatus::Error,
            VerificationStatus::NotChecked,
        ]
        .into_iter()
        .find(|s| s.as_str() == name)
    }
}

/// The result of verifying one finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verification {
    /// The outcome.
    pub status: VerificationStatus,
    /// Identity on success, or why unknown / error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl Default for Verification {
    fn default() -> Self {
        Verification {
            status: VerificationStatus::NotChecked,
            detail: None,
        }
    }
}

/// One secret found by one detector, with all its locations.
///
/// `Debug` shows the redacted secret and a location count: a finding printed
/// by mistake in a log does not leak what it found.
#[derive(Clone, Serialize)]
pub struct Finding {
    /// See [`fingerprint`].
    pub fingerprint: String,
    /// The detector's id.
    pub detector: DetectorId,
    /// The detector's name.
    pub name: String,
    /// The detector's confidence.
    pub confidence: Confidence,
    /// The secret (lossy UTF-8), or its redacted form.
    pub secret: String,
    /// Named parts (e.g. the access key id paired with an AWS secret key).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub parts: BTreeMap<String, String>,
    /// Shannon entropy of the secret, bits per byte.
    pub entropy: f64,
    /// Verification outcome.
    pub verification: Verification,
    /// Every place the secret was found, sorted.
    pub locations: Vec<Location>,
    /// Why the finding does not count (inline allow, ignore file, baseline).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suppressed: Option<Suppression>,
}

impl std::fmt::Debug for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Finding")
            .field("fingerprint", &self.fingerprint)
            .field("detector", &self.detector)
            .field("secret", &redact(&self.secret))
            .field("locations", &self.locations.len())
            .finish_non_exhaustive()
    }
}

impl Finding {
    /// A copy with the secret, its parts and every snippet redacted to a
    /// short prefix, for `--redact`.
    pub fn redacted(&self) -> Finding {
        let mut f = self.clone();
        let parts: Vec<(String, String)> = self
            .parts
            .values()
            .map(|v| (v.clone(), redact(v)))
            .collect();
        f.secret = redact(&self.secret);
        for v in f.parts.values_mut() {
            *v = redact(v);
        }
        for loc in &mut f.locations {
            loc.redact_snippet(&f.secret, &parts);
        }
        f
    }
}

/// The redacted form of a secret: up to 4 leading characters (a quarter of
/// its length at most) and a fixed mask, so neither the secret nor its length
/// is revealed.
pub fn redact(secret: &str) -> String {
    let keep = (secret.chars().count() / 4).min(4);
    let prefix: String = secret.chars().take(keep).collect();
    format!("{prefix}*****")
}

/// One secret as found in one blob, owned, before grouping. `Debug` does
/// not show the secret.
#[derive(Clone)]
pub struct FoundSecret {
    /// Dense detector index.
    pub detector: u32,
    /// The secret's bytes.
    pub secret: Box<[u8]>,
    /// Named parts as (name, bytes).
    pub parts: Vec<(std::sync::Arc<str>, Box<[u8]>)>,
    /// Entropy of the secret.
    pub entropy: f64,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// The line around the secret, shortened.
    pub snippet: Snippet,
    /// A confidence that overrides the detector's, for detectors whose
    /// confidence depends on where the secret is (e.g. a Postman field's kind).
    pub confidence: Option<Confidence>,
    /// Whether the secret's line carries `leakhound:allow`.
    pub allowed: bool,
}

impl std::fmt::Debug for FoundSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FoundSecret")
            .field("detector", &self.detector)
            .field("secret_len", &self.secret.len())
            .field("line", &self.line)
            .field("column", &self.column)
            .finish_non_exhaustive()
    }
}

/// Groups found secrets into [`Finding`]s. Keyed by (detector, secret bytes);
/// one builder collects a whole scan.
pub struct FindingsBuilder {
    detectors: DetectorSet,
    index: HashMap<(u32, Box<[u8]>), usize>,
    findings: Vec<Finding>,
    /// Per finding: locations added that are not inline-allowed.
    not_allowed: Vec<usize>,
}

impl std::fmt::Debug for FindingsBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FindingsBuilder")
            .field("findings", &self.findings.len())
            .finish_non_exhaustive()
    }
}

impl FindingsBuilder {
    /// An empty builder for matches of `detectors`.
    pub fn new(detectors: DetectorSet) -> FindingsBuilder {
        FindingsBuilder {
            detectors,
            index: HashMap::new(),
            findings: Vec::new(),
            not_allowed: Vec::new(),
        }
    }

    /// Adds one location of one found secret.
    pub fn add(&mut self, found: &FoundSecret, location: Location) {
        let key = (found.detector, found.secret.clone());
        let i = match self.index.get(&key) {
            Some(&i) => i,
            None => {
                let det = &self.detectors.as_slice()[found.detector as usize];
                self.findings.push(Finding {
                    fingerprint: fingerprint(&det.id, &found.secret),
                    detector: det.id.clone(),
                    name: det.name.clone(),
                    confidence: found.confidence.unwrap_or(det.confidence),
                    secret: String::from_utf8_lossy(&found.secret).into_owned(),
                    parts: BTreeMap::new(),
                    entropy: (found.entropy * 1000.0).round() / 1000.0,
                    verification: Verification::default(),
                    locations: Vec::new(),
                    suppressed: None,
                });
                self.not_allowed.push(0);
                self.index.insert(key, self.findings.len() - 1);
                self.findings.len() - 1
            }
        };
        if !found.allowed {
            self.not_allowed[i] += 1;
        }
        let f = &mut self.findings[i];
        if let Some(c) = found.confidence {
            f.confidence = f.confidence.max(c);
        }
        for (name, value) in &found.parts {
            f.parts
                .entry(name.to_string())
                .or_insert_with(|| String::from_utf8_lossy(value).into_owned());
        }
        f.locations.push(location);
    }

    /// The findings, each with sorted, de-duplicated locations, sorted by
    /// their first location and then detector: the same input always gives
    /// the same order.
    pub fn finish(self) -> Vec<Finding> {
        let mut findings = self.findings;
        for (f, &not_allowed) in findings.iter_mut().zip(&self.not_allowed) {
            if not_allowed == 0 {
                f.suppressed = Some(Suppression {
                    kind: SuppressionKind::Inline,
                    justification: None,
                });
            }
            f.locations.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
            f.locations.dedup_by(|a, b| a.sort_key() == b.sort_key());
        }
        findings.sort_by(|a, b| {
            let ka = a.locations.first().map(Location::sort_key);
            let kb = b.locations.first().map(Location::sort_key);
            ka.cmp(&kb)
                .then_with(|| a.detector.cmp(&b.detector))
                .then_with(|| a.fingerprint.cmp(&b.fingerprint))
        });
        findings
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_depends_on_detector_and_secret_only() {
        let a = DetectorId("a".into());
        let b = DetectorId("b".into());
        assert_eq!(fingerprint(&a, b"s3cr3t"), fingerprint(&a, b"s3cr3t"));
        assert_ne!(fingerprint(&a, b"s3cr3t"), fingerprint(&b, b"s3cr3t"));
        assert_ne!(fingerprint(&a, b"s3cr3t"), fingerprint(&a, b"s3cr3T"));
        assert_eq!(fingerprint(&a, b"x").len(), 32);
    }

    #[test]
    fn debug_output_never_shows_the_secret() {
        let secret = "ghp_R4nd0mLo0k1ngT0k3nV4lu3Qz9Xw2Kd8Lm5Np";
        let found = FoundSecret {
            detector: 0,
            secret: secret.as_bytes().into(),
            parts: Vec::new(),
            entropy: 4.5,
            line: 1,
            column: 1,
            snippet: Snippet::default(),
            confidence: None,
            allowed: false,
        };
        let finding = Finding {
            fingerprint: "f".into(),
            detector: DetectorId("d".into()),
            name: "n".into(),
            confidence: Confidence::High,
            secret: secret.into(),
            parts: BTreeMap::new(),
            entropy: 4.5,
            verification: Verification::default(),
            locations: Vec::new(),
            suppressed: None,
        };
        for text in [format!("{found:?}"), format!("{finding:?}")] {
            assert!(!text.contains(secret) && !text.contains("R4nd0m"), "{text}");
        }
    }

    #[test]
    fn redaction_hides_length_and_most_of_the_secret() {
        assert_eq!(
            redact("ghp_abcdefghijklmnopqrstuvwxyz0123456789"),
            "ghp_*****"
        );
        assert_eq!(redact("hunter2"), "h*****");
        assert_eq!(redact("abc"), "*****");
    }
}
