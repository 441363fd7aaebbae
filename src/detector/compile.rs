//! Turns a [`DetectorSpec`] into a [`Detector`]: every rule of the format that
//! can be checked without running examples is checked here.

use regex_automata::{meta::Regex, util::syntax, PatternID};

use super::{Confidence, Detector, DetectorId, DetectorSpec, LoadError};

/// Largest compiled NFA for one pattern: user detector files are untrusted
/// input, and a pathological pattern must fail to load rather than eat memory.
const PATTERN_SIZE_LIMIT: usize = 16 << 20;

/// Window for patterns whose longest match is unbounded and that set no `max_len`.
pub const DEFAULT_MAX_LEN: usize = 4096;

/// Upper bound on any window: a keyword hit never makes the engine look further.
const WINDOW_CAP: usize = 64 << 10;

/// Compiles a regex the way every detector pattern is compiled: over bytes,
/// Unicode off, with a size limit.
///
/// # Errors
/// The regex crate's message when the pattern does not compile.
pub fn compile_pattern(pattern: &str) -> Result<Regex, String> {
    Regex::builder()
        .syntax(syntax::Config::new().unicode(false).utf8(false))
        .configure(
            Regex::config()
                .nfa_size_limit(Some(PATTERN_SIZE_LIMIT))
                .utf8_empty(false),
        )
        .build(pattern)
        .map_err(|e| e.to_string())
}

/// Validates and compiles one detector. `origin` names its file in errors.
///
/// # Errors
/// [`LoadError::Invalid`] naming the file, the detector and the first problem.
pub fn compile(spec: DetectorSpec, origin: &str) -> Result<Detector, LoadError> {
    let invalid = |problem: String| LoadError::Invalid {
        file: origin.to_string(),
        detector: spec.id.clone(),
        problem,
    };
    if !is_kebab_case(&spec.id) {
        return Err(invalid(
            "id must be kebab-case ([a-z0-9] words joined by '-')".into(),
        ));
    }
    if spec.name.trim().is_empty() || spec.description.trim().is_empty() {
        return Err(invalid("name and description must not be empty".into()));
    }
    let confidence = Confidence::parse(&spec.confidence).ok_or_else(|| {
        invalid(format!(
            "confidence `{}` is not low, medium or high",
            spec.confidence
        ))
    })?;
    if spec.keywords.is_empty() {
        return Err(invalid(
            "at least one keyword is required (it feeds the prefilter)".into(),
        ));
    }
    if let Some(k) = spec.keywords.iter().find(|k| k.len() < 3) {
        return Err(invalid(format!("keyword `{k}` is shorter than 3 bytes")));
    }
    if spec.examples.is_empty() || spec.non_examples.is_empty() {
        return Err(invalid(
            "at least one example and one non_example are required".into(),
        ));
    }
    if spec.references.is_empty() {
        return Err(invalid(
            "at least one reference (format documentation) is required".into(),
        ));
    }
    if let Some(e) = spec.min_entropy {
        if !(0.0..=8.0).contains(&e) {
            return Err(invalid(format!(
                "min_entropy {e} is outside 0..=8 bits per byte"
            )));
        }
    }

    let regex = compile_pattern(&spec.pattern)
        .map_err(|e| invalid(format!("pattern does not compile: {e}")))?;
    let (secret_group, part_groups) = secret_and_parts(&regex).map_err(invalid)?;
    let window = window_for(&spec.pattern, spec.max_len);

    let ignore_if = spec
        .ignore_if
        .iter()
        .map(|p| {
            compile_pattern(p)
                .map_err(|e| invalid(format!("ignore_if `{p}` does not compile: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;

    for c in &spec.companion {
        if c.part.trim().is_empty() || c.within == 0 {
            return Err(invalid(
                "companion needs a part name and a non-zero `within`".into(),
            ));
        }
    }
    if spec.context_only && (!spec.companion.is_empty() || spec.verify.is_some()) {
        return Err(invalid(
            "a context_only detector is never reported, so it takes no companion and no verify"
                .into(),
        ));
    }
    if let Some(v) = &spec.verify {
        let mut known: Vec<&str> = part_groups.iter().map(|(_, name)| &**name).collect();
        known.extend(spec.companion.iter().map(|c| c.part.as_str()));
        check_verify(v, &known).map_err(invalid)?;
    }

    Ok(Detector {
        id: DetectorId(spec.id.as_str().into()),
        keywords: spec
            .keywords
            .iter()
            .map(|k| k.to_ascii_lowercase())
            .collect(),
        regex,
        secret_group,
        part_groups,
        window,
        min_entropy: spec.min_entropy,
        confidence,
        placeholder_filter: spec.placeholder_filter.unwrap_or(true),
        ignore_if,
        origin: origin.to_string(),
        name: spec.name,
        description: spec.description,
        pattern: spec.pattern,
        companion: spec.companion,
        context_only: spec.context_only,
        verify: spec.verify,
        examples: spec.examples,
        non_examples: spec.non_examples,
        references: spec.references,
    })
}

fn is_kebab_case(id: &str) -> bool {
    !id.is_empty()
        && id.split('-').all(|w| {
            !w.is_empty()
                && w.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

/// Finds the secret group (named `secret`, else the only group) and the other named groups.
/// A secret group index and the named part groups.
type Groups = (usize, Vec<(usize, std::sync::Arc<str>)>);

fn secret_and_parts(regex: &Regex) -> Result<Groups, String> {
    let names: Vec<Option<&str>> = regex.group_info().pattern_names(PatternID::ZERO).collect();
    let secret = match names.iter().position(|n| *n == Some("secret")) {
        Some(i) => i,
        None if names.len() == 2 => 1,
        None => {
            return Err(format!(
                "pattern needs a group named `secret` or exactly one capture group (it has {})",
                names.len().saturating_sub(1)
            ))
        }
    };
    let parts = names
        .iter()
        .enumerate()
        .filter_map(|(i, n)| n.filter(|_| i != secret).map(|n| (i, n.into())))
        .collect();
    Ok((secret, parts))
}

/// How far around a keyword hit the engine must look: the longest possible
/// match, from the pattern's syntax when bounded, else `max_len` or the default.
fn window_for(pattern: &str, max_len: Option<usize>) -> usize {
    let parsed = regex_syntax::ParserBuilder::new()
        .unicode(false)
        .utf8(false)
        .build()
        .parse(pattern);
    let bounded = parsed.ok().and_then(|hir| hir.properties().maximum_len());
    match (bounded, max_len) {
        (Some(n), Some(m)) => n.min(m),
        (Some(n), None) => n,
        (None, Some(m)) => m,
        (None, None) => DEFAULT_MAX_LEN,
    }
    .min(WINDOW_CAP)
}

fn check_verify(v: &super::VerifySpec, parts: &[&str]) -> Result<(), String> {
    match (&v.code, &v.url) {
        (Some(_), Some(_)) => Err("verify: give either `code` or `url`, not both".into()),
        (None, None) => {
            Err("verify: needs `url` (declarative) or `code` (a built-in verifier)".into())
        }
        (Some(name), None) => {
            if crate::verify::CODE_VERIFIERS.contains(&name.as_str()) {
                Ok(())
            } else {
                Err(format!(
                    "verify: no code verifier named `{name}` (known: {})",
                    crate::verify::CODE_VERIFIERS.join(", ")
                ))
            }
        }
        (None, Some(url)) => {
            if !(url.starts_with("https://") || url.starts_with("http://") || url.starts_with("{{"))
            {
                return Err(format!("verify: url `{url}` is not http(s)"));
            }
            // Verification reads; it never writes. POST is allowed for the
            // read-only RPC and GraphQL endpoints that need it.
            let method = v.method.as_deref().unwrap_or("GET");
            if !matches!(method, "GET" | "POST" | "HEAD") {
                return Err(format!(
                    "verify: method `{method}` is not allowed (GET, HEAD or POST only: verification never changes state)"
                ));
            }
            if v.valid_status.is_empty() && v.valid_body.is_empty() {
                return Err(
                    "verify: needs `valid_status` or `valid_body` to recognise a live secret"
                        .into(),
                );
            }
            if let Some(p) = v
                .identity
                .iter()
                .find(|p| !p.is_empty() && !p.starts_with('/'))
            {
                return Err(format!("verify: identity `{p}` is not a JSON pointer"));
            }
            let templates = std::iter::once(url.as_str())
                .chain(v.headers.values().map(String::as_str))
                .chain(v.body.as_deref())
                .chain(v.basic_auth.iter().flatten().map(String::as_str));
            for t in templates {
                for name in placeholders(t) {
                    if name != "secret" && !parts.contains(&name) {
                        return Err(format!(
                            "verify: `{{{{{name}}}}}` is neither `secret` nor a part of this detector ({})",
                            if parts.is_empty() { "it has none".to_string() } else { parts.join(", ") }
                        ));
                    }
                }
            }
            Ok(())
        }
    }
}

/// The names inside `{{…}}` in a verifier template.
pub(crate) fn placeholders(template: &str) -> impl Iterator<Item = &str> {
    template
        .split("{{")
        .skip(1)
        .filter_map(|rest| rest.split_once("}}").map(|(name, _)| name.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_is_longest_match_when_bounded() {
        assert_eq!(window_for(r"ghp_[A-Za-z0-9]{36}", None), 40);
        assert_eq!(window_for(r"a+", None), DEFAULT_MAX_LEN);
        assert_eq!(window_for(r"a+", Some(100)), 100);
    }

    #[test]
    fn kebab_case() {
        assert!(is_kebab_case("github-pat-classic"));
        assert!(!is_kebab_case("Github"));
        assert!(!is_kebab_case("a--b"));
        assert!(!is_kebab_case("-a"));
    }
}
