//! Progress counters: blobs and bytes read so far, for a progress display.
//!
//! Workers add to process-wide relaxed atomics (one add per blob, no lock);
//! the CLI's display thread reads them. Counts only — never a path, never
//! content — so nothing a progress line shows can leak a secret.

use std::sync::atomic::{AtomicU64, Ordering};

static BLOBS: AtomicU64 = AtomicU64::new(0);
static BYTES: AtomicU64 = AtomicU64::new(0);
static TOTAL: AtomicU64 = AtomicU64::new(0);

/// Announces how many blobs the scan will read, when a source knows it up
/// front (git history, after enumeration), so the display can show an ETA.
pub fn set_total(blobs: u64) {
    TOTAL.store(blobs, Ordering::Relaxed);
}

/// The announced total, if any.
pub fn total() -> Option<u64> {
    match TOTAL.load(Ordering::Relaxed) {
        0 => None,
        n => Some(n),
    }
}

/// Records one blob (file, git blob or Postman export) of `bytes` bytes read.
pub fn record(bytes: u64) {
    BLOBS.fetch_add(1, Ordering::Relaxed);
    BYTES.fetch_add(bytes, Ordering::Relaxed);
}

/// (blobs, bytes) recorded so far in this process.
pub fn snapshot() -> (u64, u64) {
    (BLOBS.load(Ordering::Relaxed), BYTES.load(Ordering::Relaxed))
}
