//! The git pipeline: inventory (phase 1), then every unique blob read once
//! and scanned for what is new in it (phase 2), then one location per
//! appearance.
//!
//! Phase 2 follows each file's versions: a blob whose base (the version its
//! path held in the parent commit) is also being scanned is processed after
//! that base, on the same worker, and only its lines that the base does not
//! have — plus one line of context before each run — go through the engine.
//! A secret is therefore reported where its line was introduced, as a diff
//! would show it, while every blob is still inflated only once. Version
//! chains are independent, so they run in parallel and the result does not
//! depend on thread timing.

use std::{
    collections::HashMap,
    ops::Range,
    sync::{Arc, Mutex},
    time::Instant,
};

use gix::{prelude::FindExt, ObjectId};
use rayon::prelude::*;

use super::{
    fs::{add_collected, collect_fs},
    BlobScanner, GitStats, PostmanMode, ScanOutcome, ScanStats,
};
use crate::{
    engine::Engine,
    finding::{Finding, FindingsBuilder, FoundSecret, GitLocation, Location},
    source::{
        fs::FsSource,
        git::{BlobEntry, GitSource, Inventory, Origin},
        looks_binary, Skipped,
    },
};

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
    /// No secret: (blob bytes, bytes of new lines scanned).
    Clean(u64, u64),
    /// Secrets in inventory entry `.0`: (entry, blob bytes, new bytes, secrets).
    Found(usize, u64, u64, Arc<[FoundSecret]>),
    /// Not read: too large, binary, or unreadable.
    Skipped(Skipped),
}

/// Hashes of a blob's lines, to tell which lines of its successor are new.
/// The keys are already xxh3 hashes, so the set uses the cheap Fx hasher.
type LineSet = rustc_hash::FxHashSet<u64>;

/// Each line of `bytes` (without its `\r\n`/`\n`), with its start offset.
fn lines(bytes: &[u8]) -> impl Iterator<Item = (usize, &[u8])> {
    let mut start = 0;
    std::iter::from_fn(move || {
        if start >= bytes.len() {
            return None;
        }
        let end = memchr::memchr(b'\n', &bytes[start..]).map_or(bytes.len(), |i| start + i);
        let line = &bytes[start..end];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let item = (start, line);
        start = end + 1;
        Some(item)
    })
}

fn line_set(bytes: &[u8]) -> LineSet {
    let mut set = LineSet::with_capacity_and_hasher(bytes.len() / 24, Default::default());
    set.extend(lines(bytes).map(|(_, l)| xxhash_rust::xxh3::xxh3_64(l)));
    set
}

/// The byte ranges of `bytes` holding lines `base` lacks (the engine looks
/// for keywords on the line above each range too). When `own` is given, it
/// receives `bytes`' own line set in the same pass.
fn new_ranges(
    bytes: &[u8],
    base: &LineSet,
    out: &mut Vec<Range<usize>>,
    mut own: Option<&mut LineSet>,
) {
    out.clear();
    for (start, line) in lines(bytes) {
        let end = start + line.len();
        let hash = xxhash_rust::xxh3::xxh3_64(line);
        if let Some(own) = own.as_deref_mut() {
            own.insert(hash);
        }
        if !line.is_empty() && !base.contains(&hash) {
            match out.last_mut() {
                // Consecutive new lines (only a `\n` or `\r\n` between) are one range.
                Some(r) if r.end + 2 >= start => r.end = end,
                _ => out.push(start..end),
            }
        }
    }
}

/// Per-thread state: a repository handle with its caches, a read buffer and
/// engine scratch.
struct Worker<'e> {
    repo: gix::Repository,
    buf: Vec<u8>,
    ranges: Vec<Range<usize>>,
    scanner: BlobScanner<'e>,
    max: u64,
}

impl Worker<'_> {
    /// Reads blob `id` into the buffer; `Err` is the skip to record.
    fn read(&mut self, id: &ObjectId, path: &str) -> Result<(), Skipped> {
        let skipped = |reason: String| {
            tracing::warn!(blob = %id, path, "skipped: {reason}");
            Skipped {
                path: path.to_string(),
                reason: format!("blob {id}: {reason}"),
            }
        };
        match self.repo.find_header(*id) {
            Ok(h) if h.size() > self.max => {
                return Err(skipped(format!(
                    "too large ({} bytes > --max-file-size {})",
                    h.size(),
                    self.max
                )))
            }
            Ok(_) => {}
            Err(e) => return Err(skipped(format!("cannot read: {e}"))),
        }
        if let Err(e) = self.repo.objects.find_blob(id, &mut self.buf) {
            return Err(skipped(format!("cannot read: {e}")));
        }
        if looks_binary(&self.buf) {
            return Err(Skipped {
                path: path.to_string(),
                reason: format!("blob {id}: binary (NUL byte in the first 8 KiB)"),
            });
        }
        Ok(())
    }

    /// The line set of a base read on its own: one outside the inventory (a
    /// commit before a scanned range, HEAD's version of a staged file), or the
    /// last version of the previous segment of a long history.
    fn outside_base(&mut self, id: &ObjectId) -> Option<Arc<LineSet>> {
        self.repo
            .objects
            .find_blob(id, &mut self.buf)
            .ok()
            .map(|b| Arc::new(line_set(b.data)))
    }

    /// Scans entry `i` relative to `base` and returns its own line set when
    /// `want_lines` (it is the base of later versions).
    fn scan(
        &mut self,
        i: usize,
        entry: &BlobEntry,
        base: Option<&LineSet>,
        want_lines: bool,
    ) -> (Scanned, Option<Arc<LineSet>>) {
        let path = entry
            .appearances
            .first()
            .map(|a| a.path.to_string())
            .unwrap_or_default();
        if let Err(s) = self.read(&entry.id, &path) {
            return (Scanned::Skipped(s), None);
        }
        let bytes = &self.buf;
        let len = bytes.len() as u64;
        let own;
        let (found, new_bytes) = match base {
            None => {
                own = want_lines.then(|| line_set(bytes));
                (self.scanner.scan(bytes), len)
            }
            Some(base) => {
                let mut set = want_lines.then(|| {
                    LineSet::with_capacity_and_hasher(bytes.len() / 24, Default::default())
                });
                new_ranges(bytes, base, &mut self.ranges, set.as_mut());
                own = set;
                let new_bytes = self.ranges.iter().map(|r| (r.end - r.start) as u64).sum();
                let found = if self.ranges.is_empty() {
                    None
                } else {
                    self.scanner.scan_ranges(bytes, &self.ranges)
                };
                (found, new_bytes)
            }
        };
        let own = own.map(Arc::new);
        super::progress::record(len);
        let result = match found {
            Some(found) => Scanned::Found(i, len, new_bytes, found),
            None => Scanned::Clean(len, new_bytes),
        };
        (result, own)
    }

    /// Scans the version tree rooted at `root`, parents before children.
    fn chain(&mut self, root: usize, inv: &Inventory, links: &Links) -> Vec<Scanned> {
        // A segment's first version compares with its base read afresh:
        // either the base is outside the inventory, or it heads another segment.
        let base = inv.blobs[root].base.and_then(|b| self.outside_base(&b));
        let mut out = Vec::new();
        let mut stack: Vec<(usize, Option<Arc<LineSet>>)> = vec![(root, base)];
        while let Some((i, base)) = stack.pop() {
            let has_children = links.first_child[i] != NONE;
            let (scanned, own) = self.scan(i, &inv.blobs[i], base.as_deref(), has_children);
            out.push(scanned);
            let mut c = links.first_child[i];
            while c != NONE {
                stack.push((c as usize, own.clone()));
                c = links.next_sibling[c as usize];
            }
        }
        out
    }
}

/// The calling pool thread's own slot of `slots` (uncontended: each pool
/// thread only ever takes its own).
pub(crate) fn per_thread<T>(slots: &[Mutex<T>]) -> std::sync::MutexGuard<'_, T> {
    let i = rayon::current_thread_index().unwrap_or(0) % slots.len();
    slots[i].lock().unwrap_or_else(|p| p.into_inner())
}

const NONE: u32 = u32::MAX;

/// Versions processed in sequence by one worker before a version tree is cut
/// into a new segment (which re-reads its base): bounds the longest
/// sequential run, so a file with thousands of versions (or a blob, like the
/// empty file, that thousands of files grew from) does not keep one core
/// busy alone.
const SEGMENT: u32 = 64;

/// Version links between inventory entries: a child's base is its parent.
struct Links {
    first_child: Vec<u32>,
    next_sibling: Vec<u32>,
    roots: Vec<usize>,
}

impl Links {
    fn new(inv: &Inventory) -> Links {
        let n = inv.blobs.len();
        let mut links = Links {
            first_child: vec![NONE; n],
            next_sibling: vec![NONE; n],
            roots: Vec::new(),
        };
        // Each entry's segment head, and each head's segment size.
        let mut head = vec![0u32; n];
        let mut size = vec![0u32; n];
        for (i, e) in inv.blobs.iter().enumerate() {
            // Bases are recorded before their successors, so a base's index is
            // smaller: the links form a forest, never a cycle.
            let base = e
                .base
                .and_then(|b| inv.by_id.get(&b))
                .filter(|&&b| b < i && size[head[b] as usize] < SEGMENT);
            match base {
                Some(&b) => {
                    head[i] = head[b];
                    size[head[b] as usize] += 1;
                    links.next_sibling[i] = links.first_child[b];
                    links.first_child[b] = i as u32;
                }
                None => {
                    head[i] = i as u32;
                    size[i] = 1;
                    links.roots.push(i);
                }
            }
        }
        // Largest segments first, so a long one does not start last.
        links.roots.sort_by_key(|&r| std::cmp::Reverse(size[r]));
        links
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
    let inventory = source.inventory(options.threads)?;
    scan_inventory(engine, source, inventory, options, started)
}

/// Phase 2 of [`scan_git`] on an inventory the caller built (and may have
/// trimmed: an incremental scan drops the blobs it scanned before).
///
/// # Errors
/// When the worker threads or the work-tree walk cannot start.
pub fn scan_inventory(
    engine: &Engine,
    source: &GitSource,
    inventory: Inventory,
    options: &GitScanOptions<'_>,
    started: Instant,
) -> anyhow::Result<ScanOutcome> {
    super::progress::set_total(inventory.blobs.len() as u64);
    let mut skipped = inventory.skipped.clone();

    // 2. Every unique blob, once; version chains in parallel.
    let scan_started = Instant::now();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(options.threads)
        .thread_name(|i| format!("lh-scan-{i}"))
        .build()?;
    let max = source.max_blob_size();
    let links = Links::new(&inventory);
    // One worker per pool thread, kept for the whole phase: its delta-base
    // cache stays warm (rayon's `map_init` would rebuild state per job split).
    let workers: Vec<Mutex<Worker>> = (0..pool.current_num_threads())
        .map(|_| {
            Mutex::new(Worker {
                repo: source.thread_local(),
                buf: Vec::new(),
                ranges: Vec::new(),
                scanner: BlobScanner::new(engine),
                max,
            })
        })
        .collect();
    let results: Vec<Scanned> = pool.install(|| {
        links
            .roots
            .par_iter()
            // Every segment its own job: rayon only subdivides stolen work, so
            // without this one worker could keep a run of the largest
            // segments while the other idles.
            .with_max_len(1)
            .flat_map_iter(|&root| {
                let mut w = per_thread(&workers);
                w.chain(root, &inventory, &links)
            })
            .collect()
    });
    let scan_ms = scan_started.elapsed().as_millis() as u64;

    // 3. Working-tree files whose content history does not already hold.
    let mut worktree = match options.worktree {
        Some(fs) => {
            let covered = |bytes: &[u8]| {
                gix::objs::compute_hash(gix::hash::Kind::Sha1, gix::object::Kind::Blob, bytes)
                    .is_ok_and(|id| inventory.by_id.contains_key(&id))
            };
            Some(collect_fs(engine, fs, Some(&covered), PostmanMode::Detect)?)
        }
        None => None,
    };

    // 4. One location per (secret, appearance of its blob), then group.
    let mut builder = FindingsBuilder::new(engine.detector_set().clone());
    let mut provenance = source.provenance();
    let repo = source.display();
    let (mut bytes, mut new_bytes, mut blobs) = (0u64, 0u64, 0u64);
    for r in results {
        match r {
            Scanned::Clean(n, new) => {
                bytes += n;
                new_bytes += new;
                blobs += 1;
            }
            Scanned::Skipped(s) => skipped.push(s),
            Scanned::Found(i, n, new, found) => {
                bytes += n;
                new_bytes += new;
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
    if let Some(w) = &mut worktree {
        let (pm_bytes, pm_docs) =
            add_collected(engine, &mut builder, w, PostmanMode::Detect, Vec::new());
        bytes += w.bytes + pm_bytes;
        blobs += w.blobs + pm_docs;
        deduplicated = w.deduplicated;
        covered = w.covered;
        skipped.extend(w.skipped.iter().cloned());
    }
    let mut findings = builder.finish();
    mark_in_head(&mut findings, &inventory, &source.thread_local());
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
                bytes_new: new_bytes,
                enumerate_ms: inventory.duration_ms,
                scan_ms,
            }),
            ..ScanStats::default()
        },
    })
}

/// A git location is `in_head` when HEAD's version of its path still holds
/// the finding's secret: rotate and remove, rather than rewrite history.
fn mark_in_head(findings: &mut [Finding], inventory: &Inventory, repo: &gix::Repository) {
    let mut buf = Vec::new();
    for f in findings {
        let secret = f.secret.as_bytes();
        let mut verdict: HashMap<String, bool> = HashMap::new();
        for l in &mut f.locations {
            let Location::Git(g) = l else { continue };
            let in_head = *verdict.entry(g.path.clone()).or_insert_with(|| {
                let Some(id) = inventory.head.get(g.path.as_bytes()) else {
                    return false;
                };
                repo.objects
                    .find_blob(id, &mut buf)
                    .is_ok_and(|b| memchr::memmem::find(b.data, secret).is_some())
            });
            g.in_head = in_head;
        }
    }
}
