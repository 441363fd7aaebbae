//! `leakhound scan`: builds the engine and the source from the arguments,
//! runs the scan and writes the report.

use std::{
    fs::File,
    io::{self, BufWriter, IsTerminal, Write},
    process::ExitCode,
};

use anyhow::Context;

use super::{ColorChoice, ScanArgs, ScanOptions, ScanSource};
use crate::{
    engine::Engine,
    report::{self, ReportOptions},
    scan::{self, ScanOutcome},
    source::fs::FsSourceBuilder,
};

/// Runs `leakhound scan`.
///
/// # Errors
/// Anything that stops the scan from running (exit 2 in `main`).
pub fn run(args: &ScanArgs, quiet: bool) -> anyhow::Result<ExitCode> {
    let (paths, options) = match &args.source {
        Some(ScanSource::Dir(d)) => (&d.paths, &d.options),
        None => (&args.paths, &args.options),
    };

    // 1. Detectors and engine, built once and shared by every worker.
    let detectors = super::detectors::load(&options.detectors)?;
    let engine = Engine::new(detectors);

    // 2. The source. Every path is a file-system root for now.
    let mut fs = FsSourceBuilder::new();
    fs.threads(options.threads)
        .max_file_size(options.max_file_size)
        .respect_gitignore(options.respect_gitignore)
        .follow_symlinks(options.follow_symlinks);
    for g in &options.exclude {
        fs.exclude(g.clone());
    }
    let source = fs.build(paths)?;

    // 3. Scan.
    let outcome = scan::scan_fs(&engine, &source)?;

    // 4. Report.
    write_report(&outcome, options)?;
    if !quiet {
        summary(&outcome);
    }
    Ok(if outcome.findings.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(options.exit_code)
    })
}

fn write_report(outcome: &ScanOutcome, options: &ScanOptions) -> anyhow::Result<()> {
    let mut opts = ReportOptions {
        redact: options.redact,
        color: false,
    };
    let result = match &options.output {
        Some(path) => {
            let file = File::create(path)
                .with_context(|| format!("cannot create report file {}", path.display()))?;
            opts.color = options.color == ColorChoice::Always;
            let mut w = BufWriter::new(file);
            report::render(options.format, outcome, opts, &mut w).and_then(|_| w.flush())
        }
        None => {
            let stdout = io::stdout();
            opts.color = match options.color {
                ColorChoice::Always => true,
                ColorChoice::Never => false,
                ColorChoice::Auto => stdout.is_terminal() && std::env::var_os("NO_COLOR").is_none(),
            };
            let mut w = BufWriter::new(stdout.lock());
            report::render(options.format, outcome, opts, &mut w).and_then(|_| w.flush())
        }
    };
    match result {
        // A closed pipe (`| head`) is the reader's choice, not our failure.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        r => r.context("cannot write the report"),
    }
}

/// One line on stderr that never contains a secret.
fn summary(outcome: &ScanOutcome) {
    let s = &outcome.stats;
    let locations: usize = outcome.findings.iter().map(|f| f.locations.len()).sum();
    eprintln!(
        "leakhound: {} secrets ({} locations) in {} blobs ({} bytes, {} duplicate) in {} ms; {} skipped",
        outcome.findings.len(),
        locations,
        s.blobs_scanned,
        s.bytes_scanned,
        s.blobs_deduplicated,
        s.duration_ms,
        s.skipped.len()
    );
}
