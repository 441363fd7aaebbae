//! `leakhound scan`: builds the engine and the source from the arguments,
//! runs the scan and writes the report.

use std::{
    fs::File,
    io::{self, BufWriter, IsTerminal, Write},
    path::PathBuf,
    process::ExitCode,
};

use anyhow::Context;

use super::{
    config, progress::Progress, ColorChoice, HistoryArgs, PostmanArgs, ScanArgs, ScanOptions,
    ScanSource,
};
use crate::{
    detector::DetectorSet,
    engine::Engine,
    finding::{suppress, VerificationStatus},
    report::{self, ReportOptions},
    scan::{self, GitScanOptions, PostmanMode, ScanOutcome},
    source::{
        fs::{FsSource, FsSourceBuilder},
        git::{self, GitSourceBuilder, Selection},
        postman::{api, Document},
    },
    verify,
};

/// Runs `leakhound scan`.
///
/// # Errors
/// Anything that stops the scan from running (exit 2 in `main`).
pub fn run(args: &ScanArgs, quiet: bool) -> anyhow::Result<ExitCode> {
    let (mut outcome, engine, options) = {
        let _progress = Progress::start(!quiet && !no_progress_flag(args));
        execute(args)?
    };
    if options.verify || options.verify_dry_run {
        let mut opts = verify::VerifyOptions::default();
        for e in &options.verify_endpoint {
            let Some((id, url)) = e.split_once('=') else {
                anyhow::bail!("--verify-endpoint expects ID=URL, got `{e}`");
            };
            opts.endpoints.insert(id.to_string(), url.to_string());
        }
        opts.allow_internal = options.verify_allow_internal;
        opts.verify_db = options.verify_db;
        if let Some(rate) = options.verify_rate {
            anyhow::ensure!(rate >= 0.0, "--verify-rate must be 0 or more");
            opts.rate = rate;
        }
        if let Some(n) = options.verify_per_host {
            anyhow::ensure!(n >= 1, "--verify-per-host must be 1 or more");
            opts.per_host = n;
        }
        if options.verify_dry_run {
            for p in verify::plan(&outcome.findings, engine.detector_set(), &opts) {
                println!("{}\t{}\t{}", p.detector, p.host, p.count);
            }
            return Ok(ExitCode::SUCCESS);
        }
        verify::verify(&mut outcome.findings, engine.detector_set(), &opts)
            .map_err(anyhow::Error::msg)?;
        if options.only_verified {
            outcome
                .findings
                .retain(|f| f.verification.status == VerificationStatus::Valid);
        }
    }
    write_report(&outcome, engine.detector_set(), &options)?;
    if !quiet {
        summary(&outcome);
    }
    let unsuppressed = outcome
        .findings
        .iter()
        .filter(|f| f.suppressed.is_none())
        .count();
    let live = outcome
        .findings
        .iter()
        .any(|f| f.suppressed.is_none() && f.verification.status == VerificationStatus::Valid);
    if live {
        return Ok(ExitCode::from(super::EXIT_LIVE));
    }
    Ok(if unsuppressed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(options.exit_code())
    })
}

/// Runs `leakhound baseline create`: scans as `scan` would and writes the
/// fingerprints of everything found (suppressed or not) to `--output`.
///
/// # Errors
/// As [`run`], or when the baseline cannot be written.
pub fn create_baseline(args: &ScanArgs, quiet: bool) -> anyhow::Result<ExitCode> {
    let (outcome, _, options) = execute(args)?;
    let path = options
        .output
        .clone()
        .unwrap_or_else(|| PathBuf::from(".leakhound-baseline.json"));
    let baseline = suppress::Baseline::of(&outcome.findings);
    let text = serde_json::to_string_pretty(&baseline).context("cannot encode the baseline")?;
    std::fs::write(&path, text + "\n")
        .with_context(|| format!("cannot write the baseline {}", path.display()))?;
    if !quiet {
        eprintln!(
            "leakhound: baseline of {} findings written to {}",
            baseline.findings.len(),
            path.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Whether `--no-progress` was given (it lives in the options of whichever
/// source was chosen).
fn no_progress_flag(args: &ScanArgs) -> bool {
    match &args.source {
        Some(ScanSource::Dir(d)) => d.options.no_progress,
        Some(ScanSource::Git(g)) => g.options.no_progress,
        Some(ScanSource::Postman(p)) => p.options.no_progress,
        None => args.options.no_progress,
    }
}

/// Scans as `args` say and applies suppression: the outcome, the engine it
/// was scanned with, and the options in force.
fn execute(args: &ScanArgs) -> anyhow::Result<(ScanOutcome, Engine, ScanOptions)> {
    let (plan, options) = match &args.source {
        Some(ScanSource::Dir(d)) => (Plan::Files(&d.paths), &d.options),
        Some(ScanSource::Postman(p)) => (Plan::Postman(p), &p.options),
        Some(ScanSource::Git(g)) => (
            Plan::History {
                repo: &g.path,
                history: &g.history,
                worktree: false,
            },
            &g.options,
        ),
        None => match args.paths.as_slice() {
            [one] if git::is_repository_root(one) => {
                let worktree = !args.history.staged;
                (
                    Plan::History {
                        repo: one,
                        history: &args.history,
                        worktree,
                    },
                    &args.options,
                )
            }
            paths => (Plan::Files(paths), &args.options),
        },
    };

    // 0. The config file of the scan root (or --config), under the flags.
    let root = match plan {
        Plan::Files(paths) => paths.first().map(PathBuf::as_path),
        Plan::Postman(p) => p.paths.first().map(PathBuf::as_path),
        Plan::History { repo, .. } => Some(repo.as_path()),
    };
    let (options, allow) = config::apply(options.config.as_deref(), root, options)?;
    let options = &options;

    // 1. Detectors and engine, built once and shared by every worker.
    let detectors = super::detectors::load(&options.detectors)?;
    let engine = Engine::new(detectors);

    // 2. The source, and 3. the scan.
    let outcome = match plan {
        Plan::Files(paths) => scan::scan_fs(
            &engine,
            &fs_source(options, paths, false)?,
            PostmanMode::Detect,
        )?,
        Plan::Postman(p) => {
            let fetched = if p.api { fetch_postman(p)? } else { Vec::new() };
            let files = match p.paths.is_empty() {
                true => None,
                false => Some(fs_source(options, &p.paths, false)?),
            };
            scan::scan_fs_with(&engine, files.as_ref(), PostmanMode::Only, fetched)?
        }
        Plan::History {
            repo,
            history,
            worktree,
        } => {
            let mut git = GitSourceBuilder::new();
            git.selection(selection(history)?)
                .all_objects(history.all_objects)
                .max_blob_size(options.max_file_size());
            let source = git.build(repo)?;
            let work = match (worktree, source.work_dir()) {
                (true, Some(dir)) => Some(fs_source(options, &[dir], true)?),
                _ => None,
            };
            scan::scan_git(
                &engine,
                &source,
                &GitScanOptions {
                    threads: options.threads,
                    worktree: work.as_ref(),
                },
            )?
        }
    };

    // 4. Suppression: inline allows are marked; the config allowlist, the
    // ignore file and the baseline here.
    let mut outcome = outcome;
    let ignore = match (&options.ignore_file, root) {
        (Some(path), _) => Some(suppress::IgnoreList::load(path)?),
        (None, Some(root)) if root.join(".leakhoundignore").is_file() => {
            Some(suppress::IgnoreList::load(&root.join(".leakhoundignore"))?)
        }
        _ => None,
    };
    let baseline = match &options.baseline {
        Some(path) => Some((path.display().to_string(), suppress::Baseline::load(path)?)),
        None => None,
    };
    let stale = suppress::apply(
        &mut outcome.findings,
        &allow,
        ignore.as_ref(),
        baseline.as_ref().map(|(name, b)| (name.as_str(), b)),
    );
    outcome.stats.suppressed = outcome
        .findings
        .iter()
        .filter(|f| f.suppressed.is_some())
        .count() as u64;
    outcome.stats.stale_baseline = stale;
    Ok((outcome, engine, options.clone()))
}

/// Exports from the Postman API, as `scan postman --api` names them.
fn fetch_postman(p: &PostmanArgs) -> anyhow::Result<Vec<Document>> {
    if p.workspace.is_empty() && p.collection.is_empty() && p.environment.is_empty() && !p.all {
        anyhow::bail!("--api needs --workspace, --collection, --environment or --all");
    }
    // Read here, never through clap: `--help` must not show the key.
    let key = std::env::var("POSTMAN_API_KEY").unwrap_or_default();
    let client = api::Client::new(&p.postman_api_url, key)?;
    let docs = client.fetch(&api::Selection {
        workspaces: p.workspace.clone(),
        collections: p.collection.clone(),
        environments: p.environment.clone(),
        all: p.all,
    })?;
    tracing::info!("fetched {} exports from the Postman API", docs.len());
    Ok(docs)
}

/// What `scan` was asked to do.
enum Plan<'a> {
    Files(&'a [PathBuf]),
    Postman(&'a PostmanArgs),
    History {
        repo: &'a PathBuf,
        history: &'a HistoryArgs,
        worktree: bool,
    },
}

fn fs_source(
    options: &ScanOptions,
    paths: &[PathBuf],
    history_scanned: bool,
) -> anyhow::Result<FsSource> {
    let mut fs = FsSourceBuilder::new();
    fs.history_scanned(history_scanned)
        .threads(options.threads)
        .max_file_size(options.max_file_size())
        .respect_gitignore(options.respect_gitignore)
        .follow_symlinks(options.follow_symlinks);
    for g in &options.exclude {
        fs.exclude(g.clone());
    }
    Ok(fs.build(paths)?)
}

fn selection(h: &HistoryArgs) -> anyhow::Result<Selection> {
    Ok(if h.staged {
        Selection::Staged
    } else if let Some(b) = &h.branch {
        Selection::Branch(b.clone())
    } else if let Some(r) = &h.since_commit {
        Selection::Since(r.clone())
    } else if let Some(range) = &h.commits {
        let Some((a, b)) = range.split_once("..") else {
            anyhow::bail!("--commits expects a range A..B, got `{range}`");
        };
        Selection::Range(
            a.to_string(),
            if b.is_empty() {
                "HEAD".to_string()
            } else {
                b.to_string()
            },
        )
    } else {
        Selection::AllRefs
    })
}

fn write_report(
    outcome: &ScanOutcome,
    detectors: &DetectorSet,
    options: &ScanOptions,
) -> anyhow::Result<()> {
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
            report::render(options.format(), outcome, detectors, opts, &mut w)
                .and_then(|_| w.flush())
        }
        None => {
            let stdout = io::stdout();
            opts.color = match options.color {
                ColorChoice::Always => true,
                ColorChoice::Never => false,
                ColorChoice::Auto => stdout.is_terminal() && std::env::var_os("NO_COLOR").is_none(),
            };
            let mut w = BufWriter::new(stdout.lock());
            report::render(options.format(), outcome, detectors, opts, &mut w)
                .and_then(|_| w.flush())
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
    if let Some(g) = &s.git {
        eprintln!(
            "leakhound: history: {} commits, {} trees, {} unique blobs; enumerate {} ms, scan {} ms",
            g.commits, g.trees_read, g.unique_blobs, g.enumerate_ms, g.scan_ms
        );
    }
    if !s.stale_baseline.is_empty() {
        eprintln!(
            "leakhound: {} baseline entries are stale (no longer found): {}",
            s.stale_baseline.len(),
            s.stale_baseline
                .iter()
                .map(|e| format!("{} {} ({})", e.fingerprint, e.detector, e.location))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    eprintln!(
        "leakhound: {} secrets ({} suppressed, {} locations) in {} blobs ({} bytes, {} duplicate) in {} ms; {} skipped",
        outcome.findings.len(),
        s.suppressed,
        locations,
        s.blobs_scanned,
        s.bytes_scanned,
        s.blobs_deduplicated,
        s.duration_ms,
        s.skipped.len()
    );
}
