//! `leakhound detectors list` and `leakhound detectors check`, and the
//! detector loading every command shares.

use std::{io::Write, process::ExitCode};

use anyhow::{bail, Context};

use super::{DetectorArgs, DetectorsCommand};
use crate::detector::{self, Detector, DetectorSet, LoadError};

/// Loads built-in and user detectors. User detectors must also pass their
/// examples, as `detectors check` would require.
///
/// # Errors
/// Every load or self-test problem, one per line.
pub fn load(args: &DetectorArgs) -> anyhow::Result<DetectorSet> {
    let mut all = if args.no_builtin {
        Vec::new()
    } else {
        detector::load_builtin().map_err(joined)?
    };
    all.retain(|d| !args.disabled.iter().any(|id| id == d.id.as_str()));
    let builtin_count = all.len();
    all.extend(detector::load_paths(&args.detector_paths).map_err(joined)?);
    all.retain(|d| !args.disabled.iter().any(|id| id == d.id.as_str()));
    if all.is_empty() {
        bail!("no detectors loaded (--no-builtin without --detectors)");
    }
    let set = DetectorSet::new(all).map_err(|e| joined(vec![e]))?;
    let user: Vec<usize> = (builtin_count..set.len()).collect();
    let failures = detector::check(&set, &user);
    if !failures.is_empty() {
        return Err(joined(failures));
    }
    Ok(set)
}

fn joined(errors: Vec<LoadError>) -> anyhow::Error {
    let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
    anyhow::anyhow!("invalid detectors:\n  {}", lines.join("\n  "))
}

/// Runs a `detectors` subcommand.
///
/// # Errors
/// Invalid detector files (exit 2 in `main`) and output errors.
pub fn run(cmd: &DetectorsCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        DetectorsCommand::List { detectors, json } => {
            let set = load(detectors)?;
            list(set.as_slice(), *json)?;
            Ok(ExitCode::SUCCESS)
        }
        DetectorsCommand::Check { paths } => check(paths),
    }
}

fn list(detectors: &[Detector], json: bool) -> anyhow::Result<()> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if json {
        let rows: Vec<_> = detectors
            .iter()
            .map(|d| {
                serde_json::json!({
                    "id": d.id, "name": d.name, "confidence": d.confidence,
                    "keywords": d.keywords, "verifies": d.verify.is_some(), "origin": d.origin,
                    "window": d.window,
                })
            })
            .collect();
        serde_json::to_writer_pretty(&mut out, &rows)?;
        writeln!(out)?;
        return Ok(());
    }
    let width = detectors
        .iter()
        .map(|d| d.id.as_str().len())
        .max()
        .unwrap_or(2);
    writeln!(
        out,
        "{:<width$}  {:<6}  {:<6}  {:<50}  KEYWORDS",
        "ID", "CONF", "VERIFY", "NAME"
    )?;
    for d in detectors {
        writeln!(
            out,
            "{:<width$}  {:<6}  {:<6}  {:<50}  {}",
            d.id,
            d.confidence,
            if d.verify.is_some() { "yes" } else { "no" },
            d.name,
            d.keywords.join(", ")
        )?;
    }
    writeln!(
        out,
        "{} detectors, {} can verify",
        detectors.len(),
        detectors.iter().filter(|d| d.verify.is_some()).count()
    )?;
    Ok(())
}

fn check(paths: &[std::path::PathBuf]) -> anyhow::Result<ExitCode> {
    // Given files are checked against the built-ins they would run beside; a
    // given detector shadows a built-in of the same id, so an edited built-in
    // file can be checked before it is compiled in.
    let user = detector::load_paths(paths).map_err(joined)?;
    let shadowed: std::collections::HashSet<String> =
        user.iter().map(|d| d.id.to_string()).collect();
    let mut all: Vec<Detector> = detector::load_builtin()
        .map_err(joined)
        .context("built-in detectors")?
        .into_iter()
        .filter(|d| !shadowed.contains(d.id.as_str()))
        .collect();
    let first_user = all.len();
    all.extend(user);
    let set = DetectorSet::new(all).map_err(|e| joined(vec![e]))?;
    let targets: Vec<usize> = if paths.is_empty() {
        (0..set.len()).collect()
    } else {
        (first_user..set.len()).collect()
    };
    let failures = detector::check(&set, &targets);
    let examples: usize = targets
        .iter()
        .map(|&i| set.as_slice()[i].examples.len() + set.as_slice()[i].non_examples.len())
        .sum();
    for f in &failures {
        eprintln!("FAIL {f}");
    }
    println!(
        "{} detectors checked, {} examples and non-examples run, {} failure{}",
        targets.len(),
        examples,
        failures.len(),
        if failures.len() == 1 { "" } else { "s" }
    );
    Ok(if failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
