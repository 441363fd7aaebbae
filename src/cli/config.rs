//! `.leakhound.toml`: per-repository settings, found at the scan root or
//! given with `--config FILE`.
//!
//! ```toml
//! [detectors]
//! paths = ["ci/detectors"]             # extra detector files or directories (relative to this file)
//! disable = ["generic-secret-assignment"]
//!
//! [allowlist]                          # reported as suppressed (kind "config"), never failing the build
//! secrets = ["AKIAIOSFODNN7EXAMPLE"]   # exact secrets
//! regexes = ["^test_[a-z0-9]+$"]       # secrets matching any of these
//! stopwords = ["dummy", "fixture"]     # secrets containing any of these words (case-insensitive)
//!
//! [scan]                               # defaults for options not given on the command line
//! exclude = ["vendor/**", "*.min.js"]
//! max_file_size = "10M"
//! respect_gitignore = true
//! follow_symlinks = false
//! redact = true
//! format = "sarif"
//! exit_code = 1
//!
//! [verify]                             # used with --verify / --verify-dry-run
//! endpoints = { github-pat-classic = "http://127.0.0.1:8080" }   # like --verify-endpoint
//! allow_internal = false               # like --verify-allow-internal
//! databases = false                    # like --verify-db
//! rate = 20                            # like --verify-rate
//! per_host = 4                         # like --verify-per-host
//! ```
//!
//! Command-line flags win over the file; the file wins over built-in
//! defaults. A malformed file is an error naming its line, without quoting
//! it (the file may list allowlisted secrets).

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use clap::ValueEnum;
use serde::Deserialize;

use super::{parse_size, ScanOptions};
use crate::{finding::suppress::Allowlist, report::Format};

/// The file looked for at the scan root.
pub const FILE_NAME: &str = ".leakhound.toml";

/// The parsed file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    detectors: DetectorsSection,
    #[serde(default)]
    allowlist: AllowlistSection,
    #[serde(default)]
    scan: ScanSection,
    #[serde(default)]
    verify: VerifySection,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct VerifySection {
    #[serde(default)]
    endpoints: std::collections::BTreeMap<String, String>,
    allow_internal: Option<bool>,
    databases: Option<bool>,
    rate: Option<f64>,
    per_host: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct DetectorsSection {
    #[serde(default)]
    paths: Vec<PathBuf>,
    #[serde(default)]
    disable: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct AllowlistSection {
    #[serde(default)]
    secrets: Vec<String>,
    #[serde(default)]
    regexes: Vec<String>,
    #[serde(default)]
    stopwords: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScanSection {
    #[serde(default)]
    exclude: Vec<String>,
    max_file_size: Option<String>,
    respect_gitignore: Option<bool>,
    follow_symlinks: Option<bool>,
    redact: Option<bool>,
    format: Option<String>,
    exit_code: Option<u8>,
}

/// The config in force for a scan of `root`: `explicit` if given, else
/// `root/.leakhound.toml` if present, else none. Returns the options with
/// the file applied, and its allowlist.
///
/// # Errors
/// An unreadable or malformed file, naming the file and line.
pub fn apply(
    explicit: Option<&Path>,
    root: Option<&Path>,
    options: &ScanOptions,
) -> anyhow::Result<(ScanOptions, Allowlist)> {
    let path = match (explicit, root) {
        (Some(p), _) => Some(p.to_path_buf()),
        (None, Some(root)) if root.is_dir() && root.join(FILE_NAME).is_file() => {
            Some(root.join(FILE_NAME))
        }
        _ => None,
    };
    let Some(path) = path else {
        return Ok((options.clone(), Allowlist::default()));
    };
    let config = load(&path)?;
    let base = path.parent().unwrap_or(Path::new("."));
    let mut o = options.clone();
    o.detectors
        .detector_paths
        .extend(config.detectors.paths.iter().map(|p| base.join(p)));
    o.detectors
        .disabled
        .extend(config.detectors.disable.iter().cloned());
    o.exclude.extend(config.scan.exclude.iter().cloned());
    if o.max_file_size.is_none() {
        if let Some(size) = &config.scan.max_file_size {
            o.max_file_size = Some(parse_size(size).map_err(|_| {
                anyhow::anyhow!(
                    "{}: [scan] max_file_size is not a size like 25M",
                    path.display()
                )
            })?);
        }
    }
    o.respect_gitignore |= config.scan.respect_gitignore.unwrap_or(false);
    o.follow_symlinks |= config.scan.follow_symlinks.unwrap_or(false);
    o.redact |= config.scan.redact.unwrap_or(false);
    if o.format.is_none() {
        if let Some(f) = &config.scan.format {
            o.format = Some(Format::from_str(f, true).map_err(|_| {
                anyhow::anyhow!(
                    "{}: [scan] format must be one of human, json, jsonl, sarif, csv, html",
                    path.display()
                )
            })?);
        }
    }
    o.exit_code = o.exit_code.or(config.scan.exit_code);
    for (id, url) in &config.verify.endpoints {
        let given = o
            .verify_endpoint
            .iter()
            .any(|e| e.split_once('=').is_some_and(|(i, _)| i == id));
        if !given {
            o.verify_endpoint.push(format!("{id}={url}"));
        }
    }
    o.verify_allow_internal |= config.verify.allow_internal.unwrap_or(false);
    o.verify_db |= config.verify.databases.unwrap_or(false);
    o.verify_rate = o.verify_rate.or(config.verify.rate);
    o.verify_per_host = o.verify_per_host.or(config.verify.per_host);
    let allow = Allowlist::new(
        config.allowlist.secrets,
        &config.allowlist.regexes,
        config.allowlist.stopwords,
    )
    .map_err(|i| {
        anyhow::anyhow!(
            "{}: [allowlist] regexes: entry {i} is not a valid regular expression",
            path.display()
        )
    })?;
    Ok((o, allow))
}

fn load(path: &Path) -> anyhow::Result<Config> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the config file {}", path.display()))?;
    match toml::from_str::<Config>(&text) {
        Ok(c) => Ok(c),
        Err(e) => {
            let line = e
                .span()
                .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
            let message = without_quoted(e.message());
            match line {
                Some(line) => bail!("{}:{line}: invalid config: {message}", path.display()),
                None => bail!("{}: invalid config: {message}", path.display()),
            }
        }
    }
}

/// A parser message with every quoted value (`"…"`, `` `…` ``) elided: the
/// parser quotes the offending value, which may be an allowlisted secret.
fn without_quoted(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut open: Option<char> = None;
    for c in message.chars() {
        match open {
            Some(q) if c == q => {
                out.push('…');
                out.push(c);
                open = None;
            }
            Some(_) => {}
            None => {
                out.push(c);
                if c == '"' || c == '`' {
                    open = Some(c);
                }
            }
        }
    }
    out
}
