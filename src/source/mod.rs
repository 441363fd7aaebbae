//! Sources: where bytes come from. A source turns its input into blobs (bytes
//! plus where they came from) and records what it could not read; it knows
//! nothing of detectors or findings.

pub mod fs;
pub mod git;
pub mod postman;
pub mod remote;

use serde::Serialize;

/// Bytes sniffed for a NUL byte to call content binary.
const BINARY_SNIFF: usize = 8 << 10;

/// Whether content is binary: a NUL byte in its first 8 KiB, as git and
/// ripgrep judge it. Binary files and blobs are skipped and recorded.
pub fn looks_binary(bytes: &[u8]) -> bool {
    memchr::memchr(0, &bytes[..bytes.len().min(BINARY_SNIFF)]).is_some()
}

/// Something a source could not or would not scan, and why. Reported in
/// `scan.skipped`; never silently dropped. Carries no file contents.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Skipped {
    /// Path of what was skipped (relative to the scan root where one exists).
    pub path: String,
    /// Why it was skipped.
    pub reason: String,
}

/// Receives what a source produces. One sink per worker thread, so sinks
/// accumulate without locks and merge once when they are dropped.
pub trait BlobSink {
    /// One blob's bytes, read into the source's per-thread buffer.
    fn blob(&mut self, path: &str, bytes: &[u8]);
    /// Something the source skipped.
    fn skipped(&mut self, skipped: Skipped);
    /// Whether this sink reads `path` even though its content is binary
    /// (a zip archive it can open). Binary content is skipped otherwise.
    fn wants_binary(&self, _path: &str) -> bool {
        false
    }
}
