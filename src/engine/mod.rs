//! The matching engine: every detector compiled into one matcher.
//!
//! The engine scans `&[u8]` and knows nothing of files, git or Postman. Per
//! blob it runs, in order:
//!
//! 1. one Aho-Corasick pass over all keywords ([`prefilter`]),
//! 2. for each detector with hits, its regex on merged windows around the
//!    hits (never over the whole blob),
//! 3. the keyword-containment check, entropy, placeholder and `ignore_if`
//!    filters on each regex match,
//! 4. companion pairing (e.g. AWS key id + secret key), dropping the matches
//!    of context-only detectors (they exist only as companion parts), then
//!    dropping matches shadowed by a more confident detector on the same
//!    secret,
//! 5. line and column numbers, counted lazily up to the last match only.
//!
//! An [`Engine`] is built once and shared read-only (`Send + Sync`) by all
//! workers; each worker owns a [`Scratch`] with everything mutable.

pub mod filter;
pub mod lines;
pub mod prefilter;

use std::{ops::Range, sync::Arc};

use regex_automata::{meta, util::captures::Captures, Input};

use crate::detector::{Detector, DetectorSet};
use filter::{shannon_entropy, PlaceholderFilter};
use lines::LineCounter;
use prefilter::{Hit, Prefilter};

/// A named extra part of a match (a regex's named group, or a paired
/// companion's secret), as a span in the scanned blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// The part's name (`user`, `access_key_id`, ...).
    pub name: Arc<str>,
    /// Where it is in the blob.
    pub span: Range<usize>,
}

/// One reported match. It borrows nothing: spans index the scanned blob, so
/// no bytes are copied until a consumer decides to keep them.
#[derive(Debug, Clone, PartialEq)]
pub struct Match {
    /// Dense index of the detector in the engine's [`DetectorSet`].
    pub detector: u32,
    /// The whole regex match.
    pub span: Range<usize>,
    /// The secret (the `secret` capture group).
    pub secret: Range<usize>,
    /// Named parts and companions.
    pub parts: Vec<Part>,
    /// Shannon entropy of the secret, bits per byte.
    pub entropy: f64,
    /// 1-based line of the secret's first byte.
    pub line: usize,
    /// 1-based byte column of the secret's first byte.
    pub column: usize,
}

/// Configures an [`Engine`]. The defaults are what a scan wants.
#[derive(Debug, Clone)]
pub struct EngineBuilder {
    prefilter: bool,
}

impl Default for EngineBuilder {
    fn default() -> Self {
        EngineBuilder { prefilter: true }
    }
}

impl EngineBuilder {
    /// A builder with defaults.
    pub fn new() -> EngineBuilder {
        EngineBuilder::default()
    }

    /// Whether to run the keyword prefilter (default: on). Off, every regex
    /// runs over every whole blob and keyword containment is checked on each
    /// match instead: the same results, N detectors times slower. It exists so
    /// a test can prove the prefilter loses nothing.
    pub fn prefilter(&mut self, yes: bool) -> &mut EngineBuilder {
        self.prefilter = yes;
        self
    }

    /// Compiles the keyword automaton and companion table for `detectors`.
    pub fn build(&self, detectors: DetectorSet) -> Engine {
        let list = detectors.as_slice();
        let prefilter = Prefilter::new(list);
        let companions = list
            .iter()
            .map(|d| {
                d.companion
                    .iter()
                    .filter_map(|c| {
                        detectors.index_of(&c.detector).map(|idx| Companion {
                            detector: idx as u32,
                            part: c.part.as_str().into(),
                            within: c.within,
                            absorb: c.absorb,
                        })
                    })
                    .collect()
            })
            .collect::<Vec<Vec<Companion>>>();
        let has_companions = companions.iter().any(|c| !c.is_empty());
        let has_context_only = list.iter().any(|d| d.context_only);
        Engine {
            detectors,
            prefilter,
            use_prefilter: self.prefilter,
            placeholders: PlaceholderFilter::new(),
            companions,
            has_companions,
            has_context_only,
        }
    }
}

#[derive(Debug, Clone)]
struct Companion {
    detector: u32,
    part: Arc<str>,
    within: usize,
    absorb: bool,
}

/// The compiled matcher. Build once, share by reference across threads.
#[derive(Debug, Clone)]
pub struct Engine {
    detectors: DetectorSet,
    prefilter: Prefilter,
    use_prefilter: bool,
    placeholders: PlaceholderFilter,
    companions: Vec<Vec<Companion>>,
    has_companions: bool,
    has_context_only: bool,
}

/// Per-thread mutable state: keyword hits and each detector's regex cache and
/// capture slots, created lazily on a detector's first hit and reused for
/// every later blob. Create one per worker with [`Engine::scratch`].
#[derive(Debug)]
pub struct Scratch {
    hits: Vec<Hit>,
    regex: Vec<Option<RegexScratch>>,
}

#[derive(Debug)]
struct RegexScratch {
    cache: meta::Cache,
    caps: Captures,
}

impl Engine {
    /// Builds an engine with default options.
    pub fn new(detectors: DetectorSet) -> Engine {
        EngineBuilder::new().build(detectors)
    }

    /// The detectors, indexed by [`Match::detector`].
    pub fn detectors(&self) -> &[Detector] {
        self.detectors.as_slice()
    }

    /// The detector set this engine was built from.
    pub fn detector_set(&self) -> &DetectorSet {
        &self.detectors
    }

    /// Fresh per-thread state for [`Engine::scan`].
    pub fn scratch(&self) -> Scratch {
        Scratch {
            hits: Vec::new(),
            regex: (0..self.detectors.len()).map(|_| None).collect(),
        }
    }

    /// Scans `blob`, replacing the contents of `out` with its matches in
    /// order of the secret's offset.
    ///
    /// Cost: linear in the blob for the keyword pass, plus each hit detector's
    /// regex over its windows; allocates only for surviving matches with
    /// parts and when scratch buffers grow.
    pub fn scan(&self, blob: &[u8], scratch: &mut Scratch, out: &mut Vec<Match>) {
        self.scan_impl(blob, None, scratch, out);
    }

    /// Like [`Engine::scan`], but reports only matches whose secret overlaps
    /// one of `ranges` (sorted, non-overlapping byte ranges of `blob`). The
    /// keyword pass covers each range and the line before it (a keyword may
    /// sit on the line above a value); regex windows still see the bytes
    /// around a range, and line numbers are those of the whole blob.
    ///
    /// This is how a new version of a file is scanned for what changed.
    pub fn scan_ranges(
        &self,
        blob: &[u8],
        ranges: &[Range<usize>],
        scratch: &mut Scratch,
        out: &mut Vec<Match>,
    ) {
        self.scan_impl(blob, Some(ranges), scratch, out);
    }

    fn scan_impl(
        &self,
        blob: &[u8],
        ranges: Option<&[Range<usize>]>,
        scratch: &mut Scratch,
        out: &mut Vec<Match>,
    ) {
        out.clear();
        let detectors = self.detectors.as_slice();
        if self.use_prefilter {
            let mut hits = std::mem::take(&mut scratch.hits);
            hits.clear();
            match ranges {
                None => self.prefilter.find(blob, &mut hits),
                Some(ranges) => {
                    for r in ranges {
                        let from = previous_line_start(blob, r.start);
                        let first = hits.len();
                        self.prefilter.find(&blob[from..r.end], &mut hits);
                        for h in &mut hits[first..] {
                            h.start += from;
                            h.end += from;
                        }
                    }
                    // Widened ranges may overlap: count each hit once.
                    hits.sort_unstable();
                    hits.dedup();
                }
            }
            if !hits.is_empty() {
                hits.sort_unstable();
                for group in hits.chunk_by(|a, b| a.detector == b.detector) {
                    let d = group[0].detector as usize;
                    let rs = regex_scratch(&mut scratch.regex[d], &detectors[d]);
                    self.scan_windows(blob, d, Some(group), rs, out);
                }
            }
            scratch.hits = hits;
        } else {
            for (d, det) in detectors.iter().enumerate() {
                let rs = regex_scratch(&mut scratch.regex[d], det);
                self.scan_windows(blob, d, None, rs, out);
            }
        }
        if let Some(ranges) = ranges {
            out.retain(|m| touches(ranges, &m.secret));
        }
        if out.is_empty() {
            return;
        }
        if self.has_companions {
            self.pair_companions(out);
        }
        if self.has_context_only {
            // Context (a domain beside a token) was only there to be paired.
            out.retain(|m| !detectors[m.detector as usize].context_only);
        }
        out.sort_by_key(|m| (m.secret.start, m.detector));
        self.drop_shadowed(out);
        let mut lines = LineCounter::new(blob);
        for m in out.iter_mut() {
            (m.line, m.column) = lines.locate(m.secret.start);
        }
    }

    /// Runs detector `d` over the merged windows around its hits (or, with
    /// `hits == None`, over the whole blob), pushing accepted matches.
    fn scan_windows(
        &self,
        blob: &[u8],
        d: usize,
        hits: Option<&[Hit]>,
        rs: &mut RegexScratch,
        out: &mut Vec<Match>,
    ) {
        let det = &self.detectors.as_slice()[d];
        let Some(hits) = hits else {
            self.scan_range(blob, d, det, 0..blob.len(), None, rs, out);
            return;
        };
        let mut current: Option<Range<usize>> = None;
        for h in hits {
            let start = h.start.saturating_sub(det.window);
            let end = h.end.saturating_add(det.window).min(blob.len());
            match current.as_mut() {
                Some(w) if start <= w.end => w.end = w.end.max(end),
                _ => {
                    if let Some(w) = current.replace(start..end) {
                        self.scan_range(blob, d, det, w, Some(hits), rs, out);
                    }
                }
            }
        }
        if let Some(w) = current {
            self.scan_range(blob, d, det, w, Some(hits), rs, out);
        }
    }

    /// Iterates the detector's regex over `range` of `blob`. Look-around
    /// (`\b`, `^`) still sees the bytes outside the range.
    #[allow(clippy::too_many_arguments)]
    fn scan_range(
        &self,
        blob: &[u8],
        d: usize,
        det: &Detector,
        range: Range<usize>,
        hits: Option<&[Hit]>,
        rs: &mut RegexScratch,
        out: &mut Vec<Match>,
    ) {
        let mut input = Input::new(blob).range(range.clone());
        loop {
            det.regex
                .search_captures_with(&mut rs.cache, &input, &mut rs.caps);
            let Some(m) = rs.caps.get_match() else { break };
            let span = m.range();
            // A match without a keyword is not a match (the prefilter could
            // never have found it); retry one byte on, since a real match may
            // start inside this one.
            let contains_keyword = match hits {
                Some(hits) => contains_hit(hits, &span),
                None => contains_keyword(&blob[span.clone()], &det.keywords),
            };
            let next = if !contains_keyword || span.is_empty() {
                span.start + 1
            } else {
                span.end
            };
            if contains_keyword {
                if let Some(secret) = rs.caps.get_group(det.secret_group) {
                    self.accept(blob, d, det, span, secret.range(), &rs.caps, out);
                }
            }
            if next > range.end {
                break;
            }
            input.set_start(next);
        }
    }

    /// Applies the secret filters and records the match.
    #[allow(clippy::too_many_arguments)]
    fn accept(
        &self,
        blob: &[u8],
        d: usize,
        det: &Detector,
        span: Range<usize>,
        secret: Range<usize>,
        caps: &Captures,
        out: &mut Vec<Match>,
    ) {
        let bytes = &blob[secret.clone()];
        if bytes.is_empty() {
            return;
        }
        let entropy = shannon_entropy(bytes);
        if det.min_entropy.is_some_and(|min| entropy < min) {
            return;
        }
        if det.placeholder_filter && self.placeholders.is_placeholder(bytes) {
            return;
        }
        if det.ignore_if.iter().any(|r| r.is_match(bytes)) {
            return;
        }
        let parts = det
            .part_groups
            .iter()
            .filter_map(|(g, name)| {
                caps.get_group(*g).map(|s| Part {
                    name: name.clone(),
                    span: s.range(),
                })
            })
            .collect();
        out.push(Match {
            detector: d as u32,
            span,
            secret,
            parts,
            entropy,
            line: 0,
            column: 0,
        });
    }

    /// Drops each match whose secret overlaps the secret of a more confident
    /// match of another detector: a GitHub token assigned to `token = ...` is
    /// one GitHub token, not also a generic secret. `out` is sorted by start.
    fn drop_shadowed(&self, out: &mut Vec<Match>) {
        let detectors = self.detectors.as_slice();
        let confidence = |m: &Match| detectors[m.detector as usize].confidence;
        let mut dropped = vec![false; out.len()];
        let mut any = false;
        for i in 0..out.len() {
            for j in i + 1..out.len() {
                if out[j].secret.start >= out[i].secret.end {
                    break;
                }
                if out[i].detector == out[j].detector {
                    continue;
                }
                match confidence(&out[i]).cmp(&confidence(&out[j])) {
                    std::cmp::Ordering::Less => dropped[i] = true,
                    std::cmp::Ordering::Greater => dropped[j] = true,
                    std::cmp::Ordering::Equal => continue,
                }
                any = true;
            }
        }
        if any {
            retain_unmarked(out, &dropped);
        }
    }

    /// Attaches to each match whose detector names a companion the nearest
    /// companion match within reach, and drops absorbed companions.
    fn pair_companions(&self, out: &mut Vec<Match>) {
        let mut absorbed = vec![false; out.len()];
        let mut any = false;
        for i in 0..out.len() {
            for c in &self.companions[out[i].detector as usize] {
                let nearest = out
                    .iter()
                    .enumerate()
                    .filter(|(_, m)| m.detector == c.detector)
                    .map(|(j, m)| (distance(&out[i].span, &m.span), j))
                    .filter(|(dist, _)| *dist <= c.within)
                    .min();
                if let Some((_, j)) = nearest {
                    let span = out[j].secret.clone();
                    out[i].parts.push(Part {
                        name: c.part.clone(),
                        span,
                    });
                    if c.absorb {
                        absorbed[j] = true;
                        any = true;
                    }
                }
            }
        }
        if any {
            retain_unmarked(out, &absorbed);
        }
    }
}

fn regex_scratch<'s>(slot: &'s mut Option<RegexScratch>, det: &Detector) -> &'s mut RegexScratch {
    slot.get_or_insert_with(|| RegexScratch {
        cache: det.regex.create_cache(),
        caps: det.regex.create_captures(),
    })
}

/// Whether some keyword hit (sorted by start) lies wholly inside `span`.
fn contains_hit(hits: &[Hit], span: &Range<usize>) -> bool {
    let first = hits.partition_point(|h| h.start < span.start);
    hits[first..]
        .iter()
        .take_while(|h| h.start < span.end)
        .any(|h| h.end <= span.end)
}

/// Whether one of the (lowercase) keywords occurs in `hay`, ASCII case-insensitively.
fn contains_keyword(hay: &[u8], keywords: &[String]) -> bool {
    keywords.iter().any(|k| {
        let k = k.as_bytes();
        k.len() <= hay.len() && hay.windows(k.len()).any(|w| w.eq_ignore_ascii_case(k))
    })
}

/// The start of the line before the one holding `offset` (0 on the first line).
fn previous_line_start(blob: &[u8], offset: usize) -> usize {
    let line_start = memchr::memrchr(b'\n', &blob[..offset]).map_or(0, |i| i + 1);
    if line_start == 0 {
        return 0;
    }
    memchr::memrchr(b'\n', &blob[..line_start - 1]).map_or(0, |i| i + 1)
}

/// Keeps the matches whose index is not marked.
fn retain_unmarked(out: &mut Vec<Match>, marked: &[bool]) {
    let mut i = 0;
    out.retain(|_| {
        i += 1;
        !marked[i - 1]
    });
}

/// Whether `span` overlaps one of the sorted, disjoint `ranges`.
fn touches(ranges: &[Range<usize>], span: &Range<usize>) -> bool {
    let i = ranges.partition_point(|r| r.end <= span.start);
    ranges
        .get(i)
        .is_some_and(|r| r.start < span.end.max(span.start + 1))
}

/// Bytes between two spans (0 when they touch or overlap).
fn distance(a: &Range<usize>, b: &Range<usize>) -> usize {
    b.start
        .saturating_sub(a.end)
        .max(a.start.saturating_sub(b.end))
}
