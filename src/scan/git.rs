//! The git pipeline: inventory (phase 1), then every unique blob read and
//! scanned once on a rayon pool (phase 2), then one location per appearance.

use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
    time::Instant,
};

use gix::{prelude::FindExt, ObjectId};
use rayon::prelude::*;

use super::{
    fs::{add_file_locations, collect_fs},
    BlobScanner, GitStats, ScanOutcome, ScanStats,
};
use crate::{
    engine::Engine,
    finding::{Finding, FindingsBuilder, FoundSecret, GitLocation, Location},
    source::{
        fs::FsSource,
        git::{GitSource, Inventory, Origin},
        Skipped,
    },
};

/// Bytes sniffed for a NUL to call a blob binary.
const BINARY_SNIFF: usize = 8 << 10;

/// How a history scan runs.
#[derive(Debug, Default)]
pub struct GitScanOptions<'a> {
    /// Worker threads for phase 2 (0: one per core).
    pub threads: usize,
    /// Also scan these working-tree files, unless their content is already a
    /// blob of the scanned history.
    pub worktree: Option<&'a FsSource>,
}

/// What one blob yielded.
enum Scanned {
    Clean(u64),
    Found(usize, u64, Arc<[FoundSecret]>),
    Skipped(Skipped),
}

/// Per-thread state: a repository handle with its caches, a read buffer and
/// engine scratch.
struct Worker<'e> {
    repo: gix::Repository,
    buf: Vec<u8>,
    scanner: BlobScanner<'e>,
    max: u64,
}

impl Worker<'_> {
    fn scan(&mut self, index: usize, id: &ObjectId, path: &str) -> Scanned {
        let skipped = |reason: String| {
            tracing::warn!(blob = %id, path, "skipped: {reason}");
            Scanned::Skipped(Skipped {
                path: path.to_string(),
                reason: format!("blob {id}: {reason}"),
            })
        };
        match self.repo.find_header(*id) {
            Ok(h) if h.size() > self.max => {
                return skipped(format!(
                    "too large ({} bytes > --max-file-size {})",
                    h.size(),
                    self.max
                ))
            }
            Ok(_) => {}
            Err(e) => return skipped(format!("cannot read: {e}")),
        }
        let data = match self.repo.objects.find_blob(id, &mut self.buf) {
            Ok(b) => b.data,
            Err(e) => return skipped(format!("cannot read: {e}")),
        };
        let len = data.len() as u64;
        if memchr::memchr(0, &data[..data.len().min(BINARY_SNIFF)]).is_some() {
            return Scanned::Clean(len);
        }
        match self.scanner.scan(data) {
            Some(found) => Scanned::Found(index, len, found),
            None => Scanned::Clean(len),
        }
    }
}

/// Scans the history of `source` (and, optionally, working-tree files that
/// history does not hold).
///
/// # Errors
/// When the repository's refs or commits cannot be listed, a revision does
/// not resolve, or the work-tree walk cannot start.
pub fn scan_git(
    engine: &Engine,
    source: &GitSource,
    options: &GitScanOptions<'_>,
) -> anyhow::Result<ScanOutcome> {
    let started = Instant::now();

    // 1. What to scan, and where each blob was introduced.
    let inventory = source.inventory()?;
    let mut skipped = inventory.skipped.clone();

    // 2. Every unique blob, once, in parallel.
    let scan_started = Instant::now();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(options.threads)
        .build()?;
    let max = source.max_blob_size();
    let results: Vec<Scanned> = pool.install(|| {
        inventory
            .blobs
            .par_iter()
            .enumerate()
            .map_init(
                || Worker {
                    repo: source.thread_local(),
                    buf: Vec::new(),
                    scanner: BlobScanner::new(engine),
                    max,
                },
                |w, (i, entry)| {
                    let path = entry
                        .appearances
                        .first()
                        .map(|a| a.path.to_string())
                        .unwrap_or_default();
                    w.scan(i, &entry.id, &path)
                },
            )
            .collect()
    });
    let scan_ms = scan_started.elapsed().as_millis() as u64;

    // 3. Working-tree files whose content history does not already hold.
    let worktree = match options.worktree {
        Some(fs) => {
            let covered = |bytes: &[u8]| {
                gix::objs::compute_hash(gix::hash::Kind::Sha1, gix::object::Kind::Blob, bytes)
                    .is_ok_and(|id| inventory.by_id.contains_key(&id))
            };
            Some(collect_fs(engine, fs, Some(&covered))?)
        }
        None => None,
    };

    // 4. One location per (secret, appearance of its blob), then group.
    let mut builder = FindingsBuilder::new(engine.detector_set().clone());
    let mut provenance = source.provenance();
    let repo = source.display();
    let (mut bytes, mut blobs) = (0u64, 0u64);
    for r in results {
        match r {
            Scanned::Clean(n) => {
                bytes += n;
                blobs += 1;
            }
            Scanned::Skipped(s) => skipped.push(s),
            Scanned::Found(i, n, found) => {
                bytes += n;
                blobs += 1;
                let entry = &inventory.blobs[i];
                for a in &entry.appearances {
                    let commit = match a.origin {
                        Origin::Commit(c) => Some(provenance.commit(inventory.commits[c as usize])),
                        Origin::Staged | Origin::Unreachable => None,
                    };
                    for f in found.iter() {
                        let loc = GitLocation {
                            repo: repo.clone(),
                            commit: commit.as_ref().map(|c| c.id.clone()),
                            path: a.path.to_string(),
                            line: f.line,
                            column: f.column,
                            author: commit.as_ref().map(|c| c.author.clone()),
                            email: commit.as_ref().map(|c| c.email.clone()),
                            date: commit.as_ref().map(|c| c.date.clone()),
                            summary: commit.as_ref().map(|c| c.summary.clone()),
                            blob: entry.id.to_string(),
                            in_head: false,
                            reachable: a.origin != Origin::Unreachable,
                            staged: a.origin == Origin::Staged,
                            snippet: f.snippet.render(&String::from_utf8_lossy(&f.secret)),
                            context: f.snippet.clone(),
                        };
                        builder.add(f, Location::Git(loc));
                    }
                }
            }
        }
    }
    let (mut deduplicated, mut covered) = (0, 0);
    if let Some(w) = &worktree {
        add_file_locations(&mut builder, w);
        bytes += w.bytes;
        blobs += w.blobs;
        deduplicated = w.deduplicated;
        covered = w.covered;
        skipped.extend(w.skipped.iter().cloned());
    }
    let mut findings = builder.finish();
    mark_in_head(&mut findings, &inventory);
    tracing::info!(covered, "work-tree files already in history");

    skipped.sort();
    Ok(ScanOutcome {
        findings,
        stats: ScanStats {
            duration_ms: started.elapsed().as_millis() as u64,
            bytes_scanned: bytes,
            blobs_scanned: blobs,
            blobs_deduplicated: deduplicated,
            skipped,
            git: Some(GitStats {
                commits: inventory.commits.len() as u64,
                trees_read: inventory.trees_read,
                unique_blobs: inventory.blobs.len() as u64,
                enumerate_ms: inventory.duration_ms,
                scan_ms,
            }),
        },
    })
}

/// A git location is `in_head` when HEAD's blob at its path is one of the
/// blobs that hold this finding's secret: the secret is still there today.
fn mark_in_head(findings: &mut [Finding], inventory: &Inventory) {
    let head: HashMap<&[u8], String> = inventory
        .head
        .iter()
        .map(|(p, id)| (p.as_slice(), id.to_string()))
        .collect();
    for f in findings {
        let blobs: HashSet<String> = f
            .locations
            .iter()
            .filter_map(|l| match l {
                Location::Git(g) => Some(g.blob.clone()),
                Location::File(_) => None,
            })
            .collect();
        for l in &mut f.locations {
            if let Location::Git(g) = l {
                g.in_head = head
                    .get(g.path.as_bytes())
                    .is_some_and(|b| blobs.contains(b));
            }
        }
    }
}
