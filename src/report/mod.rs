//! Reports: pure rendering of findings and scan statistics into a writer.
//! One file per format; nothing here scans, filters or decides.

mod csv;
mod html;
mod human;
mod json;
mod sarif;

use std::io::{self, Write};

use crate::{detector::DetectorSet, finding::Finding, scan::ScanOutcome};

pub use csv::write_csv;
pub use html::write_html;
pub use human::write_human;
pub use json::{write_json, write_jsonl};
pub use sarif::write_sarif;

/// Output formats of `scan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Readable text: one block per secret with its locations and a snippet.
    Human,
    /// One JSON object, the documented report contract.
    Json,
    /// One JSON finding object per line.
    Jsonl,
    /// SARIF 2.1.0, for code scanning dashboards (the message is always redacted).
    Sarif,
    /// One CSV row per location, with a header row.
    Csv,
    /// One standalone HTML page for audits (no external assets).
    Html,
}

/// How to render.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReportOptions {
    /// Show only a short prefix of each secret, everywhere.
    pub redact: bool,
    /// Use ANSI colours (human format only).
    pub color: bool,
}

/// Renders `outcome` in `format` to `out`; `detectors` supply rule
/// descriptions and references where a format lists rules.
///
/// # Errors
/// Only I/O errors of `out`.
pub fn render(
    format: Format,
    outcome: &ScanOutcome,
    detectors: &DetectorSet,
    opts: ReportOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    let redacted;
    let findings: &[Finding] = if opts.redact {
        redacted = outcome
            .findings
            .iter()
            .map(Finding::redacted)
            .collect::<Vec<_>>();
        &redacted
    } else {
        &outcome.findings
    };
    match format {
        Format::Human => write_human(findings, &outcome.stats, opts.color, out),
        Format::Json => write_json(findings, &outcome.stats, out),
        Format::Jsonl => write_jsonl(findings, out),
        Format::Sarif => write_sarif(findings, detectors, out),
        Format::Csv => write_csv(findings, out),
        Format::Html => write_html(findings, &outcome.stats, out),
    }
}

/// `n` bytes in B, KiB, MiB or GiB, for human-facing formats.
pub(crate) fn human_bytes(n: u64) -> String {
    match n {
        n if n >= 1 << 30 => format!("{:.1} GiB", n as f64 / (1u64 << 30) as f64),
        n if n >= 1 << 20 => format!("{:.1} MiB", n as f64 / (1u64 << 20) as f64),
        n if n >= 1 << 10 => format!("{:.1} KiB", n as f64 / 1024.0),
        n => format!("{n} B"),
    }
}
