//! Detectors: the file format, loading (built-in files embedded at build time
//! plus user files), validation, and the self-test of examples.
//!
//! A detector goes through two shapes, as Nosey Parker's rules do:
//! [`DetectorSpec`] is the file as written (serde, unknown fields rejected) and
//! [`Detector`] is the validated, compiled form the engine runs. This room knows
//! nothing about files being scanned; the engine knows nothing about TOML.

mod compile;
mod load;
mod selftest;
pub mod spec;

use std::{fmt, path::PathBuf, sync::Arc};

use regex_automata::meta::Regex;

pub use compile::compile;
pub(crate) use compile::placeholders;
pub use load::{builtin_files, load_builtin, load_paths, load_source, DetectorSource};
pub use selftest::check;
pub use spec::{CompanionSpec, DetectorSpec, RecordedAnswer, RecordedAnswers, VerifySpec};

/// How sure a detector is that a match is a real secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    /// Context-only formats (e.g. generic assignments).
    Low,
    /// A prefix or strong context, but collisions are possible.
    Medium,
    /// A unique, documented format.
    High,
}

impl Confidence {
    /// Parses `low` / `medium` / `high`.
    pub fn parse(s: &str) -> Option<Confidence> {
        match s {
            "low" => Some(Confidence::Low),
            "medium" => Some(Confidence::Medium),
            "high" => Some(Confidence::High),
            _ => None,
        }
    }

    /// The lowercase name used in files and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        }
    }
}

impl fmt::Display for Confidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A detector's stable, kebab-case identifier (e.g. `github-pat-classic`).
///
/// Fingerprints and baselines are keyed by this id, never by the pattern, so a
/// tightened regex does not invalidate anyone's baseline.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct DetectorId(pub Arc<str>);

impl DetectorId {
    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DetectorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A validated, compiled detector, ready for the engine.
#[derive(Debug, Clone)]
pub struct Detector {
    /// Stable identifier.
    pub id: DetectorId,
    /// Human-readable name.
    pub name: String,
    /// What it finds and what the secret grants.
    pub description: String,
    /// Lowercased keywords; one occurs inside every match.
    pub keywords: Vec<String>,
    /// The pattern as written.
    pub pattern: String,
    /// The compiled pattern (bytes, Unicode off).
    pub regex: Regex,
    /// Capture group index of the secret.
    pub secret_group: usize,
    /// Other named groups: (group index, name), reported as parts.
    pub part_groups: Vec<(usize, Arc<str>)>,
    /// How far from a keyword hit a match may reach, in bytes.
    pub window: usize,
    /// Minimum Shannon entropy of the secret, bits per byte.
    pub min_entropy: Option<f64>,
    /// Confidence of a match.
    pub confidence: Confidence,
    /// Whether the global placeholder filter applies.
    pub placeholder_filter: bool,
    /// Secret-level exclusions.
    pub ignore_if: Vec<Regex>,
    /// Pairing with another detector's match.
    pub companion: Vec<CompanionSpec>,
    /// Matches are never reported on their own, only attached as another
    /// detector's companion part.
    pub context_only: bool,
    /// Verification request, if any.
    pub verify: Option<VerifySpec>,
    /// Strings that must be reported.
    pub examples: Vec<String>,
    /// Strings that must not be reported.
    pub non_examples: Vec<String>,
    /// Documentation links.
    pub references: Vec<String>,
    /// The file this detector came from (`builtin:<name>` for embedded ones).
    pub origin: String,
}

/// Why a detector file or detector was rejected. Each variant names the file
/// and, where there is one, the detector; none quotes scanned data.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// A file or directory could not be read.
    #[error("cannot read detector file {path}: {source}")]
    Io {
        /// The path given.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The TOML did not parse or had the wrong shape.
    #[error("invalid detector file {file}: {message}")]
    Parse {
        /// The file.
        file: String,
        /// The parser's message, including line and column.
        message: String,
    },
    /// A detector broke a rule of the format.
    #[error("{file}: detector `{detector}`: {problem}")]
    Invalid {
        /// The file.
        file: String,
        /// The detector's id.
        detector: String,
        /// What is wrong.
        problem: String,
    },
}

/// All loaded detectors, in a fixed order; the index of a detector here is the
/// dense `u32` the engine's hot path uses.
#[derive(Debug, Clone, Default)]
pub struct DetectorSet {
    detectors: Arc<[Detector]>,
}

impl DetectorSet {
    /// Builds a set, rejecting duplicate ids and dangling companions.
    ///
    /// # Errors
    /// [`LoadError::Invalid`] naming both files of a duplicate id, or a
    /// companion that names no loaded detector.
    pub fn new(detectors: Vec<Detector>) -> Result<DetectorSet, LoadError> {
        let mut seen: std::collections::HashMap<&str, &str> = std::collections::HashMap::new();
        for d in &detectors {
            if let Some(prev) = seen.insert(d.id.as_str(), d.origin.as_str()) {
                return Err(LoadError::Invalid {
                    file: d.origin.clone(),
                    detector: d.id.to_string(),
                    problem: format!("duplicate id (already defined in {prev})"),
                });
            }
        }
        for d in &detectors {
            for c in &d.companion {
                if !seen.contains_key(c.detector.as_str()) || c.detector == d.id.as_str() {
                    return Err(LoadError::Invalid {
                        file: d.origin.clone(),
                        detector: d.id.to_string(),
                        problem: format!(
                            "companion `{}` is not another loaded detector",
                            c.detector
                        ),
                    });
                }
            }
        }
        Ok(DetectorSet {
            detectors: detectors.into(),
        })
    }

    /// The detectors, indexable by the engine's dense index.
    pub fn as_slice(&self) -> &[Detector] {
        &self.detectors
    }

    /// Number of detectors.
    pub fn len(&self) -> usize {
        self.detectors.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.detectors.is_empty()
    }

    /// The dense index of the detector with this id.
    pub fn index_of(&self, id: &str) -> Option<usize> {
        self.detectors.iter().position(|d| d.id.as_str() == id)
    }
}
