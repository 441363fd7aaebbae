//! Postman exports as a structured source.
//!
//! Other scanners read a Postman export as text and so miss what matters in
//! one: a basic-auth password, an `awsv4` secret key, a header value, an
//! environment value used as `{{token}}` in another file. This source parses
//! the export and hands the scan every string with what it *is*: an RFC 6901
//! JSON pointer to the exact field, the request it belongs to
//! (`Folder / Sub-folder / Request`), a field kind (`auth.basic.password`,
//! `header`, `env.value`, ...) and how strongly that kind implies a
//! credential. Variable definitions and `{{name}}` uses are collected so the
//! scan can follow a secret from where it is defined to every request that
//! uses it.
//!
//! - [`document`]: recognising and parsing one export (collections v1, v2.0,
//!   v2.1, environments, globals, data dumps, newman reports).
//! - [`fields`]: walking a parsed export into [`fields::Field`]s.
//! - [`semantics`]: what a field's name and kind say about its value.
//! - [`archive`]: the zip form of Postman's "Export data".
//! - [`api`]: the Postman API as a source of exports.

pub mod api;
pub mod archive;
pub mod document;
pub mod fields;
pub mod semantics;

pub use document::{looks_like_postman, parse, DocKind, Document, ParseError};
