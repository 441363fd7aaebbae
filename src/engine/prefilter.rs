//! The keyword prefilter: one Aho-Corasick automaton over every detector's
//! keywords, run once per blob.
//!
//! Contract: a hit is a *candidate*. False positives are fine (the regex
//! decides); false negatives are not, which is why every match must contain
//! one of its detector's keywords (`detectors check` enforces it).

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};

use crate::detector::Detector;

/// One keyword occurrence, attributed to one detector that uses the keyword.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Hit {
    /// Dense detector index.
    pub detector: u32,
    /// Start of the keyword in the blob.
    pub start: usize,
    /// End (exclusive) of the keyword in the blob.
    pub end: usize,
}

/// The compiled keyword automaton and the map from keyword to detectors.
#[derive(Debug, Clone)]
pub struct Prefilter {
    automaton: AhoCorasick,
    owners: Vec<Box<[u32]>>,
}

impl Prefilter {
    /// Builds the automaton over the distinct, lowercased keywords of `detectors`.
    ///
    /// A DFA is chosen deliberately: with hundreds of keywords no SIMD
    /// prefilter applies, so search speed is the DFA's, and its memory (a few
    /// MiB, see [`Prefilter::memory_usage`]) is paid once per process.
    pub fn new(detectors: &[Detector]) -> Prefilter {
        let mut keywords: Vec<&str> = Vec::new();
        let mut owners: Vec<Vec<u32>> = Vec::new();
        let mut slots: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
        for (i, d) in detectors.iter().enumerate() {
            for k in &d.keywords {
                let slot = *slots.entry(k.as_str()).or_insert_with(|| {
                    keywords.push(k);
                    owners.push(Vec::new());
                    keywords.len() - 1
                });
                if !owners[slot].contains(&(i as u32)) {
                    owners[slot].push(i as u32);
                }
            }
        }
        let automaton = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .kind(Some(AhoCorasickKind::DFA))
            .build(&keywords)
            .or_else(|_| {
                AhoCorasick::builder()
                    .ascii_case_insensitive(true)
                    .match_kind(MatchKind::Standard)
                    .build(&keywords)
            })
            .expect("keywords are plain literals that always compile");
        tracing::debug!(
            keywords = keywords.len(),
            kind = ?automaton.kind(),
            memory = automaton.memory_usage(),
            "built keyword prefilter"
        );
        Prefilter {
            automaton,
            owners: owners.into_iter().map(Vec::into_boxed_slice).collect(),
        }
    }

    /// Appends every keyword occurrence in `blob` (overlapping ones included)
    /// to `hits`, once per detector that owns the keyword. Linear in the blob
    /// plus the number of hits; allocates only when `hits` must grow.
    pub fn find(&self, blob: &[u8], hits: &mut Vec<Hit>) {
        for m in self.automaton.find_overlapping_iter(blob) {
            for &detector in self.owners[m.pattern().as_usize()].iter() {
                hits.push(Hit {
                    detector,
                    start: m.start(),
                    end: m.end(),
                });
            }
        }
    }
}
