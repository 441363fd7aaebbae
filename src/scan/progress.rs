//! Progress counters: blobs and bytes read so far, for a progress display.
//!
//! Workers add to process-wide relaxed atomics (one add per blob, no lock);
//! the CLI's display thread reads them. Counts only — never a path, never
//! content — so nothing a progress line shows can leak a secret.

use std::sync::atomic::{AtomicU64, Ordering};

static BLOBS: AtomicU64 = AtomicU64::new(0);
static BYTES: AtomicU64 = AtomicU64::new(0);

/// Records one blob (file, git blob or Postman export) of `bytes` bytes read.
pub fn record(bytes: u64) {
    BLOBS.fetch_add(1, Ordering::Relaxed);
    BYTES.fetch_add(bytes, Ordering::Relaxed);
}

/// (blobs, bytes) recorded so far in this process.
pub fn snapshot() -> (u64, u64) {
    (BLOBS.load(Ordering::Relaxed), BYTES.load(Ordering::Relaxed))
}
