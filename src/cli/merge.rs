//! `leakhound merge`: one report from many (the shards of an org scan). The
//! JSON report contract is the interface: findings with the same
//! fingerprint become one with every location; statistics add up; the
//! strongest verification result wins.

use std::{
    collections::BTreeMap,
    fs::File,
    io::{self, BufWriter, Write},
    process::ExitCode,
};

use anyhow::Context;
use serde_json::{json, Value};

use super::MergeArgs;

/// Runs `leakhound merge`.
///
/// # Errors
/// An unreadable or non-report input, or a write error.
pub fn run(args: &MergeArgs) -> anyhow::Result<ExitCode> {
    let mut reports = Vec::new();
    for path in &args.reports {
        let text = std::fs::read(path)
            .with_context(|| format!("cannot read report {}", path.display()))?;
        let report: Value = serde_json::from_slice(&text)
            .with_context(|| format!("{} is not a JSON report", path.display()))?;
        if !report["findings"].is_array() {
            anyhow::bail!(
                "{} is not a leakhound JSON report (no findings list)",
                path.display()
            );
        }
        reports.push(report);
    }
    let merged = merge(&reports);
    let text = serde_json::to_string_pretty(&merged)?;
    match &args.output {
        Some(path) => {
            let mut w = BufWriter::new(
                File::create(path).with_context(|| format!("cannot create {}", path.display()))?,
            );
            writeln!(w, "{text}")?;
            w.flush()?;
        }
        None => writeln!(io::stdout().lock(), "{text}")?,
    }
    Ok(ExitCode::SUCCESS)
}

/// How strongly a verification status speaks: a live secret anywhere is live.
fn rank(status: &Value) -> u8 {
    match status.as_str() {
        Some("valid") => 5,
        Some("invalid") => 4,
        Some("unknown") => 3,
        Some("error") => 2,
        _ => 1,
    }
}

/// The merged report of `reports`.
pub fn merge(reports: &[Value]) -> Value {
    let mut findings: BTreeMap<String, Value> = BTreeMap::new();
    let mut stats: BTreeMap<String, u64> = BTreeMap::new();
    let mut skipped: Vec<Value> = Vec::new();
    for report in reports {
        if let Some(scan) = report["scan"].as_object() {
            for (k, v) in scan {
                if let Some(n) = v.as_u64() {
                    *stats.entry(k.clone()).or_default() += n;
                }
            }
            skipped.extend(
                scan.get("skipped")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default(),
            );
        }
        for f in report["findings"].as_array().into_iter().flatten() {
            let key = f["fingerprint"].as_str().unwrap_or_default().to_string();
            match findings.get_mut(&key) {
                None => {
                    findings.insert(key, f.clone());
                }
                Some(existing) => {
                    let more = f["locations"].as_array().cloned().unwrap_or_default();
                    if let Some(locs) = existing["locations"].as_array_mut() {
                        for l in more {
                            if !locs.contains(&l) {
                                locs.push(l);
                            }
                        }
                    }
                    if rank(&f["verification"]["status"])
                        > rank(&existing["verification"]["status"])
                    {
                        existing["verification"] = f["verification"].clone();
                    }
                }
            }
        }
    }
    skipped.sort_by_key(|s| s.to_string());
    skipped.dedup();
    let mut scan = serde_json::Map::new();
    for (k, v) in stats {
        scan.insert(k, json!(v));
    }
    scan.insert("skipped".into(), Value::Array(skipped));
    scan.insert("merged_reports".into(), json!(reports.len()));
    let mut findings: Vec<Value> = findings.into_values().collect();
    for f in &mut findings {
        if let Some(locs) = f["locations"].as_array_mut() {
            locs.sort_by_key(|l| l.to_string());
        }
    }
    findings.sort_by(|a, b| {
        (a["detector"].as_str(), a["fingerprint"].as_str())
            .cmp(&(b["detector"].as_str(), b["fingerprint"].as_str()))
    });
    json!({
        "tool": reports.first().map_or(json!({"name": "leakhound"}), |r| r["tool"].clone()),
        "scan": Value::Object(scan),
        "findings": findings,
    })
}
