//! Scanning many repositories as one run — an organisation's mirrors, or a
//! single repository under `--state` — with the state store making reruns
//! incremental: blobs scanned in an earlier run under the same detector set
//! are not read again, and each finding's standing (new, still present,
//! resolved) is kept across runs.

use std::{
    collections::{HashMap, HashSet},
    path::PathBuf,
    time::Instant,
};

use sha2::{Digest, Sha256};

use super::{git::scan_inventory, GitScanOptions, GitStats, ScanOutcome};
use crate::{
    detector::DetectorSet,
    engine::Engine,
    finding::Finding,
    source::{git::GitSourceBuilder, Skipped},
    store::{Standing, Store, StoreError},
};

/// One local repository to scan, and the name reports give it.
#[derive(Debug, Clone)]
pub struct RepoTarget {
    /// `acme/api`, or the path as given.
    pub name: String,
    /// The repository (bare mirror or working copy).
    pub path: PathBuf,
}

/// What a run did, for its summary line.
#[derive(Debug, Default, Clone)]
pub struct RunSummary {
    /// Repositories scanned.
    pub repos_scanned: u64,
    /// Repositories that could not be opened or listed.
    pub repos_failed: u64,
    /// Blobs read and scanned in this run.
    pub blobs_scanned: u64,
    /// Blobs skipped because an earlier run scanned them.
    pub blobs_skipped: u64,
    /// Repositories whose refs had not moved since their last scan (not
    /// even listed again).
    pub repos_unchanged: u64,
    /// Repositories rescanned because the detector set changed.
    pub rescanned: Vec<String>,
}

/// A hash of everything in a detector set that decides what a scan finds,
/// and of this build (whose engine may change): blobs scanned under another
/// hash are scanned again.
pub fn detector_set_hash(set: &DetectorSet) -> String {
    let mut h = Sha256::new();
    h.update(env!("CARGO_PKG_VERSION").as_bytes());
    for d in set.as_slice() {
        let line = format!(
            "{}\u{0}{}\u{0}{:?}\u{0}{:?}\u{0}{:?}\u{0}{}\u{0}{:?}\u{0}{}\n",
            d.id.as_str(),
            d.pattern,
            d.keywords,
            d.min_entropy,
            d.confidence,
            d.placeholder_filter,
            d.companion
                .iter()
                .map(|c| (&c.detector, &c.part, c.within, c.absorb))
                .collect::<Vec<_>>(),
            d.ignore_if.len(),
        );
        h.update(line.as_bytes());
    }
    hex::encode(&h.finalize()[..16])
}

/// Scans `targets` one after another (each scan is parallel inside) and
/// merges their findings: the same secret in two repositories is one
/// finding with both locations. With a `store`, each repository's known
/// blobs are skipped and the store updated; the standing of every finding
/// is returned by fingerprint.
///
/// A repository that cannot be opened or listed is recorded in
/// `scan.skipped` and the run goes on.
///
/// # Errors
/// State store failures (the run cannot keep its promises without it).
pub fn scan_repos(
    engine: &Engine,
    targets: &[RepoTarget],
    builder: &GitSourceBuilder,
    threads: usize,
    mut store: Option<&mut Store>,
) -> Result<(ScanOutcome, RunSummary, HashMap<String, Standing>), StoreError> {
    let started = Instant::now();
    let mut merged = ScanOutcome::default();
    let mut git = GitStats::default();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut standings: HashMap<String, Standing> = HashMap::new();
    let mut summary = RunSummary::default();
    for target in targets {
        let mut b = builder.clone();
        b.name(target.name.clone());
        let mut skip = |reason: String| {
            summary.repos_failed += 1;
            merged.stats.skipped.push(Skipped {
                path: target.name.clone(),
                reason,
            });
        };
        let source = match b.build(&target.path) {
            Ok(s) => s,
            Err(e) => {
                skip(e.to_string());
                continue;
            }
        };
        let digest = match source.history_digest() {
            Ok(d) => d,
            Err(e) => {
                skip(e.to_string());
                continue;
            }
        };
        let repo_state = match store.as_deref_mut() {
            Some(s) => Some(s.repo(&target.name)?),
            None => None,
        };
        // Same refs, same detectors: nothing to list, nothing to scan.
        if let (Some(s), Some(state)) = (store.as_deref_mut(), &repo_state) {
            if digest.is_some() && state.history == digest {
                s.record_unchanged(state)?;
                summary.repos_scanned += 1;
                summary.repos_unchanged += 1;
                summary.blobs_skipped += state.known_blobs.len() as u64;
                continue;
            }
        }
        let mut inventory = match source.inventory(threads) {
            Ok(i) => i,
            Err(e) => {
                skip(e.to_string());
                continue;
            }
        };
        let reachable: HashSet<String> = inventory.blobs.iter().map(|b| b.id.to_string()).collect();
        if let Some(state) = &repo_state {
            if state.detectors_changed {
                summary.rescanned.push(target.name.clone());
            }
            inventory.retain_blobs(|id| !state.known_blobs.contains(&id.to_string()));
        }
        summary.blobs_skipped += (reachable.len() - inventory.blobs.len()) as u64;
        let options = GitScanOptions {
            threads,
            worktree: None,
        };
        let outcome = match scan_inventory(engine, &source, inventory, &options, Instant::now()) {
            Ok(o) => o,
            Err(e) => {
                skip(format!("{e:#}"));
                continue;
            }
        };
        summary.repos_scanned += 1;
        if let (Some(s), Some(state)) = (store.as_deref_mut(), &repo_state) {
            let found = s.record_repo(state, digest.as_deref(), &reachable, &outcome.findings)?;
            for (f, standing) in outcome.findings.iter().zip(found) {
                let entry = standings
                    .entry(f.fingerprint.clone())
                    .or_insert_with(|| standing.clone());
                entry.new |= standing.new;
            }
        }
        add_stats(&mut merged, &mut git, &outcome);
        for f in outcome.findings {
            merge_finding(&mut merged.findings, &mut index, f);
        }
    }
    summary.blobs_scanned = merged.stats.blobs_scanned;
    merged.stats.git = Some(git);
    merged.stats.skipped.sort();
    merged.stats.duration_ms = started.elapsed().as_millis() as u64;
    Ok((merged, summary, standings))
}

fn add_stats(merged: &mut ScanOutcome, git: &mut GitStats, outcome: &ScanOutcome) {
    let s = &mut merged.stats;
    s.bytes_scanned += outcome.stats.bytes_scanned;
    s.blobs_scanned += outcome.stats.blobs_scanned;
    s.blobs_deduplicated += outcome.stats.blobs_deduplicated;
    s.skipped.extend(outcome.stats.skipped.iter().cloned());
    if let Some(g) = &outcome.stats.git {
        git.commits += g.commits;
        git.trees_read += g.trees_read;
        git.unique_blobs += g.unique_blobs;
        git.bytes_new += g.bytes_new;
        git.enumerate_ms += g.enumerate_ms;
        git.scan_ms += g.scan_ms;
    }
}

/// Adds `f` to `findings`, or its locations to the finding of the same
/// fingerprint already there.
pub fn merge_finding(findings: &mut Vec<Finding>, index: &mut HashMap<String, usize>, f: Finding) {
    match index.get(&f.fingerprint) {
        Some(&i) => findings[i].locations.extend(f.locations),
        None => {
            index.insert(f.fingerprint.clone(), findings.len());
            findings.push(f);
        }
    }
}
