//! The file-system pipeline: walker threads read, scan and collect locally.

use std::{
    sync::{Arc, Mutex},
    time::Instant,
};

use super::{
    postman::PostmanFiles, BlobScanner, ContentCache, PostmanMode, ScanOutcome, ScanStats,
};
use crate::{
    engine::Engine,
    finding::{FileLocation, FindingsBuilder, FoundSecret, Location},
    source::{
        fs::{self, FsSource},
        postman::{archive::is_archive, looks_like_postman, Document},
        BlobSink, Skipped,
    },
};

/// Decides that a file's content is already covered elsewhere (e.g. by git
/// history) and need not be scanned as a file.
pub(crate) type Covered<'a> = &'a (dyn Fn(&[u8]) -> bool + Sync);

/// Everything the file-system workers hand back.
#[derive(Debug, Default)]
pub(crate) struct Collected {
    pub(crate) results: Vec<(String, Arc<[FoundSecret]>)>,
    pub(crate) skipped: Vec<Skipped>,
    pub(crate) bytes: u64,
    pub(crate) blobs: u64,
    pub(crate) deduplicated: u64,
    pub(crate) covered: u64,
    /// Files routed to the Postman analysis, with their bytes.
    pub(crate) postman: Vec<(String, Vec<u8>)>,
}

struct FsSink<'a> {
    mode: PostmanMode,
    scanner: BlobScanner<'a>,
    covered: Option<Covered<'a>>,
    cache: &'a ContentCache,
    local: Collected,
    shared: &'a Mutex<Collected>,
}

impl BlobSink for FsSink<'_> {
    fn blob(&mut self, path: &str, bytes: &[u8]) {
        let postman = match self.mode {
            PostmanMode::Off => false,
            PostmanMode::Detect => looks_like_postman(path, bytes),
            PostmanMode::Only => true,
        };
        if postman {
            self.local.postman.push((path.to_string(), bytes.to_vec()));
            return;
        }
        if self.covered.is_some_and(|c| c(bytes)) {
            self.local.covered += 1;
            return;
        }
        self.local.blobs += 1;
        self.local.bytes += bytes.len() as u64;
        super::progress::record(bytes.len() as u64);
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

    fn wants_binary(&self, path: &str) -> bool {
        self.mode == PostmanMode::Only && is_archive(path)
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
        shared.covered += local.covered;
        shared.postman.extend(local.postman);
    }
}

/// Walks `source` and scans every file not `covered`, in parallel.
pub(crate) fn collect_fs(
    engine: &Engine,
    source: &FsSource,
    covered: Option<Covered<'_>>,
    mode: PostmanMode,
) -> Result<Collected, fs::Error> {
    let cache = ContentCache::default();
    let shared = Mutex::new(Collected::default());
    source.walk(|| FsSink {
        mode,
        scanner: BlobScanner::new(engine),
        covered,
        cache: &cache,
        local: Collected::default(),
        shared: &shared,
    })?;
    Ok(shared.into_inner().unwrap_or_else(|p| p.into_inner()))
}

/// Adds every finding of `collected` to `builder`: file locations of the
/// text scan, and the Postman analysis of the files routed to it (files that
/// turn out not to be Postman exports are scanned as text instead, unless
/// `mode` is [`PostmanMode::Only`]). Returns the extra (bytes, blobs) read.
pub(crate) fn add_collected(
    engine: &Engine,
    builder: &mut FindingsBuilder,
    collected: &mut Collected,
    mode: PostmanMode,
    fetched: Vec<Document>,
) -> (u64, u64) {
    let mut files = PostmanFiles::parse(std::mem::take(&mut collected.postman), mode);
    files.docs.extend(fetched);
    collected.skipped.extend(files.skipped.iter().cloned());
    let mut scanner = BlobScanner::new(engine);
    for (path, bytes) in &files.unparsed {
        collected.blobs += 1;
        collected.bytes += bytes.len() as u64;
        if let Some(found) = scanner.scan(bytes) {
            collected.results.push((path.clone(), found));
        }
    }
    add_file_locations(builder, collected);
    if files.docs.is_empty() {
        // Most scans meet no export: skip compiling the analyser's patterns.
        return (0, 0);
    }
    let bytes = super::postman::Analyzer::new(engine).analyse(&files.docs, builder);
    (bytes, files.docs.len() as u64)
}

/// Adds every file location of `collected` to `builder`.
fn add_file_locations(builder: &mut FindingsBuilder, collected: &Collected) {
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
}

/// Scans a file-system source with `engine`.
///
/// # Errors
/// Only when the walk cannot start (a bad exclude glob); unreadable files are
/// recorded in [`ScanStats::skipped`].
pub fn scan_fs(
    engine: &Engine,
    source: &FsSource,
    mode: PostmanMode,
) -> Result<ScanOutcome, fs::Error> {
    scan_fs_with(engine, Some(source), mode, Vec::new())
}

/// Like [`scan_fs`], with exports fetched elsewhere (the Postman API)
/// analysed together with the files (their variables resolve across both).
///
/// # Errors
/// As [`scan_fs`].
pub fn scan_fs_with(
    engine: &Engine,
    source: Option<&FsSource>,
    mode: PostmanMode,
    fetched: Vec<Document>,
) -> Result<ScanOutcome, fs::Error> {
    let started = Instant::now();
    // 1. Walk and scan in parallel; each walker thread has its own sink.
    let mut collected = match source {
        Some(source) => collect_fs(engine, source, None, mode)?,
        None => Collected::default(),
    };
    // 2. Group by secret (and analyse Postman exports as a whole).
    let mut builder = FindingsBuilder::new(engine.detector_set().clone());
    let (pm_bytes, pm_docs) = add_collected(engine, &mut builder, &mut collected, mode, fetched);
    // 3. Statistics, in a stable order.
    let mut skipped = collected.skipped;
    skipped.sort();
    Ok(ScanOutcome {
        findings: builder.finish(),
        stats: ScanStats {
            duration_ms: started.elapsed().as_millis() as u64,
            bytes_scanned: collected.bytes + pm_bytes,
            blobs_scanned: collected.blobs + pm_docs,
            blobs_deduplicated: collected.deduplicated,
            skipped,
            git: None,
            ..ScanStats::default()
        },
    })
}
