//! The pipeline: source → engine → findings, with statistics.
//!
//! Each worker thread owns a [`BlobScanner`] (engine scratch plus match
//! buffer) and accumulates results locally; results merge once per thread.
//! Identical content is scanned once: for files, a [`ContentCache`] keyed by a
//! 128-bit hash of the bytes hands the first scan's results to every later
//! copy; for git, each blob id is read once.

mod fs;
mod git;
mod postman;
pub mod progress;
pub mod repos;

pub use fs::{scan_fs, scan_fs_with};
pub(crate) use git::per_thread;
pub use git::{scan_git, GitScanOptions};
pub use postman::POSTMAN_CREDENTIAL;

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use serde::Serialize;

use crate::{
    engine::{lines::line_bounds, Engine, Match, Scratch},
    finding::{snippet, suppress::INLINE_ALLOW, Finding, FoundSecret},
    source::Skipped,
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
    /// Findings suppressed (inline allow, ignore file, baseline).
    pub suppressed: u64,
    /// Baseline entries no finding matched any more.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub stale_baseline: Vec<crate::finding::suppress::BaselineEntry>,
    /// Git history phases, for git scans.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub git: Option<GitStats>,
}

/// The two phases of a history scan, measured separately.
#[derive(Debug, Clone, Default, Serialize)]
pub struct GitStats {
    /// Commits walked.
    pub commits: u64,
    /// Distinct (tree, path) pairs decoded.
    pub trees_read: u64,
    /// Unique blobs selected for scanning.
    pub unique_blobs: u64,
    /// Bytes of new lines (relative to each blob's previous version) that
    /// went through the engine.
    pub bytes_new: u64,
    /// Phase 1: working out what to scan and where it was introduced.
    pub enumerate_ms: u64,
    /// Phase 2: reading and scanning blobs.
    pub scan_ms: u64,
}

/// How a file scan treats Postman exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PostmanMode {
    /// Every file is text.
    Off,
    /// Files that look like Postman exports (by name or content) are
    /// analysed field by field; the rest are text. `scan dir` and the work
    /// tree of a repository scan.
    Detect,
    /// Every file is expected to be a Postman export (or a zip of them);
    /// anything else is skipped with the reason. `scan postman`.
    Only,
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
    pub(crate) fn get(&self, key: u128) -> Option<Cached> {
        let shard = &self.shards[(key as usize) % CACHE_SHARDS];
        shard
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
            .cloned()
    }

    pub(crate) fn insert(&self, key: u128, value: Cached) {
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
        self.owned(bytes)
    }

    /// Like [`BlobScanner::scan`], for secrets overlapping `ranges` only.
    pub fn scan_ranges(
        &mut self,
        bytes: &[u8],
        ranges: &[std::ops::Range<usize>],
    ) -> Option<Arc<[FoundSecret]>> {
        self.engine
            .scan_ranges(bytes, ranges, &mut self.scratch, &mut self.matches);
        self.owned(bytes)
    }

    fn owned(&self, bytes: &[u8]) -> Option<Arc<[FoundSecret]>> {
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
        confidence: None,
        allowed: {
            let line = line_bounds(blob, m.secret.start);
            let end = line_bounds(blob, m.secret.end.saturating_sub(1).max(m.secret.start)).end;
            memchr::memmem::find(&blob[line.start..end], INLINE_ALLOW).is_some()
        },
    }
}
