//! leakhound finds leaked credentials in working trees, git history and
//! Postman exports, and reports each secret once with every place it appears.
//!
//! The module tree follows the data flow:
//!
//! ```text
//! source ──Blob──▶ engine ──Match──▶ finding ──▶ report
//! ```
//!
//! - [`detector`]: detector files (data) loaded, validated and compiled.
//! - [`engine`]: one matcher over all detectors; scans `&[u8]`.
//! - [`source`]: where bytes come from: the file system, git history, Postman
//!   exports (files, archives, the Postman API).
//! - [`finding`]: deduplication by secret, fingerprints, locations.
//! - [`report`]: rendering findings and scan statistics.
//! - [`verify`]: live checks of unique secrets (opt-in).
//! - [`scan`]: the pipeline that wires them together.
//! - [`store`]: state kept between scheduled runs (incremental scans).
#![deny(missing_docs)]

pub mod cli;
pub mod detector;
pub mod engine;
pub mod finding;
pub mod http;
pub mod report;
pub mod scan;
pub mod source;
pub mod store;
pub mod verify;
