//! Runs every detector's examples and non-examples through the real engine,
//! prefilter included. `leakhound detectors check` and the built-in test
//! share this one function, so users and CI check detectors the same way.

use std::collections::HashSet;

use regex_automata::Input;

use super::{DetectorSet, LoadError};
use crate::engine::{Engine, Match};

/// Checks the detectors at `indices` of `set` (all other detectors stay
/// loaded, as they would be in a scan, so companion pairing is exercised).
///
/// A detector fails when an example is not reported by it, a non-example is,
/// an example's regex match contains none of its keywords, or a keyword
/// occurs in no example's match (so no test shows it can ever match).
///
/// A `context_only` detector is never reported by a scan, so its examples
/// and non-examples run through a second engine in which no detector is
/// context-only: the same prefilter, regex, entropy, placeholder and
/// `ignore_if` filters decide, only the final dropping of context is off.
pub fn check(set: &DetectorSet, indices: &[usize]) -> Vec<LoadError> {
    let engine = Engine::new(set.clone());
    let mut scratch = engine.scratch();
    let context_engine = indices
        .iter()
        .any(|&i| set.as_slice()[i].context_only)
        .then(|| Engine::new(without_context_only(set)));
    let mut context_scratch = context_engine.as_ref().map(Engine::scratch);
    let mut out: Vec<Match> = Vec::new();
    let mut failures = Vec::new();
    for &i in indices {
        let det = &set.as_slice()[i];
        let (engine, scratch) = match (&context_engine, &mut context_scratch) {
            (Some(e), Some(s)) if det.context_only => (e, s),
            _ => (&engine, &mut scratch),
        };
        let mut fail = |problem: String| {
            failures.push(LoadError::Invalid {
                file: det.origin.clone(),
                detector: det.id.to_string(),
                problem,
            })
        };
        let mut used_keywords: HashSet<&str> = HashSet::new();
        for (n, ex) in det.examples.iter().enumerate() {
            let bytes = ex.as_bytes();
            // Which keywords the raw regex matches contain, prefilter aside.
            let mut any_match = false;
            for m in det.regex.find_iter(Input::new(bytes)) {
                any_match = true;
                let text = bytes[m.range()].to_ascii_lowercase();
                let found: Vec<&str> = det
                    .keywords
                    .iter()
                    .filter(|k| text.windows(k.len()).any(|w| w == k.as_bytes()))
                    .map(String::as_str)
                    .collect();
                if found.is_empty() {
                    fail(format!(
                        "example {} matches the pattern, but none of the keywords occurs in the match, \
                         so the prefilter would never run the pattern there",
                        n + 1
                    ));
                }
                used_keywords.extend(found);
            }
            if !any_match {
                fail(format!("example {} does not match the pattern", n + 1));
                continue;
            }
            engine.scan(bytes, scratch, &mut out);
            if !out.iter().any(|m| m.detector as usize == i) {
                fail(format!(
                    "example {} matches the pattern but is not reported (filtered by min_entropy, \
                     the placeholder filter or ignore_if, or absorbed by a companion)",
                    n + 1
                ));
            }
        }
        for k in &det.keywords {
            if !used_keywords.contains(k.as_str()) {
                fail(format!(
                    "keyword `{k}` occurs in no example's match: add an example that shows it can"
                ));
            }
        }
        for (n, ex) in det.non_examples.iter().enumerate() {
            engine.scan(ex.as_bytes(), scratch, &mut out);
            if out.iter().any(|m| m.detector as usize == i) {
                fail(format!("non_example {} is reported", n + 1));
            }
        }
    }
    failures
}

/// `set` with every detector reporting its own matches, so the examples of a
/// context-only detector can be seen (its regex and filters are unchanged).
fn without_context_only(set: &DetectorSet) -> DetectorSet {
    let detectors = set
        .as_slice()
        .iter()
        .cloned()
        .map(|mut d| {
            d.context_only = false;
            d
        })
        .collect();
    DetectorSet::new(detectors).expect("the ids were unique already")
}
