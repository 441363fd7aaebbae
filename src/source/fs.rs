//! The file-system source: a parallel walk over directories and files.
//!
//! Built on `ignore::WalkParallel`: one visitor per walker thread, each with
//! its own read buffer and its own [`BlobSink`]. Every walker error and every
//! file not scanned becomes a [`Skipped`] record.

use std::{
    fs::File,
    io::Read,
    path::{Path, PathBuf},
};

use ignore::{
    overrides::OverrideBuilder, DirEntry, ParallelVisitor, ParallelVisitorBuilder, WalkBuilder,
    WalkState,
};

use super::{BlobSink, Skipped};

/// Why a file-system scan could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A root does not exist or cannot be read.
    #[error("cannot scan {path}: {source}")]
    Root {
        /// The root as given.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// An `--exclude` glob is invalid.
    #[error("invalid --exclude glob `{glob}`: {message}")]
    Glob {
        /// The glob as given.
        glob: String,
        /// The parser's message.
        message: String,
    },
}

/// Configures a walk. Defaults are a secret scanner's, not a code search
/// tool's: hidden files and gitignored files are scanned.
#[derive(Debug, Clone)]
pub struct FsSourceBuilder {
    threads: usize,
    max_file_size: u64,
    respect_gitignore: bool,
    follow_symlinks: bool,
    history_scanned: bool,
    excludes: Vec<String>,
}

impl Default for FsSourceBuilder {
    fn default() -> Self {
        FsSourceBuilder {
            threads: 0,
            max_file_size: 25 << 20,
            respect_gitignore: false,
            follow_symlinks: false,
            history_scanned: false,
            excludes: Vec::new(),
        }
    }
}

impl FsSourceBuilder {
    /// A builder with defaults.
    pub fn new() -> FsSourceBuilder {
        FsSourceBuilder::default()
    }

    /// Walker threads (default 0: one per core).
    pub fn threads(&mut self, n: usize) -> &mut Self {
        self.threads = n;
        self
    }

    /// Files larger than this are skipped and recorded (default 25 MiB).
    /// Each walker thread holds at most one file of this size in memory.
    pub fn max_file_size(&mut self, bytes: u64) -> &mut Self {
        self.max_file_size = bytes;
        self
    }

    /// Honour `.gitignore`, `.ignore` and git excludes (default: no — a
    /// gitignored `.env` on disk is still a leak).
    pub fn respect_gitignore(&mut self, yes: bool) -> &mut Self {
        self.respect_gitignore = yes;
        self
    }

    /// Follow symbolic links (default: no). Loops are detected and recorded
    /// as skips, never followed forever.
    pub fn follow_symlinks(&mut self, yes: bool) -> &mut Self {
        self.follow_symlinks = yes;
        self
    }

    /// The repository's history is scanned alongside (default: no). Then a
    /// `.git` directory is passed over silently instead of being recorded as
    /// skipped.
    pub fn history_scanned(&mut self, yes: bool) -> &mut Self {
        self.history_scanned = yes;
        self
    }

    /// Adds a glob of paths not to scan (gitignore syntax, relative to the root).
    pub fn exclude(&mut self, glob: impl Into<String>) -> &mut Self {
        self.excludes.push(glob.into());
        self
    }

    /// Checks the roots and globs and returns the source.
    ///
    /// # Errors
    /// [`Error::Root`] for a missing or unreadable root, [`Error::Glob`] for a bad glob.
    pub fn build(&self, roots: &[PathBuf]) -> Result<FsSource, Error> {
        for r in roots {
            std::fs::metadata(r).map_err(|source| Error::Root {
                path: r.clone(),
                source,
            })?;
        }
        Ok(FsSource {
            config: self.clone(),
            roots: roots.to_vec(),
        })
    }
}

/// A checked set of roots to walk.
#[derive(Debug, Clone)]
pub struct FsSource {
    config: FsSourceBuilder,
    roots: Vec<PathBuf>,
}

impl FsSource {
    /// Walks every root in parallel, calling `make_sink` once per walker
    /// thread and feeding that thread's files to its sink.
    ///
    /// # Errors
    /// [`Error::Glob`] when an exclude glob does not compile.
    pub fn walk<S, F>(&self, make_sink: F) -> Result<(), Error>
    where
        S: BlobSink + Send,
        F: Fn() -> S + Sync,
    {
        let Some(first) = self.roots.first() else {
            return Ok(());
        };
        let c = &self.config;
        let mut builder = WalkBuilder::new(first);
        for r in &self.roots[1..] {
            builder.add(r);
        }
        builder
            .threads(c.threads)
            .hidden(false)
            .parents(c.respect_gitignore)
            .ignore(c.respect_gitignore)
            .git_ignore(c.respect_gitignore)
            .git_global(c.respect_gitignore)
            .git_exclude(c.respect_gitignore)
            .require_git(false)
            .follow_links(c.follow_symlinks);
        if !c.excludes.is_empty() {
            let mut ov = OverrideBuilder::new(first);
            for g in &c.excludes {
                ov.add(&format!("!{g}")).map_err(|e| Error::Glob {
                    glob: g.clone(),
                    message: e.to_string(),
                })?;
            }
            let ov = ov.build().map_err(|e| Error::Glob {
                glob: c.excludes.join(", "),
                message: e.to_string(),
            })?;
            builder.overrides(ov);
        }
        let mut visitors = VisitorBuilder {
            source: self,
            make_sink: &make_sink,
        };
        builder.build_parallel().visit(&mut visitors);
        Ok(())
    }

    /// `path` as reported: relative to the root it lies under (the root as
    /// given when the root is a file).
    fn display_path(&self, path: &Path) -> String {
        for r in &self.roots {
            if path == r.as_path() {
                return path.to_string_lossy().into_owned();
            }
            if let Ok(rel) = path.strip_prefix(r) {
                if !rel.as_os_str().is_empty() {
                    return rel.to_string_lossy().into_owned();
                }
            }
        }
        path.to_string_lossy().into_owned()
    }
}

struct VisitorBuilder<'a, F> {
    source: &'a FsSource,
    make_sink: &'a F,
}

impl<'s, S, F> ParallelVisitorBuilder<'s> for VisitorBuilder<'s, F>
where
    S: BlobSink + Send + 's,
    F: Fn() -> S + Sync,
{
    fn build(&mut self) -> Box<dyn ParallelVisitor + 's> {
        Box::new(Visitor {
            source: self.source,
            sink: (self.make_sink)(),
            buf: Vec::new(),
        })
    }
}

struct Visitor<'a, S> {
    source: &'a FsSource,
    sink: S,
    buf: Vec<u8>,
}

impl<S: BlobSink + Send> ParallelVisitor for Visitor<'_, S> {
    fn visit(&mut self, entry: Result<DirEntry, ignore::Error>) -> WalkState {
        let entry = match entry {
            Ok(e) => e,
            Err(err) => {
                let path = error_path(&err)
                    .map(|p| self.source.display_path(p))
                    .unwrap_or_default();
                tracing::warn!(path = %path, "skipped: {err}");
                self.sink.skipped(Skipped {
                    path,
                    reason: err.to_string(),
                });
                return WalkState::Continue;
            }
        };
        let Some(ft) = entry.file_type() else {
            return WalkState::Continue;
        };
        if ft.is_dir() {
            if entry.depth() > 0 && entry.file_name() == ".git" {
                if !self.source.config.history_scanned {
                    self.sink.skipped(Skipped {
                        path: self.source.display_path(entry.path()),
                        reason: "git internals (scan the history with `leakhound scan git`)".into(),
                    });
                }
                return WalkState::Skip;
            }
            return WalkState::Continue;
        }
        if ft.is_file() {
            self.read_and_send(entry.path());
        }
        WalkState::Continue
    }
}

impl<S: BlobSink> Visitor<'_, S> {
    fn read_and_send(&mut self, path: &Path) {
        let shown = self.source.display_path(path);
        let max = self.source.config.max_file_size;
        let skip = |sink: &mut S, reason: String| {
            tracing::warn!(path = %shown, "skipped: {reason}");
            sink.skipped(Skipped {
                path: shown.clone(),
                reason,
            });
        };
        let mut file = match File::open(path) {
            Ok(f) => f,
            Err(e) => return skip(&mut self.sink, format!("cannot open: {e}")),
        };
        let len = file.metadata().map(|m| m.len()).unwrap_or(0);
        if len > max {
            return skip(
                &mut self.sink,
                format!("file too large ({len} bytes > --max-file-size {max})"),
            );
        }
        self.buf.clear();
        // Read at most one byte past the limit, so a file that grew is caught.
        if let Err(e) = (&mut file).take(max + 1).read_to_end(&mut self.buf) {
            return skip(&mut self.sink, format!("cannot read: {e}"));
        }
        if self.buf.len() as u64 > max {
            return skip(
                &mut self.sink,
                format!("file too large (> --max-file-size {max})"),
            );
        }
        if super::looks_binary(&self.buf) && !self.sink.wants_binary(&shown) {
            self.sink.skipped(Skipped {
                path: shown,
                reason: "binary file (NUL byte in the first 8 KiB)".into(),
            });
            return;
        }
        self.sink.blob(&shown, &self.buf);
    }
}

/// The path an `ignore` error is about, if it names one.
fn error_path(err: &ignore::Error) -> Option<&Path> {
    match err {
        ignore::Error::WithPath { path, .. } => Some(path),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            error_path(err)
        }
        ignore::Error::Loop { child, .. } => Some(child),
        ignore::Error::Partial(errs) => errs.iter().find_map(error_path),
        _ => None,
    }
}
