//! `--format sarif`: SARIF 2.1.0 for code scanning (GitHub, GitLab, Azure).
//!
//! One rule per detector that found something, with what the secret is, how
//! to rotate it and a help URI; one result per finding with every location
//! (file or git path; the commit, blob and Postman pointer in properties),
//! `partialFingerprints` from the content fingerprint so an alert survives
//! line moves, and confidence and verification in properties. The message
//! never contains the secret: it shows the redacted form whatever `--redact`
//! says, because SARIF is uploaded to dashboards.

use std::{
    collections::BTreeMap,
    io::{self, Write},
};

use serde_json::{json, Value};

use crate::{
    detector::{Confidence, DetectorSet},
    finding::{redact, Finding, Location, SuppressionKind},
};

/// The SARIF schema the output follows.
const SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// What to do about any leaked credential, appended to each rule's help.
const ROTATE: &str = "Revoke or rotate the credential at its provider now (assume it is compromised: it is in the repository's history), replace it in code with a reference to a secret store or an environment variable, and check the provider's logs for use of the leaked value.";

/// Writes one SARIF log with one run.
///
/// # Errors
/// I/O errors of `out`.
pub fn write_sarif(
    findings: &[Finding],
    detectors: &DetectorSet,
    out: &mut dyn Write,
) -> io::Result<()> {
    let mut rule_index: BTreeMap<&str, usize> = BTreeMap::new();
    for f in findings {
        let next = rule_index.len();
        rule_index.entry(f.detector.as_str()).or_insert(next);
    }
    let mut ordered: Vec<(&str, usize)> = rule_index.iter().map(|(k, v)| (*k, *v)).collect();
    ordered.sort_by_key(|(_, i)| *i);
    let rules: Vec<Value> = ordered.iter().map(|(id, _)| rule(id, detectors)).collect();
    let results: Vec<Value> = findings
        .iter()
        .map(|f| result(f, rule_index[f.detector.as_str()]))
        .collect();
    let log = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "leakhound",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/leakhound/leakhound",
                "rules": rules,
            }},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    });
    serde_json::to_writer_pretty(&mut *out, &log)?;
    out.write_all(b"\n")
}

fn rule(id: &str, detectors: &DetectorSet) -> Value {
    let det = detectors.index_of(id).map(|i| &detectors.as_slice()[i]);
    let name = det.map_or(id, |d| d.name.as_str());
    let description = det.map_or("", |d| d.description.as_str());
    let help_uri = det.and_then(|d| d.references.first()).cloned();
    let level = det.map_or("warning", |d| level(d.confidence));
    let mut rule = json!({
        "id": id,
        "name": pascal(id),
        "shortDescription": {"text": name},
        "fullDescription": {"text": if description.is_empty() { name } else { description }},
        "help": {
            "text": format!("{description}\n\n{ROTATE}"),
            "markdown": format!("**{name}**\n\n{description}\n\n**Fix:** {ROTATE}"),
        },
        "defaultConfiguration": {"level": level},
        "properties": {
            "tags": ["security", "secret"],
            "precision": det.map_or("medium", |d| precision(d.confidence)),
            "security-severity": "8.0",
        },
    });
    if let Some(uri) = help_uri {
        rule["helpUri"] = Value::String(uri);
    }
    rule
}

fn result(f: &Finding, rule_index: usize) -> Value {
    let locations: Vec<Value> = f.locations.iter().map(location).collect();
    let mut props = json!({
        "confidence": f.confidence.as_str(),
        "verification": f.verification.status,
        "fingerprint": f.fingerprint,
        "locationCount": f.locations.len(),
    });
    if let Some(detail) = &f.verification.detail {
        props["verificationDetail"] = Value::String(detail.clone());
    }
    let suppressions: Vec<Value> = f
        .suppressed
        .iter()
        .map(|s| {
            let mut v = json!({
                "kind": if s.kind == SuppressionKind::Inline { "inSource" } else { "external" },
                "status": "accepted",
            });
            if let Some(j) = &s.justification {
                v["justification"] = Value::String(j.clone());
            }
            v
        })
        .collect();
    json!({
        "suppressions": suppressions,
        "ruleId": f.detector.as_str(),
        "ruleIndex": rule_index,
        "level": level(f.confidence),
        "message": {"text": format!("{} found: {}", f.name, redact(&f.secret))},
        "locations": locations,
        "partialFingerprints": {"leakhoundFingerprint/v1": f.fingerprint},
        "properties": props,
    })
}

fn location(l: &Location) -> Value {
    match l {
        Location::File(f) => physical(&f.path, Some((f.line, f.column)), json!({})),
        Location::Git(g) => {
            let mut props = json!({"blob": g.blob, "inHead": g.in_head, "reachable": g.reachable});
            if let Some(c) = &g.commit {
                props["commit"] = Value::String(c.clone());
            }
            if let Some(d) = &g.date {
                props["date"] = Value::String(d.clone());
            }
            if g.staged {
                props["staged"] = Value::Bool(true);
            }
            let path = if g.path.is_empty() {
                format!("blob:{}", g.blob)
            } else {
                g.path.clone()
            };
            physical(&path, Some((g.line, g.column)), props)
        }
        Location::Postman(p) => {
            let mut props = json!({"jsonPointer": p.json_pointer, "field": p.field});
            if let Some(r) = &p.request {
                props["request"] = Value::String(r.clone());
            }
            if let Some(v) = &p.via {
                props["via"] = Value::String(v.clone());
            }
            let mut loc = physical(&p.path, None, props);
            loc["logicalLocations"] =
                json!([{"fullyQualifiedName": p.json_pointer, "kind": "member"}]);
            loc
        }
    }
}

fn physical(path: &str, line_col: Option<(usize, usize)>, properties: Value) -> Value {
    let mut phys = json!({"artifactLocation": {"uri": uri(path)}});
    if let Some((line, column)) = line_col {
        phys["region"] = json!({"startLine": line.max(1), "startColumn": column.max(1)});
    }
    let mut loc = json!({"physicalLocation": phys});
    if properties.as_object().is_some_and(|o| !o.is_empty()) {
        loc["properties"] = properties;
    }
    loc
}

/// A relative URI reference for a path: `/` separators, and the characters
/// a URI cannot hold percent-encoded.
fn uri(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.replace('\\', "/").bytes() {
        match b {
            b'A'..=b'Z'
            | b'a'..=b'z'
            | b'0'..=b'9'
            | b'-'
            | b'.'
            | b'_'
            | b'~'
            | b'/'
            | b'!'
            | b'$'
            | b'&'
            | b'\''
            | b'('
            | b')'
            | b'*'
            | b'+'
            | b','
            | b';'
            | b'='
            | b':'
            | b'@' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn level(c: Confidence) -> &'static str {
    match c {
        Confidence::High | Confidence::Medium => "error",
        Confidence::Low => "warning",
    }
}

fn precision(c: Confidence) -> &'static str {
    match c {
        Confidence::High => "very-high",
        Confidence::Medium => "high",
        Confidence::Low => "medium",
    }
}

/// `aws-secret-access-key` → `AwsSecretAccessKey` (SARIF's rule `name`).
fn pascal(id: &str) -> String {
    id.split(['-', '_', '.'])
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}
