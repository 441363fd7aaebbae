//! Reading detector files: the embedded built-ins and user paths.

use std::path::{Path, PathBuf};

use super::{compile, spec::DetectorFile, Detector, LoadError};

mod builtin {
    include!(concat!(env!("OUT_DIR"), "/builtin_detectors.rs"));
}

/// Where a detector file's text came from, for error messages.
#[derive(Debug, Clone)]
pub enum DetectorSource {
    /// Embedded in the binary from `detectors/<name>`.
    Builtin(&'static str),
    /// Read from the user's path.
    File(PathBuf),
}

impl DetectorSource {
    fn label(&self) -> String {
        match self {
            DetectorSource::Builtin(name) => format!("builtin:{name}"),
            DetectorSource::File(p) => p.display().to_string(),
        }
    }
}

/// The embedded built-in files, as (file name, TOML text).
pub fn builtin_files() -> &'static [(&'static str, &'static str)] {
    builtin::BUILTIN_FILES
}

/// Parses and compiles every detector of one file's text.
///
/// # Errors
/// Every problem found: a parse error, or one entry per invalid detector.
pub fn load_source(source: &DetectorSource, text: &str) -> Result<Vec<Detector>, Vec<LoadError>> {
    let label = source.label();
    let file: DetectorFile = toml::from_str(text).map_err(|e| {
        vec![LoadError::Parse {
            file: label.clone(),
            message: e.to_string().trim_end().to_string(),
        }]
    })?;
    if file.detector.is_empty() {
        return Err(vec![LoadError::Parse {
            file: label,
            message: "no [[detector]] tables in this file".into(),
        }]);
    }
    let mut detectors = Vec::with_capacity(file.detector.len());
    let mut errors = Vec::new();
    for spec in file.detector {
        match compile(spec, &label) {
            Ok(d) => detectors.push(d),
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(detectors)
    } else {
        Err(errors)
    }
}

/// Loads every built-in detector.
///
/// # Errors
/// Any built-in file that fails to load (a test keeps this from shipping).
pub fn load_builtin() -> Result<Vec<Detector>, Vec<LoadError>> {
    gather(
        builtin_files()
            .iter()
            .map(|(name, text)| load_source(&DetectorSource::Builtin(name), text)),
    )
}

/// Loads detector files from paths: a file, or a directory whose `*.toml`
/// files (recursively, in sorted order) are loaded.
///
/// # Errors
/// Every unreadable path and every invalid file or detector.
pub fn load_paths(paths: &[PathBuf]) -> Result<Vec<Detector>, Vec<LoadError>> {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for p in paths {
        if let Err(e) = collect_files(p, &mut files) {
            errors.push(e);
        }
    }
    let loaded = gather(
        files
            .into_iter()
            .map(|f| match std::fs::read_to_string(&f) {
                Err(source) => Err(vec![LoadError::Io { path: f, source }]),
                Ok(text) => load_source(&DetectorSource::File(f), &text),
            }),
    );
    match loaded {
        Ok(all) if errors.is_empty() => Ok(all),
        Ok(_) => Err(errors),
        Err(mut more) => {
            errors.append(&mut more);
            Err(errors)
        }
    }
}

/// All detectors of every file, or every error of every file.
fn gather(
    results: impl Iterator<Item = Result<Vec<Detector>, Vec<LoadError>>>,
) -> Result<Vec<Detector>, Vec<LoadError>> {
    let mut all = Vec::new();
    let mut errors = Vec::new();
    for r in results {
        match r {
            Ok(mut d) => all.append(&mut d),
            Err(mut e) => errors.append(&mut e),
        }
    }
    if errors.is_empty() {
        Ok(all)
    } else {
        Err(errors)
    }
}

fn collect_files(path: &Path, out: &mut Vec<PathBuf>) -> Result<(), LoadError> {
    let meta = std::fs::metadata(path).map_err(|source| LoadError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    if !meta.is_dir() {
        out.push(path.to_path_buf());
        return Ok(());
    }
    let rd = std::fs::read_dir(path).map_err(|source| LoadError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut entries: Vec<PathBuf> = Vec::new();
    for e in rd {
        let e = e.map_err(|source| LoadError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        entries.push(e.path());
    }
    entries.sort();
    for p in entries {
        if p.is_dir() {
            collect_files(&p, out)?;
        } else if p.extension().is_some_and(|x| x == "toml") {
            out.push(p);
        }
    }
    Ok(())
}
