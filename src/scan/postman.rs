//! The Postman pipeline: exports → fields → engine and field semantics →
//! variable links → findings.
//!
//! Each string of an export is scanned on its own (its JSON pointer is then
//! exact), three ways:
//!
//! 1. the engine, for provider formats (`ghp_…`, `xoxb-…`);
//! 2. the engine again over `label = "value"` for labelled fields, so
//!    context-bound formats fire (an `awsv4` `secretKey` is an AWS secret
//!    access key);
//! 3. field semantics: a credential field's value, a secret-named value, or
//!    a secret-named `name = value` pair in free text is reported as
//!    `postman-credential` when no provider format claimed it, with a
//!    confidence from the field kind and the value's entropy.
//!
//! Then `{{variables}}` are resolved with Postman's precedence and a secret
//! reached through one gets both locations: where it is defined and each
//! field that uses it. A secret seen by several detectors is reported under
//! the most specific one, and companion parts (an AWS key id for its secret
//! key) are attached within one request.

use std::{collections::HashMap, ops::Range, sync::Arc};

use rayon::prelude::*;
use regex_automata::meta::Regex;

use crate::{
    detector::Confidence,
    engine::{filter::shannon_entropy, Engine, Match, Scratch},
    finding::{snippet, FindingsBuilder, FoundSecret, Location, PostmanLocation},
    source::{
        postman::{
            self, archive,
            fields::{extract, Definition, Extracted, Field, Scope},
            semantics::{
                cookie_is_session, header_is_credential, is_signature_auth, key_looks_secret,
                strip_scheme, Pair, PairFinder, Sensitivity, ValueJudge,
            },
            Document, ParseError,
        },
        Skipped,
    },
};

/// The detector id of credentials found by field semantics.
pub const POSTMAN_CREDENTIAL: &str = "postman-credential";

/// Characters of a use site's text shown as its snippet.
const USE_SNIPPET: usize = 120;

/// Everything the Postman analysis needs, built once per scan.
#[derive(Debug)]
pub(crate) struct Analyzer<'e> {
    engine: &'e Engine,
    credential: Option<u32>,
    generic: Vec<bool>,
    judge: ValueJudge,
    pairs: PairFinder,
    reference: Regex,
}

/// One secret in one string of one export, before grouping.
#[derive(Debug, Clone)]
struct Hit {
    detector: u32,
    secret: Box<[u8]>,
    parts: Vec<(Arc<str>, Box<[u8]>)>,
    confidence: Option<Confidence>,
    doc: usize,
    group: Arc<str>,
    location: PostmanLocation,
}

/// A candidate secret in a text, before it is placed.
#[derive(Debug, Clone)]
struct Candidate {
    detector: u32,
    range: Range<usize>,
    parts: Vec<(Arc<str>, Box<[u8]>)>,
    confidence: Option<Confidence>,
}

/// How one string is to be read.
#[derive(Debug, Clone, Copy)]
struct Reading<'a> {
    kind: &'a str,
    name: Option<&'a str>,
    sensitivity: Sensitivity,
}

impl<'a> Reading<'a> {
    fn of(f: &'a Field) -> Reading<'a> {
        Reading {
            kind: &f.kind,
            name: f.name.as_deref(),
            sensitivity: f.sensitivity,
        }
    }

    /// The label a context-bound detector would see: `awsv4_secretKey` for
    /// an auth attribute, the name otherwise.
    fn label(&self) -> Option<String> {
        let name = self.name?;
        Some(match self.kind.strip_prefix("auth.") {
            Some(rest) => rest.replacen('.', "_", 1),
            None => name.to_string(),
        })
    }
}

impl<'e> Analyzer<'e> {
    pub(crate) fn new(engine: &'e Engine) -> Analyzer<'e> {
        let set = engine.detector_set();
        let credential = set.index_of(POSTMAN_CREDENTIAL).map(|i| i as u32);
        if credential.is_none() {
            tracing::warn!(
                "detector {POSTMAN_CREDENTIAL} is not loaded: Postman fields are checked for provider formats only"
            );
        }
        Analyzer {
            engine,
            credential,
            generic: engine
                .detectors()
                .iter()
                .map(|d| d.id.as_str().starts_with("generic-"))
                .collect(),
            judge: ValueJudge::default(),
            pairs: PairFinder::default(),
            reference: Regex::new(r"\{\{\s*([^{}\s][^{}]*?)\s*\}\}")
                .expect("the variable reference pattern is valid"),
        }
    }

    /// Analyses `docs` together (variables resolve across them) and adds
    /// their findings to `builder`. Returns the bytes of string content read.
    pub(crate) fn analyse(&self, docs: &[Document], builder: &mut FindingsBuilder) -> u64 {
        // 1. Fields of every export, in parallel.
        let extracted: Vec<Extracted> = docs.par_iter().map(extract).collect();
        let bytes = extracted
            .iter()
            .flat_map(|x| &x.fields)
            .map(|f| f.value.len() as u64)
            .sum();
        // 2. Literal secrets and variable uses, per export in parallel.
        let index = DefinitionIndex::new(&extracted);
        let mut hits: Vec<Hit> = extracted
            .par_iter()
            .enumerate()
            .map_init(
                || (self.engine.scratch(), Vec::new()),
                |(scratch, matches), (d, x)| {
                    let mut out = Vec::new();
                    for f in &x.fields {
                        self.literal(docs, d, f, scratch, matches, &mut out);
                        if f.value.contains("{{") {
                            self.uses(docs, &extracted, &index, d, f, scratch, matches, &mut out);
                        }
                    }
                    out
                },
            )
            .flatten()
            .collect();
        // 3. One detector per secret, companion parts, then findings.
        self.relabel(&mut hits);
        self.pair(&mut hits);
        for h in hits {
            let found = FoundSecret {
                detector: h.detector,
                entropy: shannon_entropy(&h.secret),
                secret: h.secret,
                parts: h.parts,
                line: 0,
                column: 0,
                snippet: Default::default(),
                confidence: h.confidence,
                allowed: false,
            };
            builder.add(&found, Location::Postman(h.location));
        }
        bytes
    }

    /// Secrets written in field `f` itself.
    fn literal(
        &self,
        docs: &[Document],
        d: usize,
        f: &Field,
        scratch: &mut Scratch,
        matches: &mut Vec<Match>,
        out: &mut Vec<Hit>,
    ) {
        for c in self.evaluate(&f.value, Reading::of(f), scratch, matches) {
            out.push(Hit {
                detector: c.detector,
                secret: f.value.as_bytes()[c.range.clone()].into(),
                parts: c.parts,
                confidence: c.confidence,
                doc: d,
                group: f.group.clone(),
                location: located(&docs[d].path, f, &f.value, c.range),
            });
        }
    }

    /// Secrets that field `f` takes from `{{variables}}`: each gets the
    /// definition's location and this use site's.
    #[allow(clippy::too_many_arguments)]
    fn uses(
        &self,
        docs: &[Document],
        extracted: &[Extracted],
        index: &DefinitionIndex<'_>,
        d: usize,
        f: &Field,
        scratch: &mut Scratch,
        matches: &mut Vec<Match>,
        out: &mut Vec<Hit>,
    ) {
        for caps in self.reference.captures_iter(&f.value) {
            let (Some(whole), Some(name)) = (caps.get_group(0), caps.get_group(1)) else {
                continue;
            };
            let name = &f.value[name.range()];
            for (dd, def) in index.resolve(d, f, name) {
                let def_field = &extracted[dd].fields[def.field];
                let mut resolved = String::with_capacity(f.value.len() + def_field.value.len());
                resolved.push_str(&f.value[..whole.start]);
                let span = resolved.len()..resolved.len() + def_field.value.len();
                resolved.push_str(&def_field.value);
                resolved.push_str(&f.value[whole.end..]);
                // What the use makes of the value (`Bearer {{x}}` is a
                // credential), and what the definition says of it.
                let mut found: Vec<Candidate> = self
                    .evaluate(&resolved, Reading::of(f), scratch, matches)
                    .into_iter()
                    .filter(|c| c.range.start >= span.start && c.range.end <= span.end)
                    .map(|mut c| {
                        c.range = c.range.start - span.start..c.range.end - span.start;
                        c
                    })
                    .collect();
                for c in self.evaluate(&def_field.value, Reading::of(def_field), scratch, matches) {
                    if !overlaps(&found, &c.range) {
                        found.push(c);
                    }
                }
                for c in found {
                    let in_def = c.range.clone();
                    let secret: Box<[u8]> = def_field.value.as_bytes()[c.range.clone()].into();
                    out.push(Hit {
                        detector: c.detector,
                        secret: secret.clone(),
                        parts: c.parts.clone(),
                        confidence: c.confidence,
                        doc: dd,
                        group: def_field.group.clone(),
                        location: located(&docs[dd].path, def_field, &def_field.value, in_def),
                    });
                    out.push(Hit {
                        detector: c.detector,
                        secret,
                        parts: c.parts,
                        confidence: c.confidence,
                        doc: d,
                        group: f.group.clone(),
                        location: PostmanLocation {
                            path: docs[d].path.clone(),
                            json_pointer: f.pointer.clone(),
                            request: f.request.as_deref().map(str::to_string),
                            field: f.kind.clone(),
                            name: f.name.clone(),
                            via: Some(name.to_string()),
                            snippet: shorten(&f.value, USE_SNIPPET),
                            context: None,
                        },
                    });
                }
            }
        }
    }

    /// The secrets in `text` read as `reading` says.
    fn evaluate(
        &self,
        text: &str,
        reading: Reading<'_>,
        scratch: &mut Scratch,
        matches: &mut Vec<Match>,
    ) -> Vec<Candidate> {
        let mut provider = Vec::new();
        let mut generic = Vec::new();
        // 1. Provider formats in the text itself.
        self.engine.scan(text.as_bytes(), scratch, matches);
        for m in matches.iter() {
            let c = candidate(text.as_bytes(), m, 0);
            if self.generic[m.detector as usize] {
                generic.push(c);
            } else {
                provider.push(c);
            }
        }
        // 2. Context-bound formats, from the field's label.
        if reading.sensitivity >= Sensitivity::Named {
            if let Some(label) = reading.label() {
                let synthetic = format!("{label} = \"{text}\"");
                let offset = label.len() + 4;
                self.engine.scan(synthetic.as_bytes(), scratch, matches);
                for m in matches.iter() {
                    let inside = m.secret.start >= offset && m.secret.end <= offset + text.len();
                    if inside && !self.generic[m.detector as usize] {
                        let c = candidate(synthetic.as_bytes(), m, offset);
                        if !overlaps(&provider, &c.range) {
                            provider.push(c);
                        }
                    }
                }
            }
        }
        // `name = value` pairs of free text, found once: field semantics and
        // the generic matches below both read them.
        let pairs = if reading.sensitivity == Sensitivity::Text || !generic.is_empty() {
            self.pairs.find(text)
        } else {
            Vec::new()
        };
        // 3. Field semantics, where no provider format claimed the value.
        let mut semantic: Vec<Candidate> = Vec::new();
        if let Some(credential) = self.credential {
            for (range, sensitivity) in self.semantic_values(text, reading, &pairs) {
                if range.is_empty() || overlaps(&provider, &range) || overlaps(&semantic, &range) {
                    continue;
                }
                if let Some(confidence) = self.judge.judge(&text[range.clone()], sensitivity) {
                    semantic.push(Candidate {
                        detector: credential,
                        range,
                        parts: Vec::new(),
                        confidence: Some(confidence),
                    });
                }
            }
        }
        // Generic text heuristics answer to the same judge, and yield to a
        // label that says the value is not a secret (`"postman-token": …`).
        generic.retain(|g| {
            !overlaps(&provider, &g.range)
                && !overlaps(&semantic, &g.range)
                && self
                    .judge
                    .judge(
                        &String::from_utf8_lossy(&text.as_bytes()[g.range.clone()]),
                        Sensitivity::Named,
                    )
                    .is_some()
                && !pairs.iter().any(|p| {
                    let name = &text[p.name.clone()];
                    p.value.start < g.range.end
                        && g.range.start < p.value.end
                        && !name.is_empty()
                        && !key_looks_secret(name)
                        && !header_is_credential(name)
                })
        });
        provider.extend(semantic);
        provider.extend(generic);
        provider
    }

    /// The spans of `text` that its field's meaning marks as credentials,
    /// each with the gate its value must pass.
    fn semantic_values(
        &self,
        text: &str,
        reading: Reading<'_>,
        pairs: &[Pair],
    ) -> Vec<(Range<usize>, Sensitivity)> {
        let is_cookie = reading.kind.ends_with("cookie")
            || reading.name.is_some_and(|n| {
                n.eq_ignore_ascii_case("cookie") || n.eq_ignore_ascii_case("set-cookie")
            });
        match reading.sensitivity {
            Sensitivity::Plain => Vec::new(),
            _ if is_cookie && reading.kind.ends_with("cookie") => {
                // A cookie object: `name` is the cookie's name.
                if reading.name.is_some_and(cookie_is_session) {
                    vec![(trimmed(text), Sensitivity::Named)]
                } else {
                    Vec::new()
                }
            }
            _ if is_cookie => session_cookies(text, 0),
            Sensitivity::Credential => self.header_value(text, 0, Sensitivity::Credential),
            Sensitivity::Named => vec![(trimmed(text), Sensitivity::Named)],
            Sensitivity::Text => {
                let mut out = Vec::new();
                for p in pairs {
                    let name = &text[p.name.clone()];
                    let value = &text[p.value.clone()];
                    if name.is_empty() {
                        // URL user-info password (judged as a named value:
                        // prose such as `mailto:support@` is not one).
                        out.push((p.value.clone(), Sensitivity::Named));
                    } else if name.eq_ignore_ascii_case("cookie")
                        || name.eq_ignore_ascii_case("set-cookie")
                    {
                        out.extend(session_cookies(value, p.value.start));
                    } else if header_is_credential(name) {
                        out.extend(self.header_value(value, p.value.start, Sensitivity::Named));
                    } else if key_looks_secret(name) {
                        out.push((p.value.clone(), Sensitivity::Named));
                    }
                }
                out
            }
        }
    }

    /// The credential in an Authorization-style value at `offset`: nothing
    /// for per-request signatures, the part after the scheme otherwise; a
    /// Basic credential only when its decoded password is not a placeholder.
    fn header_value(
        &self,
        value: &str,
        offset: usize,
        gate: Sensitivity,
    ) -> Vec<(Range<usize>, Sensitivity)> {
        if is_signature_auth(value) {
            return Vec::new();
        }
        let r = strip_scheme(value);
        let is_basic = value
            .trim_start()
            .get(..6)
            .is_some_and(|s| s.eq_ignore_ascii_case("basic "));
        if is_basic {
            if let Some(password) = basic_password(&value[r.clone()]) {
                if self
                    .judge
                    .judge(&password, Sensitivity::Credential)
                    .is_none()
                {
                    return Vec::new();
                }
            }
        }
        vec![(offset + r.start..offset + r.end, gate)]
    }
    /// Reports each secret under one detector: a provider's when any
    /// provider matched it anywhere, else `postman-credential` over generic
    /// text heuristics.
    fn relabel(&self, hits: &mut [Hit]) {
        let detectors = self.engine.detectors();
        let mut best: HashMap<&[u8], u32> = HashMap::new();
        for h in hits.iter() {
            let d = h.detector;
            let rank = |d: u32| {
                let provider = !self.generic[d as usize] && Some(d) != self.credential;
                (
                    provider,
                    Some(d) == self.credential,
                    detectors[d as usize].confidence,
                )
            };
            best.entry(&h.secret)
                .and_modify(|b| {
                    if rank(d) > rank(*b) {
                        *b = d;
                    }
                })
                .or_insert(d);
        }
        let best: HashMap<Box<[u8]>, u32> = best.into_iter().map(|(k, v)| (k.into(), v)).collect();
        for h in hits.iter_mut() {
            if let Some(&b) = best.get(&h.secret) {
                if b != h.detector {
                    h.detector = b;
                    if Some(b) != self.credential {
                        h.confidence = None;
                    } else if h.confidence.is_none() {
                        h.confidence = Some(Confidence::Low);
                    }
                }
            }
        }
    }

    /// Attaches companion parts (the AWS key id of a secret key) found in
    /// the same request or auth owner.
    fn pair(&self, hits: &mut [Hit]) {
        let set = self.engine.detector_set();
        let mut by_group: HashMap<(usize, Arc<str>, u32), Box<[u8]>> = HashMap::new();
        for h in hits.iter() {
            by_group
                .entry((h.doc, h.group.clone(), h.detector))
                .or_insert_with(|| h.secret.clone());
        }
        for h in hits.iter_mut() {
            for spec in &set.as_slice()[h.detector as usize].companion {
                let Some(other) = set.index_of(&spec.detector) else {
                    continue;
                };
                if h.parts.iter().any(|(n, _)| n.as_ref() == spec.part) {
                    continue;
                }
                if let Some(secret) = by_group.get(&(h.doc, h.group.clone(), other as u32)) {
                    h.parts
                        .push((Arc::from(spec.part.as_str()), secret.clone()));
                }
            }
        }
    }
}

/// Variable definitions of a run, by name.
struct DefinitionIndex<'a> {
    by_name: HashMap<&'a str, Vec<(usize, &'a Definition)>>,
    fields: Vec<&'a [Field]>,
}

impl<'a> DefinitionIndex<'a> {
    fn new(extracted: &'a [Extracted]) -> DefinitionIndex<'a> {
        let mut by_name: HashMap<&str, Vec<(usize, &Definition)>> = HashMap::new();
        for (d, x) in extracted.iter().enumerate() {
            for def in &x.definitions {
                by_name.entry(def.name.as_str()).or_default().push((d, def));
            }
        }
        DefinitionIndex {
            by_name,
            fields: extracted.iter().map(|x| x.fields.as_slice()).collect(),
        }
    }

    /// The definitions `{{name}}` in field `f` of export `d` resolves to,
    /// with Postman's precedence: the innermost folder or request variable,
    /// else every environment's, else the collection's, else every globals'.
    fn resolve(&self, d: usize, f: &Field, name: &str) -> Vec<(usize, &'a Definition)> {
        let Some(defs) = self.by_name.get(name) else {
            return Vec::new();
        };
        let item = defs
            .iter()
            .filter(|(dd, def)| {
                *dd == d
                    && matches!(&def.scope, Scope::Item(p) if f.pointer.starts_with(&format!("{p}/")))
            })
            .max_by_key(|(_, def)| match &def.scope {
                Scope::Item(p) => p.len(),
                _ => 0,
            });
        if let Some(&found) = item {
            return vec![found];
        }
        let pick = |want: &dyn Fn(usize, &Scope) -> bool| -> Vec<(usize, &'a Definition)> {
            defs.iter()
                .filter(|(dd, def)| want(*dd, &def.scope))
                .filter(|(dd, def)| self.fields[*dd][def.field].value != f.value)
                .copied()
                .collect()
        };
        let env = pick(&|_, s| *s == Scope::Environment);
        if !env.is_empty() {
            return env;
        }
        let coll = pick(&|dd, s| {
            dd == d && matches!(s, Scope::Collection(root) if Some(root) == f.collection.as_ref())
        });
        if !coll.is_empty() {
            return coll;
        }
        pick(&|_, s| *s == Scope::Global)
    }
}

fn candidate(bytes: &[u8], m: &Match, offset: usize) -> Candidate {
    Candidate {
        detector: m.detector,
        range: m.secret.start - offset..m.secret.end - offset,
        parts: m
            .parts
            .iter()
            .map(|p| (p.name.clone(), bytes[p.span.clone()].into()))
            .collect(),
        confidence: None,
    }
}

fn overlaps(cands: &[Candidate], r: &Range<usize>) -> bool {
    cands
        .iter()
        .any(|c| c.range.start < r.end && r.start < c.range.end)
}

/// The values of session cookies in a `Cookie` / `Set-Cookie` value at
/// `offset` (`a=1; sid=…`), to be judged as named values.
fn session_cookies(text: &str, offset: usize) -> Vec<(Range<usize>, Sensitivity)> {
    let mut out = Vec::new();
    let mut at = 0;
    for part in text.split(';') {
        if let Some(eq) = part.find('=') {
            let v = &part[eq + 1..];
            if cookie_is_session(part[..eq].trim()) {
                let start = offset + at + eq + 1 + (v.len() - v.trim_start().len());
                out.push((start..start + v.trim().len(), Sensitivity::Named));
            }
        }
        at += part.len() + 1;
    }
    out
}

/// The span of `text` without surrounding whitespace.
fn trimmed(text: &str) -> Range<usize> {
    let start = text.len() - text.trim_start().len();
    start..start + text.trim().len()
}

/// The password of a Basic credential (`base64(user:password)`), when it
/// decodes to one.
fn basic_password(b64: &str) -> Option<String> {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .ok()?;
    let text = String::from_utf8(bytes).ok()?;
    text.split_once(':').map(|(_, p)| p.to_string())
}

/// The location of `range` of `value`, field `f` of export `path`.
fn located(path: &str, f: &Field, value: &str, range: Range<usize>) -> PostmanLocation {
    let context = snippet(value.as_bytes(), range.clone());
    PostmanLocation {
        path: path.to_string(),
        json_pointer: f.pointer.clone(),
        request: f.request.as_deref().map(str::to_string),
        field: f.kind.clone(),
        name: f.name.clone(),
        via: None,
        snippet: context.render(&String::from_utf8_lossy(&value.as_bytes()[range])),
        context: Some(context),
    }
}

fn shorten(s: &str, max: usize) -> String {
    let line: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(max)
        .collect();
    if s.chars().count() > max {
        format!("{line}…")
    } else {
        line
    }
}

/// What a Postman pass could not parse, as a recorded skip.
pub(crate) fn parse_skip(path: &str, err: &crate::source::postman::ParseError) -> Skipped {
    Skipped {
        path: path.to_string(),
        reason: format!("Postman: {err}"),
    }
}

/// Files routed to the Postman analysis, parsed.
#[derive(Debug, Default)]
pub(crate) struct PostmanFiles {
    /// The exports.
    pub(crate) docs: Vec<Document>,
    /// What could not be read, and why.
    pub(crate) skipped: Vec<Skipped>,
    /// Files that are not exports after all, to scan as text.
    pub(crate) unparsed: Vec<(String, Vec<u8>)>,
}

impl PostmanFiles {
    /// Parses `files` (and the JSON entries of zip archives among them) in
    /// parallel. In [`PostmanMode::Only`] what does not parse is skipped with
    /// its reason; otherwise it goes back to the text scan, and a file that
    /// looked like an export but is broken JSON is also noted as skipped.
    pub(crate) fn parse(files: Vec<(String, Vec<u8>)>, mode: super::PostmanMode) -> PostmanFiles {
        let strict = mode == super::PostmanMode::Only;
        let parsed: Vec<PostmanFiles> = files
            .into_par_iter()
            .map(|(path, bytes)| {
                let mut out = PostmanFiles::default();
                if strict && archive::is_archive(&path) {
                    match archive::json_entries(&path, &bytes) {
                        Ok((entries, errors)) => {
                            for e in errors {
                                out.skipped.push(Skipped {
                                    path: path.clone(),
                                    reason: format!("Postman archive: {e}"),
                                });
                            }
                            for e in entries {
                                out.add(e.path, e.bytes, strict);
                            }
                        }
                        Err(e) => out.skipped.push(Skipped {
                            path,
                            reason: format!("Postman archive: {e}"),
                        }),
                    }
                } else {
                    out.add(path, bytes, strict);
                }
                out
            })
            .collect();
        let mut all = PostmanFiles::default();
        for p in parsed {
            all.docs.extend(p.docs);
            all.skipped.extend(p.skipped);
            all.unparsed.extend(p.unparsed);
        }
        all
    }

    fn add(&mut self, path: String, bytes: Vec<u8>, strict: bool) {
        match postman::parse(&path, &bytes) {
            Ok(doc) => {
                if doc.lossy {
                    tracing::warn!(path = %path, "invalid UTF-8 replaced to parse the Postman export");
                }
                self.docs.push(doc);
            }
            Err(e) if strict => self.skipped.push(parse_skip(&path, &e)),
            Err(ParseError::NotPostman) => self.unparsed.push((path, bytes)),
            Err(e) => {
                self.skipped.push(Skipped {
                    path: path.clone(),
                    reason: format!("Postman: {e}; scanned as plain text"),
                });
                self.unparsed.push((path, bytes));
            }
        }
    }
}
