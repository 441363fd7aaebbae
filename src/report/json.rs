//! `--format json` (the report contract of DESIGN.md) and `--format jsonl`.

use std::io::{self, Write};

use serde::Serialize;

use crate::{finding::Finding, scan::ScanStats};

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

const TOOL: Tool = Tool {
    name: "leakhound",
    version: env!("CARGO_PKG_VERSION"),
};

#[derive(Serialize)]
struct Report<'a> {
    tool: Tool,
    scan: &'a ScanStats,
    findings: &'a [Finding],
}

/// Writes one JSON object: `tool`, `scan` and `findings`.
///
/// # Errors
/// I/O errors of `out`.
pub fn write_json(findings: &[Finding], stats: &ScanStats, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(
        &mut *out,
        &Report {
            tool: TOOL,
            scan: stats,
            findings,
        },
    )?;
    out.write_all(b"\n")
}

/// Writes one finding object per line.
///
/// # Errors
/// I/O errors of `out`.
pub fn write_jsonl(findings: &[Finding], out: &mut dyn Write) -> io::Result<()> {
    for f in findings {
        serde_json::to_writer(&mut *out, f)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}
