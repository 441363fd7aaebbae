//! `leakhound scan`: builds the engine and the source from the arguments,
//! runs the scan and writes the report.

use std::{
    fs::File,
    io::{self, BufWriter, IsTerminal, Write},
    path::PathBuf,
    process::ExitCode,
};

use anyhow::Context;

use std::collections::HashMap;

use super::{
    config,
    progress::Progress,
    remote::{self, Forge},
    ColorChoice, HistoryArgs, PostmanArgs, ScanArgs, ScanOptions, ScanSource,
};
use crate::{
    detector::DetectorSet,
    engine::Engine,
    finding::{suppress, Suppression, SuppressionKind, VerificationStatus},
    report::{self, ReportOptions},
    scan::{
        self,
        repos::{detector_set_hash, scan_repos, RepoTarget, RunSummary},
        GitScanOptions, PostmanMode, ScanOutcome,
    },
    source::{
        fs::{FsSource, FsSourceBuilder},
        git::{self, GitSourceBuilder, Selection},
        postman::{api, Document},
    },
    store::{Standing, Store},
    verify,
};

/// Runs `leakhound scan`.
///
/// # Errors
/// Anything that stops the scan from running (exit 2 in `main`).
pub fn run(args: &ScanArgs, quiet: bool) -> anyhow::Result<ExitCode> {
    let (mut outcome, engine, options, mut state) = {
        let _progress = Progress::start(!quiet && !no_progress_flag(args));
        execute(args, quiet)?
    };
    if let Some(st) = &state {
        st.apply_triage(&mut outcome);
    }
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
        if let Some(st) = &state {
            st.reuse_verifications(&mut outcome, &options.reverify_after)?;
        }
        verify::verify(&mut outcome.findings, engine.detector_set(), &opts)
            .map_err(anyhow::Error::msg)?;
        if let Some(st) = &state {
            for f in &outcome.findings {
                st.store.record_verification(f)?;
            }
        }
        if options.only_verified {
            outcome
                .findings
                .retain(|f| f.verification.status == VerificationStatus::Valid);
        }
    }
    let run_line = match state.as_mut() {
        Some(st) => Some(st.finish(&mut outcome, options.new_only)?),
        None => None,
    };
    write_report(&outcome, engine.detector_set(), &options)?;
    if !quiet {
        summary(&outcome);
        if let Some(line) = run_line {
            eprintln!("{line}");
        }
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
    let (outcome, _, options, _) = execute(args, quiet)?;
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
        Some(ScanSource::Github(g)) => g.options.no_progress,
        Some(ScanSource::Gitlab(g)) => g.options.no_progress,
        None => args.options.no_progress,
    }
}

/// Scans as `args` say and applies suppression: the outcome, the engine it
/// was scanned with, and the options in force.
fn execute(
    args: &ScanArgs,
    quiet: bool,
) -> anyhow::Result<(ScanOutcome, Engine, ScanOptions, Option<StateRun>)> {
    let (plan, options) = match &args.source {
        Some(ScanSource::Dir(d)) => (Plan::Files(&d.paths), &d.options),
        Some(ScanSource::Postman(p)) => (Plan::Postman(p), &p.options),
        Some(ScanSource::Github(g)) => (Plan::Remote(Forge::Github(&g.github)), &g.options),
        Some(ScanSource::Gitlab(g)) => (Plan::Remote(Forge::Gitlab(&g.gitlab)), &g.options),
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
        Plan::Remote(_) => None,
    };
    let (options, allow) = config::apply(options.config.as_deref(), root, options)?;
    let options = &options;

    // 1. Detectors and engine, built once and shared by every worker.
    let detectors = super::detectors::load(&options.detectors)?;
    let engine = Engine::new(detectors);

    // The state store, for the sources that keep state.
    let incremental = matches!(
        plan,
        Plan::Remote(_)
            | Plan::History {
                worktree: false,
                ..
            }
    );
    let mut store = match &options.state {
        Some(_) if !incremental => anyhow::bail!(
            "--state works with `scan git`, `scan github` and `scan gitlab` (history scans)"
        ),
        Some(path) => {
            let mut store = Store::open(path)?;
            store.begin_run(&detector_set_hash(engine.detector_set()))?;
            Some(store)
        }
        None => None,
    };
    let mut standings = HashMap::new();
    let mut run_summary = None;

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
        Plan::Remote(forge) => {
            let enumerated = remote::enumerate(forge, quiet)?;
            let (targets, skipped) = remote::mirrors(&enumerated, quiet);
            let mut git = GitSourceBuilder::new();
            git.max_blob_size(options.max_file_size());
            let (mut outcome, summary, found) =
                scan_repos(&engine, &targets, &git, options.threads, store.as_mut())?;
            outcome.stats.skipped.extend(skipped);
            outcome.stats.skipped.sort();
            standings = found;
            run_summary = Some(summary);
            outcome
        }
        Plan::History {
            repo,
            history,
            worktree: false,
        } if store.is_some() => {
            let target = RepoTarget {
                name: repo.display().to_string(),
                path: repo.clone(),
            };
            let git = history_source(history, options)?;
            let (outcome, summary, found) =
                scan_repos(&engine, &[target], &git, options.threads, store.as_mut())?;
            // One repository that does not open is an error, as without --state.
            if summary.repos_failed > 0 {
                let reason = outcome.stats.skipped.first().map(|s| s.reason.as_str());
                anyhow::bail!("{}", reason.unwrap_or("the repository cannot be scanned"));
            }
            standings = found;
            run_summary = Some(summary);
            outcome
        }
        Plan::History {
            repo,
            history,
            worktree,
        } => {
            let source = history_source(history, options)?.build(repo)?;
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
    let state = store.map(|store| StateRun {
        store,
        standings,
        summary: run_summary.unwrap_or_default(),
    });
    Ok((outcome, engine, options.clone(), state))
}

/// A run under `--state`: the open store, each finding's standing, and
/// what the scan did.
struct StateRun {
    store: Store,
    standings: HashMap<String, Standing>,
    summary: RunSummary,
}

impl StateRun {
    /// Findings triaged in the store are reported suppressed.
    fn apply_triage(&self, outcome: &mut ScanOutcome) {
        for f in &mut outcome.findings {
            if f.suppressed.is_some() {
                continue;
            }
            if let Some((decision, note)) = self
                .standings
                .get(&f.fingerprint)
                .and_then(|s| s.triage.as_ref())
            {
                f.suppressed = Some(Suppression {
                    kind: SuppressionKind::Triage,
                    justification: Some(if note.is_empty() {
                        decision.clone()
                    } else {
                        format!("{decision}: {note}")
                    }),
                });
            }
        }
        outcome.stats.suppressed = outcome
            .findings
            .iter()
            .filter(|f| f.suppressed.is_some())
            .count() as u64;
    }

    /// Verification results younger than `max_age` are taken from the store
    /// (the verifier then leaves those findings alone).
    fn reuse_verifications(&self, outcome: &mut ScanOutcome, max_age: &str) -> anyhow::Result<()> {
        let secs = parse_age(max_age)?;
        if secs == 0 {
            return Ok(());
        }
        for f in &mut outcome.findings {
            if let Some(v) = self.store.recent_verification(&f.fingerprint, secs)? {
                f.verification = v;
            }
        }
        Ok(())
    }

    /// Ends the run in the store (resolving what is gone), keeps only new
    /// findings under `--new-only`, and returns the summary line.
    fn finish(&mut self, outcome: &mut ScanOutcome, new_only: bool) -> anyhow::Result<String> {
        let counts = self.store.finish_run()?;
        if new_only {
            let standings = &self.standings;
            outcome
                .findings
                .retain(|f| standings.get(&f.fingerprint).is_some_and(|s| s.new));
        }
        let valid = outcome
            .findings
            .iter()
            .filter(|f| f.verification.status == VerificationStatus::Valid)
            .count();
        let s = &self.summary;
        let mut line = format!(
            "run {}: {} repositories scanned{}, {} unchanged, {} blobs scanned, {} skipped as already scanned; findings: {} new, {} still present, {} resolved; {} valid secrets",
            self.store.run(),
            s.repos_scanned,
            if s.repos_failed > 0 { format!(" ({} failed)", s.repos_failed) } else { String::new() },
            s.repos_unchanged,
            s.blobs_scanned,
            s.blobs_skipped,
            counts.new,
            counts.still_present,
            counts.resolved,
            valid,
        );
        if !s.rescanned.is_empty() {
            line.push_str(&format!(
                "; the detector set changed since the last run, so {} repositories were rescanned in full",
                s.rescanned.len()
            ));
        }
        Ok(line)
    }
}

/// `24h`, `90m`, `7d`, `3600s` or `3600` as seconds.
fn parse_age(s: &str) -> anyhow::Result<i64> {
    let s = s.trim();
    let (num, unit) = match s.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => s.split_at(i),
        None => (s, "s"),
    };
    let n: i64 = num
        .parse()
        .map_err(|_| anyhow::anyhow!("--reverify-after expects an age like 24h, got `{s}`"))?;
    let unit = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => anyhow::bail!("--reverify-after expects an age like 24h, got `{s}`"),
    };
    Ok(n * unit)
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
    Remote(Forge<'a>),
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

/// The git source the history flags and scan options describe.
fn history_source(h: &HistoryArgs, options: &ScanOptions) -> anyhow::Result<GitSourceBuilder> {
    let mut git = GitSourceBuilder::new();
    git.selection(selection(h)?)
        .all_objects(h.all_objects)
        .max_blob_size(options.max_file_size());
    Ok(git)
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
