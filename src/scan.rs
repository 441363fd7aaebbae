//! The pipeline: source → engine → findings, with statistics.
//!
//! Each worker thread owns a [`BlobScanner`] (engine scratch plus match
//! buffer) and accumulates results locally; results merge once per thread.
//! Identical content is scanned once: a [`ContentCache`] keyed by a 128-bit
//! hash of the bytes hands the first scan's results to every later copy.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Instant,
};

use serde::Serialize;

use crate::{
    engine::{Engine, Match, Scratch},
    finding::{snippet, FileLocation, Finding, FindingsBuilder, FoundSecret, Location},
    source::{
        fs::{self, FsSource},
        BlobSink, Skipped,
    },
};

/// What a scan did, for the report's `scan` object.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ScanStats {
    /// Wall time of the scan.
    pub duration_ms: u64,
    /// Bytes of every blob read (copies included).
    pub bytes_scanned: u64,
    /// Blobs (files) read.
    pub blobs_scanned: u64,
    /// Blobs whose content was already scanned elsewhere in this run.
    pub blobs_deduplicated: u64,
    /// What was not scanned, and why.
    pub skipped: Vec<Skipped>,
}

/// Findings plus statistics: everything a report needs.
#[derive(Debug, Clone, Default)]
pub struct ScanOutcome {
    /// Deduplicated findings in report order.
    pub findings: Vec<Finding>,
    /// Statistics.
    pub stats: ScanStats,
}

const CACHE_SHARDS: usize = 16;

/// What one distinct content held: its secrets, or `None` when it had none.
type Cached = Option<Arc<[FoundSecret]>>;

/// Results per distinct content, so identical blobs are scanned once.
///
/// Two threads may meet the same new content at the same moment and both scan
/// it; the results are identical, so the race only costs time, never
/// correctness.
#[derive(Debug, Default)]
pub struct ContentCache {
    shards: [Mutex<HashMap<u128, Cached>>; CACHE_SHARDS],
}

impl ContentCache {
    fn get(&self, key: u128) -> Option<Cached> {
        let shard = &self.shards[(key as usize) % CACHE_SHARDS];
        shard
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
            .cloned()
    }

    fn insert(&self, key: u128, value: Cached) {
        let shard = &self.shards[(key as usize) % CACHE_SHARDS];
        shard
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key, value);
    }
}

/// One worker's engine state: build one per thread.
#[derive(Debug)]
pub struct BlobScanner<'e> {
    engine: &'e Engine,
    scratch: Scratch,
    matches: Vec<Match>,
}

impl<'e> BlobScanner<'e> {
    /// A scanner with fresh scratch space.
    pub fn new(engine: &'e Engine) -> BlobScanner<'e> {
        BlobScanner {
            engine,
            scratch: engine.scratch(),
            matches: Vec::new(),
        }
    }

    /// Scans `bytes` and returns its secrets, owned (None when there are none).
    /// Allocates only for what is found.
    pub fn scan(&mut self, bytes: &[u8]) -> Option<Arc<[FoundSecret]>> {
        self.engine
            .scan(bytes, &mut self.scratch, &mut self.matches);
        if self.matches.is_empty() {
            return None;
        }
        Some(
            self.matches
                .iter()
                .map(|m| found_secret(bytes, m))
                .collect(),
        )
    }
}

fn found_secret(blob: &[u8], m: &Match) -> FoundSecret {
    FoundSecret {
        detector: m.detector,
        secret: blob[m.secret.clone()].into(),
        parts: m
            .parts
            .iter()
            .map(|p| (p.name.clone(), blob[p.span.clone()].into()))
            .collect(),
        entropy: m.entropy,
        line: m.line,
        column: m.column,
        snippet: snippet(blob, m.secret.clone()),
    }
}

/// Everything the file-system workers hand back.
#[derive(Debug, Default)]
struct Collected {
    results: Vec<(String, Arc<[FoundSecret]>)>,
    skipped: Vec<Skipped>,
    bytes: u64,
    blobs: u64,
    deduplicated: u64,
}

struct FsSink<'a> {
    scanner: BlobScanner<'a>,
    cache: &'a ContentCache,
    local: Collected,
    shared: &'a Mutex<Collected>,
}

impl BlobSink for FsSink<'_> {
    fn blob(&mut self, path: &str, bytes: &[u8]) {
        self.local.blobs += 1;
        self.local.bytes += bytes.len() as u64;
        let key = xxhash_rust::xxh3::xxh3_128(bytes);
        let found = match self.cache.get(key) {
            Some(found) => {
                self.local.deduplicated += 1;
                found
            }
            None => {
                let found = self.scanner.scan(bytes);
                self.cache.insert(key, found.clone());
                found
            }
        };
        if let Some(found) = found {
            self.local.results.push((path.to_string(), found));
        }
    }

    fn skipped(&mut self, skipped: Skipped) {
        self.local.skipped.push(skipped);
    }
}

impl Drop for FsSink<'_> {
    fn drop(&mut self) {
        let local = std::mem::take(&mut self.local);
        let mut shared = self.shared.lock().unwrap_or_else(|p| p.into_inner());
        shared.results.extend(local.results);
        shared.skipped.extend(local.skipped);
        shared.bytes += local.bytes;
        shared.blobs += local.blobs;
        shared.deduplicated += local.deduplicated;
    }
}

/// Scans a file-system source with `engine`.
///
/// # Errors
/// Only when the walk cannot start (a bad exclude glob); unreadable files are
/// recorded in [`ScanStats::skipped`].
pub fn scan_fs(engine: &Engine, source: &FsSource) -> Result<ScanOutcome, fs::Error> {
    let started = Instant::now();
    let cache = ContentCache::default();
    let shared = Mutex::new(Collected::default());

    // 1. Walk and scan in parallel; each walker thread has its own sink.
    source.walk(|| FsSink {
        scanner: BlobScanner::new(engine),
        cache: &cache,
        local: Collected::default(),
        shared: &shared,
    })?;
    let collected = shared.into_inner().unwrap_or_else(|p| p.into_inner());

    // 2. Group by secret.
    let mut builder = FindingsBuilder::new(engine.detector_set().clone());
    for (path, found) in &collected.results {
        for f in found.iter() {
            let loc = FileLocation {
                path: path.clone(),
                line: f.line,
                column: f.column,
                snippet: f.snippet.render(&String::from_utf8_lossy(&f.secret)),
                context: f.snippet.clone(),
            };
            builder.add(f, Location::File(loc));
        }
    }

    // 3. Statistics, in a stable order.
    let mut skipped = collected.skipped;
    skipped.sort();
    Ok(ScanOutcome {
        findings: builder.finish(),
        stats: ScanStats {
            duration_ms: started.elapsed().as_millis() as u64,
            bytes_scanned: collected.bytes,
            blobs_scanned: collected.blobs,
            blobs_deduplicated: collected.deduplicated,
            skipped,
        },
    })
}
